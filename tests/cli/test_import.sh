#!/usr/bin/env bash
# kura import: a kura export into a fresh store verifies there, its records kept
# byte for byte and renewed by the new store (time-stamp and hash-tree renewal);
# a public vector (Bouncy Castle / BSI test data) is imported, renewed and still
# verifies with verify-er; refused objects leave nothing behind; unsafe tars,
# tampered members and records that do not verify are refused with the reason.
source "$(dirname "$0")/lib.sh"

VEC=$(cd "$(dirname "$0")/../../.." && pwd)/shared/vectors
BC=$VEC/bc-java/Testdaten_ERS-Testool/rfc4998
A=$T/a
B=$T/b
mkdir -p "$T/docs"
printf 'invoice 42\n' >"$T/docs/invoice.txt"
random_file "$T/docs/big.bin" 1500000

export KURA_NOW=2026-06-01T00:00:00Z
expect_status 0 kura init "$A"
expect_status 0 kura ingest "$A" --meta client=ACME "$T/docs"
cp "$OUT" "$T/ingested"
inv=$(grep invoice.txt "$T/ingested" | cut -f1)
big=$(grep big.bin "$T/ingested" | cut -f1)
PD=data/files/${T#/}/docs # the documents in a package, under the path ingest was given
expect_status 0 kura export "$A" -o "$T/pkg.tar.zst"
kura tsa ca "$A" >"$T/a-root.pem"
mkdir "$T/pkg"
zstd -dcq "$T/pkg.tar.zst" >"$T/pkg.tar"
tar -xmf "$T/pkg.tar" -C "$T/pkg"
# the records as exported, whole: rebuilt from their parts by the package's verify.sh
(cd "$T/pkg/pkg" && sh verify.sh --rebuild "$T/records" >/dev/null) || fail "verify.sh fails on the package"

# the original record's archive time-stamps must appear, byte for byte, in the new one
same_ats() {
	py 'import sys
sys.path.insert(0, sys.argv[3])
import ers_extract as x
old, new = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
_, s, e = x.tlv(old, 0)
seq = x.children(old, s, e)[-1]
for chain in x.children(old, seq[2], seq[3]):
    for ats in x.children(old, chain[2], chain[3]):
        assert old[ats[1]:ats[3]] in new, "an imported ATS was not kept byte for byte"' "$1" "$2" \
		"$(dirname "$0")/../../demo"
}

# The invoice's record in B, renewed: the imported ATSs kept, verify-er valid with both
# stores' roots, NCHAINS chains, the last with NATS time-stamps.
check_renewed() {
	local id=$1 nchains=$2 nats=$3
	expect_status 0 kura evidence "$B" "$id" -o "$T/renewed.ers"
	same_ats "$T/records/$inv/invoice.txt.ers" "$T/renewed.ers"
	kura tsa ca "$B" >"$T/b-roots.pem"
	cat "$T/a-root.pem" "$T/b-roots.pem" >"$T/both.pem"
	expect_status 0 kura verify-er --data "$T/docs/invoice.txt" --er "$T/renewed.ers" --trust "$T/both.pem" --json
	py 'import json,sys
r = json.load(open(sys.argv[1]))
assert r["verdict"] == "valid" and len(r["chains"]) == int(sys.argv[2]), r
assert len(r["chains"][-1]["ats"]) == int(sys.argv[3]) and r["chains"][0]["hash"] == "sha256", r
assert len(r["chains"]) == 1 or r["chains"][-1]["hash"] != "sha256", r' "$OUT" "$nchains" "$nats"
}

case_roundtrip() {
	expect_status 0 kura init "$B"
	before=$(seg_digest "$B")
	# the other store's TSA is not trusted yet: every record is refused, nothing written
	expect_status 1 kura import "$B" "$T/pkg.tar.zst"
	[ "$(grep -c '^REFUSED' "$OUT")" -eq 2 ] || fail "both objects must be refused: $(cat "$OUT")"
	expect_grep "$OUT" "does not verify"
	expect_grep "$ERR" "refused 2"
	[ "$(seg_digest "$B")" = "$before" ] || fail "a refused import wrote to the store"
	expect_status 0 kura trust add "$B" --tsa "$T/a-root.pem"
	expect_status 0 kura import "$B" "$T/pkg.tar.zst"
	cp "$OUT" "$T/imported"
	[ "$(grep -c '^OK' "$T/imported")" -eq 2 ] || fail "both objects must be imported: $(cat "$T/imported")"
	expect_grep "$ERR" "imported 2 object(s), refused 0"
	new_inv=$(grep invoice.txt "$T/imported" | cut -f2)
	new_big=$(grep big.bin "$T/imported" | cut -f2)
	expect_status 0 kura verify "$B"
	[ "$(sha256_of_get "$B" "$new_big")" = "$(sha256_of "$T/docs/big.bin")" ] || fail "imported bytes differ"
	expect_status 0 kura show "$B" "$new_inv" --json
	py 'import json,sys
o = json.load(open(sys.argv[1]))
assert o["name"] == "invoice.txt" and o["meta"] == {"client": "ACME", "import.id": sys.argv[2]}, o' "$OUT" "$inv"
	# nothing waits for a seal: the imported record is the object's evidence, exactly as exported
	expect_status 0 kura seal "$B"
	expect_grep "$ERR" "nothing to seal"
	expect_status 0 kura evidence "$B" "$new_inv" -o "$T/inv.ers"
	cmp "$T/inv.ers" "$T/records/$inv/invoice.txt.ers" || fail "the imported record is not byte-exact"
	# the index rebuilt from the segments alone knows the imported records too
	rm -rf "$B/index"
	expect_status 0 kura reindex "$B"
	expect_status 0 kura verify "$B"
	# and the new store exports them again, for an auditor who trusts both TSAs
	kura tsa ca "$B" >"$T/b-root.pem"
	expect_status 0 kura export "$B" -o "$T/again.tar"
	expect_status 0 kura verify-export "$T/again.tar"

	# five years on, A's TSA certificate (until 2031-06-01) nears its end: B renews the imported chains
	export KURA_NOW=2031-04-01T00:00:00Z
	expect_status 0 kura renew "$B" --plan --json
	py 'import json,sys
plan = json.load(open(sys.argv[1]))
items = plan["chains"] if isinstance(plan, dict) else plan
assert len(items) == 2 and all(i["due_now"] and i["action"] == "time-stamp renewal" for i in items), items' "$OUT"
	expect_status 0 kura renew "$B"
	expect_grep "$ERR" "time-stamp renewal: 2 sha256 chain(s)"
	expect_status 0 kura verify "$B"
	check_renewed "$new_inv" 1 2

	# SHA-256 declared weak: a hash-tree renewal re-reads the imported documents
	expect_status 0 kura policy sunset "$B" sha256 2031-07-01
	expect_status 0 kura renew "$B"
	expect_grep "$ERR" "hash-tree renewal"
	expect_status 0 kura verify "$B"
	check_renewed "$new_inv" 2 1
}

case_vector() {
	# Bouncy Castle's copy of the BSI test data: one chain of two ATSs (exceet TSA 04, 2017),
	# and two chains (SHA-256 then SHA-512). Imported while exceet's certificate was valid.
	export KURA_NOW=2021-09-01T00:00:00Z
	mkdir -p "$T/pairs/one" "$T/pairs/two"
	cp "$BC/1Chain2ATS/BIN.bin" "$T/pairs/one/BIN.bin"
	cp "$BC/1Chain2ATS/BIN_ER.ers" "$T/pairs/one/BIN.bin.ers"
	cp "$BC/2Chains3ATS/BIN.bin" "$T/pairs/two/BIN.bin"
	cp "$BC/2Chains3ATS/BIN_ER.ers" "$T/pairs/two/BIN.bin.ers"
	(cd "$T" && tar -cf pairs.tar pairs)
	openssl x509 -inform der -in "$VEC/bc-java/certs/5f40def90fd8_exceet_trustcenter_CA2.der" -out "$T/exceet.pem"
	expect_status 0 kura init "$T/v"
	expect_status 0 kura trust add "$T/v" --tsa "$T/exceet.pem"
	expect_status 0 kura import "$T/v" "$T/pairs.tar"
	cp "$OUT" "$T/v-imported"
	one=$(grep 'one/BIN.bin' "$T/v-imported" | cut -f2)
	two=$(grep 'two/BIN.bin' "$T/v-imported" | cut -f2)
	[ -n "$one" ] && [ -n "$two" ] || fail "both vectors must be imported: $(cat "$T/v-imported")"
	expect_status 0 kura evidence "$T/v" "$one" -o "$T/one.ers"
	cmp "$T/one.ers" "$BC/1Chain2ATS/BIN_ER.ers" || fail "the vector's record is not kept byte for byte"
	expect_status 0 kura renew "$T/v"
	expect_grep "$ERR" "time-stamp renewal: 1 sha256 chain(s)"
	expect_grep "$ERR" "time-stamp renewal: 1 sha512 chain(s)"
	kura tsa ca "$T/v" >"$T/v-root.pem"
	cat "$T/exceet.pem" "$T/v-root.pem" >"$T/v-trust.pem"
	for id in "$one" "$two"; do
		expect_status 0 kura evidence "$T/v" "$id" -o "$T/$id.ers"
		# years after exceet's certificate ended, the renewed record still verifies
		KURA_NOW=2024-01-01T00:00:00Z expect_status 0 kura verify-er --data "$BC/1Chain2ATS/BIN.bin" \
			--er "$T/$id.ers" --trust "$T/v-trust.pem" --json
		py 'import json,sys
r = json.load(open(sys.argv[1]))
assert r["verdict"] == "valid", r
assert r["chains"][-1]["ats"][-1]["genTime"].startswith("2021-09-01"), r' "$OUT"
	done
	same_ats "$BC/2Chains3ATS/BIN_ER.ers" "$T/$two.ers"
	KURA_NOW=2024-01-01T00:00:00Z expect_status 0 kura verify "$T/v"
}

# A seal is indexed by the range of its subjects' IDs: an object imported between two
# ingests lies inside that range without being sealed, and must keep its own record.
case_inside_a_seal() {
	local C=$T/c
	expect_status 0 kura init "$C"
	expect_status 0 kura trust add "$C" --tsa "$T/a-root.pem"
	printf 'before\n' >"$T/before.txt"
	printf 'after\n' >"$T/after.txt"
	expect_status 0 kura ingest "$C" --no-seal "$T/before.txt"
	expect_status 0 kura import "$C" "$T/pkg.tar.zst"
	local imported
	imported=$(grep invoice.txt "$OUT" | cut -f2)
	expect_status 0 kura ingest "$C" --no-seal "$T/after.txt"
	expect_status 0 kura seal "$C"
	expect_grep "$ERR" "sealed 2 object(s)"
	for pass in index reindexed; do
		expect_status 0 kura evidence "$C" "$imported" -o "$T/inside.ers"
		cmp "$T/inside.ers" "$T/records/$inv/invoice.txt.ers" ||
			fail "$pass: the imported record changed inside a seal's range"
		expect_status 0 kura verify "$C" --json
		py 'import json,sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(r) == 4 and all(x["verdict"] == "valid" for x in r), r' "$OUT"
		expect_status 0 kura renew "$C" --plan --json
		py 'import json,sys
plan = json.load(open(sys.argv[1]))
assert sorted(c["objects"] for c in plan) == [1, 1, 2], plan' "$OUT"
		expect_status 0 kura reindex "$C"
	done
}

case_refusals() {
	expect_status 0 kura init "$T/r"
	expect_status 0 kura trust add "$T/r" --tsa "$T/a-root.pem"
	before=$(seg_digest "$T/r")
	# a member changed inside the tar: that object is refused, the other imported
	tar_flip_member "$T/pkg.tar" "$T/tampered.tar" "docs/big.bin"
	expect_status 1 kura import "$T/r" "$T/tampered.tar"
	expect_grep "$OUT" "REFUSED	$PD/big.bin	$PD/big.bin does not match"
	grep -q "^OK	.*	$PD/invoice.txt$" "$OUT" || fail "the untouched object must be imported: $(cat "$OUT")"
	expect_status 0 kura ls "$T/r"
	[ "$(wc -l <"$OUT")" -eq 1 ] || fail "a refused object was half-imported: $(cat "$OUT")"
	before=$(seg_digest "$T/r")
	# a tag file changed: the whole package is refused
	cp -r "$T/pkg/pkg" "$T/tagged"
	printf 'Contact-Name: mallory\n' >>"$T/tagged/bag-info.txt"
	expect_error 1 kura import "$T/r" "$T/tagged"
	expect_grep "$ERR" "bag-info.txt does not match"
	expect_grep "$ERR" "nothing was imported"
	# metadata the store cannot take: that object is refused, nothing of it written
	cp -r "$T/pkg/pkg" "$T/badmeta"
	py 'import json, sys, hashlib, os
d = sys.argv[1]; p = os.path.join(d, "data", sys.argv[2], "object.json")
o = json.load(open(p)); o["meta"]["bad key"] = "x"; open(p, "w").write(json.dumps(o))
lines = []
for line in open(os.path.join(d, "manifest-sha256.txt")):
    h, f = line.rstrip("\n").split("  ", 1)
    if f.endswith(sys.argv[2] + "/object.json"):
        h = hashlib.sha256(open(p, "rb").read()).hexdigest()
    lines.append(h + "  " + f + "\n")
open(os.path.join(d, "manifest-sha256.txt"), "w").write("".join(lines))
os.remove(os.path.join(d, "tagmanifest-sha256.txt"))' "$T/badmeta" "$inv"
	rm -rf "$T/badmeta/data/$big" "$T/badmeta/$PD/big.bin"
	sed -i "/data\/$big\//d; /\/big.bin$/d" "$T/badmeta/manifest-sha256.txt"
	expect_status 1 kura import "$T/r" "$T/badmeta"
	expect_grep "$OUT" "REFUSED	$PD/invoice.txt	data/$inv/object.json: metadata key 'bad key'"
	[ "$(seg_digest "$T/r")" = "$before" ] || fail "a refused object wrote to the store"
	# foreign pairs: garbage is never adopted; a record of other data only with --accept-invalid
	mkdir -p "$T/foreign"
	printf 'some other content\n' >"$T/foreign/other.bin"
	cp "$BC/1Chain1ATS/BIN_ER.ers" "$T/foreign/other.bin.ers"
	printf 'garbage' >"$T/foreign/junk.txt.ers"
	printf 'junk\n' >"$T/foreign/junk.txt"
	expect_status 1 kura import "$T/r" "$T/foreign"
	expect_grep "$OUT" "REFUSED	junk.txt	junk.txt.ers: not an RFC 4998 Evidence Record"
	expect_grep "$OUT" "REFUSED	other.bin	the record does not verify (invalid"
	[ "$(seg_digest "$T/r")" = "$before" ] || fail "refused pairs wrote to the store"
	expect_status 1 kura import "$T/r" "$T/foreign" --accept-invalid
	expect_grep "$OUT" "REFUSED	junk.txt"
	grep -q "^OK	.*	other.bin	ADOPTED invalid$" "$OUT" || fail "--accept-invalid must adopt and say so: $(cat "$OUT")"
	adopted=$(grep other.bin "$OUT" | cut -f2)
	expect_status 1 kura verify "$T/r" "$adopted"
	expect_grep "$OUT" "invalid"
}

case_unsafe() {
	expect_status 0 kura init "$T/u"
	before=$(seg_digest "$T/u")
	py 'import io, sys, tarfile
out = sys.argv[1]
def tar(name, entries):
    with tarfile.open(out + "/" + name + ".tar", "w") as t:
        for path, kind in entries:
            i = tarfile.TarInfo(path)
            if kind == "file":
                i.size = 6
                t.addfile(i, io.BytesIO(b"pwned\n"))
            else:
                i.type = kind
                i.linkname = "/etc/passwd"
                t.addfile(i)
tar("dotdot", [("pairs/../../escaped.txt", "file")])
tar("absolute", [(out + "/abs-escape.txt", "file")])
tar("symlink", [("pairs/a.txt", tarfile.SYMTYPE), ("pairs/a.txt.ers", "file")])
tar("hardlink", [("pairs/a.txt", tarfile.LNKTYPE)])
tar("device", [("pairs/dev", tarfile.CHRTYPE)])
tar("fifo", [("pairs/fifo", tarfile.FIFOTYPE)])' "$T"
	for name in dotdot absolute symlink hardlink device fifo; do
		expect_error 2 kura import "$T/u" "$T/$name.tar"
		expect_grep "$ERR" "refused"
	done
	[ ! -e "$T/../escaped.txt" ] && [ ! -e "$T/abs-escape.txt" ] || fail "an entry escaped the package"
	expect_error 2 kura import "$T/u" "$T/pkg.tar.zst" --max-size 1000
	expect_grep "$ERR" "larger than the size limit"
	[ "$(seg_digest "$T/u")" = "$before" ] || fail "an unsafe package wrote to the store"
	expect_error 2 kura import "$T/u"
	expect_error 2 kura import "$T/u" "$T/pkg.tar.zst" --max-size lots
	expect_error 2 kura import "$T/u" "$T/no-such.tar"
	mkdir "$T/empty"
	expect_error 1 kura import "$T/u" "$T/empty"
}

case_kill() {
	# kill -9 during import: every object printed OK is there with its record, none is
	# there without one (nothing pending, everything verifies), before and after reindex
	mkdir -p "$T/many"
	py 'import os, sys
for i in range(1500):
    open(os.path.join(sys.argv[1], "d%04d.txt" % i), "w").write("document %d\n" % i)' "$T/many"
	expect_status 0 kura init "$T/k1"
	expect_status 0 kura ingest "$T/k1" "$T/many"
	expect_status 0 kura export "$T/k1" -o "$T/many.tar"
	kura tsa ca "$T/k1" >"$T/k1-root.pem"
	expect_status 0 kura init "$T/k2"
	expect_status 0 kura trust add "$T/k2" --tsa "$T/k1-root.pem"
	local after printed
	for after in 1 400 1200; do # kill once that many lines were printed (or it ended)
		: >"$T/kill.out" # else the last round's lines count before this import has begun
		"$KURA_BIN" import "$T/k2" "$T/many.tar" >"$T/kill.out" 2>/dev/null &
		local pid=$!
		while kill -0 "$pid" 2>/dev/null && [ "$(grep -c . "$T/kill.out" || true)" -lt "$after" ]; do
			sleep 0.02
		done
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		expect_status 0 kura ls "$T/k2" --json
		py 'import json, sys
have = {o["id"] for o in json.load(open(sys.argv[1]))}
for line in open(sys.argv[2]):
    f = line.rstrip("\n").split("\t")
    if len(f) == 3 and f[0] == "OK":
        assert f[1] in have, "printed %s but it is not in the store" % f[1]' "$OUT" "$T/kill.out"
		expect_status 0 kura seal "$T/k2"
		expect_grep "$ERR" "nothing to seal"
		expect_status 0 kura verify "$T/k2"
		printed=$(grep -c '^OK' "$T/kill.out" || true)
		count=$(grep -c . <(kura ls "$T/k2") || true)
		rm -rf "$T/k2/index"
		expect_status 0 kura reindex "$T/k2"
		[ "$(grep -c . <(kura ls "$T/k2") || true)" = "$count" ] || fail "reindex sees other objects than the index"
		expect_status 0 kura seal "$T/k2"
		expect_grep "$ERR" "nothing to seal"
		echo "kill after $after line(s): $printed printed, $count in the store" >&2
	done
	# the segments end inside the last object's imported record: that object was never
	# imported, and an index rebuilt from the segments does not have it
	expect_status 0 kura init "$T/k3"
	expect_status 0 kura trust add "$T/k3" --tsa "$T/a-root.pem"
	expect_status 0 kura import "$T/k3" "$T/pkg.tar"
	last=$(ls "$T/k3/segments" | tail -n 1)
	cut=$(grep -abo KIMP1 "$T/k3/segments/$last" | tail -n 1 | cut -d: -f1)
	truncate -s $((cut + 100)) "$T/k3/segments/$last"
	rm -rf "$T/k3/index"
	expect_status 0 kura reindex "$T/k3"
	expect_status 0 kura ls "$T/k3"
	[ "$(wc -l <"$OUT")" -eq 1 ] || fail "an object whose imported record was cut off is in the index: $(cat "$OUT")"
	expect_status 0 kura seal "$T/k3"
	expect_grep "$ERR" "nothing to seal"
	expect_status 0 kura verify "$T/k3"
}

run_case roundtrip case_roundtrip
run_case vector case_vector
run_case inside_a_seal case_inside_a_seal
run_case refusals case_refusals
run_case unsafe case_unsafe
run_case kill case_kill
finish_cases
