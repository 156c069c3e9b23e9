#!/usr/bin/env bash
# What a red team found after the first hardening of issue 12 (names, recovery,
# hostile packages), each a case that failed before its fix: policies nested deep
# enough to make libyaml take hours, policy text that forges lines of `policy
# show`, sparse tar entries that unpack into gigabytes, object.json files that lie
# about their ID or give one metadata key twice in two normalisations, and a
# package folder whose name is not UTF-8 that crashed verify-export, signature
# files that took another file's name in a package, paths with line breaks, and
# compressed tars that unpack into more than the temporary folder holds.
source "$(dirname "$0")/lib.sh"

export KURA_NOW=2026-06-01T00:00:00Z
package_fixture one two
one=$ID_one
two=$ID_two
B=$T/b
expect_status 0 kura init "$B"
expect_status 0 kura trust add "$B" --tsa "$T/a-root.pem"

# fresh_copy NAME: an unpacked copy of the package at $T/NAME
fresh_copy() {
	rm -rf "${T:?}/$1"
	cp -r "$T/x/pkg" "$T/$1"
}

case_policy_nesting() {
	# 1 MiB of '[': libyaml's scanner is quadratic in the flow depth (hours); refused at once
	py 'n = 500000
open(sys.argv[1], "w").write("kura-policy: 1\nname: deep\nx: " + "[" * n + "]" * n + "\n")' "$T/deep.yaml"
	py 'n = 150000
open(sys.argv[1], "w").write("kura-policy: 1\nname: deep\nx: " + "{a: " * n + "1" + "}" * n + "\n")' "$T/deep2.yaml"
	for f in deep deep2; do
		expect_error 2 timeout 20 "$KURA_BIN" policy set "$A" "$T/$f.yaml"
		expect_grep "$ERR" "$f.yaml line 3: lists and mappings nested more than 32 deep"
	done
	# anchors and aliases: a billion laughs, and 40,000 anchors (libyaml: seconds, quadratic)
	py 'lines = ["kura-policy: 1", "name: laughs", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
lines += ["a%d: &a%d [%s]" % (i, i, ", ".join(["*a%d" % (i - 1)] * 10)) for i in range(1, 30)]
lines += ["algorithms:", "  sha256: *a29"]
open(sys.argv[1], "w").write("\n".join(lines) + "\n")' "$T/laughs.yaml"
	py 'open(sys.argv[1], "w").write("kura-policy: 1\nname: anchors\n" + "".join("k%d: &a%d 1\n" % (i, i) for i in range(40000)))' \
		"$T/anchors.yaml"
	for f in laughs anchors; do
		expect_error 2 timeout 3 "$KURA_BIN" policy set "$A" "$T/$f.yaml"
		expect_grep "$ERR" "$f.yaml line 3: an anchor or alias ('&' or '*')"
	done
	# a second document was dropped in silence (libyaml loads the first)
	test_policy "$T/two.yaml" two
	printf -- '---\nkura-policy: 1\nname: second\n' >>"$T/two.yaml"
	expect_error 2 kura policy set "$A" "$T/two.yaml"
	expect_grep "$ERR" "two.yaml line 9: a second YAML document"
}

case_policy_one_line() {
	local good
	good=$(kura policy show "$A")
	# each: a line of a policy, what the refusal says
	local -a lines=(
		'name: "x\nsha256    2099-12-31   forged"'
		'title: "a\u2028b"'
		'tsa-urls: ["http://tsa.example/\nsha256    no end"]'
	)
	local -a whats=('line 2: name holds a control character' 'line 2: title holds a control character'
		'is not an http:// or https:// TSA URL')
	local i
	for i in "${!lines[@]}"; do
		test_policy "$T/nl.yaml" nl
		py 'p, line = sys.argv[1], sys.argv[2]
text = open(p).read().split("\n")
key = line.split(":")[0]
text = [l for l in text if not l.startswith(key + ":")]
text.insert(1, line)
open(p, "w").write("\n".join(text))' "$T/nl.yaml" "${lines[$i]}"
		expect_error 2 kura policy set "$A" "$T/nl.yaml"
		expect_grep "$ERR" "${whats[$i]}"
	done
	test_policy "$T/tab.yaml" tab
	sed -i 's/source: "test: no end"/source: "a\tb"/' "$T/tab.yaml"
	expect_error 2 kura policy set "$A" "$T/tab.yaml"
	expect_grep "$ERR" "source holds a control character"
	[ "$(kura policy show "$A")" = "$good" ] || fail "a refused policy changed the store's"
}

case_sparse_entry() {
	if ! grep -q GNU <<<"$(tar --version 2>/dev/null)"; then
		echo "SKIP sparse_entry: needs GNU tar"
		return 0
	fi
	fresh_copy sp
	truncate -s 64M "$T/sp/data/$one/one.txt" # 64 MiB of holes in a tar of a few KiB
	tar --sparse -C "$T" -cf "$T/sparse.tar" sp
	tar --sparse --format=pax -C "$T" -cf "$T/sparse-pax.tar" sp
	mkdir "$T/tmp"
	for v in sparse sparse-pax; do
		[ "$(stat -c %s "$T/$v.tar")" -lt 1000000 ] || fail "test assumption: $v.tar is small"
		TMPDIR=$T/tmp expect_error 2 kura verify-export "$T/$v.tar"
		expect_grep "$ERR" "entry 'sp/data/$one/one.txt' refused: it is a sparse file"
		TMPDIR=$T/tmp expect_error 2 kura import "$B" "$T/$v.tar"
		expect_grep "$ERR" "it is a sparse file"
		[ -z "$(ls -A "$T/tmp")" ] || fail "unpacking $v.tar left files behind"
	done
}

case_object_json_lies() {
	local i
	local -a edits=(
		'o["id"] = sys.argv[2]'
		'o["meta"] = {"caf\u00e9": "1", "cafe\u0301": "2"}'
		'o["meta"] = {"a b": "1"}'
	)
	local -a whats=('"id" is not the name of its folder' "are one key (in NFC)"
		"metadata key 'a b' is not allowed")
	for i in "${!edits[@]}"; do
		fresh_copy "l$i"
		py 'p = sys.argv[1]
o = json.load(open(p))
'"${edits[$i]}"'
open(p, "w").write(json.dumps(o))' "$T/l$i/data/$one/object.json" "$two"
		remanifest "$T/l$i"
		# verify-export and import account for it alike
		expect_status 1 kura verify-export "$T/l$i"
		grep -q "^$PD/one.txt	invalid	.*${whats[$i]}" "$OUT" || fail "edit $i: verify-export: $(cat "$OUT")"
		expect_status 1 kura import "$B" "$T/l$i"
		grep -q "^REFUSED	$PD/one.txt	.*${whats[$i]}" "$OUT" || fail "edit $i: import: $(cat "$OUT")"
	done
}

case_folder_not_utf8() {
	local bad
	bad=$(printf 'data/\377')
	fresh_copy nu
	mv "$T/nu/data/$one" "$T/nu/$bad"
	printf '[]' >"$T/nu/$bad/object.json"
	remanifest "$T/nu"
	expect_status 1 kura verify-export "$T/nu"
	# (its document, under data/files/, is no longer named by any object.json)
	expect_grep "$OUT" 'MANIFEST	data/\xFF	holds no document with its evidence record: nothing in it was verified (data/\\xFF/object.json: is not a JSON object'
	expect_status 1 kura verify-export "$T/nu" --json
	py 'r = json.load(open(sys.argv[1]))
bad = [p for p in r["manifest"]["problems"] if "is not a JSON object" in p["problem"]]
assert len(bad) == 1 and bad[0]["file"] == "data/\\xFF", bad' "$OUT"
	expect_status 1 kura import "$B" "$T/nu"
	expect_grep "$OUT" 'REFUSED	data/\xFF	'
}

# Signed documents whose signature file is named like another file of their
# folder in a package: the validation data's (doc.pdf.validation.der), or, with a
# prefix, the record's (signature-a + a.ers); export wrote two entries of one name.
# Or a signature "x" beside the document "x.ers": readers took them for a pair.
case_member_names() {
	local S=$T/sig now
	now=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
	mkdir "$T/sd"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/sd/k.pem" -out "$T/sd/c.pem" \
		-subj /CN=signer -days 3650 2>/dev/null
	printf 'pdf\n' >"$T/sd/doc.pdf"
	printf 'a\n' >"$T/sd/signature-a"
	openssl cms -sign -binary -outform DER -in "$T/sd/doc.pdf" -signer "$T/sd/c.pem" -inkey "$T/sd/k.pem" \
		-out "$T/sd/doc.pdf.validation.der"
	openssl cms -sign -binary -outform DER -in "$T/sd/signature-a" -signer "$T/sd/c.pem" -inkey "$T/sd/k.pem" \
		-out "$T/sd/a.ers"
	expect_status 0 at "$now" init "$S"
	expect_status 0 at "$now" trust add "$S" --signers "$T/sd/c.pem"
	expect_status 0 at "$now" ingest "$S" --signature "$T/sd/doc.pdf.validation.der" "$T/sd/doc.pdf"
	expect_status 0 at "$now" ingest "$S" --signature "$T/sd/a.ers" "$T/sd/signature-a"
	printf 'x\n' >"$T/sd/x.ers" # its signature "x" would be paired with it as "x" with its record
	openssl cms -sign -binary -outform DER -in "$T/sd/x.ers" -signer "$T/sd/c.pem" -inkey "$T/sd/k.pem" -out "$T/sd/x"
	expect_status 0 at "$now" ingest "$S" --signature "$T/sd/x" "$T/sd/x.ers"
	expect_status 0 at "$now" export "$S" -o "$T/signed.tar"
	[ -z "$(tar -tf "$T/signed.tar" | sort | uniq -d)" ] || fail "two entries of one name: $(tar -tf "$T/signed.tar" | sort | uniq -d)"
	expect_status 0 at "$now" verify-export "$T/signed.tar"
	expect_grep "$OUT" "/doc.pdf	valid"
	expect_grep "$OUT" "/signature-a	valid"
	expect_grep "$OUT" "/x.ers	valid"
	[ "$(wc -l <"$OUT")" -eq 3 ] || fail "verify-export found other objects than the three: $(cat "$OUT")"
	kura tsa ca "$S" >"$T/sig-root.pem"
	expect_status 0 at "$now" init "$T/sig2"
	expect_status 0 at "$now" trust add "$T/sig2" --tsa "$T/sig-root.pem"
	expect_status 0 at "$now" trust add "$T/sig2" --signers "$T/sd/c.pem"
	expect_status 0 at "$now" import "$T/sig2" "$T/signed.tar"
	# object.json naming one file as both signature and validation data: refused by both
	mkdir "$T/sx"
	tar -m -xf "$T/signed.tar" -C "$T/sx"
	py 'import glob
for p in glob.glob(sys.argv[1] + "/signed/data/*/object.json"):
    o = json.load(open(p))
    if o["name"] == "doc.pdf":
        o["members"][2]["file"] = o["members"][1]["file"]
        open(p, "w").write(json.dumps(o))' "$T/sx"
	remanifest "$T/sx/signed"
	expect_status 1 at "$now" verify-export "$T/sx/signed"
	expect_grep "$OUT" "a member is not a file of its own beside the document"
	expect_status 1 at "$now" import "$T/sig2" "$T/sx/signed"
	expect_grep "$OUT" "a member is not a file of its own beside the document"
}

# Paths given on the command line are names too: a package or store path holding a
# line break (a script passing an uploaded file's name) must not forge a line.
case_args_one_line() {
	local d
	d="$T/$(printf 'up\nkura: imported 5 object(s), refused 0')"
	mkdir "$d"
	expect_error 1 kura import "$B" "$d"
	[ "$(wc -l <"$ERR")" -eq 1 ] || fail "import's message is not one line: $(cat "$ERR")"
	expect_grep "$ERR" 'up\nkura: imported 5 object(s), refused 0 holds no (FILE, FILE.ers) pair'
	expect_status 0 kura init "$d/s"
	[ "$(wc -l <"$OUT")" -eq 1 ] || fail "init's line is not one line: $(cat "$OUT")"
	expect_error 2 kura "$(printf 'ls\nOK')"
	[ "$(wc -l <"$ERR")" -eq 1 ] || fail "an unknown command's message is not one line: $(cat "$ERR")"
}

# A compressed tar declaring far more than the temporary folder holds (a zip bomb
# fills the disk): refused before a byte of it is written, saying what to do.
mkdir "$T/mnt"
if mount -t tmpfs -o size=1m tmpfs "$T/mnt" 2>/dev/null; then
	on_exit "umount '$T/mnt' 2>/dev/null || umount -l '$T/mnt'"
else
	rmdir "$T/mnt"
fi
case_unpack_room() {
	if [ ! -d "$T/mnt" ]; then
		echo "SKIP unpack_room: cannot mount tmpfs"
		return 0
	fi
	py 'import io, tarfile
with tarfile.open(sys.argv[1], "w:gz") as t:
    i = tarfile.TarInfo("p/big"); i.size = 8 << 20
    t.addfile(i, io.BytesIO(bytes(i.size)))' "$T/bomb.tar.gz"
	TMPDIR=$T/mnt expect_error 3 kura verify-export "$T/bomb.tar.gz"
	expect_grep "$ERR" "entry 'p/big' needs 8388608 bytes but the temporary folder"
	expect_grep "$ERR" "set TMPDIR to a folder with room"
	TMPDIR=$T/mnt expect_error 3 kura import "$B" "$T/bomb.tar.gz"
	expect_grep "$ERR" "needs 8388608 bytes"
	[ -z "$(ls -A "$T/mnt")" ] || fail "unpacking left files behind: $(ls -A "$T/mnt")"
}

# A package's data/tsa-anchors.pem of one certificate repeated (a few KiB once
# compressed, gigabytes of memory once read): refused as no list of anchors.
case_many_anchors() {
	fresh_copy an
	py 'p = sys.argv[1]
c = open(p).read()
open(p, "w").write(c * 1001)' "$T/an/data/tsa-anchors.pem"
	remanifest "$T/an"
	expect_status 1 kura verify-export "$T/an"
	expect_grep "$ERR" "TSA roots: none (the package has no data/tsa-anchors.pem, or not one of at most 1000"
	cp "$T/an/data/tsa-anchors.pem" "$T/many.pem"
	expect_error 2 kura trust add "$B" --tsa "$T/many.pem"
	expect_grep "$ERR" "holds more than 1000 certificates"
}

run_case policy_nesting case_policy_nesting
run_case policy_one_line case_policy_one_line
run_case sparse_entry case_sparse_entry
run_case object_json_lies case_object_json_lies
run_case folder_not_utf8 case_folder_not_utf8
run_case member_names case_member_names
run_case args_one_line case_args_one_line
run_case unpack_room case_unpack_room
run_case many_anchors case_many_anchors
finish_cases
