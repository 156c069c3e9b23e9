#!/usr/bin/env bash
# Readers on other machines (kura attach, archive/attach.c): a second store folder with its own
# index reads the segments a writer keeps in a Ceph pool, without the writer's lock, on a
# throwaway cluster (tests/cli/ceph.sh; as test_rados.sh, a cluster that does not start fails
# the test). The reader uses a cephx key that may only read the writer's namespace.
# - attach copies the writer's public configuration (policy, TSA certificates and anchors),
#   never a key or the accounts; ls, show, get, verify, scrub, export work on the reader and
#   give what the writer gives; evidence verifies there (and not without the anchors);
# - the reader reindexes while the writer holds its lock and writes: every document the
#   writer printed before a reindex began is listed after it;
# - the reader refuses every write (exit 2, saying what to do) and the pool is unchanged;
#   its key cannot write the pool either; attach refuses a local store and a used folder.
source "$(dirname "$0")/lib.sh" || exit 1
source "$(dirname "$0")/ceph.sh" || exit 1
cd "$T"

if [ "$KURA_SANITIZED" = 1 ]; then ROUNDS=2 PER=20; else ROUNDS=3 PER=40; fi
on_exit "ceph_stop '$T/ceph'"
ceph_start "$T/ceph" >ceph.out 2>&1 || fail "the test Ceph cluster did not start: $(cat ceph.out)"
cat ceph.out
KR=$(dirname "$CEPH_CONF")/keyring
ceph -c "$CEPH_CONF" auth get-or-create client.kura mon 'allow r' osd "allow rwx pool=$CEPH_POOL namespace=shared" \
	>>"$KR" || fail "could not make the cephx user client.kura"
ceph -c "$CEPH_CONF" auth get-or-create client.reader mon 'allow r' osd "allow r pool=$CEPH_POOL namespace=shared" \
	>>"$KR" || fail "could not make the cephx user client.reader"

mkdir docs
py '
for i in range(6):
    with open("docs/d%d.bin" % i, "wb") as f:
        f.write(os.urandom(3000 * (i + 1)))
'
expect_status 0 kura init W --backend rados --ceph-conf "$CEPH_CONF" --pool "$CEPH_POOL" --namespace shared \
	--ceph-user kura --lease-seconds 5
expect_status 0 kura ingest W docs
first=$(head -1 "$OUT" | cut -f1)
expect_status 0 kura user add W alice --role admin # an account: never copied to a reader

# ------------------------------------------------------------------ attach, and reading
expect_status 0 kura attach R --from W --ceph-user reader
expect_grep "$OUT" "attached R: a reader with 6 objects"
expect_grep R/config.json '"reader": true'
expect_grep R/config.json '"user": "reader"'
[ -f R/tsa/anchors.pem ] || fail "the TSA anchors were not copied"
[ -z "$(ls R/tsa/*.key 2>/dev/null)" ] || fail "a TSA key was copied to the reader: $(ls R/tsa)"
[ ! -e R/users.json ] || fail "the service's accounts were copied to the reader"

same_as_writer() # WHAT
{
	expect_status 0 kura ls W --json
	cp "$OUT" w.ls
	expect_status 0 kura ls R --json
	cmp -s "$OUT" w.ls || fail "$1: the reader lists $(grep -c '"id"' "$OUT") objects, the writer $(grep -c '"id"' w.ls)"
}
reading()
{
	same_as_writer "after attach"
	expect_status 0 kura verify R
	expect_grep "$ERR" "6 of 6 object(s) verified valid"
	[ "$(sha256_of_get R "$first")" = "$(sha256_of docs/d0.bin)" ] || fail "get on the reader differs"
	expect_status 0 kura show R "$first"
	expect_status 0 kura log W
	cp "$OUT" w.log
	expect_status 0 kura log R
	cmp -s "$OUT" w.log || fail "the reader's audit trail differs from the writer's"
	expect_status 0 kura status R
	expect_scrub_clean R "on the reader"
	expect_status 0 kura export R -o r.tar
	expect_status 0 kura verify-export r.tar
	expect_grep R/reader-log.jsonl '"action":"export"'
	expect_status 0 kura log W
	cmp -s "$OUT" w.log || fail "an export on the reader changed the writer's audit trail"
	# the anchors attach copied are what the evidence verifies against
	cp -a R R-noanchors
	rm R-noanchors/tsa/anchors.pem
	expect_status 1 kura verify R-noanchors
}
run_case "a reader reads what the writer stored, and verifies its evidence" reading

# ------------------------------------------------------------------ writes refused
refused()
{
	rados -c "$CEPH_CONF" -p "$CEPH_POOL" -N shared ls | sort >pool.before
	local o
	for o in $(cat pool.before); do rados -c "$CEPH_CONF" -p "$CEPH_POOL" -N shared stat "$o"; done >stat.before
	printf 'not here\n' >x.txt
	expect_error 2 kura ingest R x.txt
	expect_grep "$ERR" "R is a reader of rados:kura/shared (made by kura attach): it never writes to the pool"
	expect_grep "$ERR" "kura reindex R"
	expect_error 2 kura seal R
	expect_error 2 kura meta set R "$first" k=v --reason test
	expect_error 2 kura hold add R h1 --reason test "$first"
	expect_error 2 kura migrate R --to-backend local
	expect_error 2 kura trust add R --tsa R/tsa/anchors.pem
	rados -c "$CEPH_CONF" -p "$CEPH_POOL" -N shared ls | sort >pool.after
	for o in $(cat pool.after); do rados -c "$CEPH_CONF" -p "$CEPH_POOL" -N shared stat "$o"; done >stat.after
	cmp -s stat.before stat.after || fail "the pool changed: $(diff stat.before stat.after)"
	if rados -c "$CEPH_CONF" --id reader -p "$CEPH_POOL" -N shared put x x.txt 2>/dev/null; then
		fail "the reader's key wrote to the pool"
	fi
	# attach refuses a store on local files, a used folder, and a reader's own options
	expect_status 0 kura init LOCAL
	expect_error 2 kura attach R2 --from LOCAL
	expect_grep "$ERR" "LOCAL keeps its segments in local files"
	expect_error 2 kura attach R --from W
	expect_grep "$ERR" "R is a store already"
	expect_error 2 kura attach R3 --from W --namespace other
	expect_error 2 kura attach R4
	expect_error 2 kura attach R5 --from nosuch
}
run_case "a reader refuses every write" refused

# ------------------------------------------------------------------ reindex while the writer writes
# The writer ingests PER documents a commit, ROUNDS times, in the background (holding its lock
# throughout one ingest); meanwhile the reader reindexes: everything printed before the
# reindex began is listed after it.
concurrent()
{
	mkdir more
	py '
for i in range(int(sys.argv[1]) * int(sys.argv[2])):
    with open("more/m%04d.txt" % i, "wb") as f:
        f.write(b"added while a reader reads %d\n" % i + os.urandom(100))
' "$ROUNDS" "$PER"
	(
		cd more
		ls | split -l "$PER" - part.
		for p in part.*; do "$KURA_BIN" ingest ../W $(cat "$p") >>../acked.txt || exit 1; sleep 0.5; done
	) 2>writer.err &
	local w=$! round=0 t0
	: >acked.txt
	while kill -0 "$w" 2>/dev/null; do
		round=$((round + 1))
		cp acked.txt acked.before
		t0=$SECONDS
		expect_status 0 kura reindex R
		[ $((SECONDS - t0)) -lt 5 ] || fail "the reader's reindex took $((SECONDS - t0)) s: did it wait for the writer's lock?"
		expect_status 0 kura ls R --json
		cp "$OUT" r.ls
		py '
have = {o["id"] for o in json.load(open("r.ls"))}
for line in open("acked.before"):
    if line.endswith("\n") and line.split("\t")[0] not in have:
        sys.exit("printed by the writer before the reindex, not listed after it: " + line)
' || fail "round $round: an acknowledged document is missing on the reader"
	done
	wait "$w" || fail "the writer failed: $(cat writer.err)"
	[ "$round" -ge 2 ] || fail "only $round reindexes ran while the writer wrote"
	expect_status 0 kura reindex R
	same_as_writer "after the writer finished"
	expect_status 0 kura verify R
	expect_grep "$ERR" "$((6 + ROUNDS * PER)) of $((6 + ROUNDS * PER)) object(s) verified valid"
	echo "[$TEST_NAME] $round reindexes of the reader while the writer added $((ROUNDS * PER)) documents"
}
run_case "the reader reindexes while the writer writes" concurrent

# ------------------------------------------------------------------ refreshing only what is new
# A writer with small segments; its reader's reindex reads only what was added since the last
# one (a damaged byte in an early segment goes unseen: nothing there is read), and reads the pool
# whole when what it indexed may have moved: a compaction on the writer (the pool's generation),
# or a changed record before where it stopped (the writer cut off what it had not committed).
TOOL=$(dirname "$KURA_BIN")/tests/kura_compact_tool
R2=(rados -c "$CEPH_CONF" -p "$CEPH_POOL" -N inc)
batch() # NAME N: N new documents in folder NAME, ingested into W2; their lines appended to w2.acked
{
	mkdir "$1"
	py '
for i in range(int(sys.argv[2])):
    with open("%s/%s%03d.bin" % (sys.argv[1], sys.argv[1], i), "wb") as f:
        f.write(os.urandom(2000 + i * 97))
' "$1" "$2"
	expect_status 0 kura ingest W2 "$1"
	cat "$OUT" >>w2.acked
}
reads_back() # WHEN: every acknowledged document not in gone.txt reads back from R2 whole
{
	local id sha
	while IFS=$'\t' read -r id sha _; do
		grep -q "$id" gone.txt && continue
		[ "$(sha256_of_get R2 "$id")" = "$sha" ] || fail "$1: $id does not read back from the reader"
	done <w2.acked
}
last_object() { "${R2[@]}" ls | grep '^kura\.seg\.' | sort | tail -1; }
incremental()
{
	: >w2.acked
	: >gone.txt
	expect_status 0 kura init W2 --backend rados --ceph-conf "$CEPH_CONF" --pool "$CEPH_POOL" --namespace inc \
		--segment-size 65536 --lease-seconds 5
	batch a 60
	expect_status 0 kura attach R2 --from W2
	batch b 25
	# segment 1 damaged in the pool: an incremental refresh does not read it, a whole one does
	local seg1 n
	seg1=$("${R2[@]}" ls | grep '^kura\.seg\.00000001\.' | head -1)
	"${R2[@]}" get "$seg1" seg1.good
	cp seg1.good seg1.bad
	flip_byte seg1.bad 3000
	"${R2[@]}" put "$seg1" seg1.bad
	expect_status 0 kura reindex R2
	expect_grep "$OUT" "refreshed: 25 new objects"
	expect_status 1 kura reindex R2 --whole
	expect_grep "$OUT" "read whole: --whole was given"
	"${R2[@]}" put "$seg1" seg1.good
	expect_status 0 kura reindex R2 --whole
	expect_status 0 kura ls R2 --json
	n=$(grep -c '"id"' "$OUT")
	[ "$n" = 85 ] || fail "the reader lists $n objects, not 85"
	batch c 10
	expect_status 0 kura reindex R2
	expect_grep "$OUT" "refreshed: 10 new objects"
	reads_back "after two refreshes"
	expect_status 0 kura verify R2
	# a record the reader read, changed in the pool: it reads the pool whole (and reports the damage)
	local obj
	obj=$(last_object)
	"${R2[@]}" get "$obj" last.good
	cp last.good last.bad
	flip_byte last.bad $(($(stat -c %s last.good) - 100))
	"${R2[@]}" put "$obj" last.bad
	expect_status 1 kura reindex R2
	expect_grep "$OUT" "is not what it was up to offset"
	"${R2[@]}" put "$obj" last.good
	expect_status 0 kura reindex R2
	expect_status 0 kura reindex R2
	expect_grep "$OUT" "refreshed: 0 new objects"
	# a compaction on the writer: the pool's generation changed, the reader reads it whole
	head -n 20 w2.acked | cut -f1 >gone.txt
	expect_status 0 "$TOOL" W2 --mark $(cat gone.txt)
	expect_status 0 "$TOOL" W2
	batch d 5
	expect_status 0 kura reindex R2
	expect_grep "$OUT" "read whole: the writer compacted or removed segments since the last refresh"
	reads_back "after a compaction on the writer"
	expect_status 0 kura reindex R2
	expect_grep "$OUT" "refreshed: 0 new objects"
}
run_case "a reader's reindex reads only what is new, and all when something moved" incremental
finish_cases
