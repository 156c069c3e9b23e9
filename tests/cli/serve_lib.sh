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

# start_slow_tsa DELAY [slow_proxy options...]: the embedded TSA (start_serve tsa, TSA files in
# tsa-dir/) behind tsa/slow_proxy.py, which answers after DELAY seconds (log proxy.log);
# sets PROXY_URL. Needs NOW.
start_slow_tsa()
{
	local delay=$1 i
	shift
	SERVE_WHAT="tsa serve" start_serve tsa "$NOW" 127.0.0.1:0 --dir tsa-dir
	: >proxy.out # there before the loop reads it
	python3 "$HERE/tsa/slow_proxy.py" --to "$SERVER_URL" --delay "$delay" "$@" --log proxy.log \
		>proxy.out 2>proxy.err &
	echo $! >>"$SERVERS_FILE"
	for ((i = 0; i < 100; i++)); do
		PROXY_URL=$(sed -n 's|^listening on \(http://127\.0\.0\.1:[1-9][0-9]*/\)$|\1|p' proxy.out)
		[ -n "$PROXY_URL" ] && return 0
		sleep 0.1
	done
	fail "the slow TSA did not start: $(cat proxy.err)"
}

# submit NAME [QUERY]: PreservePO (to $API, as token $ARCH) of a small document; its answer
# in NAME.json, its time in NAME.time
submit()
{
	echo "document $1" >"$1.txt"
	local code
	code=$(curl -s -o "$1.json" -w '%{http_code} %{time_total}' -H "Authorization: Bearer $ARCH" \
		--data-binary "@$1.txt" "$API/PreservePO?name=$1.txt${2:-}")
	echo "${code#* }" >"$1.time"
	[ "${code%% *}" = 201 ] || fail "PreservePO of $1: HTTP $code: $(cat "$1.json")"
}
