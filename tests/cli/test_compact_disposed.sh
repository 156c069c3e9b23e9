#!/usr/bin/env bash
# A store whose disposed objects' bytes compaction removed (marked and compacted with the
# test-only kura_compact_tool, as the records layer's disposal will): every command treats
# them as disposed, not as damage or loss. `kura get` exits 1 saying so (and by which audit
# record), `kura show` says so (exit 0), scrub is clean, verify says "disposed" and exits 0,
# export leaves them out and the package verifies (and refuses when every ID named is one), a hash-tree renewal renews the others and leaves them out, the
# shared content of a live twin stays, and reindex reports nothing lost.
source "$(dirname "$0")/lib.sh" || exit 1
cd "$T"
TOOL=${KURA_COMPACT_TOOL:-$(dirname "$KURA_BIN")/tests/kura_compact_tool}
[ -x "$TOOL" ] || fail "no kura_compact_tool at $TOOL (build the tests)"
export KURA_NOW=2026-01-01T00:00:00Z

mkdir docs
random_file docs/gone.bin 20000
random_file docs/kept.bin 20000
random_file docs/twin-a.bin 9000
cp docs/twin-a.bin docs/twin-b.bin
expect_status 0 kura init S --segment-size 4096
expect_status 0 kura ingest S docs
id_of() { grep -F "docs/$1" "$OUT.ingest" | cut -f1; }
cp "$OUT" "$OUT.ingest"
GONE=$(id_of gone.bin) KEPT=$(id_of kept.bin) TWIN_A=$(id_of twin-a.bin) TWIN_B=$(id_of twin-b.bin)
before=$(seg_bytes S)
expect_status 0 "$TOOL" S --mark "$GONE" "$TWIN_A"
expect_status 0 "$TOOL" S
read -r _ segments blobs _ _ <"$OUT"
[ "$blobs" = 1 ] || fail "compaction removed $blobs blobs, not 1 (the twin's content is shared): $(cat "$OUT")"
after=$(seg_bytes S)
[ $((before - after)) -ge 20000 ] || fail "the store shrank by $((before - after)) bytes, less than the document"

expect_error 1 kura get S "$GONE"
expect_grep "$ERR" "was disposed of (audit record 01JZZZZZZZZZZZZZZZZZZZZZZZ)"
expect_error 1 kura get S "$TWIN_A"
[ "$(sha256_of_get S "$TWIN_B")" = "$(sha256_of docs/twin-b.bin)" ] || fail "the live twin changed"
[ "$(sha256_of_get S "$KEPT")" = "$(sha256_of docs/kept.bin)" ] || fail "a live object changed"
expect_scrub_clean S "after compaction"
expect_status 0 kura verify S
expect_grep "$OUT" "$GONE	disposed"
expect_grep "$ERR" "2 of 4 object(s) verified valid, 2 disposed of"
expect_status 0 kura export S -o pkg.tar
expect_status 0 kura verify-export pkg.tar
if grep -q "$GONE" <<<"$(tar tf pkg.tar)"; then fail "export holds the disposed object"; fi
# show says the content was disposed of (as get does), and not where it was; exit 0: the
# object record stays
expect_status 0 kura show S "$GONE"
expect_grep "$OUT" "disposed  object $GONE was disposed of (audit record 01JZZZZZZZZZZZZZZZZZZZZZZZ): its content is no longer kept"
if grep -qE '^(segment|offset|stored) ' "$OUT"; then fail "show of a disposed object says where its content was: $(cat "$OUT")"; fi
expect_status 0 kura show S "$GONE" --json
py 'd = json.load(open(sys.argv[1])); assert d["disposed"]["audit_record"] == "01JZZZZZZZZZZZZZZZZZZZZZZZ" and "segment" not in d, d' "$OUT"
expect_status 0 kura show S "$KEPT" --json
py 'd = json.load(open(sys.argv[1])); assert "disposed" not in d and "segment" in d, d' "$OUT"
# export of IDs all disposed of: nothing to export, exit 1, no package; of some: the rest
expect_error 1 kura export S -o only.tar.zst "$GONE" "$TWIN_A"
expect_grep "$ERR" "nothing to export"
[ ! -e only.tar.zst ] || fail "an export of disposed objects only wrote a package"
expect_status 0 kura export S -o some.tar "$GONE" "$KEPT"
expect_grep "$ERR" "$GONE was disposed of (audit record 01JZZZZZZZZZZZZZZZZZZZZZZZ): left out of the package"
expect_grep "$ERR" "exported 1 object(s)"
grep -q "$KEPT" <<<"$(tar tf some.tar)" || fail "the export of a disposed and a live object lacks the live one"
if grep -q "$GONE" <<<"$(tar tf some.tar)"; then fail "export holds the disposed object"; fi

expect_status 0 kura policy sunset S sha256 2027-06-01
KURA_NOW=2026-07-01T00:00:00Z expect_status 0 kura renew S
expect_grep "$OUT" "2 object(s) by hash tree"
KURA_NOW=2026-07-01T00:00:00Z expect_status 0 kura verify S
expect_grep "$OUT" "$KEPT	valid"

expect_status 0 kura reindex S
if grep -qi "lost\|damaged" "$ERR"; then fail "reindex reports a loss: $(cat "$ERR")"; fi
