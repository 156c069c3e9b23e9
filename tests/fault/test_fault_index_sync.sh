#!/usr/bin/env bash
# Issue 12, defect 4: an EIO on the index's log sync (RocksDB's WAL fdatasync) after the segment
# was synced. The store used to cut the synced segment back while the index's log kept the
# batch, so every later write was refused ("segment ... is shorter than its committed end")
# until a person ran reindex. Every sync of the index during an ingest and a seal is failed in
# turn (tests/fault/sweep.sh checks each point: exit 3 naming the error, acknowledged objects
# byte-exact, the next ingest, the operation again, verify and scrub all work).
source "$(dirname "$0")/../cli/lib.sh" || exit 1
source "$(dirname "$0")/sweep.sh"
FAULT_SUB=index/
for op in ingest seal; do
	prep_base "$op"
	sweep "$op" fail sync EIO
done
sweep_verdict
