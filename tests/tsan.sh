#!/usr/bin/env bash
# The service's tests under ThreadSanitizer (make test-tsan; docs/SERVICE.md, "ThreadSanitizer"):
# runs them with BUILD/kura built with KURA_TSAN=ON, each kura process writing its reports to
# BUILD/tsan/kura.PID, and fails if any report is there. tests/tsan.supp lists the races TSan
# reports inside third-party libraries it cannot see into; a race in kura's code fails this.
# Usage: tests/tsan.sh BUILD [TEST...]   (TEST: a name of tests/cli, e.g. test_serve_api)
set -u
BUILD=$(cd "${1:?usage: tests/tsan.sh BUILD [TEST...]}" && pwd)
shift
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$BUILD/kura" ] || { echo "tsan: no $BUILD/kura (build it with -DKURA_TSAN=ON)" >&2; exit 2; }
TESTS=("$@")
[ ${#TESTS[@]} -gt 0 ] || TESTS=(test_serve test_serve_api test_serve_records test_serve_tls test_serve_alerts
	test_serve_seal_unlocked test_serve_users test_serve_load test_web)
LOGS=$BUILD/tsan
rm -rf "$LOGS"
mkdir -p "$LOGS"
failed=0
for t in "${TESTS[@]}"; do
	start=$SECONDS
	# KURA_SANITIZED=1: the smaller sizes the sanitized runs use (tests/cli/lib.sh)
	TSAN_OPTIONS="log_path=$LOGS/kura halt_on_error=0 second_deadlock_stack=1 suppressions=$HERE/tsan.supp" \
		KURA_BIN=$BUILD/kura KURA_SANITIZED=1 bash "$HERE/cli/$t.sh" >"$LOGS/$t.log" 2>&1
	rc=$?
	echo "tsan: $t: exit $rc ($((SECONDS - start)) s)"
	[ $rc -eq 0 ] || { failed=1; tail -n 5 "$LOGS/$t.log"; }
done
reports=$(grep -l "WARNING: ThreadSanitizer" "$LOGS"/kura.* 2>/dev/null)
if [ -n "$reports" ]; then
	echo "tsan: reports in:" $reports
	grep -h "SUMMARY: ThreadSanitizer" $reports | sort | uniq -c
	failed=1
fi
[ $failed -eq 0 ] && echo "tsan: no data race reported in kura"
exit $failed
