#!/usr/bin/env bash
# kill -9 on a RADOS store (archive/backend_rados.c) gives the guarantees of a local one, on a
# throwaway cluster (tests/cli/ceph.sh, memstore). If the cluster does not start, the test
# fails and says why.
# - Ingest killed at random points (while it writes, commits or seals): every complete line
#   it printed names an object the store lists with that SHA-256, a sample reads back; the
#   next writer takes over once the dead one's lease ran out; its seal seals what the killed
#   one left pending; verify exits 0 and scrub is clean.
# - Seal killed at random points: the seal either completed or is redone by the next one;
#   then verify exits 0 and scrub is clean.
# - Compaction (kura_compact_tool, as disposal compacts) killed at random points: every
#   segment is wholly what it was or wholly its compaction (the replacement is named in the
#   omap directory in one write operation), the next open for writing finishes or undoes it
#   (no ".staged" key and no unnamed replacement stays), scrub is clean, verify exits 0,
#   every acknowledged live object reads back and a disposed one says so. A compaction run
#   to its end shrinks the store and leaves segments replaced by their other letter.
source "$(dirname "$0")/lib.sh" || exit 1
source "$(dirname "$0")/ceph.sh" || exit 1
cd "$T"

TOOL=${KURA_COMPACT_TOOL:-$(dirname "$KURA_BIN")/tests/kura_compact_tool}
[ -x "$TOOL" ] || fail "no kura_compact_tool at $TOOL (build the tests)"
if [ "$KURA_SANITIZED" = 1 ]; then
	INGEST_KILLS=2 SEAL_KILLS=2 COMPACT_KILLS=3 NSMALL=150
else
	INGEST_KILLS=4 SEAL_KILLS=3 COMPACT_KILLS=5 NSMALL=400
fi
SEED=${KILL_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$SEED
echo "[$TEST_NAME] seed $SEED"

on_exit "ceph_stop '$T/ceph'"
ceph_start "$T/ceph" >ceph.out 2>&1 || fail "the test Ceph cluster did not start: $(cat ceph.out)"
cat ceph.out
R=(rados -c "$CEPH_CONF" -p "$CEPH_POOL")

rados_init() # STORE NAMESPACE [init options...]
{
	local store=$1 ns=$2
	shift 2
	expect_status 0 kura init "$store" --backend rados --ceph-conf "$CEPH_CONF" --pool "$CEPH_POOL" \
		--namespace "$ns" --lease-seconds 5 "$@"
}

# sealed_and_clean STORE WHEN: a seal (the next writer: it waits for a killed one's lease)
# leaves nothing pending; verify exits 0, scrub is clean
sealed_and_clean()
{
	expect_status 0 kura seal "$1"
	expect_status 0 kura verify "$1"
	expect_scrub_clean "$1" "$2"
}

# ------------------------------------------------------------------ kill -9 during ingest and seal
ingest_seal_case()
{
	rados_init S kill
	: >acked.tsv
	make_docs cal "$NSMALL" 2048
	local t0 full_ms seal_ms i killed=0
	t0=$(date +%s%N)
	expect_status 0 kura ingest S cal
	full_ms=$((($(date +%s%N) - t0) / 1000000))
	acked "$OUT" cal
	echo "[$TEST_NAME] an ingest with its seal takes $full_ms ms"
	# at least INGEST_KILLS rounds, and more (up to 6) until one kill landed; each kill
	# within the shortest ingest seen so far (a later one can be quicker than the first)
	i=0
	while [ "$i" -lt "$INGEST_KILLS" ] || { [ "$killed" = 0 ] && [ "$i" -lt $((INGEST_KILLS + 6)) ]; }; do
		i=$((i + 1))
		make_docs "in$i" "$NSMALL" 2048
		run_killed $((RANDOM % (full_ms * 9 / 10 + 1))) "kill.out" "kill.err" "$KURA_BIN" ingest S "in$i"
		[ "$KILL_STATUS" = 137 ] && killed=$((killed + 1))
		[ "$KILL_STATUS" = 137 ] || [ "$KILL_STATUS" = 0 ] || fail "ingest $i exited $KILL_STATUS: $(cat kill.err)"
		[ "$KILL_STATUS" = 137 ] || [ "$KILL_MS" -ge "$full_ms" ] || full_ms=$KILL_MS
		acked kill.out "in$i"
		check_acked S acked.tsv 3
		sealed_and_clean S "after ingest $i was killed after $KILL_MS ms"
	done
	local ingests=$i seal_killed=0
	# seal: the time of one, then kills within it
	make_docs sl0 "$NSMALL" 64
	expect_status 0 kura ingest S --no-seal sl0
	acked "$OUT" sl0
	t0=$(date +%s%N)
	expect_status 0 kura seal S
	seal_ms=$((($(date +%s%N) - t0) / 1000000))
	i=0
	while [ "$i" -lt "$SEAL_KILLS" ] || { [ "$seal_killed" = 0 ] && [ "$i" -lt $((SEAL_KILLS + 6)) ]; }; do
		i=$((i + 1))
		make_docs "sl$i" "$NSMALL" 64
		expect_status 0 kura ingest S --no-seal "sl$i"
		acked "$OUT" "sl$i"
		run_killed $((RANDOM % (seal_ms * 9 / 10 + 1))) kill.out kill.err "$KURA_BIN" seal S
		[ "$KILL_STATUS" = 137 ] && seal_killed=$((seal_killed + 1))
		[ "$KILL_STATUS" = 137 ] || [ "$KILL_STATUS" = 0 ] || fail "seal $i exited $KILL_STATUS: $(cat kill.err)"
		[ "$KILL_STATUS" = 137 ] || [ "$KILL_MS" -ge "$seal_ms" ] || seal_ms=$KILL_MS
		# a reader: valid, or "not sealed yet" for what the killed seal left pending
		local st=0
		"$KURA_BIN" verify S >verify.out 2>verify.err || st=$?
		[ "$st" = 0 ] || { [ "$st" = 1 ] && ! grep -v -e $'\tvalid$' \
			-e $'\tindeterminate\tobject .* is not sealed yet; run kura seal$' verify.out; } ||
			fail "verify after seal $i was killed exited $st: $(grep -v $'\tvalid$' verify.out | head -n 3) $(cat verify.err)"
		check_acked S acked.tsv 3
		sealed_and_clean S "after seal $i was killed after $KILL_MS ms"
	done
	echo "[$TEST_NAME] $killed of $ingests ingests and $seal_killed of $i seals killed, $(wc -l <acked.tsv) objects acknowledged"
	[ "$killed" -ge 1 ] && [ "$seal_killed" -ge 1 ] || fail "no kill landed in an ingest ($killed) or in a seal ($seal_killed)"
}
run_case "kill -9 during ingest and seal" ingest_seal_case

# ------------------------------------------------------------------ kill -9 during compaction
# dump DIR: the segments as the directory names them, as DIR/NNNNNNNN.seg
dump()
{
	rm -rf "$1" && mkdir "$1"
	local key letter
	for key in $("${R[@]}" -N compact listomapkeys kura.segments); do
		case $key in *.staged) continue ;; esac
		"${R[@]}" -N compact getomapval kura.segments "$key" letter.bin >/dev/null
		letter=$(cat letter.bin)
		"${R[@]}" -N compact get "kura.seg.$key.$letter" "$1/$key.seg"
	done
}

# dead_shas: the SHA-256s only disposed objects use, into dead.txt
dead_shas()
{
	py '
disposed = set(l.strip() for l in open("disposed.txt") if l.strip())
dead, live = set(), set()
for l in open("acked.tsv"):
    id_, sha = l.split("\t")[:2]
    (dead if id_ in disposed else live).add(sha)
open("dead.txt", "w").write("".join(s + "\n" for s in sorted(dead - live)))
'
}

# after_compaction WHEN: the store after the next open for writing (an ingest)
after_compaction()
{
	"${R[@]}" -N compact listomapkeys kura.segments >keys.txt
	! grep -q '\.staged$' keys.txt || fail "$1: a replacement is still staged: $(grep staged keys.txt)"
	expect_scrub_clean C "$1"
	expect_status 0 kura verify C
	grep -v -F -f disposed.txt acked.tsv >live.tsv || true
	check_acked C live.tsv 3
	local id
	id=$(shuf -n 1 disposed.txt)
	expect_error 1 kura get C "$id"
	expect_grep "$ERR" "was disposed of"
}

compact_case()
{
	rados_init C compact --segment-size 65536
	: >acked.tsv
	: >disposed.txt
	local round=0 t0 dur_ms=300 landed=0 before after
	while :; do
		make_docs "c$round" 30 200
		expect_status 0 kura ingest C "c$round"
		cp "$OUT" round.out
		acked round.out "c$round"
		[ "$round" = 0 ] || after_compaction "after compaction $round was killed"
		# a third of this round's documents disposed of
		awk -v s=$RANDOM 'BEGIN { srand(s) } rand() < 0.34 { print $1 }' round.out >mark.txt
		[ -s mark.txt ] || head -n 1 round.out | cut -f1 >mark.txt
		expect_status 0 "$TOOL" C --mark $(cat mark.txt)
		cat mark.txt >>disposed.txt
		dead_shas
		# at least COMPACT_KILLS rounds, and more (up to 6) until one kill landed mid-way
		if [ "$round" -ge "$COMPACT_KILLS" ]; then
			[ "$landed" -ge 1 ] || [ "$round" -ge $((COMPACT_KILLS + 6)) ] && break
		fi
		round=$((round + 1))
		dump pre
		# a kill in the first nine tenths of the shortest compaction seen so far
		run_killed $((RANDOM % (dur_ms * 9 / 10 + 1))) kill.out kill.err "$TOOL" C
		if [ "$KILL_STATUS" = 137 ]; then
			landed=$((landed + 1))
		elif [ "$KILL_STATUS" = 0 ]; then
			[ "$KILL_MS" -ge "$dur_ms" ] || dur_ms=$KILL_MS
		else
			fail "compaction $round exited $KILL_STATUS: $(cat kill.err)"
		fi
		dump now
		segments_compacted pre now "compaction $round killed after $KILL_MS ms"
	done
	dump pre
	before=$(cat pre/*.seg | wc -c)
	t0=$(date +%s%N)
	expect_status 0 "$TOOL" C
	dump now
	after=$(cat now/*.seg | wc -c)
	segments_compacted pre now "the last compaction"
	[ "$after" -lt "$before" ] || fail "compaction left $after of $before bytes"
	grep -q '|b|' <<<"$("${R[@]}" -N compact listomapvals kura.segments)" ||
		fail "no segment was replaced by its other letter's object"
	make_docs cz 5 10
	expect_status 0 kura ingest C cz
	acked "$OUT" cz
	after_compaction "after the last compaction"
	echo "[$TEST_NAME] $landed of $round compactions killed in the middle; segments $before -> $after bytes"
	[ "$landed" -ge 1 ] || fail "no kill landed during a compaction"
}
run_case "kill -9 during compaction" compact_case
finish_cases
