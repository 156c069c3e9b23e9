# Fault-injection and crash-point sweeps over kura's writing operations, compaction among them
# (sourced after tests/cli/lib.sh by tests/fault/test_*.sh and by `make fault-test`).
#
# faultfs (tests/fault/faultfs.c) is preloaded below kura and RocksDB. For each operation a
# store is prepared once in the state just before it; then, for each fault point N, a copy of
# it runs the operation with one fault at the Nth matching call. Five sweeps per operation:
#   EIO once, at any kind of call (open, write, sync, rename, truncate/allocate);
#   ENOSPC once, at a write or an allocation;
#   a short write (half of it written), once;
#   ENOSPC at the Nth write, allocation or sync and at every one after it (a full disk);
#   a kill (SIGKILL) before the Nth durable step (every fsync/fdatasync/sync_file_range and
#   rename/link).
# After every point:
#   - the status is 0 or 3 (a kill: 137), and a 3 comes with a "kura: " message that names
#     the system error (or the index operation that failed: RocksDB's messages do not always
#     carry the errno);
#   - every object acknowledged before (the prepared store's) or by the run (its printed IDs)
#     is still get-able, byte-exact;
#   - without a person: the next ingest works, running the operation again works (seal,
#     renew, reindex), `verify` says every object is valid, `scrub` is clean.
# reindex-loss (a reindex that loses committed records) exits 1 when it works, and its store
# stays damaged: running it again reports the loss again (1), scrub reports the cut, and
# check_loss wants the loss in the audit trail and disposal suspended.
#
# Under ASan (KURA_SANITIZED=1) the sweeps run with ASAN_OPTIONS=verify_asan_link_order=0, so
# that the error paths they reach are also checked for memory errors; the short sweep takes
# fewer points there (tests/fault/test_fault_sweep.sh).
#
# Settings: FAULT_OPS (operations, default all), FAULT_SAMPLE (points per sweep, 0 = every
# point), FAULT_SUB (only files under this part of the store, e.g. index/), FAULT_SUMMARY (a file that gets one line per sweep: op sweep points run failures).

FAULTFS=${KURA_FAULTFS:-$(dirname "$KURA_BIN")/tests/libkura_faultfs.so}
[ -f "$FAULTFS" ] || fail "no faultfs library at $FAULTFS (build the tests: make build)"
FAULT_OPS=${FAULT_OPS:-"ingest seal renew-ts renew-hashtree rollover import reindex reindex-loss"}
FAULT_SAMPLE=${FAULT_SAMPLE:-0}
# under ASan the sanitizer's runtime wants to be the first library; faultfs goes first (it is
# built without the sanitizer and hands every call on to the sanitizer's interceptors)
FAULT_ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
FAULT_SUMMARY=${FAULT_SUMMARY:-$T/summary}
# what a killed import leaves in $TMPDIR (its unpacked package) goes with $T
export TMPDIR=$T/tmp
mkdir -p "$TMPDIR"
D0=2026-01-01T00:00:00Z
BASE=$T/base
FAILURES=$T/failures
: >"$FAILURES"

# faulty MODE KINDS N ERROR LOG STOREPATH CMD...: CMD with faultfs acting on STOREPATH's files
faulty()
{
	KURA_FAULT_STICKY=${FAULT_STICKY:-0} ASAN_OPTIONS=$FAULT_ASAN_OPTIONS LD_PRELOAD=$FAULTFS KURA_FAULT_MODE=$1 KURA_FAULT_KINDS=$2 KURA_FAULT_N=$3 KURA_FAULT_ERROR=$4 \
		KURA_FAULT_LOG=$5 KURA_FAULT_PATH=$6/${FAULT_SUB:-} "${@:7}"
}

# ---------------------------------------------------------------- operations
# prep_OP DIR: makes DIR/S (and inputs) just before OP, sets DIR/now (the clock of OP and of
# the checks); run_OP DIR: runs OP (stdout/stderr to the caller).

new_store()
{
	test_policy "$1/policy.yaml" fault-test
	expect_status 0 at "$D0" init "$1/S" --policy "$1/policy.yaml" --tsa-days 365 --segment-size 4096
	random_file "$1/a" 3000
	random_file "$1/b" 2500
	printf 'small' >"$1/c"
	echo "$2" >"$1/now"
}

prep_ingest() { new_store "$1" 2026-02-01T00:00:00Z && expect_status 0 at "$D0" ingest "$1/S" "$1/a"; }
run_ingest() { at "$(cat "$1/now")" ingest "$1/S" --meta k=v "$1/b" "$1/c" "$1/a"; }

prep_seal() { new_store "$1" 2026-02-01T00:00:00Z && expect_status 0 at "$D0" ingest "$1/S" --no-seal "$1/a" "$1/b" "$1/c"; }
run_seal() { at "$(cat "$1/now")" seal "$1/S"; }

# the embedded TSA's certificate ends 2027-01-01: from 2026-12-02 a seal first rolls it over
prep_rollover() { new_store "$1" 2026-12-10T00:00:00Z && expect_status 0 at "$D0" ingest "$1/S" "$1/a" && expect_status 0 at "$D0" ingest "$1/S" --no-seal "$1/b"; }
run_rollover() { run_seal "$@"; }

# rolled over already; the chain of 2026-01-01 then needs a time-stamp renewal
prep_renew-ts() { prep_rollover "$1" && expect_status 0 at "$(cat "$1/now")" seal "$1/S"; }
run_renew-ts() { at "$(cat "$1/now")" renew "$1/S"; }

prep_renew-hashtree()
{
	new_store "$1" 2026-05-10T00:00:00Z && expect_status 0 at "$D0" ingest "$1/S" "$1/a" "$1/b" &&
		expect_status 0 at "$D0" policy sunset "$1/S" sha256 2026-06-01
}
run_renew-hashtree() { run_renew-ts "$@"; }

prep_import()
{
	new_store "$1" 2026-02-01T00:00:00Z && expect_status 0 at "$D0" ingest "$1/S" "$1/c" &&
		expect_status 0 at "$D0" init "$1/P" --policy "$1/policy.yaml" &&
		expect_status 0 at "$D0" ingest "$1/P" "$1/a" "$1/b" &&
		expect_status 0 at "$D0" export "$1/P" -o "$1/pkg.tar" &&
		at "$D0" tsa ca "$1/P" >"$1/p-root.pem" && expect_status 0 at "$D0" trust add "$1/S" --tsa "$1/p-root.pem" &&
		sha256_of "$1/a" >"$1/allowed" && sha256_of "$1/b" >>"$1/allowed"
}
run_import() { at "$(cat "$1/now")" import "$1/S" "$1/pkg.tar"; }

prep_reindex() { prep_renew-ts "$1" && expect_status 0 at "$(cat "$1/now")" renew "$1/S"; }
run_reindex() { at "$(cat "$1/now")" reindex "$1/S"; }

# a reindex that loses committed records and writes afterwards (archive/loss.c: a new segment,
# nothing after damage; the audit record of the loss): the last segment cut inside the object
# record of b (ingested after a's seal; its ID in DIR/lost, not to be read back). Its status is
# 1 (the loss reported); the checks (check_loss) want the loss recorded once the reindex has run
# again without faults, and disposal suspended.
prep_reindex-loss()
{
	local off
	test_policy "$1/policy.yaml" fault-test
	random_file "$1/a" 3000
	random_file "$1/b" 2500
	echo 2026-02-01T00:00:00Z >"$1/now"
	expect_status 0 at "$D0" init "$1/S" --policy "$1/policy.yaml" --tsa-days 365 &&
		expect_status 0 at "$D0" ingest "$1/S" "$1/a" && expect_status 0 at "$D0" ingest "$1/S" --no-seal "$1/b" || return 1
	cut -f1 "$OUT" >"$1/lost"
	off=$(at "$D0" show "$1/S" "$(cat "$1/lost")" --json | py 'print(json.load(sys.stdin)["offset"])')
	truncate -s $((off + 30)) "$1/S/segments/00000001.seg"
}
run_reindex-loss() { at "$(cat "$1/now")" reindex "$1/S"; }

# check_loss DIR: after a reindex-loss point and a reindex without faults: the loss is in the
# trail (a point between the audit record and its index commit may leave it there twice), and
# disposal waits for a person
check_loss()
{
	local n
	n=$(at "$(cat "$1/now")" log "$1/S" --json | py 'print(sum(e["action"] == "reindex-loss" for e in json.load(sys.stdin)))')
	[ "$n" -ge 1 ] || point_fail "$1" "the loss is not in the audit trail" || return 1
	if at "$(cat "$1/now")" log "$1/S" --verify >"$1/log.out" 2>&1; then
		point_fail "$1" "log --verify passes after a loss"
		return 1
	fi
	grep -q "disposal is suspended" "$1/log.out" || point_fail "$1" "disposal is not suspended: $(head -c 300 "$1/log.out")"
}

# compaction (with the test-only kura_compact_tool): a and the first of two objects of b's
# content disposed of (their IDs in DIR/disposed, which are not acknowledged objects any more:
# `get` says they were disposed of); a's blob goes, b's stays (the second object uses it)
COMPACT_TOOL=${KURA_COMPACT_TOOL:-$(dirname "$KURA_BIN")/tests/kura_compact_tool}
prep_compact()
{
	new_store "$1" 2026-02-01T00:00:00Z && expect_status 0 at "$D0" ingest "$1/S" "$1/a" &&
		cut -f1 "$OUT" >"$1/disposed" && expect_status 0 at "$D0" ingest "$1/S" "$1/b" &&
		cut -f1 "$OUT" >>"$1/disposed" && expect_status 0 at "$D0" ingest "$1/S" "$1/c" "$1/b" &&
		expect_status 0 "$COMPACT_TOOL" "$1/S" --mark $(cat "$1/disposed")
}
run_compact() { KURA_NOW=$(cat "$1/now") "$COMPACT_TOOL" "$1/S"; }

# The objects a store holds, "ID SHA256" a line (what is acknowledged before an operation).
store_objects()
{
	at "$D0" ls "$1" --json | py 'for o in json.load(sys.stdin): print(o["id"], o["sha256"])'
}

# ---------------------------------------------------------------- one point

# point_fail DIR WHAT: records a failure of the point being checked
point_fail()
{
	local what
	what=$(printf '%s' "$2" | tr '\n' ' ') # one line a point: the verdict counts lines
	echo "$POINT: $what" >>"$FAILURES"
	echo "  $POINT: $what" >&2
	cp -a "$1" "$T/failed.$(wc -l <"$FAILURES")" 2>/dev/null || true
	return 1
}

# check_point OP DIR STATUS MODE ERROR: the checks after one fault (0 all well)
check_point()
{
	local op=$1 W=$2 status=$3 mode=$4 error=$5 now line id sha got
	now=$(cat "$W/now")
	if [ "$mode" = crash ]; then
		[ "$status" -eq 137 ] || [ "$status" -eq 0 ] || point_fail "$W" "status $status, not killed: $(head -c 300 "$W/err")" || return 1
	else
		case $status in
		0) ;;
		1) [ "$op" = reindex-loss ] || point_fail "$W" "status 1 (want 0 or 3): $(head -c 300 "$W/err")" || return 1 ;;
		3)
			head -n 1 "$W/err" | grep -q '^kura: ' || point_fail "$W" "exit 3 without a kura: message: $(head -c 300 "$W/err")" || return 1
			if [ "$error" != short ]; then
				grep -qE 'Input/output error|No space left on device|index [a-z]+ failed' "$W/err" ||
					point_fail "$W" "exit 3 but the message does not name the error: $(head -c 300 "$W/err")" || return 1
			fi
			;;
		*) point_fail "$W" "status $status (want 0 or 3): $(head -c 300 "$W/err")" || return 1 ;;
		esac
	fi
	# what was acknowledged: the store before, and the IDs the run printed
	cp "$W/acked" "$W/acked.all"
	grep -aE $'^[0-9A-Z]{26}\t[0-9a-f]{64}\t' "$W/out" | cut -f1,2 | tr '\t' ' ' >>"$W/acked.all" || true
	grep -aE $'^OK\t[0-9A-Z]{26}\t' "$W/out" | cut -f2 | sed 's/$/ */' >>"$W/acked.all" || true
	while read -r id sha; do
		got=$("$KURA_BIN" get "$W/S" "$id" 2>"$W/get.err" | sha256sum | cut -d' ' -f1)
		if [ "$sha" = '*' ]; then
			grep -qx "$got" "$W/allowed" || point_fail "$W" "acknowledged object $id lost or changed: $(head -c 300 "$W/get.err")" || return 1
		else
			[ "$got" = "$sha" ] || point_fail "$W" "acknowledged object $id lost or changed: $(head -c 300 "$W/get.err")" || return 1
		fi
	done <"$W/acked.all"
	# usable again without a person (after a reindex-loss point: once reindex has run again, as
	# every message then says)
	if [ "$op" = reindex-loss ]; then
		"run_$op" "$W" >"$W/again.out" 2>"$W/again.err"
		[ $? -eq 1 ] || point_fail "$W" "running reindex again: not the loss (1): $(head -c 400 "$W/again.err")" || return 1
		check_loss "$W" || return 1
	fi
	random_file "$W/next" 1200
	at "$now" ingest "$W/S" "$W/next" >"$W/next.out" 2>"$W/next.err" ||
		point_fail "$W" "the next ingest fails: $(head -c 400 "$W/next.err")" || return 1
	case $op in
	seal | rollover | renew-ts | renew-hashtree | reindex | compact)
		"run_$op" "$W" >"$W/again.out" 2>"$W/again.err" ||
			point_fail "$W" "running $op again fails: $(head -c 400 "$W/again.err")" || return 1
		;;
	reindex-loss) # the damage is reported again (1); what the next ingest wrote is read back
		"run_$op" "$W" >"$W/again.out" 2>"$W/again.err"
		[ $? -eq 1 ] || point_fail "$W" "reindex after the next ingest: not the loss (1): $(head -c 400 "$W/again.err")" || return 1
		id=$(cut -f1 "$W/next.out")
		cmp -s <("$KURA_BIN" get "$W/S" "$id" 2>/dev/null) "$W/next" ||
			point_fail "$W" "the object ingested after the point does not read back after a reindex" || return 1
		at "$now" scrub "$W/S" >"$W/scrub.out" 2>"$W/scrub.err"
		[ $? -eq 1 ] && grep -q "cut short" "$W/scrub.out" ||
			point_fail "$W" "scrub does not report the cut record: $(head -c 400 "$W/scrub.out")" || return 1
		;;
	esac
	at "$now" verify "$W/S" >"$W/verify.out" 2>"$W/verify.err" ||
		point_fail "$W" "verify is not valid: $(grep -v valid$ "$W/verify.out" | head -c 300) $(head -c 300 "$W/verify.err")" || return 1
	[ "$op" = reindex-loss ] || at "$now" scrub "$W/S" >"$W/scrub.out" 2>"$W/scrub.err" ||
		point_fail "$W" "scrub is not clean: $(head -c 400 "$W/scrub.err")" || return 1
	return 0
}

# run_point OP MODE KINDS ERROR N: one fault; 0 when every check held
run_point()
{
	local op=$1 mode=$2 kinds=$3 error=$4 n=$5 W=$T/run status=0
	POINT="$op $mode${FAULT_STICKY:+-sticky} $kinds $error N=$n"
	rm -rf "$W"
	cp -a "$BASE/$op" "$W"
	faulty "$mode" "$kinds" "$n" "$error" "$W/hit" "$W/S" "run_$op" "$W" >"$W/out" 2>"$W/err" || status=$?
	[ -s "$W/hit" ] && POINT="$POINT ($(head -n 1 "$W/hit" | sed "s|$W/||"))"
	check_point "$op" "$W" "$status" "$mode" "$error"
}

# count_points OP MODE KINDS: how many matching calls OP makes
count_points()
{
	local W=$T/count
	rm -rf "$W"
	cp -a "$BASE/$1" "$W"
	local status=0
	faulty count "$3" 0 EIO "$W/log" "$W/S" "run_$1" "$W" >/dev/null 2>&1 || status=$?
	[ "$status" -eq 0 ] || { [ "$status" -eq 1 ] && [ "$1" = reindex-loss ]; } || fail "$1 fails without faults"
	sed -n 's/^count \([0-9]*\).*/\1/p' "$W/log" | tail -n 1
}

# the points of a sweep of C: all, or FAULT_SAMPLE of them spread evenly from the first to
# the last (the same points every run: a failure is reproduced by running it again)
choose_points()
{
	local c=$1 i
	if [ "$FAULT_SAMPLE" -eq 0 ] || [ "$c" -le "$FAULT_SAMPLE" ]; then
		seq 1 "$c"
	else
		for ((i = 0; i < FAULT_SAMPLE; i++)); do
			echo $((1 + (i * (c - 1) + (FAULT_SAMPLE - 1) / 2) / (FAULT_SAMPLE - 1)))
		done | uniq
	fi
}

# sweep OP MODE KINDS ERROR: every chosen point of one kind of fault over OP
sweep()
{
	local op=$1 mode=$2 kinds=$3 error=$4 c n run=0 bad=0
	c=$(count_points "$op" "$mode" "$kinds")
	[ -n "$c" ] && [ "$c" -gt 0 ] || fail "$op: no $kinds calls counted"
	for n in $(choose_points "$c"); do
		run=$((run + 1))
		run_point "$op" "$mode" "$kinds" "$error" "$n" || bad=$((bad + 1))
	done
	echo "$op $mode${FAULT_STICKY:+-sticky}/$error/$kinds points=$c run=$run failures=$bad" | tee -a "$FAULT_SUMMARY"
}

# prep_base OP: the store just before OP, and what it holds
prep_base()
{
	mkdir -p "$BASE/$1"
	"prep_$1" "$BASE/$1" || fail "preparing $1 failed"
	store_objects "$BASE/$1/S" >"$BASE/$1/acked"
	if [ -f "$BASE/$1/disposed" ] || [ -f "$BASE/$1/lost" ]; then # disposed of or lost: not to be read back
		cat "$BASE/$1/disposed" "$BASE/$1/lost" 2>/dev/null | grep -v -F -f - "$BASE/$1/acked" >"$BASE/$1/acked.live" || true
		mv "$BASE/$1/acked.live" "$BASE/$1/acked"
	fi
}

# sweep_all: every operation of FAULT_OPS, every kind of fault
sweep_all()
{
	local op
	mkdir -p "$BASE"
	for op in $FAULT_OPS; do
		prep_base "$op"
		sweep "$op" fail open,write,sync,rename,truncate EIO
		sweep "$op" fail write,truncate ENOSPC
		sweep "$op" fail write short
		FAULT_STICKY=1 sweep "$op" fail write,truncate,sync ENOSPC
		sweep "$op" crash sync,rename EIO
	done
	sweep_verdict
}

sweep_verdict()
{
	[ ! -s "$FAILURES" ] || fail "$(wc -l <"$FAILURES") fault point(s) failed:
$(head -n 40 "$FAILURES")"
}
