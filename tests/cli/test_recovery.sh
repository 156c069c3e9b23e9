#!/usr/bin/env bash
# Recovery never invents and never silently drops (docs/FORMAT.md, RESYNC RULE in
# archive/segment.c):
# - a document that holds a perfect object record (backdated ID and date) never turns
#   into an object when its own record header is damaged, with or without an index;
# - a last segment cut short loses committed records: reindex names them, exits 1;
# - a damaged segment file header does not cost the segment's records;
# - verify notices a damaged object record;
# - what a killed reindex leaves behind is tidied at the next open for writing.
source "$(dirname "$0")/lib.sh" || exit 1
cd "$T"

seg1() { echo "$1/segments/00000001.seg"; }

# Writes document $1: random bytes around a complete, valid segment record of an object
# that claims ID $2 (ingested 2019-04-01) and the content $3 (a SHA-256 in the store).
forged_document()
{
	py '
import os, struct, zlib, sys
out, fid, sha = sys.argv[1:4]
body = ("{\"id\":\"%s\",\"name\":\"contract-2019.pdf\",\"size\":20,\"ingested\":\"2019-04-01T09:00:00.000Z\","
        "\"sha256\":\"%s\",\"meta\":{}}" % (fid, sha)).encode()
head = b"KRec" + b"O" + bytes([1]) + struct.pack("<HQ", 0, len(body))
rec = head + struct.pack("<I", zlib.crc32(head)) + body + struct.pack("<I", zlib.crc32(body)) + b"KEnd"
open(out, "wb").write(os.urandom(30000) + rec + os.urandom(30000))
' "$@"
}

# An ID of 2019-04-01 (48 bits of milliseconds, 80 random bits, Crockford base32).
backdated_id()
{
	py '
import os
v = (1554109200000 << 80) | int.from_bytes(os.urandom(10), "big")
a = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
print("".join(a[(v >> (5 * i)) & 31] for i in range(25, -1, -1)))'
}

# A store holding a document that contains a forged object record; sets doc, forged, blob, after
setup_forgery()
{
	expect_status 0 kura init "$1"
	printf 'the real contract\n' >real.txt
	expect_status 0 kura ingest "$1" real.txt
	local real_sha
	real_sha=$(cut -f2 "$OUT")
	forged=$(backdated_id)
	forged_document evil.bin "$forged" "$real_sha"
	expect_status 0 kura ingest "$1" evil.bin
	doc=$(cut -f1 "$OUT")
	printf 'ingested after it\n' >after.txt
	expect_status 0 kura ingest "$1" after.txt
	after=$(cut -f1 "$OUT")
	blob=$(blob_offset "$1" "$doc")
	# the test stands only if the record lies in the segment byte for byte (zstd kept it raw)
	py 'import sys
seg, doc = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
rec = doc[30000:-30000]
sys.exit(0 if seg.find(rec) > int(sys.argv[3]) else "the forged record is not in the segment as it is")' \
		"$(seg1 "$1")" evil.bin "$blob" || fail "test assumption failed"
	expect_status 1 kura show "$1" "$forged"
}

# Reindex after damage must not index the forged object, must exit 1 and name the damage.
check_no_forgery()
{
	local store=$1
	expect_status 1 kura reindex "$store"
	cp "$ERR" reindex.err
	expect_status 0 kura ls "$store"
	! grep -q "$forged" "$OUT" || fail "reindex indexed the forged object $forged: $(cat "$OUT")"
	expect_status 1 kura show "$store" "$forged"
	expect_status 0 kura seal "$store"
	expect_status 1 kura verify "$store" "$forged"
	expect_grep reindex.err "segment 00000001 bytes $blob to"
}

forged_with_index()
{
	setup_forgery F
	flip_byte "$(seg1 F)" $((blob + 9)) # a bit of the blob record's length
	check_no_forgery F
	expect_grep reindex.err "the content of object $doc"
	# the index knew where the next record starts: the records after the damage are kept
	cmp <(kura get F "$after") after.txt || fail "the object after the damaged record was lost"
	expect_status 1 kura scrub F
	grep -qP "^DAMAGED\t$doc\t" "$OUT" || fail "scrub does not name $doc: $(cat "$OUT")"
}
run_case "a forged record inside a document, header damaged, index present" forged_with_index

forged_without_index()
{
	setup_forgery G
	flip_byte "$(seg1 G)" "$blob" # the K of KRec
	rm -rf G/index
	check_no_forgery G
	expect_grep reindex.err "length is unknown"
	expect_status 1 kura show G "$after" # past the damage nothing can be told from a document's bytes
}
run_case "a forged record inside a document, header damaged, no index" forged_without_index

# ------------------------------------------------------------------ the last segment cut short
# ingest three documents, each sealed; sets ids (in order) and the seal records' place
setup_sealed()
{
	expect_status 0 kura init "$1"
	local i
	ids=()
	for i in 1 2 3; do
		printf 'sealed document %d\n' "$i" >"s$i.txt"
		expect_status 0 kura ingest "$1" "s$i.txt"
		ids+=("$(cut -f1 "$OUT")")
	done
	expect_status 0 kura verify "$1" "${ids[2]}"
}

cut_inside_a_record()
{
	setup_sealed C
	local off
	off=$(show_field C "${ids[2]}" offset)
	truncate -s $((off + 30)) "$(seg1 C)" # inside the last object record; its seal goes too
	printf 'more\n' >more.txt
	expect_error 3 kura ingest C more.txt # an open for writing refuses, and says what to do
	expect_grep "$ERR" "kura reindex"
	expect_status 1 kura reindex C
	cp "$ERR" reindex.err
	expect_grep reindex.err "lost: object ${ids[2]}"
	expect_grep reindex.err "lost: evidence record"
	! grep -q "unfinished write" reindex.err || fail "reindex called lost committed records an unfinished write: $(cat reindex.err)"
	expect_status 1 kura show C "${ids[2]}"
	cmp <(kura get C "${ids[1]}") s2.txt || fail "an object before the cut was lost"
}
run_case "last segment cut inside a committed record" cut_inside_a_record

cut_at_a_record_boundary()
{
	setup_sealed E
	local off
	off=$(show_field E "${ids[2]}" offset)
	# cut right after the last object record: only the last seal record is gone
	py 'import struct, sys
b = open(sys.argv[1], "rb").read(); off = int(sys.argv[2])
n = struct.unpack("<Q", b[off + 8:off + 16])[0]
open(sys.argv[1], "r+b").truncate(off + 28 + n)' "$(seg1 E)" "$off"
	expect_status 1 kura reindex E
	cp "$ERR" reindex.err
	expect_grep reindex.err "lost: evidence record"
	expect_grep reindex.err "cut short"
	expect_status 0 kura show E "${ids[2]}"
}
run_case "last segment cut at a record boundary" cut_at_a_record_boundary

# a torn tail past the committed end stays what it is: cut off, exit 0
torn_tail_is_not_loss()
{
	setup_sealed H
	printf 'KRec' >>"$(seg1 H)" # a write that a crash cut off
	expect_status 0 kura reindex H
	expect_grep "$ERR" "unfinished write"
}
run_case "a torn tail is not a loss" torn_tail_is_not_loss

# a record that checks but makes no sense is reported and skipped, not the end of reindex
senseless_record()
{
	setup_sealed N
	py 'import struct, sys, zlib
body = b"{\"name\":\"no id\"}"
head = b"KRecO\x01" + struct.pack("<HQ", 0, len(body))
open(sys.argv[1], "ab").write(head + struct.pack("<I", zlib.crc32(head)) + body + struct.pack("<I", zlib.crc32(body)) + b"KEnd")
' "$(seg1 N)"
	expect_status 1 kura reindex N
	expect_grep "$ERR" "object record without a valid id"
	cmp <(kura get N "${ids[2]}") s3.txt || fail "reindex lost ${ids[2]}"
}
run_case "a record that checks but makes no sense" senseless_record

# an imported object whose evidence record is damaged is named, not dropped in silence
imported_record_damaged()
{
	setup_sealed A
	expect_status 0 kura export A -o pkg.tar
	expect_status 0 kura init B
	kura tsa ca A >a-root.pem
	expect_status 0 kura trust add B --tsa a-root.pem
	expect_status 0 kura import B pkg.tar
	local id off
	id=$(head -n 1 "$OUT" | cut -f2)
	off=$(show_field B "$id" offset)
	# the evidence record it was imported with follows its object record directly
	off=$(py 'import struct, sys
b = open(sys.argv[1], "rb").read(); off = int(sys.argv[2])
n = struct.unpack("<Q", b[off + 8:off + 16])[0]; e = off + 28 + n
sys.exit("no evidence record after the object record") if b[e:e + 5] != b"KRecE" else print(e)' "$(seg1 B)" "$off")
	flip_byte "$(seg1 B)" $((off + 9))
	expect_status 1 kura reindex B
	expect_grep "$ERR" "lost: object $id"
}
run_case "an imported object whose evidence record is damaged" imported_record_damaged

# ------------------------------------------------------------------ a damaged segment file header
damaged_file_header()
{
	setup_sealed S
	flip_byte "$(seg1 S)" 2
	expect_status 1 kura reindex S
	expect_grep "$ERR" "file header"
	local i
	for i in 0 1 2; do
		cmp <(kura get S "${ids[$i]}") "s$((i + 1)).txt" || fail "object ${ids[$i]} lost to a damaged file header"
	done
	printf 'one more\n' >more.txt
	expect_status 0 kura ingest S more.txt # the store takes writes again
	expect_status 1 kura scrub S
	grep -qP "^DAMAGED\t-\tsegment 1 offset 0\t.*file header" "$OUT" || fail "scrub does not report the file header: $(cat "$OUT")"
}
run_case "a damaged segment file header" damaged_file_header

# ------------------------------------------------------------------ verify reads the object record
verify_damaged_record()
{
	setup_sealed V
	local off
	off=$(show_field V "${ids[1]}" offset)
	flip_byte "$(seg1 V)" $((off + 20 + 12)) # inside its JSON body
	expect_status 1 kura verify V "${ids[1]}" --json
	expect_grep "$OUT" "object record"
	expect_status 1 kura verify V --json
	grep -c '"verdict": *"invalid"' "$OUT" | grep -qx 1 || fail "verify of the store: not exactly one invalid object: $(cat "$OUT")"
	expect_status 0 kura verify V "${ids[0]}"
}
run_case "verify notices a damaged object record" verify_damaged_record

# ------------------------------------------------------------------ leftovers of a killed reindex
killed_reindex_leftovers()
{
	setup_sealed K
	cp -a K/index K/index.rebuild # a reindex killed while it built its index
	printf 'one more\n' >more.txt
	expect_status 0 kura ingest K more.txt
	[ ! -e K/index.rebuild ] || fail "index.rebuild left behind after an open for writing"
	mv K/index K/index.old # killed between the two renames of the old way
	expect_status 0 kura ingest K more.txt
	[ -d K/index ] && [ ! -e K/index.old ] || fail "the index was not put back: $(ls K)"
	expect_status 0 kura reindex K
	[ "$(ls K | grep -c index)" -eq 1 ] || fail "reindex left more than its index: $(ls K)"
}
run_case "what a killed reindex left behind" killed_reindex_leftovers

finish_cases
