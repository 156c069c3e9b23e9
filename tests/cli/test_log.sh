#!/usr/bin/env bash
# The audit trail as a user and an auditor read and check it (issue 14, docs/RECORDS.md):
# - kura log: text, --json (the records exactly as stored), --csv (RFC 4180), with Japanese
#   names, actors and reasons; --object; --since/--until;
# - checkpoints: a seal with documents first takes the trail's new records in as
#   audit-trail-FROM-TO.jsonl, sealed with them (openssl ts verifies its token, its content is the
#   records' bodies); an idle store gets no new checkpoint; seal --audit-trail seals the trail alone;
# - kura log --verify: good; a record rewritten with valid CRCs (a forger), one cut out (a gap after
#   reindex), a flipped byte (scrub and --verify both fail);
# - renewal, import and export write audit records; an export carries the trail of its objects with
#   the checkpoints that prove it, verify-export checks them and import keeps them.
source "$(dirname "$0")/lib.sh"
D0=2026-01-05T00:00:00Z
D1=2026-02-10T09:30:00Z
D2=2026-03-20T00:00:00Z

# The records of a store's segments (docs/FORMAT.md's layout) as (offset, type, body), and a
# forger's rewrite of one with both CRCs recomputed: forge STORE SEQ OLD NEW (same length), or
# cut STORE SEQ (the record removed from its segment).
FORGE='
import glob, struct, sys, zlib
def records(path):
    b = open(path, "rb").read(); p = 16
    while p + 20 <= len(b) and b[p:p + 4] == b"KRec":
        n = struct.unpack("<Q", b[p + 8:p + 16])[0]
        yield p, chr(b[p + 4]), b[p + 20:p + 20 + n]
        p += 28 + n
op, store, seq = sys.argv[1], sys.argv[2], int(sys.argv[3])
if op == "append":  # an audit record as kura wrote them before the chain, at the end
    body = sys.argv[4].encode()
    head = b"KRecA\x01\x00\x00" + struct.pack("<Q", len(body))
    rec = head + struct.pack("<I", zlib.crc32(head)) + body + struct.pack("<I", zlib.crc32(body)) + b"KEnd"
    open(sorted(glob.glob(store + "/segments/*.seg"))[-1], "ab").write(rec)
    sys.exit(0)
want = b"\"seq\":%d," % seq
for path in sorted(glob.glob(store + "/segments/*.seg")):
    for off, kind, body in records(path):
        if kind != "A" or want not in body:
            continue
        b = bytearray(open(path, "rb").read())
        if op == "cut":
            del b[off:off + 28 + len(body)]
        else:
            new = body.replace(sys.argv[4].encode(), sys.argv[5].encode())
            assert len(new) == len(body) and new != body, "the forgery must keep the length"
            b[off + 20:off + 20 + len(body)] = new
            b[off + 20 + len(body):off + 24 + len(body)] = struct.pack("<I", zlib.crc32(new))
        open(path, "wb").write(b)
        print(off + 20)
        sys.exit(0)
sys.exit("no audit record %d" % seq)'

# setup_store NAME [INIT-ARGS...]: a store with two documents (ingested by 山田 at D0), a metadata
# change (by 佐藤 at D1) and a trust change (D2), sealed; sets S, DOC (the invoice's ID), NEW (its
# new version)
setup_store()
{
	local name=$1
	S=$T/$1
	shift
	printf '請求書 第1号\n' >"$T/請求書.txt"
	printf 'ledger\n' >"$T/ledger.txt"
	expect_status 0 at "$D0" init "$S" "$@"
	KURA_ACTOR=山田 expect_status 0 at "$D0" ingest "$S" "$T/請求書.txt" "$T/ledger.txt"
	DOC=$(grep 請求書 "$OUT" | cut -f1)
	KURA_ACTOR=佐藤 expect_status 0 at "$D1" meta set "$S" "$DOC" 取引先=東京商事 --reason '取引先の訂正, "誤記" による'
	NEW=$(tail -n 1 "$OUT" | cut -f1)
	expect_status 0 at "$D2" tsa ca "$S"
	cp "$OUT" "$T/$name-root.pem"
	expect_status 0 at "$D2" trust add "$S" --tsa "$T/$name-root.pem"
}

case_formats()
{
	setup_store f
	expect_status 0 kura log "$S"
	cp "$OUT" "$T/log.txt"
	py '
lines = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="utf-8")]
want = [("1", "山田", "ingest"), ("2", "山田", "checkpoint"), ("3", "佐藤", "meta"), ("4", "佐藤", "checkpoint"),
        ("5", None, "trust-add")]
got = [(l[0], l[2], l[3]) for l in lines]
assert len(lines) == 5 and all(len(l) == 6 for l in lines), lines
for (seq, actor, action), l in zip(want, lines):
    assert l[0] == seq and l[3] == action and (actor is None or l[2] == actor), (seq, l)
assert lines[2][5] == "取引先の訂正, \"誤記\" による", lines[2]
assert sys.argv[2] in lines[0][4] and sys.argv[3] in lines[2][4], lines
assert lines[0][1] == "2026-01-05T00:00:00Z" and lines[2][1] == "2026-02-10T09:30:00Z", lines' "$T/log.txt" "$DOC" "$NEW"
	# --json: the records exactly as stored, hash-chained
	expect_status 0 kura log "$S" --json
	py '
import hashlib
text = open(sys.argv[1], "rb").read()
assert text.startswith(b"[\n") and text.endswith(b"\n]\n"), text[:40]
bodies = text[2:-3].split(b",\n")
prev = "0" * 64
for i, b in enumerate(bodies):
    r = json.loads(b)
    assert r["seq"] == i + 1 and r["prev"] == prev, (i, r)
    prev = hashlib.sha256(b).hexdigest()
assert json.loads(bodies[2])["reason"] == "取引先の訂正, \"誤記\" による"' "$OUT"
	# --csv: RFC 4180, a header row, CRLF, the reason with its comma and quotes intact
	expect_status 0 kura log "$S" --csv
	py '
import csv, io
raw = open(sys.argv[1], "rb").read()
assert raw.count(b"\r\n") == 6 and raw.count(b"\n") == 6, raw
rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
assert rows[0] == ["seq", "id", "time", "actor", "action", "objects", "reason", "detail"], rows[0]
assert rows[3][3] == "佐藤" and rows[3][4] == "meta" and rows[3][6] == "取引先の訂正, \"誤記\" による", rows[3]
assert rows[5][4] == "trust-add" and json.loads(rows[5][7])["kind"] == "tsa", rows[5]' "$OUT"
	# --object: the records about the invoice's record (its ingest, the change to it), not the ledger's
	expect_status 0 kura log "$S" --object "$NEW"
	[ "$(cut -f1 "$OUT" | tr '\n' ' ')" = "1 3 " ] || fail "log --object: $(cat "$OUT")"
	LEDGER=$(kura ls "$S" | grep ledger | cut -f1)
	expect_status 0 kura log "$S" --object "$LEDGER"
	[ "$(cut -f1 "$OUT" | tr '\n' ' ')" = "1 " ] || fail "log --object of the ledger: $(cat "$OUT")"
	expect_error 1 kura log "$S" --object 7ZZZZZZZZZZZZZZZZZZZZZZZZZ
	# --since / --until: RFC 3339 or a date (a date --until takes the whole day)
	expect_status 0 kura log "$S" --since 2026-02-01 --until 2026-02-10
	[ "$(cut -f1 "$OUT" | tr '\n' ' ')" = "3 4 " ] || fail "log --since --until: $(cat "$OUT")"
	expect_status 0 kura log "$S" --since 2026-02-10T09:30:00.001Z
	[ "$(cut -f1 "$OUT" | tr '\n' ' ')" = "5 " ] || fail "log --since TIME: $(cat "$OUT")"
	# a record from before the chain (an older store's) is listed first, unchained
	py "$FORGE" append "$S" 0 '{"id":"01KDNX0Q00T2Z3Y0A5Q3W5Q3NZ","time":"2025-12-01T00:00:00Z","event":"policy-set","detail":{"to":"bsi"}}'
	rm -rf "$S/index"
	expect_status 0 kura reindex "$S"
	expect_status 0 kura log "$S"
	[ "$(head -n 1 "$OUT" | cut -f1,2,4)" = $'-	2025-12-01T00:00:00Z	policy-set (unchained)' ] ||
		fail "the unchained record is not listed first: $(cat "$OUT")"
	[ "$(wc -l <"$OUT")" -eq 6 ] || fail "log after an unchained record: $(cat "$OUT")"
	expect_status 0 at "$D2" log "$S" --verify
	expect_error 2 kura log "$S" --since yesterday
	expect_error 2 kura log "$S" --json --csv
	expect_error 2 kura log "$S" --verify --json
}

case_checkpoints()
{
	setup_store c
	expect_status 0 kura ls "$S" --system
	[ "$(grep -c audit-trail "$OUT")" -eq 2 ] || fail "expected 2 checkpoints: $(cat "$OUT")"
	expect_grep "$OUT" "audit-trail-1-1.jsonl"
	expect_grep "$OUT" "audit-trail-2-3.jsonl"
	! grep -q audit-trail <<<"$(kura ls "$S")" || fail "ls lists the trail's checkpoints"
	# idle: two seals in a row make no checkpoint; the trust change waits for documents or --audit-trail
	for i in 1 2; do
		expect_status 0 at "$D2" seal "$S"
		expect_grep "$ERR" "nothing to seal"
	done
	[ "$(kura ls "$S" --system | grep -c audit-trail)" -eq 2 ] || fail "an idle seal made a checkpoint"
	expect_status 0 at "$D2" seal "$S" --audit-trail
	expect_grep "$ERR" "the audit trail is time-stamped to record 5"
	for i in 1 2; do
		expect_status 0 at "$D2" seal "$S" --audit-trail
		expect_grep "$ERR" "nothing to seal"
	done
	expect_status 0 at "$D2" log "$S" --verify
	expect_grep "$OUT" "6 record(s) in the chain, 3 checkpoint(s) with valid evidence, 0 problem(s)"
	! grep -q "not yet covered" "$OUT" || fail "the last checkpoint's own record counted as uncovered: $(cat "$OUT")"
	# the checkpoint's content is the records' bodies, and its evidence verifies without kura
	CP=$(kura ls "$S" --system | grep audit-trail-4-5 | cut -f1)
	kura log "$S" --json | py '
text = sys.stdin.buffer.read()
bodies = text[2:-3].split(b",\n")
sys.stdout.buffer.write(b"".join(b + b"\n" for b in bodies[3:5]))' >"$T/want.jsonl"
	kura get "$S" "$CP" -o "$T/cp.jsonl"
	cmp "$T/cp.jsonl" "$T/want.jsonl" || fail "the checkpoint does not hold records 4 and 5 exactly"
	expect_status 0 at "$D2" verify "$S" "$CP"
	expect_status 0 at "$D2" export "$S" -o "$T/cp.tar" "$CP"
	mkdir "$T/cpx" && tar -xf "$T/cp.tar" -C "$T/cpx"
	(cd "$T/cpx/cp/data/tokens" && while IFS=$'\t' read -r file gentime epoch hash imprint; do
		openssl ts -verify -token_in -in "$file" -digest "$imprint" -CAfile ../tsa-anchors.pem \
			-attime "$epoch" >/dev/null 2>&1 || exit 1
	done <INDEX.tsv) || fail "openssl ts -verify fails on the checkpoint's token"
	(cd "$T/cpx/cp" && sh verify.sh --rebuild "$T/cprec" >/dev/null) || fail "the package's verify.sh fails"
	root=$("$PYTHON" "$(dirname "$0")/../../demo/ers_extract.py" "$T/cprec/$CP/audit-trail-4-5.jsonl.ers" \
		"$T/cpx/cp/$(pkg_doc "$T/cpx/cp" "$CP")" "$T/tok" 2>/dev/null)
	first=$(head -n1 "$T/cpx/cp/data/$CP/audit-trail-4-5.jsonl.erp" | cut -d' ' -f6)
	[ "$root" = "$(grep "^$first.tsr" "$T/cpx/cp/data/tokens/INDEX.tsv" | cut -f5)" ] ||
		fail "the token's imprint is not the root computed from the checkpoint"
	# documents are counted as before: the checkpoints are kura's own
	expect_status 0 at "$D2" verify "$S"
	expect_grep "$ERR" "3 of 3 object(s)"
	# the export is recorded (7), then sealed; reindex rebuilds where the checkpoints stand
	expect_status 0 at "$D2" seal "$S" --audit-trail
	expect_grep "$ERR" "the audit trail is time-stamped to record 7"
	rm -rf "$S/index"
	expect_status 0 kura reindex "$S"
	expect_status 0 at "$D2" seal "$S" --audit-trail
	expect_grep "$ERR" "nothing to seal"
	expect_status 0 at "$D2" log "$S" --verify
}

case_forged()
{
	setup_store g
	expect_status 0 at "$D2" seal "$S" --audit-trail
	cp -a "$S" "$T/cut" && cp -a "$S" "$T/flip"
	# a forger rewrites record 3's actor and recomputes the CRCs: scrub sees nothing
	py "$FORGE" forge "$S" 3 '"actor":"佐藤"' '"actor":"鈴木"' >/dev/null
	expect_status 0 kura scrub "$S"
	expect_status 1 at "$D2" log "$S" --verify
	expect_grep "$OUT" $'FAIL\trecord 3\t'
	expect_grep "$ERR" "does not verify"
	# the index rebuilt from the forged segments: the chain itself breaks after it
	rm -rf "$S/index"
	expect_status 0 kura reindex "$S"
	expect_status 1 at "$D2" log "$S" --verify
	expect_grep "$OUT" $'FAIL\trecord 4\t'
	expect_grep "$OUT" "is not what checkpoint"
	# a record cut out: a gap after reindex
	py "$FORGE" cut "$T/cut" 2 >/dev/null
	rm -rf "$T/cut/index"
	kura reindex "$T/cut" >/dev/null 2>&1 || true
	expect_status 1 at "$D2" log "$T/cut" --verify
	expect_grep "$OUT" "audit records 2 to 2 are missing"
	# a flipped byte: the CRC fails, scrub reports it, --verify names the record
	seg=$(ls "$T"/flip/segments/*.seg | tail -n 1)
	off=$(py 'print(open(sys.argv[1], "rb").read().find(b"\"action\":\"trust-add\""))' "$seg")
	[ "$off" -gt 0 ] || fail "test bug: no trust-add record found"
	flip_byte "$seg" "$((off + 12))"
	expect_status 1 kura scrub "$T/flip"
	expect_status 1 at "$D2" log "$T/flip" --verify
	expect_grep "$OUT" $'FAIL\trecord 5\t'
}

case_package()
{
	# certificates due for renewal by D2 (ended within the 180-day margin) but not at D0 or D1,
	# so that the TSA rolls over only at D2
	setup_store p --tsa-days 240
	# renewal: a due time-stamp renewal writes one "renew" record
	expect_status 0 at "$D2" renew "$S"
	expect_status 0 kura log "$S" --json
	py '
r = [x for x in json.load(open(sys.argv[1])) if x["action"] == "renew"]
assert len(r) == 1 and r[0]["chains_renewed"] >= 1 and r[0]["records"], r' "$OUT"
	# export: the objects' trail and the checkpoints holding it go along; the export is recorded
	expect_status 0 at "$D2" export "$S" -o "$T/pkg.tar" "$NEW"
	expect_grep "$ERR" "with their audit trail: 2 record(s) and 2 checkpoint(s)"
	expect_status 0 kura log "$S" --object "$NEW"
	expect_grep "$OUT" $'export\t'"$NEW"
	expect_status 0 at "$D2" verify-export "$T/pkg.tar" --json
	py '
d = json.load(open(sys.argv[1]))
a = d["audit"]
assert d["verdict"] == "valid" and len(d["objects"]) == 1, d
assert a["verdict"] == "valid" and a["records"] == 2 and a["proven"] == 2 and len(a["checkpoints"]) == 2, a' "$OUT"
	mkdir "$T/x" && tar -xf "$T/pkg.tar" -C "$T/x"
	(cd "$T/x/pkg" && sha256sum --quiet -c manifest-sha256.txt) || fail "sha256sum -c fails on the package's trail"
	# a line of the trail changed (manifests redone): no checkpoint proves it any more
	sed -i 's/佐藤/鈴木/' "$T/x/pkg/data/audit/trail.jsonl"
	remanifest "$T/x/pkg"
	expect_status 0 at "$D2" verify-export "$T/x/pkg" --json
	py 'a = json.load(open(sys.argv[1]))["audit"]
assert a["verdict"] == "indeterminate" and a["proven"] == 1 and len(a["unproven"]) == 1, a' "$OUT"
	# import keeps the original trail: log --object and history of the imported object show it
	expect_status 0 at "$D2" init "$T/b"
	expect_status 0 at "$D2" trust add "$T/b" --tsa "$T/p-root.pem"
	expect_status 0 at "$D2" import "$T/b" "$T/pkg.tar"
	expect_grep "$ERR" "imported 1 object(s), refused 0"
	id=$(grep '^OK' "$OUT" | cut -f2)
	expect_status 0 kura log "$T/b" --object "$id"
	expect_grep "$OUT" $'\timport\t'"$id"
	expect_grep "$OUT" $'imported:1\t2026-01-05T00:00:00Z\t山田\tingest (imported)'
	expect_grep "$OUT" $'imported:3\t2026-02-10T09:30:00Z\t佐藤\tmeta (imported)'
	expect_status 0 kura history "$T/b" "$id"
	expect_grep "$OUT" "imported-trail"
	expect_status 0 kura log "$T/b" --json
	py '
r = [x for x in json.load(open(sys.argv[1])) if x["action"] == "imported-trail"][0]
assert r["package"] == "pkg.tar" and r["proven"] == 2 and len(r["imported_trail"]) == 2, r
assert json.loads(r["imported_trail"][1])["reason"] == "取引先の訂正, \"誤記\" による", r' "$OUT"
}

run_case formats case_formats
run_case checkpoints case_checkpoints
run_case forged case_forged
run_case package case_package
finish_cases
