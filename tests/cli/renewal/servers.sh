# Background `kura tsa serve` processes for tests/cli/test_renewal.sh and test_fifty_years.sh
# (and `kura serve`, the preservation service, for test_serve.sh: SERVE_WHAT=serve), sourced
# after lib.sh. Servers listen on 127.0.0.1 only.
#
# Every running server's pid is listed in $T/.servers; a script registers
# `on_exit stop_all_servers` at top level, so a server started inside run_case (a subshell,
# whose own exit hooks would be lost) is stopped at exit all the same. A pid leaves the list
# as soon as its server is stopped, so nothing else is ever signalled.

SERVERS_FILE=$T/.servers
: >"$SERVERS_FILE"

# 0 if process $1 runs (a zombie does not: it only waits for its parent's wait).
alive()
{
	local s=
	if [ -r "/proc/$1/stat" ]; then
		s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1 || true)
	fi
	if [ -n "$s" ] && [ "$s" != Z ]; then return 0; else return 1; fi
}

# Stops the server with pid $1: SIGTERM, up to 5 s, then SIGKILL; drops it from the list.
stop_server()
{
	local pid=$1 i
	if grep -qx "$pid" "$SERVERS_FILE" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 250; i++)); do
			alive "$pid" || break
			sleep 0.02
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		sed -i "/^$pid\$/d" "$SERVERS_FILE"
	fi
	return 0
}

stop_all_servers()
{
	local pid
	for pid in $(cat "$SERVERS_FILE" 2>/dev/null); do
		stop_server "$pid"
	done
}

# start_serve NAME NOW LISTEN ARGS...: `kura tsa serve ARGS --listen LISTEN` in the background
# with KURA_NOW=NOW in its environment (the embedded TSA's clock; "" for the real clock),
# stdout NAME.out, stderr NAME.err. Waits at most 10 s for its
# "listening on http://127.0.0.1:PORT/" line; sets SERVER_PID, SERVER_URL and SERVER_PORT.
# A restart on a fixed port is tried again a few times if the port is taken for a moment
# (another test's outgoing connection may hold it as its local port).
start_serve()
{
	local attempt
	for ((attempt = 1; attempt < 10; attempt++)); do
		_start_serve_once "$@" && return 0
		grep -q 'cannot listen' "$1.err" || break
		sleep 0.3
	done
	_start_serve_once "$@" ||
		fail "$1 (kura ${SERVE_WHAT:-tsa serve} ${*:4} --listen $3) exited before listening: $(tail -c 600 "$1.err")"
}

_start_serve_once()
{
	local name=$1 now=$2 listen=$3 i what
	read -r -a what <<<"${SERVE_WHAT:-tsa serve}"
	shift 3
	: >"$name.out"
	: >"$name.err"
	if [ -n "$now" ]; then
		KURA_NOW=$now "$KURA_BIN" "${what[@]}" "$@" --listen "$listen" >"$name.out" 2>"$name.err" &
	else
		"$KURA_BIN" "${what[@]}" "$@" --listen "$listen" >"$name.out" 2>"$name.err" &
	fi
	SERVER_PID=$!
	echo "$SERVER_PID" >>"$SERVERS_FILE"
	SERVER_URL=
	for ((i = 0; i < 500; i++)); do
		SERVER_URL=$(sed -n 's|^listening on \(https\{0,1\}://127\.0\.0\.1:[1-9][0-9]*/\)$|\1|p' "$name.out" || true)
		if [ -n "$SERVER_URL" ]; then
			SERVER_PORT=${SERVER_URL#http*://127.0.0.1:}
			SERVER_PORT=${SERVER_PORT%/}
			return 0
		fi
		if ! alive "$SERVER_PID"; then
			wait "$SERVER_PID" 2>/dev/null || true
			sed -i "/^$SERVER_PID\$/d" "$SERVERS_FILE"
			return 1
		fi
		sleep 0.02
	done
	fail "$name printed no 'listening on http://127.0.0.1:PORT/' line within 10 s: $(head -c 300 "$name.out")"
}

# A TCP port on 127.0.0.1 that nothing listens on (bound, then closed).
closed_port()
{
	py 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
