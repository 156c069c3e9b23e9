#!/usr/bin/env bash
# Fault injection and crash points over ingest, seal, time-stamp renewal, hash-tree renewal,
# embedded-TSA rollover, import and reindex (tests/fault/sweep.sh says what each point checks).
# Short form (ctest): FAULT_SAMPLE points (default 5) of each sweep, spread evenly from the
# first to the last. Long form: `make fault-test` (FAULT_SAMPLE=0: every point).
# Plain build only (sweep.sh says why).
source "$(dirname "$0")/../cli/lib.sh" || exit 1
if [ "$KURA_SANITIZED" = 1 ]; then
	echo "SKIP [$TEST_NAME]: the sweeps run in the plain build (tests/fault/sweep.sh says why)"
	exit 0
fi
FAULT_SAMPLE=${FAULT_SAMPLE:-5}
source "$(dirname "$0")/sweep.sh"
start=$SECONDS
sweep_all
echo "[$TEST_NAME] $((SECONDS - start)) s"
