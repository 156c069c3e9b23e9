#!/usr/bin/env bash
# A chain due for a time-stamp renewal (its TSA certificate nears its end) whose hash has ALSO
# stopped sufficing by the time `kura renew` runs: the run must renew it by hash tree (which
# time-stamps afresh too), not by time-stamp, after which it would stay overdue although
# `renew` exited 0 (the kill loop's "renewals overdue at the end").
# Store made 2026-01-01: 40-day TSA certificate (due 2026-01-21 with the 20-day margin),
# SHA-256 ending 2026-02-10 (due 2026-01-22).
#  - only the certificate due (2026-01-21 12:00): a time-stamp renewal, as ever;
#  - both due (2026-01-23), by `renew` and by `daemon --once`: the plan says hash-tree renewal,
#    the run moves the objects to SHA-512, and the plan after it has nothing due now;
#    `verify` exits 0.
source "$(dirname "$0")/lib.sh" || exit 1
cd "$T"

cat >policy.yaml <<EOP
kura-policy: 1
name: both-due
title: both due
margins: {certificate-days: 20, algorithm-days: 20}
algorithms:
  sha256:   {until: 2026-02-10, source: "test: ends after 40 days"}
  sha512:   {until: null, source: "test: no end"}
  ec-p256:  {until: null, source: "test: no end"}
EOP
mkdir docs
printf 'one\n' >docs/1.txt
printf 'two\n' >docs/2.txt

# new_store DIR: the store, sealed 2026-01-01
new_store()
{
	expect_status 0 at 2026-01-01T00:00:00Z init "$1" --policy policy.yaml --tsa-days 40 --tsa-root-days 70
	expect_status 0 at 2026-01-01T00:00:00Z ingest "$1" docs
}

# plan_is STORE NOW WANT: `renew --plan --json` at NOW, summed up as "ACTION/due_now/HASH" per chain
plan_is()
{
	expect_status 0 at "$2" renew "$1" --plan --json
	local got
	got=$(py 'print(" ".join("%s/%s/%s" % (i["action"], i["due_now"], i["hash"]) for i in json.load(open(sys.argv[1]))))' "$OUT")
	[ "$got" = "$3" ] || fail "plan of $1 at $2: got '$got', want '$3': $(cat "$OUT")"
}

# only the certificate due: a time-stamp renewal, the hash-tree renewal still ahead
new_store A
plan_is A 2026-01-21T12:00:00Z "time-stamp renewal/True/sha256"
expect_status 0 at 2026-01-21T12:00:00Z renew A
grep -q '^renewed 1 chain(s) by time-stamp, 0 object(s) by hash tree' "$OUT" || fail "renew A: $(cat "$OUT")"
plan_is A 2026-01-21T12:00:00Z "hash-tree renewal/False/sha256"

# both due: one run renews by hash tree and leaves nothing due
new_store B
plan_is B 2026-01-23T00:00:00Z "hash-tree renewal/True/sha256"
expect_status 0 at 2026-01-23T00:00:00Z renew B
grep -q '^renewed 0 chain(s) by time-stamp, 2 object(s) by hash tree to sha512' "$OUT" || fail "renew B: $(cat "$OUT")"
plan_is B 2026-01-23T00:00:00Z "time-stamp renewal/False/sha512"
expect_status 0 at 2026-01-23T00:00:00Z verify B

# the same by the scheduler
new_store C
expect_status 0 at 2026-01-23T00:00:00Z daemon C --once
plan_is C 2026-01-23T00:00:00Z "time-stamp renewal/False/sha512"
expect_status 0 at 2026-01-23T00:00:00Z verify C
