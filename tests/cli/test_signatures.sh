#!/usr/bin/env bash
# Signature preservation (CMS, attached and detached) against a real test PKI built with
# `openssl ca` (tests/cli/signatures/pki.sh): root -> intermediate -> one-year signer
# certificates; the signers' status from a real `openssl ocsp` responder on loopback (their AIA),
# the intermediate's from the root's CRL served over HTTP (its distribution point).
#  - ingest: a detached signature (--signature) and an attached .p7m are checked, their paths and
#    revocation data collected and stored with the document as one data object group; the
#    evidence record's first list holds every member's hash (document, signature, validation data).
#  - refused at ingest: a signer revoked before signing (exit 1, nothing stored; stored only with
#    --accept-invalid and reported invalid from then on), a .p7s that is not CMS (exit 2), a
#    signature over another document (exit 2), an attached signature given as --signature (2),
#    an unreachable OCSP responder (exit 3 naming --allow-no-revocation; stored with it and then
#    reported indeterminate; a CRL given with --crl stands in for the responder).
#  - a signature time-stamp (CAdES-T, added with tests/cli/signatures/sigts.py from a second
#    `kura tsa serve` TSA): erin's certificate is revoked after she signed and before ingest; with
#    the time-stamp the signature is valid with a note (revoked after the time proven), without
#    it ingest refuses it (revoked before the archive time-stamp's time).
#  - ten years on (KURA_NOW, the daemon renewing every half year, SHA-256 sunset half-way so a
#    hash-tree renewal covers the groups too): the good signatures verify valid at the time the
#    first archive time-stamp proves, with a note that the certificate expired since; one revoked
#    after ingest stays valid; the one revoked before signing stays invalid.
#  - a package: `export` carries the signature, the validation data and the signers' roots;
#    `verify-export` decides the signatures; `openssl cms -verify -attime` (as VERIFY.md says)
#    accepts the signature; a changed validation data file is found; `import` into another store
#    keeps the groups, and `verify` there reports the signatures valid.
#  - Bouncy Castle (tests/interop/BcErsCheck.java) accepts the group's record for the document.
#  - without the store: `verify-er` with the exported record, the document, its signature and its
#    validation data (`get --member`): valid; a flipped byte in the document or the signature,
#    or a wrong signer trust anchor, is not.
source "$(dirname "$0")/lib.sh" || exit 1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/renewal/servers.sh"
source "$HERE/signatures/pki.sh"
on_exit stop_all_servers
cd "$T"

pki_init "$T/pki" "$(closed_port)" "$(closed_port)"
for who in alice bob carol dave erin; do pki_signer "$who"; done
pki_revoke bob # before anyone signs
start_ocsp
start_crl_server

printf 'clinical trial 0042: final report\n' >report.txt
printf 'ledger 2026-Q4\n' >ledger.csv
printf 'contract with ACME\n' >contract.txt
printf 'minutes of the board\n' >minutes.txt
printf 'another document\n' >other.txt
pki_sign alice report.txt report.p7s
pki_sign alice ledger.csv ledger.csv.p7m attached
pki_sign bob contract.txt contract.p7s
pki_sign carol minutes.txt minutes.p7s
pki_sign dave other.txt other.p7s

POLICY=$T/policy.yaml
test_policy "$POLICY" signature-test 90
kura init S --policy "$POLICY" --tsa-days 730 >/dev/null 2>&1
kura trust add S --signers pki/root.pem 2>/dev/null

ids() { cut -f1 "$OUT"; }
count() { kura ls S --json | "$PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
field() { "$PYTHON" -c 'import json,sys
d = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    d = d[int(k)] if k.isdigit() else d[k]
print(d)' "$1"; }

# ---- ingest
expect_status 0 kura ingest S --signature report.p7s report.txt
REPORT=$(ids)
expect_status 0 kura ingest S ledger.csv.p7m
LEDGER=$(ids)
expect_status 0 kura ingest S --signature minutes.p7s minutes.txt
MINUTES=$(ids)
[ "$(count)" = 3 ] || fail "three signed objects expected"
kura show S "$REPORT" --json >show.json
[ "$(field members.0.role <show.json)" = signature ] || fail "the detached signature is a member: $(cat show.json)"
[ "$(field members.1.role <show.json)" = validation-data ] || fail "validation data is a member"
[ "$(field signature.signature <show.json)" = valid ] || fail "the ingest-time report says valid"
kura show S "$LEDGER" --json >show.json
[ "$(field members.0.role <show.json)" = validation-data ] || fail "an attached signature has no separate signature member"

# the record's first list: all three members' hashes
kura evidence S "$REPORT" -o report.ers
kura get S "$REPORT" --member validation-data -o report.vd
kura get S "$REPORT" --member signature -o report.sig
cmp report.sig report.p7s || fail "the signature member is the .p7s as given"
expect_error 1 kura get S "$LEDGER" --member signature
"$PYTHON" - report.ers report.txt report.p7s report.vd <<'PY' || fail "the first list does not hold every member's hash"
import hashlib, sys
er = open(sys.argv[1], "rb").read()
for f in sys.argv[2:]:
    h = hashlib.sha256(open(f, "rb").read()).digest()
    assert h in er, f
PY

# ---- refused at ingest
expect_error 1 kura ingest S --signature contract.p7s contract.txt
expect_grep "$ERR" "revoked"
expect_grep "$ERR" "--accept-invalid"
[ "$(count)" = 3 ] || fail "a signature revoked before signing is not stored"
expect_status 0 kura ingest S --accept-invalid --signature contract.p7s contract.txt
CONTRACT=$(ids)
expect_grep "$ERR" "signature invalid"
head -c 300 /dev/urandom >garbage.p7s
expect_error 2 kura ingest S --signature garbage.p7s report.txt
expect_grep "$ERR" "not a CMS signature"
expect_error 2 kura ingest S --signature report.p7s other.txt
expect_grep "$ERR" "does not match"
expect_error 2 kura ingest S --signature ledger.csv.p7m report.txt
expect_error 2 kura ingest S --signature report.p7s report.txt ledger.csv
[ "$(count)" = 4 ] || fail "bad input stored nothing"

# the OCSP responder is down: refused, unless told to store without revocation data or given a CRL
stop_server "$OCSP_PID"
expect_error 3 kura ingest S --signature other.p7s other.txt
expect_grep "$ERR" "--allow-no-revocation"
expect_grep "$ERR" "127.0.0.1:$OCSP_PORT"
[ "$(count)" = 4 ] || fail "nothing stored while the responder is down"
expect_status 0 kura ingest S --crl pki/inter.crl.pem --signature other.p7s other.txt
OTHER_CRL=$(ids)
expect_status 0 kura ingest S --allow-no-revocation --signature other.p7s other.txt
OTHER_NOREV=$(ids)
expect_grep "$ERR" "warning"

# carol's certificate is revoked after her document came in
pki_revoke carol

expect_status 0 kura verify S "$REPORT" "$LEDGER" "$MINUTES" "$OTHER_CRL"
expect_status 1 kura verify S "$CONTRACT"
expect_status 1 kura verify S "$OTHER_NOREV"

# erin signs with a signature time-stamp from another TSA, then her certificate is revoked
kura init TSA2 >/dev/null 2>&1
kura tsa ca TSA2 >tsa2.pem
kura trust add S --tsa tsa2.pem 2>/dev/null
start_serve tsa2 "" 127.0.0.1:0 --store TSA2
printf 'study protocol, signed\n' >protocol.txt
pki_sign erin protocol.txt protocol.p7s
"$PYTHON" "$HERE/signatures/sigts.py" value protocol.p7s sigvalue.bin
openssl ts -query -data sigvalue.bin -sha256 -cert -out sigts.tsq 2>/dev/null
curl -sf -H 'Content-Type: application/timestamp-query' --data-binary @sigts.tsq "$SERVER_URL" -o sigts.tsr ||
	fail "the second TSA did not answer"
openssl ts -reply -in sigts.tsr -token_out -out sigts.tst 2>/dev/null
"$PYTHON" "$HERE/signatures/sigts.py" add protocol.p7s sigts.tst protocol-t.p7s
sleep 1.1 # revocation times have whole seconds
pki_revoke erin
start_ocsp
expect_error 1 kura ingest S --signature protocol.p7s protocol.txt
expect_grep "$ERR" "before the time the signature is proven"
expect_status 0 kura ingest S --signature protocol-t.p7s protocol.txt
PROTOCOL=$(ids)
expect_status 0 kura verify S --json "$PROTOCOL"
expect_grep "$OUT" "after the time the signature is proven to exist"
[ "$(field signature_details.signers.0.signature_timestamp.status <"$OUT")" = valid ] || fail "sig TS: $(cat "$OUT")"

# ---- ten years on, the daemon renewing every half year; SHA-256 ends half-way
T0=$(date -u +%s)
for ((half = 1; half <= 20; half++)); do
	now=$(date -u -d "@$((T0 + half * 182 * 86400))" +%Y-%m-%dT%H:%M:%SZ)
	if [ "$half" = 10 ]; then # declared ahead of its day, as sunsets are
		KURA_NOW=$now kura policy sunset S sha256 "$(date -u -d "@$((T0 + half * 182 * 86400 + 20 * 86400))" +%Y-%m-%d)" \
			>/dev/null 2>&1
	fi
	KURA_NOW=$now kura daemon S --once >>daemon.log 2>&1 || fail "daemon run at $now failed: $(tail -5 daemon.log)"
done
LATER=$(date -u -d "@$((T0 + 10 * 365 * 86400 + 86400))" +%Y-%m-%dT%H:%M:%SZ)
export KURA_NOW=$LATER
grep -q "hash-tree renewal" daemon.log || fail "no hash-tree renewal: $(tail daemon.log)"

expect_status 0 kura verify S --json "$REPORT"
[ "$(field signature <"$OUT")" = valid ] || fail "report: $(cat "$OUT")"
[ "$(field signature_details.signers.0.revocation.0.status <"$OUT")" = good ] || fail "alice's status: $(cat "$OUT")"
[ "$(field signature_details.signers.0.revocation.1.source <"$OUT")" = crl ] || fail "the CA's status comes from the root's CRL"
expect_grep "$OUT" "expired since"
PROVEN=$(field signature_at <"$OUT")
[ "$PROVEN" = "$(field chains.0.ats.0.genTime <"$OUT")" ] || fail "the signature is decided at the first ATS's time"
[ "$(field chains.1.hash <"$OUT")" = sha512 ] || fail "a sha512 chain after the sunset: $(cat "$OUT")"
expect_status 0 kura verify S "$LEDGER" "$MINUTES" "$OTHER_CRL"
expect_status 0 kura verify S --json "$PROTOCOL"
expect_grep "$OUT" "revoked later"
[ "$(field signature_at <"$OUT")" \< "$(field chains.0.ats.0.genTime <"$OUT")" ] ||
	fail "the signature time-stamp proves an earlier time: $(cat "$OUT")"
expect_status 1 kura verify S --json "$CONTRACT"
[ "$(field signature <"$OUT")" = invalid ] || fail "revoked before signing stays invalid: $(cat "$OUT")"
[ "$(field integrity <"$OUT")" = valid ] || fail "its evidence itself is intact"
expect_grep "$OUT" "before the time the signature is proven"
expect_status 1 kura verify S --json "$OTHER_NOREV"
[ "$(field signature <"$OUT")" = indeterminate ] || fail "no revocation data: indeterminate"

# ---- without the store
kura evidence S "$REPORT" -o report.ers
kura tsa ca S >tsa.pem
expect_status 0 kura verify-er --data report.txt --signature report.p7s --validation-data report.vd \
	--er report.ers --trust tsa.pem --signers pki/root.pem --json
[ "$(field signature <"$OUT")" = valid ] || fail "verify-er: $(cat "$OUT")"
expect_status 0 kura verify-er --data report.txt --er report.ers --trust tsa.pem
expect_status 0 kura verify-er --data report.txt --signature report.p7s --validation-data report.vd \
	--er report.ers --trust tsa.pem --signers pki/root.pem
expect_grep "$OUT" "signature: valid"
cp report.txt tampered.txt
printf 'X' | dd of=tampered.txt bs=1 seek=3 conv=notrunc 2>/dev/null
expect_status 1 kura verify-er --data tampered.txt --signature report.p7s --validation-data report.vd \
	--er report.ers --trust tsa.pem --signers pki/root.pem --json
[ "$(field signature <"$OUT")" = invalid ] || fail "a tampered document: $(cat "$OUT")"
cp report.p7s tampered.p7s
size=$(stat -c %s tampered.p7s)
printf '\x55' | dd of=tampered.p7s bs=1 seek=$((size - 10)) conv=notrunc 2>/dev/null
expect_status 1 kura verify-er --data report.txt --signature tampered.p7s --validation-data report.vd \
	--er report.ers --trust tsa.pem --signers pki/root.pem --json
[ "$(field verdict <"$OUT")" = invalid ] || fail "a tampered signature: $(cat "$OUT")"
expect_status 1 kura verify-er --data report.txt --signature report.p7s --validation-data report.vd \
	--er report.ers --trust tsa.pem --signers tsa.pem --json
[ "$(field signature <"$OUT")" = indeterminate ] || fail "a wrong signer anchor: $(cat "$OUT")"

head -c 200 report.vd >truncated.vd
expect_status 1 kura verify-er --data report.txt --signature report.p7s --validation-data truncated.vd \
	--er report.ers --trust tsa.pem --signers pki/root.pem --json
[ "$(field verdict <"$OUT")" = invalid ] || fail "a truncated validation data file: $(cat "$OUT")"
expect_grep "$OUT" "not a kura validation data"

# ---- a package: export, verify-export (also with openssl alone), import into another store
expect_status 0 kura export S -o pkg.tar "$REPORT" "$LEDGER"
expect_status 0 kura verify-export pkg.tar --json
"$PYTHON" - "$OUT" <<'PY' || fail "verify-export of signed documents: $(cat "$OUT")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["verdict"] == "valid", r
assert [o["signature"] for o in r["objects"]] == ["valid", "valid"], r
PY
mkdir pkg
tar -xmf pkg.tar -C pkg
B=$(echo pkg/*)
[ -f "$B/data/signer-anchors.pem" ] || fail "the package carries the signers' roots"
[ -f "$B/data/$REPORT/report.p7s" ] && [ -f "$B/data/$REPORT/report.txt.validation.der" ] ||
	fail "the signature and validation data are in the package: $(ls "$B/data/$REPORT")"
[ "$("$PYTHON" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["members"]))' "$B/data/$REPORT/object.json")" = 3 ] ||
	fail "object.json lists the group's three files"
first=$(head -n 1 "$B/data/$REPORT/report.txt.erp" | cut -d' ' -f6)
epoch=$(grep "^$first.tsr" "$B/data/tokens/INDEX.tsv" | cut -f3)
content=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["file"])' "$B/data/$REPORT/object.json")
(cd "$B/data/$REPORT" && openssl cms -verify -binary -inform DER -in report.p7s -content "../$content" \
	-CAfile ../signer-anchors.pem -attime "$epoch" -out /dev/null) 2>openssl.err ||
	fail "openssl cms -verify as VERIFY.md says: $(cat openssl.err)"
printf 'X' | dd of="$B/data/$REPORT/report.txt.validation.der" bs=1 seek=40 conv=notrunc 2>/dev/null
expect_status 1 kura verify-export "$B" --json
expect_grep "$OUT" "validation.der"
kura init I >/dev/null 2>&1
kura trust add I --tsa "$B/data/tsa-anchors.pem" 2>/dev/null
kura trust add I --signers pki/root.pem 2>/dev/null
expect_status 0 kura import I pkg.tar
[ "$(grep -c '^OK' "$OUT")" = 2 ] || fail "both signed documents imported: $(cat "$OUT")"
expect_status 0 kura verify I --json
[ "$(grep -c '"signature":"valid"' "$OUT")" = 2 ] || fail "imported signed documents keep their signatures: $(cat "$OUT")"

# Bouncy Castle verifies the group's record for the document alone (its hash is in the first list)
JARS=/usr/share/java
BCCP=$JARS/bcprov.jar:$JARS/bcpkix.jar:$JARS/bcutil.jar
mkdir classes
timeout 120 javac -nowarn -Xlint:-path -d classes -cp "$BCCP" "$HERE/../interop/BcErsCheck.java" >javac.log 2>&1 ||
	fail "javac BcErsCheck.java failed: $(head -c 2000 javac.log)"
expect_status 0 java -cp "classes:$BCCP" BcErsCheck verify report.txt report.ers tsa.pem -at "${LATER%Z}Z"
expect_grep "$OUT" "OK chains=2"
expect_status 1 java -cp "classes:$BCCP" BcErsCheck verify tampered.txt report.ers tsa.pem -at "${LATER%Z}Z"

# the store reads back the same after reindex
kura reindex S >/dev/null 2>&1
expect_status 0 kura verify S "$REPORT" "$LEDGER"
echo "ok"
