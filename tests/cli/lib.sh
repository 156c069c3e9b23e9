# Shared helpers for the CLI integration tests (tests/cli/test_*.sh), sourced by each.
#
# ctest runs every script with KURA_BIN (the kura binary) and KURA_SANITIZED (1 under
# ASan/UBSan, else 0). Run by hand: KURA_BIN=build/kura bash tests/cli/test_x.sh
# (KURA_KEEP_TMP=1 keeps the temporary folder of a failed run for a look).
#
# What a script gets:
#   $T                  a fresh temporary folder, removed on exit (trap)
#   kura ARGS...        runs $KURA_BIN
#   fail MSG            prints "FAIL [test]: MSG" to stderr and exits 1
#   expect_status N CMD...   runs CMD, stdout to $OUT, stderr to $ERR (files);
#                       fails unless the exit status is exactly N
#   expect_error N CMD...    expect_status N, plus: stdout empty, stderr starts with "kura:"
#   on_exit 'CMD'       runs CMD at exit (before $T is removed), e.g. umount
#   run_case NAME FN    runs function FN in a subshell; a failure is remembered and the
#                       script goes on; finish_cases (at the end) fails if any case failed
set -euo pipefail
export LC_ALL=C
unset KURA_NOW

TEST_NAME=$(basename "$0" .sh)
: "${KURA_BIN:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/kura}"
KURA_SANITIZED=${KURA_SANITIZED:-0}
case $KURA_SANITIZED in 1 | ON | on | TRUE | true) KURA_SANITIZED=1 ;; *) KURA_SANITIZED=0 ;; esac

fail()
{
	echo "FAIL [$TEST_NAME]: $*" >&2
	exit 1
}

case $KURA_BIN in /*) ;; *) KURA_BIN=$(cd "$(dirname "$KURA_BIN")" && pwd)/$(basename "$KURA_BIN") ;; esac
[ -x "$KURA_BIN" ] || fail "KURA_BIN=$KURA_BIN is not an executable (build with make build)"
command -v python3 >/dev/null || fail "python3 is needed by the CLI tests"
# the interpreter itself, not a version manager's shim (pyenv's costs ~0.1-0.5 s a call)
PYTHON=$(python3 -c 'import sys; print(sys.executable)') || fail "python3 does not run"

T=$(mktemp -d "${TMPDIR:-/tmp}/kura-$TEST_NAME.XXXXXX")
OUT=$T/.last.out
ERR=$T/.last.err
_EXIT_HOOKS=()

on_exit()
{
	_EXIT_HOOKS+=("$1")
}

_cleanup()
{
	local rc=$?
	local h
	set +e
	for h in "${_EXIT_HOOKS[@]+"${_EXIT_HOOKS[@]}"}"; do
		eval "$h"
	done
	if [ "$rc" -ne 0 ] && [ -n "${KURA_KEEP_TMP:-}" ]; then
		echo "[$TEST_NAME] kept $T" >&2
	else
		rm -rf "$T"
	fi
	if [ "$rc" -eq 0 ]; then
		echo "PASS [$TEST_NAME]"
	fi
	exit "$rc"
}
trap _cleanup EXIT
_err_trap()
{
	echo "FAIL [$TEST_NAME]: command failed with status $1 at line $2: $3" >&2
}
set -E
trap '_err_trap $? $LINENO "$BASH_COMMAND"' ERR

_FAILED_CASES=()

run_case()
{
	local name=$1 rc
	shift
	set +e
	trap - ERR
	(
		set -e
		trap '_err_trap $? $LINENO "$BASH_COMMAND"' ERR
		"$@"
	)
	rc=$?
	trap '_err_trap $? $LINENO "$BASH_COMMAND"' ERR
	set -e
	if [ "$rc" -ne 0 ]; then
		_FAILED_CASES+=("$name")
	fi
	return 0
}

finish_cases()
{
	if [ "${#_FAILED_CASES[@]}" -ne 0 ]; then
		fail "$(printf '%s; ' "${_FAILED_CASES[@]}")failed (see the messages above)"
	fi
}

kura()
{
	"$KURA_BIN" "$@"
}

# What the last expect_* saw, for failure messages.
_context()
{
	echo "  stdout: $(head -c 600 "$OUT" | tr '\0' '?' | head -n 8)"
	echo "  stderr: $(head -c 1200 "$ERR" | head -n 12)"
}

expect_status()
{
	local want=$1
	shift
	local got=0
	"$@" >"$OUT" 2>"$ERR" || got=$?
	if [ "$got" -ne "$want" ]; then
		fail "expected exit status $want, got $got from: ${*/#$KURA_BIN/kura}
$(_context)"
	fi
}

expect_error()
{
	local want=$1
	expect_status "$@"
	shift
	if [ -s "$OUT" ]; then
		fail "stdout must be empty on error, from: ${*/#$KURA_BIN/kura}
$(_context)"
	fi
	local first
	first=$(head -n 1 "$ERR")
	case $first in
	"kura: "?*) ;;
	*) fail "error message must go to stderr and start with 'kura: ', from: ${*/#$KURA_BIN/kura}
$(_context)" ;;
	esac
}

# Asserts that file $1 contains the fixed string $2 (case-insensitive with -i as $3).
expect_grep()
{
	grep -q ${3:-} -F -- "$2" "$1" || fail "expected '$2' in $(basename "$1"): $(head -c 600 "$1")"
}

# Total bytes of a store's segment files.
seg_bytes()
{
	local total=0 f
	for f in "$1"/segments/*.seg; do
		total=$((total + $(stat -c %s "$f")))
	done
	echo "$total"
}

# The records of a store's segments by type, e.g. "B=3 O=3" (docs/FORMAT.md's record layout):
# what was written, independent of lengths (an ingest time of a whole second is 4 bytes shorter).
seg_records()
{
	py '
import glob, struct, sys, collections
n = collections.Counter()
for f in sorted(glob.glob(sys.argv[1] + "/segments/*.seg")):
    b = open(f, "rb").read()
    p = 16
    while p + 20 <= len(b) and b[p:p + 4] == b"KRec":
        n[chr(b[p + 4])] += 1
        p += 20 + struct.unpack("<Q", b[p + 8:p + 16])[0] + 8
print(" ".join("%s=%d" % kv for kv in sorted(n.items())))' "$1"
}

# segments_compacted PRE NOW WHEN: every segment file NOW/*.seg is the one in PRE or exactly
# that without the blob records of the contents listed in dead.txt (SHA-256s, hex, one a
# line): a compaction (archive/compact.c) replaced it whole or not at all. A segment not in
# PRE may hold only its header (the roll of the active one).
segments_compacted()
{
	py '
import glob, struct
pre, now = sys.argv[1], sys.argv[2]
dead = set(bytes.fromhex(l.strip()) for l in open("dead.txt") if l.strip())
def compacted(b):
    out, p = [b[:16]], 16
    while p + 20 <= len(b):
        n = struct.unpack("<Q", b[p + 8:p + 16])[0]
        end = p + 20 + n + 8
        if not (b[p + 4:p + 5] == b"B" and b[end - 8 - 32:end - 8] in dead):
            out.append(b[p:end])
        p = end
    return b"".join(out)
for f in sorted(glob.glob(now + "/*.seg")):
    name = os.path.basename(f)
    data = open(f, "rb").read()
    if not os.path.exists(pre + "/" + name):
        if len(data) > 16:  # the roll of the active segment makes one with a header only
            sys.exit("%s is new and holds %d bytes" % (name, len(data)))
        continue
    before = open(pre + "/" + name, "rb").read()
    if data != before and data != compacted(before):
        sys.exit("%s is neither the segment before nor its compaction (%d bytes; before %d, compacted %d)"
                 % (name, len(data), len(before), len(compacted(before))))
' "$1" "$2" || fail "$3: a half-compacted segment"
}

# A digest of every segment file's name and bytes: equal before and after = untouched.
seg_digest()
{
	(cd "$1/segments" && for f in *; do printf '%s ' "$f"; sha256sum <"$f"; done) | sha256sum | cut -d' ' -f1
}

sha256_of() { sha256sum <"$1" | cut -d' ' -f1; }

# SHA-256 of what `kura get STORE ID` writes to stdout (fails when get fails).
sha256_of_get()
{
	local s
	s=$("$KURA_BIN" get "$1" "$2" | sha256sum | cut -d' ' -f1) || fail "kura get $1 $2 failed"
	echo "$s"
}

# Checks one line of ingest output "ID<TAB>SHA256<TAB>PATH" and its format.
check_ingest_line()
{
	local id sha path
	IFS=$'\t' read -r id sha path <<<"$1"
	[[ $id =~ ^[0-7][0-9A-HJKMNP-TV-Z]{25}$ ]] || fail "bad ID in ingest output line: '$1'"
	[[ $sha =~ ^[0-9a-f]{64}$ ]] || fail "bad SHA-256 in ingest output line: '$1'"
	[ -n "$path" ] || fail "no PATH in ingest output line: '$1'"
}

# Writes file $1 with $2 bytes from /dev/urandom.
random_file()
{
	head -c "$2" /dev/urandom >"$1"
}

# Prints line $2, $1 times (no `yes | head`: SIGPIPE and pipefail do not mix).
repeat_line()
{
	awk -v n="$1" -v t="$2" 'BEGIN { for (i = 0; i < n; i++) print t }'
}

# Python helper: `py 'code' args...` with json, sys, os imported.
py()
{
	local code=$1
	shift
	"$PYTHON" -c "import json, sys, os
$code" "$@"
}

# Copies tar $1 to $2 (uncompressed), flipping the first byte of the member whose name
# ends with $3: a package changed inside the tar itself.
tar_flip_member()
{
	py 'import io, sys, tarfile
src, dst, victim = sys.argv[1], sys.argv[2], sys.argv[3]
with tarfile.open(src) as a, tarfile.open(dst, "w") as b:
    for m in a.getmembers():
        data = a.extractfile(m).read()
        if m.name.endswith(victim):
            data = bytes([data[0] ^ 1]) + data[1:]
        b.addfile(m, io.BytesIO(data))' "$@"
}

# pkg_doc BAG ID: where object ID's document lies in the unpacked package BAG, as its
# object.json's "file" says (data/files/<original path>), relative to BAG.
pkg_doc()
{
	py 'print("data/" + json.load(open(sys.argv[1] + "/data/" + sys.argv[2] + "/object.json"))["file"])' "$1" "$2"
}

# test_policy FILE NAME [CERT-DAYS]: a policy under which SHA-256, SHA-512 and P-256 never end
# (margins: CERT-DAYS, default 30, for certificates, 30 days for algorithms)
test_policy()
{
	cat >"$1" <<EOP
kura-policy: 1
name: $2
title: $2 policy
margins: {certificate-days: ${3:-30}, algorithm-days: 30}
algorithms:
  sha256:   {until: null, source: "test: no end"}
  sha512:   {until: null, source: "test: no end"}
  ec-p256:  {until: null, source: "test: no end"}
EOP
}

# at NOW ARGS...: kura ARGS with KURA_NOW=NOW
at()
{
	local now=$1
	shift
	KURA_NOW=$now "$KURA_BIN" "$@"
}

# flip_byte FILE OFFSET: flips every bit of the byte at OFFSET of FILE
flip_byte()
{
	py '
f = open(sys.argv[1], "r+b"); off = int(sys.argv[2])
f.seek(off); b = f.read(1)
if len(b) != 1: sys.exit("offset %d is past the end of %s" % (off, sys.argv[1]))
f.seek(off); f.write(bytes([b[0] ^ 0xff])); f.close()
' "$1" "$2"
}

# show_field STORE ID KEY: field KEY of `kura show STORE ID --json`
show_field()
{
	"$KURA_BIN" show "$1" "$2" --json | py 'print(json.load(sys.stdin)[sys.argv[1]])' "$3"
}

# blob_offset STORE ID: the offset of the blob record of an object whose content was new
# when ingested (it sits right before its object record; checked: a blob header is there)
blob_offset()
{
	local off stored seg blob
	off=$(show_field "$1" "$2" offset)
	stored=$(show_field "$1" "$2" stored)
	seg=$(show_field "$1" "$2" segment)
	blob=$((off - stored - 28))
	py '
f = open(sys.argv[1], "rb"); f.seek(int(sys.argv[2])); h = f.read(5)
sys.exit(0 if h == b"KRecB" else "no blob record header at %s: %r" % (sys.argv[2], h))
' "$1/segments/$(printf %08d "$seg").seg" "$blob" || fail "test assumption: blob of $2 not right before its object record"
	echo "$blob"
}

# small_volume DIR MIB: mounts a fresh ext4 file system of MIB MiB (an image file in $T,
# through a loop device) on DIR, unmounted at exit. Unlike tmpfs, ext4 keeps the blocks a
# program preallocates (fallocate), as the disks kura runs on do. Returns 1 where it cannot
# (not root, no loop device, no mkfs.ext4): the caller skips.
small_volume()
{
	mkdir -p "$1"
	command -v mkfs.ext4 >/dev/null || return 1
	truncate -s "$2M" "$T/volume.$2.img" && mkfs.ext4 -q -F "$T/volume.$2.img" >/dev/null 2>&1 || return 1
	mount -o loop "$T/volume.$2.img" "$1" 2>/dev/null || return 1
	on_exit "umount '$1' 2>/dev/null || umount -l '$1'"
}

# remanifest BAG: rewrites both manifests of an unpacked package over its files as
# they are now (names of any bytes), so that only what was planted is wrong (an
# attacker can do this too)
remanifest()
{
	py 'import hashlib
root = os.fsencode(sys.argv[1])
def sha(p): return hashlib.sha256(open(os.path.join(root, p), "rb").read()).hexdigest().encode()
files = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)
open(os.path.join(root, b"manifest-sha256.txt"), "wb").write(
    b"".join(sha(f) + b"  " + f + b"\n" for f in files if f.startswith(b"data/")))
open(os.path.join(root, b"tagmanifest-sha256.txt"), "wb").write(
    b"".join(sha(f) + b"  " + f + b"\n" for f in files if not f.startswith(b"data/") and not f.startswith(b"tagmanifest")))' "$1"
}

# make_docs DIR N BIG-KIB: N documents of 100 B to 3 KB and one of BIG-KIB KiB, all new random
# bytes, in DIR; their paths and SHA-256 in manifest.DIR (for acked). A test may define its own.
make_docs()
{
	py '
import hashlib
d, n, big = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(d)
with open("manifest." + d, "w") as man:
    def put(name, data):
        open(os.path.join(d, name), "wb").write(data)
        man.write("%s/%s\t%s\n" % (d, name, hashlib.sha256(data).hexdigest()))
    for i in range(n):
        put("doc%04d.bin" % i, os.urandom(100 + i * 37 % 3000))
    put("big.bin", os.urandom(big << 10))
' "$1" "$2" "$3"
}

# acked OUT DIR: the complete lines of ingest output OUT (a kill may tear the last), checked
# against manifest.DIR (make_docs), are added to acked.tsv (for check_acked)
acked()
{
	py '
man = dict(l.rstrip("\n").split("\t") for l in open("manifest." + sys.argv[2]))
with open("acked.tsv", "a") as acked:
    for l in open(sys.argv[1]):
        if not l.endswith("\n"):
            break  # torn by the kill
        id_, sha, path = l.rstrip("\n").split("\t")
        if man.get(path) != sha:
            sys.exit("ingest printed %s for %r, the file has %s (line %r of %s)" % (sha, path, man.get(path), l, sys.argv[1]))
        acked.write(l)
' "$1" "$2" || fail "ingest acknowledged a wrong SHA-256"
}

# check_acked STORE LINES SAMPLE [READ]: every line "ID<TAB>SHA256[<TAB>...]" of file LINES (what
# a killed or finished ingest or import acknowledged) names an object that `kura ls --json`
# lists with that SHA-256 (scrub then proves the stored bytes hash to it), and SAMPLE of them,
# picked at random (or the lines of file READ, when given), read back with `kura get` give
# exactly that SHA-256.
check_acked()
{
	local store=$1 lines=$2 sample=$3 id sha rest got
	"$KURA_BIN" ls "$store" --json >"$T/.acked.json" || fail "kura ls $store --json failed"
	py '
objs = {o["id"]: o["sha256"] for o in json.load(open(sys.argv[1]))}
bad = []
for l in open(sys.argv[2]):
    id_, sha = l.rstrip("\n").split("\t")[:2]
    if objs.get(id_) != sha:
        bad.append("%s (printed %s, store has %s)" % (id_, sha, objs.get(id_, "nothing")))
if bad:
    sys.exit("%d acknowledged object(s) missing or changed, e.g. %s" % (len(bad), "; ".join(bad[:3])))
' "$T/.acked.json" "$lines" || fail "acknowledged objects are not all in $store"
	if [ -n "${4:-}" ]; then
		cp "$4" "$T/.acked.sample"
	else
		shuf -n "$sample" "$lines" >"$T/.acked.sample" || true
	fi
	while IFS=$'\t' read -r -u 3 id sha rest; do
		got=$(sha256_of_get "$store" "$id")
		[ "$got" = "$sha" ] || fail "kura get $id gives SHA-256 $got, $sha was acknowledged ($rest)"
	done 3<"$T/.acked.sample"
}

# expect_scrub_clean STORE WHEN: `kura scrub STORE` exits 0 and reports nothing.
expect_scrub_clean()
{
	expect_status 0 kura scrub "$1"
	[ ! -s "$OUT" ] || fail "$2: scrub reports: $(head -3 "$OUT")"
}

# run_killed MS OUTFILE ERRFILE CMD...: runs CMD in the background, sends it kill -9 after MS
# milliseconds. Sets KILL_STATUS (137 when the kill landed, else CMD's own status) and
# KILL_MS (how long CMD ran).
run_killed()
{
	local ms=$1 out=$2 err=$3 pid t0
	shift 3
	t0=$(date +%s%N)
	"$@" >"$out" 2>"$err" &
	pid=$!
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -9 "$pid" 2>/dev/null || true
	KILL_STATUS=0
	{ wait "$pid"; } 2>/dev/null || KILL_STATUS=$?
	KILL_MS=$((($(date +%s%N) - t0) / 1000000))
}

# package_fixture NAME...: a store $A (= $T/a, embedded TSA) holding one text file
# NAME.txt per NAME (its content the name), exported to $T/pkg.tar and unpacked in $T/x;
# the store's TSA root in $T/a-root.pem; ID_<NAME> set to each object's ID; PD the
# documents' folder in the package (data/files/ and the path ingest was given).
package_fixture()
{
	A=$T/a
	PD=data/files/${T#/}/docs
	mkdir -p "$T/docs"
	local n
	for n in "$@"; do printf '%s\n' "$n" >"$T/docs/$n.txt"; done
	expect_status 0 kura init "$A"
	expect_status 0 kura ingest "$A" "$T/docs"
	for n in "$@"; do
		printf -v "ID_$n" '%s' "$(grep "/$n.txt" "$OUT" | cut -f1)"
		local v=ID_$n
		[ -n "${!v}" ] || fail "package_fixture: ingest printed no line for $n.txt"
	done
	expect_status 0 kura export "$A" -o "$T/pkg.tar"
	kura tsa ca "$A" >"$T/a-root.pem"
	mkdir "$T/x"
	tar -xf "$T/pkg.tar" -C "$T/x"
}
