#!/usr/bin/env bash
# kura serve --client-ca: client certificates instead of (or with) bearer tokens, over real
# TLS (curl --cert). A certificate issued by the CA and bound to an account (kura user cert)
# signs in as that account, and its role still limits it (403); a certificate of another CA,
# an expired one, one not meant for TLS clients, an unbound one and a bearer token of
# another account are refused 401, each audited with the certificate's SHA-256. Binding is
# an audit record and shows in `kura user ls`; --client-ca without TLS is refused.
source "$(dirname "$0")/serve_lib.sh"

# ------------------------------------------------------------------ certificates (openssl)
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null || fail "openssl genpkey $1"; }
# ca NAME: a self-signed CA
ca()
{
	key "$1"
	openssl req -x509 -key "$1.key" -days 30 -subj "/O=Firm/CN=$1" -out "$1.pem" 2>/dev/null || fail "openssl req $1"
}
# client NAME CA [EXTENSION]: a client certificate issued by CA for 10 days
client()
{
	key "$1"
	openssl req -new -key "$1.key" -subj "/O=Firm/CN=$1" -out "$1.csr" 2>/dev/null || fail "openssl req -new $1"
	echo "extendedKeyUsage=${3:-clientAuth}" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -days 10 -extfile "$1.ext" -out "$1.pem" 2>/dev/null ||
		fail "openssl x509 -req $1"
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout tls.key -out tls.pem 2>/dev/null || fail "openssl req (server)"
ca clientca
ca otherca
client dms clientca
client reader clientca
client stranger clientca
client intruder otherca
client server-only clientca serverAuth
# an expired certificate: openssl ca is the tool that sets past dates
key expired
openssl req -new -key expired.key -subj "/O=Firm/CN=expired" -out expired.csr 2>/dev/null || fail "openssl req expired"
mkdir cadb
: >cadb/index.txt
printf '[ca]\ndefault_ca = c\n[c]\ndatabase = cadb/index.txt\nserial = cadb/serial\nnew_certs_dir = cadb\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n' >ca.cnf
echo 01 >cadb/serial
openssl ca -batch -config ca.cnf -cert clientca.pem -keyfile clientca.key -in expired.csr -out expired.pem \
	-startdate 20200101000000Z -enddate 20210101000000Z -notext 2>/dev/null || fail "openssl ca (expired)"
fp() { openssl x509 -in "$1.pem" -outform DER | sha256sum | cut -d' ' -f1; }

# ------------------------------------------------------------------ binding (kura user cert)
kura init s >/dev/null 2>&1 || fail init
DMS_TOKEN=$(kura user add s dms --role archivist 2>/dev/null) || fail "user add dms"
READER_TOKEN=$(kura user add s reader --role auditor --collection trialA 2>/dev/null) || fail "user add reader"
kura user add s ops --role admin >/dev/null 2>&1 || fail "user add ops"
expect_status 0 kura user cert s dms dms.pem --actor 管理者
[ "$(cat "$OUT")" = "$(fp dms)" ] || fail "user cert printed $(cat "$OUT"), not the certificate's SHA-256 $(fp dms)"
kura user add s expired --role archivist >/dev/null 2>&1 || fail "user add expired"
kura user add s server-only --role archivist >/dev/null 2>&1 || fail "user add server-only"
for who in reader expired server-only; do
	expect_status 0 kura user cert s "$who" "$who.pem"
done
expect_status 0 kura user cert s ops intruder.pem # bound, but of a CA the service does not trust
expect_status 0 kura user ls s
grep -qF "$(printf 'dms\tarchivist\tall\t')" "$OUT" || fail "ls: $(cat "$OUT")"
grep -q "^dms	.*	$(fp dms)	CN=dms,O=Firm\$" "$OUT" || fail "ls shows no certificate for dms: $(cat "$OUT")"
expect_status 0 kura user ls s --json
py "import json; a={u['name']: u for u in json.load(open('$OUT'))}; assert a['dms']['certificate']=={'sha256': '$(fp dms)', 'subject': 'CN=dms,O=Firm'}, a; assert 'certificate' not in a.get('stranger', {}), a"
# refusals, nothing written
cp s/users.json before.json
expect_error 2 kura user cert s reader dms.pem
expect_grep "$ERR" "bound to account 'dms'"
expect_error 1 kura user cert s nobody stranger.pem
expect_grep "$ERR" "kura user ls"
expect_error 2 kura user cert s reader dms.key
expect_grep "$ERR" "no PEM certificate"
expect_error 2 kura user cert s reader missing.pem
cmp -s before.json s/users.json || fail "a refused user cert changed users.json"

# ------------------------------------------------------------------ the service
expect_error 2 kura serve s --listen 127.0.0.1:0 --client-ca clientca.pem
expect_grep "$ERR" "needs TLS"
# (under timeout: a service that took it would run on)
expect_error 2 timeout 20 "$KURA_BIN" serve s --listen 127.0.0.1:0 --tls-cert tls.pem --tls-key tls.key --client-ca dms.key
expect_grep "$ERR" "client CA dms.key holds no PEM certificate"
start_serve srv "" 127.0.0.1:0 s --tls-cert tls.pem --tls-key tls.key --client-ca clientca.pem
API=${SERVER_URL}api/v1

# call CERT TOKEN METHOD PATH [curl args...]: CERT "" for none; body in $OUT, status in $CODE
call()
{
	local cert=$1 tok=$2 method=$3 path=$4
	shift 4
	CODE=$(curl -s --cacert tls.pem -o "$OUT" -w '%{http_code}' -X "$method" ${cert:+--cert "$cert.pem" --key "$cert.key"} \
		${tok:+-H "Authorization: Bearer $tok"} "$@" "$API/$path")
}

call dms "" GET RetrieveInfo
expect_code 200 "a bound certificate without a token"
py "import json; d=json.load(open('$OUT')); assert d['account']=='dms', d"
echo "invoice 1" >inv.txt
call dms "" POST "PreservePO?name=inv.txt&meta=collection=trialA" --data-binary @inv.txt
expect_code 201 "PreservePO with a certificate"
ID=$(py "import json; print(json.load(open('$OUT'))['poId'][0])")
call dms "$DMS_TOKEN" GET "po/$ID"
expect_code 200 "a certificate and the same account's token"
cmp -s "$OUT" inv.txt || fail "the bytes read back differ"
call reader "" GET "po/$ID"
expect_code 200 "an auditor's certificate reading"
call reader "" POST "PreservePO?name=x.txt" --data-binary @inv.txt
expect_code 403 "an auditor's certificate submitting"
call "" "$READER_TOKEN" GET "po/$ID"
expect_code 200 "a token alone still works"

# refused: 401 whatever else the request carries
call dms "$READER_TOKEN" GET "po/$ID"
expect_code 401 "a certificate and another account's token"
expect_grep "$OUT" "not the account of the client certificate"
call stranger "" GET "po/$ID"
expect_code 401 "an unbound certificate"
expect_grep "$OUT" "kura user cert"
call stranger "$DMS_TOKEN" GET "po/$ID"
expect_code 401 "an unbound certificate with a good token"
call intruder "" GET "po/$ID"
expect_code 401 "a certificate of another CA (bound to ops)"
call expired "" GET "po/$ID"
expect_code 401 "an expired certificate"
expect_grep "$OUT" "expired"
call server-only "" GET "po/$ID"
expect_code 401 "a certificate not meant for TLS clients"
call "" "" GET "po/$ID"
expect_code 401 "neither a certificate nor a token"
CODE=$(curl -s --cacert tls.pem -o "$OUT" -w '%{http_code}' --cert stranger.pem --key stranger.key "${SERVER_URL}health")
expect_code 200 "health needs no account"
stop_server "$SERVER_PID"

# the audit trail: the account and the certificate of every request, refusals included
expect_status 0 kura log s --json
py "
import json
recs = [r for r in json.load(open('$OUT')) if r.get('action') == 'api']
got = [(r['actor'], r['status'], r.get('certificate', '-')) for r in recs]
want = [('dms', 200, '$(fp dms)'), ('dms', 201, '$(fp dms)'), ('dms', 200, '$(fp dms)'),
        ('reader', 200, '$(fp reader)'), ('reader', 403, '$(fp reader)'), ('reader', 200, '-'),
        ('anonymous', 401, '$(fp dms)'), ('anonymous', 401, '$(fp stranger)'), ('anonymous', 401, '$(fp stranger)'),
        ('anonymous', 401, '$(fp intruder)'), ('anonymous', 401, '$(fp expired)'), ('anonymous', 401, '$(fp server-only)'),
        ('anonymous', 401, '-')]
assert got == want, got
binds = [(r['name'], r['actor'], r['cert_sha256']) for r in json.load(open('$OUT')) if r.get('action') == 'user-cert']
assert binds[0] == ('dms', '管理者', '$(fp dms)'), binds
"
expect_status 0 kura show s "$ID" --json
py "import json; d=json.load(open('$OUT')); assert d['actor']=='dms', d"
if grep -q "Sanitizer" srv.err; then fail "the service stopped with a sanitizer's report: $(grep -A12 Sanitizer srv.err | head -30)"; fi
expect_grep srv.err "service stopped"
for tok in "$DMS_TOKEN" "$READER_TOKEN"; do
	if grep -rqF -- "${tok#kura_}" srv.err s; then fail "a token was written down"; fi
done
