#!/usr/bin/env bash
# Packages that scale (docs/FORMAT.md "Export packages"): each time-stamp token once per
# package (data/tokens/<SHA-256>.tsr), each record in parts (NAME.erp) rebuilt byte for
# byte; a 4,000-object package of tiny documents is at most 2 MiB plus the documents as
# .tar.zst; the package's own verify.sh (POSIX sh + openssl) passes on a real export and
# fails on a flipped byte in a token, a document and a record part; INDEX.csv; hostile
# references (offsets, missing or repeated tokens, a wrong hash, "..") are refused by
# verify-export, import and verify.sh; a package of the old layout still verifies and imports.
source "$(dirname "$0")/lib.sh"

export KURA_NOW=2026-06-01T00:00:00Z
HERE=$(cd "$(dirname "$0")" && pwd)
S=$T/s
mkdir -p "$T/docs/sub"
printf 'one\n' >"$T/docs/one.txt"
printf 'two\n' >"$T/docs/sub/=HYPERLINK(x).txt"
printf 'three\n' >"$T/docs/sub/a,b.txt"
expect_status 0 kura init "$S"
expect_status 0 kura field add "$S" amount integer
expect_status 0 kura ingest "$S" --meta amount=1200 "$T/docs"
one=$(grep '/one.txt' "$OUT" | cut -f1)
expect_status 0 kura export "$S" -o "$T/pkg.tar"
mkdir "$T/x"
tar -xf "$T/pkg.tar" -C "$T/x"
P=$T/x/pkg
PD=data/files/${T#/}/docs # the documents in the package, under the path ingest was given

# expect_re FILE REGEX: a line of FILE matches REGEX (basic regular expression)
expect_re() {
	grep -q -- "$2" "$1" || fail "expected /$2/ in $(basename "$1"): $(head -c 600 "$1")"
}

# copy NAME: a fresh unpacked copy of the package at $T/NAME
copy() {
	rm -rf "${T:?}/$1"
	cp -r "$P" "$T/$1"
}

# verify_sh DIR: the package's own script, run by a POSIX shell in DIR (output in $OUT)
verify_sh() {
	local rc=0
	(cd "$1" && sh verify.sh) >"$OUT" 2>&1 || rc=$?
	return $rc
}

case_verify_script() {
	verify_sh "$P" || fail "verify.sh fails on a fresh export: $(cat "$OUT")"
	[ "$(grep -c '^OK	data/[^a]' "$OUT")" -eq 3 ] || fail "verify.sh did not check 3 documents: $(cat "$OUT")"
	grep -q "^OK	data/audit/.*/audit-trail-1-.*\.jsonl$" "$OUT" || fail "verify.sh did not check the checkpoint"
	expect_grep "$OUT" "4 object(s): everything holds"
	grep -q VERIFY.md "$P/tagmanifest-sha256.txt" && grep -q ' verify.sh$' "$P/tagmanifest-sha256.txt" ||
		fail "verify.sh is not in the tag manifest"
	expect_grep "$P/VERIFY.md" "sh verify.sh"
	# a flipped byte in the token, in a document, in a record's part: each fails
	copy tok
	flip_byte "$(echo "$T"/tok/data/tokens/*.tsr)" 200
	! verify_sh "$T/tok" || fail "verify.sh passes with a flipped token"
	expect_grep "$OUT" "FAILED	data/tokens/"
	expect_re "$OUT" "FAILED	$PD/one.txt	.*token"
	copy doc
	flip_byte "$T/doc/$PD/one.txt" 1
	! verify_sh "$T/doc" || fail "verify.sh passes with a flipped document"
	expect_grep "$OUT" "FAILED	$PD/one.txt	the document's sha256 hash is not in the first hash tree list"
	copy part
	flip_byte "$T/part/data/$one/one.txt.erp" "$(($(stat -c %s "$T/part/data/$one/one.txt.erp") - 40))"
	! verify_sh "$T/part" || fail "verify.sh passes with a flipped record part"
	expect_re "$OUT" "FAILED	$PD/one.txt	.*does not have the SHA-256 its first line gives"
	expect_status 1 kura verify-export "$T/part"
	expect_re "$OUT" "$PD/one.txt	invalid	.*does not have the SHA-256 its first line gives"
}

case_index_csv() {
	py 'import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
assert rows[0] == ["id", "path", "name", "amount", "sha256", "first_timestamp", "verdict", "file"], rows[0]
by = {r[2]: r for r in rows[1:]}
assert len(rows) == 4 and set(by) == {"one.txt", "'"'"'=HYPERLINK(x).txt", "a,b.txt"}, rows
r = by["one.txt"]
assert r[0] == sys.argv[2] and r[1].endswith("docs/one.txt") and r[3] == "1200", r
assert r[4] == "2c8b08da5ce60398e1f19af0e5dccc744df274b826abe585eaba68c525434806", r
assert r[5] == "2026-06-01T00:00:00Z" and r[6] == "valid", r' "$P/data/INDEX.csv" "$one"
	grep -q $'\r$' "$P/data/INDEX.csv" || fail "INDEX.csv lines must end in CRLF (RFC 4180)"
	# report.html: the report kura report makes, for a person, listed in the manifest
	expect_grep "$P/data/report.html" "<!DOCTYPE html>"
	expect_grep "$P/data/report.html" "one.txt"
	expect_grep "$P/data/report.html" "$one"
	expect_grep "$P/data/report.html" "the 3 objects of this package"
	grep -q "  data/report.html$" "$P/manifest-sha256.txt" || fail "report.html is not in the manifest"
	if grep -qi "<script" "$P/data/report.html"; then fail "the package's report runs a script"; fi
}

# erp_edit NAME PYTHON: a copy whose one.txt.erp first line (words in w) is changed by PYTHON, remanifested
erp_edit() {
	copy "$1"
	py 'import sys
p = sys.argv[1]; b = open(p, "rb").read(); nl = b.index(b"\n")
w = b[:nl].decode().split(" ")
tok_len = os.path.getsize(os.path.join(sys.argv[3], w[5] + ".tsr"))
exec(sys.argv[2])
open(p, "wb").write(" ".join(w).encode() + b[nl:])' "$T/$1/data/$one/one.txt.erp" "$2" "$T/$1/data/tokens"
	remanifest "$T/$1"
}

case_hostile_references() {
	expect_status 0 kura init "$T/m"
	expect_status 0 kura trust add "$T/m" --tsa <(kura tsa ca "$S")
	local edits=(
		'w[4] = "99999999"'
		'w[5] = "0" * 64'
		'w += [str(int(w[4]) + tok_len), w[5]]'
		'w[3] = "f" * 64'
		'w[5] = "../../../../etc/passwd"'
		'w[0] = "kura-ers-pieces"'
		'w[4] = "-5"'
		'w[2] = "18446744073709551617"'
	)
	local whats=(
		"token offset out of range"
		"names a token file that is missing"
		"names the same token twice"
		"does not have the SHA-256 its first line gives"
		"malformed token reference"
		"is not an evidence record in parts"
		"malformed token reference"
		"does not give the record's size"
	)
	local i
	for i in "${!edits[@]}"; do
		erp_edit "h$i" "${edits[$i]}"
		expect_status 1 kura verify-export "$T/h$i"
		grep -q "^$PD/one.txt	invalid	.*${whats[$i]}" "$OUT" || fail "edit $i: verify-export: $(cat "$OUT")"
		expect_status 1 kura import "$T/m" "$T/h$i"
		grep -q "^REFUSED	$PD/one.txt	.*${whats[$i]}" "$OUT" || fail "edit $i: import: $(cat "$OUT")"
		[ "$(grep -c '^OK	' "$OUT")" -eq 2 ] || fail "edit $i: the untouched objects must be imported: $(cat "$OUT")"
		! verify_sh "$T/h$i" || fail "edit $i: verify.sh passes"
		expect_grep "$OUT" "FAILED	$PD/one.txt	"
		rm -rf "${T:?}/m" && kura init "$T/m" >/dev/null 2>&1 && kura trust add "$T/m" --tsa <(kura tsa ca "$S") 2>/dev/null
	done
	[ ! -e "$T/etc" ] && [ ! -e "$T/h4/etc" ] || fail "a reference reached outside the package"
	# the tokens' INDEX.tsv naming a token twice: verify.sh says so
	copy twice
	head -n 1 "$T/twice/data/tokens/INDEX.tsv" >>"$T/twice/data/tokens/INDEX.tsv"
	remanifest "$T/twice"
	! verify_sh "$T/twice" || fail "verify.sh passes with a token listed twice"
	expect_grep "$OUT" "lists a token twice"
	# a token file changed and remanifested: every record naming it is refused, none rebuilt
	copy badtok
	flip_byte "$(echo "$T"/badtok/data/tokens/*.tsr)" 300
	remanifest "$T/badtok"
	expect_status 1 kura verify-export "$T/badtok"
	expect_re "$OUT" "$PD/one.txt	invalid	.*does not have the SHA-256 its name says"
}

case_old_layout() {
	# made by kura before this layout (tests/cli/packages/README.md): still valid, still imported
	local old=$HERE/packages/old-layout.tar.zst
	at 2026-06-02T00:00:00Z verify-export "$old" >"$OUT" 2>"$ERR" || fail "old layout: $(cat "$OUT" "$ERR")"
	[ "$(grep -c '	valid$' "$OUT")" -eq 2 ] || fail "old layout: $(cat "$OUT")"
	mkdir "$T/old"
	tar -xf "$old" -C "$T/old"
	expect_status 0 kura init "$T/o"
	expect_status 0 kura trust add "$T/o" --tsa "$T/old/old-layout/data/tsa-anchors.pem"
	expect_status 0 kura import "$T/o" "$old"
	expect_grep "$ERR" "imported 2 object(s)"
	expect_status 0 kura verify "$T/o"
}

case_size() {
	# lean: tiny documents from one folder, one seal; under ASan fewer, the same per-object bound
	local n=4000
	[ "$KURA_SANITIZED" = 1 ] && n=300
	mkdir -p "$T/many"
	py 'import sys
for i in range(int(sys.argv[2])): open("%s/d%05d.txt" % (sys.argv[1], i), "w").write("doc %d\n" % i)' "$T/many" "$n"
	expect_status 0 kura init "$T/big"
	expect_status 0 kura ingest "$T/big" "$T/many"
	expect_status 0 kura export "$T/big" -o "$T/big.tar.zst"
	expect_status 0 kura export "$T/big" -o "$T/big.tar"
	local docs zst tar
	docs=$(cat "$T"/many/* | wc -c)
	zst=$(stat -c %s "$T/big.tar.zst")
	tar=$(stat -c %s "$T/big.tar")
	echo "size: $n objects, $docs bytes of documents: .tar.zst $zst bytes, .tar $tar bytes" >&2
	# the target: 2 MiB plus the documents for 4,000 objects, i.e. 524 bytes an object
	[ $(((zst - docs) * 4000)) -le $((2 * 1048576 * n)) ] ||
		fail ".tar.zst: $zst bytes for $n objects ($docs of documents): over 2 MiB + documents per 4,000"
	# the .tar: three entries an object (document, object.json, NAME.erp), each a 512-byte
	# header and its content in 512-byte blocks: 5 KiB an object at most
	[ "$tar" -le $((n * 5120 + 1048576)) ] || fail ".tar: $tar bytes for $n objects"
	# each token once: its bytes are in the uncompressed package exactly once
	py 'import sys, tarfile
t = tarfile.open(sys.argv[1]); raw = open(sys.argv[1], "rb").read()
toks = [m for m in t.getmembers() if "/data/tokens/" in m.name and m.name.endswith(".tsr")]
assert toks, "no token files"
for m in toks:
    b = t.extractfile(m).read()
    assert raw.count(b) == 1, "%s is in the package %d times" % (m.name, raw.count(b))' "$T/big.tar"
	expect_status 0 kura verify-export "$T/big.tar.zst"
	[ "$(grep -c '	valid$' "$OUT")" -eq "$n" ] || fail "verify-export of $n objects: $(tail -n 3 "$OUT")"
}

run_case verify_script case_verify_script
run_case index_csv case_index_csv
run_case hostile_references case_hostile_references
run_case old_layout case_old_layout
run_case size case_size
finish_cases
