#!/usr/bin/env bash
# A commit syncs only the segment; the index's write is synced at most once a second
# (archive/store.c, INVARIANTS). A power loss may then leave an index that LAGS the
# segments: RocksDB's log gives back a prefix of its writes. This is simulated with
# real files: the index folder of a closed store is copied aside, more documents are
# ingested and sealed (what kura acknowledged is kept), and the old index is put back.
# - A reader (no lock, never writes) does not take the records up, but when it does not
#   find an acknowledged object it says the segments hold records past its index and
#   which command takes them up (not a bare "not found").
# - The next command that writes rolls everything forward: every acknowledged object is
#   listed, reads back, keeps its time-stamps, the pending ones are sealed by the next
#   seal, kura verify exits 0, the audit chain verifies, scrub is clean, and the index
#   equals what kura reindex builds.
# - The same when the segments rolled while the index lagged (a small --segment-size):
#   recovery walks the segments past the one the old index names.
source "$(dirname "$0")/lib.sh" || exit 1
cd "$T"

N=${LAG_DOCS:-12}
[ "$KURA_SANITIZED" = 1 ] && N=6

# docs DIR COUNT TAG: COUNT small distinct documents in DIR
docs()
{
	mkdir -p "$1"
	local i
	for ((i = 0; i < $2; i++)); do
		head -c 3000 /dev/urandom | base64 >"$1/$3-$i.txt"
	done
}

# snapshot STORE IDS FILE: the description and time-stamps of every object in file IDS
snapshot()
{
	local id
	: >"$3"
	while read -r id; do
		kura show "$1" "$id" --json >>"$3"
	done <"$2"
}

# ingest_each STORE DIR: each document of DIR in its own commit (acknowledged lines to $OUT)
ingest_each()
{
	local f all=$T/.each
	: >"$all"
	for f in "$2"/*; do
		expect_status 0 kura ingest "$1" "$f"
		cat "$OUT" >>"$all"
	done
	cp "$all" "$OUT"
}

# lag STORE SEGSIZE: the index lags after a crash; checks what the header says
lag()
{
	local s=$1
	local acked=$T/$s.acked
	if [ -n "$2" ]; then
		expect_status 0 kura init "$s" --segment-size "$2"
	else
		expect_status 0 kura init "$s"
	fi
	docs "in-$s-1" "$N" one
	expect_status 0 kura ingest "$s" "in-$s-1"
	cp "$OUT" "$acked"
	expect_status 0 kura seal "$s"
	cp -a "$s/index" "$s.index.old" # the index as a power loss may leave it
	local segs_before
	segs_before=$(ls "$s/segments" | wc -l)

	docs "in-$s-2" "$N" two
	if [ -n "$2" ]; then
		ingest_each "$s" "in-$s-2" # a roll after each commit
	else
		expect_status 0 kura ingest "$s" "in-$s-2"
	fi
	cat "$OUT" >>"$acked"
	local late
	late=$(tail -n 1 "$OUT" | cut -f1)
	expect_status 0 kura seal "$s"
	docs "in-$s-3" 2 three # acknowledged, not sealed
	expect_status 0 kura ingest "$s" "in-$s-3" --no-seal
	cat "$OUT" >>"$acked"
	if [ -n "$2" ]; then
		[ "$(ls "$s/segments" | wc -l)" -gt "$((segs_before + 2))" ] ||
			fail "test assumption: the segments rolled while the index lagged ($segs_before before, $(ls "$s/segments" | wc -l) now)"
	fi
	cut -f1 "$acked" >"$T/$s.ids"
	snapshot "$s" "$T/$s.ids" "$T/$s.before"

	rm -rf "$s/index"
	mv "$s.index.old" "$s/index"

	# a reader before any writer: not a bare "not found"
	expect_status 1 kura get "$s" "$late" -o /dev/null
	expect_grep "$ERR" "no object $late"
	expect_grep "$ERR" "past what its index has taken up"
	expect_grep "$ERR" "kura reindex $s"

	# the next command that writes takes everything up
	docs "in-$s-4" 1 four
	expect_status 0 kura ingest "$s" "in-$s-4" --no-seal
	local newest
	newest=$(cut -f1 "$OUT")
	check_acked "$s" "$acked" 3
	snapshot "$s" "$T/$s.ids" "$T/$s.after"
	diff "$T/$s.before" "$T/$s.after" >"$T/$s.diff" ||
		fail "after the roll-forward, objects or their time-stamps differ: $(head -c 800 "$T/$s.diff")"
	kura ls "$s" --json >"$T/$s.ls"
	py 'import sys
ids = [o["id"] for o in json.load(open(sys.argv[1]))]
sys.exit(0 if ids == sorted(ids) and sys.argv[2] == ids[-1] else "the new ID does not sort after every acknowledged one")' \
		"$T/$s.ls" "$newest"
	# the rolled-forward pending entries: the three unsealed documents are sealed now, no more
	expect_status 0 kura seal "$s"
	expect_grep "$ERR" "sealed 3 object(s)"
	expect_status 0 kura verify "$s"
	expect_status 0 kura log "$s" --verify # the audit chain goes on from its last rolled-forward record
	expect_scrub_clean "$s" "after the roll-forward"

	# the rolled-forward index is the one reindex builds
	cut -f1 "$acked" >"$T/$s.all"
	echo "$newest" >>"$T/$s.all"
	snapshot "$s" "$T/$s.all" "$T/$s.after"
	kura ls "$s" --json >"$T/$s.ls.after"
	expect_status 0 kura reindex "$s"
	snapshot "$s" "$T/$s.all" "$T/$s.reindexed"
	kura ls "$s" --json >"$T/$s.ls.reindexed"
	diff "$T/$s.after" "$T/$s.reindexed" >"$T/$s.diff2" && cmp -s "$T/$s.ls.after" "$T/$s.ls.reindexed" ||
		fail "the rolled-forward index differs from a rebuilt one: $(head -c 800 "$T/$s.diff2")"
}

run_case "one segment" lag one ""
run_case "segments rolled while the index lagged" lag rolled 4096
finish_cases
