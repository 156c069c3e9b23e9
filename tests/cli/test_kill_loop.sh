#!/usr/bin/env bash
# The kill loop: KILLS random `kill -9` (default 50; `make crash-test` runs 1,000) over every
# writing operation of a store that lives through simulated time (KURA_NOW moves 1-3 days a
# round), so that renewals and rollovers really happen under the kills:
#   ingest (sealing at once or --no-seal), seal, import (of a package exported by another
#   store), time-stamp renewal, hash-tree renewal and the embedded TSA's rollover (both inside
#   `kura renew`), and the scheduler (`kura daemon STORE`, its loop, not --once).
# Each kill lands after a random delay drawn from 0 .. 1.25 x the measured duration of that
# operation (the median of its last uninterrupted runs), so kills spread over the whole of
# each operation. After EVERY kill:
#   - every complete line the killed command printed (ingest: ID SHA-256 PATH, import: OK ID
#     PATH) names an object that `kura ls --json` lists with the SHA-256 of the file as it was
#     written (check_acked, tests/cli/lib.sh), for every object acknowledged since the start;
#     the new ones and two older ones are read back with `kura get` and hashed;
#   - `kura verify STORE` exits 0; or, when the kill left objects pending, it says exactly
#     "not sealed yet" for those, `kura seal` works and `verify` then exits 0;
#   - `kura scrub` exits 0 and reports nothing (every stored byte hashes to its SHA-256);
#   - $TMPDIR holds at most one unpacked package (the one a killed import may just have left:
#     the next import removes it);
#   - the next round's commands (writes) work: nobody repairs the store in between.
# A renewal that is due is killed 1-5 times in successive rounds, then run to the end (it
# must exit 0 and leave nothing due now), inside the policy's margins, so evidence never expires. A renewal run whose
# TSA certificate is within the margin rolls the TSA over first: those kills count as
# "rollover + ..." (whether the rollover was done when the kill came is counted too).
# Each epoch is a fresh store (init at the epoch's start date) with a policy whose SHA-256
# ends after 40 days and SHA-512 after 80 (two hash-tree renewals, to SHA-512 and then
# SHA-384), 40-day TSA certificates, 70-day TSA roots (the root rolls over too) and 20-day
# margins; an epoch lasts 55 rounds (about 110 days).
# Once, at the start: two imports killed as soon as their package appears unpacked in
# $TMPDIR, then one that must remove what they left.
# KILL_SEED=N repeats a run's choices (timing still differs); KILL_REPORT=FILE writes the
# figures as JSON (make crash-test uses it for docs/HARDENING.md).
source "$(dirname "$0")/lib.sh" || exit 1
cd "$T"
mkdir tmp
export TMPDIR=$T/tmp

if [ "$KURA_SANITIZED" = 1 ]; then
	KILLS=${KILLS:-15} NFILES=40 BIG_KIB=512
else
	KILLS=${KILLS:-50} NFILES=150 BIG_KIB=3072
fi
SEED=${KILL_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$SEED
EPOCH_ROUNDS=55
echo "[$TEST_NAME] $KILLS kills, seed $SEED"
started=$SECONDS

: >acked.tsv # every acknowledged object: ID, SHA-256, what printed it
declare -A KILLS_BY DONE_BY DUR
checks=0 rollovers=0 round=0 epoch=0

# ---------------------------------------------------------------- time

# the simulated clock: seconds since 1970, formatted for KURA_NOW
now_s=0
NOW=
set_now()
{
	now_s=$1
	NOW=$(date -u -d "@$now_s" +%Y-%m-%dT%H:%M:%SZ)
}
day() { date -u -d "@$(($1))" +%Y-%m-%d; }

# ---------------------------------------------------------------- durations

# note_ms OP MS: remembers an uninterrupted run (the last five count)
note_ms()
{
	local l="${DUR[$1]:-} $2"
	DUR[$1]=$(echo "$l" | tr ' ' '\n' | grep . | tail -n 5 | tr '\n' ' ')
}

# delay_ms OP: a kill delay in 0 .. 1.25 x the median duration of OP (100 ms before any run)
delay_ms()
{
	local med
	med=$(echo "${DUR[$1]:-100}" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
	[ "$med" -ge 5 ] || med=5
	echo $(((RANDOM * 32768 + RANDOM) % (med * 5 / 4 + 1)))
}

# timed OP CMD...: runs CMD to the end (exit 0 expected; stdout in $OUT), notes its duration
timed()
{
	local op=$1 t0
	shift
	t0=$(date +%s%N)
	expect_status 0 "$@"
	note_ms "$op" $((($(date +%s%N) - t0) / 1000000))
}

# ---------------------------------------------------------------- documents

# make_docs DIR: a fresh folder of 1..NFILES small documents (and sometimes a big one of up
# to BIG_KIB KiB, every other one compressible); DIR.manifest holds PATH TAB SHA-256.
make_docs()
{
	rm -rf "$1"
	py '
import hashlib, random
d, nfiles, big_kib, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rnd = random.Random(seed)
os.makedirs(d)
with open(d + ".manifest", "w") as man:
    def put(name, data):
        p = os.path.join(d, name)
        open(p, "wb").write(data)
        man.write("%s\t%s\n" % (p, hashlib.sha256(data).hexdigest()))
    for i in range(rnd.randint(1, nfiles)):
        put("doc%04d.txt" % i, b"document %d\n" % i + os.urandom(rnd.randint(0, 4000)))
    if rnd.random() < 0.3:
        n = rnd.randint(1, big_kib) << 10
        put("big.bin", (b"ledger line %d\n" % rnd.randint(0, 9999)) * (n // 17) if rnd.random() < 0.5 else os.urandom(n))
' "$1" "$NFILES" "$BIG_KIB" "$RANDOM"
}

# take_acks KIND OUTPUT MANIFEST: the complete lines of OUTPUT (an ingest's ID SHA PATH, or an
# import's OK ID data/files/PATH, PATH that of OLD-ID's document in pkg.files) checked against
# what was written, added to acked.tsv and new.tsv. MANIFEST: PATH TAB SHA-256 (ingest) or
# OLD-ID TAB SHA-256 (import).
take_acks()
{
	py '
kind, out, man = sys.argv[1:4]
lines = open(out, "rb").read().split(b"\n")[:-1]  # the last piece is incomplete or empty
known = dict(l.rstrip("\n").split("\t")[:2] for l in open(man))
old_id = dict(l.rstrip("\n").split("\t")[:2] for l in open("pkg.files")) if kind == "import" else {}
with open("acked.tsv", "a") as acked, open("new.tsv", "w") as new:
    for raw in lines:
        f = raw.decode().split("\t")
        if kind == "ingest":
            if len(f) != 3 or known.get(f[2]) != f[1]:
                sys.exit("ingest printed %r; the file had SHA-256 %s" % (raw, known.get(f[2] if len(f) > 2 else "")))
            id_, sha = f[0], f[1]
        else:
            if len(f) < 3 or f[0] != "OK" or old_id.get(f[2]) not in known:
                sys.exit("import printed %r" % raw)
            id_, sha = f[1], known[old_id[f[2]]]
        for o in (acked, new):
            o.write("%s\t%s\t%s\n" % (id_, sha, kind))
' "$1" "$2" "$3" || fail "round $round: what $1 printed does not match what was written: $(tail -c 300 "$2")"
}

# ---------------------------------------------------------------- the checks after a kill

# verify_all: `kura verify` valid for every object, after sealing what a kill left pending
verify_all()
{
	local st=0
	at "$NOW" verify S >verify.out 2>"$ERR" || st=$?
	if [ "$st" -eq 1 ] && ! grep -v -e $'\tvalid$' -e $'\tindeterminate\tobject .* is not sealed yet; run kura seal$' verify.out >/dev/null; then
		timed seal at "$NOW" seal S
		st=0
		at "$NOW" verify S >verify.out 2>"$ERR" || st=$?
		[ "$st" -eq 0 ] || fail "round $round ($NOW): verify after seal exits $st: $(grep -v $'\tvalid$' verify.out | head -3)"
	fi
	[ "$st" -eq 0 ] || fail "round $round ($NOW): kura verify exits $st after the kill: $(grep -v $'\tvalid$' verify.out | head -3) $(cat "$ERR")"
}

check_store()
{
	local what=$1
	cat new.tsv >>sample.tsv
	shuf -n 2 acked.tsv >>sample.tsv || true
	sort -u sample.tsv | shuf -n 6 >sample1.tsv || true
	check_acked S acked.tsv 0 sample1.tsv
	verify_all
	expect_scrub_clean S "round $round ($what at $NOW)"
	local left
	left=$(find "$TMPDIR" -maxdepth 1 -name 'kura-package.*' | wc -l)
	[ "$left" -le 1 ] || fail "round $round ($what): killed imports left $left unpacked packages in \$TMPDIR"
	checks=$((checks + 1))
	: >sample.tsv
}

# ---------------------------------------------------------------- operations

# killed OP ARGS...: runs `kura ARGS` (at $NOW) under kill -9 after a delay drawn for OP;
# counts the kill or, when kura finished first (exit 0 required), notes its duration
killed()
{
	local op=$1 d tsa0
	shift
	d=$(delay_ms "$op")
	tsa0=$(sha256_of S/tsa/tsa.pem)
	run_killed "$d" op.out op.err env KURA_NOW="$NOW" "$KURA_BIN" "$@"
	if [ "$KILL_STATUS" -eq 137 ]; then
		# the daemon's round report on stdout: the kill came while it slept
		[ "$op" != daemon ] || ! grep -q '^renewed ' op.out || op="daemon (asleep after its round)"
		KILLS_BY[$op]=$((${KILLS_BY[$op]:-0} + 1))
		kills=$((kills + 1))
	elif [ "$KILL_STATUS" -eq 0 ]; then
		DONE_BY[$op]=$((${DONE_BY[$op]:-0} + 1))
		note_ms "$op" "$KILL_MS"
	else
		fail "round $round ($NOW): $op exited $KILL_STATUS by itself: $(cat op.err)"
	fi
	[ "$(sha256_of S/tsa/tsa.pem)" = "$tsa0" ] || rollovers=$((rollovers + 1))
	LAST="$op after ${d} ms, status $KILL_STATUS"
}

op_ingest()
{
	local seal=$1
	make_docs docs
	if [ "$seal" = seal ]; then
		killed ingest+seal ingest S docs
	else
		killed ingest ingest S --no-seal docs
	fi
	take_acks ingest op.out docs.manifest
}

# pending DOCS: an uninterrupted ingest --no-seal (what seal and the daemon then work on)
pending()
{
	make_docs docs
	timed ingest at "$NOW" ingest S --no-seal docs
	cp "$OUT" op.out
	take_acks ingest op.out docs.manifest
	cat new.tsv >>sample.tsv
}

op_seal()
{
	pending
	killed seal seal S
	: >new.tsv
}

op_daemon()
{
	pending
	killed daemon daemon S
	: >new.tsv
	# its duration: one round to the end
	[ $((RANDOM % 3)) -ne 0 ] || timed daemon at "$NOW" daemon S --once
}

# make_package: pkg.tar exported by a fresh store P (its TSA's root trusted by S);
# pkg.manifest holds P's IDs and SHA-256s
make_package()
{
	rm -rf P pkg.tar
	make_docs pdocs
	expect_status 0 at "$NOW" init P --policy policy.yaml --tsa-days 40
	expect_status 0 at "$NOW" ingest P pdocs
	cut -f1,2 "$OUT" >pkg.manifest
	expect_status 0 at "$NOW" export P -o pkg.tar
	# where each document is in the package (object.json's "file"), for reading import's OK lines
	py 'import tarfile
t = tarfile.open(sys.argv[1])
with open(sys.argv[2], "w") as out:
    for m in t.getmembers():
        p = m.name.split("/")
        if len(p) == 4 and p[1] == "data" and p[3] == "object.json" and p[2] not in ("audit", "files"):
            out.write("data/%s\t%s\n" % (json.load(t.extractfile(m))["file"], p[2]))' pkg.tar pkg.files
	at "$NOW" tsa ca P >p-ca.pem
	expect_status 0 at "$NOW" trust add S --tsa p-ca.pem
}

op_import()
{
	make_package
	killed import import S pkg.tar
	take_acks import op.out pkg.manifest
	if [ $((RANDOM % 4)) -eq 0 ]; then # its duration (a second import: two more objects each)
		timed import at "$NOW" import S pkg.tar
		cp "$OUT" op.out
		take_acks import op.out pkg.manifest
		cat new.tsv >>sample.tsv
	fi
}

# nothing_due WHEN: after a `kura renew` that exited 0, `renew --plan --json` (same clock)
# lists nothing due now
nothing_due()
{
	expect_status 0 at "$NOW" renew S --plan --json
	py 'sys.exit(any(i["due_now"] for i in json.load(open(sys.argv[1]))))' "$OUT" ||
		fail "renewals overdue $1 ($NOW): $(cat "$OUT")"
}

# renew OP: killed while due; after its 1-5 kills (at most 15 days: the margins are 20), once
# to the end, which leaves nothing due
renew_kills=0 renew_max=0
op_renew()
{
	local op=$1
	[ "$renew_kills" -gt 0 ] || renew_max=$((1 + RANDOM % 5))
	killed "$op" renew S
	: >new.tsv
	renew_kills=$((renew_kills + 1))
	if [ "$renew_kills" -ge "$renew_max" ]; then
		timed "$op" at "$NOW" renew S
		nothing_due "after the renewal run of round $round"
		renew_kills=0
	fi
}

# what `renew --plan` says is due now: "hash-tree renewal", "time-stamp renewal" or nothing
due_now()
{
	at "$NOW" renew S --plan >plan.txt 2>"$ERR" || fail "round $round ($NOW): renew --plan failed: $(cat "$ERR")"
	if grep -q '^DUE NOW  hash-tree renewal' plan.txt; then
		echo "hash-tree renewal"
	elif grep -q '^DUE NOW  time-stamp renewal' plan.txt; then
		echo "time-stamp renewal"
	fi
}

# Is the embedded TSA's certificate within the margin (the next renew or seal rolls it over)?
rollover_due()
{
	local end
	end=$(openssl x509 -in S/tsa/tsa.pem -noout -enddate) || fail "cannot read S/tsa/tsa.pem"
	[ $(($(date -u -d "${end#notAfter=}" +%s) - 20 * 86400)) -le "$now_s" ]
}

new_epoch()
{
	epoch=$((epoch + 1))
	set_now $(($(date -u -d 2026-01-01 +%s) + (epoch - 1) * 200 * 86400))
	local e1 e2
	e1=$(day "now_s + 40 * 86400")
	e2=$(day "now_s + 80 * 86400")
	cat >policy.yaml <<EOP
kura-policy: 1
name: kill-loop-$epoch
title: kill loop epoch $epoch
margins: {certificate-days: 20, algorithm-days: 20}
algorithms:
  sha256:   {until: $e1, source: "test: ends after 40 days"}
  sha512:   {until: $e2, source: "test: ends after 80 days"}
  sha384:   {until: null, source: "test: no end"}
  ec-p256:  {until: null, source: "test: no end"}
EOP
	rm -rf S
	: >acked.tsv
	expect_status 0 at "$NOW" init S --policy policy.yaml --tsa-days 40 --tsa-root-days 70
	: >sample.tsv
}

# Two imports killed while their package is unpacked in $TMPDIR (each kill comes as soon as
# its folder appears, and leaves it): the next import removes them (and imports)
killed_imports_clean_up()
{
	local n=0 left=0 tries pid
	shopt -s nullglob
	make_package
	for tries in $(seq 1 20); do
		local before=" $(echo "$TMPDIR"/kura-package.*) " d mine=
		env KURA_NOW="$NOW" "$KURA_BIN" import S pkg.tar >op.out 2>op.err &
		pid=$!
		while [ -z "$mine" ] && kill -0 "$pid" 2>/dev/null; do
			for d in "$TMPDIR"/kura-package.*; do
				[[ $before == *" $d "* ]] || mine=$d
			done
		done
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		take_acks import op.out pkg.manifest
		[ -z "$mine" ] || [ ! -d "$mine" ] || left=$((left + 1))
		[ "$left" -lt 2 ] || break
	done
	shopt -u nullglob
	[ "$left" -ge 2 ] || fail "of 20 imports killed as their package appeared in \$TMPDIR, $left left it there"
	expect_status 0 at "$NOW" import S pkg.tar
	cp "$OUT" op.out
	take_acks import op.out pkg.manifest
	n=$(find "$TMPDIR" -maxdepth 1 -name 'kura-package.*' | wc -l)
	[ "$n" -eq 0 ] || fail "the import after two killed ones left $n unpacked package(s) in \$TMPDIR: $(ls "$TMPDIR")"
	check_store "killed imports"
}

# ---------------------------------------------------------------- the loop

kills=0
acked_total=0
while [ "$kills" -lt "$KILLS" ]; do
	if [ $((round % EPOCH_ROUNDS)) -eq 0 ]; then
		acked_total=$((acked_total + $(wc -l <acked.tsv)))
		new_epoch
		[ "$epoch" -ne 1 ] || killed_imports_clean_up
	fi
	round=$((round + 1))
	set_now $((now_s + 86400 + (RANDOM * 32768 + RANDOM) % (2 * 86400)))
	due=$(due_now)
	if [ -n "$due" ]; then
		! rollover_due || due="rollover + $due"
		op_renew "$due"
	else
		case $((RANDOM % 5)) in
		0) op_ingest seal ;;
		1) op_ingest no-seal ;;
		2) op_seal ;;
		3) op_import ;;
		4) op_daemon ;;
		esac
	fi
	check_store "$LAST"
	if [ $((round % 10)) -eq 0 ]; then
		echo "[$TEST_NAME] round $round ($NOW): $kills kills, $(wc -l <acked.tsv) objects acknowledged in epoch $epoch"
	fi
done
acked_total=$((acked_total + $(wc -l <acked.tsv)))

# at the end: every acknowledged object of the last store read back, and one more renewal run
check_acked S acked.tsv 40
expect_status 0 at "$NOW" renew S
nothing_due "at the end"

secs=$((SECONDS - started))
# counts "OP=N, OP=N" (operation names hold spaces)
counts()
{
	local -n c=$1
	local op sep=
	for op in "${!c[@]}"; do
		printf '%s%s=%d' "$sep" "$op" "${c[$op]}"
		sep=", "
	done
}
echo "[$TEST_NAME] $kills kills in $round rounds over $epoch epoch(s), ${secs}s: $(counts KILLS_BY)"
echo "[$TEST_NAME] finished before the kill: $(counts DONE_BY)"
echo "[$TEST_NAME] $acked_total objects acknowledged and checked after every kill; $checks store checks; the TSA rolled over under $rollovers killed runs"
if [ -n "${KILL_REPORT:-}" ]; then
	py '
kills, done = ({k: int(v) for k, v in (x.split("=") for x in s.split(", ") if x)} for s in sys.argv[2:4])
json.dump({"kills": int(sys.argv[4]), "rounds": int(sys.argv[5]), "epochs": int(sys.argv[6]), "seconds": int(sys.argv[7]),
           "acknowledged": int(sys.argv[8]), "checks": int(sys.argv[9]), "rollovers_under_kill": int(sys.argv[10]),
           "seed": int(sys.argv[11]), "kills_by_op": kills, "finished_before_kill": done}, open(sys.argv[1], "w"), indent=1)
' "$KILL_REPORT" "$(counts KILLS_BY)" "$(counts DONE_BY)" \
		"$kills" "$round" "$epoch" "$secs" "$acked_total" "$checks" "$rollovers" "$SEED"
fi
