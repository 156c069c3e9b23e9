#!/usr/bin/env bash
# Faults of the cluster under a RADOS store, on a throwaway cluster whose OSD keeps its data
# in BlueStore (tests/cli/ceph.sh, CEPH_OBJECTSTORE=bluestore), so that it can be stopped
# and started again. If the cluster does not start, the test fails and says why.
# - The OSD stopped during an ingest and started again within the store's op_timeout_seconds:
#   the writes wait (nothing more is printed while it is down), then the ingest completes
#   with every document, and scrub is clean.
# - The OSD stopped and left down: the ingest exits 3 within op_timeout_seconds plus a
#   lease, naming the cluster problem and what to do; every printed ID survives with its
#   bytes; commands started while it is down fail the same way; after the OSD is back the
#   next ingest works, and seal, verify and scrub are clean.
# - The omap directory kura.segments damaged behind kura's back (a value that is no letter,
#   a key removed, the whole object removed): the commands refuse with a message naming the
#   damage and the rados command that restores it; reindex refuses rather than drop what the
#   directory lost; done as the message says, the store is whole again. A segment lost
#   for good (key and object): reindex names every object it lost.
# - An object cut short (rados truncate): scrub and verify name the documents, exit 1.
source "$(dirname "$0")/lib.sh" || exit 1
source "$(dirname "$0")/ceph.sh" || exit 1
cd "$T"

if [ "$KURA_SANITIZED" = 1 ]; then NDOCS=1200; else NDOCS=3000; fi
export CEPH_OBJECTSTORE=bluestore
on_exit "ceph_stop '$T/ceph'"
ceph_start "$T/ceph" >ceph.out 2>&1 || fail "the test Ceph cluster did not start: $(cat ceph.out)"
cat ceph.out
R=(rados -c "$CEPH_CONF" -p "$CEPH_POOL")

# rados_init STORE NAMESPACE LEASE OP-TIMEOUT [init options...]: op_timeout_seconds is set
# in the store's config.json, as an operator does
rados_init()
{
	local store=$1 ns=$2 lease=$3 timeout=$4
	shift 4
	expect_status 0 kura init "$store" --backend rados --ceph-conf "$CEPH_CONF" --pool "$CEPH_POOL" \
		--namespace "$ns" --lease-seconds "$lease" "$@"
	py '
c = json.load(open(sys.argv[1]))
c["backend"]["op_timeout_seconds"] = int(sys.argv[2])
json.dump(c, open(sys.argv[1], "w"), indent=2)
' "$store/config.json" "$timeout"
}

# make_docs DIR N: N documents of 20 KB, all different
make_docs()
{
	py '
d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(d)
for i in range(n):
    with open("%s/d%05d.bin" % (d, i), "wb") as f:
        f.write(b"document %d of %s\n" % (i, d.encode()) + os.urandom(20000))
' "$1" "$2"
}

# start_ingest STORE DIR: an ingest in the background (INGEST_PID), its output in
# ingest.out/.err; returns once it has printed its first IDs (some documents are
# acknowledged, the writer lock is held) and fails if it ended before
start_ingest()
{
	: >ingest.out # else the last case's output looks like this one's first IDs
	"$KURA_BIN" ingest "$1" "$2" >ingest.out 2>ingest.err &
	INGEST_PID=$!
	local i
	for i in $(seq 1 3000); do
		[ -s ingest.out ] && break
		kill -0 "$INGEST_PID" 2>/dev/null || break
		sleep 0.01
	done
	kill -0 "$INGEST_PID" 2>/dev/null ||
		fail "the ingest ended before the OSD could be stopped (make more documents): $(cat ingest.err)"
	[ -s ingest.out ] || fail "the ingest printed nothing in 30 s: $(cat ingest.err)"
}

# wait_ingest SECONDS: waits for the ingest at most SECONDS; sets INGEST_STATUS
wait_ingest()
{
	local end=$(($(date +%s) + $1))
	while kill -0 "$INGEST_PID" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$end" ]; then
			kill -9 "$INGEST_PID" 2>/dev/null
			fail "the ingest still ran $1 s after the OSD stopped: it hangs instead of failing"
		fi
		sleep 0.1
	done
	INGEST_STATUS=0
	wait "$INGEST_PID" || INGEST_STATUS=$?
}

# complete_lines: the complete lines of ingest.out (a kill or an error may tear the last)
complete_lines() { py 'sys.stdout.write("".join(l for l in open("ingest.out") if l.endswith("\n")))'; }

# osd_up: starts the OSD when a failed case left it stopped (so that only that case fails)
osd_up() { [ -f "$T/ceph/pids/osd.0" ] || ceph_osd_start "$T/ceph" || fail "the OSD did not start again"; }

make_docs docs "$NDOCS"
make_docs more 50

# ------------------------------------------------------------------ the OSD comes back in time
back_case()
{
	rados_init A back 60 60
	start_ingest A docs
	ceph_osd_stop "$T/ceph"
	local t_stop=$SECONDS n_before n_down
	sleep 2
	n_before=$(wc -l <ingest.out)
	sleep 2
	n_down=$(wc -l <ingest.out)
	kill -0 "$INGEST_PID" 2>/dev/null || fail "the ingest did not wait for the OSD: $(tail -n 3 ingest.err)"
	[ "$n_before" = "$n_down" ] || fail "the ingest acknowledged documents while the only OSD was down ($n_before, then $n_down)"
	ceph_osd_start "$T/ceph" || fail "the OSD did not start again"
	echo "[$TEST_NAME] the OSD was down for $((SECONDS - t_stop)) s; $n_down of $NDOCS documents printed before"
	wait_ingest 120
	[ "$INGEST_STATUS" = 0 ] || fail "the ingest failed ($INGEST_STATUS) although the OSD came back in time: $(cat ingest.err)"
	[ "$(wc -l <ingest.out)" = "$NDOCS" ] || fail "the ingest printed $(wc -l <ingest.out) of $NDOCS documents"
	check_acked A ingest.out 5
	expect_scrub_clean A "after the OSD came back"
}
run_case "the OSD stopped during ingest comes back within the timeout" back_case

# ------------------------------------------------------------------ the OSD stays down
down_case()
{
	osd_up
	local timeout=5 lease=10
	rados_init B down "$lease" "$timeout"
	start_ingest B docs
	ceph_osd_stop "$T/ceph"
	local t_stop=$SECONDS
	wait_ingest 90
	local took=$((SECONDS - t_stop))
	[ "$INGEST_STATUS" = 3 ] || fail "with the OSD down the ingest exited $INGEST_STATUS, not 3: $(cat ingest.err)"
	echo "[$TEST_NAME] the ingest gave up $took s after the OSD stopped: $(tail -n 1 ingest.err)"
	[ "$took" -le $((timeout + lease + 10)) ] || fail "the ingest gave up only after $took s (op_timeout_seconds $timeout)"
	expect_grep ingest.err "the Ceph cluster of rados:kura/down did not answer within $timeout s"
	expect_grep ingest.err "check \`ceph -s\` and \`ceph osd tree\`, bring it back, then run the command again"
	complete_lines >acked.tsv
	[ "$(wc -l <acked.tsv)" -lt "$NDOCS" ] || fail "every document was printed although the OSD was down"
	# a command started while it is down: taking the lock times out, and it says why
	expect_error 3 kura ingest B more/d00001.bin
	expect_grep "$ERR" "the Ceph cluster of rados:kura/down did not answer within $timeout s"
	ceph_osd_start "$T/ceph" || fail "the OSD did not start again"
	check_acked B acked.tsv 5
	expect_scrub_clean B "after the OSD came back"
	expect_status 0 kura ingest B more # waits for the lease of the failed writer to run out
	[ "$(wc -l <"$OUT")" = 50 ] || fail "the ingest after the OSD came back printed $(wc -l <"$OUT") lines"
	expect_status 0 kura verify B
	expect_scrub_clean B "after the next ingest"
}
run_case "the OSD stopped during ingest stays down" down_case

# ------------------------------------------------------------------ the directory damaged
# Three ingests into segments of 20 kB: four segments or more.
dir_case()
{
	osd_up
	rados_init D dir 5 30 --segment-size 20000
	local g
	: >acked.tsv
	for g in 1 2 3; do
		expect_status 0 kura ingest D --no-seal more/d000"$g"*.bin
		cat "$OUT" >>acked.tsv
	done
	expect_status 0 kura seal D
	expect_status 0 kura ls D
	cp "$OUT" ls.before
	local N=(-N dir)
	"${R[@]}" "${N[@]}" getomapval kura.segments 00000002 letter.bin >/dev/null
	[ "$(cat letter.bin)" = a ] || fail "segment 2 is not kura.seg.00000002.a"

	# a value that is not a letter
	"${R[@]}" "${N[@]}" setomapval kura.segments 00000002 x
	expect_status 1 kura scrub D
	grep -qP "^DAMAGED\t[0-9A-Z]{26}\tsegment 2 offset [0-9]+\t" "$OUT" || fail "scrub names no document of segment 2: $(cat "$OUT")"
	expect_status 3 kura verify D
	expect_grep "$ERR" "names key 00000002 with 1 byte(s) that are not the letter a or b"
	expect_grep "$ERR" "setomapval kura.segments 00000002 a"
	"${R[@]}" "${N[@]}" setomapval kura.segments 00000002 a
	expect_scrub_clean D "after the directory's value was put back"

	# a key removed: every command refuses, reindex too (it would drop segment 2)
	"${R[@]}" "${N[@]}" rmomapkey kura.segments 00000002
	expect_error 3 kura scrub D
	expect_grep "$ERR" "does not name segment 00000002, yet the pool holds its object kura.seg.00000002.a"
	cp "$ERR" fix.err
	expect_error 3 kura reindex D
	expect_grep "$ERR" "does not name segment 00000002"
	expect_error 3 kura ingest D more/d00040.bin
	expect_status 0 kura ls D
	cmp -s "$OUT" ls.before || fail "the refused commands changed the listing"
	# done as the message says
	local fix
	fix=$(grep -o '`rados [^`]*setomapval[^`]*`' fix.err | tr -d '`') ||
		fail "the message gives no command to restore the directory: $(cat fix.err)"
	eval "${fix/rados /rados -c \"\$CEPH_CONF\" }"
	expect_scrub_clean D "after the key was named again"

	# the whole directory removed (the writer lock, taken again, makes an empty one)
	"${R[@]}" "${N[@]}" rm kura.segments
	expect_error 3 kura scrub D
	expect_grep "$ERR" "the directory kura.segments of rados:kura/dir names no segment, yet the pool holds"
	expect_error 3 kura reindex D
	expect_error 3 kura ingest D more/d00040.bin
	expect_grep "$ERR" "names no segment"
	local obj
	for obj in $("${R[@]}" "${N[@]}" ls | grep '^kura\.seg\.'); do
		"${R[@]}" "${N[@]}" setomapval kura.segments "$(echo "$obj" | cut -d. -f3)" "$(echo "$obj" | cut -d. -f4)"
	done
	expect_scrub_clean D "after the directory was restored"
	expect_status 0 kura verify D
	expect_status 0 kura reindex D
	expect_status 0 kura ls D
	cmp -s "$OUT" ls.before || fail "the listing after the directory was restored differs"

	# a segment lost for good (its key and its object): reindex names all it lost
	"${R[@]}" "${N[@]}" rmomapkey kura.segments 00000002
	"${R[@]}" "${N[@]}" rm kura.seg.00000002.a
	expect_status 1 kura scrub D
	cut -f2 "$OUT" | sort >damaged.ids
	[ -s damaged.ids ] || fail "scrub names nothing after segment 2 was removed"
	expect_status 1 kura reindex D
	grep -qE "^kura: segment 00000002 bytes 16 to [0-9]+: the segment file is missing$" "$ERR" ||
		fail "reindex does not say segment 2 is missing: $(head -n 3 "$ERR")"
	grep -o 'lost: object [0-9A-Z]*' "$ERR" | cut -d' ' -f3 | sort >lost.ids
	cmp -s damaged.ids lost.ids || fail "reindex names other objects as lost than scrub: $(diff damaged.ids lost.ids)"
}
run_case "the omap directory damaged or removed behind kura's back" dir_case

# ------------------------------------------------------------------ an object cut short
cut_case()
{
	osd_up
	rados_init C cut 5 30
	expect_status 0 kura ingest C more
	cp "$OUT" acked.tsv
	local size
	size=$("${R[@]}" -N cut stat kura.seg.00000001.a | sed 's/.* size //')
	"${R[@]}" -N cut truncate kura.seg.00000001.a $((size / 2))
	expect_status 1 kura scrub C
	grep -P "^DAMAGED\t" "$OUT" | cut -f2 | sort -u >damaged.ids
	[ "$(wc -l <damaged.ids)" -ge 10 ] || fail "scrub names $(wc -l <damaged.ids) documents after half the object was cut off"
	expect_status 1 kura verify C
	local id
	for id in $(head -n 3 damaged.ids); do expect_grep "$OUT" "$id"; done
}
run_case "a segment object cut short" cut_case
finish_cases
