#!/usr/bin/env bash
# kura serve with many clients at once (issue 17, point 3; docs/SERVICE.md, "Many clients"):
# - group commit: submissions from 16 connections at once are committed together, so the
#   segment is synced far fewer times than there are submissions (counted by faultfs);
# - a failed segment sync fails the requests of its batch (503) and acknowledges nothing of
#   them, and later submissions are stored all the same;
# - 1,000 idle connections, a client sending its body byte by byte and one not reading its
#   answer do not stop service to others;
# - kill -9 during a load of 16 submitters loses no acknowledged document (right SHA-256),
#   and scrub is clean after the restart;
# - a flood of bad tokens from one address makes a bounded number of audit records, and the
#   count of the refusals not recorded one by one is recorded;
# - the audit trail's chain holds (kura log --verify) with many records in one commit.
source "$(dirname "$0")/serve_lib.sh"
FAULTFS=${KURA_FAULTFS:-$(dirname "$KURA_BIN")/tests/libkura_faultfs.so}
[ -f "$FAULTFS" ] || fail "no faultfs library at $FAULTFS (build the tests)"
if [ "$KURA_SANITIZED" = 1 ]; then
	NDOCS=96 IDLE=300 LOAD_MS=4000
else
	NDOCS=320 IDLE=1000 LOAD_MS=2500
fi

kura init s >/dev/null 2>&1 || fail init
ARCH=$(kura user add s dms --role archivist 2>/dev/null) || fail "user add"
AUD=$(kura user add s aud --role auditor 2>/dev/null) || fail "user add"

# load NAME THREADS COUNT: serve_load.py against the running server (acked in NAME.acked)
load() { "$PYTHON" "$HERE/serve_load.py" 127.0.0.1 "$SERVER_PORT" "$ARCH" "$2" "$3" 4096 "$1.acked" "$1.status" "${@:4}"; }
# check_acked FILE: every "ID SHA256" line of FILE is an object of s with that SHA-256
check_acked()
{
	kura ls s --json >ls.json || fail "ls --json"
	py '
objs = {o["id"]: o for o in json.load(open("ls.json"))}
n = 0
for line in open(sys.argv[1]):
    id_, sha = line.split()
    o = objs.get(id_)
    if o is None:
        sys.exit("acknowledged ID %s is not in the store" % id_)
    if o["sha256"] != sha:
        sys.exit("acknowledged ID %s has SHA-256 %s in the store, %s was sent" % (id_, o["sha256"], sha))
    n += 1
print(n)
' "$1" >n.out || fail "$(cat n.out)"
}

# ---- group commit: far fewer segment syncs than submissions
# start_faulty_serve MODE N LOG NAME: kura serve with faultfs acting on the syncs of s's segments
start_faulty_serve()
{
	local real=$KURA_BIN
	cat >faulty-kura <<EOF
#!/usr/bin/env bash
KURA_FAULT_MODE=$1 KURA_FAULT_KINDS=sync KURA_FAULT_N=$2 KURA_FAULT_LOG=$T/$3 KURA_FAULT_PATH=$T/s/segments \\
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 LD_PRELOAD=$FAULTFS exec "$real" "\$@"
EOF
	chmod +x faulty-kura
	KURA_BIN=$T/faulty-kura start_serve "$4" "" 127.0.0.1:0 s
}
start_faulty_serve count 0 syncs.log srv1
load group 16 "$NDOCS"
stop_server "$SERVER_PID"
py 'd = json.load(open("group.status")); assert d == {"201": int(sys.argv[1])}, d' "$NDOCS" || fail "not every submission was answered 201: $(cat group.status)"
check_acked group.acked
[ "$(cat n.out)" = "$NDOCS" ] || fail "acknowledged $(cat n.out) of $NDOCS"
syncs=$(sed -n 's/.* sync \([0-9]*\).*/\1/p' syncs.log | tail -1)
[ -n "$syncs" ] || fail "faultfs counted nothing: $(cat syncs.log)"
# a commit syncs twice (sync_file_range, fdatasync): one commit per request and one per audit
# record would be 4 * NDOCS
[ "$syncs" -le $((NDOCS / 2)) ] || fail "$NDOCS submissions from 16 connections made $syncs segment syncs (one commit per request makes two per submission)"
echo "group commit: $NDOCS submissions, $syncs segment syncs" >&2
# many audit records in one commit, each chained to the one before (archive/audit.c)
expect_status 0 kura log s --verify

# ---- a failed sync: its batch is refused (503), nothing of it acknowledged; then it goes on.
# A commit's syncs are a sync_file_range (writeback) and the fdatasync: the 4th is the second
# commit's fdatasync.
start_faulty_serve fail 4 fail.log srv2
load failing 16 $((NDOCS / 2))
stop_server "$SERVER_PID"
grep -q "hit sync" fail.log || fail "the fourth segment sync was not failed: $(cat fail.log)"
py '
d = json.load(open("failing.status"))
assert d.get("503", 0) >= 1 and d.get("201", 0) >= 1 and set(d) <= {"201", "503"}, d
' || fail "a failed sync: expected some 503 and the rest 201, got $(cat failing.status)"
cat group.acked failing.acked >all.acked
check_acked all.acked
kura ls s --json >ls.json
py 'assert len(json.load(open("ls.json"))) == sum(1 for _ in open("all.acked")), "the store holds objects that were never acknowledged"' ||
	fail "a refused batch left objects behind"
expect_scrub_clean s "after a failed sync"

# ---- idle and stalled clients do not stop service to others
start_serve srv3 "" 127.0.0.1:0 s
ID=$(head -1 group.acked | cut -d' ' -f1)
py '
import socket, time, threading
port, n = int(sys.argv[1]), int(sys.argv[2])
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
trickle = socket.create_connection(("127.0.0.1", port))  # sends its body byte by byte
trickle.sendall(b"POST /api/v1/PreservePO?name=slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 100\r\n\r\n" % sys.argv[3].encode())
deaf = socket.create_connection(("127.0.0.1", port))  # asks for answers and never reads them
deaf.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
deaf.sendall(b"GET /api/v1/po/%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % (sys.argv[4].encode(), sys.argv[3].encode()) * 200)
def drip():
    for _ in range(20):
        trickle.sendall(b"x")
        time.sleep(0.2)
threading.Thread(target=drip, daemon=True).start()
open("idle.ready", "w").write("%d" % len(idle))
time.sleep(8)
' "$SERVER_PORT" "$IDLE" "$ARCH" "$ID" &
idle=$!
for ((i = 0; i < 300; i++)); do [ -s idle.ready ] && break; sleep 0.05; done
[ -s idle.ready ] || fail "the idle connections were not opened"
start=$(date +%s%N)
for i in 1 2 3 4 5; do
	c=$(curl -s -m 5 -o got -w '%{http_code}' -H "Authorization: Bearer $AUD" "${SERVER_URL}api/v1/po/$ID") || true
	[ "$c" = 200 ] || fail "GET $i while $IDLE connections idle and two stall: $c"
	echo "busy $i" >b.txt
	c=$(curl -s -m 5 -o got -w '%{http_code}' -H "Authorization: Bearer $ARCH" --data-binary @b.txt "${SERVER_URL}api/v1/PreservePO?name=b$i") || true
	[ "$c" = 201 ] || fail "PreservePO $i while $IDLE connections idle and two stall: $c"
done
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -lt 5000 ] || fail "10 requests took $ms ms beside idle and stalled clients"
wait $idle || fail "the idle clients failed"
stop_server "$SERVER_PID"

# ---- kill -9 during a load of 16 submitters: every acknowledged document is there
start_serve srv4 "" 127.0.0.1:0 s
load killed 16 0 &
loader=$!
sleep "$(py 'print(int(sys.argv[1]) / 1000)' "$LOAD_MS")"
kill -9 "$SERVER_PID"
wait "$loader" || fail "the load client failed"
sed -i "/^$SERVER_PID\$/d" "$SERVERS_FILE"
[ "$(wc -l <killed.acked)" -ge 16 ] || fail "only $(wc -l <killed.acked) submissions acknowledged before the kill"
start_serve srv5 "" 127.0.0.1:0 s # the restart takes up what the kill left
stop_server "$SERVER_PID"
check_acked killed.acked
echo "kill -9: $(cat n.out) acknowledged documents all there" >&2
shuf -n 8 --random-source=killed.acked killed.acked | while read -r id sha; do
	kura get s "$id" -o doc >/dev/null 2>&1 || fail "kura get $id after kill -9"
	[ "$(sha256sum <doc | cut -d' ' -f1)" = "$sha" ] || fail "$id came back with other bytes"
done
expect_scrub_clean s "after kill -9 under load"
expect_status 0 kura log s --verify

# ---- a flood of bad tokens: bounded audit records, the rest counted
start_serve srv6 "" 127.0.0.1:0 s
py '
import http.client
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
for i in range(300):
    c.request("GET", "/api/v1/RetrieveInfo", headers={"Authorization": "Bearer kura_%064d" % i})
    r = c.getresponse(); r.read()
    assert r.status == 401, r.status
' "$SERVER_PORT" || fail "the bad tokens were not all refused"
c=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $AUD" "${SERVER_URL}api/v1/RetrieveInfo")
[ "$c" = 200 ] || fail "a good token after the flood: $c"
stop_server "$SERVER_PID"
expect_status 0 kura log s --json
py '
recs = [r for r in json.load(open(sys.argv[1])) if r.get("action") == "api" and r.get("actor") == "anonymous"]
# each recorded refusal, and the counts of those that were not (in the record of a later one,
# or in the one the service writes when it stops: no method and path)
n = sum(1 for r in recs if r["path"]) + sum(r.get("refusedUnrecorded", 0) for r in recs)
assert len(recs) <= 40, "%d audit records for 300 bad tokens" % len(recs)
assert n == 300, "%d records saying %d refusals, 300 were made" % (len(recs), n)
' "$OUT" || fail "refusals: $(tail -c 300 "$OUT")"
for f in srv*.err; do
	if grep -q "Sanitizer" "$f"; then fail "$f: $(grep -A12 Sanitizer "$f" | head -30)"; fi
done
