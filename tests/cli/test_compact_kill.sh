#!/usr/bin/env bash
# kill -9 during compaction (archive/compact.c), the storage side of disposal. Each round
# ingests documents (two of them with one content: "twins"), marks some disposed of (the
# first twin, a third of the rest, with the test-only kura_compact_tool, as the records
# layer's disposal will) and compacts with kura_compact_tool, killed after a random delay
# (0 .. 1.25 x the last uninterrupted compaction's duration). After EVERY kill:
#   - no segment is half-compacted: every segment file is byte for byte what it was before
#     the compaction, or exactly that without the blob records of the content only disposed
#     objects use (a new segment may hold only its header: the active one was rolled);
#   - the next open for writing (the next round's ingest) finishes or undoes it: no
#     replacement (*.seg.new) is left, `kura scrub` is clean, `kura verify` exits 0
#     (disposed objects say "disposed"), every acknowledged live object is listed with its
#     SHA-256 and a sample reads back (check_acked), a disposed one's `kura get` exits 1
#     saying it was disposed of, and the live twin still reads.
# At the end one compaction runs to its end: no segment holds the removed content, the
# store is smaller, and everything above holds.
source "$(dirname "$0")/lib.sh" || exit 1
cd "$T"

TOOL=${KURA_COMPACT_TOOL:-$(dirname "$KURA_BIN")/tests/kura_compact_tool}
[ -x "$TOOL" ] || fail "no kura_compact_tool at $TOOL (build the tests)"
if [ "$KURA_SANITIZED" = 1 ]; then
	KILLS=${KILLS:-8} NDOCS=12 BIG_KIB=768
else
	KILLS=${KILLS:-25} NDOCS=30 BIG_KIB=3072
fi
SEED=${KILL_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$SEED
echo "[$TEST_NAME] $KILLS kills, seed $SEED"

kura init S --segment-size 262144 >/dev/null 2>&1 || fail "kura init failed"
: >acked.tsv    # ID SHA-256 PATH of every acknowledged object
: >disposed.txt # IDs marked disposed of
: >twins.tsv    # the live twin of each round: ID SHA-256
dur_ms=300

# make_docs R: docs.R/ with NDOCS random documents, a big one and two twins; manifest.R
make_docs()
{
	py '
import hashlib, random
r, n, big = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(r)
d = "docs.%d" % r
os.makedirs(d)
with open("manifest.%d" % r, "w") as man:
    def put(name, data):
        open(os.path.join(d, name), "wb").write(data)
        man.write("%s/%s\t%s\n" % (d, name, hashlib.sha256(data).hexdigest()))
    for i in range(n):
        put("doc%03d.bin" % i, os.urandom(rnd.randint(100, 20000)))
    put("big.bin", os.urandom(rnd.randint(1, big) << 10))
    twin = os.urandom(5000)
    put("twin-a.bin", twin)
    put("twin-b.bin", twin)
' "$1" "$NDOCS" "$BIG_KIB"
}

# ingest_round R: ingests docs.R (the next open for writing after a kill); appends to acked.tsv
ingest_round()
{
	make_docs "$1"
	expect_status 0 kura ingest S "docs.$1"
	while IFS= read -r line; do check_ingest_line "$line"; done <"$OUT"
	cat "$OUT" >>acked.tsv
	py '
man = dict(l.rstrip("\n").split("\t") for l in open(sys.argv[2]))
for l in open(sys.argv[1]):
    id_, sha, path = l.rstrip("\n").split("\t")
    if man[path] != sha:
        sys.exit("ingest printed %s for %s, the file has %s" % (sha, path, man[path]))
' "$OUT" "manifest.$1" || fail "ingest of round $1 acknowledged a wrong SHA-256"
	grep -P '\ttwin-b\.bin$|/twin-b\.bin$' "$OUT" | cut -f1,2 >>twins.tsv
}

# live.tsv: the acknowledged objects not disposed of
live_list()
{
	grep -v -F -f disposed.txt acked.tsv >live.tsv || true
	[ -s disposed.txt ] || cp acked.tsv live.tsv
}

# check_store WHEN: the store after the next open for writing
check_store()
{
	! ls S/segments/*.seg.new >/dev/null 2>&1 || fail "$1: a replacement segment was left: $(ls S/segments)"
	expect_scrub_clean S "$1"
	expect_status 0 kura verify S
	grep -q . disposed.txt && { grep -c $'\tdisposed' "$OUT" >/dev/null || fail "$1: verify does not say disposed"; }
	live_list
	check_acked S live.tsv 4
	local id
	id=$(shuf -n 1 disposed.txt 2>/dev/null || true)
	if [ -n "$id" ]; then
		expect_error 1 kura get S "$id"
		expect_grep "$ERR" "was disposed of"
	fi
	tail -n 3 twins.tsv | cut -f1,2 >twins.sample
	while IFS=$'\t' read -r -u 3 id sha; do
		[ "$(sha256_of_get S "$id")" = "$sha" ] || fail "$1: the live twin $id changed"
	done 3<twins.sample
}

# dead_shas: the SHA-256s only disposed objects use (hex, one a line) into dead.txt
dead_shas()
{
	py '
disposed = set(l.strip() for l in open(sys.argv[1]) if l.strip())
dead, live = set(), set()
for l in open(sys.argv[2]):
    id_, sha = l.split("\t")[:2]
    (dead if id_ in disposed else live).add(sha)
open("dead.txt", "w").write("".join(s + "\n" for s in sorted(dead - live)))
' disposed.txt acked.tsv
}

# segments_whole WHEN: every segment is as in pre/ or exactly that without the dead blobs
segments_whole() { segments_compacted pre S/segments "$1"; }

# dispose_some R: marks the first twin and a third of round R's documents disposed of
dispose_some()
{
	grep -F "docs.$1/" acked.tsv | grep -v 'twin-b.bin$' | awk -v s=$RANDOM 'BEGIN { srand(s) } /twin-a.bin$/ || rand() < 0.34 { print $1 }' >mark.txt
	[ -s mark.txt ] || return 0
	expect_status 0 "$TOOL" S --mark $(cat mark.txt)
	cat mark.txt >>disposed.txt
}

ingest_round 0
dispose_some 0
t0=$(date +%s%N)
expect_status 0 "$TOOL" S
dur_ms=$((($(date +%s%N) - t0) / 1000000))
kills=0 landed=0
for round in $(seq 1 "$KILLS"); do
	ingest_round "$round"
	check_store "after round $((round - 1))"
	dispose_some "$round"
	dead_shas
	rm -rf pre && cp -a S/segments pre
	run_killed $(((RANDOM * 32768 + RANDOM) % (dur_ms * 5 / 4 + 5))) kill.out kill.err "$TOOL" S
	kills=$((kills + 1))
	if [ "$KILL_STATUS" = 137 ]; then
		landed=$((landed + 1))
	elif [ "$KILL_STATUS" = 0 ]; then
		# finished before the kill: it took at most KILL_MS (run_killed waits out the whole
		# delay), so the window may shrink to that but never grow from a miss
		if [ "$KILL_MS" -lt "$dur_ms" ]; then dur_ms=$KILL_MS; fi
	else
		fail "round $round: compaction exited $KILL_STATUS: $(cat kill.err)"
	fi
	segments_whole "round $round"
done
before=$(seg_bytes S)
expect_status 0 "$TOOL" S
after=$(seg_bytes S)
ingest_round $((KILLS + 1))
check_store "at the end"
dead_shas
py '
import glob, struct
dead = set(bytes.fromhex(l.strip()) for l in open("dead.txt") if l.strip())
for f in glob.glob("S/segments/*.seg"):
    b, p = open(f, "rb").read(), 16
    while p + 20 <= len(b):
        end = p + 20 + struct.unpack("<Q", b[p + 8:p + 16])[0] + 8
        if b[p + 4:p + 5] == b"B" and b[end - 40:end - 8] in dead:
            sys.exit("%s still holds disposed content at %d" % (f, p))
        p = end
' || fail "removed content is still in a segment"
[ "$landed" -ge $((KILLS / 3)) ] || fail "only $landed of $kills kills landed during a compaction"
echo "[$TEST_NAME] $kills kills ($landed during a compaction), $(wc -l <disposed.txt) objects disposed of, segments $before -> $after bytes at the last run"
