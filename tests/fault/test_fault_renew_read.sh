#!/usr/bin/env bash
# A renewal whose evidence cannot be read because the disk fails (EIO opening a segment) is an
# I/O error (exit 3, "Input/output error"), not evidence that "no longer verifies" (it was
# reported NOT RENEWED with exit 1, as if the chain were broken). Every open of a segment file
# during a time-stamp renewal and a hash-tree renewal fails in turn; tests/fault/sweep.sh
# checks each point (and that the next renewal works).
source "$(dirname "$0")/../cli/lib.sh" || exit 1
source "$(dirname "$0")/sweep.sh"
FAULT_SUB=segments/
for op in renew-ts renew-hashtree; do
	prep_base "$op"
	sweep "$op" fail open EIO
done
sweep_verdict
