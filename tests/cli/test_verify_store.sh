#!/usr/bin/env bash
# kura verify's store-wide shortcut (proof/verify_store.c: a seal checked once, every object
# against its leaf) must say exactly what the full way says (--deep: each object's record
# assembled and verified on its own): the same JSON lines, the same text lines, the same exit
# status, for the whole store and for named objects. Compared on
#  - a store with three seals, an object not sealed yet, imported records (kind I) from another
#    store, a time-stamp renewal (T) of every chain, a hash-tree renewal (H) to sha512 and a
#    sha512 seal after it, at each stage;
#  - copies of it damaged: a flipped byte in a stored document (the first object of a seal, whose
#    report the others share, and a later one), a flipped byte in a seal record, a seal record
#    whose leaf was changed and its checksum made right again (its tree no longer leads to its
#    token), the store's TSA roots replaced by another store's, an algorithm sunset;
#  - a store of signed documents (valid and invalid signatures) sealed together with plain ones.
# Besides equality, each damage case checks the verdicts it must give, so that the two ways
# cannot agree on a wrong answer unnoticed.
source "$(dirname "$0")/lib.sh" || exit 1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/renewal/servers.sh"
source "$HERE/signatures/pki.sh"
on_exit stop_all_servers
cd "$T"

D0=2026-01-01T00:00:00Z
POLICY=$T/policy.yaml
test_policy "$POLICY" verify-test

# same_both NOW STORE [ID...]: verify --json, and the text output, the shortcut and --deep
# alike (output and exit status); the JSON lines stay in $T/fast.jsonl
same_both()
{
	local now=$1 store=$2 mode s1 s2
	shift 2
	for mode in --json text; do
		local args=("$store" "$@")
		[ "$mode" = text ] || args+=(--json)
		s1=0
		at "$now" verify "${args[@]}" >"$T/fast.out" 2>"$T/fast.err" || s1=$?
		s2=0
		at "$now" verify "${args[@]}" --deep >"$T/deep.out" 2>"$T/deep.err" || s2=$?
		[ "$s1" = "$s2" ] || fail "verify ${args[*]} at $now: exit $s1, with --deep $s2"
		[ "$s1" -le 1 ] || fail "verify ${args[*]} at $now failed: $(cat "$T/fast.err")"
		cmp -s "$T/fast.out" "$T/deep.out" ||
			fail "verify ${args[*]} at $now differs from --deep: $(diff "$T/fast.out" "$T/deep.out" | head -c 1500 || true)"
		cmp -s "$T/fast.err" "$T/deep.err" || fail "verify ${args[*]} at $now: stderr differs from --deep"
		[ "$mode" = text ] || cp "$T/fast.out" "$T/fast.jsonl"
	done
	VERIFY_STATUS=$s1
}

# verdicts: "NAME=VERDICT" per object of $T/fast.jsonl, sorted, names from $T/names (ID NAME)
verdicts()
{
	py '
names = dict(l.split() for l in open(sys.argv[2]))
print(" ".join(sorted("%s=%s" % (names.get(r["id"], r["id"]), r["verdict"]) for r in map(json.loads, open(sys.argv[1])))))
' "$T/fast.jsonl" "$T/names"
}

expect_verdicts()
{
	local got
	got=$(verdicts)
	[ "$got" = "$1" ] || fail "$2: verdicts are '$got', expected '$1'"
}

# ids of the objects ingested by the last command ($OUT: ID<TAB>SHA<TAB>PATH), with names
remember()
{
	awk -F'\t' '{ n = $3; sub(".*/", "", n); print $1, n }' "$OUT" >>"$T/names"
}
id_of() { awk -v n="$1" '$2 == n { print $1 }' "$T/names"; }

# The offset of the zstd data of object $2's blob in store $1 (right before its object record).
blob_data_offset()
{
	at "$NOW" show "$1" "$2" --json | py '
d = json.load(sys.stdin)
seg = "%s/segments/%08d.seg" % (sys.argv[1], d["segment"])
off = d["offset"] - d["stored"] - 28
with open(seg, "rb") as f:
    f.seek(off)
    if f.read(5) != b"KRecB": sys.exit("no blob record right before the object record of " + d["id"])
print(seg, off + 20 + 8 + 2)' "$1"
}

# Rewrites, in store $1, the seal record holding leaf $2 (hex): one byte of that leaf flipped
# and the record's CRC computed again, so that only the tree's check can tell.
forge_leaf()
{
	py '
import glob, struct, zlib
leaf = bytes.fromhex(sys.argv[2])
for f in sorted(glob.glob(sys.argv[1] + "/segments/*.seg")):
    b = bytearray(open(f, "rb").read())
    p = 16
    while p + 20 <= len(b) and b[p:p + 4] == b"KRec":
        n = struct.unpack("<Q", b[p + 8:p + 16])[0]
        body = p + 20
        if chr(b[p + 4]) == "E":
            at = b.find(leaf, body, body + n)
            if at >= 0:
                b[at + 5] ^= 0x01
                b[body + n:body + n + 4] = struct.pack("<I", zlib.crc32(bytes(b[body:body + n])))
                open(f, "wb").write(b)
                sys.exit(0)
        p = body + n + 8
sys.exit("no evidence record holds leaf " + sys.argv[2])' "$1" "$2"
}

# ------------------------------------------------------------------ a store through its life
: >"$T/names"
mkdir docs
for i in 1 2 3 4 5 6 7 8 9; do printf 'document %d of the verify test\n' "$i" >"docs/d$i.txt"; done
random_file docs/big.bin 400000
R=$T/r
X=$T/x
NOW=$D0
expect_status 0 at "$D0" init "$R" --policy "$POLICY" --tsa-days 365
expect_status 0 at "$D0" ingest "$R" docs/d1.txt docs/d2.txt docs/d3.txt docs/big.bin
remember
expect_status 0 at 2026-01-02T00:00:00Z ingest "$R" docs/d4.txt docs/d5.txt
remember
expect_status 0 at 2026-01-02T00:00:00Z ingest "$R" docs/d6.txt
remember
expect_status 0 at 2026-01-03T00:00:00Z ingest "$R" --no-seal docs/d7.txt
remember
# another store's objects, imported with their records (kind I)
expect_status 0 at "$D0" init "$X" --policy "$POLICY" --tsa-days 365
mkdir xdocs
printf 'imported one\n' >xdocs/x1.txt
printf 'imported two\n' >xdocs/x2.txt
expect_status 0 at "$D0" ingest "$X" xdocs
expect_status 0 at 2026-01-04T00:00:00Z export "$X" -o "$T/x.tar"
at "$D0" tsa ca "$X" >"$T/x-root.pem"
expect_status 0 at 2026-01-04T00:00:00Z trust add "$R" --tsa "$T/x-root.pem"
expect_status 0 at 2026-01-04T00:00:00Z import "$R" "$T/x.tar"
awk -F'\t' '$1 == "OK" { n = $3; sub(".*/", "", n); print $2, n }' "$OUT" >>"$T/names"
[ "$(id_of x1.txt)" ] && [ "$(id_of x2.txt)" ] || fail "import output: $(cat "$OUT")"

NOW=2026-06-01T00:00:00Z
same_both "$NOW" "$R"
[ "$VERIFY_STATUS" = 1 ] || fail "d7 is not sealed: exit 1 expected"
expect_verdicts "big.bin=valid d1.txt=valid d2.txt=valid d3.txt=valid d4.txt=valid d5.txt=valid d6.txt=valid d7.txt=indeterminate x1.txt=valid x2.txt=valid" "sealed and imported"
same_both "$NOW" "$R" "$(id_of d2.txt)" "$(id_of x1.txt)" "$(id_of d7.txt)" "$(id_of d1.txt)"
expect_status 0 at "$NOW" seal "$R"

# time-stamp renewal of every chain (the TSA certificates end 2027-01-01), imported ones too
NOW=2026-12-15T00:00:00Z
expect_status 0 at "$NOW" renew "$R" --json
py 'd = json.load(open(sys.argv[1])); sys.exit(0 if d["chains_renewed"] >= 5 else "chains renewed: %r" % d)' "$OUT"
expect_status 0 at 2026-12-16T00:00:00Z ingest "$R" docs/d8.txt
remember
NOW=2026-12-20T00:00:00Z
same_both "$NOW" "$R"
[ "$VERIFY_STATUS" = 0 ] || fail "after the time-stamp renewal every object is valid: $(cat "$T/fast.err")"
py '
for r in map(json.loads, open(sys.argv[1])):
    if r["id"] == sys.argv[2] and len(r["chains"][0]["ats"]) != 2:
        sys.exit("d2 has no renewed chain: %r" % r)' "$T/fast.jsonl" "$(id_of d2.txt)"
cp -a "$R" "$T/r-renewed"

# hash-tree renewal to sha512, then a sha512 seal
expect_status 0 at 2027-01-10T00:00:00Z policy sunset "$R" sha256 2027-03-01
expect_status 0 at 2027-02-15T00:00:00Z renew "$R" --json
py 'd = json.load(open(sys.argv[1])); sys.exit(0 if d["objects_rehashed"] == 11 else "rehashed: %r" % d)' "$OUT"
expect_status 0 at 2027-02-16T00:00:00Z ingest "$R" docs/d9.txt
remember
NOW=2027-02-20T00:00:00Z
same_both "$NOW" "$R"
[ "$VERIFY_STATUS" = 0 ] || fail "after the hash-tree renewal every object is valid: $(cat "$T/fast.err")"
expect_verdicts "big.bin=valid d1.txt=valid d2.txt=valid d3.txt=valid d4.txt=valid d5.txt=valid d6.txt=valid d7.txt=valid d8.txt=valid d9.txt=valid x1.txt=valid x2.txt=valid" "after the hash-tree renewal"

# ------------------------------------------------------------------ damage, on copies of the renewed store
NOW=2026-12-20T00:00:00Z
ALL_VALID="big.bin=valid d1.txt=valid d2.txt=valid d3.txt=valid d4.txt=valid d5.txt=valid d6.txt=valid d7.txt=valid d8.txt=valid x1.txt=valid x2.txt=valid"

# damaged store $1 (copied from the renewed one by the caller): same both ways, verdicts $2
damaged()
{
	same_both "$NOW" "$1"
	[ "$VERIFY_STATUS" = 1 ] || fail "$3: exit 1 expected"
	expect_verdicts "$2" "$3"
}

case_flipped_document()
{
	local name D seg off
	for name in d1.txt d2.txt big.bin; do # d1: the seal's first object, whose report the others share
		D=$T/flip-$name
		cp -a "$T/r-renewed" "$D"
		read -r seg off < <(blob_data_offset "$D" "$(id_of "$name")")
		flip_byte "$seg" "$off"
		damaged "$D" "${ALL_VALID/$name=valid/$name=invalid}" "a flipped byte in $name"
		grep -q "$(id_of "$name").*damaged" "$T/fast.jsonl" || fail "the report of $name does not say it is damaged"
	done
}

case_flipped_seal()
{
	local D=$T/flip-seal seg off
	cp -a "$T/r-renewed" "$D"
	# the first seal's record: the first 'E' record of the segment; a byte in its leaves
	read -r seg off < <(py '
import struct
f = sys.argv[1] + "/segments/00000001.seg"
b = open(f, "rb").read()
p = 16
while b[p + 4:p + 5] != b"E":
    p += 20 + struct.unpack("<Q", b[p + 8:p + 16])[0] + 8
print(f, p + 20 + 60)' "$D")
	flip_byte "$seg" "$off"
	damaged "$D" "big.bin=invalid d1.txt=invalid d2.txt=invalid d3.txt=invalid d4.txt=valid d5.txt=valid d6.txt=valid d7.txt=valid d8.txt=valid x1.txt=valid x2.txt=valid" "a flipped byte in a seal record"
}

case_forged_leaf()
{
	local D=$T/forged
	cp -a "$T/r-renewed" "$D"
	forge_leaf "$D" "$(sha256_of docs/d5.txt)"
	damaged "$D" "big.bin=valid d1.txt=valid d2.txt=valid d3.txt=valid d4.txt=invalid d5.txt=invalid d6.txt=valid d7.txt=valid d8.txt=valid x1.txt=valid x2.txt=valid" "a seal record's leaf changed, its CRC made right"
}

case_wrong_anchor()
{
	local D=$T/anchor
	cp -a "$T/r-renewed" "$D"
	cp "$X/tsa/anchors.pem" "$D/tsa/anchors.pem" # the other store's roots instead of its own
	damaged "$D" "big.bin=invalid d1.txt=invalid d2.txt=invalid d3.txt=invalid d4.txt=invalid d5.txt=invalid d6.txt=invalid d7.txt=invalid d8.txt=invalid x1.txt=invalid x2.txt=invalid" "another store's TSA roots"
}

case_sunset()
{
	local D=$T/sunset
	cp -a "$T/r-renewed" "$D"
	expect_status 0 at "$NOW" policy sunset "$D" ec-p256 2026-12-18
	damaged "$D" "big.bin=invalid d1.txt=invalid d2.txt=invalid d3.txt=invalid d4.txt=invalid d5.txt=invalid d6.txt=invalid d7.txt=invalid d8.txt=invalid x1.txt=invalid x2.txt=invalid" "ec-p256 sunset"
	grep -q "ec-p256 no longer sufficed" "$T/fast.jsonl" || fail "the sunset is not the reason"
}

run_case flipped_document case_flipped_document
run_case flipped_seal case_flipped_seal
run_case forged_leaf case_forged_leaf
run_case wrong_anchor case_wrong_anchor
run_case sunset case_sunset

# ------------------------------------------------------------------ signed documents sealed with plain ones
case_signed()
{
	unset KURA_NOW # the test PKI's certificates start now
	pki_init "$T/pki" "$(closed_port)" "$(closed_port)"
	pki_signer alice
	pki_signer bob
	pki_revoke bob
	start_ocsp
	start_crl_server
	mkdir sdocs
	printf 'signed report\n' >sdocs/report.txt
	printf 'signed contract\n' >sdocs/contract.txt
	printf 'plain one\n' >sdocs/plain1.txt
	printf 'plain two\n' >sdocs/plain2.txt
	pki_sign alice sdocs/report.txt sdocs/report.p7s
	pki_sign bob sdocs/contract.txt sdocs/contract.p7s
	local G=$T/g
	expect_status 0 kura init "$G"
	expect_status 0 kura trust add "$G" --signers "$T/pki/root.pem"
	expect_status 0 kura ingest "$G" --no-seal sdocs/plain1.txt
	remember
	expect_status 0 kura ingest "$G" --no-seal --signature sdocs/report.p7s sdocs/report.txt
	remember
	expect_status 0 kura ingest "$G" --no-seal --accept-invalid --signature sdocs/contract.p7s sdocs/contract.txt
	remember
	expect_status 0 kura ingest "$G" --no-seal sdocs/plain2.txt
	remember
	expect_status 0 kura seal "$G"
	NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	same_both "$NOW" "$G"
	[ "$VERIFY_STATUS" = 1 ] || fail "the contract's signature is invalid: exit 1 expected"
	expect_verdicts "contract.txt=invalid plain1.txt=valid plain2.txt=valid report.txt=valid" "signed documents"
	py '
sig = {r["id"]: r.get("signature") for r in map(json.loads, open(sys.argv[1]))}
if sorted(map(str, sig.values())) != ["None", "None", "invalid", "valid"]:
    sys.exit("signatures: %r" % sig)' "$T/fast.jsonl"
	# a plain document of the same seal damaged
	local seg off
	read -r seg off < <(blob_data_offset "$G" "$(id_of plain2.txt)")
	flip_byte "$seg" "$off"
	same_both "$NOW" "$G"
	expect_verdicts "contract.txt=invalid plain1.txt=valid plain2.txt=invalid report.txt=valid" "signed documents, plain2 damaged"
}
run_case signed case_signed

finish_cases
