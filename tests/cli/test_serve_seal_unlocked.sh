#!/usr/bin/env bash
# The service asks a seal's TSA without its writer lock (issue 17: submissions do not wait for
# a remote TSA): with a TSA that answers after 4 s, a PreservePO made while the scheduler's
# seal waits for its time-stamp is answered in under 2 s; a PreservePO?wait=sealed made then
# too (its seal chooses the objects the scheduler's seal is stamping, which then seals them
# first) is answered sealed; every object ends in exactly one seal and the store verifies.
source "$(dirname "$0")/serve_lib.sh" || exit 1
NOW=2026-03-01T00:00:00Z
DELAY=4

start_slow_tsa "$DELAY"
expect_status 0 at "$NOW" init s --tsa-url "$PROXY_URL"
expect_status 0 at "$NOW" trust add s --tsa tsa-dir/anchors.pem
ARCH=$(at "$NOW" user add s arch --role archivist 2>/dev/null)

SERVE_WHAT=serve start_serve srv "$NOW" 127.0.0.1:0 s --seal-every 1
API=${SERVER_URL}api/v1
submit d1
: >proxy.log
for ((i = 0; i < 100; i++)); do
	[ -s proxy.log ] && break
	sleep 0.1
done
[ -s proxy.log ] || fail "the scheduler asked no time-stamp within 10 s of a submission: $(cat srv.err)"
submit d2
py 'import sys; t = float(open("d2.time").read()); sys.exit(0 if t < 2.0 else 1)' ||
	fail "a PreservePO during a seal's TSA request took $(cat d2.time) s (the TSA answers after $DELAY s)"
submit d3 "&wait=sealed"
py 'd = json.load(open("d3.json")); assert d["sealed"] is True, d' || fail "PreservePO?wait=sealed: $(cat d3.json)"

# every object sealed (the scheduler's later rounds seal what is left), each in one seal
for ((i = 0; i < 200; i++)); do
	at "$NOW" status s --json >status.json 2>/dev/null || true
	py 'd = json.load(open("status.json")); sys.exit(0 if d["objects"]["pending"] == 0 else 1)' 2>/dev/null && break
	sleep 0.1
done
py 'd = json.load(open("status.json")); assert d["objects"]["pending"] == 0, d["objects"]' ||
	fail "objects still pending after 20 s: $(head -c 600 status.json)"
stop_all_servers
expect_status 0 at "$NOW" verify s --json
py '
ids = {json.load(open(n + ".json"))["poId"][0] for n in ("d1", "d2", "d3")}
seen = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    seen[r["id"]] = r
for i in ids:
    r = seen[i]
    assert r["verdict"] == "valid" and len(r["chains"]) == 1, r
' "$OUT" || fail "kura verify: $(head -c 1500 "$OUT")"
echo ok
