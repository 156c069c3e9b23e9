#!/usr/bin/env bash
# A full disk (an 8 MiB tmpfs; needs root): the ingest that hits ENOSPC exits 3 with a
# message; every ID printed before is retrievable, scrub is clean, the store still opens
# and lists without removing anything; once there is room again, ingest works.
# Skips (exit 0) where tmpfs cannot be mounted.
source "$(dirname "$0")/lib.sh" || exit 1
cd "$T"

mkdir mnt
if ! mount -t tmpfs -o size=8m tmpfs mnt 2>/dev/null; then
	echo "SKIP: cannot mount tmpfs"
	exit 0
fi
on_exit "umount '$T/mnt' 2>/dev/null || umount -l '$T/mnt'"

expect_status 0 kura init mnt/S --segment-size 1048576
# 1 MiB of the disk is taken by a filler file, removed at the end to make room again
head -c 1048576 /dev/zero >mnt/filler

: >printed.lines
hit=0
for i in $(seq 1 40); do
	mkdir "b$i"
	random_file "b$i/a" 600000
	random_file "b$i/b" 500000
	st=0
	kura ingest mnt/S "b$i" >"out.$i" 2>"err.$i" || st=$?
	cat "out.$i" >>printed.lines
	if [ "$st" -eq 0 ]; then
		[ "$(wc -l <"out.$i")" -eq 2 ] || fail "ingest $i exited 0 but printed $(wc -l <"out.$i") lines"
		continue
	fi
	[ "$st" -eq 3 ] || fail "the ingest that hit a full disk exited $st, expected 3: $(cat "err.$i")"
	head -n 1 "err.$i" | grep -q '^kura: ' || fail "full disk: the message must start with kura: ($(cat "err.$i"))"
	grep -qiE 'space|full' "err.$i" || fail "full disk: the message does not say the disk is full: $(cat "err.$i")"
	hit=$i
	break
done
[ "$hit" -gt 0 ] || fail "40 ingests of 1 MiB never filled an 8 MiB tmpfs"
[ "$(wc -l <printed.lines)" -ge 2 ] || fail "test bug: the disk was full before anything was ingested"
echo "[$TEST_NAME] ingest $hit hit the full disk after $(wc -l <printed.lines) objects"

# Every printed ID reads back with its printed SHA-256, and ls lists exactly those.
check_printed()
{
	local id sha path
	while IFS=$'\t' read -r -u 3 id sha path; do
		[ "$(sha256_of_get mnt/S "$id")" = "$sha" ] || fail "$1: $id ($path) does not read back with its SHA-256"
		[ "$sha" = "$(sha256_of "$path")" ] || fail "$1: printed SHA-256 of $path is wrong"
	done 3<printed.lines
	expect_status 0 kura ls mnt/S
	[ "$(cut -f1 "$OUT" | sort)" = "$(cut -f1 printed.lines | sort)" ] ||
		fail "$1: ls does not list exactly the printed objects: $(cut -f1 "$OUT" | sort | tr '\n' ' ') vs $(cut -f1 printed.lines | sort | tr '\n' ' ')"
}

check_printed "after ENOSPC"
expect_status 0 kura scrub mnt/S
[ ! -s "$OUT" ] || fail "scrub after ENOSPC reports: $(cat "$OUT")"
expect_status 0 kura ls mnt/S --json
py 'json.load(open(sys.argv[1]))' "$OUT" || fail "ls --json on the full disk is not JSON"
expect_status 0 kura show mnt/S "$(head -n 1 printed.lines | cut -f1)"

# get -o onto a disk with no byte left: exit 3 and no file, partial or not
head -c 16M /dev/zero >mnt/fill2 2>/dev/null || true
expect_error 3 kura get mnt/S "$(head -n 1 printed.lines | cut -f1)" -o mnt/out.bin
[ ! -e mnt/out.bin ] && [ ! -e mnt/out.bin.kura-partial ] || fail "get -o onto a full disk left a file: $(ls mnt)"
expect_status 0 kura ls mnt/S # reading needs no room
[ "$(wc -l <"$OUT")" -eq "$(wc -l <printed.lines)" ] || fail "ls on a disk with no byte left lists other objects"
rm mnt/fill2

# still full: another ingest either fails the same way or fits; the store stays sound
random_file more.bin 900000
st=0
kura ingest mnt/S more.bin >"$OUT" 2>"$ERR" || st=$?
case $st in
0) cat "$OUT" >>printed.lines ;;
3) [ ! -s "$OUT" ] || fail "a failed ingest of one file printed: $(cat "$OUT")" ;;
*) fail "ingest on a full disk exited $st: $(cat "$ERR")" ;;
esac
check_printed "after a second try on the full disk"
expect_status 0 kura scrub mnt/S

# room again: ingest works, nothing was lost
rm mnt/filler
random_file last.bin 300000
expect_status 0 kura ingest mnt/S last.bin
cat "$OUT" >>printed.lines
check_printed "after freeing space"
expect_status 0 kura scrub mnt/S
[ ! -s "$OUT" ] || fail "final scrub reports: $(cat "$OUT")"
