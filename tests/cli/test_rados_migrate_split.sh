#!/usr/bin/env bash
# kura migrate of a local store whose segments are larger than the cluster keeps in one object
# (archive/migrate_split.c), on a throwaway cluster whose objects hold 16 MiB (tests/cli/ceph.sh):
# - a store of 32 MiB segments (one of about 40 MiB), sealed, with a metadata version, a field,
#   a legal hold, a renewal and an export made before, moves onto the pool: every object there
#   is at most 16 MiB, every ID's bytes are the same, every object verifies, the audit trail
#   and its evidence verify (kura log --verify), the export made before still verifies, the
#   listing, search, holds and history are the same, scrub is clean, and the store takes new
#   documents and seals after; then it moves back to local files and still verifies;
# - kill -9 at every step of such a move (KURA_MIGRATE_CRASH_AT): the store lists the same
#   documents and verifies on its old or its new place, and the same command finishes it.
source "$(dirname "$0")/lib.sh" || exit 1
source "$(dirname "$0")/ceph.sh" || exit 1
cd "$T"

on_exit "ceph_stop '$T/ceph'"
ceph_start "$T/ceph" >ceph.out 2>&1 || fail "the test Ceph cluster did not start: $(cat ceph.out)"
cat ceph.out
MAX=${CEPH_MAX_OBJECT_SIZE:-16777216}
export KURA_NOW=2026-01-01T00:00:00Z

to_rados() # STORE NAMESPACE [more options]
{
	local s=$1 ns=$2
	shift 2
	kura migrate "$s" --to-backend rados --ceph-conf "$CEPH_CONF" --pool "$CEPH_POOL" --namespace "$ns" "$@"
}
# kura ls --json without the records' places (segment, offset): a split move changes them.
listing() # STORE
{
	expect_status 0 kura ls "$1" --json
	grep -q '"segment":[0-9]*,"offset":[0-9]*' "$OUT" || fail "kura ls --json no longer shows places: $(head -1 "$OUT")"
	sed -E 's/,"segment":[0-9]+,"offset":[0-9]+//' "$OUT"
}
pool_segments() { rados -c "$CEPH_CONF" -p "$CEPH_POOL" -N "$1" ls | grep '^kura\.seg\.' | sort || true; }

# Every segment object of namespace $1 holds at most MAX bytes; prints how many there are.
objects_fit() # NAMESPACE
{
	local o size n=0
	for o in $(pool_segments "$1"); do
		size=$(rados -c "$CEPH_CONF" -p "$CEPH_POOL" -N "$1" stat "$o" | sed 's/.* size //')
		[ "$size" -le "$MAX" ] || fail "the pool's object $o holds $size bytes, more than $MAX"
		n=$((n + 1))
	done
	echo "$n"
}

# The fixture: 13 incompressible documents of 3 MiB in one commit (a segment of about 40 MiB),
# then more in a second segment; a field, a new version, a hold, a renewal of all evidence.
mkdir docs
for i in $(seq 10 22); do random_file "docs/big$i.bin" 3145728; done
random_file docs/small1.bin 5000
random_file docs/small2.bin 70000
expect_status 0 kura init S --segment-size 33554432
expect_status 0 kura field add S project keyword
expect_status 0 kura ingest S docs/big*.bin
cut -f1 "$OUT" >ids
expect_status 0 kura ingest S docs/small1.bin docs/small2.bin
cut -f1 "$OUT" >>ids
first=$(head -1 ids)
last=$(tail -1 ids)
expect_status 0 kura meta set S "$first" project=trial-17 --reason "project noted"
expect_status 0 kura hold add S litigation-4 --reason "a claim" "$last"
expect_status 0 kura policy sunset S sha256 2027-06-01
export KURA_NOW=2026-07-01T00:00:00Z
expect_status 0 kura renew S
expect_grep "$OUT" "by hash tree"
expect_status 0 kura export S -o before.tar
size1=$(stat -c %s S/segments/00000001.seg)
[ "$size1" -gt "$MAX" ] || fail "the fixture's first segment holds $size1 bytes, not more than $MAX"
expect_status 0 kura verify S
NV=$(sed -n 's/^kura: \([0-9]*\) of \1 object(s) verified valid$/\1/p' "$ERR")
[ -n "$NV" ] || fail "verify of the fixture store: $(cat "$ERR")"
cp -a S base
while read -r id; do sha256_of_get S "$id"; done <ids >base.sha

# What a user sees of STORE: listing, search, holds, history, audit trail, verification.
snapshot() # STORE NAME
{
	listing "$1" >"$2.ls"
	expect_status 0 kura ls "$1" --where 'project = trial-17'
	cp "$OUT" "$2.where"
	grep -q "big10.bin" "$2.where" || fail "$2: the search finds nothing: $(cat "$2.where")"
	expect_status 0 kura hold ls "$1"
	cp "$OUT" "$2.holds"
	expect_status 0 kura history "$1" "$first"
	cp "$OUT" "$2.history"
	expect_status 0 kura log "$1"
	cp "$OUT" "$2.log"
	expect_status 0 kura log "$1" --verify
	expect_status 0 kura verify "$1"
	expect_grep "$ERR" "$NV of $NV object(s) verified valid"
}

same_as() # BEFORE AFTER: the same but one more audit record, the move's
{
	local f
	for f in ls where holds history; do
		cmp -s "$1.$f" "$2.$f" || fail "the $f changed with the move: $(diff "$1.$f" "$2.$f" | head -5)"
	done
	head -n "$(wc -l <"$1.log")" "$2.log" | cmp -s - "$1.log" || fail "the audit trail changed with the move"
	[ "$(($(wc -l <"$2.log") - $(wc -l <"$1.log")))" -eq 1 ] || fail "the move added more than one audit record"
	tail -1 "$2.log" | grep -qF 'migrate' || fail "no migrate record: $(tail -1 "$2.log")"
}

same_bytes() # STORE
{
	while read -r id; do sha256_of_get "$1" "$id"; done <ids >now.sha
	cmp -s base.sha now.sha || fail "$1: the bytes of some IDs differ after the move"
}

round_trip()
{
	snapshot S local1
	expect_status 0 to_rados S split
	expect_grep "$OUT" "migrated S: its segments are in rados:kura/split now"
	[ ! -e S/segments ] && [ ! -e S/migrate.json ] && [ ! -e S/index.migrate ] && [ ! -e S/index.premigrate ] ||
		fail "the move left behind: $(ls S)"
	local n
	n=$(objects_fit split)
	local bytes
	bytes=$(cat base/segments/* | wc -c)
	[ "$n" -ge $(((bytes + MAX - 1) / MAX)) ] && [ "$n" -gt "$(ls base/segments | wc -l)" ] ||
		fail "the pool holds $n segments for $bytes bytes in objects of $MAX"
	echo "[$TEST_NAME] $(ls base/segments | wc -l) local segments ($size1 bytes the first) became $n objects"
	snapshot S rados1
	same_as local1 rados1
	same_bytes S
	expect_status 0 kura verify-export before.tar
	expect_scrub_clean S "after the split move"
	# the store takes documents and seals on the pool
	random_file after.bin 9000000
	expect_status 0 kura ingest S after.bin
	expect_status 0 kura verify S
	expect_grep "$ERR" "$((NV + 1)) of $((NV + 1)) object(s) verified valid"
	objects_fit split >/dev/null
	listing S >rados2.ls
	# and back to local files
	expect_status 0 kura migrate S --to-backend local
	expect_grep "$OUT" "its segments are in local files now"
	[ -z "$(pool_segments split)" ] || fail "the pool still holds segments: $(pool_segments split)"
	listing S >local2.ls
	cmp -s local2.ls rados2.ls || fail "the listing changed with the move back"
	expect_status 0 kura verify S
	expect_grep "$ERR" "$((NV + 1)) of $((NV + 1)) object(s) verified valid"
	expect_status 0 kura log S --verify
	same_bytes S
	expect_scrub_clean S "after the move back"
}
run_case "a store of segments larger than the pool's objects moves there and back" round_trip

# ------------------------------------------------------------------ a disposal before and after
# A disposal removes the document's bytes (compaction replaces the segment it was in), and its
# checks rely on the order records are stored in (records/dispose.c): a disposed document stays
# disposed after the move, and a disposal after it works on the new segments.
dispose_case()
{
	export KURA_NOW=2026-01-01T00:00:00Z
	printf 'kura-retention: 1\nclasses:\n  short: {title: Short, keep: [{from: ingest, years: 1}], source: test}\n' >short.yaml
	expect_status 0 kura init D --segment-size 33554432
	expect_status 0 kura retention set D short.yaml --reason "a class of one year"
	expect_status 0 kura ingest D --class short docs/big1[0-5].bin docs/small1.bin
	local gone1 gone2 r
	gone1=$(grep -F small1.bin "$OUT" | cut -f1)
	expect_status 0 kura ingest D --class short docs/small2.bin
	gone2=$(cut -f1 "$OUT")
	export KURA_NOW=2027-03-01T00:00:00Z
	expect_status 0 kura dispose D --request "$gone1" --reason "a year over" --actor alice
	r=$(cat "$OUT")
	expect_status 0 kura dispose D --approve "$r" --reason "checked" --actor bob
	expect_status 0 kura verify D
	grep 'disposed of' "$ERR" >d.before || fail "verify before the move: $(cat "$ERR")"
	expect_status 0 to_rados D disp
	objects_fit disp >/dev/null
	expect_status 0 kura verify D
	grep -qxF "$(cat d.before)" "$ERR" || fail "verify after the move: $(cat "$ERR"), before: $(cat d.before)"
	expect_error 1 kura get D "$gone1"
	expect_grep "$ERR" "was disposed of"
	expect_status 0 kura log D --verify
	expect_scrub_clean D "after moving a store with a disposal"
	expect_status 0 kura dispose D --request "$gone2" --reason "a year over" --actor alice
	r=$(cat "$OUT")
	expect_status 0 kura dispose D --approve "$r" --reason "checked" --actor bob
	expect_error 1 kura get D "$gone2"
	expect_status 0 kura verify D
	expect_grep "$ERR" "2 disposed of"
	expect_status 0 kura log D --verify
	objects_fit disp >/dev/null
}
run_case "a disposal before the move stays, and one after it works" dispose_case

# ------------------------------------------------------------------ kill -9 at every step
# A smaller store (one segment of about 20 MiB, one small) for the sweep: the same steps.
sweep()
{
	local n=0 st s where k
	expect_status 0 kura init W --segment-size 33554432
	expect_status 0 kura ingest W docs/big1[0-5].bin
	expect_status 0 kura ingest W docs/small1.bin
	listing W >w.ls
	expect_status 0 kura verify W
	local nv
	nv=$(sed -n 's/^kura: \([0-9]*\) of \1 object(s) verified valid$/\1/p' "$ERR")
	while :; do
		n=$((n + 1))
		s=K$n
		cp -a W "$s"
		st=0 # (bash reports the kill: "Killed")
		KURA_MIGRATE_CRASH_AT=$n "$KURA_BIN" migrate "$s" --to-backend rados --ceph-conf "$CEPH_CONF" \
			--pool "$CEPH_POOL" --namespace "k$n" --lease-seconds 5 >kill.out 2>kill.err || st=$?
		[ "$st" -eq 0 ] && break # past the last step
		[ "$st" -eq 137 ] || fail "the move killed at step $n exited $st: $(cat kill.err)"
		grep -q '"backend"' "$s/config.json" && where=rados || where=local
		listing "$s" >now.ls
		cmp -s now.ls w.ls || fail "killed at step $n ($where): the listing differs"
		expect_status 0 kura verify "$s"
		expect_grep "$ERR" "$nv of $nv object(s) verified valid"
		expect_status 0 kura log "$s" --verify
		echo "[$TEST_NAME] killed at step $n: the store works on its $where place"
	done
	[ "$n" -ge 10 ] || fail "the move had only $((n - 1)) steps to kill at"
	rados -c "$CEPH_CONF" -p "$CEPH_POOL" -N "k$n" ls | while read -r o; do
		rados -c "$CEPH_CONF" -p "$CEPH_POOL" -N "k$n" rm "$o"
	done
	sleep 6 # the killed runs' leases
	for k in $(seq 1 $((n - 1))); do
		s=K$k
		expect_status 0 "$KURA_BIN" migrate "$s" --to-backend rados --ceph-conf "$CEPH_CONF" --pool "$CEPH_POOL" \
			--namespace "k$k"
		[ ! -e "$s/migrate.json" ] && [ ! -e "$s/segments" ] && [ ! -e "$s/index.migrate" ] &&
			[ ! -e "$s/index.premigrate" ] || fail "killed at step $k, finished: left behind: $(ls "$s")"
		listing "$s" >now.ls
		cmp -s now.ls w.ls || fail "killed at step $k, finished: the listing differs"
		expect_status 0 kura verify "$s"
		expect_grep "$ERR" "$nv of $nv object(s) verified valid"
		expect_status 0 kura log "$s" --verify
		[ "$(objects_fit "k$k")" -ge 2 ] || fail "killed at step $k, finished: the pool holds $(pool_segments "k$k")"
		rados -c "$CEPH_CONF" -p "$CEPH_POOL" -N "k$k" ls | while read -r o; do
			rados -c "$CEPH_CONF" -p "$CEPH_POOL" -N "k$k" rm "$o"
		done
	done
	echo "[$TEST_NAME] $((n - 1)) crash points swept, each move finished by the same command"
}
run_case "kill -9 at every step of a move that splits segments" sweep
finish_cases
