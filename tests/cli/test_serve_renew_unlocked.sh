#!/usr/bin/env bash
# The service neither renews nor seals a `?wait=sealed` request with its writer lock held while a
# TSA is asked (issue 17: a slow TSA does not hold up other clients' submissions). The TSA answers
# after 4 s (tests/cli/tsa/slow_proxy.py); a PreservePO made meanwhile must be answered in under 2 s:
#  - while the scheduler's hash-tree renewal (sha256 sunset within the policy's margin) waits for its
#    time-stamp; the renewal is written afterwards and the renewed evidence verifies (two chains);
#    a disposal approved meanwhile is seen before the renewal is written:
#    it is planned again without the disposed document, whose evidence keeps its one chain;
#  - while an UpdatePOC?wait=sealed, and then a PreservePO?wait=sealed, waits for its seal's
#    time-stamp; both are answered sealed;
#  - a time-stamp renewal by the service is written and verifies.
source "$(dirname "$0")/serve_lib.sh" || exit 1
NOW=2026-03-01T00:00:00Z
DELAY=4

test_policy policy.yaml serve-renew
echo 0 >delay # quick while the store is made
start_slow_tsa "$DELAY" --delay-file delay
expect_status 0 at "$NOW" init s --tsa-url "$PROXY_URL" --policy policy.yaml
expect_status 0 at "$NOW" trust add s --tsa tsa-dir/anchors.pem
mkdir docs
for i in 1 2 3; do echo "old document $i" >docs/old$i.txt; done
expect_status 0 at "$NOW" ingest s docs
echo "old ledger" >ledger.txt # its retention ended in 2025: disposed of while the renewal waits for its TSA
expect_status 0 at "$NOW" ingest s --class jp-construction-books --event handover=2020-01-31 ledger.txt
LEDGER=$(cut -f1 "$OUT")
expect_status 0 at "$NOW" dispose s --request "$LEDGER" --reason "retention over" --actor clerk
REQ=$(head -n 1 "$OUT")
[ "${#REQ}" = 26 ] || fail "no disposal request: $(cat "$OUT" "$ERR")"
expect_status 0 at "$NOW" show s "$LEDGER" --json
LEDGER_CHAIN=$(py 'print(json.load(open(sys.argv[1]))["time_stamps"][0]["record"])' "$OUT")
# sha256 ends in 10 days, within the 30-day margin: a hash-tree renewal is due now
expect_status 0 at "$NOW" policy sunset s sha256 2026-03-11
ARCH=$(at "$NOW" user add s arch --role archivist 2>/dev/null)
APPR=$(at "$NOW" user add s appr --role approver 2>/dev/null)
expect_status 0 at "$NOW" seal s --audit-trail # the sunset's and user's audit records: nothing is left for the service to seal
expect_status 0 at "$NOW" renew s --plan --json
py 'd = json.load(open(sys.argv[1])); assert any(i["due_now"] for i in d), d' "$OUT" ||
	fail "no renewal due before the service starts: $(cat "$OUT")"
echo "$DELAY" >delay
: >proxy.log

SERVE_WHAT=serve start_serve srv "$NOW" 127.0.0.1:0 s --seal-every 1
API=${SERVER_URL}api/v1
# asked N: waits up to 10 s until the TSA was asked N times in all
asked()
{
	for ((i = 0; i < 100; i++)); do
		[ "$(wc -l <proxy.log)" -ge "$1" ] && return 0
		sleep 0.1
	done
	fail "the TSA was not asked a time-stamp (number $1) within 10 s: $(tail -c 600 srv.err)"
}
# quick NAME WHILE: NAME's PreservePO was answered in under 2 s
quick()
{
	py 'import sys; t = float(open(sys.argv[1]).read()); sys.exit(0 if t < 2.0 else 1)' "$1.time" ||
		fail "a request while $2 took $(cat "$1.time") s (the TSA answers after $DELAY s)"
}
# settled: waits up to 30 s until nothing is pending and no renewal is due (but the chain of the
# disposed document alone, which stays in the plan)
settled()
{
	for ((i = 0; i < 300; i++)); do
		at "$NOW" status s --json >status.json 2>/dev/null || true
		at "$NOW" renew s --plan --json >plan.json 2>/dev/null || true
		py 'd = json.load(open("status.json")); p = json.load(open("plan.json"))
due = [i for i in p if i["due_now"] and i["chain"] != sys.argv[1]]
sys.exit(0 if d["objects"]["pending"] == 0 and not due else 1)' "$LEDGER_CHAIN" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "still pending or due after 30 s: $(head -c 600 status.json) $(head -c 600 plan.json)"
}

# the scheduler's first round renews (it has nothing to seal): its time-stamp is being asked
asked 1
submit d1
quick d1 "a renewal's TSA request was under way"
# (a disposal seals what it destroys, and its record, under the writer's lock: it takes its time)
code=$(curl -s -o approve.json -w '%{http_code}' -H "Authorization: Bearer $APPR" \
	-H 'Content-Type: application/json' --data-binary "{\"request\": \"$REQ\", \"reason\": \"ok\"}" \
	"$API/DisposalApprove")
[ "$code" = 200 ] || fail "DisposalApprove: HTTP $code: $(cat approve.json)"
settled
grep -q 'hash-tree renewal' srv.err || fail "the service logged no hash-tree renewal: $(tail -c 800 srv.err)"
grep -q 'changed while the TSA was asked; planned again' srv.err ||
	fail "the renewal did not see the disposal made while it waited: $(tail -c 800 srv.err)"

# the service again, its scheduler idle (a round an hour): every time-stamp asked now is a request's
stop_server "$SERVER_PID"
SERVE_WHAT=serve start_serve srv2 "$NOW" 127.0.0.1:0 s --seal-every 3600
API=${SERVER_URL}api/v1

# UpdatePOC?wait=sealed: its seal's time-stamp is being asked
N=$(wc -l <proxy.log)
echo "version 2" >v2.txt
curl -s -o u1.json -w "%{http_code}" -H "Authorization: Bearer $ARCH" --data-binary @v2.txt \
	"$API/UpdatePOC?poId=$(py 'print(json.load(open("d1.json"))["poId"][0])')&reason=corrected&wait=sealed" \
	>u1.code &
UPDATE=$!
asked $((N + 1))
submit d2
quick d2 "an UpdatePOC?wait=sealed waited for its seal"
wait "$UPDATE"
[ "$(cat u1.code)" = 201 ] || fail "UpdatePOC?wait=sealed: HTTP $(cat u1.code): $(cat u1.json)"
py 'd = json.load(open("u1.json")); assert d["sealed"] is True, d' || fail "UpdatePOC?wait=sealed: $(cat u1.json)"

# PreservePO?wait=sealed likewise
N=$(wc -l <proxy.log)
submit w1 "&wait=sealed" &
WAITING=$!
asked $((N + 1))
submit d3
quick d3 "a PreservePO?wait=sealed waited for its seal"
wait "$WAITING" || fail "PreservePO?wait=sealed failed"
py 'd = json.load(open("w1.json")); assert d["sealed"] is True, d' || fail "PreservePO?wait=sealed: $(cat w1.json)"
stop_server "$SERVER_PID"
expect_status 0 at "$NOW" seal s # d2 and d3: committed while those seals waited, so outside them

stop_all_servers
# the renewed evidence verifies: the old documents have their sha256 chain and the sha512 one
expect_status 0 at "$NOW" verify s --json
py '
rs = [json.loads(line) for line in open(sys.argv[1])]
bad = [(r["id"], r.get("verdict")) for r in rs if r.get("verdict") != "valid" and r["id"] != sys.argv[2]]
assert len(rs) > 5 and not bad, bad
' "$OUT" "$LEDGER" || fail "kura verify: $(head -c 1500 "$OUT")"
expect_status 0 at "$NOW" ls s
cp "$OUT" ls.out
for i in 1 2 3; do
	id=$(awk -v f="old$i.txt" '$0 ~ f {print $1; exit}' ls.out)
	[ -n "$id" ] || fail "old$i.txt is not listed: $(cat ls.out)"
	expect_status 0 at "$NOW" evidence s "$id" -o "old$i.ers"
	expect_status 0 at "$NOW" verify-er --data "docs/old$i.txt" --er "old$i.ers" --trust tsa-dir/anchors.pem --json
	py 'd = json.load(open(sys.argv[1])); assert d["verdict"] == "valid" and len(d["chains"]) == 2, d' "$OUT" ||
		fail "old$i.txt after the renewal: $(head -c 1200 "$OUT")"
done
# the disposed document: left out of the renewal (its time-stamps: its seal's alone); the others renewed
expect_status 0 at "$NOW" show s "$LEDGER" --json
py 'd = json.load(open(sys.argv[1])); assert len(d["time_stamps"]) == 1, d["time_stamps"]' "$OUT" ||
	fail "the document disposed of during the renewal was renewed: $(head -c 1500 "$OUT")"
expect_status 0 at "$NOW" show s "$(awk '/old1.txt/ {print $1; exit}' ls.out)" --json
py 'd = json.load(open(sys.argv[1])); assert len(d["time_stamps"]) == 2, d["time_stamps"]' "$OUT" ||
	fail "old1.txt: $(head -c 1500 "$OUT")"

# a time-stamp renewal by the service (its embedded TSA's 40-day certificate is due with the
# 20-day margin): written through the same path, and the chain verifies with both time-stamps
test_policy policy20.yaml serve-renew-ts 20
expect_status 0 at 2026-01-01T00:00:00Z init t --policy policy20.yaml --tsa-days 40 --tsa-root-days 70
expect_status 0 at 2026-01-01T00:00:00Z ingest t docs
expect_status 0 at 2026-01-25T00:00:00Z renew t --plan --json
py 'd = json.load(open(sys.argv[1])); assert [i["action"] for i in d if i["due_now"]] == ["time-stamp renewal"], d' "$OUT" ||
	fail "no time-stamp renewal due: $(cat "$OUT")"
SERVE_WHAT=serve start_serve srv3 2026-01-25T00:00:00Z 127.0.0.1:0 t --seal-every 1
for ((i = 0; i < 300; i++)); do
	grep -q 'time-stamp renewal: 1 sha256 chain' srv3.err && break
	sleep 0.1
done
stop_server "$SERVER_PID"
grep -q 'time-stamp renewal: 1 sha256 chain' srv3.err || fail "the service renewed no time-stamp: $(tail -c 800 srv3.err)"
expect_status 0 at 2026-01-25T00:00:00Z verify t --json
py 'rs = [json.loads(line) for line in open(sys.argv[1])]
assert rs and all(r["verdict"] == "valid" for r in rs), rs
chained = [r for r in rs if r.get("chains")]
assert len(chained) >= 3 and all(len(r["chains"][0]["ats"]) == 2 for r in chained), rs' "$OUT" ||
	fail "after the service's time-stamp renewal: $(head -c 1500 "$OUT")"
echo ok
