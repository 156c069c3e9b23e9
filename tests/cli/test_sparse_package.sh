#!/usr/bin/env bash
# A package whose tar holds a sparse file (found by tests/fuzz, docs/FUZZING.md): a 10 KB tar
# whose entry unpacks to a terabyte of zeros made `kura verify-export` write that terabyte into
# its temporary folder (and `kura import` up to its 64 GiB limit). kura export never writes a
# sparse entry, so one refuses the package: exit 2 naming the entry, nothing left behind, for
# GNU and POSIX (pax) sparse entries. The commands run under a 100 MiB file size limit, so that
# a kura that unpacks the entry dies (SIGXFSZ) instead of filling the disk.
source "$(dirname "$0")/lib.sh" || exit 1
cd "$T"

mkdir -p pkg/pkg tmp
truncate -s 1T pkg/pkg/zeros.bin
printf 'x' | dd of=pkg/pkg/zeros.bin bs=1 seek=4096 conv=notrunc 2>/dev/null
tar --sparse --format=gnu -C pkg -cf gnu.tar pkg
tar --sparse --format=posix -C pkg -cf pax.tar pkg
rm pkg/pkg/zeros.bin
[ "$(stat -c %s gnu.tar)" -lt 100000 ] || fail "the sparse tar is not small: $(stat -c %s gnu.tar) bytes"
kura init S >/dev/null 2>&1

limited() { (ulimit -f 102400 && TMPDIR=$T/tmp "$@"); }

for tar in gnu.tar pax.tar; do
	expect_error 2 limited kura verify-export "$tar"
	expect_grep "$ERR" "entry 'pkg/zeros.bin' refused: it is a sparse file"
	expect_error 2 limited kura import S "$tar"
	expect_grep "$ERR" "it is a sparse file"
	[ -z "$(ls tmp)" ] || fail "$tar: left behind in TMPDIR: $(ls tmp)"
done
kura ls S --json | grep -q '^\[\]$' || fail "import stored something: $(kura ls S --json | head -c 300)"
