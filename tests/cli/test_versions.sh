#!/usr/bin/env bash
# Versions instead of overwrites (issue 14): a correction is a new version (ingest
# --supersedes), a re-ingested folder makes new versions of changed files only
# (--versions-by-path), a metadata change is a version too (meta set); old versions stay
# readable and verifiable; ls shows current versions; history says who, when and why; the
# links survive reindex; bad requests change nothing.
source "$(dirname "$0")/lib.sh"

S=$T/s
kura init "$S" >/dev/null 2>&1 || fail "init"
mkdir -p "$T/books"
printf '2026-04-01,120000,山田商事\n' >"$T/books/台帳.csv"
printf 'unchanged\n' >"$T/books/b.txt"

case_versions()
{
	expect_status 0 kura ingest "$S" --meta 取引先=山田商事 --actor 経理-佐藤 "$T/books"
	local a b
	a=$(grep '台帳.csv' "$OUT" | cut -f1)
	b=$(grep 'b.txt' "$OUT" | cut -f1)
	[ -n "$a" ] && [ -n "$b" ] || fail "ingest printed no IDs"

	# a correction: a new version, its reason required; the old stays as it was
	printf '2026-04-01,125000,山田商事\n' >"$T/fixed.csv"
	local before
	before=$(seg_digest "$S")
	expect_error 2 kura ingest "$S" --supersedes "$a" "$T/fixed.csv"
	expect_grep "$ERR" "needs --reason"
	expect_error 2 kura ingest "$S" --supersedes 01M96MX4XYBJD9VXY7N04YDM00 --reason x "$T/fixed.csv"
	expect_grep "$ERR" "no such object"
	[ "$(seg_digest "$S")" = "$before" ] || fail "a refused correction changed the segments"
	expect_status 0 kura ingest "$S" --supersedes "$a" --reason "金額訂正 (amount corrected)" --actor 経理-鈴木 "$T/fixed.csv"
	local a2
	a2=$(cut -f1 "$OUT")
	[ "$a2" != "$a" ] || fail "the correction has the old ID"

	# ls: the current version of each record; --all-versions: every one
	expect_status 0 kura ls "$S"
	[ "$(wc -l <"$OUT")" -eq 2 ] || fail "ls shows $(wc -l <"$OUT") lines, expected 2 current versions"
	grep -q "^$a2	" "$OUT" || fail "ls does not show the new version"
	! grep -q "^$a	" "$OUT" || fail "ls shows the superseded version"
	expect_status 0 kura ls "$S" --all-versions
	[ "$(wc -l <"$OUT")" -eq 3 ] || fail "ls --all-versions shows $(wc -l <"$OUT") lines, expected 3"

	# the old version is still there, byte for byte, with its evidence
	[ "$(sha256_of_get "$S" "$a")" = "$(sha256_of "$T/books/台帳.csv")" ] || fail "the old version's bytes changed"
	expect_status 0 kura verify "$S" "$a"
	expect_status 0 kura evidence "$S" "$a" -o "$T/a.ers"
	kura tsa ca "$S" >"$T/root.pem"
	expect_status 0 kura verify-er --data "$T/books/台帳.csv" --er "$T/a.ers" --trust "$T/root.pem"

	# a metadata change is a version: the old value stays readable; a superseded ID
	# given still continues the record at its end
	expect_error 2 kura meta set "$S" "$a2" 取引先=山田商事株式会社
	expect_status 0 kura meta set "$S" "$a" 取引先=山田商事株式会社 --reason "正式名称" --actor 経理-佐藤
	local a3
	a3=$(cat "$OUT")
	[ "$(show_field "$S" "$a2" meta)" = "{'取引先': '山田商事'}" ] || fail "the old metadata changed: $(show_field "$S" "$a2" meta)"
	[ "$(show_field "$S" "$a3" meta)" = "{'取引先': '山田商事株式会社'}" ] || fail "the new metadata is wrong"
	[ "$(show_field "$S" "$a3" sha256)" = "$(show_field "$S" "$a2" sha256)" ] || fail "a metadata change changed the content"
	[ "$(sha256_of_get "$S" "$a3")" = "$(sha256_of "$T/fixed.csv")" ] || fail "the new version's bytes differ"
	expect_status 0 kura verify "$S" "$a3"

	# re-ingest of the folder: unchanged files left out, changed ones a new version. The ledger
	# was corrected from another file (fixed.csv): its old bytes at its old path are left out,
	# not made the current version again (that undid the correction)
	expect_status 0 kura ingest "$S" --versions-by-path --reason "再スキャン" "$T/books"
	[ ! -s "$OUT" ] || fail "a re-scan of unchanged files after a correction made objects: $(cat "$OUT")"
	expect_grep "$ERR" "台帳.csv is unchanged: it is version $a, which $a3 superseded"
	printf '2026-04-01,130000,山田商事\n' >"$T/books/台帳.csv"
	expect_status 0 kura ingest "$S" --versions-by-path --reason "再スキャン" "$T/books"
	[ "$(wc -l <"$OUT")" -eq 1 ] || fail "versions-by-path made $(wc -l <"$OUT") objects, expected 1"
	expect_grep "$ERR" "b.txt is unchanged"
	local a4
	a4=$(cut -f1 "$OUT")
	expect_status 0 kura ls "$S"
	[ "$(wc -l <"$OUT")" -eq 2 ] || fail "after versions-by-path, ls shows $(wc -l <"$OUT") lines"
	grep -q "^$a4	" "$OUT" && grep -q "^$b	" "$OUT" || fail "ls does not show the current versions"

	# history: every version, who, when, why, oldest first
	expect_status 0 kura history "$S" "$a2"
	local who
	who=$(cut -f2,3,4 "$OUT" | tr '\t\n' ' |')
	[ "$who" = "経理-佐藤 created $a|経理-鈴木 version $a2|経理-佐藤 version $a3|$(id -un) version $a4|" ] ||
		fail "history: $who"
	grep -q "金額訂正" "$OUT" || fail "history does not give the reason"
	expect_status 0 kura history "$S" "$a4" --json
	py '
d = json.load(open(sys.argv[1]))
a, a2, a3, a4 = sys.argv[2:6]
assert d["record"] == a and d["current"] == a4, d
assert [v["id"] for v in d["versions"]] == [a, a2, a3, a4]
assert [v.get("superseded_by") for v in d["versions"]] == [a2, a3, a4, None]
meta = [t for t in d["trail"] if t["action"] == "meta"]
assert len(meta) == 1 and meta[0]["old"] == {"取引先": "山田商事"} and meta[0]["new"] == {"取引先": "山田商事株式会社"}, meta
assert meta[0]["reason"] == "正式名称" and meta[0]["actor"] == "経理-佐藤"
' "$OUT" "$a" "$a2" "$a3" "$a4" || fail "history --json is wrong"
	cp "$OUT" "$T/history.json"

	# everything above is in the segments: reindex gives the same answers
	expect_status 0 kura ls "$S"
	cp "$OUT" "$T/ls.before"
	rm -rf "$S/index"
	expect_status 0 kura reindex "$S"
	expect_status 0 kura ls "$S"
	cmp -s "$OUT" "$T/ls.before" || fail "ls differs after reindex"
	expect_status 0 kura history "$S" "$a" --json
	cmp -s "$OUT" "$T/history.json" || fail "history differs after reindex"
	expect_status 0 kura verify "$S"
	expect_scrub_clean "$S"
}
run_case versions case_versions

case_actor()
{
	local s2=$T/s2
	kura init "$s2" >/dev/null 2>&1 || fail "init"
	echo x >"$T/x.txt"
	KURA_ACTOR=監査人 expect_status 0 kura ingest "$s2" "$T/x.txt"
	local x
	x=$(cut -f1 "$OUT")
	[ "$(show_field "$s2" "$x" actor)" = "監査人" ] || fail "KURA_ACTOR was not taken"
	expect_error 2 kura ingest "$s2" --actor "$(printf 'a\tb')" "$T/x.txt"
	expect_error 2 kura meta set "$s2" "$x" k=v --reason r --actor ""
}
run_case actor case_actor

finish_cases
