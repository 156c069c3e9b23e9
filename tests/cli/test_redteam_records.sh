#!/usr/bin/env bash
# Records management under attack and damage (issue 14, a red-team pass): what a damaged or
# hostile store or input must NOT get kura to do.
# - a legal hold whose audit record is damaged (a flipped byte) is not indexed again by
#   reindex; the record it covers then looks disposable. Disposal must refuse until a person
#   has reviewed the loss the reindex recorded (kura dispose --resume), and the record's
#   bytes stay.
# - two audit records swapped in their segment (a forger: bodies and CRCs intact): reindex
#   would apply a corrected event date before the wrong one it corrects, making a record
#   disposable years early. kura log --verify must say so, and disposal must refuse.
# - the same with the record's first version moved after the event that corrects the date
#   it was ingested with: disposal must refuse.
# - kura's own objects (the audit trail's checkpoints) get no versions, metadata, holds or
#   events: a user's document must not become the "current version" of a checkpoint.
# - four eyes: the requester may not approve under another spelling of the same name (NFD
#   for NFC, full-width, upper case, an invisible character, a space); a different person may.
# - an older copy of the index put back, then the hold written after it damaged: recorded too.
# - a hold cut off the end of the last segment (with all after it) leaves no gap: the chain
#   goes on from the records before it. Disposal must stay suspended until a person has
#   checked the holds (kura dispose --resume), and the trail must say what reindex lost.
# - a version cut off the same way: kura history of its record must show the loss (the trail
#   named the version's ID only, which history of the record never looks up).
# - text a person types that goes into JSON (a reason, an actor, a TSA URL) and is not UTF-8:
#   refused (exit 2, naming the option), nothing written; it was silently dropped (a version
#   without its reason) or answered "out of memory" (exit 3). A file path may be any bytes.
source "$(dirname "$0")/lib.sh"
export KURA_NOW=2026-01-10T09:00:00Z

# audit_offset STORE ACTION: segment file and offset of the (first) audit record whose body
# has "action":"ACTION" (docs/FORMAT.md's record layout)
audit_offset()
{
	py '
import glob, struct, sys
for f in sorted(glob.glob(sys.argv[1] + "/segments/*.seg")):
    b = open(f, "rb").read(); p = 16
    while p + 20 <= len(b) and b[p:p + 4] == b"KRec":
        n = struct.unpack("<Q", b[p + 8:p + 16])[0]
        if chr(b[p + 4]) == "A" and b"\"action\":\"%s\"" % sys.argv[2].encode() in b[p + 20:p + 20 + n]:
            print(f, p); sys.exit(0)
        p += 28 + n
sys.exit("no audit record " + sys.argv[2])' "$1" "$2"
}

# ingest_old STORE FILE: ingests FILE with a class whose retention ended long ago; prints its ID
ingest_old()
{
	kura ingest "$1" --no-seal --class jp-tax-books --event fiscal-year-end=2010-03-31 --actor alice "$2" | cut -f1
}

case_damaged_hold()
{
	local S=$T/hold A seg off req
	expect_status 0 kura init "$S" --segment-size 4096
	random_file "$T/held.bin" 6000
	A=$(ingest_old "$S" "$T/held.bin")
	random_file "$T/filler.bin" 6000
	expect_status 0 kura ingest "$S" --no-seal "$T/filler.bin" # the hold goes into a later segment
	expect_status 0 kura hold add "$S" litigation --reason "case 7" --actor carol "$A"
	expect_error 2 kura dispose "$S" --request "$A" --reason old --actor alice
	random_file "$T/later.bin" 100
	expect_status 0 kura ingest "$S" "$T/later.bin" # the trail goes on, sealed (checkpointed)
	read -r seg off < <(audit_offset "$S" hold)
	flip_byte "$seg" $((off + 60))
	rm -rf "$S/index"
	expect_status 1 kura reindex "$S" # it says what it could not index
	expect_grep "$ERR" "damaged"
	if kura dispose "$S" --request "$A" --reason old --actor alice >"$OUT" 2>"$ERR"; then
		req=$(cat "$OUT")
		kura dispose "$S" --approve "$req" --reason ok --actor bob >"$OUT" 2>"$ERR" || true
	fi
	kura get "$S" "$A" >"$T/got" 2>"$ERR" || fail "the held record's content is gone after a damaged hold: $(cat "$ERR")"
	cmp -s "$T/got" "$T/held.bin" || fail "the held record's content changed"
	expect_error 3 kura dispose "$S" --request "$A" --reason old --actor alice
	expect_grep "$ERR" "disposal is suspended"
	expect_status 1 kura log "$S" --verify
	expect_grep "$OUT" "are missing from the chain" # the gap stays reported
	# a person reviews the recorded loss and places the hold again (it was lost: nothing holds
	# the record meanwhile, as after a loss at the end of the trail)
	expect_status 0 kura dispose "$S" --resume --reason "holds checked against the case list" --actor carol
	expect_status 0 kura hold add "$S" litigation --reason "case 7, placed again" --actor carol "$A"
	expect_error 2 kura dispose "$S" --request "$A" --reason old --actor alice
	expect_grep "$ERR" "litigation"
	cmp -s <(kura get "$S" "$A") "$T/held.bin" || fail "the held record's content changed"
}

# An older copy of the index put back: the hold written after it is damaged, in bytes past what
# that index had committed, so it cannot say what they held: the loss is recorded all the same.
case_old_index_back()
{
	local S=$T/oldidx A seg off
	expect_status 0 kura init "$S"
	echo "ledger" >"$T/old.txt"
	A=$(ingest_old "$S" "$T/old.txt")
	cp -a "$S/index" "$T/index.copy"
	expect_status 0 kura hold add "$S" litigation --reason "case 11" --actor carol "$A"
	echo "later" >"$T/later2.txt"
	expect_status 0 kura ingest "$S" "$T/later2.txt"
	read -r seg off < <(audit_offset "$S" hold)
	flip_byte "$seg" $((off + 5)) # in the hold record's header
	rm -rf "$S/index"
	cp -a "$T/index.copy" "$S/index"
	expect_status 1 kura reindex "$S"
	expect_error 3 kura dispose "$S" --request "$A" --reason old --actor alice
	expect_grep "$ERR" "suspended"
	expect_status 0 kura get "$S" "$A"
}

case_reordered()
{
	local S=$T/order A
	expect_status 0 kura init "$S"
	echo "ledger" >"$T/ledger.txt"
	A=$(kura ingest "$S" --no-seal --class jp-construction-books "$T/ledger.txt" | cut -f1)
	expect_status 0 kura retention event "$S" handover 2010-01-01 --reason "typed wrong" "$A"
	expect_status 0 kura retention event "$S" handover 2025-06-01 --reason "the handover's date" "$A"
	py '
import struct, sys
f = sys.argv[1]; b = bytearray(open(f, "rb").read()); p = 16; recs = []
while p + 20 <= len(b) and b[p:p + 4] == b"KRec":
    n = struct.unpack("<Q", b[p + 8:p + 16])[0]
    recs.append((p, 28 + n, b[p + 20:p + 20 + n])); p += 28 + n
a, c = [r for r in recs if b"\"action\":\"event\"" in r[2]][-2:]
assert a[0] + a[1] == c[0]
b[a[0]:c[0] + c[1]] = b[c[0]:c[0] + c[1]] + b[a[0]:a[0] + a[1]]
open(f, "wb").write(b)' "$S/segments/00000001.seg"
	rm -rf "$S/index"
	kura reindex "$S" >"$OUT" 2>"$ERR" || true
	expect_status 1 kura log "$S" --verify
	expect_grep "$OUT" "stored before"
	expect_error 3 kura dispose "$S" --request "$A" --reason old --actor alice
	expect_grep "$ERR" "audit trail"
	expect_status 0 kura get "$S" "$A"
}

case_moved_object()
{
	local S=$T/moved A
	expect_status 0 kura init "$S"
	echo "drawings" >"$T/drawings.txt"
	A=$(kura ingest "$S" --no-seal --class jp-construction-books --event handover=2010-01-01 "$T/drawings.txt" | cut -f1)
	expect_status 0 kura retention event "$S" handover 2025-06-01 --reason "the handover's date" "$A"
	py '
import struct, sys
f = sys.argv[1]; b = bytearray(open(f, "rb").read()); p = 16; recs = []
while p + 20 <= len(b) and b[p:p + 4] == b"KRec":
    n = struct.unpack("<Q", b[p + 8:p + 16])[0]
    recs.append((p, 28 + n, chr(b[p + 4]))); p += 28 + n
o = [r for r in recs if r[2] == "O"][0]
rec = bytes(b[o[0]:o[0] + o[1]]); del b[o[0]:o[0] + o[1]]; b += rec
open(f, "wb").write(b)' "$S/segments/00000001.seg"
	rm -rf "$S/index"
	kura reindex "$S" >"$OUT" 2>"$ERR" || true
	expect_error 3 kura dispose "$S" --request "$A" --reason old --actor alice
	expect_grep "$ERR" "reordered"
	expect_status 0 kura get "$S" "$A"
}

case_system_object()
{
	local S=$T/sys CP
	expect_status 0 kura init "$S"
	echo "one" >"$T/one.txt"
	expect_status 0 kura ingest "$S" "$T/one.txt"
	echo "two" >"$T/two.txt"
	expect_status 0 kura ingest "$S" "$T/two.txt" # seals the trail's first records
	CP=$(kura ls "$S" --system | grep -F audit-trail- | head -n 1 | cut -f1)
	[ -n "$CP" ] || fail "test assumption: no checkpoint after two sealed ingests"
	local before
	before=$(seg_digest "$S")
	expect_error 2 kura meta set "$S" "$CP" title=mine --reason r
	expect_error 2 kura ingest "$S" --no-seal --supersedes "$CP" --reason r "$T/one.txt"
	expect_error 2 kura hold add "$S" h --reason r "$CP"
	expect_error 2 kura retention event "$S" handover 2020-01-01 --reason r "$CP"
	[ "$before" = "$(seg_digest "$S")" ] || fail "a refused change to a checkpoint changed the store"
	expect_status 0 kura log "$S" --verify
}

case_four_eyes_spelling()
{
	local S=$T/eyes A req nfc nfd
	nfc=$(printf 'Jos\xc3\xa9') nfd=$(printf 'Jose\xcc\x81')
	expect_status 0 kura init "$S"
	echo "books" >"$T/books.txt"
	A=$(ingest_old "$S" "$T/books.txt")
	expect_status 0 kura dispose "$S" --request "$A" --reason old --actor "$nfc"
	req=$(cat "$OUT")
	expect_error 2 kura dispose "$S" --approve "$req" --reason ok --actor "$nfd"
	expect_grep "$ERR" "another actor must approve it"
	local spelling # full-width, upper case, an invisible character, a space, blanks that are not
	for spelling in "$(printf '\xef\xbd\x8aos\xc3\xa9')" "JOSÉ" "$(printf 'Jo\xe2\x80\x8bs\xc3\xa9')" "$nfc " \
		"$(printf 'Jo\xe1\x9a\x80s\xc3\xa9')" "$(printf 'Jo\xe2\xa0\x80s\xc3\xa9')" "$(printf 'Jo\xe3\x85\xa4s\xc3\xa9')" \
		"Jo sé"; do
		expect_error 2 kura dispose "$S" --approve "$req" --reason ok --actor "$spelling"
		expect_grep "$ERR" "another actor must approve it"
	done
	expect_error 2 kura dispose "$S" --approve "$req" --reason ok --actor "$nfc$(printf '\xe2\x80\xa8')"
	expect_grep "$ERR" "control characters" # a line separator: refused as a name at all
	expect_status 0 kura get "$S" "$A"
	expect_status 0 kura dispose "$S" --approve "$req" --reason ok --actor bob
}

case_lost_tail_hold()
{
	local S=$T/tail A seg off
	expect_status 0 kura init "$S"
	echo "ledger" >"$T/tail.txt"
	A=$(ingest_old "$S" "$T/tail.txt")
	expect_status 0 kura hold add "$S" litigation --reason "case 9" --actor carol "$A"
	read -r seg off < <(audit_offset "$S" hold)
	truncate -s "$off" "$seg" # the hold, and the checkpoint that sealed it
	expect_status 1 kura reindex "$S"
	expect_grep "$ERR" "lost: audit entry"
	expect_error 3 kura dispose "$S" --request "$A" --reason old --actor alice
	expect_grep "$ERR" "disposal is suspended"
	expect_status 1 kura log "$S" --verify
	expect_grep "$OUT" "disposal is suspended"
	kura status "$S" >"$OUT" 2>"$ERR" && fail "kura status calls a store healthy while disposal is suspended"
	expect_grep "$OUT" "disposal is suspended"
	expect_status 0 kura dispose "$S" --plan # lists what retention allows, and says it must wait
	expect_grep "$OUT" "$A"
	expect_grep "$ERR" "disposal is suspended"
	expect_status 0 kura log "$S" --json
	py 'import json, sys
loss = [e for e in json.load(open(sys.argv[1])) if e["action"] == "reindex-loss"]
assert len(loss) == 1, loss
assert any(n["what"] == "audit entry" for n in loss[0]["lost"]["named"]), loss
# the clock stands still (KURA_NOW): the IDs of what was lost are not handed out again
assert loss[0]["id"] > max(n["id"] for n in loss[0]["lost"]["named"]), loss' "$OUT" ||
		fail "kura log does not show one reindex-loss record naming the lost audit entry: $(cat "$OUT")"
	expect_status 0 kura reindex "$S" # the suspension is derived from the trail: it stays
	expect_error 3 kura dispose "$S" --request "$A" --reason old --actor alice
	expect_error 2 kura dispose "$S" --resume --actor carol
	expect_status 0 kura dispose "$S" --resume --reason "holds checked against the case list" --actor carol
	expect_error 2 kura dispose "$S" --resume --reason again --actor carol # not suspended any more
	expect_status 0 kura dispose "$S" --plan
	if grep -q suspended "$ERR"; then fail "the plan says disposal is suspended after --resume: $(cat "$ERR")"; fi
	expect_status 0 kura hold add "$S" litigation --reason "case 9, placed again" --actor carol "$A"
	expect_error 2 kura dispose "$S" --request "$A" --reason old --actor alice
	expect_grep "$ERR" "litigation"
	expect_status 0 kura log "$S" --verify
	expect_status 0 kura get "$S" "$A"
}

# a version cut off the end of the last segment: kura history of the record says it was lost
case_lost_version()
{
	local S=$T/lostver A B seg off
	expect_status 0 kura init "$S"
	echo "ledger" >"$T/lostver.txt"
	A=$(ingest_old "$S" "$T/lostver.txt")
	expect_status 0 kura meta set "$S" "$A" 取引先=山田商事 --reason "正式名称" --actor carol
	B=$(cat "$OUT")
	expect_status 0 kura show "$S" "$B" --json
	read -r seg off < <(py 'd = json.load(open(sys.argv[1])); print("%s/segments/%08d.seg" % (sys.argv[2], d["segment"]), d["offset"])' \
		"$OUT" "$S")
	truncate -s "$off" "$seg" # the new version, and all written after it
	expect_status 1 kura reindex "$S"
	expect_grep "$ERR" "object $B"
	expect_status 0 kura history "$S" "$A"
	expect_grep "$OUT" "reindex-loss"
	expect_status 0 kura history "$S" "$A" --json
	py 'h = json.load(open(sys.argv[1])); loss = [e for e in h["trail"] if e["action"] == "reindex-loss"]
assert len(loss) == 1 and sys.argv[2] in loss[0]["objects"] and loss[0]["records"] == [sys.argv[3]], h
assert any(n["id"] == sys.argv[2] and n["record"] == sys.argv[3] for n in loss[0]["lost"]["named"]), loss' \
		"$OUT" "$B" "$A" || fail "kura history of the record does not show the lost version: $(cat "$OUT")"
}

case_non_utf8_text()
{
	local S=$T/utf A B req before bad=$'x\xff' c wrong=()
	expect_status 0 kura init "$S"
	echo "books" >"$T/books.txt"
	A=$(ingest_old "$S" "$T/books.txt")
	B=$(ingest_old "$S" "$T/books.txt")
	expect_status 0 kura dispose "$S" --request "$B" --reason old
	req=$(cat "$OUT")
	expect_status 0 kura seal "$S"
	before=$(seg_digest "$S"):$(cat "$S/config.json")
	local -a cases=(
		"ingest $S --no-seal --supersedes $A --reason BAD $T/books.txt"
		"ingest $S --no-seal --reason BAD $T/books.txt"
		"meta set $S $A k=v --no-seal --reason BAD" "hold add $S h --reason BAD $A"
		"hold release $S h --reason BAD" "retention event $S handover 2020-01-01 --reason BAD $A"
		"retention set $S $T/books.txt --reason BAD" "dispose $S --request $A --reason BAD"
		"dispose $S --approve $req --reason BAD --actor bob" "dispose $S --refuse $req --reason BAD"
		"hold add $S h --reason r --actor BAD $A" "meta set $S $A k=v --no-seal --reason r --actor BAD"
		"tsa uncertify $S http://tsa.example/ --reason BAD")
	for c in "${cases[@]}"; do
		# shellcheck disable=SC2086
		if ! (expect_error 2 kura ${c//BAD/$bad}); then
			wrong+=("kura $c: not exit 2")
		elif ! grep -qE -- '--(reason|actor)[: ].*not valid UTF-8' "$ERR"; then
			wrong+=("kura $c: $(head -c 200 "$ERR")")
		fi
	done
	(expect_error 2 kura tsa urls "$S" --set "http://tsa.example/$bad") || wrong+=("tsa urls --set: not exit 2")
	[ "${#wrong[@]}" -eq 0 ] || fail "text not UTF-8 must be refused: $(printf '%s; ' "${wrong[@]}")"
	[ "$before" = "$(seg_digest "$S"):$(cat "$S/config.json")" ] || fail "a refused change changed the store"
	# a path is a name: any bytes, kept exactly
	printf 'kura-retention: 1\nclasses:\n  c1:\n    title: "t"\n    source: "s"\n    keep:\n      - {from: ingest, years: 1}\n' >"$T/r$bad.yaml"
	expect_status 0 kura retention set "$S" "$T/r$bad.yaml" --reason new
	grep -q '"file_hex"' <<<"$(kura log "$S" --json)" || fail "retention set: the file's name is not in its audit record"
}

# A hold cut cleanly out of its segment (the records around it intact, CRCs and all) after an
# earlier loss was recorded and reviewed: the gap it leaves was "explained" by that older
# reindex-loss record, which knew nothing of it, and the held record was disposed of without
# anyone reviewing anything. Only a loss record that lists the gap covers it; reindex records a
# gap no loss record lists, and disposal waits for a person again.
case_gap_explained_away()
{
	local S=$T/away A seg off req
	expect_status 0 kura init "$S"
	echo "ledger" >"$T/away.txt"
	A=$(ingest_old "$S" "$T/away.txt")
	expect_status 0 kura hold add "$S" litigation --reason "case 12" --actor carol "$A"
	echo "later" >"$T/away2.txt"
	expect_status 0 kura ingest "$S" "$T/away2.txt"
	echo "junk" >"$T/away3.txt"
	expect_status 0 kura ingest "$S" --no-seal "$T/away3.txt"
	truncate -s -10 "$S/segments/00000001.seg" # a loss at the end, with the index in place
	expect_status 1 kura reindex "$S"
	expect_status 0 kura dispose "$S" --resume --reason "holds checked" --actor carol
	expect_error 2 kura dispose "$S" --request "$A" --reason old --actor alice
	py '
import struct, sys
f = sys.argv[1]; b = bytearray(open(f, "rb").read()); p = 16; recs = []
while p + 20 <= len(b) and b[p:p + 4] == b"KRec" and p + 28 + struct.unpack("<Q", b[p + 8:p + 16])[0] <= len(b):
    n = struct.unpack("<Q", b[p + 8:p + 16])[0]
    recs.append((p, 28 + n, b[p + 20:p + 20 + n])); p += 28 + n
del b[p:] # the record cut short at the end, which reindex would report again
h = [r for r in recs if b"\"action\":\"hold\"" in r[2]][0]
del b[h[0]:h[0] + h[1]]
open(f, "wb").write(b)' "$S/segments/00000001.seg"
	rm -rf "$S/index"
	expect_status 1 kura reindex "$S"
	expect_grep "$ERR" "whose loss no reindex recorded"
	expect_error 3 kura dispose "$S" --request "$A" --reason old --actor alice
	expect_grep "$ERR" "disposal is suspended"
	expect_status 0 kura get "$S" "$A"
	expect_status 0 kura log "$S" --json
	py 'loss = [e for e in json.load(open(sys.argv[1])) if e["action"] == "reindex-loss"]
assert len(loss) == 2 and loss[0]["gaps"] == [] and loss[1]["gaps"] == [{"from": 2, "to": 2}], loss' "$OUT" ||
		fail "the reindex-loss records do not list the gap: $(cat "$OUT")"
	local by
	by=$(py 'print([e for e in json.load(open(sys.argv[1])) if e["action"] == "reindex-loss"][1]["id"])' "$OUT")
	expect_status 0 kura seal "$S" --audit-trail # the checkpoint names the record that lists it
	expect_status 1 kura log "$S" --verify
	expect_grep "$OUT" "audit records 2 to 2 are missing from the chain (a reindex recorded the loss: audit record $by)"
}

run_case damaged_hold case_damaged_hold
run_case lost_tail_hold case_lost_tail_hold
run_case old_index_back case_old_index_back
run_case reordered case_reordered
run_case moved_object case_moved_object
run_case system_object case_system_object
run_case four_eyes_spelling case_four_eyes_spelling
run_case lost_version case_lost_version
run_case gap_explained_away case_gap_explained_away
run_case non_utf8_text case_non_utf8_text
finish_cases
