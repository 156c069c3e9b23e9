# A throwaway single-node Ceph cluster for the RADOS tests: one monitor and one memstore OSD
# (no manager: RADOS reads and writes do not need one), bound to 127.0.0.1 only, on ports
# below the kernel's ephemeral range, everything (configuration, keys, logs, sockets, data in
# memory) inside one folder. Needs the Debian packages ceph-mon, ceph-osd, ceph-common
# (`make deps`).
#
# Sourced:   ceph_start DIR    starts it; sets CEPH_CONF (DIR/ceph.conf, whose keyring holds
#                              client.admin) and CEPH_POOL (the pool "kura"); prints how long
#                              it took. On failure says why (with the daemons' log tails),
#                              stops what it started and returns 1.
#            ceph_stop DIR     stops the daemons by the PIDs ceph_start recorded (SIGKILL:
#                              the data is thrown away); safe to call twice.
#            ceph_osd_stop DIR    kills the OSD (SIGKILL) and waits until it is gone;
#            ceph_osd_start DIR   starts it again and waits until the monitor has it up.
#                              Only with CEPH_OBJECTSTORE=bluestore: a memstore OSD loses
#                              its data when it stops.
# CEPH_OBJECTSTORE=bluestore (set before ceph_start): the OSD keeps its data in BlueStore on a
# sparse file DIR/osd.0/block (no loop device), so it survives the OSD's stop; the default,
# memstore, keeps it in memory and starts faster. CEPH_MAX_OBJECT_SIZE (bytes): the objects'
# size limit, 16 MiB by default (Ceph's own default, 128 MiB, for benchmarks).
# CEPH_OSDS=N (N >= 3; default 1): N memstore OSDs, and an erasure-coded pool "kura-ec"
# (profile kura-ec: k=2, m=1, failure domain osd) with allow_ec_overwrites, as a data pool
# (kura init --data-pool); sets CEPH_EC_POOL. Ceph allows EC overwrites only on BlueStore OSDs:
# the monitor gets mon_debug_no_require_bluestore_for_ec_overwrites = true, for the test only.
# As a command: bash ceph.sh start DIR | stop DIR
#
# The daemons run in their own session (setsid) in the foreground (-f), so the PID recorded
# is the daemon's own; nothing is ever killed by name.

# Ports BASE (mon, msgr2), BASE+1 (mon, msgr1), BASE+10..BASE+99 (the OSD's messengers).
_ceph_ports_free()
{
	local base=$1
	! ss -Htan 2>/dev/null | awk '{print $4}' | sed 's/.*://' |
		awk -v lo="$base" -v hi=$((base + 99)) '$1 >= lo && $1 <= hi {found=1} END {exit !found}'
}

_ceph_pick_base()
{
	local eph_lo base tries
	read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range
	# bases 20000, 20100, ... below the ephemeral range, starting at one chosen by PID so that
	# two test runs at once (plain and sanitized builds) rarely try the same one first
	local n=$(((eph_lo - 20100) / 100))
	[ "$n" -ge 1 ] || { echo "the ephemeral port range starts at $eph_lo: no room below it for a test cluster" >&2; return 1; }
	for tries in $(seq 0 $((n - 1))); do
		base=$((20000 + ((($$ + tries) % n) * 100)))
		if _ceph_ports_free "$base"; then
			echo "$base"
			return 0
		fi
	done
	echo "no free block of 100 ports between 20000 and $eph_lo" >&2
	return 1
}

_ceph_conf()
{
	local dir=$1 base=$2
	cat <<EOF
[global]
fsid = $(uuidgen)
mon host = [v2:127.0.0.1:$base,v1:127.0.0.1:$((base + 1))]
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
public network = 127.0.0.0/8
ms bind ipv4 = true
ms bind ipv6 = false
ms bind port min = $((base + 10))
ms bind port max = $((base + 99))
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $dir/keyring
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
mon cluster log file = $dir/log/cluster.log
crash dir = $dir/crash
log to stderr = false
err to stderr = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
auth allow insecure global id reclaim = false
mon warn on insecure global id reclaim allowed = false
# the monitor commits map changes once per interval (1 s by default: most of the start time)
paxos propose interval = 0.1
# small objects (the default is 128 MiB), so that the tests fill segments with little data
osd max object size = ${CEPH_MAX_OBJECT_SIZE:-16777216}
osd objectstore = ${CEPH_OBJECTSTORE:-memstore}
memstore device bytes = 1073741824
bluestore block create = true
bluestore block size = 4294967296
bluestore fsck on mkfs = false
bluestore fsck on mount = false
osd memory target = 939524096
[client]
# one admin socket per client process: a second kura process (another writer, a reader) on the
# same path would take it over, and the first, answering a probe later, dies of SIGPIPE
admin socket = $dir/run/\$name.\$pid.asok
[mon.a]
mon data = $dir/mon.a
[osd.0]
osd data = $dir/osd.0
EOF
	local i
	for i in $(seq 1 $((${CEPH_OSDS:-1} - 1))); do printf '[osd.%d]\nosd data = %s/osd.%d\n' "$i" "$dir" "$i"; done
	# memstore OSDs are not BlueStore: a test-only switch lets an EC pool take overwrites
	[ "${CEPH_OSDS:-1}" = 1 ] || printf '[mon]\nmon debug no require bluestore for ec overwrites = true\n'
}

# _ceph_wait DIR SECONDS WHAT CMD...: until CMD succeeds; on timeout says so and returns 1
_ceph_wait()
{
	local dir=$1 secs=$2 what=$3 end
	shift 3
	end=$(($(date +%s) + secs))
	until timeout 10 "$@" >/dev/null 2>&1; do
		if [ "$(date +%s)" -ge "$end" ]; then
			echo "the test Ceph cluster did not come up: no $what after $secs s" >&2
			return 1
		fi
		sleep 0.2
	done
}

_ceph_daemon()
{
	local dir=$1 name=$2
	shift 2
	setsid "$@" -f </dev/null >"$dir/log/$name.out" 2>&1 &
	echo $! >"$dir/pids/$name"
	disown $! # no job report from the shell when ceph_stop kills it
}

_ceph_failed()
{
	local dir=$1
	echo "--- the test Ceph cluster's log tails ($dir/log):" >&2
	tail -n 8 "$dir"/log/*.out "$dir"/log/*.log >&2 2>/dev/null
	ceph_stop "$dir"
	return 1
}

_ceph_start_osd()
{
	local dir=$1
	_ceph_daemon "$dir" osd.0 ceph-osd -i 0 -c "$dir/ceph.conf"
	_ceph_wait "$dir" 60 "OSD up" bash -c "ceph -c '$dir/ceph.conf' osd dump --format=json | grep -q '\"up\":1'"
}

# _ceph_more_osds DIR: with CEPH_OSDS=N, OSDs 1..N-1 and the erasure-coded pool kura-ec
_ceph_more_osds()
{
	local dir=$1 conf=$1/ceph.conf n=${CEPH_OSDS:-1} i uuid key
	[ "$n" = 1 ] && return 0
	[ "$n" -ge 3 ] || { echo "CEPH_OSDS=$n: an EC pool of k=2, m=1 needs at least 3 OSDs" >&2; return 1; }
	for i in $(seq 1 $((n - 1))); do
		mkdir -p "$dir/osd.$i"
		uuid=$(uuidgen)
		key=$(ceph-authtool --gen-print-key) || return 1
		printf '{"cephx_secret": "%s"}\n' "$key" >"$dir/osd.$i.secret"
		{ ceph-authtool "$dir/keyring" -n "osd.$i" --add-key "$key" &&
			[ "$(ceph -c "$conf" osd new "$uuid" -i "$dir/osd.$i.secret")" = "$i" ] &&
			ceph-osd -c "$conf" -i "$i" --mkfs --osd-uuid "$uuid"; } \
			>>"$dir/log/mkfs.out" 2>&1 || { echo "making the test cluster's OSD $i failed" >&2; return 1; }
	done
	# started once every key is in the keyring: ceph-authtool rewrites it, and an OSD
	# reading it meanwhile failed to authenticate
	for i in $(seq 1 $((n - 1))); do _ceph_daemon "$dir" "osd.$i" ceph-osd -i "$i" -c "$conf"; done
	_ceph_wait "$dir" 60 "$n OSDs up" \
		bash -c "[ \$(ceph -c '$conf' osd dump --format=json | grep -o '\"up\":1' | wc -l) = $n ]" || return 1
	{ ceph -c "$conf" osd erasure-code-profile set kura-ec k=2 m=1 crush-failure-domain=osd &&
		ceph -c "$conf" osd pool create kura-ec 8 8 erasure kura-ec &&
		ceph -c "$conf" osd pool set kura-ec allow_ec_overwrites true &&
		ceph -c "$conf" osd pool application enable kura-ec rados; } >>"$dir/log/mkfs.out" 2>&1 ||
		{ echo "making the test EC pool failed" >&2; return 1; }
	echo probe >"$dir/run/probe"
	_ceph_wait "$dir" 60 "write to the EC pool" rados -c "$conf" -p kura-ec put probe "$dir/run/probe" || return 1
	rados -c "$conf" -p kura-ec rm probe
	export CEPH_EC_POOL=kura-ec
}

ceph_start()
{
	local dir=$1 base t0 tool uuid
	t0=$(date +%s%N)
	for tool in ceph-mon ceph-osd ceph ceph-authtool monmaptool rados uuidgen ss; do
		command -v "$tool" >/dev/null ||
			{ echo "$tool is not installed (make deps installs ceph-mon, ceph-osd, ceph-common)" >&2; return 1; }
	done
	base=$(_ceph_pick_base) || return 1
	# a CEPH_* variable of another cluster would steer these daemons to it
	unset CEPH_ARGS CEPH_KEYRING CEPH_CONF
	mkdir -p "$dir"/{log,run,pids,crash,mon.a,osd.0} || return 1
	dir=$(cd "$dir" && pwd)
	_ceph_conf "$dir" "$base" >"$dir/ceph.conf"
	local conf=$dir/ceph.conf kr=$dir/keyring
	{ ceph-authtool --create-keyring "$kr" --gen-key -n mon. --cap mon 'allow *' &&
		ceph-authtool "$kr" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' &&
		ceph-authtool "$kr" --gen-key -n osd.0 --cap mon 'allow profile osd' --cap osd 'allow *' &&
		monmaptool --create --fsid "$(sed -n 's/^fsid = //p' "$conf")" \
			--addv a "[v2:127.0.0.1:$base,v1:127.0.0.1:$((base + 1))]" "$dir/monmap" &&
		ceph-mon -c "$conf" -i a --mkfs --monmap "$dir/monmap" --keyring "$kr"; } >"$dir/log/mkfs.out" 2>&1 ||
		{ echo "making the test cluster's monitor failed" >&2; _ceph_failed "$dir"; return 1; }
	_ceph_daemon "$dir" mon.a ceph-mon -c "$conf" -i a
	_ceph_wait "$dir" 60 "monitor quorum" ceph -c "$conf" --connect-timeout 5 mon stat || { _ceph_failed "$dir"; return 1; }
	uuid=$(uuidgen)
	{ [ "$(ceph -c "$conf" osd new "$uuid")" = 0 ] && ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$uuid"; } \
		>>"$dir/log/mkfs.out" 2>&1 || { echo "making the test cluster's OSD failed" >&2; _ceph_failed "$dir"; return 1; }
	_ceph_start_osd "$dir" || { _ceph_failed "$dir"; return 1; }
	_ceph_more_osds "$dir" || { _ceph_failed "$dir"; return 1; }
	{ ceph -c "$conf" osd pool create kura 8 8 replicated && ceph -c "$conf" osd pool application enable kura rados; } \
		>>"$dir/log/mkfs.out" 2>&1 || { echo "making the test pool failed" >&2; _ceph_failed "$dir"; return 1; }
	echo probe >"$dir/run/probe"
	_ceph_wait "$dir" 60 "write to the pool" rados -c "$conf" -p kura put probe "$dir/run/probe" ||
		{ _ceph_failed "$dir"; return 1; }
	rados -c "$conf" -p kura rm probe
	export CEPH_CONF=$conf CEPH_POOL=kura
	echo "test Ceph cluster in $dir (ports $base..$((base + 99))) up in $((($(date +%s%N) - t0) / 1000000)) ms"
}

# _ceph_kill DIR NAME: SIGKILL to the daemon ceph_start recorded as NAME, if it is still that
# daemon (its PID not reused), then waits until it is gone.
_ceph_kill()
{
	local dir=$1 name=$2 pid i
	[ -f "$dir/pids/$name" ] || return 0
	pid=$(cat "$dir/pids/$name")
	rm -f "$dir/pids/$name"
	case "$(cat "/proc/$pid/comm" 2>/dev/null || true)" in
	ceph-mon | ceph-osd) kill -KILL "$pid" 2>/dev/null ;;
	*) return 0 ;;
	esac
	# gone: no such process, or a zombie whose threads have all ended
	for i in $(seq 1 100); do
		[ -d "/proc/$pid" ] || return 0
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] &&
			[ "$(ls "/proc/$pid/task" 2>/dev/null | wc -l)" -le 1 ] && return 0
		sleep 0.05
	done
}

ceph_osd_stop()
{
	_ceph_kill "$1" osd.0
}

ceph_osd_start()
{
	[ "${CEPH_OBJECTSTORE:-memstore}" = bluestore ] ||
		{ echo "ceph_osd_start: a memstore OSD lost its data when it stopped (use CEPH_OBJECTSTORE=bluestore)" >&2; return 1; }
	local dir=$1
	_ceph_daemon "$dir" osd.0 ceph-osd -i 0 -c "$dir/ceph.conf"
	# the monitor may still have the old OSD up (nobody reported it down): wait for a write
	echo probe >"$dir/run/probe"
	_ceph_wait "$dir" 60 "write to the pool after the OSD's restart" \
		rados -c "$dir/ceph.conf" -p kura put probe "$dir/run/probe" || return 1
	rados -c "$dir/ceph.conf" -p kura rm probe
}

ceph_stop()
{
	local f
	for f in "$1"/pids/osd.*; do
		if [ -e "$f" ]; then _ceph_kill "$1" "${f##*/}"; fi
	done
	_ceph_kill "$1" mon.a
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case "${1:-}" in
	start) ceph_start "${2:?usage: ceph.sh start DIR}" ;;
	stop) ceph_stop "${2:?usage: ceph.sh stop DIR}" ;;
	*) echo "usage: ceph.sh start DIR | stop DIR" >&2 && exit 2 ;;
	esac
fi
