#!/usr/bin/env bash
# kill -9 during ingest. DESIGN.md: "an ingest that printed an ID survives kill -9". So
# after every kill: each COMPLETE line any killed ingest printed names an object that
# is in the store with exactly the printed SHA-256 (all lines against `ls --json`, and a
# sample of them read back with `kura get ID | sha256sum`, because one get per line
# would take minutes; scrub proves every stored blob matches its SHA-256), scrub exits 0
# and the next ingest works. The same for a kill in the middle of one large stdin stream,
# whose torn tail must also be cut off again by the next ingest.
source "$(dirname "$0")/lib.sh" || exit 1
cd "$T"

if [ "$KURA_SANITIZED" = 1 ]; then
	NSMALL=1500 BIGS="5 7" ITER=6 STREAM_MB=120 STREAM_KILL_MB=16 SAMPLE=6 FINAL_SAMPLE=20
else
	NSMALL=3000 BIGS="5 12 20" ITER=8 STREAM_MB=300 STREAM_KILL_MB=32 SAMPLE=8 FINAL_SAMPLE=30
fi

# (Re)writes the documents of iteration $1 into DIR: NSMALL small files (all different),
# of which a tenth change each iteration, and the big ones (MiB in BIGS; every other one
# compressible text) with new content each time. Writes manifest.$1: path TAB sha256.
make_docs()
{
	py '
import hashlib, random
it, nsmall, bigs = int(sys.argv[1]), int(sys.argv[2]), [int(x) for x in sys.argv[3].split()]
rnd = random.Random(it)
man = open("manifest.%d" % it, "w")
for i in range(nsmall):
    p = "DIR/s%02d/f%05d.txt" % (i % 16, i)
    if it == 1 or i % 10 == it % 10 or not os.path.exists(p):
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(b"document %d of iteration %d\n" % (i, it) + os.urandom(rnd.randint(16, 600)))
for k, mib in enumerate(bigs):
    p = "DIR/s%02d/zz-big%d.bin" % (3 + 5 * k, k)  # among the small ones, not all first
    with open(p, "wb") as f:
        if k % 2:  # compressible: a block of ledger lines, repeated
            block = b"".join(b"ledger %d/%d amount %d counterparty %d\n" % (it, j, rnd.randint(0, 10**7), rnd.randint(0, 999)) for j in range(1500))
            f.write(b"iteration %d\n" % it)
            while f.tell() < mib << 20:
                f.write(block)
        else:
            f.write(os.urandom(mib << 20))
for root, dirs, files in os.walk("DIR"):
    for n in files:
        p = os.path.join(root, n)
        man.write("%s\t%s\n" % (p, hashlib.sha256(open(p, "rb").read()).hexdigest()))
' "$1" "$NSMALL" "$BIGS"
}

# Checks the complete lines of ingest output $1 (of iteration $2) against the store:
# format, SHA-256 = the file's as it was written, present in `ls --json` with that
# SHA-256; gets all big documents and SAMPLE others. Appends the lines to all.lines.
check_out()
{
	local out=$1 it=$2
	kura ls S --json >ls.json || fail "ls --json failed after iteration $it"
	py '
lines = open(sys.argv[1], "rb").read().split(b"\n")[:-1]  # the last piece is incomplete or empty
man = dict(l.rstrip("\n").split("\t") for l in open(sys.argv[2]))
objs = {o["id"]: o for o in json.load(open(sys.argv[3]))}
import re
with open(sys.argv[4], "a") as all_lines, open("sample.lines", "w") as sample:
    import random
    rnd = random.Random(len(lines))
    small = []
    for raw in lines:
        line = raw.decode()
        parts = line.split("\t")
        if len(parts) != 3 or not re.fullmatch(r"[0-7][0-9A-HJKMNP-TV-Z]{25}", parts[0]) or not re.fullmatch(r"[0-9a-f]{64}", parts[1]):
            sys.exit("malformed ingest line: %r" % line)
        id_, sha, path = parts
        if man.get(path) != sha:
            sys.exit("ingest printed SHA-256 %s for %s, the file had %s" % (sha, path, man.get(path)))
        o = objs.get(id_)
        if o is None:
            sys.exit("printed ID %s (%s) is not in the store after kill -9" % (id_, path))
        if o["sha256"] != sha:
            sys.exit("printed ID %s has SHA-256 %s in the store, %s was printed" % (id_, o["sha256"], sha))
        all_lines.write(line + "\n")
        (sample.write(line + "\n") if "big" in path else small.append(line))
    for line in rnd.sample(small, min(len(small), int(sys.argv[5]))):
        sample.write(line + "\n")
print(len(lines))
' "$out" "manifest.$it" ls.json all.lines "$SAMPLE" >nlines || fail "iteration $it: printed lines do not match the store"
	local id sha path got
	while IFS=$'\t' read -r -u 3 id sha path; do
		got=$(sha256_of_get S "$id")
		[ "$got" = "$sha" ] || fail "iteration $it: kura get $id ($path) gives SHA-256 $got, $sha was printed"
	done 3<sample.lines
}

expect_status 0 kura init S
make_docs 1

# How long an uninterrupted ingest of these documents takes, to aim the kills inside it.
expect_status 0 kura init C
t0=$(date +%s%N)
expect_status 0 kura ingest C DIR
t_full=$((($(date +%s%N) - t0) / 1000000))
[ "$(wc -l <"$OUT")" -eq "$(wc -l <manifest.1)" ] || fail "calibration ingest printed $(wc -l <"$OUT") lines"
rm -rf C
max_ms=$t_full
[ "$max_ms" -le 600 ] || max_ms=600
[ "$max_ms" -ge 60 ] || max_ms=60
echo "[$TEST_NAME] a full ingest takes ${t_full} ms; killing after 50..${max_ms} ms"

: >all.lines
killed=0 total_printed=0
for it in $(seq 1 "$ITER"); do
	[ "$it" -eq 1 ] || make_docs "$it"
	delay=$((50 + RANDOM % (max_ms - 49)))
	"$KURA_BIN" ingest S DIR >"out.$it" 2>"err.$it" &
	pid=$!
	sleep "$(printf '0.%03d' "$delay")"
	st=0
	if kill -9 "$pid" 2>/dev/null; then
		{ wait "$pid"; } 2>/dev/null || st=$?
		if [ "$st" -eq 137 ]; then
			killed=$((killed + 1))
		elif [ "$st" -ne 0 ]; then
			fail "iteration $it: ingest failed on its own (status $st): $(cat "err.$it")"
		fi
	else
		{ wait "$pid"; } 2>/dev/null || st=$?
		[ "$st" -eq 0 ] || fail "iteration $it: ingest failed (status $st): $(cat "err.$it")"
	fi
	check_out "out.$it" "$it"
	total_printed=$((total_printed + $(cat nlines)))
	if [ "$st" -eq 137 ]; then
		echo "[$TEST_NAME] iteration $it: killed after ${delay} ms, $(cat nlines) complete lines"
	else
		echo "[$TEST_NAME] iteration $it: finished within ${delay} ms, $(cat nlines) lines"
		# later ingests are faster than the calibration (unchanged content is stored once,
		# caches are warm): aim the next kills inside what this one took at most
		[ "$delay" -ge "$max_ms" ] || max_ms=$delay
		[ "$max_ms" -ge 60 ] || max_ms=60
	fi
	expect_scrub_clean S "iteration $it, after kill -9"
done
[ "$killed" -ge $((ITER / 2)) ] ||
	fail "only $killed of $ITER ingests were still running when killed: the test did not test much"

# ------------------------------------------------------------------ kill in one big stdin stream
# First one small ingest: opening for writing rolls the complete but unacknowledged records
# the last killed ingest left forward (by design), so the listing changes here, not later.
printf 'before the stream\n' >before-stream.txt
expect_status 0 kura ingest S before-stream.txt
kura ls S --json >before-stream.json
b0=$(seg_bytes S)
"$KURA_BIN" ingest S - >out.stream 2>err.stream < <(head -c "${STREAM_MB}M" /dev/urandom) &
pid=$!
deadline=$((SECONDS + 60))
while [ "$(seg_bytes S)" -lt $((b0 + STREAM_KILL_MB * 1048576)) ]; do
	kill -0 "$pid" 2>/dev/null || break
	[ "$SECONDS" -lt "$deadline" ] || fail "the stdin ingest wrote less than $STREAM_KILL_MB MiB in 60 s"
	sleep 0.02
done
kill -9 "$pid" 2>/dev/null || fail "the stdin ingest of $STREAM_MB MiB ended before it could be killed: $(cat err.stream)"
st=0
{ wait "$pid"; } 2>/dev/null || st=$?
[ "$st" -eq 137 ] || fail "stdin ingest: status $st after kill -9"
[ ! -s out.stream ] || fail "a stdin stream killed mid-way printed: $(cat out.stream)"
b_torn=$(seg_bytes S)
expect_scrub_clean S "after killing the stdin ingest"
expect_status 0 kura ls S --json
cmp -s "$OUT" before-stream.json || fail "the killed stdin ingest changed the listing"
# reindex of a store with a torn tail (a crash, not damage): the same objects, exit 0
reindex_torn()
{
	cp -a S Sr
	rm -rf Sr/index
	expect_status 0 kura reindex Sr
	expect_status 0 kura ls Sr --json
	cmp -s "$OUT" before-stream.json || fail "reindex after the killed stream lists other objects"
	expect_status 0 kura scrub Sr
	rm -rf Sr
}
run_case "reindex with a torn tail after kill -9" reindex_torn

printf 'after the stream\n' >after-stream.txt
expect_status 0 kura ingest S after-stream.txt
aid=$(cut -f1 "$OUT")
kura ls S --json >after-stream.json
py '
a, b = (json.load(open(p)) for p in sys.argv[1:3])
new = [o["id"] for o in b if o not in a]
sys.exit(0 if len(b) == len(a) + 1 and new == [sys.argv[3]] else "objects added: %s" % new[:5])
' before-stream.json after-stream.json "$aid" || fail "the killed stdin stream left objects behind after the next ingest"
[ "$(sha256_of_get S "$aid")" = "$(sha256_of after-stream.txt)" ] || fail "ingest after the killed stream: get differs"
b1=$(seg_bytes S)
[ "$b1" -lt $((b0 + 1048576)) ] ||
	fail "the torn tail of the killed stream was not cut off: segments were $b0 bytes, $b_torn after the kill, $b1 after the next ingest"
expect_status 0 kura scrub S

# ------------------------------------------------------------------ finally: everything printed, and a normal ingest
make_docs $((ITER + 1))
expect_status 0 kura ingest S DIR
cp "$OUT" out.final
[ "$(wc -l <out.final)" -eq "$(wc -l <manifest.$((ITER + 1)))" ] ||
	fail "the final ingest printed $(wc -l <out.final) lines for $(wc -l <manifest.$((ITER + 1))) files"
cp all.lines killed.lines
check_out out.final $((ITER + 1))
# every line printed by any killed ingest, once more against the final store
check_acked S killed.lines "$FINAL_SAMPLE"
expect_scrub_clean S "at the end"
echo "[$TEST_NAME] $killed of $ITER ingests killed mid-way; $total_printed lines printed before the kills checked"
finish_cases
