#!/usr/bin/env bash
# kura migrate: a store's segments moved from local files to a Ceph pool and back
# (archive/migrate.c), on a throwaway cluster (tests/cli/ceph.sh; as test_rados.sh, a cluster
# that does not start fails the test).
# - local -> RADOS -> local: the same IDs, listing, bytes and audit trail (plus one "migrate"
#   record each way), evidence verifies before, between and after, the old copy is gone;
# - a target holding another store's segments, and a record larger than the cluster's objects,
#   are refused (exit 2), nothing changed, saying what to do; a last segment just under the
#   limit moves (the move's own record starts a new segment);
# - the move is done with a cephx key limited to its pool and namespace (the caps
#   docs/CEPH.md gives), which can touch neither another namespace nor another pool; a key
#   without the x cap cannot take the writer lock, and says what it needs;
# - kill -9 at every step of a move each way (KURA_MIGRATE_CRASH_AT): the store works on its
#   old or its new place with every document and verifies, and the same command finishes.
source "$(dirname "$0")/lib.sh" || exit 1
source "$(dirname "$0")/ceph.sh" || exit 1
cd "$T"

on_exit "ceph_stop '$T/ceph'"
ceph_start "$T/ceph" >ceph.out 2>&1 || fail "the test Ceph cluster did not start: $(cat ceph.out)"
cat ceph.out
KR=$(dirname "$CEPH_CONF")/keyring
ceph -c "$CEPH_CONF" auth get-or-create client.kura mon 'allow r' osd "allow rwx pool=$CEPH_POOL namespace=main" \
	>>"$KR" || fail "could not make the cephx user client.kura"
ceph -c "$CEPH_CONF" auth get-or-create client.norx mon 'allow r' osd "allow rw pool=$CEPH_POOL namespace=norx" \
	>>"$KR" || fail "could not make the cephx user client.norx"
ceph -c "$CEPH_CONF" osd pool create other 8 8 replicated >/dev/null 2>&1 || fail "could not make the pool 'other'"

to_rados() # STORE NAMESPACE [more options]
{
	local s=$1 ns=$2
	shift 2
	kura migrate "$s" --to-backend rados --ceph-conf "$CEPH_CONF" --pool "$CEPH_POOL" --namespace "$ns" "$@"
}
objects() { rados -c "$CEPH_CONF" -p "$CEPH_POOL" -N "$1" ls | sort; }

# A local store of several segments (64 KiB each), sealed, with a hold and a metadata
# change in its audit trail.
mkdir docs
py '
for i in range(14):
    with open("docs/d%02d.bin" % i, "wb") as f:
        f.write(os.urandom(20000 + 1000 * i))
'
expect_status 0 kura init B --segment-size 65536
for part in 0 1 2 3; do # a commit per part, each filling a segment
	expect_status 0 kura ingest B docs/d?[$((part * 3))-$((part * 3 + 2))].bin
	cut -f1 "$OUT" >>ids
done
expect_status 0 kura ingest B docs/d1[2-3].bin
cut -f1 "$OUT" >>ids
first=$(head -1 ids)
expect_status 0 kura meta set B "$first" project=trial-17 --reason "project noted"
[ "$(ls B/segments | wc -l)" -ge 3 ] || fail "the fixture store has $(ls B/segments | wc -l) segments, not 3 or more"
cp -a B base # for the kill sweeps
expect_status 0 kura verify B
NV=$(sed -n 's/^kura: \([0-9]*\) of \1 object(s) verified valid$/\1/p' "$ERR")
[ -n "$NV" ] || fail "verify of the fixture store: $(cat "$ERR")"

snapshot() # STORE NAME: its listing, audit trail and verification
{
	expect_status 0 kura ls "$1" --json
	cp "$OUT" "$2.ls"
	expect_status 0 kura log "$1"
	cp "$OUT" "$2.log"
	expect_status 0 kura verify "$1"
	expect_grep "$ERR" "$NV of $NV object(s) verified valid"
}

# The audit trail of $2 is that of $1, byte for byte, and one "migrate" record FROM -> TO.
same_but_migrate() # BEFORE AFTER FROM TO
{
	cmp -s "$1.ls" "$2.ls" || fail "the listing changed with the move: $(diff "$1.ls" "$2.ls" | head -5)"
	head -n "$(wc -l <"$1.log")" "$2.log" | cmp -s - "$1.log" ||
		fail "the audit trail changed with the move: $(diff "$1.log" "$2.log" | head -5)"
	[ "$(($(wc -l <"$2.log") - $(wc -l <"$1.log")))" -eq 1 ] || fail "the move added $(($(wc -l <"$2.log") - $(wc -l <"$1.log"))) audit records"
	tail -1 "$2.log" | grep -qF "migrate"$'\t'"{\"from\":\"$3\",\"to\":\"$4\"}" || fail "no migrate record: $(tail -1 "$2.log")"
}

# The segments of base (folder $1) are the files $2NNNNNNNN.seg byte for byte, but the last,
# which may have grown (a move's audit record goes after what was there).
same_segments() # FOLDER PREFIX WHAT
{
	local i last
	last=$(ls "$1" | tail -1)
	for i in $(ls "$1"); do
		[ -f "$2$i" ] || fail "$3: segment $i is missing"
		if [ "$i" = "$last" ]; then
			head -c "$(stat -c %s "$1/$i")" "$2$i" | cmp -s - "$1/$i" || fail "$3: segment $i does not start as it was"
		else
			cmp -s "$1/$i" "$2$i" || fail "$3: segment $i differs"
		fi
	done
}

# ------------------------------------------------------------------ local -> RADOS -> local
round_trip()
{
	snapshot B local1
	expect_status 0 to_rados B main --ceph-user kura
	expect_grep "$OUT" "migrated B: its segments are in rados:kura/main now"
	[ ! -e B/segments ] || fail "the local segments are still there after the move: $(ls B/segments)"
	[ ! -e B/migrate.json ] || fail "the migration journal is left behind"
	expect_grep B/config.json '"namespace": "main"'
	objects main >objs
	[ "$(grep -c '^kura.seg\.' objs)" -eq "$(ls base/segments | wc -l)" ] || fail "the pool holds: $(cat objs)"
	local i
	for i in $(ls base/segments); do
		rados -c "$CEPH_CONF" -p "$CEPH_POOL" -N main get "kura.seg.${i%.seg}.a" "pool.$i"
	done
	same_segments base/segments "pool." "the pool after the move"
	snapshot B rados1
	same_but_migrate local1 rados1 "local files" "rados:kura/main"
	[ "$(sha256_of_get B "$first")" = "$(sha256_of docs/d00.bin)" ] || fail "get after the move differs"
	# a second move there does nothing
	expect_status 0 to_rados B main --ceph-user kura
	expect_grep "$OUT" "already: nothing to do"
	# the store keeps working on RADOS
	printf 'after the move\n' >after.txt
	expect_status 0 kura ingest B after.txt
	snapshot_more() { expect_status 0 kura verify B; expect_grep "$ERR" "$((NV + 1)) of $((NV + 1)) object(s) verified valid"; }
	snapshot_more
	expect_status 0 kura ls B --json
	cp "$OUT" rados2.ls
	expect_status 0 kura log B
	cp "$OUT" rados2.log
	# and back
	expect_status 0 kura migrate B --to-backend local
	expect_grep "$OUT" "its segments are in local files now"
	[ -z "$(objects main | grep '^kura.seg\.')" ] || fail "the pool still holds segments: $(objects main)"
	grep -q '"backend"' B/config.json && fail "config.json still names a backend: $(cat B/config.json)"
	snapshot_more
	expect_status 0 kura ls B --json
	cp "$OUT" local2.ls
	expect_status 0 kura log B
	cp "$OUT" local2.log
	same_but_migrate rados2 local2 "rados:kura/main" "local files"
	expect_scrub_clean B "after the round trip"
}
run_case "local -> RADOS -> local keeps IDs, bytes, evidence and the audit trail" round_trip

# ------------------------------------------------------------------ the move's own record starts a segment
# The last segment ends about 100 bytes before the segment size: the move's audit record
# crosses it, and its commit starts a new segment, which the move must take along.
roll_case()
{
	expect_status 0 kura init RL --segment-size 65536
	printf 'x' >one.txt
	expect_status 0 kura ingest RL one.txt --no-seal
	local a b o
	a=$(stat -c %s RL/segments/00000001.seg)
	expect_status 0 kura ingest RL one.txt --no-seal
	b=$(stat -c %s RL/segments/00000001.seg)
	o=$((b - a)) # what an ingest of one byte adds
	head -c $((65536 - 100 - b - o)) /dev/urandom >fill.bin
	expect_status 0 kura ingest RL fill.bin --no-seal
	b=$(stat -c %s RL/segments/00000001.seg)
	[ "$b" -lt 65536 ] && [ "$b" -gt $((65536 - 200)) ] || fail "the fixture's segment ends at $b"
	expect_status 0 kura ls RL --json
	cp "$OUT" rl.ls
	expect_status 0 to_rados RL roll
	grep -q '^kura.seg.00000002\.' <<<"$(objects roll)" || fail "the move's record did not start segment 2: $(objects roll)"
	expect_status 0 kura ls RL --json
	cmp -s "$OUT" rl.ls || fail "the listing changed with the move"
	expect_status 0 kura ingest RL one.txt # seals them all
	expect_status 0 kura verify RL
	expect_scrub_clean RL "after a move whose record started a segment"
}
run_case "the move's own audit record starts a new segment" roll_case

# ------------------------------------------------------------------ a last segment near the cluster's limit
# A local store (segments of 1 GiB) whose last segment ends about 100 bytes before the
# cluster's object size limit (16 MiB here): the move's audit record must not make it one the
# cluster cannot keep (it used to be refused after the record and the journal were written).
near_limit()
{
	local max=16777216 a b n
	printf 'x' >one.txt
	expect_status 0 kura init NL
	expect_status 0 kura ingest NL one.txt --no-seal
	a=$(stat -c %s NL/segments/00000001.seg)
	head -c 16000000 /dev/urandom >nl.bin
	expect_status 0 kura ingest NL nl.bin --no-seal
	b=$(stat -c %s NL/segments/00000001.seg)
	n=$((max - 100 - a - (b - a - 16000000))) # random bytes: what they add is their length and a constant
	expect_status 0 kura init NL2
	expect_status 0 kura ingest NL2 one.txt --no-seal
	head -c "$n" /dev/urandom >nl.bin
	expect_status 0 kura ingest NL2 nl.bin --no-seal
	b=$(stat -c %s NL2/segments/00000001.seg)
	[ "$b" -le "$max" ] && [ "$b" -gt $((max - 300)) ] || fail "the fixture's segment ends at $b"
	expect_status 0 kura ls NL2 --json
	cp "$OUT" nl.ls
	expect_status 0 to_rados NL2 near
	[ ! -e NL2/migrate.json ] || fail "the move left its journal"
	grep -q '^kura.seg.00000002\.' <<<"$(objects near)" || fail "the move's record did not start segment 2: $(objects near)"
	expect_status 0 kura ls NL2 --json
	cmp -s "$OUT" nl.ls || fail "the listing changed with the move"
	expect_status 0 kura ingest NL2 one.txt # seals them all
	expect_status 0 kura verify NL2
}
run_case "a last segment near the cluster's object size limit" near_limit

# ------------------------------------------------------------------ refusals
refusals()
{
	expect_status 0 kura init OCC --backend rados --ceph-conf "$CEPH_CONF" --pool "$CEPH_POOL" --namespace occupied
	expect_status 0 kura ingest OCC docs/d01.bin
	cp -a base R1
	expect_error 2 to_rados R1 occupied
	expect_grep "$ERR" "rados:kura/occupied holds the segments of a kura store already"
	[ -d R1/segments ] && [ ! -e R1/migrate.json ] || fail "a refused move changed the store"
	diff -r base/segments R1/segments >/dev/null || fail "a refused move changed the segments"
	expect_status 0 kura verify R1
	# back to a store folder that has segments already (left there by hand): refused too
	expect_status 0 kura migrate OCC --to-backend local
	expect_status 0 to_rados OCC occupied
	mkdir OCC/segments && cp base/segments/00000001.seg OCC/segments/
	expect_error 2 kura migrate OCC --to-backend local
	expect_grep "$ERR" "OCC/segments holds the segments of a kura store already"
	# a record larger than the cluster's objects (16 MiB here): refused before anything changes
	# (segments are split between records, never inside one: test_rados_migrate_split.sh)
	expect_status 0 kura init BIG
	head -c 17M /dev/urandom >big.bin
	expect_status 0 kura ingest BIG big.bin
	expect_status 0 kura log BIG
	cp "$OUT" big.log
	expect_error 2 to_rados BIG big
	expect_grep "$ERR" "BIG/segments/00000001.seg has"
	expect_grep "$ERR" "more than the 16777216 the target keeps in one segment (osd_max_object_size) with its 16-byte header: kura migrate splits segments only between records; nothing was copied"
	expect_grep "$ERR" "Either raise the cluster's osd_max_object_size to at least"
	expect_grep "$ERR" "or keep the store on local files"
	[ ! -e BIG/migrate.json ] || fail "a refused move left its journal"
	expect_status 0 kura log BIG
	cmp -s "$OUT" big.log || fail "a refused move wrote to the audit trail"
	expect_status 0 kura migrate BIG --to-backend local
	expect_grep "$OUT" "in local files already: nothing to do"
	expect_error 2 kura migrate R1 --to-backend ceph
	expect_error 2 kura migrate R1 --to-backend rados --pool "$CEPH_POOL"
	expect_error 2 kura migrate R1 --to-backend local --pool "$CEPH_POOL"
	expect_error 2 to_rados nosuch x
	expect_grep "$ERR" "nosuch is not a kura store"
	expect_error 2 kura migrate R1 --to-backend rados --ceph-conf "$CEPH_CONF" --pool nosuch
	expect_grep "$ERR" "has no pool 'nosuch'"
}
run_case "a target in use, and bad input, are refused" refusals

# ------------------------------------------------------------------ a key limited to its pool
limited_key()
{
	cp -a base LK
	expect_error 3 to_rados LK elsewhere --ceph-user kura # another namespace of the pool
	expect_grep "$ERR" "taking the writer lock of rados:kura/elsewhere: the cephx key may not"
	expect_error 3 kura migrate LK --to-backend rados --ceph-conf "$CEPH_CONF" --pool other --ceph-user kura
	expect_grep "$ERR" "taking the writer lock of rados:other/: the cephx key may not"
	[ -d LK/segments ] && [ ! -e LK/migrate.json ] || fail "a refused move changed the store"
	expect_status 0 kura verify LK
	printf 'x\n' >x.txt
	if rados -c "$CEPH_CONF" --id kura -p other put x x.txt 2>/dev/null; then fail "client.kura wrote to the pool 'other'"; fi
	if rados -c "$CEPH_CONF" --id kura -p "$CEPH_POOL" -N elsewhere put x x.txt 2>/dev/null; then
		fail "client.kura wrote to another namespace"
	fi
	rados -c "$CEPH_CONF" --id kura -p "$CEPH_POOL" -N main put x x.txt || fail "client.kura cannot write its own namespace"
	rados -c "$CEPH_CONF" --id kura -p "$CEPH_POOL" -N main rm x
	# without the x cap (class methods), the writer lock cannot be taken: said so
	expect_status 0 kura init NX --backend rados --ceph-conf "$CEPH_CONF" --pool "$CEPH_POOL" --namespace norx \
		--ceph-user norx
	expect_error 3 kura ingest NX x.txt
	expect_grep "$ERR" "the cephx key may not (a writer's key needs osd 'allow rwx pool=POOL namespace=NS'"
}
run_case "a cephx key limited to its pool and namespace" limited_key

# ------------------------------------------------------------------ kill -9 at every step
# KURA_MIGRATE_CRASH_AT=N kills the move at its Nth step boundary; N grows until the move
# ends before it. After each kill: the store lists the same documents and verifies (readers:
# no lock), on its old or its new place. Then, once the killed runs' leases (5 s) have run
# out, the same command finishes each move.
migrate_to() # DIRECTION STORE N
{
	if [ "$1" = rados ]; then
		"$KURA_BIN" migrate "$2" --to-backend rados --ceph-conf "$CEPH_CONF" --pool "$CEPH_POOL" --namespace "dst$3" \
			--lease-seconds 5
	else
		"$KURA_BIN" migrate "$2" --to-backend local
	fi
}

sweep() # DIRECTION (rados: local -> RADOS; local: RADOS -> local)
{
	local dir=$1 n=0 st s where
	expect_status 0 kura ls base --json
	cp "$OUT" base.ls
	while :; do
		n=$((n + 1))
		s=K$dir$n
		cp -a base "$s"
		if [ "$dir" = local ]; then
			expect_status 0 to_rados "$s" "src$n" --lease-seconds 5
		fi
		st=0 # (bash reports the kill: "Killed")
		KURA_MIGRATE_CRASH_AT=$n migrate_to "$dir" "$s" "$n" >kill.out 2>kill.err || st=$?
		[ "$st" -eq 0 ] && break # past the last step
		[ "$st" -eq 137 ] || fail "the move killed at step $n exited $st: $(cat kill.err)"
		grep -q '"backend"' "$s/config.json" && where=rados || where=local
		expect_status 0 kura ls "$s" --json
		cmp -s "$OUT" base.ls || fail "killed at step $n ($where): the listing differs"
		expect_status 0 kura verify "$s"
		expect_grep "$ERR" "$NV of $NV object(s) verified valid"
		echo "[$TEST_NAME] to $dir, killed at step $n: the store works on its $where place"
	done
	[ "$n" -ge 8 ] || fail "the move to $dir had only $((n - 1)) steps to kill at"
	sleep 6
	local k
	for k in $(seq 1 $((n - 1))); do
		s=K$dir$k
		expect_status 0 migrate_to "$dir" "$s" "$k"
		[ ! -e "$s/migrate.json" ] || fail "killed at step $k: the journal is left after the move was finished"
		expect_status 0 kura ls "$s" --json
		cmp -s "$OUT" base.ls || fail "killed at step $k, finished: the listing differs"
		expect_status 0 kura verify "$s"
		if [ "$dir" = rados ]; then
			[ ! -e "$s/segments" ] || fail "killed at step $k, finished: local segments left"
			expect_grep "$s/config.json" "\"namespace\": \"dst$k\""
		else
			[ -z "$(objects "src$k" | grep '^kura.seg\.')" ] || fail "killed at step $k, finished: segments left in the pool"
			same_segments base/segments "$s/segments/" "killed at step $k, finished"
		fi
	done
	echo "[$TEST_NAME] to $dir: $((n - 1)) crash points swept, each move finished by the same command"
}
run_case "kill -9 at every step of a move to RADOS" sweep rados
run_case "kill -9 at every step of a move back to local files" sweep local
finish_cases
