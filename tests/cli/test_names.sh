#!/usr/bin/env bash
# File names in any script and any bytes, through every command: Japanese, é in NFC
# and in NFD (two different names), an emoji, a 255-byte name, bytes that are not
# UTF-8, and a name with a tab and newline crafted to forge an output line. Each is
# kept byte for byte (ls --json, import), shown escaped in every line-oriented output
# (one line per object, \t \n \xNN), and survives export -> tar tf / sha256sum -c /
# verify-export -> import. Unicode metadata keys are NFC. Packages whose names come
# back in another normalisation (a folder copied through macOS, a tar repacked) and
# tars whose names are not UTF-8 are read without a crash; a file added under such a
# name is reported, not dropped.
source "$(dirname "$0")/lib.sh"

S=$T/store
D=$T/docs
mkdir -p "$D"
JA=台帳.csv
NFC=$'\xc3\xa9.csv'                          # é as one code point
NFD=$'e\xcc\x81.csv'                         # e + combining acute: another name on disk
EMOJI=$'\xf0\x9f\x98\x80-emoji.txt'
LONG=$(printf 'あ%.0s' $(seq 85))            # 85 x 3 bytes = 255 bytes, the longest name
RAW=$'\xff\xfe-raw.bin'                      # not UTF-8
ZERO=0000000000000000000000000000000000000000000000000000000000000000
FORGED=$'evil\tname\n01M00000000000000000000000\t'$ZERO$'\tforged.txt'
NAMES=("$JA" "$NFC" "$NFD" "$EMOJI" "$LONG" "$RAW" "$FORGED")
i=0
for n in "${NAMES[@]}"; do
	printf 'document %d\n' "$i" >"$D/$n"
	i=$((i + 1))
done
[ "$(printf %s "$LONG" | wc -c)" -eq 255 ] || fail "the long name is not 255 bytes"

# The names a store lists, one per line as Python bytes reprs, sorted (exact bytes:
# "name_hex" where the name is not UTF-8).
names_of()
{
	kura ls "$1" --json | py '
names = []
for o in json.load(sys.stdin):
    raw = bytes.fromhex(o["name_hex"]) if "name_hex" in o else o["name"].encode()
    names.append(repr(raw))
print("\n".join(sorted(names)))'
}

# Checks that every line of file $1 has exactly $2 tab-separated fields and there are $3 lines.
expect_lines()
{
	local n
	n=$(wc -l <"$1")
	[ "$n" -eq "$3" ] || fail "expected $3 lines, got $n: $(cat -A "$1" | head -c 1500)"
	awk -F'\t' -v want="$2" 'NF != want { bad = 1 } END { exit bad }' "$1" ||
		fail "a line has not $2 fields (a forged line?): $(cat -A "$1" | head -c 1500)"
}

export KURA_NOW=2026-06-01T00:00:00Z
expect_status 0 kura init "$S"

case_ingest() {
	expect_status 0 kura ingest "$S" "$D"
	cp "$OUT" "$T/ingested"
	expect_lines "$T/ingested" 3 7
	while IFS= read -r line; do check_ingest_line "$line"; done <"$T/ingested"
	expect_grep "$T/ingested" "$D/\\xFF\\xFE-raw.bin"
	expect_grep "$T/ingested" "$D/evil\\tname\\n01M00000000000000000000000\\t$ZERO\\tforged.txt"
	expect_grep "$T/ingested" "$D/$JA"
	expect_grep "$T/ingested" "$D/$LONG"
	# a single file by its path, and standard input
	expect_status 0 kura ingest "$S" "$D/$RAW"
	expect_lines "$OUT" 3 1
	expect_grep "$OUT" "$D/\\xFF\\xFE-raw.bin"
	printf 'from stdin\n' | expect_status 0 kura ingest "$S" -
	expect_lines "$OUT" 3 1
	# messages on stderr too: a missing file whose name holds a newline is one line
	expect_error 2 kura ingest "$S" "$D/missing"$'\nkura: forged'
	[ "$(wc -l <"$ERR")" -eq 1 ] || fail "an error message was split by a name: $(cat -A "$ERR")"
	expect_grep "$ERR" 'missing\nkura: forged'
}
run_case ingest case_ingest
id_of() { grep -F -- "$1" "$T/ingested" 2>/dev/null | head -n 1 | cut -f1 || true; } # empty if ingest failed
RAW_ID=$(id_of '\xFF\xFE-raw.bin')
FORGED_ID=$(id_of 'evil\tname')

case_ls_show_get() {
	# every name byte for byte, also those that are not UTF-8
	printf '%s\n' "${NAMES[@]}" "$RAW" stdin | py '
names = sys.stdin.buffer.read().split(b"\n")[:-1]
# a name with a newline came in as two lines: the last seven fields are the forged name
names = names[:6] + [names[6] + b"\n" + names[7]] + names[8:]
print("\n".join(sorted(repr(n) for n in names)))' >"$T/want"
	names_of "$S" >"$T/got"
	diff "$T/want" "$T/got" >/dev/null || fail "ls --json does not give the names byte for byte: $(diff "$T/want" "$T/got")"
	expect_status 0 kura ls "$S"
	expect_lines "$OUT" 4 9
	expect_grep "$OUT" $'\t\\xFF\\xFE-raw.bin'
	expect_status 0 kura show "$S" "$FORGED_ID"
	[ "$(grep -c '^name ' "$OUT")" -eq 1 ] && ! grep -q '^01M0000' "$OUT" || fail "show printed a forged line: $(cat -A "$OUT")"
	expect_grep "$OUT" 'name      evil\tname\n01M'
	expect_status 0 kura show "$S" "$RAW_ID" --json
	py 'o = json.load(open(sys.argv[1])); assert o["name"] == "\\xFF\\xFE-raw.bin" and o["name_hex"] == "fffe2d7261772e62696e", o' "$OUT" ||
		fail "show --json of a name that is not UTF-8: $(cat "$OUT")"
	[ "$(sha256_of_get "$S" "$RAW_ID")" = "$(sha256_of "$D/$RAW")" ] || fail "get gives other bytes"
	expect_status 0 kura verify "$S"
	expect_lines "$OUT" 2 9
	expect_status 0 kura scrub "$S"
	[ ! -s "$OUT" ] || fail "scrub printed DAMAGED lines for a sound store: $(cat -A "$OUT")"
}
run_case ls_show_get case_ls_show_get

case_metadata() {
	local key_nfd key_nfc
	key_nfd=$(py 'import unicodedata; print(unicodedata.normalize("NFD", "コード"))')
	key_nfc=$(py 'import unicodedata; print(unicodedata.normalize("NFC", "コード"))')
	[ "$key_nfd" != "$key_nfc" ] || fail "the test key has no NFD form"
	expect_status 0 kura ingest "$S" --meta 工事番号=第12号 --meta "$key_nfd=x	y" "$D/$JA"
	expect_status 0 kura show "$S" "$(cut -f1 "$OUT")" --json
	py 'm = json.load(open(sys.argv[1]))["meta"]; assert m == {"工事番号": "第12号", sys.argv[2]: "x\ty"}, m' "$OUT" "$key_nfc" ||
		fail "metadata keys must be kept in NFC: $(cat "$OUT")"
	expect_status 0 kura show "$S" "$(kura ls "$S" | tail -n 1 | cut -f1)"
	expect_grep "$OUT" "meta      $key_nfc=x\\ty"
	expect_error 2 kura ingest "$S" --no-seal --meta "$key_nfc=1" --meta "$key_nfd=2" "$D/$JA"
	expect_grep "$ERR" "given twice"
	for bad in 'a b' $'a\tb' $'a\x7f' $'\xff' '工事 番号'; do
		expect_error 2 kura ingest "$S" --no-seal --meta "$bad=v" "$D/$JA"
		expect_grep "$ERR" "is not allowed"
		[ "$(wc -l <"$ERR")" -eq 1 ] || fail "the message about key '$bad' is not one line: $(cat -A "$ERR")"
	done
	# escaped once (the library's message holds the key as it is; the CLI escapes it)
	expect_error 2 kura ingest "$S" --no-seal --meta $'a\tb=v' "$D/$JA"
	expect_grep "$ERR" "metadata key 'a\tb' is not allowed"
	expect_error 2 kura ingest "$S" --no-seal --meta $'\xff=v' "$D/$JA"
	expect_grep "$ERR" "metadata key '\xFF' is not allowed"
	expect_error 2 kura ingest "$S" --no-seal --meta $'k=\xff' "$D/$JA"
	expect_grep "$ERR" "not valid UTF-8"
}
run_case metadata case_metadata

PKG=$T/名簿.tar
case_export_verify_import() {
	expect_status 0 kura export "$S" -o "$PKG"
	LC_ALL=C.UTF-8 tar -tf "$PKG" >"$T/list"
	grep -qF "名簿/data/files/${D#/}/$JA" "$T/list" || fail "the Japanese name is not in the tar listing: $(cat "$T/list")"
	grep -qF "名簿/data/files/${D#/}/_xFF_xFE-raw.bin" "$T/list" || fail "a name that is not UTF-8 is not in its escaped form"
	mkdir "$T/x"
	tar -xf "$PKG" -C "$T/x"
	(cd "$T/x/名簿" && sha256sum --quiet -c manifest-sha256.txt && sha256sum --quiet -c tagmanifest-sha256.txt) ||
		fail "sha256sum -c does not accept the manifests"
	[ "$(grep -v ' data/audit/' "$T/x/名簿/manifest-sha256.txt" | grep -c '\.erp$')" -eq 10 ] ||
		fail "an object's record is not listed"
	grep -q ' data/tokens/INDEX.tsv$' "$T/x/名簿/manifest-sha256.txt" || fail "the tokens' INDEX.tsv is not listed"
	py 'o = json.load(open(sys.argv[1])); assert o["name_hex"] == "fffe2d7261772e62696e" and o["record"] == "_xFF_xFE-raw.bin.ers", o' \
		"$T/x/名簿/data/$RAW_ID/object.json" || fail "object.json does not keep the bytes of the name"
	expect_status 0 kura verify-export "$PKG"
	expect_lines "$OUT" 2 10
	expect_grep "$OUT" 'forged.txt	valid'
	expect_status 0 kura verify-export "$PKG" --json
	py 'r = json.load(open(sys.argv[1])); assert r["verdict"] == "valid" and len(r["objects"]) == 10' "$OUT" ||
		fail "verify-export --json: $(head -c 800 "$OUT")"
	# import: the same names, byte for byte
	kura tsa ca "$S" >"$T/roots.pem"
	expect_status 0 kura init "$T/s2"
	expect_status 0 kura trust add "$T/s2" --tsa "$T/roots.pem"
	expect_status 0 kura import "$T/s2" "$PKG"
	expect_lines "$OUT" 3 10
	[ "$(grep -c '^OK	' "$OUT")" -eq 10 ] || fail "import: $(cat -A "$OUT")"
	names_of "$S" >"$T/a"
	names_of "$T/s2" >"$T/b"
	diff "$T/a" "$T/b" >/dev/null || fail "import changed names: $(diff "$T/a" "$T/b")"
}
run_case export_verify_import case_export_verify_import

case_other_normalisation() {
	# the unpacked package with its NFC names turned into NFD, as a copy through macOS makes them
	local id
	id=$(id_of "$D/$NFC")
	[ -f "$T/x/名簿/$(pkg_doc "$T/x/名簿" "$id")" ] || fail "no document of $id"
	py 'import unicodedata
bag, id = sys.argv[1], sys.argv[2]
o = json.load(open(os.path.join(bag, "data", id, "object.json")))
for p in (os.path.join(bag, "data", o["file"]), os.path.join(bag, "data", id, o["record_parts"])):
    d, n = os.path.split(p)
    assert unicodedata.normalize("NFD", n) != n, n
    os.rename(p, os.path.join(d, unicodedata.normalize("NFD", n)))' "$T/x/名簿" "$id"
	expect_status 0 kura verify-export "$T/x/名簿"
	expect_lines "$OUT" 2 10
	(cd "$T/x" && tar --format=gnu -cf "$T/nfd-gnu.tar" 名簿 && tar --format=pax -cf "$T/nfd-pax.tar" 名簿)
	expect_status 0 kura verify-export "$T/nfd-gnu.tar"
	expect_status 0 kura verify-export "$T/nfd-pax.tar"
	expect_status 0 kura init "$T/s3"
	expect_status 0 kura trust add "$T/s3" --tsa "$T/roots.pem"
	expect_status 0 kura import "$T/s3" "$T/nfd-gnu.tar"
	[ "$(grep -c '^OK	' "$OUT")" -eq 10 ] || fail "import of a package in NFD: $(cat -A "$OUT")"
	names_of "$T/s3" >"$T/c"
	diff "$T/a" "$T/c" >/dev/null || fail "import took names from the file system, not object.json: $(diff "$T/a" "$T/c")"
}
run_case other_normalisation case_other_normalisation

case_added_not_utf8() {
	# a file added to a package under a name that is not UTF-8 is named, not dropped
	local id
	id=$(id_of "$D/$JA")
	mkdir "$T/y"
	tar -xf "$PKG" -C "$T/y"
	printf 'planted\n' >"$T/y/名簿/data/$id/"$'\xffplanted'
	expect_status 1 kura verify-export "$T/y/名簿"
	expect_grep "$OUT" "MANIFEST	data/$id/\xFFplanted	is not listed in the manifest"
	expect_status 0 kura init "$T/s4"
	expect_status 0 kura trust add "$T/s4" --tsa "$T/roots.pem"
	expect_status 1 kura import "$T/s4" "$T/y/名簿"
	expect_grep "$OUT" "REFUSED	data/files/${D#/}/$JA	data/$id/\xFFplanted is not listed"
	[ "$(grep -c '^OK	' "$OUT")" -eq 9 ] || fail "import took other objects wrongly: $(cat -A "$OUT")"
}
run_case added_not_utf8 case_added_not_utf8

case_tars_not_utf8() {
	# (FILE, FILE.ers) pairs whose names are not UTF-8 and hold a tab: in a pax "path"
	# record (no hdrcharset), with hdrcharset=BINARY, and raw in a GNU header
	for mode in pax binary gnu; do
		py '
import io, tarfile
out, mode = sys.argv[1], sys.argv[2]
buf = io.BytesIO()
fmt = tarfile.GNU_FORMAT if mode == "gnu" else tarfile.PAX_FORMAT
with tarfile.open(fileobj=buf, mode="w", format=fmt, encoding="utf-8", errors="surrogateescape") as t:
    for name, data in ((b"x/\xff\tOK\tforged.csv", b"doc"), (b"x/\xff\tOK\tforged.csv.ers", b"\x30\x03\x02\x01\x01")):
        ti = tarfile.TarInfo(name.decode("utf-8", "surrogateescape"))
        if mode != "gnu":
            ti.pax_headers = {"path": ti.name}
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
raw = buf.getvalue()
if mode == "pax":  # the same length, so the pax header stays well-formed
    raw = raw.replace(b"21 hdrcharset=BINARY\n", b"21 comment=123456789\n")
open(out, "wb").write(raw)' "$T/bad-$mode.tar" "$mode"
		expect_status 1 kura verify-export "$T/bad-$mode.tar"
		expect_grep "$OUT" 'x/\xFF\tOK\tforged.csv	invalid'
		expect_status 1 kura import "$T/s2" "$T/bad-$mode.tar"
		expect_lines "$OUT" 3 1
		expect_grep "$OUT" 'REFUSED	x/\xFF\tOK\tforged.csv	'
	done
}
run_case tars_not_utf8 case_tars_not_utf8

# The library's messages name paths too (here: a writer waiting for the store's lock): a store
# whose folder's name forges a line is shown escaped, one message on one line.
case_library_message() {
	local W=$T/$'w\nkura: forged' out=$T/lock-wait
	expect_status 0 kura init "$W"
	flock "$W/lock" sleep 2 &
	sleep 0.5
	kura ingest --no-seal "$W" "$D/$JA" >/dev/null 2>"$out" || fail "ingest after the lock wait failed: $(cat "$out")"
	wait
	grep -qF 'waiting for another kura process that is writing to' "$out" || fail "no lock wait seen: $(cat -A "$out")"
	! grep -q '^kura: forged' "$out" || fail "a store's name forged a line: $(cat -A "$out")"
	grep -qF 'w\nkura: forged' "$out" || fail "the store's name is not shown escaped: $(cat -A "$out")"
}
run_case library_message case_library_message

finish_cases
