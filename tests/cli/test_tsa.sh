#!/usr/bin/env bash
# Time-stamping through every kind of TSA, on loopback only (127.0.0.1):
#  1. the embedded TSA: one seal (one token) per ingest, verify, verify-er with `kura tsa ca`,
#     the token checked by `openssl ts -verify` over the root that tests/cli/tsa/der.py
#     recomputes from each record's reduced tree (ERS-RULES.md); another store's root is no trust;
#  2. `kura tsa serve --dir` as the remote TSA of another store, and for curl + `openssl ts
#     -query/-verify`; its refusals (too large, port taken, bad arguments);
#  3. an independent TSA, `openssl ts -reply` behind python3 http.server (tests/cli/tsa/responder.py):
#     ESSCertID v1 and v2, a v2 list naming the whole chain, a SHA-384 store, tokens in BER
#     (kept byte for byte), a store that does not trust it;
#  4. failover past a closed port and past a TSA whose root is not trusted; only bad TSAs
#     (HTTP 500, garbage, empty, a rejection, a token for another nonce, a replayed token over
#     another imprint, one that never answers): exit 3, objects stored but pending, nothing
#     else written, a clear reason per attempt; then `kura tsa urls --set` and `kura seal`;
#  5. a `kura tsa serve --store` stopped half-way: the next seal fails, earlier evidence holds,
#     another TSA takes over.
# Every server runs in the background and is stopped at exit. The cases with a TSA that never
# answers set KURA_TSA_TIMEOUT (seconds per HTTP attempt; 30 by default) to stay short.
source "$(dirname "$0")/lib.sh" || exit 1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DER=$HERE/tsa/der.py
RESPONDER=$HERE/tsa/responder.py
cd "$T"
for tool in openssl curl; do
	command -v "$tool" >/dev/null || fail "$tool is needed by this test"
done

# ------------------------------------------------------------------ helpers

# 0 if process $1 runs (a zombie does not: it only waits for its parent's wait).
alive()
{
	local s=
	if [ -r "/proc/$1/stat" ]; then
		s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1 || true)
	fi
	if [ -n "$s" ] && [ "$s" != Z ]; then return 0; else return 1; fi
}

# Stops a background server (pid $1): SIGTERM, up to 5 s, then SIGKILL.
stop_server()
{
	local i
	kill -TERM "$1" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		alive "$1" || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# start_server NAME CMD...: runs CMD in the background (stdout NAME.out, stderr NAME.err),
# waits at most 10 s for its "listening on http://127.0.0.1:PORT/" line; sets SERVER_URL
# and SERVER_PID. Call it from the top level (not inside run_case) so that the stop at
# exit is registered in the shell that owns the process.
start_server()
{
	local name=$1 i
	shift
	: >"$name.out"
	"$@" >"$name.out" 2>"$name.err" &
	SERVER_PID=$!
	on_exit "stop_server $SERVER_PID"
	SERVER_URL=
	for ((i = 0; i < 100; i++)); do
		SERVER_URL=$(sed -n 's|^listening on \(http://127\.0\.0\.1:[1-9][0-9]*/\)$|\1|p' "$name.out" || true)
		[ -n "$SERVER_URL" ] && return 0
		alive "$SERVER_PID" || fail "$name exited before listening: $(head -c 600 "$name.err")"
		sleep 0.1
	done
	fail "$name printed no 'listening on http://127.0.0.1:PORT/' line within 10 s: $(head -c 300 "$name.out")"
}

# A TCP port on 127.0.0.1 that nothing listens on (bound, then closed).
closed_port()
{
	py 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Seal records in a store's segments (proof/seal.c: a seal payload starts "KSEAL1\n").
seal_records() { cat "$1"/segments/*.seg | grep -ao 'KSEAL1' | wc -l; }

# Name and SHA-256 of every file of store $1 outside its RocksDB index and lock file.
# (state.json is the history kura status reads, not the store's content: a failed TSA is noted there)
store_files() { (cd "$1" && find . -path ./index -prune -o -type f ! -name lock ! -name 'state.*' -print0 | sort -z | xargs -0 sha256sum); }

# IDs printed by the last ingest ($OUT), one per line.
ids_of() { cut -f1 "${1:-$OUT}"; }

# Asserts `kura verify STORE --json` exits 0 with every verdict, integrity and trust valid,
# for exactly $2 objects.
expect_all_valid()
{
	expect_status 0 kura verify "$1" --json
	py '
rows = [json.loads(l) for l in open(sys.argv[1])]
if len(rows) != int(sys.argv[2]):
    sys.exit("expected %s objects, verify printed %d lines" % (sys.argv[2], len(rows)))
for r in rows:
    for k in ("verdict", "integrity", "trust"):
        if r.get(k) != "valid":
            sys.exit("%s: %s is %r: %s" % (r.get("id"), k, r.get(k), json.dumps(r)[:600]))
' "$OUT" "$2" || fail "kura verify $1 --json: not all valid"
}

# The lines of stderr file $1 that report a failure of TSA URL $2.
tsa_failures() { grep -F "kura: TSA $2 failed (attempt " "$1" || true; }

# verdicts_are VERDICT FILE...: each file (verify-er --json output) has that verdict.
verdicts_are()
{
	py '
want = sys.argv[1]
for f in sys.argv[2:]:
    r = json.load(open(f))
    if r.get("verdict") != want:
        sys.exit("%s: verdict %r, expected %s: %s" % (f, r.get("verdict"), want, json.dumps(r)[:600]))
' "$@" || fail "verify-er: verdict is not $1"
}
# The last verify-er --json ($OUT) has verdict $1.
verdict_is() { verdicts_are "$1" "$OUT"; }

for i in 1 2 3 4 5 6; do
	printf 'document %d of the TSA test, %s\n' "$i" "$RANDOM$RANDOM" >"doc$i.txt"
done
random_file doc7.bin 70000

# ------------------------------------------------------------------ an independent TSA: openssl ts -reply
# A root CA (EC P-384) and a TSA certificate (RSA-3072: the default policy ends RSA-2048 in 2025; critical EKU timeStamping) made with
# openssl req/x509 from this config, whose [tsa] section drives `openssl ts -reply`.
mkdir ossl
cat >ossl/tsa.cnf <<EOF
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_tsa ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = $T/ossl
serial = \$dir/serial
crypto_device = builtin
signer_cert = \$dir/tsa.pem
certs = \$dir/ca.pem
signer_key = \$dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.32473.1.1
other_policies = 1.3.6.1.4.1.32473.1.2
digests = sha256, sha384, sha512
accuracy = secs:1, millisecs:500
clock_precision_digits = 3
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha1
[ tsa_v2 ]
dir = $T/ossl
serial = \$dir/serial
crypto_device = builtin
signer_cert = \$dir/tsa.pem
certs = \$dir/ca.pem
signer_key = \$dir/tsa.key
signer_digest = sha384
default_policy = 1.3.6.1.4.1.32473.1.3
digests = sha256, sha384, sha512
ordering = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
[ tsa_chain ]
dir = $T/ossl
serial = \$dir/serial
crypto_device = builtin
signer_cert = \$dir/tsa.pem
certs = \$dir/ca.pem
signer_key = \$dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.32473.1.4
digests = sha256, sha384, sha512
ess_cert_id_chain = yes
ess_cert_id_alg = sha256
EOF
# [tsa_config] (/ok): ESSCertID v1 (openssl's default), which ERS-RULES.md says kura accepts
# as well as v2; [tsa_v2] (/ok2): ESSCertIDv2, SHA-384 signature; [tsa_chain] (/okchain):
# an ESSCertIDv2 list naming the signer first, then the rest of its chain (RFC 5035 allows it).
echo 01 >ossl/serial
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout ossl/ca.key -out ossl/ca.pem \
	-days 3650 -sha384 -subj "/O=kura tests/CN=openssl ts test root" -config ossl/tsa.cnf -extensions v3_ca \
	2>ossl/log || fail "openssl req (CA) failed: $(cat ossl/log)"
openssl req -new -newkey rsa:3072 -nodes -keyout ossl/tsa.key -out ossl/tsa.csr \
	-subj "/O=kura tests/CN=openssl ts test TSA" -config ossl/tsa.cnf 2>ossl/log ||
	fail "openssl req (TSA) failed: $(cat ossl/log)"
openssl x509 -req -in ossl/tsa.csr -CA ossl/ca.pem -CAkey ossl/ca.key -set_serial 2 -days 365 -sha384 \
	-extfile ossl/tsa.cnf -extensions v3_tsa -out ossl/tsa.pem 2>ossl/log ||
	fail "openssl x509 (TSA) failed: $(cat ossl/log)"
openssl x509 -in ossl/tsa.pem -noout -ext extendedKeyUsage | grep -q critical || fail "TSA certificate EKU is not critical"

start_server responder python3 "$RESPONDER" --conf ossl/tsa.cnf --signer ossl/tsa.pem --inkey ossl/tsa.key \
	--chain ossl/ca.pem --save ossl/answers
PY_URL=$SERVER_URL # http://127.0.0.1:PORT/ + ok ber ok2 okchain 500 garbage empty reject hang badnonce replay

# ------------------------------------------------------------------ case 1: the embedded TSA
embedded()
{
	expect_status 0 kura init E
	expect_grep "$ERR" "clock"
	expect_status 0 kura ingest E doc1.txt doc2.txt doc3.txt doc7.bin
	[ "$(wc -l <"$OUT")" -eq 4 ] || fail "expected 4 ingest lines: $(cat "$OUT")"
	cp "$OUT" e.ids
	[ "$(grep -c 'sealed 4 object(s)' "$ERR")" -eq 1 ] || fail "expected one seal of 4 objects: $(cat "$ERR")"
	[ "$(seal_records E)" -eq 1 ] || fail "expected exactly one seal record in the segments, found $(seal_records E)"
	mapfile -t ids < <(ids_of e.ids)
	mapfile -t files < <(cut -f3 e.ids)
	expect_status 0 kura tsa ca E
	cp "$OUT" e-ca.pem
	grep -q 'BEGIN CERTIFICATE' e-ca.pem || fail "kura tsa ca printed no PEM certificate"
	local i root
	for i in 0 1 2 3; do
		expect_status 0 kura evidence E "${ids[$i]}" -o "e$i.ers"
		expect_status 0 kura verify-er --data "${files[$i]}" --er "e$i.ers" --trust <(kura tsa ca E) --json
		cp "$OUT" "e$i.json"
	done
	verdicts_are valid e0.json e1.json e2.json e3.json
	# for each record: the root recomputed from the object's bytes and its reduced tree equals
	# the token's imprint; and all four carry the same token bytes (one seal, one time-stamp)
	root=$(python3 "$DER" seal e0.ers "${files[0]}" e1.ers "${files[1]}" e2.ers "${files[2]}" e3.ers "${files[3]}") ||
		fail "the records of one ingest are not one seal over one root"
	# the imprint is not any single object's hash: one tree over all four
	for i in 0 1 2 3; do
		[ "$root" != "$(sha256_of "${files[$i]}")" ] || fail "the token's imprint is the hash of ${files[$i]} alone"
	done
	# openssl, on its own, accepts the token over that root with the store's TSA roots
	openssl ts -verify -token_in -in e0.tst -digest "$root" -CAfile e-ca.pem >ossl-verify.out 2>&1 ||
		fail "openssl ts -verify rejects the embedded TSA's token: $(cat ossl-verify.out)"
	grep -q '^Verification: OK' ossl-verify.out || fail "openssl ts -verify: $(cat ossl-verify.out)"
	# ... and not over another digest
	local other
	if [ "${root:0:1}" = 0 ]; then other=1${root:1}; else other=0${root:1}; fi
	if openssl ts -verify -token_in -in e0.tst -digest "$other" -CAfile e-ca.pem >/dev/null 2>&1; then
		fail "openssl ts -verify accepts the token over another digest (test broken)"
	fi
	expect_all_valid E 4

	# wrong data, wrong CA
	expect_status 1 kura verify-er --data doc4.txt --er e0.ers --trust e-ca.pem --json
	verdict_is invalid
	expect_status 0 kura init E2
	expect_status 0 kura tsa ca E2
	cp "$OUT" e2-ca.pem
	cmp -s e-ca.pem e2-ca.pem && fail "two stores have the same embedded TSA root"
	expect_status 1 kura verify-er --data "${files[0]}" --er e0.ers --trust e2-ca.pem --json
	py '
r = json.load(open(sys.argv[1]))
if r.get("verdict") != "invalid":
    sys.exit("verdict %r with another store'"'"'s TSA root, expected invalid: %s" % (r.get("verdict"), json.dumps(r)[:600]))
if r.get("integrity") != "valid":
    sys.exit("integrity should stay valid with a wrong CA: %s" % json.dumps(r)[:600])
' "$OUT" || fail "verify-er with a wrong CA"
	if openssl ts -verify -token_in -in e0.tst -digest "$root" -CAfile e2-ca.pem >/dev/null 2>&1; then
		fail "openssl ts -verify accepts the token with another store's root (test broken)"
	fi
	# a second ingest is a second seal, with its own token
	expect_status 0 kura ingest E doc4.txt
	local id4
	id4=$(ids_of)
	expect_status 0 kura evidence E "$id4" -o e4.ers
	python3 "$DER" seal e4.ers doc4.txt >/dev/null || fail "single-object seal: root != imprint"
	cmp -s e0.tst e4.tst && fail "a second ingest reused the first seal's token"
	expect_all_valid E 5
}
run_case "embedded TSA" embedded

# ------------------------------------------------------------------ case 2: kura tsa serve --dir as a remote TSA
start_server kserve "$KURA_BIN" tsa serve --dir "$T/tsadir" --listen 127.0.0.1:0
K_URL=$SERVER_URL
K_PID=$SERVER_PID

served_dir()
{
	for f in root.pem tsa.pem anchors.pem root.key tsa.key; do
		[ -s "tsadir/$f" ] || fail "tsa serve --dir did not create tsadir/$f"
	done
	[ "$(stat -c %a tsadir/tsa.key)" = 600 ] && [ "$(stat -c %a tsadir/root.key)" = 600 ] ||
		fail "TSA keys are not mode 0600: $(stat -c '%n %a' tsadir/*.key)"
	expect_status 0 kura init S2 --tsa-url "$K_URL"
	expect_error 1 kura tsa ca S2 # no embedded TSA in a store with URLs
	expect_status 0 kura trust add S2 --tsa tsadir/anchors.pem
	expect_status 0 kura ingest S2 doc1.txt doc5.txt doc7.bin
	cp "$OUT" s2.ids
	[ "$(grep -c 'sealed 3 object(s)' "$ERR")" -eq 1 ] || fail "expected one seal of 3 objects: $(cat "$ERR")"
	expect_grep "$ERR" "by $K_URL"
	[ -z "$(tsa_failures "$ERR" "$K_URL")" ] || fail "a working TSA was reported as failing: $(cat "$ERR")"
	expect_all_valid S2 3
	local id
	id=$(head -n 1 s2.ids | cut -f1)
	expect_status 0 kura evidence S2 "$id" -o s2.ers
	expect_status 0 kura verify-er --data doc1.txt --er s2.ers --trust tsadir/anchors.pem --json
	verdict_is valid
	local root
	root=$(python3 "$DER" seal s2.ers doc1.txt) || fail "S2 record: root != imprint"
	openssl ts -verify -token_in -in s2.tst -digest "$root" -CAfile tsadir/anchors.pem >/dev/null 2>&1 ||
		fail "openssl ts -verify rejects a token of kura tsa serve"

	# any RFC 3161 client: openssl ts -query + curl + openssl ts -verify
	openssl ts -query -data doc6.txt -sha256 -cert -out req.tsq 2>/dev/null
	local got
	got=$(curl -sS --max-time 10 --data-binary @req.tsq -H 'Content-Type: application/timestamp-query' \
		-o resp.tsr -w '%{http_code} %{content_type}' "$K_URL") || fail "curl to kura tsa serve failed"
	[ "$got" = "200 application/timestamp-reply" ] || fail "kura tsa serve answered: $got"
	openssl ts -verify -in resp.tsr -data doc6.txt -CAfile tsadir/anchors.pem >v.out 2>&1 ||
		fail "openssl ts -verify -data rejects kura tsa serve's answer: $(cat v.out)"
	openssl ts -verify -in resp.tsr -queryfile req.tsq -CAfile tsadir/anchors.pem >v.out 2>&1 ||
		fail "openssl ts -verify -queryfile (nonce, imprint) rejects kura tsa serve's answer: $(cat v.out)"
	if openssl ts -verify -in resp.tsr -data doc5.txt -CAfile tsadir/anchors.pem >/dev/null 2>&1; then
		fail "openssl ts -verify accepts the answer for other data (test broken)"
	fi
	# the standalone TSA is not the embedded TSA of some store
	if openssl ts -verify -in resp.tsr -data doc6.txt -CAfile e-ca.pem >/dev/null 2>&1; then
		fail "kura tsa serve --dir signs with a root that another TSA shares"
	fi
	got=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$K_URL") || fail "curl GET failed"
	[ "$got" = 405 ] || fail "GET on kura tsa serve answered $got, expected 405"
	# garbage in: a rejection or an HTTP error, and the server lives on
	head -c 200 /dev/urandom >junk.tsq
	curl -sS --max-time 10 --data-binary @junk.tsq -H 'Content-Type: application/timestamp-query' \
		-o /dev/null "$K_URL" || fail "kura tsa serve did not answer a garbage request"
	got=$(curl -sS --max-time 10 --data-binary @req.tsq -H 'Content-Type: application/timestamp-query' \
		-o resp2.tsr -w '%{http_code}' "$K_URL") || fail "kura tsa serve died after a garbage request"
	[ "$got" = 200 ] || fail "kura tsa serve answered $got after a garbage request"
}
run_case "kura tsa serve --dir" served_dir

serve_refusals()
{
	# a request larger than the server takes
	head -c 70000 /dev/zero >big.tsq
	local got
	got=$(curl -sS --max-time 10 --data-binary @big.tsq -H 'Content-Type: application/timestamp-query' \
		-o /dev/null -w '%{http_code}' "$K_URL") || fail "curl of a 70 kB request failed"
	[ "$got" = 413 ] || fail "a 70 kB request got HTTP $got, expected 413"
	expect_error 1 kura tsa serve --store S2 --listen 127.0.0.1:0 # S2 has TSA URLs, no embedded TSA
	expect_error 2 kura tsa serve --dir tsadir --listen 127.0.0.1:99999
	expect_error 2 kura tsa serve --dir tsadir --store S2 --listen 127.0.0.1:0
	expect_error 2 kura tsa serve --dir tsadir
	# the port is taken (by the running server): exit 3 and a kura: message naming the address
	local port=${K_URL#http://127.0.0.1:}
	port=${port%/}
	expect_error 3 timeout 10 "$KURA_BIN" tsa serve --dir tsadir --listen "127.0.0.1:$port"
	expect_grep "$ERR" "127.0.0.1:$port"
}
run_case "kura tsa serve refusals" serve_refusals

# ------------------------------------------------------------------ case 3: openssl ts -reply as the TSA
openssl_tsa()
{
	# the responder itself works for openssl's client
	openssl ts -query -data doc6.txt -sha256 -cert -out oreq.tsq 2>/dev/null
	curl -sS --max-time 20 --data-binary @oreq.tsq -H 'Content-Type: application/timestamp-query' \
		-o oresp.tsr "${PY_URL}ok" || fail "curl to the openssl responder failed"
	openssl ts -verify -in oresp.tsr -queryfile oreq.tsq -CAfile ossl/ca.pem >v.out 2>&1 ||
		fail "the openssl responder is broken (test setup): $(cat v.out)"

	expect_status 0 kura init S3 --tsa-url "${PY_URL}ok"
	expect_status 0 kura trust add S3 --tsa ossl/ca.pem
	expect_status 0 kura ingest S3 doc2.txt doc6.txt doc7.bin
	cp "$OUT" s3.ids
	[ "$(grep -c 'sealed 3 object(s)' "$ERR")" -eq 1 ] || fail "expected one seal of 3 objects: $(cat "$ERR")"
	expect_grep "$ERR" "by ${PY_URL}ok"
	[ -z "$(tsa_failures "$ERR" "${PY_URL}ok")" ] || fail "the openssl TSA was reported as failing: $(cat "$ERR")"
	expect_all_valid S3 3
	local id
	id=$(sed -n 2p s3.ids | cut -f1)
	expect_status 0 kura evidence S3 "$id" -o s3.ers
	expect_status 0 kura verify-er --data doc6.txt --er s3.ers --trust ossl/ca.pem --json
	verdict_is valid
	py '
r = json.load(open(sys.argv[1]))
ats = r["chains"][0]["ats"][0]
if "openssl ts test TSA" not in ats.get("tsa", ""):
    sys.exit("ATS tsa is %r" % ats.get("tsa"))
' "$OUT" || fail "verify-er does not name the openssl TSA"
	local root
	root=$(python3 "$DER" seal s3.ers doc6.txt) || fail "S3 record: root != imprint"
	openssl ts -verify -token_in -in s3.tst -digest "$root" -CAfile ossl/ca.pem >/dev/null 2>&1 ||
		fail "openssl ts -verify rejects the token kura keeps from openssl's own TSA"
	# the token is kept exactly as the TSA sent it: byte for byte one of openssl's answers
	python3 "$DER" find-token s3.tst ossl/answers/*.tsr >/dev/null ||
		fail "the token in the record is not byte-identical to any token openssl ts -reply sent"
	# another TSA's root does not make it trusted
	expect_status 1 kura verify-er --data doc6.txt --er s3.ers --trust tsadir/anchors.pem --json
	# a store that does not trust the openssl root: the seal goes through only if kura
	# accepts a token it cannot path-check; either way verify must not say valid
	expect_status 0 kura init S3b --tsa-url "${PY_URL}ok"
	local st=0
	kura ingest S3b doc6.txt >s3b.out 2>s3b.err || st=$?
	if [ "$st" -eq 0 ]; then
		expect_status 1 kura verify S3b --json
		py '
r = json.loads(open(sys.argv[1]).readline())
if r["verdict"] == "valid" or r["trust"] == "valid":
    sys.exit("a token from an untrusted TSA verified valid: " + json.dumps(r)[:600])
' "$OUT" || fail "untrusted TSA: verify"
	else
		[ "$st" -eq 3 ] || fail "untrusted TSA: ingest exited $st: $(cat s3b.err)"
	fi
}
run_case "openssl ts -reply TSA" openssl_tsa

# the same TSA answering in BER (indefinite lengths) and with ESSCertIDv2, to a SHA-384 store
openssl_tsa_variants()
{
	# BER: kura keeps the token's bytes exactly as received (ERS-RULES.md), and they verify
	expect_status 0 kura init S3ber --tsa-url "${PY_URL}ber"
	expect_status 0 kura trust add S3ber --tsa ossl/ca.pem
	expect_status 0 kura ingest S3ber doc3.txt doc4.txt
	expect_grep "$ERR" "by ${PY_URL}ber"
	local id
	id=$(ids_of | head -n 1)
	expect_all_valid S3ber 2
	expect_status 0 kura evidence S3ber "$id" -o s3ber.ers
	expect_status 0 kura verify-er --data doc3.txt --er s3ber.ers --trust ossl/ca.pem --json
	verdict_is valid
	local root
	root=$(python3 "$DER" seal s3ber.ers doc3.txt) || fail "BER token: root != imprint"
	[ "$(head -c 2 s3ber.tst | od -An -tx1 | tr -d ' ')" = 3080 ] ||
		fail "the record does not carry the TSA's BER token as sent (it was re-encoded)"
	python3 "$DER" find-token s3ber.tst ossl/answers/*.tsr >/dev/null ||
		fail "the BER token in the record is not byte-identical to the one the TSA sent"
	openssl ts -verify -token_in -in s3ber.tst -digest "$root" -CAfile ossl/ca.pem >/dev/null 2>&1 ||
		fail "openssl ts -verify rejects the BER token kept in the record"

	# ESSCertIDv2 + SHA-384 signature, on a SHA-384 store (imprint and tree in SHA-384)
	expect_status 0 kura init S3h --hash sha384 --tsa-url "${PY_URL}ok2"
	expect_status 0 kura trust add S3h --tsa ossl/ca.pem
	expect_status 0 kura ingest S3h doc5.txt doc6.txt doc7.bin
	expect_grep "$ERR" "sealed 3 object(s)"
	id=$(ids_of | tail -n 1)
	expect_all_valid S3h 3
	expect_status 0 kura evidence S3h "$id" -o s3h.ers
	expect_status 0 kura verify-er --data doc7.bin --er s3h.ers --trust ossl/ca.pem --json
	verdict_is valid
	root=$(python3 "$DER" seal s3h.ers doc7.bin) || fail "SHA-384 store: root != imprint"
	[ "${#root}" -eq 96 ] || fail "SHA-384 store: the imprint is ${#root} hex digits long"
	openssl ts -verify -token_in -in s3h.tst -digest "$root" -sha384 -CAfile ossl/ca.pem >/dev/null 2>&1 ||
		fail "openssl ts -verify rejects the SHA-384 / ESSCertIDv2 token"
}
run_case "openssl ts -reply TSA: BER, ESSCertIDv2, SHA-384" openssl_tsa_variants

# RFC 5035 / RFC 2634 section 5.4: the first ESSCertID names the signing certificate; further
# ones may name the rest of its path. openssl ts -reply writes that with ess_cert_id_chain = yes
# (and `openssl ts -verify` accepts it).
ess_chain()
{
	openssl ts -query -data doc2.txt -sha256 -cert -out creq.tsq 2>/dev/null
	curl -sS --max-time 20 --data-binary @creq.tsq -o cresp.tsr "${PY_URL}okchain" || fail "curl to /okchain failed"
	openssl ts -verify -in cresp.tsr -queryfile creq.tsq -CAfile ossl/ca.pem >v.out 2>&1 ||
		fail "openssl rejects its own ESSCertID-chain token (test setup): $(cat v.out)"
	expect_status 0 kura init S3c --tsa-url "${PY_URL}okchain"
	expect_status 0 kura trust add S3c --tsa ossl/ca.pem
	expect_status 0 kura ingest S3c doc2.txt
	expect_all_valid S3c 1
}
run_case "ESSCertID list naming the whole chain" ess_chain

# ------------------------------------------------------------------ case 4: failover and bad TSAs
failover()
{
	local port
	port=$(closed_port)
	local dead=http://127.0.0.1:$port/
	expect_status 0 kura init S4 --tsa-url "$dead" --tsa-url "$K_URL"
	expect_status 0 kura trust add S4 --tsa tsadir/anchors.pem
	expect_status 0 kura ingest S4 doc1.txt doc2.txt
	[ "$(wc -l <"$OUT")" -eq 2 ] || fail "failover: expected 2 ingest lines: $(cat "$OUT")"
	[ "$(tsa_failures "$ERR" "$dead" | wc -l)" -eq 2 ] ||
		fail "failover: expected one stderr line per failed attempt (2) naming $dead: $(cat "$ERR")"
	[ -z "$(tsa_failures "$ERR" "$K_URL")" ] || fail "failover: the working TSA was reported failing: $(cat "$ERR")"
	expect_grep "$ERR" "sealed 2 object(s)"
	expect_grep "$ERR" "by $K_URL"
	expect_all_valid S4 2

	# a store that trusts only the kura standalone TSA: a genuine token from the openssl TSA
	# (right imprint and nonce) is refused at sealing time, its certificate path named as the
	# reason, and the next TSA is asked
	expect_status 0 kura init S4b --tsa-url "${PY_URL}ok" --tsa-url "$K_URL"
	expect_status 0 kura trust add S4b --tsa tsadir/anchors.pem
	expect_status 0 kura ingest S4b doc3.txt
	[ "$(tsa_failures "$ERR" "${PY_URL}ok" | wc -l)" -eq 1 ] ||
		fail "a token from an untrusted root: expected 1 failure line (not retried): $(cat "$ERR")"
	tsa_failures "$ERR" "${PY_URL}ok" | grep -qi "certificate" ||
		fail "a token from an untrusted root: the reason does not name the certificate: $(cat "$ERR")"
	expect_grep "$ERR" "by $K_URL"
	expect_all_valid S4b 1
}
run_case "failover past a closed port" failover

# Requests the responder got on the bad endpoints of only_bad.
bad_posts() { grep -c '^POST /\(500\|garbage\|empty\|reject\|badnonce\|replay\)$' responder.err || true; }

only_bad()
{
	# /ok first, so that /replay has an earlier answer (another imprint) to send
	openssl ts -query -data doc5.txt -sha256 -cert -out r5.tsq 2>/dev/null
	curl -sS --max-time 20 --data-binary @r5.tsq -o /dev/null "${PY_URL}ok"
	local bad=("${PY_URL}500" "${PY_URL}garbage" "${PY_URL}empty" "${PY_URL}reject" "${PY_URL}badnonce" "${PY_URL}replay")
	local args=() u
	for u in "${bad[@]}"; do args+=(--tsa-url "$u"); done
	expect_status 0 kura init S5 "${args[@]}"
	expect_status 0 kura trust add S5 --tsa ossl/ca.pem # the signatures are good: only the content is wrong
	# the same objects in a store that never seals, for the expected segment size
	expect_status 0 kura init R5 "${args[@]}"
	expect_status 0 kura trust add R5 --tsa ossl/ca.pem # logged in the audit trail, as for S5
	expect_status 0 kura ingest R5 --no-seal doc3.txt doc4.txt doc5.txt

	local before
	before=$(bad_posts)
	expect_status 3 kura ingest S5 doc3.txt doc4.txt doc5.txt
	cp "$OUT" s5.ids
	cp "$ERR" s5.err
	[ "$(wc -l <s5.ids)" -eq 3 ] || fail "only bad TSAs: ingest must print the 3 stored objects: $(cat s5.ids)"
	while IFS= read -r line; do check_ingest_line "$line"; done <s5.ids
	expect_grep s5.err "not time-stamped"
	[ "$(tail -n 1 s5.err | cut -c1-6)" = "kura: " ] || fail "last stderr line is not a kura: message: $(tail -n 1 s5.err)"
	# one line per failed attempt, each with its reason; a wrong answer is not asked twice
	[ "$(tsa_failures s5.err "${PY_URL}500" | wc -l)" -eq 2 ] || fail "HTTP 500: expected 2 attempts: $(cat s5.err)"
	tsa_failures s5.err "${PY_URL}500" | grep -q "500" || fail "HTTP 500 not named: $(cat s5.err)"
	[ "$(tsa_failures s5.err "${PY_URL}garbage" | wc -l)" -eq 1 ] || fail "garbage: expected 1 attempt: $(cat s5.err)"
	tsa_failures s5.err "${PY_URL}garbage" | grep -qi "TimeStampResp\|garbage" || fail "garbage: no clear reason: $(cat s5.err)"
	[ "$(tsa_failures s5.err "${PY_URL}empty" | wc -l)" -eq 2 ] || fail "empty answer: expected 2 attempts: $(cat s5.err)"
	tsa_failures s5.err "${PY_URL}empty" | grep -qi "empty" || fail "empty answer: no clear reason: $(cat s5.err)"
	[ "$(tsa_failures s5.err "${PY_URL}reject" | wc -l)" -eq 1 ] || fail "rejection: expected 1 attempt: $(cat s5.err)"
	tsa_failures s5.err "${PY_URL}reject" | grep -q "refused.*test TSA refuses everything" ||
		fail "rejection: the reason does not carry the TSA's status text: $(cat s5.err)"
	[ "$(tsa_failures s5.err "${PY_URL}badnonce" | wc -l)" -eq 1 ] || fail "bad nonce: expected 1 attempt: $(cat s5.err)"
	tsa_failures s5.err "${PY_URL}badnonce" | grep -qi "nonce" || fail "bad nonce: reason does not say nonce: $(cat s5.err)"
	[ "$(tsa_failures s5.err "${PY_URL}replay" | wc -l)" -eq 1 ] || fail "replay: expected 1 attempt: $(cat s5.err)"
	tsa_failures s5.err "${PY_URL}replay" | grep -qi "imprint" || fail "replay: reason does not say imprint: $(cat s5.err)"
	[ "$(($(bad_posts) - before))" -eq 8 ] ||
		fail "expected 8 HTTP requests (500: 2, garbage: 1, empty: 2, reject: 1, badnonce: 1, replay: 1), the responder saw $(($(bad_posts) - before))"

	# stored, not sealed: get works, verify says indeterminate "not sealed"
	local id
	id=$(head -n 1 s5.ids | cut -f1)
	[ "$(sha256_of_get S5 "$id")" = "$(sha256_of doc3.txt)" ] || fail "only bad TSAs: the object was not stored intact"
	expect_status 1 kura verify S5 --json
	py '
rows = [json.loads(l) for l in open(sys.argv[1])]
if len(rows) != 3:
    sys.exit("expected 3 lines, got %d" % len(rows))
for r in rows:
    if r["verdict"] != "indeterminate" or "not sealed" not in r.get("reason", ""):
        sys.exit("not indeterminate/not sealed: " + json.dumps(r))
' "$OUT" || fail "verify of unsealed objects"
	expect_error 1 kura evidence S5 "$id" -o never.ers
	[ ! -e never.ers ] || fail "kura evidence of an unsealed object wrote a file"
	# no evidence record: the segments hold the objects only, the same records as a --no-seal store
	[ "$(seal_records S5)" -eq 0 ] || fail "a seal record was written although no TSA answered"
	[ "$(seg_records S5)" = "$(seg_records R5)" ] ||
		fail "segments of the failed seal: $(seg_records S5), of a --no-seal ingest $(seg_records R5)"

	# kura seal keeps failing, and writes nothing (segments, config, trust; the index is
	# RocksDB, whose logs change on every open)
	local d0 f0
	d0=$(seg_digest S5)
	f0=$(store_files S5)
	expect_error 3 kura seal S5
	expect_grep "$ERR" "no TSA gave a usable time-stamp"
	expect_grep "$ERR" "${PY_URL}badnonce"
	[ "$(seg_digest S5)" = "$d0" ] || fail "a failed kura seal changed the segments"
	expect_error 3 kura seal S5
	[ "$(seg_digest S5)" = "$d0" ] || fail "a second failed kura seal changed the segments"
	[ "$(store_files S5)" = "$f0" ] || fail "a failed kura seal changed files of the store: $(diff <(echo "$f0") <(store_files S5))"
	grep -q '"failure": ".*nonce' S5/state.json || fail "the failed TSA is not noted for kura status: $(cat S5/state.json)"
	expect_status 1 kura verify S5
	[ "$(grep -c 'indeterminate' "$OUT")" -eq 3 ] || fail "after failed seals: $(cat "$OUT")"
	# --no-seal + failing TSAs is fine (nothing to time-stamp now)
	expect_status 0 kura ingest S5 --no-seal doc6.txt
	# once a working TSA is configured, kura seal time-stamps everything pending in one seal
	expect_status 0 kura tsa urls S5 --set "${PY_URL}ok"
	expect_status 0 kura tsa urls S5
	[ "$(cat "$OUT")" = "${PY_URL}ok" ] || fail "kura tsa urls S5 shows: $(cat "$OUT")"
	expect_status 0 kura seal S5
	expect_grep "$ERR" "sealed 4 object(s)"
	[ "$(seal_records S5)" -eq 1 ] || fail "expected one seal record after the successful seal, found $(seal_records S5)"
	expect_all_valid S5 4
}
run_case "only bad TSAs" only_bad

# A TSA that accepts the connection and never answers: each attempt ends at KURA_TSA_TIMEOUT
# seconds (2 attempts, 1 s pause between them), then the next URL is asked, or exit 3.
HANG_TIMEOUT=3
hang_only()
{
	expect_status 0 kura init H1 --tsa-url "${PY_URL}hang"
	expect_status 0 kura trust add H1 --tsa ossl/ca.pem
	local t0=$SECONDS took
	expect_status 3 env KURA_TSA_TIMEOUT=$HANG_TIMEOUT timeout 120 "$KURA_BIN" ingest H1 doc1.txt doc2.txt
	took=$((SECONDS - t0))
	[ "$(wc -l <"$OUT")" -eq 2 ] || fail "hang: ingest must still print the 2 stored objects: $(cat "$OUT")"
	[ "$(tsa_failures "$ERR" "${PY_URL}hang" | wc -l)" -eq 2 ] || fail "hang: expected 2 failure lines: $(cat "$ERR")"
	tsa_failures "$ERR" "${PY_URL}hang" | grep -qi 'time' || fail "hang: the failure does not say it timed out: $(cat "$ERR")"
	expect_grep "$ERR" "not time-stamped"
	# 2 x 3 s + 1 s; a generous upper bound for loaded machines, far below 2 x 30 s
	[ "$took" -ge 6 ] && [ "$took" -le 30 ] ||
		fail "hang: ingest gave up after ${took}s with KURA_TSA_TIMEOUT=$HANG_TIMEOUT (expected ~7 s)"
	expect_status 1 kura verify H1 --json
	py '
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["verdict"] != "indeterminate" or "not sealed" not in r.get("reason", ""):
        sys.exit("not indeterminate/not sealed: " + l)
' "$OUT" || fail "hang: verify does not report the objects as not sealed"
}
run_case "a TSA that never answers" hang_only

hang_then_good()
{
	expect_status 0 kura init H2 --tsa-url "${PY_URL}hang" --tsa-url "${PY_URL}ok"
	expect_status 0 kura trust add H2 --tsa ossl/ca.pem
	local t0=$SECONDS took
	expect_status 0 env KURA_TSA_TIMEOUT=$HANG_TIMEOUT timeout 120 "$KURA_BIN" ingest H2 doc3.txt doc4.txt
	took=$((SECONDS - t0))
	[ "$(tsa_failures "$ERR" "${PY_URL}hang" | wc -l)" -eq 2 ] || fail "hang+ok: expected 2 failure lines: $(cat "$ERR")"
	expect_grep "$ERR" "by ${PY_URL}ok"
	[ "$took" -le 30 ] || fail "hang+ok: ingest took ${took}s with KURA_TSA_TIMEOUT=$HANG_TIMEOUT"
	expect_all_valid H2 2
}
run_case "a TSA that never answers, then a good one" hang_then_good

# ------------------------------------------------------------------ case 5: a TSA stopped half-way (tsa serve --store)
expect_status 0 kura init TS # a store whose embedded TSA is served
start_server kserve2 "$KURA_BIN" tsa serve --store "$T/TS" --listen 127.0.0.1:0
S_URL=$SERVER_URL
S_PID=$SERVER_PID

stopped_halfway()
{
	expect_status 0 kura init S6 --tsa-url "$S_URL"
	kura tsa ca TS >ts-ca.pem
	expect_status 0 kura trust add S6 --tsa ts-ca.pem
	expect_status 0 kura ingest S6 doc1.txt doc2.txt
	cp "$OUT" s6a.ids
	expect_all_valid S6 2
	local id
	id=$(head -n 1 s6a.ids | cut -f1)
	expect_status 0 kura evidence S6 "$id" -o s6.ers
	# stop it; wait for its "TSA stopped" (the process is not this subshell's child)
	kill -TERM "$S_PID"
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q 'TSA stopped' kserve2.err && break
		sleep 0.1
	done
	grep -q 'TSA stopped' kserve2.err || fail "kura tsa serve did not stop within 10 s of SIGTERM"
	if grep -q 'AddressSanitizer\|runtime error\|LeakSanitizer' kserve2.err; then
		fail "kura tsa serve: sanitizer report: $(head -c 800 kserve2.err)"
	fi
	local d0
	d0=$(seg_digest S6)
	expect_status 3 kura ingest S6 doc3.txt
	[ "$(wc -l <"$OUT")" -eq 1 ] || fail "stopped TSA: ingest must print the stored object: $(cat "$OUT")"
	local id3
	id3=$(ids_of)
	expect_grep "$ERR" "not time-stamped"
	[ "$(tsa_failures "$ERR" "$S_URL" | wc -l)" -eq 2 ] || fail "stopped TSA: expected 2 failure lines: $(cat "$ERR")"
	[ "$(seg_digest S6)" != "$d0" ] || fail "stopped TSA: the object was not stored"
	[ "$(seal_records S6)" -eq 1 ] || fail "stopped TSA: expected still exactly one seal record, found $(seal_records S6)"
	# earlier evidence still verifies; the new object is pending
	expect_status 1 kura verify S6 --json
	py '
rows = {r["id"]: r for r in map(json.loads, open(sys.argv[1]))}
new = sys.argv[2]
if len(rows) != 3:
    sys.exit("expected 3 objects, got %d" % len(rows))
for i, r in rows.items():
    want = "indeterminate" if i == new else "valid"
    if r["verdict"] != want:
        sys.exit("%s: verdict %s, expected %s: %s" % (i, r["verdict"], want, json.dumps(r)[:400]))
' "$OUT" "$id3" || fail "stopped TSA: verify"
	expect_status 0 kura verify S6 "$id"
	expect_status 0 kura verify-er --data doc1.txt --er s6.ers --trust ts-ca.pem --json
	verdict_is valid
	expect_status 3 kura seal S6
	# another TSA takes over: the pending object is sealed, the old evidence stays valid
	expect_status 0 kura tsa urls S6 --set "$K_URL"
	expect_status 0 kura trust add S6 --tsa tsadir/anchors.pem
	expect_status 0 kura seal S6
	expect_grep "$ERR" "sealed 1 object(s)"
	expect_grep "$ERR" "by $K_URL"
	expect_all_valid S6 3
}
run_case "TSA stopped half-way" stopped_halfway

# kura tsa serve --dir stops cleanly on SIGTERM too
kill -TERM "$K_PID" 2>/dev/null || true
for ((i = 0; i < 100; i++)); do
	grep -q 'TSA stopped' kserve.err && break
	sleep 0.1
done
grep -q 'TSA stopped' kserve.err || _FAILED_CASES+=("tsa serve --dir did not stop on SIGTERM")
st=0
wait "$K_PID" || st=$?
[ "$st" -eq 0 ] || _FAILED_CASES+=("tsa serve --dir exited $st on SIGTERM")
! grep -q 'AddressSanitizer\|runtime error\|LeakSanitizer' kserve.err ||
	_FAILED_CASES+=("tsa serve --dir: sanitizer report: $(head -c 400 kserve.err)")

finish_cases
