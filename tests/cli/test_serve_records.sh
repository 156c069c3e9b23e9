#!/usr/bin/env bash
# Records management through kura serve: a legal hold and its release, a retention event,
# and disposal with four eyes (DeletePO asks, another account approves), each the account's
# own audit record; the roles that may not are refused (403), records of another collection
# are not found (404), and what records management refuses is a 4xx with its reason.
source "$(dirname "$0")/serve_lib.sh"

at 2026-01-01T00:00:00Z init s >/dev/null 2>&1 || fail init
for i in 1 2; do echo "ledger $i" >"l$i.txt"; done
expect_status 0 at 2026-01-10T00:00:00Z ingest s --class jp-construction-books --meta collection=siteA l1.txt
L1=$(cut -f1 "$OUT")
expect_status 0 at 2026-01-10T00:00:00Z ingest s --class jp-construction-books --meta collection=siteB l2.txt
L2=$(cut -f1 "$OUT")
ARCH=$(at 2026-01-05T00:00:00Z user add s arch --role archivist 2>/dev/null)
ARCH_A=$(at 2026-01-05T00:00:00Z user add s arch-a --role archivist --collection siteA 2>/dev/null)
APPR=$(at 2026-01-05T00:00:00Z user add s appr --role approver 2>/dev/null)
AUD=$(at 2026-01-05T00:00:00Z user add s aud --role auditor 2>/dev/null)

call()
{
	local tok=$1 path=$2 body=$3
	CODE=$(curl -s -o "$OUT" -w '%{http_code}' -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
		--data-binary "$body" "$API/$path")
}

start_serve srv 2026-02-01T00:00:00Z 127.0.0.1:0 s
API=${SERVER_URL}api/v1

# the handover of the works starts the 5 years of jp-construction-books
call "$AUD" Event "{\"name\": \"handover\", \"date\": \"2026-01-31\", \"poId\": [\"$L1\", \"$L2\"], \"reason\": \"x\"}"
expect_code 403 "an auditor recording an event"
call "$ARCH_A" Event "{\"name\": \"handover\", \"date\": \"2026-01-31\", \"poId\": [\"$L2\"], \"reason\": \"x\"}"
expect_code 404 "an archivist of siteA recording an event on siteB's record"
call "$ARCH" Event "{\"name\": \"handover\", \"date\": \"2026-01-31\", \"poId\": [\"$L1\", \"$L2\"]}"
expect_code 400 "an event without a reason"
expect_grep "$OUT" 'reason'
call "$ARCH" Event "{\"name\": \"handover\", \"date\": \"2026-01-31\", \"poId\": [\"$L1\", \"$L2\"], \"reason\": \"引き渡し\"}"
expect_code 201 "the handover event"

# a hold, refused while held, released
call "$ARCH" Hold "{\"name\": \"audit-2026\", \"poId\": [\"$L1\"], \"reason\": \"税務調査\"}"
expect_code 201 "a hold"
call "$ARCH" Hold "{\"name\": \"audit-2026\", \"poId\": [\"$L1\"], \"reason\": \"again\"}"
expect_code 409 "a second hold of the same name"
expect_grep "$OUT" "active already (placed" # to an account that sees it: who placed it and when
call "$ARCH" DeletePO "{\"poId\": [\"$L1\"], \"reason\": \"too early\"}"
expect_code 400 "a disposal request before the retention ends"
stop_server "$SERVER_PID"

# 2031-02-01: five years after the handover; L1 is still held
start_serve srv2 2031-03-01T00:00:00Z 127.0.0.1:0 s
API=${SERVER_URL}api/v1
call "$ARCH" DeletePO "{\"poId\": [\"$L1\"], \"reason\": \"held\"}"
expect_code 400 "a disposal request of a held record"
call "$ARCH" HoldRelease "{\"name\": \"audit-2026\", \"reason\": \"調査終了\"}"
expect_code 200 "the hold's release"
call "$APPR" DeletePO "{\"poId\": [\"$L1\", \"$L2\"], \"reason\": \"x\"}"
expect_code 403 "an approver asking for a disposal"
call "$ARCH" DeletePO "{\"poId\": [\"$L1\", \"$L2\"], \"reason\": \"保存期間満了\"}"
expect_code 202 "DeletePO"
REQ=$(py "import json; print(json.load(open('$OUT'))['auditRecord'])")
call "$ARCH" DisposalApprove "{\"request\": \"$REQ\", \"reason\": \"me too\"}"
expect_code 403 "the requester approving (an archivist)"
call "$APPR" DisposalApprove "{\"request\": \"$REQ\", \"reason\": \"承認\"}"
expect_code 200 "the approval by another account"
py "import json; d=json.load(open('$OUT')); assert sorted(v['id'] for v in d['disposed'])==sorted(['$L1','$L2']), d"
CODE=$(curl -s -o "$OUT" -w '%{http_code}' -H "Authorization: Bearer $AUD" "$API/po/$L1/package")
expect_code 404 "the package of a disposed object"
expect_grep "$OUT" "disposed of" # not: "none of the objects chosen is sealed yet"
stop_server "$SERVER_PID"

# what the store says afterwards, and who did each
expect_status 0 kura ls s
[ ! -s "$OUT" ] || fail "disposed records are still listed: $(cat "$OUT")"
expect_status 0 kura log s --json
py "
import json
recs = {r['action']: r for r in json.load(open('$OUT')) if r.get('action') in ('event', 'hold', 'release', 'dispose-request', 'dispose-approve')}
assert recs['event']['actor'] == 'arch' and recs['hold']['actor'] == 'arch', recs
assert recs['dispose-request']['actor'] == 'arch' and recs['dispose-approve']['actor'] == 'appr', recs
assert recs['release']['reason'] == '調査終了', recs['release']
"
