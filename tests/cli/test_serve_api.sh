#!/usr/bin/env bash
# kura serve, the rest of the API (issue 17): PreservePO with a retention class, UpdatePOC
# (a new version, a metadata change: each the account's own audit record, seen by kura
# history and kura show), RetrievePO as an export package that kura verify-export accepts
# and kura import takes into a fresh store, and as JSON (bytes and evidence record, base64), reports in HTML and PDF, the store's status and
# Prometheus metrics. Wrong roles are refused (403, audited); an auditor limited to one
# collection gets no other collection's object into a package or a report (404: whether it
# exists is not said), and no status; nothing answers without a token.
source "$(dirname "$0")/serve_lib.sh"
command -v pdftotext >/dev/null || fail "pdftotext is needed (poppler-utils: make deps)"
if [ "$KURA_SANITIZED" = 1 ]; then # the PDF report's libraries keep or lose a little on their own (see the file)
	export LSAN_OPTIONS=suppressions=$HERE/report_lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}
	export ASAN_OPTIONS=fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS} # whole stacks, to name cairo's
	export G_SLICE=always-malloc
fi

kura init s >/dev/null 2>&1 || fail init
kura field add s amount amount >/dev/null 2>&1 || fail "field add"
add_user() { kura user add s "$@" 2>/dev/null || fail "user add $*"; }
ARCH=$(add_user 記録係 --role archivist)
ARCH_A=$(add_user arch-a --role archivist --collection trialA)
AUD=$(add_user aud --role auditor)
AUD_A=$(add_user aud-a --role auditor --collection trialA)
ADMIN=$(add_user admin --role admin)

start_serve srv "" 127.0.0.1:0 s
API=${SERVER_URL}api/v1

# call TOKEN METHOD PATH [curl args...]: body in $OUT, status in $CODE
call()
{
	local tok=$1 method=$2 path=$3
	shift 3
	CODE=$(curl -s -o "$OUT" -w '%{http_code}' -X "$method" ${tok:+-H "Authorization: Bearer $tok"} "$@" "$API/$path")
}
jcall() { call "$1" POST "$2" -H 'Content-Type: application/json' --data-binary "$3"; }
first_id() { py "import json; print(json.load(open('$OUT'))['poId'][0])"; }

# PreservePO with a records class (and an unknown class refused, nothing stored)
echo "請求書 A 120000" >a.txt
call "$ARCH" POST "PreservePO?name=%E8%AB%8B%E6%B1%82%E6%9B%B8A.txt&meta=collection=trialA&meta=amount=120000&class=jp-tax-books&wait=sealed" \
	--data-binary @a.txt
expect_code 201 "PreservePO with a class"
ID_A=$(first_id)
echo "見積書 B" >b.txt
jcall "$ARCH" PreservePO "{\"class\": \"jp-construction-books\", \"events\": {\"handover\": \"2026-03-31\"},
	\"po\": [{\"binaryValue\": \"$(base64 -w0 b.txt)\", \"name\": \"見積書B.txt\", \"meta\": {\"collection\": \"trialB\", \"amount\": \"500000\"}}]}"
expect_code 201 "PreservePO as JSON with a class and an event"
ID_B=$(first_id)
call "$ARCH" POST "PreservePO?name=x.txt&class=no-such-class" --data-binary @a.txt
expect_code 400 "PreservePO with an unknown class"
expect_grep "$OUT" "no-such-class"
expect_status 0 kura show s "$ID_A" --json
py "import json; d=json.load(open('$OUT')); assert d['class']=='jp-tax-books' and d['actor']=='記録係', d"
expect_status 0 kura show s "$ID_B" --json
py "import json; d=json.load(open('$OUT')); assert d['class']=='jp-construction-books' and d['events']=={'handover': '2026-03-31'}, d"

# UpdatePOC: a new version (JSON), then a metadata change
echo "請求書 A 121000 (訂正)" >a2.txt
jcall "$AUD" UpdatePOC "{\"poId\": \"$ID_A\", \"binaryValue\": \"$(base64 -w0 a2.txt)\", \"reason\": \"x\"}"
expect_code 403 "an auditor making a new version"
jcall "$ARCH" UpdatePOC "{\"poId\": \"$ID_A\", \"binaryValue\": \"$(base64 -w0 a2.txt)\"}"
expect_code 400 "a new version without a reason"
expect_grep "$OUT" "reason"
call "$ARCH" POST "UpdatePOC?poId=$ID_A&reason=x%FF&name=a3.txt" --data-binary @a.txt
expect_code 400 "a new version whose reason is not UTF-8 (it was stored without its reason)"
expect_grep "$OUT" "not valid UTF-8"
call "$ARCH" POST "PreservePO?name=x.txt&reason=x%FF" --data-binary @a.txt
expect_code 400 "PreservePO with a reason that is not UTF-8"
jcall "$ARCH_A" UpdatePOC "{\"poId\": \"$ID_B\", \"binaryValue\": \"$(base64 -w0 a2.txt)\", \"reason\": \"x\"}"
expect_code 404 "an archivist of trialA making a version of trialB's record"
expect_grep "$OUT" "no object $ID_B" # as if it were not there (not: no such operation)
jcall "$ARCH_A" UpdatePOC "{\"poId\": \"$ID_A\", \"meta\": {\"collection\": \"trialB\"}, \"reason\": \"x\"}"
expect_code 403 "an archivist of trialA moving a record into trialB"
jcall "$ARCH" UpdatePOC "{\"poId\": \"$ID_A\", \"binaryValue\": \"$(base64 -w0 a2.txt)\", \"reason\": \"金額の訂正\"}"
expect_code 201 "UpdatePOC: a new version"
V2=$(first_id)
[ "$V2" != "$ID_A" ] || fail "the new version has the old ID"
call "$ARCH" POST "UpdatePOC?poId=$ID_A&reason=typo&name=a3.txt&wait=sealed" --data-binary @a.txt
expect_code 201 "UpdatePOC with the document as the body"
py "import json; d=json.load(open('$OUT')); assert d['sealed'] is True and 'sealError' not in d, d"
V3=$(first_id)
jcall "$ARCH" "UpdatePOC?wait=sealed" "{\"poId\": \"$V3\", \"meta\": {\"amount\": \"121000\", \"note\": \"承認済\"}, \"reason\": \"承認\"}"
expect_code 201 "UpdatePOC: a metadata change"
V4=$(first_id)
jcall "$ARCH" UpdatePOC "{\"poId\": \"$V4\", \"meta\": {\"amount\": \"lots\"}, \"reason\": \"x\"}"
expect_code 400 "a metadata change to a value the field's type refuses"
expect_status 0 kura history s "$ID_A" --json
py "
import json
d = json.load(open('$OUT'))
assert [v['id'] for v in d['versions']] == ['$ID_A', '$V2', '$V3', '$V4'] and d['current'] == '$V4', d
"
expect_status 0 kura get s "$V2" -o got2
cmp -s got2 a2.txt || fail "version 2's bytes differ from what was sent"
expect_status 0 kura show s "$V4" --json
py "
import json
d = json.load(open('$OUT'))
assert d['meta']['note'] == '承認済' and d['meta']['amount'] == '121000' and d['meta']['collection'] == 'trialA', d
assert d['class'] == 'jp-tax-books' and d['actor'] == '記録係' and d['name'] == 'a3.txt', d
"

# RetrievePO as a package: verify-export accepts it, import takes it into a fresh store
call "$AUD" GET "po/$ID_A/package"
expect_code 200 "a package of one object"
cp "$OUT" one.tar.zst
expect_status 0 kura verify-export one.tar.zst
kura init fresh >/dev/null 2>&1 || fail "init fresh"
expect_status 0 kura trust add fresh --tsa s/tsa/anchors.pem # the root the package's data/tsa-anchors.pem holds
expect_status 0 kura import fresh one.tar.zst
expect_status 0 kura get fresh "$ID_A" -o got1
cmp -s got1 a.txt || fail "the imported document differs"
[ -z "$(ls -d s/package.tmp.* 2>/dev/null)" ] || fail "a package was left behind in the store: $(ls s)"
call "$ARCH" GET "po/$ID_A/package"
expect_code 403 "an archivist asking for a package"
call "$AUD_A" GET "po/$ID_B/package"
expect_code 404 "an auditor of trialA asking for trialB's package"
expect_grep "$OUT" "no object $ID_B" # as if it were not there (not: no such operation)
call "$AUD_A" POST RetrievePO --data-binary "{\"poId\": [\"$ID_A\", \"$ID_B\"]}"
expect_code 404 "an auditor of trialA naming trialB's object in a package"
expect_grep "$OUT" "no object $ID_B" # as if it were not there (not: no such operation)
call "$AUD_A" POST RetrievePO --data-binary '{"where": ["amount>=0"]}'
expect_code 200 "a package of what a where finds"
cp "$OUT" where.tar.zst
tar --zstd -tf where.tar.zst >where.list || fail "the package is not a tar.zst"
grep -q "$V4" where.list || fail "the package lacks trialA's record: $(head -20 where.list)"
if grep -q "$ID_B" where.list; then fail "an auditor of trialA got trialB's object into a package"; fi
expect_status 0 kura verify-export where.tar.zst
call "$AUD" POST RetrievePO --data-binary '{"where": ["amount>=0"], "poId": []}'
expect_code 400 "poId and where together"

# RetrievePO as JSON: each object's name, metadata, bytes and evidence record (base64), which
# kura verify-er accepts; an auditor of trialA gets no trialB object that way either
call "$AUD" POST RetrievePO --data-binary "{\"poId\": [\"$ID_A\"], \"format\": \"json\"}"
expect_code 200 "RetrievePO as JSON"
py "
import base64, json
d = json.load(open('$OUT'))
[e] = d['po']
assert e['poId'] == '$ID_A' and e['name'] == '請求書A.txt' and e['meta']['collection'] == 'trialA', e
open('ja.bin', 'wb').write(base64.b64decode(e['binaryValue'], validate=True))
open('ja.ers', 'wb').write(base64.b64decode(e['evidenceRecord'], validate=True))
" || fail "RetrievePO as JSON: $(head -c 600 "$OUT")"
cmp -s ja.bin a.txt || fail "RetrievePO as JSON: the document's bytes differ"
expect_status 0 kura verify-er --data ja.bin --er ja.ers --trust s/tsa/anchors.pem
call "$AUD_A" POST RetrievePO --data-binary "{\"poId\": [\"$ID_B\"], \"format\": \"json\"}"
expect_code 404 "an auditor of trialA asking for trialB's object as JSON"
call "$AUD" POST RetrievePO --data-binary "{\"poId\": [\"$ID_A\"], \"format\": \"xml\"}"
expect_code 400 "RetrievePO in an unknown format"
expect_grep "$OUT" 'format is'

# reports: HTML with the Japanese name; PDF that pdftotext reads
call "$AUD" GET "po/$ID_A/report?format=html"
expect_code 200 "an HTML report"
expect_grep "$OUT" "請求書A.txt"
call "$AUD" GET "po/$ID_A/report?format=pdf"
expect_code 200 "a PDF report"
[ "$(head -c 4 "$OUT")" = "%PDF" ] || fail "the PDF report does not start with %PDF"
cp "$OUT" a.pdf
pdftotext a.pdf a.pdf.txt || fail "pdftotext"
expect_grep a.pdf.txt "請求書A.txt"
call "$AUD" GET "po/$ID_A/report?format=doc"
expect_code 400 "a report in an unknown format"
call "$AUD_A" GET "po/$ID_B/report?format=html"
expect_code 404 "an auditor of trialA asking for trialB's report"
expect_grep "$OUT" "no object $ID_B" # as if it were not there (not: no such operation)
call "$AUD_A" POST Report --data-binary '{"where": ["amount>=0"], "format": "html"}'
expect_code 200 "a report of what a where finds"
expect_grep "$OUT" "$V4"
if grep -q "見積書B" "$OUT"; then fail "an auditor of trialA got trialB's object into a report"; fi
# an object named twice is in a report or a package once
call "$AUD" POST Report --data-binary "{\"poId\": [\"$ID_A\"], \"format\": \"html\"}"
expect_code 200 "a report of one object"
once=$(grep -o "請求書A.txt" "$OUT" | wc -l)
call "$AUD" POST Report --data-binary "{\"poId\": [\"$ID_A\", \"$ID_A\"], \"format\": \"html\"}"
expect_code 200 "a report of one object named twice"
[ "$(grep -o "請求書A.txt" "$OUT" | wc -l)" = "$once" ] || fail "an object named twice is twice in the report"
call "$AUD" POST RetrievePO --data-binary "{\"poId\": [\"$ID_A\", \"$ID_A\"], \"format\": \"json\"}"
expect_code 200 "RetrievePO as JSON of one object named twice"
py "d = json.load(open('$OUT')); assert [e['poId'] for e in d['po']] == ['$ID_A'], [e['poId'] for e in d['po']]"
call "$AUD_A" POST Report --data-binary "{\"poId\": [\"$ID_B\"], \"format\": \"pdf\"}"
expect_code 404 "an auditor of trialA naming trialB's object in a report"
expect_grep "$OUT" "no object $ID_B" # as if it were not there (not: no such operation)

# status and metrics: the auditor's and the admin's; not without a token, not a limited account's
CODE=$(curl -s -o "$OUT" -w '%{http_code}' -H "Authorization: bearer  $AUD" "$API/status")
expect_code 200 "status with the scheme in lower case (RFC 7235: it is case-insensitive)"
call "$AUD" GET status
expect_code 200 "status"
py "import json; d=json.load(open('$OUT')); assert d['objects']['records']==2 and d['objects']['versions']==5 and 'healthy' in d, d['objects']"
call "$ADMIN" GET status
expect_code 200 "status for an admin"
call "" GET status
expect_code 401 "status without a token"
call "$AUD_A" GET status
expect_code 403 "status for an auditor limited to a collection"
call "$ARCH" GET status
expect_code 403 "status for an archivist"
CODE=$(curl -s -o "$OUT" -w '%{http_code}' -H "Authorization: Bearer $AUD" "${SERVER_URL}metrics")
expect_code 200 "metrics"
expect_grep "$OUT" '# TYPE kura_records gauge'
expect_grep "$OUT" 'kura_records{store="s"} 2' -x
expect_grep "$OUT" 'kura_versions{store="s"} 5' -x
CODE=$(curl -s -o "$OUT" -w '%{http_code}' "${SERVER_URL}metrics")
expect_code 401 "metrics without a token"
CODE=$(curl -s -o "$OUT" -w '%{http_code}' -H "Authorization: Bearer $AUD_A" "${SERVER_URL}metrics")
expect_code 403 "metrics for an auditor limited to a collection"
stop_server "$SERVER_PID"

# the audit trail: who did each, refusals included
expect_status 0 kura log s --json
py "
import json
recs = json.load(open('$OUT'))
api = [(r['actor'], r['method'], r['path'], r['status']) for r in recs if r.get('action') == 'api']
assert ('記録係', 'POST', '/api/v1/UpdatePOC', 201) in api, api
assert ('aud', 'POST', '/api/v1/UpdatePOC', 403) in api, api
assert ('記録係', 'GET', '/api/v1/po/$ID_A/package', 403) in api, api
assert ('aud-a', 'GET', '/api/v1/po/$ID_B/package', 404) in api, api
assert ('aud', 'GET', '/api/v1/status', 200) in api and ('anonymous', 'GET', '/metrics', 401) in api, api
meta = [r for r in recs if r.get('action') == 'meta']
assert len(meta) == 1 and meta[0]['actor'] == '記録係' and meta[0]['reason'] == '承認', meta
assert meta[0]['new']['note'] == '承認済', meta
ingests = [r for r in recs if r.get('action') == 'ingest' and r.get('actor') == '記録係']
assert len(ingests) >= 4, ingests
exports = [r for r in recs if r.get('action') == 'export']
assert exports and all(r['actor'] in ('aud', 'aud-a') for r in exports), exports
assert not any('$ID_B' in r['objects'] for r in exports if r['actor'] == 'aud-a'), exports
"
if grep -q "Sanitizer" srv.err; then fail "the service stopped with a sanitizer's report: $(grep -A12 Sanitizer srv.err | head -30)"; fi
expect_grep srv.err "service stopped"
