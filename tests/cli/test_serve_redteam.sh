#!/usr/bin/env bash
# kura serve attacked by a client with a low-privilege account or none (docs/SERVICE.md,
# "Security notes"). Each case is one the service got wrong once:
# - an account limited to a collection released another collection's legal hold, and an
#   approver limited to one approved or refused another collection's disposal request;
# - an auditor limited to a collection read another collection's record IDs in the audit
#   records of its own record's trace (an event or hold over records of both);
# - an archivist limited to a collection changed (new versions, holds) a record re-filed into
#   another collection, through the ID of the record's version still in its own;
# - a Hold named as another collection's hold told a limited account who placed it and when;
# - base64 that is not (whitespace, '=' inside the text, non-canonical bits) was stored as other
#   bytes, and a query's metadata beyond 64, after a %00 or without '=' was dropped or cut;
# - a request without an account, or with a role that may not, had its whole body read
#   into memory (up to --max-body, 64 MiB by default, on each of 2,000 connections) before it was refused,
#   and so had a body sent to /health or the web page;
# - an error quoting a client's bytes that are not UTF-8 was an empty 500;
# - a token put in a request's path by mistake went into the log and the audit trail;
# - a body's length given twice (two Content-Lengths, or one with Transfer-Encoding) was
#   taken one way, where a proxy in front could take the other (request smuggling);
# - one client address holding connections open idle could take all of --max-connections;
# - TLS 1.0 and 1.1 handshakes were accepted;
# - a package was made under the store's writer lock: every request waited for it;
# - a package made for an auditor limited to a collection held the audit trail's checkpoints,
#   each with every audit record of its span: another collection's IDs, metadata values and
#   reasons.
source "$(dirname "$0")/serve_lib.sh"

at 2026-01-01T00:00:00Z init s >/dev/null 2>&1 || fail init
echo "ledger A" >la.txt
echo "ledger B" >lb.txt
expect_status 0 at 2026-01-10T00:00:00Z ingest s --class jp-construction-books --meta collection=siteA la.txt
LA=$(cut -f1 "$OUT")
expect_status 0 at 2026-01-10T00:00:00Z ingest s --class jp-construction-books --meta collection=siteB lb.txt
LB=$(cut -f1 "$OUT")
echo "minutes" >lr.txt
expect_status 0 at 2026-01-10T00:00:00Z ingest s --meta collection=siteA lr.txt
LR=$(cut -f1 "$OUT")
user() { at 2026-01-05T00:00:00Z user add s "$@" 2>/dev/null || fail "user add $*"; }
ARCH=$(user arch --role archivist)
ARCH_A=$(user arch-a --role archivist --collection siteA)
APPR_A=$(user appr-a --role approver --collection siteA)
AUD_A=$(user aud-a --role auditor --collection siteA)
AUD=$(user aud --role auditor)

call()
{
	local tok=$1 path=$2 body=$3
	CODE=$(curl -s -o "$OUT" -w '%{http_code}' ${tok:+-H "Authorization: Bearer $tok"} -H 'Content-Type: application/json' \
		--data-binary "$body" "$API/$path")
}

# ---- records management across collections
start_serve srv 2026-02-01T00:00:00Z 127.0.0.1:0 s
API=${SERVER_URL}api/v1
call "$ARCH" Event "{\"name\": \"handover\", \"date\": \"2026-01-31\", \"poId\": [\"$LA\", \"$LB\"], \"reason\": \"x\"}"
expect_code 201 "the handover event"
# the event's audit record names both sites' records: siteA's auditor sees only its own
CODE=$(curl -s -o "$OUT" -w '%{http_code}' -H "Authorization: Bearer $AUD_A" "$API/po/$LA/trace")
expect_code 200 "siteA's auditor reading its record's trace"
expect_grep "$OUT" handover
grep -q "$LB" "$OUT" && fail "siteA's auditor sees siteB's record $LB in a trace: $(cat "$OUT")"
# a record re-filed from siteA to siteB: siteA's archivist may not change it through its old version's ID
call "$ARCH" UpdatePOC "{\"poId\": \"$LR\", \"meta\": {\"collection\": \"siteB\"}, \"reason\": \"re-filed\"}"
expect_code 201 "re-filing a record to siteB"
LR2=$(py "import json; print(json.load(open('$OUT'))['poId'][0])")
call "$ARCH_A" UpdatePOC "{\"poId\": \"$LR\", \"meta\": {\"note\": \"from A\"}, \"reason\": \"x\"}"
expect_code 404 "siteA's archivist changing the metadata of a record now in siteB"
call "$ARCH_A" UpdatePOC "{\"poId\": \"$LR\", \"binaryValue\": \"$(printf 'A' | base64)\", \"reason\": \"x\"}"
expect_code 404 "siteA's archivist making a new version of a record now in siteB"
call "$ARCH_A" Hold "{\"name\": \"a-hold\", \"poId\": [\"$LR\"], \"reason\": \"x\"}"
expect_code 404 "siteA's archivist holding a record now in siteB"
CODE=$(curl -s -o "$OUT" -w '%{http_code}' -H "Authorization: Bearer $AUD_A" "$API/po/$LR/trace")
expect_code 200 "siteA's auditor reading the trace of the record's version in siteA"
grep -q "$LR2" "$OUT" && fail "siteA's auditor sees the record's version $LR2 in siteB: $(cat "$OUT")"
CODE=$(curl -s -o "$OUT" -w '%{http_code}' -H "Authorization: Bearer $AUD_A" "$API/po/$LR/report?format=html")
expect_code 200 "siteA's auditor reading the report of the record's version in siteA"
expect_grep "$OUT" "$LR"
grep -q "$LR2" "$OUT" && fail "siteA's auditor sees the record's version $LR2 in siteB in a report"
call "$ARCH" Hold "{\"name\": \"court-B\", \"poId\": [\"$LB\"], \"reason\": \"litigation at site B\"}"
expect_code 201 "a hold on siteB's record"
call "$ARCH_A" HoldRelease '{"name": "court-B", "reason": "not mine"}'
expect_code 404 "an archivist of siteA releasing siteB's hold"
cp "$OUT" release.other
call "$ARCH_A" HoldRelease '{"name": "no-such-hold", "reason": "probe"}'
expect_code 404 "an archivist of siteA releasing a hold that does not exist"
py "
import json
a, b = json.load(open('release.other'))['error'], json.load(open('$OUT'))['error']
assert a.replace('court-B', 'X') == b.replace('no-such-hold', 'X'), (a, b)  # the same answer: existence not said
assert '$T' not in a, a
"
# a hold over siteB's record is not found to siteA's archivist: taking its name again says only
# that the name is taken (it said "active already (placed TIME by arch)")
call "$ARCH_A" Hold "{\"name\": \"court-B\", \"poId\": [\"$LA\"], \"reason\": \"probe\"}"
expect_code 409 "an archivist of siteA placing a hold named as siteB's"
py "
e = json.load(open('$OUT'))['error']
assert 'court-B' in e and 'taken' in e, e
for leak in ('placed', 'arch', '2026', '$LB', 'litigation'):
    assert leak not in e, (leak, e)
"

# base64 is taken strictly (RFC 4648): what EVP_DecodeBlock let through stored other bytes
# ("aGk=    " stored "hi\0", "aGk=aGk=" "hi\0hi", "YQ==YQ==" "a\0\0a")
for b64 in 'aGk=    ' 'aGk=aGk=' 'YQ==YQ==' 'aGk=\n\n\n\n' 'YR==' 'aG*='; do
	call "$ARCH" PreservePO "{\"po\": [{\"binaryValue\": \"$b64\", \"name\": \"b64.txt\", \"meta\": {\"collection\": \"siteA\"}}]}"
	expect_code 400 "PreservePO of binaryValue '$b64'"
	expect_grep "$OUT" 'po[0].binaryValue is not base64'
	call "$ARCH" UpdatePOC "{\"poId\": \"$LA\", \"binaryValue\": \"$b64\", \"reason\": \"x\"}"
	expect_code 400 "UpdatePOC of binaryValue '$b64'"
	expect_grep "$OUT" 'binaryValue is not base64'
	call "$ARCH" ValidateEvidence "{\"data\": \"$b64\", \"evidenceRecord\": \"MAA=\"}"
	expect_code 400 "ValidateEvidence of data '$b64'"
	expect_grep "$OUT" 'data is not base64'
done
call "$ARCH" PreservePO "{\"po\": [{\"binaryValue\": \"aGk=\", \"name\": \"b64.txt\", \"meta\": {\"collection\": \"siteA\"},
	\"signature\": \"MAA=MAA=\"}]}"
expect_code 400 "PreservePO of a signature in bad base64"
expect_grep "$OUT" 'po[0].signature is not base64'
call "$ARCH" PreservePO '{"po": [{"binaryValue": "aGk=", "name": "hi.txt", "meta": {"collection": "siteA"}}]}'
expect_code 201 "PreservePO of canonical base64"
HI=$(py "print(json.load(open('$OUT'))['poId'][0])")
CODE=$(curl -s -o "$OUT" -w '%{http_code}' -H "Authorization: Bearer $ARCH" "$API/po/$HI")
expect_code 200 "reading back what was sent in base64"
[ "$(od -An -c "$OUT" | tr -d ' ')" = hi ] || fail "\"aGk=\" was stored as: $(od -An -c "$OUT")"

# a query is taken as the JSON form is: nothing dropped or cut (70 metadata stored 64, %00 cut
# a value or name, a meta without '=' and an empty name were taken, each answered 201)
query() { CODE=$(curl -s -o "$OUT" -w '%{http_code}' -H "Authorization: Bearer $1" --data-binary x "$API/$2"); }
many=$(for i in $(seq 1 70); do printf '&meta=k%d=v' "$i"; done)
sixty4=$(for i in $(seq 1 64); do printf '&meta=k%d=v' "$i"; done)
for q in "name=m.txt&meta=collection=siteA$many:more than 64" "name=m.txt&meta=collection=siteA&meta=k=a%00b:NUL" \
	"name=m.txt&meta=collection=siteA&meta=k%00x=a:NUL" "name=x%00y&meta=collection=siteA:NUL" \
	"name=m.txt&meta=collection=siteA&meta=novalue:has no '='" "name=&meta=collection=siteA:name= is empty" \
	"name=m.txt&name=n.txt&meta=collection=siteA:name= is given 2 times"; do
	query "$ARCH" "PreservePO?${q%%:*}"
	expect_code 400 "PreservePO?${q:0:60}"
	expect_grep "$OUT" "${q##*:}"
	query "$ARCH" "UpdatePOC?poId=$LA&reason=x&${q%%:*}"
	expect_code 400 "UpdatePOC?${q:0:60}"
	expect_grep "$OUT" "${q##*:}"
done
# the same for the retention of a new document and the reason of a new version (a class or an
# event cut at %00, or the first of two taken, was stored)
c=jp-construction-books
for q in "class=$c%00x:class=$c... holds a NUL" "class=$c&class=other:class= is given 2 times" "class=:class= is empty" \
	"class=$c&event=handover=2026-01-31%00x:events are NAME=DATE"; do
	query "$ARCH" "PreservePO?name=m.txt&meta=collection=siteA&${q%%:*}"
	expect_code 400 "PreservePO?${q:0:60}"
	expect_grep "$OUT" "${q##*:}"
done
for q in "reason=x%00y:reason=x... holds a NUL" "reason=x&reason=y:reason= is given 2 times"; do
	query "$ARCH" "UpdatePOC?poId=$LA&name=m.txt&${q%%:*}"
	expect_code 400 "UpdatePOC?${q:0:60}"
	expect_grep "$OUT" "${q##*:}"
done
query "$ARCH_A" "PreservePO?name=m.txt$sixty4&meta=collection=siteA" # collection the 65th: it was a 403
expect_code 400 "siteA's archivist giving its collection as the 65th metadata"
expect_grep "$OUT" "more than 64"
query "$ARCH_A" "PreservePO?name=m.txt&meta=collection=siteA&meta=k=a%3Db${sixty4#&meta=k1=v&meta=k2=v}"
expect_code 201 "siteA's archivist giving 64 metadata"
expect_status 0 kura show s "$(py "print(json.load(open('$OUT'))['poId'][0])")" --json
py "m = json.load(open('$OUT'))['meta']; assert len(m) == 64 and m['k'] == 'a=b' and m['k64'] == 'v', m"

# a refusal quoting bytes that are not UTF-8 is still a clear 400 (it was an empty 500)
CODE=$(curl -s -o "$OUT" -w '%{http_code}' -H "Authorization: Bearer $ARCH" --data-binary x "$API/PreservePO?name=n&meta=%FF=1")
expect_code 400 "a metadata key that is not UTF-8"
expect_grep "$OUT" 'metadata key'

# a token put in the path by mistake is in no log line and no audit record (which are forever)
CODE=$(curl -s -o "$OUT" -w '%{http_code}' -H "Authorization: Bearer $AUD_A" "$API/po/$AUD_A/info")
expect_code 404 "a token in the path"
CODE=$(curl -s -o "$OUT" -w '%{http_code}' "$API/RetrieveInfo/$ARCH")
expect_code 401 "another token in the path, and none in the header"
stop_server "$SERVER_PID"
kura log s --json >trail.json 2>/dev/null || fail "kura log"
for tok in "$AUD_A" "$ARCH"; do
	! grep -q "${tok:5:40}" srv.err trail.json || fail "a token from a request's path is in $(grep -l "${tok:5:40}" srv.err trail.json)"
done
expect_status 0 kura hold ls s --json
py "import json; h=[x for x in json.load(open('$OUT')) if x['name']=='court-B']; assert h and h[0]['state']=='active', h"

# five years on: the hold released by an account that may, then a disposal request of both
start_serve srv2 2031-03-01T00:00:00Z 127.0.0.1:0 s
API=${SERVER_URL}api/v1
call "$ARCH" HoldRelease '{"name": "court-B", "reason": "settled"}'
expect_code 200 "the release by an account of every collection"
call "$ARCH" DeletePO "{\"poId\": [\"$LA\", \"$LB\"], \"reason\": \"retention ended\"}"
expect_code 202 "DeletePO of both sites' records"
REQ=$(py "import json; print(json.load(open('$OUT'))['auditRecord'])")
call "$APPR_A" DisposalApprove "{\"request\": \"$REQ\", \"reason\": \"approve B's too\"}"
expect_code 404 "an approver of siteA approving a request over siteB's record"
call "$APPR_A" DisposalRefuse "{\"request\": \"$REQ\", \"reason\": \"refuse B's\"}"
expect_code 404 "an approver of siteA refusing a request over siteB's record"
call "$ARCH" DeletePO "{\"poId\": [\"$LA\"], \"reason\": \"too\"}"
[ "${CODE:0:1}" = 4 ] || fail "a second request of a requested record: expected 4xx, got $CODE"

# ---- nothing of a body is read before its request is admitted
# raw HTTP: the headers announce a body; the answer must come before any of it is sent
py "
import socket, sys, json
port = int(sys.argv[1])
def ask(head):
    s = socket.create_connection(('127.0.0.1', port))
    s.sendall(head.encode())
    s.settimeout(3)
    try:
        got = s.recv(4096)
    except socket.timeout:
        sys.exit('no answer before the body: ' + head.splitlines()[0])
    s.close()
    return got.split(b' ', 2)[1].decode()
h = 'POST /api/v1/%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n%s\r\n'
allowed = 50000000  # within --max-body (64 MiB by default)
code = ask(h % ('Search', allowed, ''))
assert code == '401', 'anonymous with a body: ' + code
code = ask(h % ('PreservePO?name=x', allowed, 'Authorization: Bearer $AUD_A\r\n'))
assert code == '403', 'an auditor submitting: ' + code
code = ask(h % ('NoSuchOperation', allowed, 'Authorization: Bearer $AUD_A\r\n'))
assert code == '404', 'a body to no operation: ' + code
code = ask(h % ('Search', 100000000, ''))
assert code == '401', 'anonymous with a body over --max-body (a 413 is not counted as a refusal without an account): ' + code
code = ask(h % ('Search', 100000000, 'Authorization: Bearer $AUD_A\r\n'))
assert code == '413', 'an admitted request with a body over --max-body: ' + code
# a body's length given two ways: a proxy in front might take the other one
auth = 'Authorization: Bearer $AUD_A\r\n'
code = ask(h % ('Search', 22, auth + 'Content-Length: 5000\r\n'))
assert code == '400', 'two Content-Lengths: ' + code
code = ask(h % ('Search', 22, auth + 'Transfer-Encoding: chunked\r\n'))
assert code == '400', 'Content-Length with Transfer-Encoding: ' + code
" "$SERVER_PORT" || fail "a body was read before its request was admitted: $(tail -5 srv2.err)"
# a request libmicrohttpd answers itself (headers over 64 KiB: 431) reaches no route and no
# audit record; the log says it came (it said nothing)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(printf 'a%.0s' $(seq 70000))" "${SERVER_URL}api/v1/Search")
[ "$code" = 431 ] || fail "headers over 64 KiB: expected 431, got $code"
for _ in $(seq 50); do grep -q 'libmicrohttpd: .*431' srv2.err && break; sleep 0.1; done
grep -q 'libmicrohttpd: .*431' srv2.err || fail "the 431 libmicrohttpd answered is not in the log: $(tail -3 srv2.err)"
# the public paths (/health, the web page) need no account: a body sent to them is dropped unread
py "
import socket, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]
def rss():
    return int([l for l in open('/proc/%s/status' % pid) if l.startswith('VmRSS')][0].split()[1]) // 1024
before = rss()
socks = []
for path in ['/health', '/', '/web/app.js']:
    s = socket.create_connection(('127.0.0.1', port))
    s.sendall(b'POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n' % path.encode() + b'x' * 30000000)
    socks.append(s)
time.sleep(0.5)
grown = rss() - before
assert grown < 30, 'the service holds %d MiB more after 90 MB of bodies sent to public paths' % grown
" "$SERVER_PORT" "$SERVER_PID" || fail "bodies sent to public paths were kept"
stop_server "$SERVER_PID"
expect_status 0 kura log s --json
py "
import json
api = [r for r in json.load(open('$OUT')) if r.get('action') == 'api']
seen = {(r['actor'], r.get('path'), r.get('status')) for r in api}
for want in [('anonymous', '/api/v1/Search', 401), ('aud-a', '/api/v1/PreservePO', 403), ('aud-a', '/api/v1/Search', 413)]:
    assert want in seen, (want, sorted(seen)[-8:])
"
expect_status 0 kura ls s
expect_grep "$OUT" "$LB"

# ---- connections held open from one address do not shut out the others
start_serve srv3 "" 127.0.0.1:0 s --max-connections 40
API=${SERVER_URL}api/v1

# ---- a package being made holds up no other request (it was made under the writer lock,
# which every request's audit record needs)
head -c 40000000 /dev/urandom >big.bin
CODE=$(curl -s -o "$OUT" -w '%{http_code}' -H "Authorization: Bearer $ARCH" --data-binary @big.bin \
	"$API/PreservePO?name=big.bin&meta=collection=siteA&wait=sealed")
expect_code 201 "a 40 MB document"
BIG=$(py "import json; d=json.load(open('$OUT')); assert d['sealed'], d; print(d['poId'][0])")
curl -s -o big.tar.zst -w '%{http_code}' -H "Authorization: Bearer $AUD_A" "$API/po/$BIG/package" >big.code &
pkg=$!
making() { compgen -G "s/package.tmp.*" >/dev/null; }
for ((i = 0; i < 500; i++)); do making && break; sleep 0.01; done
making || fail "no package was being made"
CODE=$(curl -s -o "$OUT" -w '%{http_code}' -H "Authorization: Bearer $AUD_A" "$API/po/$BIG/info")
expect_code 200 "info while a package is made"
making || fail "a request waited for a package being made"
wait $pkg
[ "$(cat big.code)" = 200 ] || fail "the package: HTTP $(cat big.code)"
expect_status 0 kura verify-export big.tar.zst

# ---- a package for an auditor limited to siteA holds nothing of siteB: not the trail's
# checkpoints (each holds every audit record of its span), not siteB's IDs in the records
# about siteA's (the handover event names both sites' records)
CODE=$(curl -s -o "$OUT" -w '%{http_code}' -H "Authorization: Bearer $ARCH" --data-binary "ledger B3" \
	"$API/PreservePO?name=lb3.txt&meta=collection=siteB&meta=amount=B-confidential-amount-999")
expect_code 201 "siteB's document with a confidential amount"
LB3=$(py "import json; print(json.load(open('$OUT'))['poId'][0])")
call "$ARCH" UpdatePOC "{\"poId\": \"$LB3\", \"meta\": {\"amount\": \"B-confidential-amount-1000\"}, \"reason\": \"B-confidential-reason\"}"
expect_code 201 "siteB's amount changed"
LB4=$(py "import json; print(json.load(open('$OUT'))['poId'][0])")
call "$ARCH" Hold "{\"name\": \"review-A\", \"poId\": [\"$LA\"], \"reason\": \"siteA review\"}"
expect_code 201 "a hold on siteA's record, in the same checkpoint as siteB's change"
for i in 1 2; do # the first seal makes a checkpoint of the trail so far, the second seals it
	CODE=$(curl -s -o "$OUT" -w '%{http_code}' -H "Authorization: Bearer $ARCH" --data-binary "seal $i" \
		"$API/PreservePO?name=s$i.txt&meta=collection=siteA&wait=sealed")
	expect_code 201 "a sealed submission"
done
for who in aud aud-a; do
	tok=$AUD && [ "$who" = aud-a ] && tok=$AUD_A
	CODE=$(curl -s -D "$who.head" -o "$who.tar.zst" -w '%{http_code}' -H "Authorization: Bearer $tok" "$API/po/$LA/package")
	expect_code 200 "$who's package of siteA's $LA"
	rm -rf "$who.d" && mkdir "$who.d" && zstd -qdc "$who.tar.zst" | tar -C "$who.d" -xf - || fail "unpacking $who's package"
done
compgen -G "aud.d/*/data/audit/*/audit-trail-*.jsonl" >/dev/null || fail "an unlimited auditor's package has no checkpoint"
grep -rqaF "B-confidential-amount-999" aud.d || fail "the unlimited package's checkpoint does not hold siteB's records"
for leak in "$LB" "$LB3" "$LB4" "$LR2" B-confidential court-B "litigation at site B" siteB; do
	! grep -rlaF -- "$leak" aud-a.d >"$OUT" || fail "siteA's auditor's package holds siteB's '$leak' in $(tr '\n' ' ' <"$OUT")"
done
expect_grep aud-a.d/*/data/audit/trail.jsonl handover # siteA's own records are there, siteB's IDs not shown
expect_grep aud-a.d/*/data/audit/trail.jsonl review-A
expect_grep aud-a.d/*/bag-info.txt "Kura-Audit-Trail: unproven"
grep -qi '^Kura-Audit-Trail: unproven' aud-a.head || fail "the answer does not say the trail is unproven: $(cat aud-a.head)"
! grep -qi '^Kura-Audit-Trail' aud.head || fail "an unlimited auditor's answer says its trail is unproven"
# its objects verify; its trail is unproven, which is not tampering
expect_status 0 kura verify-export aud-a.tar.zst --json
py "
import json
r = json.load(open('$OUT'))
assert r['verdict'] == 'valid' and r['objects'][0]['verdict'] == 'valid', r
a = r['audit']
assert a['verdict'] == 'indeterminate' and a['proven'] == 0 and a['records'] > 0 and not a['checkpoints'], a
assert 'limited to collections' in a['reason'], a
"
expect_status 0 kura verify-export aud.tar.zst --json
py "import json; a = json.load(open('$OUT'))['audit']; assert a['verdict'] == 'valid' and a['checkpoints'], a"
(cd aud-a.d/* && sh verify.sh >../../verify.out 2>&1) || fail "verify.sh of the limited package: $(tail -5 verify.out)"
py "
import socket, sys, time, subprocess
port = int(sys.argv[1])
idle = [socket.create_connection(('127.0.0.1', port)) for _ in range(40)]
time.sleep(1)
out = subprocess.run(['curl', '-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', '--interface', '127.0.0.2',
                      'http://127.0.0.1:%d/health' % port], capture_output=True, text=True).stdout
assert out == '200', 'a client of another address while one holds 40 connections open: ' + out
for s in idle:
    s.close()
" "$SERVER_PORT" || fail "one address holding every connection shut out the others"
stop_server "$SERVER_PID"
expect_status 0 kura log s --json
py "
import json
e = [r for r in json.load(open('$OUT')) if r.get('action') == 'export']
assert any(r.get('limited') is True and r['actor'] == 'aud-a' for r in e), e
assert not any('limited' in r for r in e if r['actor'] == 'aud'), e
"

# ---- TLS 1.0 and 1.1 (deprecated by RFC 8996) are refused; 1.2 is served
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=127.0.0.1 -keyout tls.key -out tls.pem 2>/dev/null ||
	fail "openssl req"
start_serve srv4 "" 127.0.0.1:0 s --tls-cert tls.pem --tls-key tls.key
hello() { echo | timeout 10 openssl s_client "-$1" -cipher 'DEFAULT@SECLEVEL=0' -connect "127.0.0.1:$SERVER_PORT" >"$OUT" 2>&1; }
hello tls1_2 || fail "a TLS 1.2 client: $(tail -5 "$OUT")"
for v in tls1 tls1_1; do
	! hello "$v" || fail "a $v client was served: $(grep -E 'Protocol|Cipher' "$OUT" | head -2)"
done
stop_server "$SERVER_PID"
