#!/usr/bin/env bash
# Revocation of TSA certificates (renewal, ERS-RULES: validation data added to renewed tokens;
# RFC 4998 section 5.3 rule 4). Three `openssl ts -reply` TSAs (tests/cli/tsa/responder.py)
# whose certificates come from the test PKI of tests/cli/signatures/pki.sh, each naming the
# real `openssl ocsp` responder in its AIA.
#  - benign: a store sealed by TSA A; A's certificate is revoked (cessationOfOperation). The plan
#    says the chain is due now, naming the revocation; `renew` with TSA B adds the OCSP response
#    (RFC 5940 other revocation info) and A's path to A's token, and the exported record verifies
#    with `verify-er` (a benign revocation after the token was made does not hurt it).
#  - compromised: a store sealed by TSA C; C's key is compromised (keyCompromise). The plan says
#    due now; `renew` refuses (NOT RENEWED, exit 1, naming keyCompromise) and writes nothing.
source "$(dirname "$0")/lib.sh" || exit 1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/renewal/servers.sh"
source "$HERE/signatures/pki.sh"
on_exit stop_all_servers
export KURA_TSA_TIMEOUT=5
cd "$T"

pki_init "$T/pki" "$(closed_port)" "$(closed_port)"
for t in tsa_a tsa_b tsa_c; do pki_tsa "$t"; done
start_ocsp
start_crl_server

# start_tsa NAME: responder.py signing with pki/NAME; sets TSA_URL
start_tsa()
{
	local name=$1 i
	mkdir -p "$name"
	echo 01 >"$name/serial"
	cat >"$name/tsa.cnf" <<CNF
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = $T/$name/serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.3.6.1.4.1.32473.1.1
digests = sha256, sha384, sha512
ordering = no
ess_cert_id_alg = sha256
CNF
	"$PYTHON" "$HERE/tsa/responder.py" --conf "$name/tsa.cnf" --signer "pki/$name.pem" --inkey "pki/$name.key" \
		--chain pki/inter.pem >"$name/out" 2>"$name/err" &
	echo "$!" >>"$SERVERS_FILE"
	for ((i = 0; i < 100; i++)); do
		TSA_URL=$(sed -n 's|^listening on \(http://127\.0\.0\.1:[1-9][0-9]*/\)$|\1|p' "$name/out" || true)
		[ -n "$TSA_URL" ] && TSA_URL=${TSA_URL}ok && return 0
		sleep 0.1
	done
	fail "$name did not start: $(cat "$name/err")"
}
start_tsa tsa_a
URL_A=$TSA_URL
start_tsa tsa_b
URL_B=$TSA_URL
start_tsa tsa_c
URL_C=$TSA_URL

field() { "$PYTHON" -c 'import json,sys
d = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    d = d[int(k)] if k.isdigit() else d[k]
print(d)' "$1"; }

printf 'a ledger\n' >ledger.csv
for s in S S2; do
	kura init "$s" --tsa-url "$([ $s = S ] && echo "$URL_A" || echo "$URL_C")" >/dev/null 2>&1
	kura trust add "$s" --tsa pki/root.pem 2>/dev/null
	expect_status 0 kura ingest "$s" ledger.csv
done
ID=$(cut -f1 "$OUT")
ID_S=$(kura ls S --json | field 0.id)

expect_status 0 kura renew S --plan --json
[ "$(field 0.due_now <"$OUT")" = False ] || fail "nothing due before the revocation: $(cat "$OUT")"

# ---- benign: TSA A ceases operation
sleep 1.1 # revocation times have whole seconds; the token is older
pki_revoke tsa_a cessationOfOperation
expect_status 0 kura renew S --plan --json
[ "$(field 0.due_now <"$OUT")" = True ] || fail "a revoked TSA certificate makes the chain due now: $(cat "$OUT")"
expect_grep "$OUT" "was revoked at"
expect_grep "$OUT" "cessationOfOperation"
kura tsa urls S --set "$URL_B" 2>/dev/null
expect_status 0 kura renew S
expect_status 0 kura renew S --plan --json
[ "$(field 0.due_now <"$OUT")" = False ] || fail "renewed: nothing due: $(cat "$OUT")"
kura evidence S "$ID_S" -o s.ers
"$PYTHON" - s.ers <<'PY' || fail "the renewed record carries no OCSP response in A's token"
import sys
er = open(sys.argv[1], "rb").read()
assert bytes([0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x10, 0x02]) in er  # id-ri-ocsp-response
PY
expect_status 0 kura verify-er --data ledger.csv --er s.ers --trust pki/root.pem --json
[ "$(field chains.0.ats.0.trust <"$OUT")" = valid ] || fail "A's token: $(cat "$OUT")"
expect_status 0 kura verify S

# ---- compromised: TSA C's key
pki_revoke tsa_c keyCompromise
expect_status 0 kura renew S2 --plan --json
[ "$(field 0.due_now <"$OUT")" = True ] || fail "due now: $(cat "$OUT")"
expect_grep "$OUT" "keyCompromise"
kura tsa urls S2 --set "$URL_B" 2>/dev/null
before=$(seg_digest S2)
expect_status 1 kura renew S2
expect_grep "$ERR" "NOT RENEWED"
expect_grep "$ERR" "keyCompromise"
[ "$(seg_digest S2)" = "$before" ] || fail "a refused renewal writes nothing"
echo ok
