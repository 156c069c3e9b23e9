#!/usr/bin/env bash
# The shipped holidays (policies/jp-holidays.csv, the Cabinet Office's list) against the rules of
# 国民の祝日に関する法律 recomputed in Python (jp_holidays_rules.py: fixed days, Happy Monday, the
# equinox formula, 振替休日, 国民の休日, and the special days of 2019, 2020 and 2021 spelled out).
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
CSV=$HERE/../../policies/jp-holidays.csv
RULES=$HERE/jp_holidays_rules.py

"$PYTHON" "$RULES" "$CSV" >"$OUT" 2>&1 || fail "the shipped holidays differ from the law's rules: $(cat "$OUT")"
grep -q '^486 days compared, 0 differences$' "$OUT" || fail "unexpected count: $(cat "$OUT")"

# The check can fail: a 国民の休日 dropped, a substitute holiday on the wrong day, a year missing.
grep -v '^2019-04-30,' "$CSV" >"$T/a.csv"
! "$PYTHON" "$RULES" "$T/a.csv" >"$OUT" || fail "a missing 2019-04-30 went unnoticed"
grep -q '2019-04-30: the rules give 休日, the file has None' "$OUT" || fail "$(cat "$OUT")"
sed 's/^2024-11-04,/2024-11-05,/' "$CSV" >"$T/b.csv"
! "$PYTHON" "$RULES" "$T/b.csv" >"$OUT" || fail "a moved 振替休日 went unnoticed"
grep -v '^2027-' "$CSV" >"$T/c.csv"
! "$PYTHON" "$RULES" "$T/c.csv" >"$OUT" || fail "a missing year went unnoticed"
