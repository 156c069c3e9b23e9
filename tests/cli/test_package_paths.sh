#!/usr/bin/env bash
# Documents under their original folder paths in an export package (docs/FORMAT.md):
# a store with Japanese folder and file names, nested folders, names Windows refuses, two
# names one on a case-insensitive disk, two versions of one path and a document from
# standard input is exported; the unpacked tree holds each document at data/files/<its
# path> (versions and stdin by the documented rule), INDEX.csv names where; verify-export
# and the package's own verify.sh (no kura on the PATH) pass; an import into a fresh store
# keeps the IDs, the paths ingest was given, verifies, and exported again gives the same
# tree; a hostile "path" in object.json is only recorded and printed escaped. object.json
# whose "file" lies (outside data/files, "..", a link, another object's document, a
# missing file) and a document no object names are refused by verify-export, import and
# verify.sh; a package of the earlier layout still imports.
source "$(dirname "$0")/lib.sh"

export KURA_NOW=2026-06-01T00:00:00Z
HERE=$(cd "$(dirname "$0")" && pwd)
S=$T/s
cd "$T"
mkdir -p docs/工事/2026/見積 docs/請求/2026-04 docs/win
printf '台帳 v1\n' >docs/工事/2026/台帳.csv
printf '見積\n' >docs/工事/2026/見積/見積書.txt
printf '%%PDF-1.4 請求\n' >docs/請求/2026-04/請求書.pdf
printf 'colon\n' >'docs/win/a:b?.txt'
printf 'device\n' >docs/win/CON.txt
printf 'upper\n' >docs/win/Readme.TXT
printf 'lower\n' >docs/win/readme.txt
expect_status 0 kura init "$S"
expect_status 0 kura ingest "$S" docs
v1=$(grep '/台帳.csv' "$OUT" | cut -f1)
printf '台帳 v2\n' >docs/工事/2026/台帳.csv
expect_status 0 kura ingest --versions-by-path "$S" docs/工事/2026/台帳.csv
v2=$(cut -f1 "$OUT")
printf 'from stdin\n' | kura ingest "$S" - --name 標準入力.txt >"$OUT" 2>"$ERR" || fail "ingest -: $(cat "$ERR")"
sid=$(cut -f1 "$OUT")
expect_status 0 kura export "$S" -o "$T/pkg.tar"
mkdir x
tar -xf pkg.tar -C x
P=$T/x/pkg
F=$P/data/files

# every object's bytes, from the store, at data/<"file" of its object.json>; nothing else there
same_as_store() { # BAG STORE
	expect_status 0 kura ls "$2" --all-versions --json
	py 'import json, subprocess, sys
bag, store, kura = sys.argv[1], sys.argv[2], sys.argv[3]
objs = json.load(open(sys.argv[4]))
named = set()
for o in objs:
    d = json.load(open(os.path.join(bag, "data", o["id"], "object.json")))
    f = os.path.join(bag, "data", d["file"])
    assert d["file"].startswith("files/") and os.path.isfile(f) and not os.path.islink(f), d["file"]
    tmp = sys.argv[4] + ".get"
    subprocess.run([kura, "get", store, o["id"], "-o", tmp], capture_output=True, check=True)
    got = open(tmp, "rb").read()
    os.remove(tmp)
    assert open(f, "rb").read() == got, (o["id"], d["file"])
    named.add(d["file"])
files = {os.path.relpath(os.path.join(r, n), os.path.join(bag, "data")) for r, _, ns in os.walk(os.path.join(bag, "data", "files")) for n in ns}
assert files == named and len(named) == len(objs), (sorted(files), sorted(named))' "$1" "$2" "$KURA_BIN" "$OUT"
}

case_layout() {
	# the tree an auditor finds, by the paths ingest was given
	[ "$(cat "$F/docs/工事/2026/台帳.csv")" = '台帳 v1' ] || fail "the first version is not at its path"
	[ "$(cat "$F/docs/工事/2026/台帳~$v2.csv")" = '台帳 v2' ] ||
		fail "the second version is not beside it with its ID: $(ls "$F/docs/工事/2026")"
	cmp "$F/docs/工事/2026/見積/見積書.txt" docs/工事/2026/見積/見積書.txt || fail "nested document"
	cmp "$F/docs/請求/2026-04/請求書.pdf" docs/請求/2026-04/請求書.pdf || fail "nested document"
	[ "$(cat "$F/$sid/標準入力.txt")" = 'from stdin' ] || fail "stdin's document is not at files/<ID>/<name>"
	cmp "$F/docs/win/a_b_.txt" 'docs/win/a:b?.txt' || fail "characters Windows refuses are not replaced"
	cmp "$F/docs/win/_CON.txt" docs/win/CON.txt || fail "a Windows device name is not prefixed"
	[ "$(ls "$F/docs/win" | grep -ci '^readme')" -eq 2 ] && [ "$(ls "$F/docs/win" | grep -c '^[Rr]eadme~')" -eq 1 ] ||
		fail "two names one on a case-insensitive disk: $(ls "$F/docs/win")"
	# the object folder keeps object.json and the record; the document is not there twice
	[ -f "$P/data/$v1/object.json" ] && [ -f "$P/data/$v1/台帳.csv.erp" ] && [ ! -e "$P/data/$v1/台帳.csv" ] ||
		fail "object folder: $(ls "$P/data/$v1")"
	[ "$(grep -c '/台帳' "$P/manifest-sha256.txt")" -eq 4 ] || fail "manifest: each document and record once"
	same_as_store "$P" "$S"
	# INDEX.csv says where each document is
	py 'import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
assert rows[0][-1] == "file", rows[0]
for r in rows[1:]:
    d = json.load(open(os.path.join(sys.argv[2], "data", r[0], "object.json")))
    assert r[-1] == "data/" + d["file"], (r, d["file"])
assert len(rows) == 10, len(rows)' "$P/data/INDEX.csv" "$P"
	expect_status 0 kura verify-export "$T/pkg.tar"
	expect_grep "$OUT" "data/files/docs/工事/2026/台帳.csv	valid"
	[ "$(grep -c '	valid$' "$OUT")" -eq 9 ] || fail "verify-export: $(cat "$OUT")"
	# the package's own script, with no kura anywhere on the PATH
	(cd "$P" && env PATH=/usr/bin:/bin sh verify.sh --rebuild "$T/rebuilt") >"$OUT" 2>&1 || fail "verify.sh: $(cat "$OUT")"
	expect_grep "$OUT" "OK	data/files/docs/工事/2026/台帳~$v2.csv"
	expect_grep "$OUT" "OK	data/files/$sid/標準入力.txt"
	kura evidence "$S" "$v1" -o "$T/v1.ers"
	cmp "$T/rebuilt/$v1/台帳.csv.ers" "$T/v1.ers" || fail "the rebuilt record is not kura evidence's"
	# the first time-stamp covers the document at its path, as VERIFY.md's steps do it by hand
	root=$("$PYTHON" "$HERE/../../demo/ers_extract.py" "$T/v1.ers" "$F/docs/工事/2026/台帳.csv" "$T/tok" 2>/dev/null)
	first=$(head -n1 "$P/data/$v1/台帳.csv.erp" | cut -d' ' -f6)
	openssl ts -verify -token_in -in "$P/data/tokens/$first.tsr" -digest "$root" -CAfile "$P/data/tsa-anchors.pem" \
		>/dev/null 2>&1 || fail "openssl ts -verify over the document at its path"
}

case_import() {
	expect_status 0 kura init "$T/b"
	expect_status 0 kura trust add "$T/b" --tsa "$P/data/tsa-anchors.pem"
	expect_status 0 kura import "$T/b" "$T/pkg.tar"
	expect_grep "$ERR" "imported 9 object(s), refused 0"
	kura ls "$S" --all-versions --json | py 'print("\n".join(sorted(o["id"] for o in json.load(sys.stdin))))' >"$T/ids.a"
	kura ls "$T/b" --all-versions --json | py 'print("\n".join(sorted(o["id"] for o in json.load(sys.stdin))))' >"$T/ids.b"
	diff "$T/ids.a" "$T/ids.b" >/dev/null || fail "import changed IDs: $(diff "$T/ids.a" "$T/ids.b")"
	expect_status 0 kura verify "$T/b"
	expect_status 0 kura show "$T/b" "$v2" --json
	py 'o = json.load(open(sys.argv[1])); assert o["supersedes"] == sys.argv[2], o' "$OUT" "$v1"
	# each object keeps the path it was ingested from, not its place in the package
	expect_status 0 kura show "$T/b" "$v1" --json
	py 'o = json.load(open(sys.argv[1])); assert o["path"] == "docs/工事/2026/台帳.csv", o["path"]' "$OUT"
	expect_status 0 kura show "$T/b" "$v1"
	expect_grep "$OUT" "docs/工事/2026/台帳.csv"
	! grep -q 'data/files' "$OUT" || fail "show names the package's place: $(cat "$OUT")"
	# and exported again from there, each document lands where it was
	expect_status 0 kura export "$T/b" -o "$T/again.tar"
	mkdir "$T/again"
	tar -xf "$T/again.tar" -C "$T/again"
	same_as_store "$T/again/again" "$T/b"
	# the same tree, byte for byte, and the same places and paths in INDEX.csv
	diff -r "$F" "$T/again/again/data/files" >"$OUT" 2>&1 || fail "export, import, export moved documents: $(head -c 600 "$OUT")"
	py 'import csv, sys
rows = [list(csv.reader(open(p, newline="", encoding="utf-8"))) for p in sys.argv[1:3]]
key = lambda r: (r[0], r[1], r[-1])
assert sorted(map(key, rows[0])) == sorted(map(key, rows[1])), (rows[0], rows[1])' "$P/data/INDEX.csv" "$T/again/again/data/INDEX.csv"
}

case_hostile_path() {
	# a package's claim of where a document came from is recorded, never opened, and
	# printed escaped: control characters, "..", an absolute path
	lie hostile 'o["path"] = "/../../etc/\u001b[31mevil\nname.csv"'
	expect_status 0 kura init "$T/h"
	expect_status 0 kura trust add "$T/h" --tsa "$P/data/tsa-anchors.pem"
	expect_status 0 kura import "$T/h" "$T/hostile"
	expect_grep "$OUT" "OK	$v1	data/files/docs/工事/2026/台帳.csv"
	[ ! -e /etc/$'\e[31mevil\nname.csv' ] || fail "the claimed path was written"
	expect_status 0 kura show "$T/h" "$v1" --json
	py 'o = json.load(open(sys.argv[1])); assert o["path"] == "/../../etc/\x1b[31mevil\nname.csv", o["path"]' "$OUT"
	expect_status 0 kura show "$T/h" "$v1"
	grep -qF '/../../etc/\x1B[31mevil\nname.csv' "$OUT" || fail "show: the path is not escaped: $(cat "$OUT")"
	! grep -q $'\e' "$OUT" || fail "show printed a control character"
	# exported again, it is placed by the documented rule, under files/
	expect_status 0 kura export "$T/h" -o "$T/h.tar"
	expect_status 0 kura verify-export "$T/h.tar"
	tar -tf "$T/h.tar" >"$OUT"
	expect_grep "$OUT" "h/data/files/etc/_[31mevil_name.csv"
}

# lie NAME PYTHON: a copy of the package whose object.json of v1 is changed by PYTHON
# (on o), the manifests made again (only the lie is left to find)
lie() {
	rm -rf "${T:?}/$1"
	cp -r "$P" "$T/$1"
	py 'p = sys.argv[1]
o = json.load(open(p))
'"$2"'
open(p, "w").write(json.dumps(o, indent=2, sort_keys=True, ensure_ascii=False))' "$T/$1/data/$v1/object.json" "$v2" "$sid"
	remanifest "$T/$1"
}

# refused NAME SAYS: verify-export (1, saying SAYS), import (1, nothing imported: the
# document left behind is no object's) and verify.sh (FAILED) refuse it
refused() {
	expect_status 1 kura verify-export "$T/$1"
	expect_grep "$OUT" "$2"
	expect_status 0 kura init "$T/i-$1"
	expect_status 0 kura trust add "$T/i-$1" --tsa "$P/data/tsa-anchors.pem"
	expect_error 1 kura import "$T/i-$1" "$T/$1"
	expect_grep "$ERR" "nothing was imported"
	! (cd "$T/$1" && env PATH=/usr/bin:/bin sh verify.sh) >"$OUT" 2>&1 || fail "verify.sh passes $1: $(cat "$OUT")"
	expect_grep "$OUT" "FAILED	"
}

case_lies() {
	lie dotdot 'o["file"] = "files/../../../../etc/passwd"'
	refused dotdot "data/$v1/object.json	\"file\" has an empty, '.' or '..' component"
	lie outside 'o["file"] = "tokens/INDEX.tsv"'
	refused outside "data/$v1/object.json	\"file\" does not name a file under data/files/"
	lie missing 'o["file"] = "files/docs/工事/2026/消えた.csv"'
	refused missing "data/$v1	holds no document with its evidence record: data/$v1/object.json names as its document data/files/docs/工事/2026/消えた.csv, which is missing"
	lie other 'o["file"] = json.load(open(os.path.join(os.path.dirname(p), "..", sys.argv[2], "object.json")))["file"]'
	refused other "data/$v1/object.json	names as its document data/files/docs/工事/2026/台帳~$v2.csv, which data/$v2/object.json names too"
	expect_grep "$OUT" "is named by more than one object.json"
	# a link where the document was: the package is refused as a whole, before anything is read
	lie link 'pass'
	rm "$T/link/data/files/docs/工事/2026/台帳.csv"
	ln -s /etc/passwd "$T/link/data/files/docs/工事/2026/台帳.csv"
	expect_error 2 kura verify-export "$T/link"
	expect_grep "$ERR" "refused"
	expect_error 2 kura import "$T/i-dotdot" "$T/link"
	expect_grep "$ERR" "refused"
	! (cd "$T/link" && env PATH=/usr/bin:/bin sh verify.sh) >"$OUT" 2>&1 || fail "verify.sh passes a link"
	expect_grep "$OUT" "holds links"
	# a document no object names, listed in the manifest all the same
	lie planted 'pass'
	printf 'planted\n' >"$T/planted/data/files/docs/工事/2026/追加.csv"
	remanifest "$T/planted"
	expect_status 1 kura verify-export "$T/planted"
	expect_grep "$OUT" "data/files/docs/工事/2026/追加.csv	is no object's document"
	expect_error 1 kura import "$T/i-dotdot" "$T/planted"
	expect_grep "$ERR" "追加.csv is no object's document"
	! (cd "$T/planted" && env PATH=/usr/bin:/bin sh verify.sh) >"$OUT" 2>&1 || fail "verify.sh passes a planted file"
	expect_grep "$OUT" "FAILED	data/files/docs/工事/2026/追加.csv	is no object's document"
	# a document beside its record as well as under data/files/: refused, not read twice
	lie beside 'pass'
	cp "$F/docs/工事/2026/台帳.csv" "$T/beside/data/$v1/台帳.csv"
	remanifest "$T/beside"
	expect_status 1 kura verify-export "$T/beside"
	expect_grep "$OUT" "lies beside its record, but object.json names its document under data/files/"
	expect_status 1 kura import "$T/i-dotdot" "$T/beside"
	expect_grep "$OUT" "REFUSED	data/$v1/台帳.csv	"
}

case_old_layout() {
	# made by kura before documents kept their paths (tests/cli/packages/README.md)
	local old=$HERE/packages/old-layout.tar.zst
	at 2026-06-02T00:00:00Z verify-export "$old" >"$OUT" 2>"$ERR" || fail "old layout: $(cat "$OUT" "$ERR")"
	expect_grep "$OUT" "/one.txt	valid"
	mkdir "$T/old"
	tar -xf "$old" -C "$T/old"
	expect_status 0 kura init "$T/o"
	expect_status 0 kura trust add "$T/o" --tsa "$T/old/old-layout/data/tsa-anchors.pem"
	expect_status 0 at 2026-06-02T00:00:00Z import "$T/o" "$old"
	expect_grep "$ERR" "imported 2 object(s)"
	expect_status 0 kura verify "$T/o"
}

run_case layout case_layout
run_case import case_import
run_case hostile_path case_hostile_path
run_case lies case_lies
run_case old_layout case_old_layout
finish_cases
