# What the tests of kura serve share, sourced first: lib.sh, the servers of renewal/servers.sh
# (stopped at exit; SERVE_WHAT=serve), the test's folder $T as the working one, and expect_code.
source "$(dirname "$0")/lib.sh" || exit 1
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/renewal/servers.sh"
on_exit stop_all_servers
SERVE_WHAT=serve
cd "$T"

# expect_code CODE WHAT: the last request's HTTP status ($CODE, its answer in $OUT) is CODE
expect_code() { [ "$CODE" = "$1" ] || fail "$2: expected HTTP $1, got $CODE: $(head -c 300 "$OUT")"; }
