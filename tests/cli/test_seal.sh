#!/usr/bin/env bash
# Sealing and store-side verification: ingest seals with one time-stamp, --no-seal
# leaves objects pending, verify recomputes from the stored bytes, a damaged
# object or a TSA certificate expired at the checked time is invalid, reindex
# keeps the seals, and `kura evidence` refuses what it cannot give.
source "$(dirname "$0")/lib.sh"

S=$T/store
mkdir -p "$T/docs"
for i in 1 2 3 4 5; do printf 'ledger line %d\n' "$i" >"$T/docs/l$i.csv"; done
random_file "$T/docs/big.bin" 300000

export KURA_NOW=2026-06-01T00:00:00Z
expect_status 0 kura init "$S"
expect_grep "$ERR" "embedded TSA"
expect_status 0 kura ingest "$S" "$T/docs"
cp "$OUT" "$T/ingested"
expect_grep "$ERR" "sealed 6 object(s)"
ids=$(cut -f1 "$T/ingested")
first=$(grep l1.csv "$T/ingested" | cut -f1)
big=$(grep big.bin "$T/ingested" | cut -f1)

# one time-stamp for the whole run: every record carries the same token
for id in $ids; do kura evidence "$S" "$id" -o "$T/$id.ers"; done
python3 "$(dirname "$0")/../../demo/ers_extract.py" "$T/$first.ers" "$T/docs/l1.csv" "$T/tok-a" >/dev/null 2>&1
python3 "$(dirname "$0")/../../demo/ers_extract.py" "$T/$big.ers" "$T/docs/big.bin" "$T/tok-b" >/dev/null 2>&1
cmp "$T/tok-a/token-1-1.der" "$T/tok-b/token-1-1.der" || fail "two objects of one seal carry different tokens"

expect_status 0 kura verify "$S" --json
[ "$(wc -l <"$OUT")" -eq 6 ] || fail "verify --json must print one line per object"
py 'import json,sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    for k in ("id", "verdict", "integrity", "trust", "chains"):
        assert k in r, k
    assert r["verdict"] == "valid", r
    ats = r["chains"][0]["ats"][0]
    assert r["chains"][0]["hash"] == "sha256"
    assert ats["genTime"] == "2026-06-01T00:00:00Z", ats
    assert ats["covers"] == "data" and ats["trust"] == "valid", ats' "$OUT"

# pending objects: indeterminate until sealed
printf 'late entry\n' >"$T/late.txt"
expect_status 0 kura ingest --no-seal "$S" "$T/late.txt"
late=$(cut -f1 "$OUT")
expect_error 1 kura evidence "$S" "$late" -o "$T/late.ers"
expect_grep "$ERR" "not sealed"
[ ! -e "$T/late.ers" ] || fail "evidence of an unsealed object wrote a file"
expect_status 1 kura verify "$S" "$late"
expect_grep "$OUT" "indeterminate"
expect_status 0 kura verify "$S" "$first" "$big"

# reindex rebuilds seals and pending state from the segments alone
rm -rf "$S/index"
expect_status 0 kura reindex "$S"
expect_status 1 kura verify "$S" "$late"
expect_status 0 kura seal "$S"
expect_grep "$ERR" "sealed 1 object(s)"
expect_status 0 kura seal "$S"
expect_grep "$ERR" "nothing to seal"
expect_status 0 kura verify "$S"

# bad requests
expect_error 1 kura evidence "$S" 7ZZZZZZZZZZZZZZZZZZZZZZZZZ -o "$T/x.ers"
expect_error 2 kura evidence "$S" not-an-id -o "$T/x.ers"
expect_error 2 kura evidence "$S" "$first"

# ten years on, the embedded TSA's 5-year certificate has expired: without
# renewal the evidence is no longer valid "now", and verify says why
KURA_NOW=2036-06-01T00:00:00Z expect_status 1 kura verify "$S" "$first" --json
py 'import json,sys
r = json.loads(open(sys.argv[1]).readline())
assert r["verdict"] == "invalid" and r["trust"] == "invalid" and r["integrity"] == "valid", r
assert "expired" in r["reason"], r' "$OUT"
# but the exported record is still valid at a time inside the certificate's life
kura tsa ca "$S" >"$T/ca.pem"
expect_status 0 kura verify-er --data "$T/docs/l1.csv" --er "$T/$first.ers" --trust "$T/ca.pem" --at 2030-01-01T00:00:00Z

# a damaged stored object is invalid (its hash is recomputed from the bytes)
size=$(stat -c %s "$S/segments/00000001.seg")
python3 - "$S/segments/00000001.seg" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
# big.bin's blob is by far the largest record: flip a byte in its middle
b[len(b) // 3] ^= 0x20
open(p, "wb").write(b)
PY
expect_status 1 kura verify "$S" "$big" --json
py 'import json,sys
r = json.loads(open(sys.argv[1]).readline())
assert r["verdict"] == "invalid" and r["integrity"] == "invalid", r' "$OUT"
[ "$(stat -c %s "$S/segments/00000001.seg")" -eq "$size" ] || fail "verify changed the segment"
