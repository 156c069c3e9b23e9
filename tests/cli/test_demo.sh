#!/usr/bin/env bash
# `make demo` is one of the README's two commands: it must keep working. Runs the
# demo script in a scratch folder with the kura under test.
source "$(dirname "$0")/lib.sh"
demo=$(cd "$(dirname "$0")/../../demo" && pwd)/run.sh
cd "$T"
expect_status 0 bash "$demo" "$KURA_BIN"
expect_grep "$OUT" "Verification: OK"
expect_grep "$OUT" "4 of 4 object(s) verified valid" # three documents and the invoice's corrected version
expect_grep "$OUT" "typed query: 1 hit(s)"          # the invoice's current version, by date and amount
expect_grep "$OUT" "0 problem(s)"                    # the audit trail with the correction in it
grep -q "ATS 3" "$OUT" || fail "ten years later, the invoice's record should hold two renewals"
expect_grep "$OUT" "every file as exported"
expect_grep "$OUT" "is the first token's imprint"
[ "$(grep -c "Verification: OK" "$OUT")" -ge 4 ] || fail "the demo should verify every token of the exported invoice"
[ -s demo-export.tar.zst ] || fail "the demo should leave its export package"
