#!/usr/bin/env bash
# kura serve: the preservation service over real HTTP (curl). Every /api/ request needs an
# account's token (401 without, audited as anonymous) and a role that allows it (403,
# audited); an account limited to a collection sees nothing else (by ID or by search);
# malformed and oversized bodies and path tricks get clear errors; a document submitted
# over the API verifies with kura verify-er once sealed; tokens appear in no log; a kill -9
# during submissions loses no acknowledged document; idle connections stop no one.
source "$(dirname "$0")/serve_lib.sh"

kura init s >/dev/null 2>&1 || fail init
kura field add s amount amount >/dev/null 2>&1 || fail "field add"
add_user() { kura user add s "$@" 2>/dev/null || fail "user add $*"; }
ARCH=$(add_user 記録係 --role archivist)
AUD=$(add_user aud --role auditor --collection trialA)
APPR=$(add_user appr --role approver)
ADMIN=$(add_user admin --role admin)

start_serve srv "" 127.0.0.1:0 s --max-body 100000
API=${SERVER_URL}api/v1

# call TOKEN METHOD PATH [curl args...]: body in $OUT, status in $CODE
call()
{
	local tok=$1 method=$2 path=$3
	shift 3
	CODE=$(curl -s -o "$OUT" -w '%{http_code}' -X "$method" ${tok:+-H "Authorization: Bearer $tok"} "$@" "$API/$path")
}

CODE=$(curl -s -o "$OUT" -w '%{http_code}' "${SERVER_URL}health")
expect_code 200 "health without a token"

# 401: no token, a wrong one, a token of another store's kind
call "" GET RetrieveInfo
expect_code 401 "no token"
expect_grep "$OUT" "kura user add"
call "kura_$(printf '0%.0s' {1..64})" GET RetrieveInfo
expect_code 401 "a wrong token"
call "$AUD" GET RetrieveInfo
expect_code 200 "RetrieveInfo"
py "import json; d=json.load(open('$OUT')); assert d['account']=='aud' and 'PreservePO' in d['operations'] and {'name': 'amount', 'type': 'amount'} in d['fields'], d"

# PreservePO: the document itself, named and with metadata in the query
echo "trial A data" >a.txt
call "$ARCH" POST "PreservePO?name=%E5%8F%B0%E5%B8%B3.csv&meta=collection=trialA&meta=amount=120000" --data-binary @a.txt
expect_code 201 "PreservePO"
ID_A=$(py "import json; print(json.load(open('$OUT'))['poId'][0])")
echo "trial B data" >b.txt
call "$ARCH" POST "PreservePO?name=b.txt&meta=collection=trialB&meta=amount=500000" --data-binary @b.txt
expect_code 201 "PreservePO into trialB"
ID_B=$(py "import json; print(json.load(open('$OUT'))['poId'][0])")
# ...and as JSON, two at once
B64=$(printf 'first' | base64)
printf '{"po": [{"binaryValue": "%s", "name": "one.txt", "meta": {"collection": "trialA"}}, {"binaryValue": "%s", "name": "two.txt"}]}' \
	"$B64" "$(printf 'second!' | base64)" >two.json
call "$ARCH" POST PreservePO -H 'Content-Type: application/json' --data-binary @two.json
expect_code 201 "PreservePO as JSON"
py "import json; d=json.load(open('$OUT')); assert len(d['poId'])==2, d"
ID_ONE=$(py "import json; print(json.load(open('$OUT'))['poId'][0])")

# refused submissions store nothing
call "$ARCH" POST PreservePO -H 'Content-Type: application/json' --data-binary '{"po": [{"name": "x"'
expect_code 400 "malformed JSON"
call "$ARCH" POST PreservePO -H 'Content-Type: application/json' --data-binary '{"po": [{"binaryValue": "@@@@", "name": "x"}]}'
expect_code 400 "bad base64"
call "$ARCH" POST "PreservePO?name=n.txt&meta=amount=lots" --data-binary @a.txt
expect_code 400 "an amount that is not one"
expect_grep "$OUT" "amount"
head -c 200000 /dev/zero >big
call "$ARCH" POST "PreservePO?name=big" --data-binary @big
expect_code 413 "a body over --max-body"
call "$ARCH" POST "PreservePO" --data-binary @a.txt
expect_code 400 "no name"

# 403 for each role's forbidden work
call "$AUD" POST "PreservePO?name=x" --data-binary @a.txt
expect_code 403 "an auditor submitting"
call "$ADMIN" POST "PreservePO?name=x" --data-binary @a.txt
expect_code 403 "an admin submitting"
call "$AUD" POST "PreservePO?name=x" --data-binary @a.txt
call "$APPR" POST Search --data-binary '{"where": ["amount>=0"]}'
expect_code 200 "an approver searching"

# an auditor of trialA: its objects only, by ID and by search
call "$AUD" GET "po/$ID_A"
expect_code 200 "the auditor reads a trialA document"
cmp -s "$OUT" a.txt || fail "the bytes read back differ"
call "$AUD" GET "po/$ID_B"
expect_code 404 "the auditor reads a trialB document"
call "$AUD" GET "po/$ID_B/info"
expect_code 404 "the auditor describes a trialB document"
call "$AUD" POST Search --data-binary '{"where": ["amount>=100000"]}'
expect_code 200 "search"
py "import json; d=json.load(open('$OUT')); assert d['poId']==['$ID_A'], d"
call "$ARCH" POST Search --data-binary '{"where": ["amount>=100000"]}'
py "import json; d=json.load(open('$OUT')); assert d['poId']==['$ID_A','$ID_B'], d"
call "$AUD" POST Search --data-binary '{"where": ["amount>>1"]}'
expect_code 400 "a bad condition"
call "$AUD" GET "po/$ID_ONE/info"
expect_code 200 "describe"
py "import json; d=json.load(open('$OUT')); assert d['name']=='one.txt' and d['meta']['collection']=='trialA', d"
call "$AUD" GET "po/$ID_A/info"
py "import json; d=json.load(open('$OUT')); assert d['actor']=='記録係', d  # the submitter, not whoever asked last"

# the OpenAPI description: valid JSON, and every operation it names is one the service has
call "$AUD" GET openapi.json
expect_code 200 "openapi.json"
py "
import json, urllib.request, urllib.error
spec = json.load(open('$OUT'))
assert spec['openapi'].startswith('3.'), spec['openapi']
n = 0
for path, ops in spec['paths'].items():
    for method in ops:
        url = '$SERVER_URL'.rstrip('/') + path.replace('{id}', '$ID_A')
        req = urllib.request.Request(url, method=method.upper(), data=b'' if method == 'post' else None,
                                     headers={'Authorization': 'Bearer $ARCH'})
        try:
            code, body = urllib.request.urlopen(req).status, b''
        except urllib.error.HTTPError as e:
            code, body = e.code, e.read()
        assert code != 405 and b'no such operation' not in body, (method, path, code, body)
        n += 1
assert n >= 10, n
"
# ...and every route of the service's table (server/service.c) is in it
py "
import json, re
spec = json.load(open('$OUT'))
src = open('$HERE/../../server/service.c').read()
table = src[src.index('routes[] = {'):]
table = table[:table.index('};')]
routes = re.findall(r'\{\"(GET|POST)\", (API )?\"([^\"]*)\", (NULL|\"([^\"]*)\")', table)
assert len(routes) >= 15, routes
for method, api, path, suffix, text in routes:
    p = ('/api/v1/' if api else '') + path + ('' if suffix == 'NULL' else '{id}' + text)
    assert method.lower() in spec['paths'].get(p, {}), ('not in openapi.json', method, p)
"

# path tricks and unknown routes
for p in "po/../../../etc/passwd" "po/${ID_A}x" "po/${ID_A:0:25}" "po/%2e%2e%2fconfig.json" "po/$ID_A/../$ID_B"; do
	call "$ARCH" GET "$p" --path-as-is
	[ "$CODE" = 404 ] || fail "GET $p: expected 404, got $CODE: $(head -c 200 "$OUT")"
done
call "" GET "$(printf 'x%.0s' {1..20000})"
expect_code 401 "a 20,000-byte path without a token"
call "" GET "po/%FF%0A%E5%B1"
expect_code 401 "a path that is not UTF-8, with a newline"
call "$ARCH" DELETE "po/$ID_A"
expect_code 405 "DELETE (not an operation yet)"

# evidence: none before the seal; after it, a record verify-er accepts
call "$AUD" GET "po/$ID_A/evidence"
expect_code 404 "evidence before the seal"
expect_grep "$OUT" "not sealed yet"
# idle connections stop no one
py "
import socket, time
socks = [socket.create_connection(('127.0.0.1', $SERVER_PORT)) for _ in range(200)]
open('idle.ok', 'w').write('%d' % len(socks))
time.sleep(3)
" &
idle=$!
sleep 1
call "$AUD" GET "po/$ID_A"
expect_code 200 "a request while 200 connections idle"
wait $idle
stop_server "$SERVER_PID"
expect_status 0 kura seal s
start_serve srv2 "" 127.0.0.1:0 s
API=${SERVER_URL}api/v1
call "$AUD" GET "po/$ID_A/evidence"
expect_code 200 "evidence after the seal"
cp "$OUT" a.ers
expect_status 0 kura verify-er --data a.txt --er a.ers --trust s/tsa/anchors.pem --json
py "import json; d=json.load(open('$OUT')); assert d['verdict']=='valid', d"

# RetrieveTrace: versions and audit records, for what the account sees
call "$AUD" GET "po/$ID_A/trace"
expect_code 200 "RetrieveTrace"
py "import json; d=json.load(open('$OUT')); assert d['current']=='$ID_A' and [v['id'] for v in d['versions']]==['$ID_A'], d"
call "$AUD" GET "po/$ID_B/trace"
expect_code 404 "RetrieveTrace of another collection's object"

# ValidateEvidence: data and a record in, the report out (the store's TSA roots)
validate() { printf '{"data": "%s", "evidenceRecord": "%s"}' "$(base64 -w0 "$1")" "$(base64 -w0 "$2")" >v.json; }
validate a.txt a.ers
call "$AUD" POST ValidateEvidence --data-binary @v.json
expect_code 200 "ValidateEvidence"
py "import json; d=json.load(open('$OUT')); assert d['verdict']=='valid', d"
printf 'trial A dat4\n' >a2.txt
validate a2.txt a.ers
call "$AUD" POST ValidateEvidence --data-binary @v.json
expect_code 200 "ValidateEvidence of other data"
py "import json; d=json.load(open('$OUT')); assert d['verdict']!='valid', d"
call "$AUD" POST ValidateEvidence --data-binary '{"data": "@@", "evidenceRecord": "AAAA"}'
expect_code 400 "ValidateEvidence with bad base64"
call "$ADMIN" POST ValidateEvidence --data-binary @v.json
expect_code 403 "an admin validating"

# the audit trail: every request with its account, refusals included; no token anywhere
stop_server "$SERVER_PID"
expect_status 0 kura log s --json
py "
import json
recs = [r for r in json.load(open('$OUT')) if r.get('action') == 'api']
got = [(r['actor'], r['method'], r['path'].split('?')[0], r['status']) for r in recs]
assert ('anonymous', 'GET', '/api/v1/RetrieveInfo', 401) in got, got
assert ('aud', 'POST', '/api/v1/PreservePO', 403) in got, got
assert ('記録係', 'POST', '/api/v1/PreservePO', 413) in got, got
assert ('aud', 'GET', '/api/v1/po/$ID_B', 404) in got, got
assert any(r.get('object') == '$ID_A' and r['status'] == 200 for r in recs), recs
assert all('?' not in r['path'] for r in recs), [r['path'] for r in recs]
assert max(len(r['path'].encode()) for r in recs) == 1024, 'a long path is cut to 1,024 bytes'
assert '/api/v1/po/\\\\xFF\\\\n\\\\xE5\\\\xB1' in [r['path'] for r in recs], [r['path'] for r in recs if 'po/' in r['path']][-3:]

"
for f in srv.err srv2.err; do
	if grep -q "Sanitizer" "$f"; then fail "the service stopped with a sanitizer's report: $(grep -A12 Sanitizer "$f" | head -30)"; fi
	expect_grep "$f" "service stopped"
done
expect_grep srv.err 'GET /api/v1/po/\xFF\n\xE5\xB1 401 anonymous' # one line: a path cannot forge log lines
for tok in "$ARCH" "$AUD" "$APPR" "$ADMIN"; do
	if grep -rqF -- "${tok#kura_}" srv.err srv2.err s "$OUT"; then fail "a token was written down"; fi
done

# the service seals by itself (--seal-every), and PreservePO?wait=sealed answers once sealed
start_serve srv4 "" 127.0.0.1:0 s --seal-every 1
API=${SERVER_URL}api/v1
echo "sealed soon" >c.txt
call "$ARCH" POST "PreservePO?name=c.txt" --data-binary @c.txt
expect_code 201 "PreservePO before a round"
ID_C=$(py "import json; print(json.load(open('$OUT'))['poId'][0])")
for ((i = 0; i < 100; i++)); do
	call "$ARCH" GET "po/$ID_C/evidence"
	[ "$CODE" = 200 ] && break
	sleep 0.1
done
expect_code 200 "evidence within 10 s of a service sealing every second"
call "$ARCH" POST "PreservePO?name=d.txt&wait=sealed" --data-binary @a.txt
expect_code 201 "PreservePO?wait=sealed"
py "import json; d=json.load(open('$OUT')); assert d['sealed'] is True and 'sealError' not in d, d"
ID_D=$(py "import json; print(json.load(open('$OUT'))['poId'][0])")
call "$ARCH" GET "po/$ID_D/evidence"
expect_code 200 "evidence right after wait=sealed"
stop_server "$SERVER_PID"
expect_status 0 kura log s --json
py "import json; assert any(r.get('actor') == 'kura-service' for r in json.load(open('$OUT'))), 'no seal by the service'"

# TLS: HTTPS with the given certificate; plain HTTP is not answered; a key that is not PEM is refused
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout tls.key -out tls.pem 2>/dev/null || fail "openssl req"
start_serve srv5 "" 127.0.0.1:0 s --tls-cert tls.pem --tls-key tls.key
case $SERVER_URL in https://*) ;; *) fail "kura serve with TLS printed $SERVER_URL" ;; esac
CODE=$(curl -s --cacert tls.pem -o "$OUT" -w '%{http_code}' -H "Authorization: Bearer $AUD" "${SERVER_URL}api/v1/po/$ID_A")
expect_code 200 "a read over HTTPS"
cmp -s "$OUT" a.txt || fail "the bytes read over HTTPS differ"
if curl -s -o /dev/null "http://127.0.0.1:$SERVER_PORT/health"; then fail "plain HTTP was answered on the TLS port"; fi
if curl -s -o /dev/null "${SERVER_URL}health"; then fail "curl trusted an unknown certificate without --cacert"; fi
stop_server "$SERVER_PID"
echo "not a key" >bad.key
expect_error 2 kura serve s --listen 127.0.0.1:0 --tls-cert tls.pem --tls-key bad.key
expect_grep "$ERR" "not PEM"
expect_error 2 kura serve s --listen 127.0.0.1:0 --tls-cert tls.pem

# kill -9 during submissions: every acknowledged document is there
start_serve srv3 "" 127.0.0.1:0 s
API=${SERVER_URL}api/v1
for i in $(seq 1 200); do
	echo "doc $i" >"d$i"
	c=$(curl -s -o "r$i" -w '%{http_code}' -H "Authorization: Bearer $ARCH" --data-binary @"d$i" "$API/PreservePO?name=d$i") || break
	[ "$c" = 201 ] && echo "$i $(py "import json; print(json.load(open('r$i'))['poId'][0])")" >>acked
	[ "$i" = 40 ] && kill -9 "$SERVER_PID"
done
[ "$(wc -l <acked)" -ge 40 ] || fail "only $(wc -l <acked) submissions acknowledged before the kill"
while read -r i id; do
	kura get s "$id" -o "got$i" >/dev/null 2>&1 || fail "acknowledged document $i ($id) is gone after kill -9"
	cmp -s "got$i" "d$i" || fail "acknowledged document $i came back different"
done <acked
