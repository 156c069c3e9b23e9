#!/usr/bin/env bash
# Fault injection and crash points over compaction (archive/compact.c), driven by the
# test-only kura_compact_tool: an I/O error, a full disk, a short write or a kill at each
# matching file-system call of segments and index alike (tests/fault/sweep.sh says what each
# point checks: the status and its message, every acknowledged live object still readable
# byte-exact, the next ingest and the compaction again work, verify valid, scrub clean).
# Short form (ctest): FAULT_SAMPLE points of each sweep (default 6; under ASan 3), but every
# kill point and every failing rename always; `make fault-test` runs every point.
source "$(dirname "$0")/../cli/lib.sh" || exit 1
if [ "$KURA_SANITIZED" = 1 ]; then
	FAULT_SAMPLE=${FAULT_SAMPLE:-3}
else
	FAULT_SAMPLE=${FAULT_SAMPLE:-6}
fi
source "$(dirname "$0")/sweep.sh"
start=$SECONDS
mkdir -p "$BASE"
prep_base compact
sweep compact fail open,write,sync,rename,truncate EIO
sweep compact fail write,truncate ENOSPC
sweep compact fail write short
FAULT_STICKY=1 sweep compact fail write,truncate,sync ENOSPC
# always every point here: a kill before each durable step, and each rename failing (the
# segment's swap is one of them)
FAULT_SAMPLE=0 sweep compact crash sync,rename EIO
FAULT_SAMPLE=0 sweep compact fail rename EIO
sweep_verdict
echo "[$TEST_NAME] $((SECONDS - start)) s"
