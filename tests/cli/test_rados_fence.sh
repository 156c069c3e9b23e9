#!/usr/bin/env bash
# Fencing on a RADOS store (archive/backend_rados_fence.c), on a throwaway cluster
# (tests/cli/ceph.sh, memstore). If the cluster does not start, the test fails and says why.
# A writer is stopped (SIGSTOP, KURA_RADOS_STOP_AT) in its first segment write, after its own
# lease check and before the write is sent, as a paused process or a partitioned client whose
# write librados still holds. Its lease runs out; a second writer (a copy of the store folder,
# as on another machine) takes the lock and acknowledges documents at the same offsets. The
# first is continued and its write reaches the OSD: it must be refused (exit 3, saying another
# writer took over, nothing printed), and every document the second writer and the first
# acknowledged reads back with its SHA-256, scrub is clean and verify exits 0.
source "$(dirname "$0")/lib.sh" || exit 1
source "$(dirname "$0")/ceph.sh" || exit 1
cd "$T"

LEASE=5
on_exit "ceph_stop '$T/ceph'"
ceph_start "$T/ceph" >ceph.out 2>&1 || fail "the test Ceph cluster did not start: $(cat ceph.out)"
cat ceph.out

# make_docs DIR N: N documents of 3 KB, all different
make_docs()
{
	mkdir "$1"
	local i
	for i in $(seq 1 "$2"); do head -c 3000 /dev/urandom >"$1/d$i.bin"; done
}

# proc_state PID: the state letter of the process (T: stopped), empty when it is gone
proc_state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }

fence_case()
{
	expect_status 0 kura init S --backend rados --ceph-conf "$CEPH_CONF" --pool "$CEPH_POOL" \
		--namespace fence --lease-seconds "$LEASE"
	make_docs d0 5
	make_docs da 20
	make_docs db 20
	expect_status 0 kura ingest S d0
	cp "$OUT" acked.tsv
	cp -a S S2 # the second writer's folder, as on another machine (its own index)

	KURA_RADOS_STOP_AT=1 "$KURA_BIN" ingest S da >a.out 2>a.err &
	local a=$! i st
	for i in $(seq 1 300); do
		[ "$(proc_state "$a")" = T ] && break
		[ -n "$(proc_state "$a")" ] || fail "the first writer ended before it stopped: $(cat a.err)"
		sleep 0.05
	done
	[ "$(proc_state "$a")" = T ] || fail "the first writer did not stop in its first write"
	sleep $((LEASE + 1)) # its lease runs out: nothing renews it while it is stopped

	expect_status 0 kura ingest S2 db
	cat "$OUT" >>acked.tsv
	[ "$(wc -l <"$OUT")" = 20 ] || fail "the second writer printed $(wc -l <"$OUT") of 20 documents"

	kill -CONT "$a"
	st=0
	wait "$a" || st=$?
	[ "$st" = 3 ] || fail "the first writer's late write: it exited $st (want 3): $(cat a.err)"
	[ ! -s a.out ] || fail "the fenced writer printed: $(cat a.out)"
	echo "[$TEST_NAME] the fenced writer said: $(grep -v '^kura: time-stamps\|^machine' a.err | head -n 2)"
	expect_grep a.err "another writer took rados:$CEPH_POOL/fence over after this writer's lease ran out"
	expect_grep a.err "refused this writer's late writes"

	check_acked S2 acked.tsv 0 acked.tsv
	expect_scrub_clean S2 "after the fenced writer's late write"
	expect_status 0 kura verify S2
	# and the second writer goes on
	make_docs dc 3
	expect_status 0 kura ingest S2 dc
	expect_scrub_clean S2 "after the next ingest"
}
run_case "a stopped writer's late write after another writer took over is refused" fence_case
finish_cases
