#!/usr/bin/env bash
# The service's scheduler records its rounds and alerts like kura daemon (issues 16, 17): with
# its TSA stopped, a submission's seal fails; within seconds the alert command gets the
# round-failed and tsa-failing events (JSON on its standard input) and `kura status --json`
# shows the failed round and the failing TSA; once the TSA is back, the next round seals and
# the alert command gets the cleared events.
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/renewal/servers.sh"
on_exit stop_all_servers
cd "$T"
NOW=2026-03-01T00:00:00Z

start_serve tsa "$NOW" 127.0.0.1:0 --dir tsa-dir
TSA_URL=$SERVER_URL
TSA_PORT=$SERVER_PORT
expect_status 0 at "$NOW" init s --tsa-url "$TSA_URL"
expect_status 0 at "$NOW" trust add s --tsa tsa-dir/anchors.pem
ARCH=$(at "$NOW" user add s arch --role archivist 2>/dev/null)
stop_server "$SERVER_PID"

cat >alert.sh <<EOS
#!/bin/sh
cat >>"$T/alerts.jsonl"
EOS
chmod +x alert.sh
: >alerts.jsonl
# wait_event KIND EVENT: waits up to 15 s for such an event from the alert command
wait_event()
{
	local i
	for ((i = 0; i < 150; i++)); do
		py 'sys.exit(0 if any((e["kind"], e["event"]) == (sys.argv[2], sys.argv[3]) for e in map(json.loads, open(sys.argv[1]))) else 1)' \
			alerts.jsonl "$1" "$2" && return 0
		sleep 0.1
	done
	fail "no $2 event of kind $1 from the alert command within 15 s: $(cat alerts.jsonl)"
}

SERVE_WHAT=serve start_serve srv "$NOW" 127.0.0.1:0 s --seal-every 1 --alert-command "$T/alert.sh"
echo "invoice 1" >a.txt
CODE=$(curl -s -o "$OUT" -w '%{http_code}' -H "Authorization: Bearer $ARCH" --data-binary @a.txt \
	"${SERVER_URL}api/v1/PreservePO?name=a.txt")
[ "$CODE" = 201 ] || fail "PreservePO: HTTP $CODE: $(cat "$OUT")"
wait_event round-failed alert
wait_event tsa-failing alert
py 'e = [json.loads(l) for l in open(sys.argv[1])]
r = [x for x in e if x["kind"] == "round-failed"][0]
assert r["severity"] == "error" and r["store"] == sys.argv[2] and sys.argv[3] in r["message"], r
t = [x for x in e if x["kind"] == "tsa-failing"][0]
assert t["details"]["tsa"] == sys.argv[3], t' alerts.jsonl s "$TSA_URL" || fail "the events: $(cat alerts.jsonl)"
expect_grep srv.err "alert round-failed [error]"
expect_status 1 at "$NOW" status s --json # 1: something needs a person
py 'd = json.load(open(sys.argv[1]))
assert d["daemon"]["result"] == "failed" and sys.argv[2] in d["daemon"]["message"], d["daemon"]
assert [t["failing"] for t in d["tsas"] if t["name"] == sys.argv[2]] == [True], d["tsas"]
assert d["objects"]["pending"] >= 1, d["objects"] # the document, and the checkpoint of the audit trail (proof/seal.h)' "$OUT" "$TSA_URL" || fail "kura status: $(head -c 1500 "$OUT")"

# the TSA is back on its port: the next round seals, the alerts clear
start_serve tsa "$NOW" "127.0.0.1:$TSA_PORT" --dir tsa-dir
wait_event round-failed cleared
wait_event tsa-failing cleared
expect_status 0 at "$NOW" status s --json
py 'd = json.load(open(sys.argv[1]))
assert d["daemon"]["result"] == "ok" and d["objects"]["pending"] == 0, (d["daemon"], d["objects"])
assert [t["failing"] for t in d["tsas"] if t["name"] == sys.argv[2]] == [False], d["tsas"]' "$OUT" "$TSA_URL" ||
	fail "kura status once the TSA is back: $(head -c 1500 "$OUT")"
[ "$(grep -c . alerts.jsonl)" -le 6 ] || fail "too many events: $(cat alerts.jsonl)"
echo ok
