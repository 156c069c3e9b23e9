#!/usr/bin/env bash
# Export packages and verify-export: a BagIt bag in a .tar or .tar.zst that checks
# out with kura verify-export and with sha256sum -c + openssl ts -verify alone;
# deterministic bytes; a tampered, added or missing member is named; a wrong
# trust anchor fails; unsafe tars (path traversal, absolute paths, links) are
# refused; bad arguments leave no file behind.
source "$(dirname "$0")/lib.sh"

S=$T/store
mkdir -p "$T/docs/sub"
printf 'invoice 42\n' >"$T/docs/invoice.txt"
printf 'a;b;c\n1;2;3\n' >"$T/docs/sub/50% off.csv"
random_file "$T/docs/big.bin" 2500000

export KURA_NOW=2026-06-01T00:00:00Z
expect_status 0 kura init "$S"
expect_status 0 kura ingest "$S" --meta kind=ledger "$T/docs"
cp "$OUT" "$T/ingested"
inv=$(grep invoice.txt "$T/ingested" | cut -f1)
pct=$(grep 'off.csv' "$T/ingested" | cut -f1)
big=$(grep big.bin "$T/ingested" | cut -f1)
printf 'not sealed\n' >"$T/late.txt"
expect_status 0 kura ingest --no-seal "$S" "$T/late.txt"
late=$(cut -f1 "$OUT")
D=data/files/${T#/}/docs # the documents in a package, under the path ingest was given

case_export_layout() {
	expect_status 0 kura export "$S" -o "$T/pkg.tar"
	expect_grep "$ERR" "exported 3 object(s)"
	expect_grep "$ERR" "$late is not sealed yet"
	[ "$(stat -c %a "$T/pkg.tar")" != 600 ] || fail "a package must be readable by others (umask), not 0600"
	tar -tf "$T/pkg.tar" | sort >"$T/list"
	for f in bagit.txt bag-info.txt manifest-sha256.txt tagmanifest-sha256.txt VERIFY.md data/tsa-anchors.pem \
		"$D/invoice.txt" "data/$inv/invoice.txt.erp" "data/$inv/object.json" "data/tokens/INDEX.tsv" \
		data/INDEX.csv verify.sh "$D/sub/50_ off.csv" "data/$big/big.bin.erp"; do
		grep -qxF "pkg/$f" "$T/list" || fail "pkg/$f is not in the package: $(cat "$T/list")"
	done
	! grep -q "$late" "$T/list" || fail "an unsealed object was exported"
	tar -tvf "$T/pkg.tar" | awk '{print $1, $2}' | sort -u >"$T/modes"
	[ "$(cat "$T/modes")" = "-rw-r--r-- 0/0" ] || fail "entries must be plain files owned by 0/0: $(cat "$T/modes")"
	mkdir "$T/x"
	tar -xf "$T/pkg.tar" -C "$T/x"
	cmp "$T/x/pkg/$D/big.bin" "$T/docs/big.bin" || fail "the document differs from the original"
	py 'import json,sys
o = json.load(open(sys.argv[1]))
assert o["id"] == sys.argv[2] and o["name"] == "invoice.txt" and o["meta"] == {"kind": "ledger"}, o
assert o["members"] == [{"role": "document", "file": "invoice.txt"}] and o["record"] == "invoice.txt.ers", o
assert o["record_parts"] == "invoice.txt.erp", o
assert "segment" not in o and "offset" not in o, o' "$T/x/pkg/data/$inv/object.json" "$inv"
	expect_grep "$T/x/pkg/bag-info.txt" "Payload-Oxum: "
	expect_grep "$T/x/pkg/bagit.txt" "BagIt-Version: 1.0"
	# the package checks out without kura: sha256sum, then openssl over every token
	(cd "$T/x/pkg" && sha256sum --quiet -c manifest-sha256.txt && sha256sum --quiet -c tagmanifest-sha256.txt) ||
		fail "sha256sum -c fails on a fresh package"
	(cd "$T/x/pkg/data/tokens" && while IFS=$'\t' read -r file gentime epoch hash imprint; do
		openssl ts -verify -token_in -in "$file" -digest "$imprint" -CAfile ../tsa-anchors.pem \
			-attime "$epoch" >/dev/null 2>&1 || exit 1
	done <INDEX.tsv) || fail "openssl ts -verify fails on an exported token"
	# the whole record, rebuilt from its parts by the package's own script, is the store's
	(cd "$T/x/pkg" && sh verify.sh --rebuild "$T/rebuilt" >/dev/null) || fail "verify.sh fails on a fresh package"
	kura evidence "$S" "$inv" -o "$T/inv.ers"
	cmp "$T/rebuilt/$inv/invoice.txt.ers" "$T/inv.ers" || fail "the rebuilt record is not kura evidence's"
	root=$("$PYTHON" "$(dirname "$0")/../../demo/ers_extract.py" "$T/rebuilt/$inv/invoice.txt.ers" \
		"$T/x/pkg/$D/invoice.txt" "$T/tok" 2>/dev/null)
	first=$(head -n1 "$T/x/pkg/data/$inv/invoice.txt.erp" | cut -d' ' -f6)
	[ "$root" = "$(grep "^$first.tsr" "$T/x/pkg/data/tokens/INDEX.tsv" | cut -f5)" ] ||
		fail "the first token's imprint is not the root computed from the document"
}

case_verify_export() {
	expect_status 0 kura export "$S" -o "$T/v.tar.zst" "$inv" "$big" "$inv"
	expect_grep "$ERR" "exported 2 object(s)"
	zstd -t -q "$T/v.tar.zst" || fail "a .tar.zst package is not zstd"
	expect_status 0 kura verify-export "$T/v.tar.zst"
	[ "$(grep -c $'\tvalid$' "$OUT")" -eq 2 ] || fail "two records must be valid: $(cat "$OUT")"
	expect_status 0 kura verify-export "$T/v.tar.zst" --json
	py 'import json,sys
r = json.load(open(sys.argv[1]))
assert r["verdict"] == "valid" and r["manifest"] == {"verdict": "valid", "problems": []}, r
assert len(r["objects"]) == 2, r
for o in r["objects"]:
    for k in ("verdict", "integrity", "trust", "chains", "document", "record"):
        assert k in o, k
    assert o["verdict"] == "valid" and o["chains"][0]["ats"][0]["trust"] == "valid", o' "$OUT"
	mkdir "$T/v"
	tar --zstd -xf "$T/v.tar.zst" -C "$T/v"
	expect_status 0 kura verify-export "$T/v"
	expect_status 0 kura verify-export "$T/v/v"
	# the same store, clock and IDs give the same bytes
	expect_status 0 kura export "$S" -o "$T/w.tar.zst" "$big" "$inv"
	mkdir "$T/w"
	tar --zstd -xf "$T/w.tar.zst" -C "$T/w"
	diff -r "$T/v/v" "$T/w/w" >/dev/null || fail "two exports of the same objects differ"
	mkdir "$T/again"
	expect_status 0 kura export "$S" -o "$T/again/v.tar.zst" "$big" "$inv"
	cmp "$T/v.tar.zst" "$T/again/v.tar.zst" || fail "export is not deterministic"
}

case_tampered() {
	expect_status 0 kura export "$S" -o "$T/t.tar"
	mkdir "$T/t"
	tar -xf "$T/t.tar" -C "$T/t"
	P=$T/t/t
	# one flipped byte in a document: the manifest and the record both say so
	printf 'invoice 43\n' >"$P/$D/invoice.txt"
	expect_status 1 kura verify-export "$P"
	expect_grep "$OUT" "MANIFEST	$D/invoice.txt	does not match"
	expect_grep "$OUT" "$D/invoice.txt	invalid"
	expect_grep "$ERR" "invalid: manifest invalid"
	printf 'invoice 42\n' >"$P/$D/invoice.txt"
	expect_status 0 kura verify-export "$P"
	# an added file and a lost one are named
	printf 'x\n' >"$P/data/$inv/extra.txt"
	tok=$(cd "$P/data" && echo tokens/*.tsr)
	rm "$P/data/$tok"
	expect_status 1 kura verify-export "$P" --json
	py 'import json,sys
r = json.load(open(sys.argv[1]))
assert r["verdict"] == "invalid" and r["manifest"]["verdict"] == "invalid", r
p = {x["file"]: x["problem"] for x in r["manifest"]["problems"]}
assert "not listed" in p["data/%s/extra.txt" % sys.argv[2]], p
assert "missing" in p["data/%s" % sys.argv[3]], p' "$OUT" "$inv" "$tok"
	rm -rf "$T/t"
	mkdir "$T/t"
	tar -xf "$T/t.tar" -C "$T/t"
	# a changed tag file
	printf 'Contact-Name: mallory\n' >>"$P/bag-info.txt"
	expect_status 1 kura verify-export "$P"
	expect_grep "$OUT" "MANIFEST	bag-info.txt	does not match"
	# a member changed inside the tar itself (rewritten with python's tarfile)
	tar_flip_member "$T/t.tar" "$T/bad.tar" "docs/big.bin"
	expect_status 1 kura verify-export "$T/bad.tar"
	expect_grep "$OUT" "MANIFEST	$D/big.bin	does not match"
	# a record whose hash tree was changed is invalid, with its own reason
	py 'import hashlib, sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read())
h = hashlib.sha256(open(sys.argv[2], "rb").read()).digest(); i = b.find(h); assert i > 0
b[i] ^= 1; open(p, "wb").write(b)' "$P/data/$inv/invoice.txt.erp" "$P/$D/invoice.txt"
	expect_status 1 kura verify-export "$P"
	expect_grep "$OUT" "$D/invoice.txt	invalid"
}

case_wrong_anchor() {
	expect_status 0 kura init "$T/other"
	kura tsa ca "$T/other" >"$T/other-root.pem"
	expect_status 0 kura export "$S" -o "$T/a.tar" "$inv"
	expect_status 1 kura verify-export "$T/a.tar" --trust "$T/other-root.pem" --json
	py 'import json,sys
r = json.load(open(sys.argv[1]))
assert r["verdict"] != "valid" and r["anchors"] == "given with --trust", r
assert r["objects"][0]["trust"] != "valid", r' "$OUT"
	kura tsa ca "$S" >"$T/root.pem"
	expect_status 0 kura verify-export "$T/a.tar" --trust "$T/root.pem"
}

case_unsafe_tars() {
	expect_status 0 kura export "$S" -o "$T/u.tar" "$inv"
	py 'import io, sys, tarfile
src, out = sys.argv[1], sys.argv[2]
absolute = out + "/abs-escape.txt"  # an absolute path
def evil(name, kind):
    with tarfile.open(src) as a, tarfile.open(out + "/" + name + ".tar", "w") as b:
        for m in a.getmembers():
            b.addfile(m, a.extractfile(m))
        t = tarfile.TarInfo({"dotdot": "u/../../escaped.txt", "abs": absolute,
                             "symlink": "u/data/link", "hardlink": "u/data/hard",
                             "fifo": "u/data/fifo", "twice": "u/bagit.txt"}[name])
        data = b"pwned\n"
        if kind == "file":
            t.size = len(data)
            b.addfile(t, io.BytesIO(data))
        else:
            t.type = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE}[kind]
            t.linkname = "/etc/passwd" if kind == "symlink" else "u/bagit.txt"
            b.addfile(t)
for n, k in (("dotdot", "file"), ("abs", "file"), ("symlink", "symlink"), ("hardlink", "hardlink"),
             ("fifo", "fifo"), ("twice", "file")):
    evil(n, k)' "$T/u.tar" "$T"
	for name in dotdot abs symlink hardlink fifo twice; do
		expect_error 2 kura verify-export "$T/$name.tar"
		expect_grep "$ERR" "refused"
	done
	[ ! -e "$T/escaped.txt" ] && [ ! -e "$T/abs-escape.txt" ] ||
		fail "an entry was written outside the package"
	# a folder package with a symbolic link in it is refused too
	mkdir "$T/ul"
	tar -xf "$T/u.tar" -C "$T/ul"
	ln -s /etc/passwd "$T/ul/u/data/link"
	expect_error 2 kura verify-export "$T/ul/u"
	expect_grep "$ERR" "refused"
	expect_error 2 kura verify-export "$T/does-not-exist.tar"
	printf 'not a tar\n' >"$T/junk.tar"
	expect_error 2 kura verify-export "$T/junk.tar"
}

case_bad_arguments() {
	expect_error 2 kura export "$S"
	expect_error 2 kura export "$S" -o "$T/out.zip"
	[ ! -e "$T/out.zip" ] || fail "a refused export wrote a file"
	expect_error 1 kura export "$S" -o "$T/missing.tar" 00000000000000000000000000
	[ -z "$(ls "$T" | grep '^missing.tar')" ] || fail "a failed export left a file behind"
	expect_error 2 kura export "$S" -o "$T/bad-id.tar" not-an-id
	expect_error 2 kura verify-export
	expect_error 2 kura verify-export "$T/a" "$T/b"
	expect_error 2 kura verify-export --bogus "$T/a"
}

run_case layout case_export_layout
run_case verify_export case_verify_export
run_case tampered case_tampered
run_case wrong_anchor case_wrong_anchor
run_case unsafe_tars case_unsafe_tars
run_case bad_arguments case_bad_arguments
finish_cases
