#!/usr/bin/env bash
# End to end through the CLI: init (and its refusals), --hash, ingest of folders and
# stdin with metadata, ls / ls --json, show, get (-o and stdout), dedup, KURA_NOW,
# scrub, reindex, and all of it again on a store with many small segments.
source "$(dirname "$0")/lib.sh" || exit 1
cd "$T"

# ------------------------------------------------------------------ init
expect_status 0 kura init S
[ -s "$OUT" ] || fail "kura init printed nothing on stdout"
expect_error 2 kura init S
mkdir notempty
echo keep >notempty/file
expect_error 2 kura init notempty
[ "$(ls -A notempty)" = file ] && [ "$(cat notempty/file)" = keep ] || fail "init touched a non-empty folder"
echo x >plainfile
expect_error 2 kura init plainfile
expect_error 2 kura init S2 --hash md5
[ ! -e S2/FORMAT ] || fail "init --hash md5 created a store"
expect_error 2 kura init S2 --segment-size abc
expect_error 2 kura init
expect_error 2 kura init S2 S3

# an empty store lists nothing
expect_status 0 kura ls S
[ ! -s "$OUT" ] || fail "ls of an empty store printed: $(cat "$OUT")"
expect_status 0 kura ls S --json
py 'sys.exit(0 if json.load(open(sys.argv[1])) == [] else "not []")' "$OUT" || fail "ls --json of an empty store is not []"
expect_status 0 kura scrub S

# ------------------------------------------------------------------ --hash
printf 'the sha512 store keeps a second digest\n' >h.txt
for alg in sha512 sha384; do
	expect_status 0 kura init "H$alg" --hash "$alg"
	expect_status 0 kura ingest "H$alg" h.txt
	hid=$(cut -f1 "$OUT")
	expect_status 0 kura show "H$alg" "$hid" --json
	py '
o = json.load(open(sys.argv[1]))
alg, want, want256 = sys.argv[2], sys.argv[3], sys.argv[4]
d = o.get("digests") or {}
if d.get(alg) != want:
    sys.exit("digests.%s is %r, %ssum says %s" % (alg, d.get(alg), alg, want))
if o.get("sha256") != want256 or d.get("sha256") != want256:
    sys.exit("sha256 of a %s store is wrong: %r" % (alg, o.get("sha256")))
' "$OUT" "$alg" "$("${alg}sum" <h.txt | cut -d' ' -f1)" "$(sha256_of h.txt)" || fail "--hash $alg: show --json digests wrong"
	cmp -s <(kura get "H$alg" "$hid") h.txt || fail "--hash $alg: get differs"
done

# ------------------------------------------------------------------ ingest: folder + stdin + meta
mkdir -p d/sub/deeper "d/sub2 with space"
printf 'upper case sorts first\n' >d/Z.txt
printf 'alpha\n' >d/a.txt
printf 'a name with a space\n' >"d/b file.txt"
printf 'charlie\n' >d/c.txt
printf 'nested twice\n' >d/sub/deeper/n.txt
random_file "d/sub/x y z.bin" 5000
printf 'in a folder with spaces\n' >"d/sub2 with space/q"
: >d/empty
printf 'from standard input %s\n' "$RANDOM$RANDOM" >stdin.dat
expected_paths=$(printf '%s\n' d/Z.txt d/a.txt "d/b file.txt" d/c.txt d/empty d/sub/deeper/n.txt \
	"d/sub/x y z.bin" "d/sub2 with space/q" -)

t_before=$(date +%s)
expect_status 0 kura ingest S --meta client=ACME --meta year=2026 d - <stdin.dat
cp "$OUT" ingest1.out
[ "$(wc -l <ingest1.out)" -eq 9 ] || fail "expected 9 lines from ingest, got: $(cat ingest1.out)"
[ "$(cut -f3 ingest1.out)" = "$expected_paths" ] ||
	fail "ingest order is not sorted by name, recursively: $(cut -f3 ingest1.out | tr '\n' '|')"
: >manifest.tsv # id, sha256, size, name, local file
while IFS= read -r -u 3 line; do
	check_ingest_line "$line"
	IFS=$'\t' read -r id sha path <<<"$line"
	file=$path name=$(basename "$path")
	[ "$path" = - ] && file=stdin.dat name="?" # stdin has no file name
	[ "$sha" = "$(sha256_of "$file")" ] || fail "ingest printed SHA-256 $sha for $path; sha256sum says $(sha256_of "$file")"
	printf '%s\t%s\t%s\t%s\t%s\n' "$id" "$sha" "$(stat -c %s "$file")" "$name" "$file" >>manifest.tsv
done 3<ingest1.out
[ "$(cut -f1 manifest.tsv | sort -u | wc -l)" -eq 9 ] || fail "ingest printed duplicate IDs"

# links and special files in a folder: a link to a file is ingested, links to folders and
# to nothing and a fifo are skipped with a word on stderr (which is no terminal here, so
# the walk takes plain files from the folder listing without a stat of each)
mkdir -p w/real
printf 'plain\n' >w/a.txt
printf 'linked\n' >w/real/t.txt
ln -s real/t.txt w/b-link.txt
ln -s real w/c-folder-link
ln -s nowhere w/d-dangling
mkfifo w/e-fifo
expect_status 0 kura init W
expect_status 0 kura ingest W --no-seal w
[ "$(cut -f3 "$OUT" | tr '\n' ' ')" = "w/a.txt w/b-link.txt w/real/t.txt " ] ||
	fail "ingest of a folder with links took: $(cut -f3 "$OUT" | tr '\n' ' ')"
for skipped in w/c-folder-link w/d-dangling w/e-fifo; do
	grep -q "skipping $skipped" "$ERR" || fail "ingest did not say it skipped $skipped: $(cat "$ERR")"
done

# a single file argument keeps its path as given
printf 'single\n' >single.txt
expect_status 0 kura ingest S single.txt
[ "$(cut -f3 "$OUT")" = single.txt ] || fail "ingest of one file printed path '$(cut -f3 "$OUT")'"
check_ingest_line "$(cat "$OUT")"
IFS=$'\t' read -r id sha path <"$OUT"
printf '%s\t%s\t%s\t%s\t%s\n' "$id" "$sha" 7 single.txt single.txt >>manifest.tsv

# ------------------------------------------------------------------ ls
expect_status 0 kura ls S
[ "$(wc -l <"$OUT")" -eq 10 ] || fail "ls listed $(wc -l <"$OUT") objects, expected 10"
while IFS=$'\t' read -r -u 3 id sha size name file; do
	grep -q "^$id	" "$OUT" || fail "ls does not list $id ($file)"
	lsize=$(grep "^$id	" "$OUT" | cut -f2)
	[ "$lsize" = "$size" ] || fail "ls gives size $lsize for $file, expected $size"
	if [ "$name" != "?" ]; then
		[ "$(grep "^$id	" "$OUT" | cut -f4)" = "$name" ] || fail "ls gives another name for $file"
	fi
done 3<manifest.tsv

expect_status 0 kura ls S --json
cp "$OUT" ls1.json
py '
import re, datetime
objs = json.load(open(sys.argv[1]))
if not isinstance(objs, list):
    sys.exit("ls --json is not a JSON array")
t0, t1 = int(sys.argv[3]), int(sys.argv[4])
rfc3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
by_id = {o.get("id"): o for o in objs}
if len(by_id) != len(objs) or len(objs) != 10:
    sys.exit("ls --json has %d objects (%d distinct ids), expected 10" % (len(objs), len(by_id)))
for line in open(sys.argv[2]):
    id_, sha, size, name, f = line.rstrip("\n").split("\t")
    o = by_id.get(id_)
    if o is None:
        sys.exit("ls --json lacks %s" % id_)
    for k in ("id", "name", "sha256", "size", "ingested", "meta"):
        if k not in o:
            sys.exit("ls --json object %s has no %r" % (id_, k))
    if o["sha256"] != sha or o["size"] != int(size):
        sys.exit("ls --json: %s has sha256/size %s/%s, expected %s/%s" % (id_, o["sha256"], o["size"], sha, size))
    if name != "?" and o["name"] != name:
        sys.exit("ls --json: %s is named %r, expected %r" % (id_, o["name"], name))
    if not isinstance(o["name"], str) or not o["name"]:
        sys.exit("ls --json: %s has no name" % id_)
    if not rfc3339.match(o["ingested"]):
        sys.exit("ls --json: ingested %r is not RFC 3339" % o["ingested"])
    when = datetime.datetime.fromisoformat(o["ingested"].replace("Z", "+00:00")).timestamp()
    if not (t0 - 2 <= when <= t1 + 2):
        sys.exit("ls --json: ingested %s is not the time of the ingest" % o["ingested"])
    want_meta = {} if f == "single.txt" else {"client": "ACME", "year": "2026"}
    if o["meta"] != want_meta:
        sys.exit("ls --json: meta of %s is %r, expected %r" % (id_, o["meta"], want_meta))
' ls1.json manifest.tsv "$t_before" "$(date +%s)" || fail "ls --json content is wrong"

# ------------------------------------------------------------------ show, get
while IFS=$'\t' read -r -u 3 id sha size name file; do
	expect_status 0 kura show S "$id"
	expect_grep "$OUT" "$id"
	expect_grep "$OUT" "$sha"
	expect_status 0 kura show S "$id" --json
	py '
o = json.load(open(sys.argv[1]))
if (o.get("id"), o.get("sha256"), o.get("size")) != (sys.argv[2], sys.argv[3], int(sys.argv[4])):
    sys.exit("show --json: %r" % o)
' "$OUT" "$id" "$sha" "$size" || fail "show --json $id ($file) is wrong"
	rm -f got.o
	expect_status 0 kura get S "$id" -o got.o
	[ ! -s "$OUT" ] || fail "get -o wrote to stdout"
	cmp got.o "$file" || fail "get -o of $file is not byte-identical"
	kura get S "$id" >got.stdout || fail "get $id > FILE failed"
	cmp got.stdout "$file" || fail "get > FILE of $file is not byte-identical"
done 3<manifest.tsv
# lower-case IDs are the same ID
[ "$(sha256_of_get S "$(tr 'A-Z' 'a-z' <<<"$id")")" = "$sha" ] || fail "get with a lower-case ID differs"
[ ! -e got.o.kura-partial ] || fail "get -o left its temporary file behind"

# ------------------------------------------------------------------ dedup
random_file r1 1048576 # exactly the size of one read chunk
random_file small.bin 20000
b0=$(seg_bytes S)
expect_status 0 kura ingest S r1 small.bin
id1=$(sed -n 1p "$OUT" | cut -f1) sid1=$(sed -n 2p "$OUT" | cut -f1)
b1=$(seg_bytes S)
[ $((b1 - b0)) -ge 1048576 ] || fail "1 MiB of random bytes took only $((b1 - b0)) bytes in the segment"
cp r1 r1.copy
cp small.bin small.copy
expect_status 0 kura ingest S r1.copy small.copy
id2=$(sed -n 1p "$OUT" | cut -f1) sid2=$(sed -n 2p "$OUT" | cut -f1)
b2=$(seg_bytes S)
[ "$id1" != "$id2" ] && [ "$sid1" != "$sid2" ] || fail "identical content ingested twice got the same ID"
[ $((b2 - b1)) -lt 4096 ] || fail "identical content stored again: the segment grew by $((b2 - b1)) bytes (dedup expects < 4096)"
cmp <(kura get S "$id2") r1 || fail "get of the deduplicated 1 MiB object differs"
cmp <(kura get S "$sid2") small.bin || fail "get of the deduplicated small object differs"
cmp <(kura get S "$id1") r1 || fail "get of the first 1 MiB object differs after dedup"
# the same content twice within one ingest (and a large one streamed): stored once
mkdir dup
random_file dup/one 1572864
cp dup/one dup/two
cp dup/one dup/three
b2=$(seg_bytes S)
expect_status 0 kura ingest S dup
b3=$(seg_bytes S)
[ "$(wc -l <"$OUT")" -eq 3 ] || fail "ingest of 3 identical files printed $(wc -l <"$OUT") lines"
[ $((b3 - b2)) -lt $((1572864 + 16384)) ] ||
	fail "3 identical 1.5 MiB files in one ingest took $((b3 - b2)) bytes (stored more than once)"
while IFS=$'\t' read -r -u 3 id sha path; do
	[ "$sha" = "$(sha256_of dup/one)" ] || fail "dup: wrong SHA-256"
	cmp <(kura get S "$id") dup/one || fail "dup: get of $path differs"
done 3<"$OUT"

# ------------------------------------------------------------------ KURA_NOW
printf 'in the future\n' >future.txt
KURA_NOW=2031-05-01T00:00:00Z expect_status 0 kura ingest S future.txt
fid=$(cut -f1 "$OUT")
expect_status 0 kura show S "$fid" --json
py 'o = json.load(open(sys.argv[1])); sys.exit(0 if o.get("ingested") == "2031-05-01T00:00:00Z" else "ingested is %r" % o.get("ingested"))' "$OUT" ||
	fail "KURA_NOW=2031-05-01T00:00:00Z did not set ingested"
KURA_NOW=2031-05-01T09:00:00+09:00 expect_status 0 kura ingest S future.txt
fid2=$(cut -f1 "$OUT")
expect_status 0 kura show S "$fid2" --json
py '
import datetime
o = json.load(open(sys.argv[1]))
t = datetime.datetime.fromisoformat(o["ingested"].replace("Z", "+00:00"))
sys.exit(0 if t == datetime.datetime(2031, 5, 1, tzinfo=datetime.timezone.utc) else "ingested is %r" % o["ingested"])
' "$OUT" || fail "KURA_NOW with a +09:00 offset gave the wrong instant"

# ------------------------------------------------------------------ scrub
expect_status 0 kura scrub S
[ ! -s "$OUT" ] || fail "scrub of a clean store printed: $(cat "$OUT")"

# ------------------------------------------------------------------ reindex
# Compares two `ls --json` outputs: same objects, same id/sha256/size/name/meta/ingested.
same_listing()
{
	py '
a, b = (json.load(open(p)) for p in sys.argv[1:3])
keys = ("id", "name", "path", "sha256", "size", "ingested", "meta", "digests")
pick = lambda l: sorted((tuple(json.dumps(o.get(k), sort_keys=True) for k in keys) for o in l))
if pick(a) != pick(b):
    sys.exit("listings differ:\n  before: %s\n  after:  %s" % (pick(a)[:3], pick(b)[:3]))
if a != b:
    sys.exit("listings differ in order or in other fields (segment/offset/stored)")
' "$1" "$2"
}
expect_status 0 kura ls S --json
cp "$OUT" before-reindex.json
rm -rf S/index
expect_error 3 kura ls S
expect_grep "$ERR" reindex
expect_error 3 kura show S "$fid"
expect_error 3 kura ingest S future.txt # must not start a new, empty index
expect_grep "$ERR" reindex
expect_error 3 kura ls S
expect_status 0 kura reindex S
expect_status 0 kura ls S --json
cp "$OUT" after-reindex.json
same_listing before-reindex.json after-reindex.json || fail "ls --json after reindex is not what it was"
expect_status 0 kura scrub S
cmp <(kura get S "$id1") r1 || fail "get after reindex differs"
printf 'after reindex\n' >after.txt
expect_status 0 kura ingest S after.txt
cmp <(kura get S "$(cut -f1 "$OUT")") after.txt || fail "ingest after reindex: get differs"

# ------------------------------------------------------------------ two ingests at once
mkdir pa pb
for i in $(seq 1 300); do
	echo "parallel a $i" >"pa/$i"
	echo "parallel b $i" >"pb/$i"
done
n_before=$(kura ls S | wc -l)
st_a=0 st_b=0
kura ingest S pa >pa.out 2>pa.err &
pid_a=$!
kura ingest S pb >pb.out 2>pb.err &
pid_b=$!
wait "$pid_a" || st_a=$?
wait "$pid_b" || st_b=$?
[ "$st_a" -eq 0 ] && [ "$st_b" -eq 0 ] || fail "parallel ingests exited $st_a and $st_b: $(cat pa.err pb.err)"
[ "$(wc -l <pa.out)" -eq 300 ] && [ "$(wc -l <pb.out)" -eq 300 ] || fail "parallel ingests printed $(wc -l <pa.out) and $(wc -l <pb.out) lines"
[ "$(kura ls S | wc -l)" -eq $((n_before + 600)) ] || fail "after two parallel ingests ls does not list 600 more objects"
for f in pa.out pb.out; do
	IFS=$'\t' read -r id sha path < <(sed -n 150p "$f")
	cmp <(kura get S "$id") "$path" || fail "parallel ingest: get of $path differs"
done
expect_status 0 kura scrub S

# ------------------------------------------------------------------ many segments
expect_status 0 kura init M --segment-size 65536
: >m.manifest
for i in $(seq 1 10); do
	mkdir -p "md$i"
	random_file "md$i/r1" $((12000 + i * 700))
	random_file "md$i/r2" $((15000 + i * 300))
	repeat_line 900 "row $i of a compressible ledger, amount $((i * 1000)) yen" >"md$i/ledger.txt"
	expect_status 0 kura ingest M --meta batch="$i" "md$i"
	[ "$(wc -l <"$OUT")" -eq 3 ] || fail "segment store: ingest $i printed $(wc -l <"$OUT") lines"
	while IFS=$'\t' read -r -u 3 id sha path; do
		[ "$sha" = "$(sha256_of "$path")" ] || fail "segment store: SHA-256 of $path"
		printf '%s\t%s\n' "$id" "$path" >>m.manifest
	done 3<"$OUT"
done
random_file big300k 307200 # one record larger than a whole segment
expect_status 0 kura ingest M big300k
printf '%s\t%s\n' "$(cut -f1 "$OUT")" big300k >>m.manifest
mkdir tiny # more than one batch (1024 objects) in one ingest: rolls mid-ingest
py '
for i in range(1100):
    open("tiny/t%04d" % i, "w").write("tiny file %d\n" % i)
'
expect_status 0 kura ingest M tiny
[ "$(wc -l <"$OUT")" -eq 1100 ] || fail "ingest of 1100 files printed $(wc -l <"$OUT") lines"
cut -f1,3 "$OUT" >tiny.manifest
nseg=$(ls M/segments | grep -c '\.seg$')
[ "$nseg" -ge 6 ] || fail "expected at least 6 segments with --segment-size 65536, got $nseg"
expect_status 0 kura ls M --json
cp "$OUT" m-before.json
py '
objs = json.load(open(sys.argv[1]))
if len(objs) != 1131:
    sys.exit("ls --json lists %d objects, expected 1131" % len(objs))
segs = {o["segment"] for o in objs}
if len(segs) < 5:
    sys.exit("objects are in only %d segments: %s" % (len(segs), sorted(segs)))
' m-before.json || fail "segment store listing"
while IFS=$'\t' read -r -u 3 id path; do
	cmp <(kura get M "$id") "$path" || fail "segment store: get of $path differs"
done 3<m.manifest
awk "NR % 137 == 5" tiny.manifest >tiny.sample
while IFS=$'\t' read -r -u 3 id path; do
	cmp <(kura get M "$id") "$path" || fail "segment store: get of $path differs"
done 3<tiny.sample
expect_status 0 kura scrub M
[ ! -s "$OUT" ] || fail "scrub of the segment store printed: $(head -3 "$OUT")"
rm -rf M/index
expect_error 3 kura ls M
expect_status 0 kura reindex M
expect_status 0 kura ls M --json
cp "$OUT" m-after.json
same_listing m-before.json m-after.json || fail "segment store: ls --json after reindex is not what it was"
expect_status 0 kura scrub M
awk "NR % 4 == 1" m.manifest >m.sample
while IFS=$'\t' read -r -u 3 id path; do
	cmp <(kura get M "$id") "$path" || fail "segment store after reindex: get of $path differs"
done 3<m.sample
random_file last.bin 30000
expect_status 0 kura ingest M last.bin
cmp <(kura get M "$(cut -f1 "$OUT")") last.bin || fail "segment store: ingest after reindex"
expect_status 0 kura scrub M
