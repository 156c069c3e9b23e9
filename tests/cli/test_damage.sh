#!/usr/bin/env bash
# Damaged stores: a flipped byte in a blob's compressed data, in an object record, in a
# record header, and segments cut short. scrub must name the damaged objects (and only
# them) with exit 1; get of a damaged object exits 1 and leaves no output file; the
# rest stays readable; opening a store whose segment lost committed bytes for ingest
# fails clearly (exit 3) instead of carrying on; verify of a store with a segment removed or
# cut short names exactly the documents scrub names (exit 1) and verifies the rest.
source "$(dirname "$0")/lib.sh" || exit 1
cd "$T"

# Checks scrub output $1: every line is DAMAGED<TAB>ID|-<TAB>segment N offset X<TAB>reason.
check_scrub_format()
{
	local bad
	bad=$(grep -Pv '^DAMAGED\t([0-7][0-9A-HJKMNP-TV-Z]{25}|-)\tsegment [0-9]+ offset [0-9]+\t\S.*$' "$1" || true)
	[ -z "$bad" ] || fail "scrub printed lines not of the form DAMAGED<TAB>ID<TAB>segment N offset X<TAB>reason: $bad"
}

# ------------------------------------------------------------------ a store with mixed content
expect_status 0 kura init D
mkdir docs
printf 'first small document\n' >docs/1-small.txt
awk 'BEGIN { srand(7); for (i = 0; i < 60000; i++) printf "ledger row %06d, amount %d yen, counterparty %d\n", i, int(rand() * 1e6), int(rand() * 500) }' >docs/2-big.txt
[ "$(stat -c %s docs/2-big.txt)" -gt $((2 * 1024 * 1024)) ] || fail "test bug: big.txt is not > 2 MiB"
random_file docs/3-random.bin 300000
printf 'second small document\n' >docs/4-small.txt
expect_status 0 kura ingest D docs
cp "$OUT" ingest.out
printf 'a late document\n' >late.txt
expect_status 0 kura ingest D late.txt
cat "$OUT" >>ingest.out
[ "$(wc -l <ingest.out)" -eq 5 ] || fail "expected 5 objects"
id_of() { grep -F "$1" ingest.out | cut -f1; }
small1=$(id_of 1-small.txt) big=$(id_of 2-big.txt) rand=$(id_of 3-random.bin) small2=$(id_of 4-small.txt) late=$(id_of late.txt)
expect_status 0 kura scrub D
cp -a D D0 # undamaged copy for the truncation cases

seg=D/segments/00000001.seg
big_blob=$(blob_offset D "$big")
big_stored=$(show_field D "$big" stored)
[ "$big_stored" -gt 100000 ] || fail "test bug: the big document compressed to only $big_stored bytes"

# ------------------------------------------------------------------ one flipped byte in the big blob
flip_byte "$seg" $((big_blob + 20 + 8 + big_stored / 2))
expect_status 1 kura scrub D
cp "$OUT" scrub1.out
check_scrub_format scrub1.out
head -n 1 "$ERR" | grep -q '^kura: ' || fail "scrub's summary must start with kura:"
grep -qP "^DAMAGED\t$big\tsegment 1 offset $big_blob\t" scrub1.out ||
	fail "scrub does not name $big (segment 1 offset $big_blob): $(cat scrub1.out)"
for other in "$small1" "$rand" "$small2" "$late"; do
	! grep -q "$other" scrub1.out || fail "scrub names the undamaged object $other: $(cat scrub1.out)"
done
expect_status 1 kura get D "$big"
head -n 1 "$ERR" | grep -q '^kura: ' || fail "get of a damaged object: message must start with kura:"
expect_error 1 kura get D "$big" -o big.out
[ ! -e big.out ] && [ ! -e big.out.kura-partial ] || fail "get -o of a damaged object left a file: $(ls big.out*)"
for pair in "$small1 docs/1-small.txt" "$rand docs/3-random.bin" "$small2 docs/4-small.txt" "$late late.txt"; do
	set -- $pair
	expect_status 0 kura get D "$1" -o got.bin
	cmp got.bin "$2" || fail "undamaged $2 no longer reads back after damage elsewhere"
	rm -f got.bin
done

# ------------------------------------------------------------------ one flipped byte in an object record
small2_rec=$(show_field D "$small2" offset)
flip_byte "$seg" $((small2_rec + 20 + 10)) # inside the record's JSON body
expect_status 1 kura scrub D
cp "$OUT" scrub2.out
check_scrub_format scrub2.out
grep -qP "^DAMAGED\t$small2\tsegment 1 offset $small2_rec\t" scrub2.out ||
	fail "scrub does not name $small2 whose object record is damaged (segment 1 offset $small2_rec): $(cat scrub2.out)"
grep -qP "^DAMAGED\t$big\t" scrub2.out || fail "scrub no longer names $big"
for other in "$small1" "$rand" "$late"; do
	! grep -q "$other" scrub2.out || fail "scrub names the undamaged object $other: $(cat scrub2.out)"
done

# ------------------------------------------------------------------ a damaged record header
late_rec=$(show_field D "$late" offset)
flip_byte "$seg" "$late_rec" # the 'K' of "KRec"
expect_status 1 kura scrub D
cp "$OUT" scrub3.out
check_scrub_format scrub3.out
grep -qP "^DAMAGED\t$late\tsegment 1 offset $late_rec\t" scrub3.out ||
	fail "scrub does not name $late whose record header is damaged: $(cat scrub3.out)"
for other in "$small1" "$rand"; do
	! grep -q "$other" scrub3.out || fail "scrub names the undamaged object $other: $(cat scrub3.out)"
done
cmp <(kura get D "$rand") docs/3-random.bin || fail "random.bin no longer reads back"

# reindex of the damaged store skips the damaged records, says so (exit 1), and the
# damaged objects stay reported by scrub
reindex_damaged()
{
	cp -a D Dr
	expect_status 1 kura reindex Dr
	head -n 1 "$ERR" | grep -q '^kura: ' || fail "reindex: message must start with kura:"
	expect_status 1 kura scrub Dr
	grep -q "$big" "$OUT" || fail "after reindex, scrub no longer names $big: $(cat "$OUT")"
	cmp <(kura get Dr "$rand") docs/3-random.bin || fail "after reindex, random.bin does not read back"
	cmp <(kura get Dr "$small1") docs/1-small.txt || fail "after reindex, 1-small.txt does not read back"
	expect_status 1 kura get Dr "$big" -o big2.out
	[ ! -e big2.out ] || fail "after reindex, get -o of the damaged object left a file"
}
run_case "reindex of a damaged store" reindex_damaged

# ------------------------------------------------------------------ the last segment cut to half
truncated_last()
{
	cp -a D0 Dt
	local f=Dt/segments/00000001.seg size half
	size=$(stat -c %s "$f")
	half=$((size / 2))
	truncate -s "$half" "$f"
	expect_status 1 kura scrub Dt
	cp "$OUT" scrub-t.out
	check_scrub_format scrub-t.out
	[ -s scrub-t.out ] || fail "scrub of a truncated segment printed no DAMAGED line"
	! grep -q "$small1" scrub-t.out || fail "scrub names $small1, which lies before the cut"
	local id
	for id in "$small2" "$late"; do # both lie past the cut
		grep -q "$id" scrub-t.out || fail "scrub does not name $id, which lies past the cut: $(cat scrub-t.out)"
	done
	expect_status 1 kura get Dt "$late"
	cmp <(kura get Dt "$small1") docs/1-small.txt || fail "1-small.txt, before the cut, does not read back"
	printf 'written after the damage\n' >new.txt
	expect_error 3 kura ingest Dt new.txt
	grep -qiE 'damaged|scrub|short|truncat' "$ERR" || fail "ingest into a truncated store: the message does not say what is wrong: $(cat "$ERR")"
	[ "$(stat -c %s "$f")" -eq "$half" ] || fail "the failed ingest changed the truncated segment's size"
	expect_error 3 kura ingest Dt new.txt # and again: still refused, nothing silently repaired
}
run_case "last segment truncated" truncated_last

# ------------------------------------------------------------------ an older segment cut to half
truncated_older()
{
	expect_status 0 kura init Ds --segment-size 65536
	local i
	for i in 1 2 3 4 5 6; do
		mkdir -p "sd$i"
		random_file "sd$i/a" 30000
		random_file "sd$i/b" 20000
		expect_status 0 kura ingest Ds "sd$i"
		cat "$OUT" >>ds.out
	done
	local nseg
	nseg=$(ls Ds/segments | grep -c '\.seg$')
	[ "$nseg" -ge 3 ] || fail "test bug: expected at least 3 segments, got $nseg"
	expect_status 0 kura scrub Ds
	local first
	first=$(head -n 1 ds.out | cut -f1)
	truncate -s $(($(stat -c %s Ds/segments/00000001.seg) / 2)) Ds/segments/00000001.seg
	expect_status 1 kura scrub Ds
	check_scrub_format "$OUT"
	grep -q "segment 1 offset" "$OUT" || fail "scrub does not report the damage in segment 1: $(cat "$OUT")"
	cmp <(kura get Ds "$first") sd1/a || fail "the first object (before the cut) does not read back"
	printf 'written after the damage\n' >new2.txt
	expect_error 3 kura ingest Ds new2.txt
	grep -qiE 'damaged|scrub|short|truncat' "$ERR" || fail "ingest into a store with a truncated segment: unclear message: $(cat "$ERR")"
}
run_case "older segment truncated" truncated_older

# ------------------------------------------------------------------ damage at the very end is not a torn tail
# A complete, acknowledged record damaged at the end of the last segment must not be
# mistaken for an interrupted write: reindex reports it and keeps its bytes, and
# later writes go after it.
damaged_last_record()
{
	expect_status 0 kura init De
	printf 'first\n' >e1.txt
	printf 'second\n' >e2.txt
	expect_status 0 kura ingest --no-seal De e1.txt e2.txt
	local second off size
	second=$(sed -n 2p "$OUT" | cut -f1)
	off=$(kura show De "$second" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["offset"])')
	python3 - De/segments/00000001.seg "$off" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read())
b[off + 40] ^= 1  # inside the object record's JSON body
open(p, "wb").write(b)
PY
	size=$(stat -c %s De/segments/00000001.seg)
	rm -rf De/index
	expect_status 1 kura reindex De
	expect_grep "$ERR" "checksum"
	grep -q "unfinished write" "$ERR" && fail "reindex called a damaged complete record an unfinished write"
	printf 'third\n' >e3.txt
	expect_status 0 kura ingest --no-seal De e3.txt
	[ "$(stat -c %s De/segments/00000001.seg)" -gt "$size" ] || fail "the damaged record's bytes were cut off"
	expect_status 1 kura scrub De
	expect_grep "$OUT" "DAMAGED"
}
run_case "damaged last record is not a torn tail" damaged_last_record

# ------------------------------------------------------------------ writes after a record cut short
# A committed record cut short at the end of the last segment keeps its header, whose length
# reaches past the cut: records written after it in the same segment would lie inside that
# length, and the next reindex could not read them (it reported their content lost). After
# reindex accepts the loss, new records go in a new segment: every later reindex, with the
# index or without, reads them, and the cut record is still reported.
cut_then_write()
{
	expect_status 0 kura init Dc
	printf 'kept\n' >c1.txt
	printf 'cut short\n' >c2.txt
	expect_status 0 kura ingest --no-seal Dc c1.txt c2.txt
	local kept cut off new
	kept=$(sed -n 1p "$OUT" | cut -f1)
	cut=$(sed -n 2p "$OUT" | cut -f1)
	off=$(kura show Dc "$cut" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["offset"])')
	truncate -s $((off + 30)) Dc/segments/00000001.seg # inside c2's object record
	expect_status 1 kura reindex Dc
	printf 'written after the cut\n' >c3.txt
	expect_status 0 kura ingest --no-seal Dc c3.txt
	new=$(cut -f1 "$OUT")
	expect_status 1 kura reindex Dc # the old damage, reported again
	cmp <(kura get Dc "$new") c3.txt || fail "a document written after the cut does not read back after reindex"
	rm -rf Dc/index
	expect_status 1 kura reindex Dc
	cmp <(kura get Dc "$new") c3.txt || fail "a document written after the cut does not read back after reindex without the index"
	cmp <(kura get Dc "$kept") c1.txt || fail "the document before the cut does not read back"
	expect_status 1 kura scrub Dc
	expect_grep "$OUT" "cut short"
}
run_case "writes after a record cut short" cut_then_write

# ------------------------------------------------------------------ reindex after a roll cut short
# A crash between creating the next segment and writing its header leaves an empty last
# segment. Opening the store starts it over; reindex took it as a segment starting at 0, and
# every write after it failed ("segment 00000002 is shorter than its file header").
reindex_empty_last()
{
	expect_status 0 kura init Dz
	printf 'before the roll\n' >r1.txt
	expect_status 0 kura ingest Dz r1.txt
	: >Dz/segments/00000002.seg
	expect_status 0 kura reindex Dz
	printf 'after the reindex\n' >r2.txt
	expect_status 0 kura ingest Dz r2.txt
	cmp <(kura get Dz "$(cut -f1 "$OUT")") r2.txt || fail "the document ingested after the reindex does not read back"
	expect_status 0 kura scrub Dz
}
run_case "reindex after a roll cut short" reindex_empty_last

# ------------------------------------------------------------------ reindex without an index, a segment missing
# With the index deleted too, a segment file missing between two others was not noticed:
# reindex said "reindexed 2 objects", exit 0, and nothing recorded that a hold or an event
# might have been in it. Segments are numbered from 1 without gaps: a gap is a loss. And no
# seal worked after a loss of audit records that were not at the end of the trail.
reindex_gap_no_index()
{
	expect_status 0 kura init Dg --segment-size 65536
	local i
	for i in 1 2 3; do
		random_file "g$i.bin" 70000
		expect_status 0 kura ingest --no-seal Dg "g$i.bin"
	done
	[ -e Dg/segments/00000003.seg ] || fail "test bug: expected at least 3 segments"
	rm Dg/segments/00000002.seg
	rm -r Dg/index
	expect_status 1 kura reindex Dg
	expect_grep "$ERR" "segment 00000002: the segment file is missing"
	expect_status 0 kura log Dg --json
	py 'loss = [e for e in json.load(open(sys.argv[1])) if e["action"] == "reindex-loss"]
assert len(loss) == 1 and {"segment": 2, "whole": True, "known": False} in loss[0]["lost"]["ranges"], loss' "$OUT" ||
		fail "the trail does not record the missing segment: $(cat "$OUT")"
	expect_status 0 kura dispose Dg --plan
	expect_grep "$ERR" "disposal is suspended"
	random_file g4.bin 1000
	expect_status 0 kura ingest Dg g4.bin # the store goes on after the gap, and seals (it could not:
	cmp <(kura get Dg "$(cut -f1 "$OUT")") g4.bin || fail "the document ingested after the reindex does not read back"
	expect_grep "$ERR" "sealed" # "checkpointing the audit trail: no audit record 2", at every seal)
	expect_status 0 kura verify Dg "$(cut -f1 "$OUT")"
	# the checkpoint holds a line saying which record is lost, and by which record of the loss
	expect_status 0 kura ls Dg --system
	local cp
	cp=$(grep -F audit-trail- "$OUT" | tail -n 1 | cut -f1)
	expect_status 0 kura get Dg "$cp"
	py 'lines = [json.loads(l) for l in open(sys.argv[1])]
lost = [l for l in lines if "lost_by" in l]
assert len(lost) == 1 and lost[0]["seq"] == 2 and any(l.get("id") == lost[0]["lost_by"] and l["action"] == "reindex-loss" for l in lines), lines' \
		"$OUT" || fail "the checkpoint does not say which record is lost: $(cat "$OUT")"
	expect_status 1 kura log Dg --verify # the gap stays reported; the checkpoint over it is not a problem
	expect_grep "$OUT" "audit records 2 to 2 are missing from the chain (a reindex recorded the loss: audit record"
	expect_grep "$OUT" "1 checkpoint(s) with valid evidence"
	if grep -q "checkpoint" <(grep FAIL "$OUT"); then fail "log --verify finds fault with the checkpoint: $(cat "$OUT")"; fi
	# reviewed; a later reindex with the index in place reports the segment again, but the index
	# it replaces was built without it: the loss is recorded already (each reindex recorded it
	# anew, and suspended disposal again); nor without the index: the trail's reindex-loss
	# record holds that range already
	expect_status 0 kura dispose Dg --resume --reason "holds checked" --actor carol
	reindex_again_records_nothing "with the index in place"
	rm -r Dg/index
	reindex_again_records_nothing "without the index"
}

# reindex_again_records_nothing HOW: reindex of Dg reports its missing segment 2 and records
# nothing new (one reindex-loss in all, disposal not suspended)
reindex_again_records_nothing()
{
	expect_status 1 kura reindex Dg
	expect_grep "$ERR" "segment 00000002: the segment file is missing"
	expect_status 0 kura dispose Dg --plan
	if grep -q suspended "$ERR"; then fail "a reindex $1 suspended disposal again: $(cat "$ERR")"; fi
	expect_status 0 kura log Dg --json
	py 'assert len([e for e in json.load(open(sys.argv[1])) if e["action"] == "reindex-loss"]) == 1' "$OUT" ||
		fail "a reindex $1 recorded the missing segment again"
}
run_case "reindex without an index notices a missing segment" reindex_gap_no_index

# A stray file with a far segment number is not taken for millions of lost segments (reindex
# would report each, and hold them all in memory): it stops, names the file, keeps the index
reindex_stray_segment()
{
	expect_status 0 kura init Dx
	printf 'a ledger\n' >x1.txt
	expect_status 0 kura ingest Dx x1.txt
	local id
	id=$(cut -f1 "$OUT")
	cp Dx/segments/00000001.seg Dx/segments/09999999.seg
	expect_error 3 kura reindex Dx
	expect_grep "$ERR" "is 09999999.seg a file kura did not write"
	rm Dx/segments/09999999.seg
	expect_status 0 kura reindex Dx
	cmp <(kura get Dx "$id") x1.txt || fail "the document does not read back after the stray file went"
}
run_case "reindex stops at a stray segment file far past the others" reindex_stray_segment

# ------------------------------------------------------------------ verify of a store with a segment lost or cut
# A segment file removed, or cut short, behind kura's back: verify reports every document
# whose bytes were in it as invalid, naming the segment, verifies the rest as valid in the
# same run, and exits 1 (not 3: the store itself could be read) — exactly the documents
# scrub names. The store is sealed once at the end, so that no evidence is in segment 2.
verify_lost_segment()
{
	expect_status 0 kura init Dv --segment-size 65536
	local i
	for i in 1 2 3 4 5 6; do
		mkdir -p "vd$i"
		random_file "vd$i/a" 30000
		random_file "vd$i/b" 20000
		expect_status 0 kura ingest --no-seal Dv "vd$i"
	done
	expect_status 0 kura seal Dv
	[ -e Dv/segments/00000003.seg ] || fail "test bug: expected at least 3 segments"
	expect_status 0 kura ls Dv
	cut -f1 "$OUT" | sort >docs.ids
	cp -a Dv Dv0
	rm Dv/segments/00000002.seg
	verify_names_scrubs Dv "removed"
	local f=Dv/segments/00000002.seg
	mkdir "$f" # there but unreadable (EISDIR): an I/O error still stops verify, exit 3
	expect_status 3 kura verify Dv # the objects before it are reported first
	expect_grep "$ERR" "Is a directory"
	rmdir "$f"
	cp Dv0/segments/00000002.seg "$f"
	truncate -s $(($(stat -c %s "$f") / 2)) "$f"
	verify_names_scrubs Dv "cut short"
}

# verify_names_scrubs STORE WHAT: segment 2 of STORE is damaged (WHAT); see above.
verify_names_scrubs()
{
	expect_status 1 kura scrub "$1"
	cut -f2 "$OUT" | sort -u | comm -12 - docs.ids >scrubbed.ids # scrub names audit checkpoints too
	[ -s scrubbed.ids ] || fail "segment 2 $2: scrub names no document"
	expect_status 1 kura verify "$1"
	grep -P '^\S+\tinvalid\t' "$OUT" | cut -f1 | sort >invalid.ids
	grep -P '^\S+\tvalid$' "$OUT" | cut -f1 | sort >valid.ids
	cmp -s invalid.ids scrubbed.ids ||
		fail "segment 2 $2: verify calls other documents invalid than scrub names: $(diff scrubbed.ids invalid.ids)"
	comm -23 docs.ids scrubbed.ids | cmp -s - valid.ids ||
		fail "segment 2 $2: the other documents are not all verified valid: $(cat "$OUT")"
	[ -s valid.ids ] || fail "test bug: segment 2 $2 held every document"
	! grep -P '\tinvalid\t' "$OUT" | grep -v 'segment 00000002' ||
		fail "segment 2 $2: a verdict does not name the segment"
	expect_grep "$ERR" "$(wc -l <valid.ids) of $(wc -l <docs.ids) object(s) verified valid"
	expect_status 1 kura verify "$1" --json
	py 'for l in sys.stdin:
    r = json.loads(l)
    print(r["id"], r["verdict"], "segment 00000002" in r.get("reason", ""))' <"$OUT" | sort >json.out
	{ sed 's/$/ invalid True/' invalid.ids; sed 's/$/ valid False/' valid.ids; } | sort | cmp -s - json.out ||
		fail "segment 2 $2: verify --json differs: $(cat json.out)"
	# the IDs named: the same verdicts
	expect_status 1 kura verify "$1" "$(head -n 1 invalid.ids)" "$(head -n 1 valid.ids)"
	grep -qP "^$(head -n 1 invalid.ids)\tinvalid\t.*segment 00000002" "$OUT" &&
		grep -qP "^$(head -n 1 valid.ids)\tvalid$" "$OUT" || fail "segment 2 $2: verify STORE ID...: $(cat "$OUT")"
}
run_case "verify of a store with a segment removed or cut short" verify_lost_segment

finish_cases
