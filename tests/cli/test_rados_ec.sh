#!/usr/bin/env bash
# A RADOS store whose segment objects are in an erasure-coded data pool (kura init --data-pool)
# while the directory kura.segments (omap, the writer lock, the epoch and generation xattrs)
# stays in the replicated pool, on a throwaway cluster of 3 memstore OSDs (tests/cli/ceph.sh
# with CEPH_OSDS=3: an EC pool kura-ec of k=2, m=1 with allow_ec_overwrites; the monitor has
# mon_debug_no_require_bluestore_for_ec_overwrites = true, because Ceph allows EC overwrites
# only on BlueStore OSDs). If the cluster does not start, the test fails and says why.
# - init, ingest (small and 1 MiB documents), seal, verify, get byte for byte, scrub clean,
#   reindex; the segments are objects of the EC pool, the directory is in the replicated one;
#   a reader (kura attach, a read-only key on both pools) verifies;
# - a byte flipped in an EC segment object: scrub names the document;
# - refused with exit 2: an EC data pool without allow_ec_overwrites (naming the ceph command
#   that allows them), an EC pool as --pool (it has no omap);
# - kill -9 during ingest, and a writer killed with its write sent but not committed (a torn
#   tail the next writer truncates): every acknowledged document reads back, scrub is clean;
# - a writer stopped in a write while another takes over: its late write to the EC object is
#   refused by the epoch check (cmpxattr), the other writer's documents stay;
# - compaction (kura_compact_tool, as disposal compacts): segments replaced by the other
#   letter's object in the EC pool, the disposed gone, the rest read back;
# - kura migrate --data-pool moves a local store's segments into the EC pool.
# (A store without a data pool is what every other test_rados*.sh runs.)
source "$(dirname "$0")/lib.sh" || exit 1
source "$(dirname "$0")/ceph.sh" || exit 1
cd "$T"

TOOL=${KURA_COMPACT_TOOL:-$(dirname "$KURA_BIN")/tests/kura_compact_tool}
[ -x "$TOOL" ] || fail "no kura_compact_tool at $TOOL (build the tests)"
if [ "$KURA_SANITIZED" = 1 ]; then NSMALL=40 KILLS=2 BIG=512; else NSMALL=150 KILLS=3 BIG=1024; fi
LEASE=5
SEED=${KILL_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$SEED
echo "[$TEST_NAME] seed $SEED"

on_exit "ceph_stop '$T/ceph'"
CEPH_OSDS=3 ceph_start "$T/ceph" >ceph.out 2>&1 || fail "the test Ceph cluster did not start: $(cat ceph.out)"
cat ceph.out
[ "${CEPH_EC_POOL:-}" = kura-ec ] || fail "ceph.sh made no EC pool"
EC=$CEPH_EC_POOL
R=(rados -c "$CEPH_CONF")

# the writer's and a reader's keys, with the caps docs/CEPH.md gives (both pools, one namespace each)
caps_for() # NS MODE-REPLICATED MODE-EC
{
	echo "allow $2 pool=$CEPH_POOL namespace=$1, allow $3 pool=$EC namespace=$1"
}
for ns in main kill fence comp mig; do
	ceph -c "$CEPH_CONF" auth get-or-create "client.kura-$ns" mon 'allow r' osd "$(caps_for "$ns" rwx rw)" \
		>>"$(dirname "$CEPH_CONF")/keyring" || fail "could not make the cephx user client.kura-$ns"
done
ceph -c "$CEPH_CONF" auth get-or-create client.kura-read mon 'allow r' osd "$(caps_for main r r)" \
	>>"$(dirname "$CEPH_CONF")/keyring" || fail "could not make the cephx user client.kura-read"

ec_init() # STORE NAMESPACE [init options...]
{
	local store=$1 ns=$2
	shift 2
	expect_status 0 kura init "$store" --backend rados --ceph-conf "$CEPH_CONF" --pool "$CEPH_POOL" \
		--data-pool "$EC" --namespace "$ns" --lease-seconds "$LEASE" --ceph-user "kura-$ns" "$@"
}

# proc_state PID: the state letter of the process (T: stopped), empty when it is gone
proc_state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }

# stop_in_write STORE DIR N: starts an ingest of DIR that stops (SIGSTOP) in its Nth segment
# write (KURA_RADOS_STOP_AT); sets STOPPED to its PID
stop_in_write()
{
	local i
	KURA_RADOS_STOP_AT=$3 "$KURA_BIN" ingest "$1" "$2" >stopped.out 2>stopped.err &
	STOPPED=$!
	for i in $(seq 1 300); do
		[ "$(proc_state "$STOPPED")" = T ] && return 0
		[ -n "$(proc_state "$STOPPED")" ] || fail "the writer ended before it stopped: $(cat stopped.err)"
		sleep 0.05
	done
	fail "the writer did not stop in write $3"
}

# seg_size NS OBJECT: the size of an object of the EC pool
seg_size() { "${R[@]}" -p "$EC" -N "$1" stat "$2" | awk '{print $NF}'; }

# ------------------------------------------------------------------ the round trip
round_trip()
{
	make_docs rt "$NSMALL" "$BIG"
	head -c 1048576 /dev/urandom >rt/mib.bin
	ec_init E main
	expect_grep E/config.json "\"data_pool\": \"$EC\""
	expect_status 0 kura ingest E rt
	[ "$(wc -l <"$OUT")" -eq $((NSMALL + 2)) ] || fail "ingest printed $(wc -l <"$OUT") lines, not $((NSMALL + 2))"
	cp "$OUT" rt.tsv
	expect_status 0 kura seal E
	expect_status 0 kura verify E
	expect_grep "$ERR" "$((NSMALL + 2)) of $((NSMALL + 2)) object(s) verified valid"
	local id
	for f in rt/mib.bin rt/big.bin rt/doc0001.bin; do
		id=$(grep -P "\t$f\$" rt.tsv | cut -f1)
		[ "$(sha256_of_get E "$id")" = "$(sha256_of "$f")" ] || fail "get of $f differs"
	done
	check_acked E rt.tsv 10
	expect_scrub_clean E "after the round trip"
	# where the objects are: segments in the EC pool only, the directory in the replicated one only
	"${R[@]}" -p "$EC" -N main ls | sort >ec.ls
	"${R[@]}" -p "$CEPH_POOL" -N main ls | sort >rep.ls
	expect_grep ec.ls kura.seg.00000001.a -x
	! grep -q '^kura\.segments$' ec.ls || fail "the directory is in the EC pool"
	[ "$(cat rep.ls)" = kura.segments ] || fail "the replicated pool holds other objects than the directory: $(cat rep.ls)"
	"${R[@]}" -p "$CEPH_POOL" -N main listomapvals kura.segments >omap.txt
	expect_grep omap.txt 00000001 -x
	"${R[@]}" -p "$CEPH_POOL" -N main getxattr kura.segments kura.epoch >epoch.txt || fail "no writer epoch on the directory"
	# the index rebuilt from the pools
	expect_status 0 kura ls E
	cp "$OUT" ls.before
	rm -rf E/index
	expect_status 0 kura reindex E
	expect_status 0 kura ls E
	cmp -s ls.before "$OUT" || fail "ls after reindex differs"
	# a reader on another machine, with a key that may only read both pools
	expect_status 0 kura attach RD --from E --ceph-conf "$CEPH_CONF" --ceph-user kura-read
	expect_grep RD/config.json "\"data_pool\": \"$EC\""
	expect_status 0 kura verify RD
	expect_grep "$ERR" "$((NSMALL + 2)) of $((NSMALL + 2)) object(s) verified valid"
	expect_error 2 kura attach RD2 --from E --ceph-conf "$CEPH_CONF" --data-pool "$EC"
	expect_grep "$ERR" "the pools and namespace are the writer's"
	# a byte flipped in the EC object behind kura's back: scrub names the document it is in
	"${R[@]}" -p "$EC" -N main get kura.seg.00000001.a seg.bin
	local mib_off
	mib_off=$(py 'd = open("seg.bin", "rb").read(); print(len(d) // 2)')
	flip_byte seg.bin "$mib_off"
	"${R[@]}" -p "$EC" -N main put kura.seg.00000001.a seg.bin
	expect_status 1 kura scrub E
	grep -qP "^DAMAGED\t[0-9A-Z]{26}\t" "$OUT" || fail "scrub does not name the damaged document: $(cat "$OUT")"
	"${R[@]}" -p "$EC" -N main get kura.seg.00000001.a seg.bin
	flip_byte seg.bin "$mib_off"
	"${R[@]}" -p "$EC" -N main put kura.seg.00000001.a seg.bin
	expect_scrub_clean E "after the byte was put back"
}
run_case "an EC data pool: round trip, where the objects are, reader, damage" round_trip

# ------------------------------------------------------------------ refusals
refusals()
{
	ceph -c "$CEPH_CONF" osd pool create kura-ec-plain 8 8 erasure kura-ec >/dev/null 2>&1 &&
		ceph -c "$CEPH_CONF" osd pool application enable kura-ec-plain rados >/dev/null 2>&1 ||
		fail "could not make the EC pool without overwrites"
	expect_error 2 kura init N1 --backend rados --ceph-conf "$CEPH_CONF" --pool "$CEPH_POOL" \
		--data-pool kura-ec-plain --namespace plain
	expect_grep "$ERR" "erasure-coded without overwrites"
	expect_grep "$ERR" "ceph osd pool set kura-ec-plain allow_ec_overwrites true"
	[ ! -e N1/FORMAT ] || fail "init made a store on an EC pool without overwrites"
	[ -z "$("${R[@]}" -p kura-ec-plain -N plain ls)" ] || fail "init wrote to the EC pool without overwrites"
	expect_error 2 kura init N2 --backend rados --ceph-conf "$CEPH_CONF" --pool "$EC" --namespace plain
	expect_grep "$ERR" "give a replicated pool as --pool and '$EC' as --data-pool"
	[ ! -e N2/FORMAT ] || fail "init made a store with an EC pool as --pool"
	expect_error 2 kura init N3 --backend rados --ceph-conf "$CEPH_CONF" --pool "$CEPH_POOL" --data-pool nosuch
	expect_grep "$ERR" "has no pool 'nosuch'"
	expect_error 2 kura init N4 --data-pool "$EC"
	expect_grep "$ERR" "go with --backend rados"
	# a store whose config.json names an EC data pool without overwrites: refused the same way
	cp -a E E3
	sed -i "s/\"data_pool\": \"$EC\"/\"data_pool\": \"kura-ec-plain\"/" E3/config.json
	expect_error 2 kura verify E3
	expect_grep "$ERR" "ceph osd pool set kura-ec-plain allow_ec_overwrites true"
}
run_case "refused: an EC data pool without overwrites, an EC pool as --pool" refusals

# ------------------------------------------------------------------ kill -9 during ingest
kill_case()
{
	ec_init K kill
	: >acked.tsv
	make_docs k0 "$NSMALL" "$BIG"
	local t0 full_ms i killed=0 before torn after
	t0=$(date +%s%N)
	expect_status 0 kura ingest K k0
	full_ms=$((($(date +%s%N) - t0) / 1000000))
	acked "$OUT" k0
	for i in $(seq 1 "$KILLS"); do
		make_docs "k$i" "$NSMALL" "$BIG"
		run_killed $((RANDOM % (full_ms * 5 / 4 + 1))) kill.out kill.err "$KURA_BIN" ingest K "k$i"
		[ "$KILL_STATUS" = 137 ] && killed=$((killed + 1))
		[ "$KILL_STATUS" = 137 ] || [ "$KILL_STATUS" = 0 ] || fail "ingest $i exited $KILL_STATUS: $(cat kill.err)"
		acked kill.out "k$i"
		check_acked K acked.tsv 3
		expect_status 0 kura seal K
		expect_status 0 kura verify K
		expect_scrub_clean K "after ingest $i was killed after $KILL_MS ms"
	done
	echo "[$TEST_NAME] $killed of $KILLS ingests killed, $(wc -l <acked.tsv) objects acknowledged"
	# a writer killed after it sent part of an 8 MB document (4 MiB a write), before its
	# commit: the next writer truncates the EC object back to the committed end before it appends
	mkdir torn tiny
	head -c 8000000 /dev/urandom >torn/big.bin
	echo tiny >tiny/t.txt
	printf 'tiny/t.txt\t%s\n' "$(sha256_of tiny/t.txt)" >manifest.tiny
	local last
	last=$("${R[@]}" -p "$CEPH_POOL" -N kill listomapkeys kura.segments | grep -v staged | tail -n 1)
	"${R[@]}" -p "$CEPH_POOL" -N kill getomapval kura.segments "$last" letter.bin >/dev/null
	last="kura.seg.$last.$(cat letter.bin)"
	before=$(seg_size kill "$last")
	stop_in_write K torn 2
	sleep 0.5 # the writes sent before it stopped reach the OSDs
	kill -9 "$STOPPED"
	wait "$STOPPED" 2>/dev/null || true
	torn=$(seg_size kill "$last")
	[ "$torn" -gt $((before + 2000000)) ] || fail "the stopped writer left no uncommitted tail ($before -> $torn bytes)"
	expect_status 0 kura ingest K tiny # it waits for the killed writer's lease to run out
	acked "$OUT" tiny
	after=$(seg_size kill "$last")
	[ "$after" -lt $((before + 100000)) ] ||
		fail "the torn tail was not cut off: $before bytes committed, $torn with the tail, $after after the next ingest"
	echo "[$TEST_NAME] torn tail: $before -> $torn -> $after bytes"
	check_acked K acked.tsv 3
	expect_status 0 kura verify K
	expect_scrub_clean K "after the torn tail was cut off"
}
run_case "kill -9 during ingest, a torn tail cut off" kill_case

# ------------------------------------------------------------------ fencing on the EC objects
fence_case()
{
	ec_init F fence
	mkdir f0 fa fb
	local i st
	for i in $(seq 1 5); do head -c 3000 /dev/urandom >"f0/d$i.bin"; done
	for i in $(seq 1 20); do head -c 3000 /dev/urandom >"fa/d$i.bin"; head -c 3000 /dev/urandom >"fb/d$i.bin"; done
	expect_status 0 kura ingest F f0
	cp "$OUT" fence.tsv
	cp -a F F2 # the second writer's folder, as on another machine
	stop_in_write F fa 1
	sleep $((LEASE + 1)) # its lease runs out
	expect_status 0 kura ingest F2 fb
	cat "$OUT" >>fence.tsv
	kill -CONT "$STOPPED"
	st=0
	wait "$STOPPED" || st=$?
	[ "$st" = 3 ] || fail "the first writer's late write: it exited $st (want 3): $(cat stopped.err)"
	[ ! -s stopped.out ] || fail "the fenced writer printed: $(cat stopped.out)"
	expect_grep stopped.err "another writer took rados:$CEPH_POOL/fence over"
	check_acked F2 fence.tsv 0 fence.tsv
	expect_scrub_clean F2 "after the fenced writer's late write"
}
run_case "a late write to the EC object after another writer took over is refused" fence_case

# ------------------------------------------------------------------ compaction
compact_case()
{
	ec_init C comp --segment-size 65536
	: >acked.tsv
	local round
	: >disposed.txt
	for round in 1 2 3; do
		make_docs "c$round" 30 200
		expect_status 0 kura ingest C "c$round"
		cp "$OUT" round.out
		acked round.out "c$round"
		awk -v s=$RANDOM 'BEGIN { srand(s) } rand() < 0.34 { print $1 }' round.out >mark.txt
		[ -s mark.txt ] || head -n 1 round.out | cut -f1 >mark.txt
		expect_status 0 "$TOOL" C --mark $(cat mark.txt)
		cat mark.txt >>disposed.txt
	done
	"${R[@]}" -p "$EC" -N comp ls >objs.before
	local before after
	before=$(for o in $(cat objs.before); do seg_size comp "$o"; done | awk '{ s += $1 } END { print s }')
	expect_status 0 "$TOOL" C
	grep -q '|b|' <<<"$("${R[@]}" -p "$CEPH_POOL" -N comp listomapvals kura.segments)" ||
		fail "no segment was replaced by its other letter's object"
	"${R[@]}" -p "$EC" -N comp ls >objs.after
	grep -q '\.b$' objs.after || fail "no replacement object in the EC pool: $(cat objs.after)"
	after=$(for o in $(cat objs.after); do seg_size comp "$o"; done | awk '{ s += $1 } END { print s }')
	[ "$after" -lt "$before" ] || fail "compaction left $after of $before bytes"
	echo "[$TEST_NAME] compaction: $before -> $after bytes in the EC pool"
	! grep -q staged <<<"$("${R[@]}" -p "$CEPH_POOL" -N comp listomapkeys kura.segments)" || fail "a replacement stays staged"
	make_docs cz 5 10
	expect_status 0 kura ingest C cz
	acked "$OUT" cz
	expect_scrub_clean C "after compaction"
	expect_status 0 kura verify C
	grep -v -F -f disposed.txt acked.tsv >live.tsv
	check_acked C live.tsv 5
	expect_error 1 kura get C "$(shuf -n 1 disposed.txt)"
	expect_grep "$ERR" "was disposed of"
}
run_case "compaction replaces segments in the EC pool" compact_case

# ------------------------------------------------------------------ kura migrate to a data pool
migrate_case()
{
	expect_status 0 kura init L --segment-size 4194304
	expect_status 0 kura ingest L rt
	cp "$OUT" mig.tsv
	expect_status 0 kura migrate L --to-backend rados --ceph-conf "$CEPH_CONF" --pool "$CEPH_POOL" \
		--data-pool "$EC" --namespace mig --ceph-user kura-mig
	expect_grep L/config.json "\"data_pool\": \"$EC\""
	expect_status 0 kura log L
	tail -n 1 "$OUT" | grep -qF "\"to\":\"rados:$CEPH_POOL/mig (segments in pool $EC)\"" ||
		fail "the migrate record does not name the data pool: $(tail -n 1 "$OUT")"
	"${R[@]}" -p "$EC" -N mig ls >mig.ls
	expect_grep mig.ls kura.seg.00000001.a -x
	[ "$("${R[@]}" -p "$CEPH_POOL" -N mig ls)" = kura.segments ] || fail "segments of the migrated store in --pool"
	check_acked L mig.tsv 5
	expect_status 0 kura verify L
	expect_scrub_clean L "after the migration to the EC data pool"
	# the same namespace with another data pool: one directory, no move; refused, not "done"
	expect_error 2 kura migrate L --to-backend rados --ceph-conf "$CEPH_CONF" --pool "$CEPH_POOL" --namespace mig \
		--ceph-user kura-mig
	expect_grep "$ERR" "moves them to another data pool only with another namespace"
	expect_grep L/config.json "\"data_pool\": \"$EC\""
}
run_case "kura migrate to an EC data pool" migrate_case
finish_cases
