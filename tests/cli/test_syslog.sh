#!/usr/bin/env bash
# The daemon's alerts reach syslog (journald under systemd) through the real syslog(3): in a
# mount namespace of its own, /dev is a copy (links to the real entries) whose `log` is a unix
# datagram socket bound by a Python listener; `kura daemon STORE --once`, at a store's due date
# with its TSA unreachable, must send the alert lines there: the event, the remedy command, with
# facility daemon and the alert's severity (<27>: daemon.err for round-failed [error]) and the
# tag kura[PID]. Skipped (SKIP: line) when not root or without mount namespaces.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null ||
	! unshare --mount sh -c 'mount --bind "$1" "$1"' - "$T" 2>/dev/null; then
	echo "SKIP: needs root and unshare --mount (a mount namespace to put a socket at /dev/log)"
	exit 0
fi

D0=2026-01-01T00:00:00Z
DUE=2026-12-05T00:00:00Z
POLICY=$T/policy.yaml
test_policy "$POLICY" syslog-test
S=$T/store
expect_status 0 at "$D0" init "$S" --policy "$POLICY" --tsa-days 365
random_file "$T/one" 300
expect_status 0 at "$D0" ingest "$S" "$T/one"
expect_status 0 at "$DUE" tsa urls "$S" --set http://127.0.0.1:1/

# the listener: every datagram on a line of its own (escaped), until $T/stop exists
cat >"$T/listen.py" <<'EOS'
import os, socket, sys, time
path, out, stop = sys.argv[1:4]
end = time.monotonic() + 300
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(0.2)
with open(out, "w") as f:
    f.write("ready\n")
    f.flush()
    while not os.path.exists(stop) and time.monotonic() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        f.write(d.decode("utf-8", "backslashreplace").replace("\n", "\\n") + "\n")
        f.flush()
EOS
# inside the namespace: /dev made of links to the real entries, and the socket as log
cat >"$T/inside.sh" <<'EOS'
set -eu
T=$1
shift
trap 'touch "$T/stop"' EXIT
mkdir "$T/olddev" "$T/newdev"
mount --bind /dev "$T/olddev"
for e in /dev/* /dev/.[!.]*; do
	[ -e "$e" ] || [ -L "$e" ] || continue
	n=$(basename "$e")
	[ "$n" = log ] || ln -s "$T/olddev/$n" "$T/newdev/$n"
done
"$PYTHON" "$T/listen.py" "$T/newdev/log" "$T/got" "$T/stop" &
for _ in $(seq 100); do
	[ -s "$T/got" ] && break
	sleep 0.1
done
mount --bind "$T/newdev" /dev
rc=0
"$@" || rc=$?
touch "$T/stop"
wait
exit "$rc"
EOS
export PYTHON KURA_TSA_TIMEOUT=2
rc=0
KURA_NOW=$DUE unshare --mount bash "$T/inside.sh" "$T" "$KURA_BIN" daemon "$S" --once >"$OUT" 2>"$ERR" || rc=$?
[ "$rc" = 3 ] || fail "the daemon's round should fail with 3 (its TSA is unreachable), got $rc: $(cat "$ERR")"
[ -f "$T/got" ] && [ "$(head -n1 "$T/got")" = ready ] || fail "the listener did not start: $(cat "$ERR")"
expect_grep "$ERR" "alert round-failed [error]"

py 'import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()[1:]
assert lines, "nothing arrived at /dev/log"
store, levels = sys.argv[2], {"critical": 2, "error": 3, "warning": 4, "info": 5}
kinds = {}
for l in lines:
    m = re.match(r"<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d kura\[\d+\]: (.*)$", l)
    assert m, "not a syslog(3) message with the tag kura[PID]: %r" % l
    a = re.match(re.escape(store) + r": alert ([a-z-]+) \[([a-z]+)\]: ", m.group(2))
    assert a, "not an alert line of the store: %r" % m.group(2)
    # facility daemon (3), the severity the line names
    assert int(m.group(1)) == 3 * 8 + levels[a.group(2)], "priority %s for %r" % (m.group(1), l)
    kinds[a.group(1)] = m.group(2)
for k in ("round-failed", "tsa-failing", "evidence-at-risk"):
    assert k in kinds, "no %s alert in %r" % (k, lines)
r = kinds["round-failed"]
assert " [error]: " in r and "; run: kura renew " in r and store in r.split("; run: ")[1], r' "$T/got" "$S" ||
	fail "syslog: $(cat "$T/got")"
