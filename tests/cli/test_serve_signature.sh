#!/usr/bin/env bash
# PreservePO with a detached signature (issue 17 with issue 5's signature preservation): the JSON
# form's "signature" (base64 of the CMS signature) beside "binaryValue" is checked as
# `kura ingest --signature` checks it (the test PKI of tests/cli/signatures/pki.sh: a real
# `openssl ocsp` responder, the root's CRL over HTTP) and kept with the document:
#  - a signed document submitted over the API has the same members and ingest-time verdict in
#    /po/ID/info as the one `kura ingest --signature` stores; its package (/po/ID/package) passes
#    `kura verify-export` with the signature valid; `kura verify` of the store accepts it;
#  - refused with 400 and a clear message, nothing stored: a garbage signature, a signature of
#    another document, a signer revoked before signing; "acceptInvalid" stores the last one as
#    --accept-invalid does; "crls" stands in for a responder that is down, as --crl does.
source "$(dirname "$0")/lib.sh" || exit 1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/renewal/servers.sh"
source "$HERE/signatures/pki.sh"
on_exit stop_all_servers
cd "$T"

pki_init "$T/pki" "$(closed_port)" "$(closed_port)"
for who in alice bob; do pki_signer "$who"; done
pki_revoke bob # before he signs
start_ocsp
start_crl_server
printf 'clinical trial 0042: final report\n' >report.txt
printf 'contract with ACME\n' >contract.txt
printf 'another document\n' >other.txt
pki_sign alice report.txt report.p7s
pki_sign bob contract.txt contract.p7s
pki_sign alice other.txt other.p7s
head -c 300 /dev/urandom >garbage.p7s
test_policy policy.yaml signature-api 90
for s in S C; do
	expect_status 0 kura init "$s" --policy policy.yaml --tsa-days 730
	expect_status 0 kura trust add "$s" --signers pki/root.pem
done
ARCH=$(kura user add S arch --role archivist 2>/dev/null)
AUD=$(kura user add S aud --role auditor 2>/dev/null)
SERVE_WHAT=serve start_serve srv "" 127.0.0.1:0 S --seal-every 3600
API=${SERVER_URL}api/v1

# po NAME DOC SIG [JSON...]: PreservePO?wait=sealed of DOC with its signature SIG (and more fields
# of the body, as JSON members); the answer in NAME.json, the HTTP status in NAME.code
po()
{
	local name=$1 doc=$2 sig=$3
	shift 3
	py '
import base64, json, sys
b = lambda f: base64.b64encode(open(f, "rb").read()).decode()
body = {"po": [{"binaryValue": b(sys.argv[1]), "name": sys.argv[1], "signature": b(sys.argv[2]),
                "signatureName": sys.argv[2], "meta": {"study": "0042"}}]}
for extra in sys.argv[3:]:
    body.update(json.loads(extra))
print(json.dumps(body))' "$doc" "$sig" "$@" >"$name.body"
	curl -s -o "$name.json" -w '%{http_code}' -H "Authorization: Bearer $ARCH" -H 'Content-Type: application/json' \
		--data-binary "@$name.body" "$API/PreservePO?wait=sealed" >"$name.code"
}
count() { kura ls S --json | py 'print(len(json.load(sys.stdin)))'; }

# ---- a signed document over the API, and the same by kura ingest
po ok report.txt report.p7s
[ "$(cat ok.code)" = 201 ] || fail "PreservePO with a signature: HTTP $(cat ok.code): $(cat ok.json)"
py 'd = json.load(open("ok.json")); assert d["sealed"] is True, d' || fail "not sealed: $(cat ok.json)"
ID=$(py 'print(json.load(open("ok.json"))["poId"][0])')
curl -s -H "Authorization: Bearer $AUD" "$API/po/$ID/info" >api-info.json
expect_status 0 kura ingest C --signature report.p7s report.txt
CLI_ID=$(cut -f1 "$OUT")
expect_status 0 kura show C "$CLI_ID" --json
py '
a, c = json.load(open("api-info.json")), json.load(open(sys.argv[1]))
members = lambda o: [(m["role"], m["name"], m.get("size"), m.get("sha256")) for m in o["members"]]
roles = [m[0] for m in members(a)]
assert roles == ["signature", "validation-data"], a
assert members(a)[0] == members(c)[0], (members(a), members(c))
assert a["signature"]["signature"] == "valid" == c["signature"]["signature"], (a["signature"], c["signature"])
signers = lambda o: (o["signature"]["format"], [x["path"] for x in o["signature"]["signers"]])
assert signers(a) == signers(c) and signers(a)[1], (a["signature"], c["signature"])
' "$OUT" || fail "the API's signed object is not as the CLI's: $(cat api-info.json) / $(cat "$OUT")"
curl -s -o sig.back -H "Authorization: Bearer $AUD" "$API/po/$ID" && cmp sig.back report.txt ||
	fail "the document's bytes are not as sent"

# its package: the signature and validation data with it, decided valid by verify-export
code=$(curl -s -o pkg.tar.zst -w '%{http_code}' -H "Authorization: Bearer $AUD" "$API/po/$ID/package")
[ "$code" = 200 ] || fail "the package: HTTP $code: $(head -c 300 pkg.tar.zst)"
expect_status 0 kura verify-export pkg.tar.zst --json
py 'r = json.load(open(sys.argv[1]))
assert r["verdict"] == "valid", r
assert [o["signature"] for o in r["objects"]] == ["valid"], r' "$OUT" ||
	fail "verify-export of the API's signed document: $(head -c 1500 "$OUT")"

# ---- refused: 400 with what failed, nothing stored
before=$(count)
refused()
{
	local name=$1 want=$2
	[ "$(cat "$name.code")" = 400 ] || fail "$name: HTTP $(cat "$name.code") (400 expected): $(cat "$name.json")"
	py 'd = json.load(open(sys.argv[1])); assert sys.argv[2] in d["error"], d' "$name.json" "$want" ||
		fail "$name: the error does not say '$want': $(cat "$name.json")"
	[ "$(count)" = "$before" ] || fail "$name: something was stored"
}
po garbage report.txt garbage.p7s
refused garbage "not a CMS signature"
po another other.txt report.p7s
refused another "does not match"
po revoked contract.txt contract.p7s
refused revoked "revoked"
py 'import json; b = json.load(open("ok.body")); b["po"][0]["signature"] = "@@@@"; print(json.dumps(b))' >bad.body
code=$(curl -s -o bad.json -w '%{http_code}' -H "Authorization: Bearer $ARCH" -H 'Content-Type: application/json' \
	--data-binary @bad.body "$API/PreservePO")
echo "$code" >bad.code
refused bad "po[0].signature is not base64"

# ---- as --accept-invalid and --crl do
po accepted contract.txt contract.p7s '{"acceptInvalid": true}'
[ "$(cat accepted.code)" = 201 ] || fail "acceptInvalid: HTTP $(cat accepted.code): $(cat accepted.json)"
ACCEPTED=$(py 'print(json.load(open("accepted.json"))["poId"][0])')
curl -s -H "Authorization: Bearer $AUD" "$API/po/$ACCEPTED/info" >accepted-info.json
py 'd = json.load(open("accepted-info.json")); assert d["signature"]["signature"] == "invalid", d' ||
	fail "an accepted invalid signature is reported invalid: $(cat accepted-info.json)"
stop_server "$OCSP_PID"
po down other.txt other.p7s
[ "$(cat down.code)" = 503 ] || fail "the responder down: HTTP $(cat down.code) (503 expected): $(cat down.json)"
py 'd = json.load(open("down.json")); assert "allow-no-revocation" in d["error"] or "allowNoRevocation" in d["error"], d' ||
	fail "the responder down: $(cat down.json)"
openssl crl -in pki/inter.crl.pem -outform DER -out inter.crl
po crl other.txt other.p7s "{\"crls\": [\"$(base64 -w0 inter.crl)\"]}"
[ "$(cat crl.code)" = 201 ] || fail "with a CRL: HTTP $(cat crl.code): $(cat crl.json)"

stop_server "$SERVER_PID"
expect_status 0 kura verify S "$ID"
expect_status 1 kura verify S "$ACCEPTED"
echo ok
