#!/usr/bin/env bash
# The systemd units (renewal/kura-serve@.service, renewal/kura-daemon@.service) and the
# example environment file of the service (renewal/kura-serve.env):
#   a. the service unit's ExecStart, expanded as systemd expands it (%f, ${KURA_LISTEN} as one
#      word, $KURA_SERVE_OPTIONS split at spaces) with the example file's options pointed at
#      test files, starts `kura serve` with TLS and client certificates, and a bound client
#      certificate is served; the unit runs as its own user, confined to the store;
#   b. systemd-analyze verify finds nothing wrong in either unit (and does report a
#      misspelt option); skipped, saying so, where systemd-analyze is not installed.
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/renewal/servers.sh"
on_exit stop_all_servers
UNITS=$HERE/../../renewal
SERVE_UNIT=$UNITS/kura-serve@.service
DAEMON_UNIT=$UNITS/kura-daemon@.service
ENV_EXAMPLE=$UNITS/kura-serve.env
cd "$T"
for f in "$SERVE_UNIT" "$DAEMON_UNIT" "$ENV_EXAMPLE"; do
	[ -r "$f" ] || fail "missing $f"
done

# ------------------------------------------------------------------ a. the unit's command
for want in "User=kura" "NoNewPrivileges=yes" "ProtectSystem=strict" "ReadWritePaths=%f" "PrivateTmp=yes" \
	"Restart=on-failure" "EnvironmentFile=/etc/kura/serve-%i.env" "Conflicts=kura-daemon@%i.service"; do
	grep -qx -- "$want" "$SERVE_UNIT" || fail "kura-serve@.service has no line '$want'"
done
mkdir tls
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout tls/server.key -out tls/server.pem 2>/dev/null || fail "openssl req (server)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=Client CA" \
	-keyout tls/client-ca.key -out tls/client-ca.pem 2>/dev/null || fail "openssl req (client CA)"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=dms" -keyout dms.key -out dms.csr 2>/dev/null ||
	fail "openssl req (client)"
openssl x509 -req -in dms.csr -CA tls/client-ca.pem -CAkey tls/client-ca.key -days 10 -out dms.pem 2>/dev/null ||
	fail "openssl x509 -req (client)"
mkdir srv
expect_status 0 kura init srv/archive
expect_status 0 kura user add srv/archive dms --role archivist
expect_status 0 kura user cert srv/archive dms dms.pem

# the example environment file, its paths pointed here and its address at loopback
sed -e "s|/etc/kura/tls/|$T/tls/|g" -e "s|^KURA_LISTEN=.*|KURA_LISTEN=127.0.0.1:0|" "$ENV_EXAMPLE" >serve-srv-archive.env
declare -A envf
while IFS= read -r line; do
	case $line in '#'* | '') continue ;; esac
	envf[${line%%=*}]=${line#*=}
done <serve-srv-archive.env
[ -n "${envf[KURA_LISTEN]:-}" ] && [ -n "${envf[KURA_SERVE_OPTIONS]:-}" ] ||
	fail "kura-serve.env sets no KURA_LISTEN or KURA_SERVE_OPTIONS"
cmd=$(sed -n 's/^ExecStart=//p' "$SERVE_UNIT")
[[ $cmd == "/usr/local/bin/kura serve %f --listen \${KURA_LISTEN} \$KURA_SERVE_OPTIONS" ]] ||
	fail "ExecStart is not what this test expands: $cmd"
cmd=${cmd/\/usr\/local\/bin\/kura/$KURA_BIN}
cmd=${cmd/\%f/$T/srv/archive}
cmd=${cmd/\$\{KURA_LISTEN\}/${envf[KURA_LISTEN]}}
cmd=${cmd/\$KURA_SERVE_OPTIONS/${envf[KURA_SERVE_OPTIONS]}}
read -r -a argv <<<"$cmd" # the test's paths have no spaces
: >srv.out # there before the loop reads it (the background job opens it when it starts)
"${argv[@]}" >srv.out 2>srv.err &
echo $! >>"$SERVERS_FILE"
PID=$!
URL=
for ((i = 0; i < 500; i++)); do
	URL=$(sed -n 's|^listening on \(https://127\.0\.0\.1:[0-9]*/\)$|\1|p' srv.out)
	[ -n "$URL" ] && break
	alive "$PID" || fail "the unit's command (${argv[*]}) exited: $(head -c 600 srv.err)"
	sleep 0.02
done
[ -n "$URL" ] || fail "the unit's command printed no 'listening on https://' in 10 s"
CODE=$(curl -s --cacert tls/server.pem --cert dms.pem --key dms.key -o "$OUT" -w '%{http_code}' "${URL}api/v1/RetrieveInfo")
[ "$CODE" = 200 ] || fail "a bound client certificate under the unit's options: HTTP $CODE $(head -c 300 "$OUT")"
expect_grep "$OUT" '"account":"dms"'
stop_server "$PID"
expect_grep srv.err "service stopped"
if grep -q Sanitizer srv.err; then fail "the service stopped with a sanitizer's report: $(grep -A12 Sanitizer srv.err | head -30)"; fi

# ------------------------------------------------------------------ b. systemd-analyze verify
if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP [$TEST_NAME]: systemd-analyze is not installed: the units were not verified by systemd" >&2
	exit 0
fi
# copies whose ExecStart names this kura and whose EnvironmentFile exists (verify checks both)
mkdir units
for u in "$SERVE_UNIT" "$DAEMON_UNIT"; do
	sed -e "s|/usr/local/bin/kura|$KURA_BIN|" -e "s|/etc/kura/serve-%i.env|$T/serve-srv-archive.env|" "$u" \
		>"units/$(basename "$u")"
done
for u in kura-serve@srv-archive.service kura-daemon@srv-archive.service; do
	expect_status 0 systemd-analyze verify "units/$u"
	[ ! -s "$OUT" ] && [ ! -s "$ERR" ] || fail "systemd-analyze verify $u: $(cat "$OUT" "$ERR")"
done
echo "ProtectSystm=strict" >>units/kura-serve@.service
systemd-analyze verify units/kura-serve@srv-archive.service >"$OUT" 2>&1 || true
expect_grep "$OUT" "ProtectSystm" # the check sees a misspelt option
