#!/usr/bin/env bash
# A small volume (issue 12, defect 7): on an ext4 file system with about 50 MB free, init,
# ingest and seal of a 4-byte document succeed, and so do a few more ingests. RocksDB used
# to reserve ~70 MB for its log before writing a byte: "No space left on device".
# Needs root and a loop device (skips, exit 0, without them).
source "$(dirname "$0")/lib.sh" || exit 1
cd "$T"

if ! small_volume mnt 64; then
	echo "SKIP: cannot mount a small ext4 volume (needs root and a loop device)"
	exit 0
fi
free_kib=$(df -k --output=avail mnt | tail -n 1)
[ "$free_kib" -ge 40000 ] && [ "$free_kib" -le 62000 ] || fail "test bug: the volume has $free_kib KiB free, not ~50 MB"

printf 'abcd' >doc.txt
expect_status 0 kura init mnt/S
expect_status 0 kura ingest mnt/S doc.txt
id=$(cut -f1 "$OUT")
expect_grep "$ERR" "sealed 1 object"
expect_status 0 kura verify mnt/S "$id"
for i in 1 2 3; do
	printf 'more %d' "$i" >"m$i.txt"
	expect_status 0 kura ingest mnt/S "m$i.txt"
done
expect_status 0 kura verify mnt/S
used_kib=$(du -sk mnt/S | cut -f1)
[ "$used_kib" -lt 2048 ] || fail "a store of 4 tiny documents takes $used_kib KiB on disk"
