#!/usr/bin/env bash
# A group commit of kura serve costs ONE sync (archive/store.c, INVARIANTS): the segment's.
# The index's log is synced at most once a second (and when the index opens and closes),
# not once a commit: faultfs counts the syncs of the index's files while 16 connections
# submit, and there must be far fewer than the commits the submissions needed. Every
# submission is acknowledged and in the store after the server stops.
source "$(dirname "$0")/serve_lib.sh"
FAULTFS=${KURA_FAULTFS:-$(dirname "$KURA_BIN")/tests/libkura_faultfs.so}
[ -f "$FAULTFS" ] || fail "no faultfs library at $FAULTFS (build the tests)"
NDOCS=480

kura init s >/dev/null 2>&1 || fail init
ARCH=$(kura user add s dms --role archivist 2>/dev/null) || fail "user add"

# kura serve with faultfs counting the syncs of the files under s/$1 (log in $2)
counted_serve()
{
	cat >counted-kura <<EOF
#!/usr/bin/env bash
KURA_FAULT_MODE=count KURA_FAULT_KINDS=sync KURA_FAULT_N=0 KURA_FAULT_LOG=$T/$2 KURA_FAULT_PATH=$T/s/$1 \\
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 LD_PRELOAD=$FAULTFS exec "$KURA_BIN" "\$@"
EOF
	chmod +x counted-kura
	KURA_BIN=$T/counted-kura start_serve "$3" "" 127.0.0.1:0 s
}

# its count of syncs, once the server has stopped
synced() { sed -n 's/.* sync \([0-9]*\).*/\1/p' "$1" | tail -1; }

counted_serve index/ index.log srv
t0=$(date +%s%N)
"$PYTHON" "$HERE/serve_load.py" 127.0.0.1 "$SERVER_PORT" "$ARCH" 16 "$NDOCS" 4096 load.acked load.status
secs=$((($(date +%s%N) - t0 + 999999999) / 1000000000))
stop_server "$SERVER_PID"
py 'd = json.load(open("load.status")); assert d == {"201": int(sys.argv[1])}, d' "$NDOCS" ||
	fail "not every submission was answered 201: $(cat load.status)"
isyncs=$(synced index.log)
[ -n "$isyncs" ] || fail "faultfs counted nothing: $(cat index.log)"

# the same load, counting the segment's syncs (two a commit: sync_file_range, fdatasync)
counted_serve segments/ segments.log srv2
"$PYTHON" "$HERE/serve_load.py" 127.0.0.1 "$SERVER_PORT" "$ARCH" 16 "$NDOCS" 4096 load2.acked load2.status
stop_server "$SERVER_PID"
ssyncs=$(synced segments.log)
echo "$NDOCS submissions in ${secs} s: $isyncs syncs of the index; the same load again: $ssyncs of the segment" >&2

# A commit holds at most 16 submissions (the clients wait for their answers): at least
# NDOCS / 16 commits. Opening RocksDB syncs a few of its files; then one sync a second at
# most, and one at the close.
[ "$isyncs" -le $((8 + secs)) ] ||
	fail "$NDOCS submissions (at least $((NDOCS / 16)) commits, ${secs} s) made $isyncs syncs of the index: it is synced at every commit"
[ "$ssyncs" -ge $((2 * NDOCS / 16)) ] || fail "test assumption: $ssyncs segment syncs for at least $((NDOCS / 16)) commits"
[ $((8 + secs)) -lt $((NDOCS / 16)) ] || echo "note: the load took ${secs} s, too slow for this count to tell" >&2

kura ls s --json >ls.json || fail "ls --json"
py '
objs = {o["id"]: o["sha256"] for o in json.load(open("ls.json"))}
for f in sys.argv[1:]:
    for line in open(f):
        id_, sha = line.split()
        if objs.get(id_) != sha:
            sys.exit("acknowledged %s is not in the store as sent" % id_)
' load.acked load2.acked || fail "an acknowledged submission is missing"
expect_scrub_clean s "after the loads"
