#!/usr/bin/env bash
# kura ingest --manifest FILES.csv (issue 15): 40 invoices, each with its own counterparty,
# amount and date from one CSV as Excel writes it (UTF-8 with a BOM, CRLF, quoted cells with
# commas, quotes and line breaks, Japanese keys), paths relative to the manifest's folder, in
# one commit; every bad manifest refused with exit 2 naming its line, the store unchanged; and
# a document refused in row 37 leaves nothing of rows 1-36.
source "$(dirname "$0")/lib.sh"

S=$T/s
kura init "$S" >/dev/null 2>&1 || fail "init"
mkdir -p "$T/inv/2026-04" "$T/elsewhere"

# the invoices and their manifest; the expected metadata of each path as JSON
py '
import json, os, sys
root = sys.argv[1]
names = ["山田商事", "ｶﾌﾞｼｷｶﾞｲｼｬ 田中", "佐藤建設, 本社", "\"鈴木\" 工務店", "Müller GmbH"]
rows, want = [], {}
for i in range(1, 41):
    rel = ("2026-04/" if i % 2 else "") + "請求書-%02d.pdf" % i
    open(os.path.join(root, rel), "w").write("invoice %d\n" % i)
    amount = "" if i % 10 == 0 else "¥%s" % format(1000 * i * i, ",")
    note = "二行の\r\n備考 %d" % i if i % 7 == 0 else ""
    row = [rel, names[i % 5], amount, "2026-04-%02d" % (i % 28 + 1), "K-%04d" % i if i % 3 else "", note]
    rows.append(row)
    meta = dict(zip(["取引先", "取引金額", "取引年月日", "工事番号", "備考"], row[1:]))
    meta = {k: v for k, v in meta.items() if v}
    meta["kind"] = "invoice"
    want["inv/" + rel] = meta
def cell(c):
    return "\"" + c.replace("\"", "\"\"") + "\"" if any(x in c for x in ",\"\r\n") else c
text = "path,取引先,取引金額,取引年月日,工事番号,備考\r\n"
text += "".join(",".join(cell(c) for c in r) + "\r\n" for r in rows[:-1])
text += ",".join(cell(c) for c in rows[-1])  # the last line without its line break
open(os.path.join(root, "invoices.csv"), "wb").write(b"\xef\xbb\xbf" + text.encode())
json.dump(want, open(sys.argv[2], "w"), ensure_ascii=False)
' "$T/inv" "$T/want.json"

# store_state: what must not change when an ingest is refused
store_state()
{
	echo "$(seg_digest "$S") $(kura ls "$S" --json --all-versions | sha256sum | cut -d' ' -f1)"
}

case_forty_invoices()
{
	# from another folder: the paths are relative to the manifest's folder
	expect_status 0 bash -c 'cd "$1" && "$2" ingest ../s --manifest ../inv/invoices.csv --meta kind=invoice \
		--class jp-construction-books --event handover=2026-03-31' _ "$T/elsewhere" "$KURA_BIN"
	[ "$(wc -l <"$OUT")" -eq 40 ] || fail "ingest printed $(wc -l <"$OUT") lines, expected 40"
	local line
	while IFS= read -r line; do
		check_ingest_line "$line"
	done <"$OUT"
	expect_grep "$OUT" "../inv/2026-04/請求書-01.pdf"
	kura ls "$S" --json >"$T/ls.json"
	py '
want = json.load(open(sys.argv[2]))
got = {o["path"].replace("../", "", 1): o for o in json.load(open(sys.argv[1]))}
if set(got) != set(want):
    sys.exit("paths differ: %s" % sorted(set(got) ^ set(want)))
for p, o in got.items():
    if o["meta"] != want[p]:
        sys.exit("%s: meta %r, expected %r" % (p, o["meta"], want[p]))
' "$T/ls.json" "$T/want.json" || fail "the objects do not have the manifest's metadata"
	# show --json of one with a quoted cell (comma, quotes) and a line break in a cell
	local id
	id=$(grep '請求書-28.pdf' "$OUT" | cut -f1)
	kura show "$S" "$id" --json >"$T/show.json"
	py '
o = json.load(open(sys.argv[1]))
m = o["meta"]
assert m["取引先"] == "\"鈴木\" 工務店", m
assert m["取引金額"] == "¥784,000", m
assert m["備考"] == "二行の\r\n備考 28", m
assert "工事番号" in m and m["工事番号"] == "K-0028", m
assert o["class"] == "jp-construction-books" and o["events"] == {"handover": "2026-03-31"}, o
' "$T/show.json" || fail "show --json of 請求書-28.pdf: $(cat "$T/show.json")"
	# one commit: one ingest record in the audit trail names all 40
	kura log "$S" --json >"$T/log.json"
	py '
ingests = [r for r in json.load(open(sys.argv[1])) if r["action"] == "ingest"]
assert len(ingests) == 1 and len(ingests[0]["objects"]) == 40, ingests
' "$T/log.json" || fail "the manifest was not one commit: $(cat "$T/log.json")"
	expect_status 0 kura verify "$S" "$id"
}

# bad NAME LINE-TEXT [--meta ...]: a manifest with text $2 (printf format) refused with exit 2,
# its message naming $3, and the store unchanged
bad()
{
	local name=$1 text=$2 where=$3
	shift 3
	printf "$text" >"$T/inv/$name.csv"
	local before
	before=$(store_state)
	expect_error 2 kura ingest "$S" --manifest "$T/inv/$name.csv" "$@"
	expect_grep "$ERR" "$name.csv $where"
	[ "$(store_state)" = "$before" ] || fail "$name: a refused manifest changed the store"
}

case_bad_manifests()
{
	printf 'x\n' >"$T/inv/a.txt"
	printf 'y\n' >"$T/inv/b.txt"
	ln -s a.txt "$T/inv/link.txt"
	py 'open(sys.argv[1], "wb").write("path,取引先\r\na.txt,山田商事\r\n".encode("cp932"))' "$T/inv/sjis.csv"
	local before
	before=$(store_state)
	expect_error 2 kura ingest "$S" --manifest "$T/inv/sjis.csv"
	expect_grep "$ERR" "sjis.csv line 1, column 2"
	expect_grep "$ERR" "CSV UTF-8"
	[ "$(store_state)" = "$before" ] || fail "a Shift_JIS manifest changed the store"

	bad unclosed 'path,k\na.txt,1\nb.txt,"2\n' "line 3, column 2" # names where the quote opened
	bad stray-quote 'path,k\na.txt,1"2\n' "line 2, column 2"
	bad after-quote 'path,k\na.txt,"1"2\n' "line 2, column 2"
	bad cells 'path,k,l\na.txt,1,2\r\nb.txt,1\r\n' "line 3: 2 cells"
	bad twice 'path,k,k\na.txt,1,2\n' "line 1, column 3"
	bad twice-nfc 'path,caf\xc3\xa9,cafe\xcc\x81\na.txt,1,2\n' "line 1, column 3"
	bad bad-key 'path,a key\na.txt,1\n' "line 1, column 2"
	bad no-path-column 'file,k\na.txt,1\n' "line 1, column 1"
	bad empty-path 'path,k\na.txt,1\n,2\n' "line 3, column 1"
	bad missing 'path,k\na.txt,1\nnope.txt,2\n' "line 3: cannot ingest"
	bad link 'path\na.txt\nlink.txt\n' "line 3: "
	bad folder 'path\n2026-04\n' "line 2: "
	bad same-file 'path\na.txt\n./a.txt\n' "line 3: "
	bad nul 'path,k\na.txt,1\0\n' "line 2, column 2"
	bad clash 'path,kind\na.txt,1\n' "line 1, column 2" --meta kind=invoice
	bad empty '' "is empty"
	bad header-only 'path,k\r\n' "names no files"
	py 'open(sys.argv[1], "w").write("path,k\na.txt," + "x" * 70000 + "\n")' "$T/inv/long.csv"
	expect_error 2 kura ingest "$S" --manifest "$T/inv/long.csv"
	expect_grep "$ERR" "long.csv line 2, column 2"
	[ "$(store_state)" = "$before" ] || fail "a too long value changed the store"
	# --manifest names the files: no PATH besides, no --signature
	expect_error 2 kura ingest "$S" --manifest "$T/inv/invoices.csv" "$T/inv/a.txt"
	expect_error 2 kura ingest "$S" --manifest "$T/inv/nonexistent.csv"
	[ "$(store_state)" = "$before" ] || fail "a refused ingest changed the store"
}

# row 37 of 40 is refused while it is ingested (an attached signature that is not one): none is stored
case_row_37_refused()
{
	mkdir -p "$T/r37"
	py '
import os, sys
rows = ["path,取引先"]
for i in range(1, 41):
    name = "doc-%02d.%s" % (i, "p7m" if i == 37 else "txt")
    open(os.path.join(sys.argv[1], name), "w").write("document %d of the refused manifest\n" % i)
    rows.append("%s,取引先-%d" % (name, i))
open(os.path.join(sys.argv[1], "m.csv"), "w").write("\n".join(rows) + "\n")
' "$T/r37"
	local before
	before=$(store_state)
	expect_error 2 kura ingest "$S" --manifest "$T/r37/m.csv"
	expect_grep "$ERR" "doc-37.p7m"
	expect_grep "$ERR" "nothing of the manifest was stored"
	[ "$(store_state)" = "$before" ] || fail "rows 1-36 of a refused manifest were stored"
	# the same files as a folder: what came before the refused one is stored (unchanged behaviour)
	expect_status 2 kura ingest "$S" "$T/r37"
	[ "$(grep -c 'doc-' "$OUT")" -eq 36 ] || fail "a folder ingest stored $(grep -c 'doc-' "$OUT") of 36"
}

run_case forty_invoices case_forty_invoices
run_case bad_manifests case_bad_manifests
run_case row_37_refused case_row_37_refused
finish_cases
