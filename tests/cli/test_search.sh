#!/usr/bin/env bash
# Search by typed fields (issue 15), what a user relies on, each refusal included: values
# checked at ingest and at meta set (exit 2, nothing stored); --required-for a retention
# class; field add refused for a store holding a value not of the type (naming it) and for
# another type; --where refused for an unknown field, ^= on a date, no operator, a value not
# of the type; a field add killed in the middle leaves the field "index incomplete" and
# queries on it refused (exit 3) until field add runs again; Japanese field names and text
# folded (全角/半角, case) but keywords exact; amounts by currency; --csv read back with
# Python's csv module; --disposed and --all-versions with --where. The answers on random
# data at scale: test_search_oracle.sh.
source "$(dirname "$0")/lib.sh"

S=$T/s
mkdir -p "$T/docs"
NOW=2026-06-01T09:00:00Z

# doc NAME [TEXT]: a small file $T/docs/NAME, its path printed
doc()
{
	printf '%s\n' "${2:-$1}" >"$T/docs/$1"
	echo "$T/docs/$1"
}

# put STORE FILE ARGS...: ingests FILE (--no-seal, ARGS before it); sets ID to its ID
put()
{
	local store=$1 file=$2
	shift 2
	expect_status 0 at "$NOW" ingest "$store" --no-seal "$@" "$file"
	ID=$(cut -f1 "$OUT")
}

# refused ARGS...: kura ARGS exits 2 with a message, and the segments of $S are as they were
refused()
{
	local before
	before=$(seg_digest "$S")
	expect_error 2 at "$NOW" "$@"
	[ "$(seg_digest "$S")" = "$before" ] || fail "refused 'kura $*' changed the segments"
}

# hits ARGS...: the IDs `kura ls $S ARGS --json` lists, in its order, one a line
hits()
{
	expect_status 0 kura ls "$S" "$@" --json
	py 'for o in json.load(open(sys.argv[1])): print(o["id"])' "$OUT"
}

# expect_hits "ID..." ARGS...: ls $S ARGS lists exactly these IDs, in this order
expect_hits()
{
	local want=$1 got
	shift
	got=$(hits "$@" | tr '\n' ' ')
	[ "$got" = "$want" ] || fail "kura ls $*: got [$got], expected [$want]"
}

kura init "$S" >/dev/null 2>&1 || fail "init"
for f in 取引年月日:date 受領日時:datetime 取引金額:amount 取引先:text 伝票番号:keyword 数量:integer; do
	expect_status 0 kura field add "$S" "${f%%:*}" "${f#*:}"
done

case_values_checked()
{
	put "$S" "$(doc ok)" --meta 取引年月日=2024-02-29 --meta 取引金額=¥120,000
	local bad
	for bad in 取引年月日=2026-02-30 取引年月日=2026/04/01 取引年月日=2023-02-29 受領日時=2026-04-01T10:00 \
		受領日時=2026-04-01T25:00Z 取引金額=12.3.4 取引金額=1.1234567 取引金額=¥100USD 取引金額=1,00 取引金額=abc \
		数量=1.5 数量=9223372036854775808 数量=12x; do
		refused ingest "$S" --no-seal --meta "$bad" "$(doc bad)"
		expect_grep "$ERR" "field '${bad%%=*}'"
		expect_grep "$ERR" "'${bad#*=}' is not"
	done
	# a folder: one bad value refuses every file of the ingest
	mkdir -p "$T/docs/folder"
	doc folder/a >/dev/null
	doc folder/b >/dev/null
	refused ingest "$S" --no-seal --meta 数量=many "$T/docs/folder"
	# a manifest: one bad row refuses the whole of it
	printf 'path,取引年月日,取引金額\nfolder/a,2026-04-01,100\nfolder/b,2026-04-31,200\n' >"$T/docs/m.csv"
	refused ingest "$S" --no-seal --manifest "$T/docs/m.csv"
	expect_grep "$ERR" "'2026-04-31' is not"
	# meta set: the same check, nothing stored
	refused meta set "$S" "$ID" 取引金額=12.3.4 --reason "typo"
	expect_grep "$ERR" "'12.3.4' is not"
	refused meta set "$S" "$ID" 取引年月日=2026-13-01 数量=3 --reason "typo"
	expect_status 0 kura ls "$S" --all-versions
	[ "$(wc -l <"$OUT")" -eq 1 ] || fail "refused ingests stored something: $(cat "$OUT")"
	# and what is accepted: full-width digits, currencies written either side, offsets
	expect_status 0 kura meta set "$S" "$ID" 取引金額=１２０，０００円 受領日時=2024-03-01T00:30+09:00 --reason "as on the invoice" --no-seal
	expect_hits "$(cat "$OUT") " --where '取引金額=120000' --where '受領日時<2024-02-29T15:31:00Z' --where '取引年月日=2024-02-29'
}

case_required_for()
{
	local s=$T/req
	kura init "$s" >/dev/null 2>&1 || fail "init"
	expect_error 2 kura field add "$s" 取引先 text --required-for no-such-class
	expect_grep "$ERR" "no-such-class"
	expect_status 0 kura field add "$s" 取引先 text --required-for jp-tax-books
	expect_status 0 kura field ls "$s" --json
	py 'f = json.load(open(sys.argv[1]))
assert [(x["name"], x["type"], x["required_for"], x["built"]) for x in f] == [("取引先", "text", ["jp-tax-books"], True)], f' "$OUT"
	local before
	before=$(seg_digest "$s")
	expect_error 2 at "$NOW" ingest "$s" --no-seal --class jp-tax-books --event fiscal-year-end=2026-03-31 "$(doc books)"
	expect_grep "$ERR" "'取引先' is required for class jp-tax-books"
	expect_error 2 at "$NOW" ingest "$s" --no-seal --class jp-tax-books --event fiscal-year-end=2026-03-31 --meta 取引先= "$(doc books)"
	[ "$(seg_digest "$s")" = "$before" ] || fail "a refused ingest changed the segments"
	put "$s" "$(doc books)" --class jp-tax-books --event fiscal-year-end=2026-03-31 --meta 取引先=山田商事
	# nor taken away by a new version
	before=$(seg_digest "$s")
	expect_error 2 kura meta set "$s" "$ID" 取引先= --reason "not needed" --no-seal
	expect_grep "$ERR" "'取引先' is required for class jp-tax-books"
	[ "$(seg_digest "$s")" = "$before" ] || fail "a refused meta set changed the segments"
	put "$s" "$(doc other)"   # no class: not required
	# another class added to the field: the first is kept
	expect_status 0 kura field add "$s" 取引先 text --required-for jp-construction-books
	expect_status 0 kura field ls "$s"
	expect_grep "$OUT" "required for jp-tax-books,jp-construction-books"
}

case_field_add_refused()
{
	local s=$T/add
	kura init "$s" >/dev/null 2>&1 || fail "init"
	put "$s" "$(doc n1)" --meta 件数=12x
	local bad=$ID
	put "$s" "$(doc n2)" --meta 件数=7
	local good=$ID
	put "$s" "$(doc n3)"
	local none=$ID
	local before
	before=$(seg_digest "$s")
	expect_error 2 kura field add "$s" 件数 integer
	expect_grep "$ERR" "$bad"
	expect_grep "$ERR" "not integer"
	expect_grep "$ERR" "kura meta set"
	[ "$(seg_digest "$s")" = "$before" ] || fail "a refused field add changed the segments"
	expect_status 0 kura field ls "$s"
	[ ! -s "$OUT" ] || fail "a refused field add left a field: $(cat "$OUT")"
	expect_error 2 kura ls "$s" --where '件数=7'
	expect_grep "$ERR" "no field '件数'"
	# corrected by a new version: the old one (12x) no longer stands in the way
	expect_status 0 kura meta set "$s" "$bad" 件数=12 --reason "typo" --no-seal
	local fixed
	fixed=$(cat "$OUT")
	expect_status 0 kura field add "$s" 件数 integer
	S=$s expect_hits "$good $fixed " --where '件数>=7'
	S=$s expect_hits "$none " --where '件数 is empty'
	# every version: the old value is not an integer, so neither empty nor any comparison holds
	S=$s expect_hits "$none " --where '件数 is empty' --all-versions
	S=$s expect_hits "$good $fixed " --all-versions --where '件数!=-1' --sort 件数
	# sorted: values in order, then the empty and the invalid ones by ID
	local rest
	rest=$(printf '%s\n' "$bad" "$none" | sort | tr '\n' ' ')
	S=$s expect_hits "$good $fixed $rest" --all-versions --sort 件数
	# another type for it; an unknown type; a name that is not a metadata key
	before=$(seg_digest "$s")
	expect_error 2 kura field add "$s" 件数 text
	expect_grep "$ERR" "is integer already"
	expect_error 2 kura field add "$s" 金額 money
	expect_grep "$ERR" "unknown field type 'money'"
	expect_error 2 kura field add "$s" 'a=b' text
	[ "$(seg_digest "$s")" = "$before" ] || fail "a refused field add changed the segments"
	# the same again: nothing wrong (it finishes an interrupted add)
	expect_status 0 kura field add "$s" 件数 integer
}

case_where_refused()
{
	put "$S" "$(doc w)" --meta 取引年月日=2026-04-01
	local q
	for q in 'nosuch=1' '取引年月日^=2026' '取引金額 ~ 5' '数量' '取引年月日>=2026-13-01' '取引金額>=12.3.4' \
		'数量=' '受領日時<2026-04-01' '=5'; do
		expect_error 2 kura ls "$S" --where "$q"
	done
	expect_error 2 kura ls "$S" --where 'nosuch=1'
	expect_grep "$ERR" "no field 'nosuch'"
	expect_error 2 kura ls "$S" --where '取引年月日^=2026'
	expect_grep "$ERR" "^="
	expect_grep "$ERR" "'取引年月日' is date"
	expect_error 2 kura ls "$S" --where '取引金額 ~ 5'
	expect_grep "$ERR" "has no operator"
	expect_error 2 kura ls "$S" --where '取引年月日>=2026-13-01'
	expect_grep "$ERR" "'2026-13-01' is not a day"
	expect_error 2 kura ls "$S" --where '数量='
	expect_grep "$ERR" "数量 is empty"
	expect_error 2 kura ls "$S" --sort nosuch
	expect_grep "$ERR" "nosuch"
	expect_error 2 kura ls "$S" --system --where '数量=1'
	expect_error 2 kura ls "$S" --csv --json --where '数量=1'
}

case_kill_during_field_add()
{
	local s=$T/kill n=20000 i
	[ "$KURA_SANITIZED" = 1 ] && n=8000
	kura init "$s" >/dev/null 2>&1 || fail "init"
	mkdir -p "$T/many"
	py 'for i in range(int(sys.argv[2])): open("%s/%05d" % (sys.argv[1], i), "w").write("doc %d\n" % i)' "$T/many" "$n"
	expect_status 0 kura ingest "$s" --no-seal --meta 番号=7 "$T/many"
	put "$s" "$(doc eight)" --meta 番号=8
	local eight=$ID
	# kill -9 while field add fills the index: readers see the field marked incomplete meanwhile
	for i in 1 2 3; do
		"$KURA_BIN" field add "$s" 番号 integer 2>/dev/null & # not the function kura: $! is the process
		local pid=$! seen=0
		while kill -0 "$pid" 2>/dev/null; do
			if grep -q 'index incomplete' <<<"$(kura field ls "$s" 2>/dev/null)"; then
				kill -9 "$pid" 2>/dev/null && seen=1
				break
			fi
		done
		wait "$pid" 2>/dev/null || true
		expect_status 0 kura field ls "$s"
		[ "$seen" = 1 ] && grep -q 'index incomplete' "$OUT" && break
		# it finished first: again (an add of the same field fills its index anew)
		[ "$i" -lt 3 ] || fail "could not kill field add in the middle in 3 tries (the store is too small?)"
	done
	expect_grep "$OUT" "番号	integer	-	index incomplete: run kura field add again"
	expect_error 3 kura ls "$s" --where '番号=8'
	expect_grep "$ERR" "'番号' is not complete"
	expect_grep "$ERR" "kura field add STORE 番号 integer"
	expect_status 0 kura scrub "$s"
	# a copy finished by reindex, the store by field add again: the same answers
	cp -a "$s" "$T/kill2"
	expect_status 0 kura reindex "$T/kill2"
	expect_status 0 kura field add "$s" 番号 integer
	local store
	for store in "$s" "$T/kill2"; do
		expect_status 0 kura field ls "$store"
		! grep -q 'incomplete' "$OUT" || fail "field still incomplete in $store: $(cat "$OUT")"
		S=$store expect_hits "$eight " --where '番号=8'
		S=$store expect_hits "$eight " --where '番号>7'
		[ "$(S=$store hits --where '番号<=7' | wc -l)" -eq "$n" ] || fail "$store: 番号<=7 does not list the $n documents"
	done
}

case_text_and_amounts()
{
	local s=$T/ja ids=()
	kura init "$s" >/dev/null 2>&1 || fail "init"
	expect_status 0 kura field add "$s" 取引先 text
	expect_status 0 kura field add "$s" 取引金額 amount
	expect_status 0 kura field add "$s" 伝票番号 keyword
	expect_status 0 kura field add "$s" 取引年月日 date
	local spec
	while read -r -u 3 spec; do
		local args=() kv
		IFS=';' read -ra kv <<<"$spec"
		for k in "${kv[@]}"; do [ -n "$k" ] && args+=(--meta "$k"); done
		put "$s" "$(doc "i${#ids[@]}" "$spec")" "${args[@]}"
		ids+=("$ID")
	done 3<<'EOF'
取引先=ヤマダ商事;取引金額=¥120,000;伝票番号=INV-1;取引年月日=2026-04-01
取引先=ﾔﾏﾀﾞ商事;取引金額=99999;伝票番号=inv-1;取引年月日=2026-09-30
取引先=ＡＣＭＥ　Ｃｏｒｐ;取引金額=1500 USD;伝票番号=ＩＮＶ-1;取引年月日=2026-10-01
取引先=acme corp;取引金額=１２０，０００円;取引年月日=2026-03-31
取引先=山田商事;取引金額=-5;伝票番号=INV-2
取引先=;取引金額=
EOF
	S=$s expect_hits "${ids[0]} ${ids[1]} " --where '取引先=ヤマダ商事'
	S=$s expect_hits "${ids[0]} ${ids[1]} " --where '取引先^=ﾔﾏ'
	S=$s expect_hits "${ids[2]} ${ids[3]} " --where '取引先=ACME CORP'
	S=$s expect_hits "${ids[0]} " --where '伝票番号=INV-1'
	S=$s expect_hits "${ids[0]} ${ids[4]} " --where '伝票番号^=INV-'
	S=$s expect_hits "${ids[0]} ${ids[3]} " --where '取引金額>=100000'
	S=$s expect_hits "${ids[2]} " --where '取引金額>=100 USD'
	S=$s expect_hits "${ids[1]} ${ids[4]} " --where '取引金額<100000'
	S=$s expect_hits "${ids[0]} ${ids[1]} ${ids[2]} ${ids[3]} " --where '取引金額!=-5'
	S=$s expect_hits "${ids[5]} " --where '取引金額 is empty'
	S=$s expect_hits "${ids[3]} ${ids[5]} " --where '伝票番号 is empty'
	# the issue's example: 山田商事 from April to September over ¥100,000 (two of three keys)
	S=$s expect_hits "${ids[0]} " --where '取引年月日>=2026-04-01' --where '取引年月日<=2026-09-30' \
		--where '取引金額>=100000' --where '取引先^=ﾔﾏﾀﾞ'
	# sorted by amount: JPY values in order, then USD, then the empty one
	S=$s expect_hits "${ids[4]} ${ids[1]} ${ids[0]} ${ids[3]} ${ids[2]} ${ids[5]} " --sort 取引金額
}

case_csv()
{
	local s=$T/csv
	kura init "$s" >/dev/null 2>&1 || fail "init"
	expect_status 0 kura field add "$s" 取引先 text
	expect_status 0 kura field add "$s" 取引金額 amount
	printf 'formula\n' >"$T/docs/=HYPERLINK(\"x\").txt"
	put "$s" "$T/docs/=HYPERLINK(\"x\").txt" --meta '取引先=山田, "本店"' --meta 取引金額=-1,000
	put "$s" "$(doc plain.txt)" --meta 取引先=佐藤 --meta 取引金額=-5
	put "$s" "$(doc none.txt)"
	expect_status 0 kura ls "$s" --where '取引先 is empty' --csv
	py 'import csv
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))
assert rows[0] == ["id", "name", "size", "ingested", "sha256", "取引先", "取引金額"], rows
assert len(rows) == 2 and rows[1][1] == "none.txt" and rows[1][5:] == ["", ""], rows' "$OUT"
	expect_status 0 kura ls "$s" --where '取引先!=x' --csv
	cp "$OUT" "$T/hits.csv"
	expect_status 0 kura ls "$s" --where '取引先!=x' --json
	py 'import csv
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))
objs = json.load(open(sys.argv[2]))
assert rows[0] == ["id", "name", "size", "ingested", "sha256", "取引先", "取引金額"], rows[0]
assert len(rows) == 1 + len(objs) == 3, rows
def text(v):  # as a spreadsheet must show it: = + - @ first and not a number: a leading quote
    num = v.lstrip("+-").replace(".", "", 1)
    return "\x27" + v if v[:1] in ("=", "+", "-", "@") and not (num.isdigit() and num.isascii()) else v
for row, o in zip(rows[1:], objs):
    want = [o["id"], o["name"], str(o["size"]), o["ingested"], o["sha256"], o["meta"]["取引先"], o["meta"]["取引金額"]]
    assert row == [text(v) for v in want], (row, want)
named = [r for r in rows if r[1].startswith("\x27=")]
assert named and named[0][1] == "\x27=HYPERLINK(\"x\").txt" and named[0][5] == "山田, \"本店\"", named
assert named[0][6] == "\x27-1,000" and [r for r in rows if r[1] == "plain.txt"][0][6] == "-5", rows' "$T/hits.csv" "$OUT"
	# no hit: the header alone
	expect_status 0 kura ls "$s" --where '取引先=nobody' --csv
	py 'assert open(sys.argv[1], encoding="utf-8", newline="").read() == "id,name,size,ingested,sha256,取引先,取引金額\r\n"' "$OUT" ||
		fail "csv of no hit: $(cat "$OUT")"
}

case_disposed()
{
	local s=$T/disp
	expect_status 0 at "$NOW" init "$s" --single-approver
	expect_status 0 kura field add "$s" 取引先 text
	put "$s" "$(doc d1)" --class jp-tax-books --event fiscal-year-end=2018-03-31 --meta 取引先=山田商事
	local gone1=$ID
	expect_status 0 at "$NOW" meta set "$s" "$gone1" 取引先=ヤマダ商事 --reason "katakana" --no-seal
	local gone2
	gone2=$(cat "$OUT")
	put "$s" "$(doc d2)" --class jp-tax-books --event fiscal-year-end=2024-03-31 --meta 取引先=山田商事
	local kept=$ID
	put "$s" "$(doc d3)" --class jp-tax-books --event fiscal-year-end=2018-03-31 --meta 取引先=佐藤
	local other=$ID
	expect_status 0 at "$NOW" dispose "$s" --request "$gone1" "$other" --reason "7 years over" --actor alice
	expect_status 0 at "$NOW" dispose "$s" --approve "$(cat "$OUT")" --reason "checked" --actor alice
	S=$s expect_hits "$kept " --where '取引先^=山田'
	S=$s expect_hits "" --where '取引先=ヤマダ商事'
	S=$s expect_hits "$gone2 " --disposed --where '取引先=ヤマダ商事'
	S=$s expect_hits "$gone2 " --disposed --where '取引先^=ﾔﾏ'
	S=$s expect_hits "" --disposed --where '取引先=佐藤商事'
	S=$s expect_hits "" --disposed --where '取引先^=山田'
	S=$s expect_hits "$gone1 " --disposed --all-versions --where '取引先^=山田'
	S=$s expect_hits "$kept " --all-versions --where '取引先^=山田'
	local all
	all=$(printf '%s\n' "$gone1" "$gone2" "$other" | sort | tr '\n' ' ')
	S=$s expect_hits "$all" --disposed --all-versions --where '取引先!=x'
}

run_case "values checked" case_values_checked
run_case "required for a class" case_required_for
run_case "field add refused" case_field_add_refused
run_case "where refused" case_where_refused
run_case "killed field add" case_kill_during_field_add
run_case "text and amounts" case_text_and_amounts
run_case "csv" case_csv
run_case "disposed" case_disposed
finish_cases
