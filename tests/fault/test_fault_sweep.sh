#!/usr/bin/env bash
# Fault injection and crash points over ingest, seal, time-stamp renewal, hash-tree renewal,
# embedded-TSA rollover, import and reindex (tests/fault/sweep.sh says what each point checks).
# Short form (ctest): FAULT_SAMPLE points of each sweep (default 4; under ASan 2, as each run
# is slower there), spread evenly from the first to the last. Long form: `make fault-test`
# (FAULT_SAMPLE=0: every point).
source "$(dirname "$0")/../cli/lib.sh" || exit 1
if [ "$KURA_SANITIZED" = 1 ]; then
	FAULT_SAMPLE=${FAULT_SAMPLE:-2}
else
	FAULT_SAMPLE=${FAULT_SAMPLE:-4}
fi
source "$(dirname "$0")/sweep.sh"
start=$SECONDS
sweep_all
echo "[$TEST_NAME] $((SECONDS - start)) s"
