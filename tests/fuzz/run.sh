#!/usr/bin/env bash
# Runs the libFuzzer harnesses of a KURA_FUZZ build (docs/FUZZING.md): each for SECONDS, JOBS at
# a time, starting from its committed seeds (tests/fuzz/corpus/NAME), the seeds made from
# ../shared/vectors and what earlier runs in BUILD found (BUILD/fuzz/corpus/NAME).
#
#   run.sh BUILD SECONDS [JOBS] [NAME...]      NAME: record, tst, ... (default: every harness)
#   FUZZ_RUNS=N run.sh ...                      also stop each after N executions (the long runs)
#
# Exits non-zero when a harness crashed, leaked, hung (an input over 25 s) or ran out of memory; the
# input that did it is kept in BUILD/fuzz/crashes/NAME/ and the command to reproduce it is printed.
# Logs: BUILD/fuzz/logs/NAME.log.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=$(realpath "${1:?usage: run.sh BUILD SECONDS [JOBS] [NAME...]}")
SECONDS_EACH=${2:?usage: run.sh BUILD SECONDS [JOBS] [NAME...]}
JOBS=${3:-2}
FUZZ_RUNS=${FUZZ_RUNS:-}
shift 3 2>/dev/null || shift $#
OUT=$BUILD/fuzz
mkdir -p "$OUT"/{corpus,crashes,logs}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for bin in "$BUILD"/tests/fuzz/fuzz_*; do
		names+=("$(basename "$bin" | sed 's/^fuzz_//')")
	done
fi
[ ${#names[@]} -gt 0 ] || { echo "run.sh: no harnesses in $BUILD/tests/fuzz (build with -DKURA_FUZZ=ON)" >&2; exit 3; }

rm -rf "$OUT/vectors.tmp"
"$HERE/seeds.sh" vectors "$OUT/vectors.tmp" >/dev/null && rm -rf "$OUT/vectors" && mv "$OUT/vectors.tmp" "$OUT/vectors" ||
	{ echo "run.sh: cannot make the seeds from ../shared/vectors" >&2; exit 3; }

# The harnesses' temporary files (packages, segments, a store) in memory when possible, in a
# folder of this run's that goes at the end (a harness that crashed cannot remove its own).
base=${TMPDIR:-/tmp}
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	base=/dev/shm
fi
TMPDIR=$(mktemp -d "$base/kura-fuzz-run.XXXXXX") || exit 3
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
# Leaks are errors (libFuzzer's default); a small quarantine keeps the leak scans cheap.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=32:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
	local name=$1 seeds=()
	mkdir -p "$OUT/corpus/$name" "$OUT/crashes/$name"
	rm -f "$OUT/crashes/$name"/* # only this run's findings stay
	for d in "$HERE/corpus/$name" "$OUT/vectors/$name"; do
		[ -d "$d" ] && seeds+=("$d")
	done
	"$BUILD/tests/fuzz/fuzz_$name" -max_total_time="$SECONDS_EACH" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} -timeout=25 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$OUT/crashes/$name/" \
		"$OUT/corpus/$name" "${seeds[@]}" >"$OUT/logs/$name.log" 2>&1
}

export -f run_one
export HERE OUT BUILD SECONDS_EACH FUZZ_RUNS
printf '%s\n' "${names[@]}" | xargs -P "$JOBS" -I{} bash -c 'run_one {} && echo "fuzz {}: ok" || echo "fuzz {}: FAILED"' |
	tee "$OUT/logs/summary"

status=0
for name in "${names[@]}"; do
	log=$OUT/logs/$name.log
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -n 's/.*cov: \([0-9]*\).*corp: \([0-9]*\).*/cov \1, corpus \2/p')
	echo "fuzz $name: ${runs:-?} executions, ${rate:-?}/s, ${cov:-?}"
	if grep -q "fuzz $name: FAILED" "$OUT/logs/summary"; then
		status=1
		echo "---- fuzz $name failed; the end of $log:" >&2
		grep -v '^#[0-9]' "$log" | tail -40 >&2
		for f in "$OUT/crashes/$name"/*; do
			[ -e "$f" ] && echo "reproduce: $BUILD/tests/fuzz/fuzz_$name $f" >&2
		done
	fi
done
exit $status
