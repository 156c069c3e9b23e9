#!/usr/bin/env bash
# `make bench`: measures kura and, in the same run on the same bytes, its baselines, and
# prints ONE table (Markdown). Usage: bench/run.sh BUILD-DIR [FULL]   (FULL=1 adds N = 10M).
#
# What each row measures (kura_bench is bench/kura_bench.c; "CLI" is build/kura in a child):
#   seal N          stores of N tiny unique documents filled through the library (not timed),
#                   then kura_bench seal: kura_seal (pending scan, digests, tree, ONE token,
#                   durable seal record) plus every object's reduced tree
#   export          kura_object_evidence (the DER record `kura evidence` writes) for every
#                   object of the 1M store; again on nproc threads, each with a store handle
#                   and an evidence cache of its own over a contiguous share of the objects
#   verify (store)  CLI `kura verify STORE` over the 100k store (stored bytes re-read and hashed,
#                   each seal checked once); verify --deep: every record assembled and verified
#   verify-er       kura_er_verify of 10k records on their own (no token cache), as verify-er
#                   does for one record: data digest, reduced tree, token signature and path
#   ingest 4 KiB    CLI `kura ingest --no-seal` of a folder of 20k files of 4 KiB (durable)
#   ingest large    CLI `kura ingest --no-seal` of one 512 MiB file (compressible CSV, random)
#   ts renewal      CLI `kura renew` of a 1M-object store sealed in 1,000 seals whose TSA
#                   certificate is due; TSA requests = new 'T' records (kura_bench records)
#   ht renewal      CLI `kura renew` after `policy sunset sha256`: every object re-read and
#                   re-hashed into a SHA-512 chain (the two large files)
#   ls              CLI `kura ls` of the 1M-object store after 10,000 of its records got a
#                   second version: the current versions only, against `ls --all-versions`
#                   (every object, as ls listed before records management) in the same run
#   compaction      kura_bench compact: kura_store_compact() of a store of 256 MiB of random
#                   1 MiB documents in 64 MiB segments, every 10th disposed of: every segment
#                   read, checked and rewritten without them, synced, the index moved; then
#                   the same over 300k tiny documents (kura_bench fill) in 16 MiB segments
#   ingest, fields  kura_bench ingest-fields: the 20k files as `kura ingest --no-seal` takes them,
#                   each with five values of its own, into a store with five typed fields,
#                   against the same without fields (alternately, best of two each)
#   typed query     kura_bench search: a date range AND an amount range AND a counterparty
#                   (about 1,000 hits) over 1M objects with three typed fields, through
#                   kura_search_ids and through CLI `kura ls --where`, against a full scan
#                   with the same predicate in the same run (the store is cached: $CACHE)
#   service         `kura serve` under bench/kura_load.c (16 connections on loopback): PreservePO
#                   of 4 KiB documents (durable) against the CLI's folder ingest of the same ones,
#                   retrievals, ValidateEvidence, GETs beside 1,000 idle connections (serve_rows)
#   RADOS           (only when Ceph's daemons are installed: skipped otherwise) on a throwaway
#                   cluster (tests/cli/ceph.sh: one memstore OSD, loopback, Ceph's default
#                   object size of 128 MiB): CLI `kura ingest
#                   --no-seal` of the 20k files of 4 KiB and of 200 random documents of 1 MiB
#                   into RADOS stores, against bench/rados_baseline appending documents of the
#                   same sizes with the same parallelism (32 writes in flight, synced at
#                   kura's commit points) through librados; CLI `kura verify` of the 4 KiB
#                   store against rados_baseline reading all its objects (4 MiB, 32 in flight);
#                   kura and the baseline are both timed as processes (start-up, connect)
# ONLY=search bench/run.sh BUILD-DIR: only the last two (issue 15) and their table.
# ONLY=serve: only the service rows (issue 17) and their table.
# ONLY=rados bench/run.sh BUILD-DIR: only the RADOS rows and their table.
# Baselines: `openssl dgst -sha256` + `zstd -1` on the same bytes (their times added: one
# core each after the other, as kura does them); for the large files also the disk: `dd
# conv=fdatasync` of as many bytes as the ingest stored, the row naming the slower baseline; `openssl ts -query` + `-reply` for one
# token, Bouncy Castle's ERS (org.bouncycastle.tsp.ers) at 2,000 objects (its generator is
# O(N^3)); for compaction `dd conv=fdatasync` copying the same segment files (MB/s of the
# bytes compaction reads).
set -euo pipefail

BUILD=$(cd "${1:?usage: bench/run.sh BUILD-DIR [FULL]}" && pwd)
FULL=${2:-0}
HERE=$(cd "$(dirname "$0")" && pwd)
KURA=$BUILD/kura
KB=$BUILD/kura_bench
KL=$BUILD/kura_load
BC_N=${BC_N:-2000}
# jar PACKAGE NAME: where the Debian package installed NAME.jar
jar() { dpkg -L "$1" 2>/dev/null | grep "/$2\.jar\$" | head -n 1; }
BCCP=$(jar libbcprov-java bcprov):$(jar libbcpkix-java bcpkix):$(jar libbcutil-java bcutil)
D0=2026-01-01T00:00:00Z
export KURA_NOW=$D0

W=$(mktemp -d -t kura-bench.XXXXXX)
SERVE_PID=
CEPH_DIR=
cleanup()
{
	[ -z "$SERVE_PID" ] || kill "$SERVE_PID" 2>/dev/null || true
	[ -z "$CEPH_DIR" ] || ceph_stop "$CEPH_DIR"
	rm -rf "$W"
}
trap cleanup EXIT
cd "$W"
ROWS=$W/rows

say() { echo "bench: $*" >&2; }

# timed RESULT-VAR CMD...: runs CMD (output to $W/out, $W/err); sets RESULT-VAR to
# "seconds peak-KiB" of the child.
timed()
{
	local var=$1
	shift
	"$KB" time "$W/t" "$@" >"$W/out" 2>"$W/err" || {
		say "failed: $*"
		cat "$W/err" >&2
		exit 1
	}
	printf -v "$var" '%s' "$(cut -d' ' -f1,2 "$W/t")"
}

# lib RESULT-VAR MODE ARGS...: a kura_bench mode; "seconds peak-KiB count bytes".
lib()
{
	local var=$1 got
	shift
	got=$("$KB" "$@" 2>"$W/err") || {
		say "failed: kura_bench $*"
		cat "$W/err" >&2
		exit 1
	}
	printf -v "$var" '%s' "$got"
}

# row WHAT N SECS COUNT UNIT RSS-KIB BASE-NAME BASE-RATE TARGET-KIND TARGET
#   UNIT: "obj" (count/s) or "MB" (count bytes, MB/s); BASE-RATE in the same unit.
#   TARGET-KIND: rate (rate >= TARGET), secs (SECS <= TARGET), rss (RSS <= TARGET MiB), "-".
row()
{
	printf '%s\n' "$*" | tr ' ' '\t' | sed 's/_/ /g' >>"$ROWS"
}

rate() { awk -v c="$1" -v s="$2" 'BEGIN { printf "%.6g", c / s }'; }
mb() { awk -v c="$1" 'BEGIN { printf "%.6g", c / 1e6 }'; }

# SHA-256 + zstd -1 over FILES, as a rate: COUNT per (t_sha + t_zstd).
# baseline_hz RESULT-VAR COUNT FILE...
baseline_hz()
{
	local var=$1 count=$2 sha zst
	shift 2
	timed sha openssl dgst -sha256 "$@"
	timed zst sh -c 'zstd -1 -q -c "$@" >/dev/null' zstd "$@"
	printf -v "$var" '%s' "$(awk -v c="$count" -v x="${sha%% *}" -v y="${zst%% *}" 'BEGIN { printf "%.6g", c / (x + y) }')"
}

# make_small: small/, 20,000 text files of 4 KiB (the ingest rows' documents)
make_small()
{
	mkdir small
	python3 - small <<'EOF'
import os, random, sys
rnd = random.Random(7)
words = [("w%d" % i).encode() for i in range(5000)]
for i in range(20000):
    body = b" ".join(rnd.choice(words) for _ in range(900))
    with open(os.path.join(sys.argv[1], "doc%05d.txt" % i), "wb") as f:
        f.write((b"document %d\n" % i + body)[:4096].ljust(4096, b"."))
EOF
}

# field_ingest_rows: the files of small/ ingested as `kura ingest --no-seal` does (kura_bench
# ingest-fields: read ahead on worker threads, durable batches), each file with five values
# of its own (what a manifest gives), into a store with five typed fields (each value
# checked and put in its field's index) against the same into a store without fields (the
# same metadata kept untyped), alternately, twice each; the best time of each.
field_ingest_rows()
{
	local best_f='' best_b='' kib_f='' secs kib run with
	say "ingest: 20000 files of 4 KiB with five indexed fields, against no fields"
	for run in 1 2; do
		for with in 0 1; do
			rm -rf ingf
			"$KURA" init ingf >/dev/null 2>&1
			lib r ingest-fields ingf small $with
			read -r secs kib _ <<<"$r"
			if [ $with = 1 ]; then
				[ "$("$KURA" ls ingf --where 'invoice_no^=INV-' --where 'received_at>=2017-03-31T00:00Z' | wc -l)" = 20000 ] ||
					{ say "the fields' indexes do not hold the 20000 documents"; exit 1; }
				if awk -v a="$secs" -v b="${best_f:-1e9}" 'BEGIN { exit !(a < b) }'; then
					best_f=$secs
					kib_f=$kib
				fi
			elif awk -v a="$secs" -v b="${best_b:-1e9}" 'BEGIN { exit !(a < b) }'; then
				best_b=$secs
			fi
		done
	done
	rm -rf ingf
	row "ingest_4_KiB_documents_with_5_indexed_fields_(best_of_2)" 20000 "$best_f" 20000 obj "$kib_f" \
		"the_same_without_fields_(best_of_2)" "$(rate 20000 "$best_b")" ratio 0.83
}

# search_rows: the typed query (bench/kura_bench_search.c: a date range AND an amount
# range AND a counterparty, about 1,000 hits) over a store of N1 objects with three
# fields, through kura_search_ids (the median of 7 runs on one handle) and through the
# command `kura ls --where` (a process of its own), each against a full scan with the
# same predicate in kura_bench (every current object's metadata read and tested). The
# store takes minutes to fill: it is kept in $CACHE, under a name that changes with the
# code that writes stores (archive/, index/, common/ as committed) and with the fill
# (kura_bench_search.c up to its query); delete $CACHE to fill it again.
CACHE=${KURA_BENCH_CACHE:-$BUILD/bench-cache}
WHERE=(--where 'txn_date>=2025-04-01' --where 'txn_date<=2025-10-31' --where 'amount>=100000' --where 'amount<=999999'
	--where 'counterparty=山田商事株式会社')
search_rows()
{
	local stamp store secs kib hits scan first
	stamp=$({ git -C "$HERE" rev-parse HEAD:archive HEAD:index HEAD:common &&
		sed '/the query and the scan/q' "$HERE/kura_bench_search.c"; } 2>/dev/null | sha256sum | cut -c1-12) || stamp=''
	store=$CACHE/search-$N1-$stamp
	if [ -z "$stamp" ] || [ ! -f "$store/.filled" ]; then
		say "search: filling a store with $N1 objects with three typed fields (minutes; kept in $CACHE)"
		rm -rf "$W/srch" "$CACHE"/search-"$N1"-*
		"$KURA" init "$W/srch" >/dev/null 2>&1
		lib r search-fill "$W/srch" "$N1"
		say "search: filled in ${r%% *} s"
		if [ -n "$stamp" ] && mkdir -p "$CACHE" && mv "$W/srch" "$store"; then
			touch "$store/.filled"
		else
			store=$W/srch
		fi
	fi
	say "search: the typed query over $N1 objects, against a full scan"
	lib r search "$store" 7
	read -r secs kib hits scan first cpu <<<"$r"
	row "typed_query,_library_(${hits}_hits;_median_of_7,_CPU_$(printf '%.3f' "$cpu")_s;_first_$(printf '%.3f' "$first")_s)" \
		"$N1" "$secs" "$N1" obj "$kib" "full_scan,_same_predicate" "$(rate "$N1" "$scan")" query 0.05:100
	timed t "$KURA" ls "$store" "${WHERE[@]}"
	[ "$(wc -l <out)" = "$hits" ] || { say "ls --where printed $(wc -l <out) lines, the query found $hits"; exit 1; }
	read -r secs kib cpu _ <"$W/t"
	row "typed_query,_kura_ls_--where_(a_process;_CPU_$(printf '%.3f' "$cpu")_s)" "$N1" "$secs" "$N1" obj "$kib" \
		"full_scan,_same_predicate" "$(rate "$N1" "$scan")" query 0.05:100
}

# rados_rows: the RADOS rows (issue 18), when Ceph's daemons are installed. Needs small/.
rados_rows()
{
	local tool secs kib base n
	for tool in ceph-mon ceph-osd rados; do
		command -v "$tool" >/dev/null || { say "RADOS rows skipped: $tool is not installed (make deps)"; return 0; }
	done
	[ -x "$BUILD/rados_baseline" ] || { say "RADOS rows skipped: no $BUILD/rados_baseline (librados-dev)"; return 0; }
	# shellcheck source=../tests/cli/ceph.sh
	source "$HERE/../tests/cli/ceph.sh"
	say "RADOS: starting a throwaway cluster"
	CEPH_DIR=$W/ceph
	CEPH_MAX_OBJECT_SIZE=$((128 << 20)) ceph_start "$CEPH_DIR" >ceph.out 2>&1 || { cat ceph.out >&2; say "the test Ceph cluster did not start"; exit 1; }
	mkdir m1
	for n in $(seq 1 200); do head -c $((1 << 20)) /dev/urandom >"m1/d$n.bin"; done
	# kura first, then the baseline (its objects are removed), each on an empty namespace
	rados_ingest_row small 4096 20000 "ingest_4_KiB_documents_on_RADOS_(durable)"
	say "RADOS: store-wide verify of the 4 KiB store, against reading its objects"
	"$KURA" seal rsmall >/dev/null 2>&1
	timed r "$KURA" verify rsmall
	read -r secs kib <<<"$r"
	grep -q "^kura: 20000 of 20000 object(s) verified valid" err || { say "verify: $(tail -n 1 err)"; exit 1; }
	timed b "$BUILD/rados_baseline" read "$CEPH_CONF" "$CEPH_POOL" rsmall
	read -r base _ <<<"$b"
	row "verify_(store-wide_kura_verify)_on_RADOS" 20000 "$secs" 20000 obj "$kib" \
		"librados_reads_of_its_objects_(4_MiB,_32_in_flight)" "$(rate 20000 "$base")" - -
	rm -rf rsmall
	rados_ingest_row m1 1048576 200 "ingest_1_MiB_documents_on_RADOS_(durable,_random)"
	rm -rf rm1 m1
	ceph_stop "$CEPH_DIR"
	CEPH_DIR=
}

# rados_ingest_row DIR DOC-BYTES COUNT ROW-NAME: kura ingest of DIR into a RADOS store rDIR
# (namespace rDIR), against rados_baseline writing COUNT documents of DOC-BYTES
rados_ingest_row()
{
	local dir=$1 doc=$2 count=$3 name=$4 secs kib base
	say "RADOS: ingest of $count documents of $doc bytes, against librados appends of the same"
	"$KURA" init "r$dir" --backend rados --ceph-conf "$CEPH_CONF" --pool "$CEPH_POOL" --namespace "r$dir" >/dev/null 2>&1
	timed r "$KURA" ingest "r$dir" --no-seal "$dir"
	read -r secs kib <<<"$r"
	[ "$(wc -l <out)" = "$count" ] || { say "ingest printed $(wc -l <out) lines"; exit 1; }
	# the baseline as a process too: both include start-up and connecting (about 0.2 s for kura)
	timed b "$BUILD/rados_baseline" write "$CEPH_CONF" "$CEPH_POOL" "base$dir" "$doc" "$count"
	read -r base _ <<<"$b"
	row "$name" "$count" "$secs" "$count" obj "$kib" "librados_appends,_32_in_flight,_synced_per_commit" \
		"$(rate "$count" "$base")" ratio 0.7
}

table()
{
	echo "| what | N | time s | rate | peak RSS MiB | baseline | baseline rate | ratio | target | met? |"
	echo "|---|---:|---:|---:|---:|---|---:|---:|---|---|"
	awk -F'\t' '
	function num(x) { return x >= 1e6 ? sprintf("%.2fM", x / 1e6) : x >= 1e4 ? sprintf("%.1fk", x / 1e3) : sprintf("%.0f", x) }
	{
		what = $1; n = $2; secs = $3; count = $4; unit = $5; rss = $6 / 1024; bname = $7; brate = $8; tk = $9; tv = $10
		if (unit == "MB") { r = count / 1e6 / secs; rtext = sprintf("%.0f MB/s", r) } else { r = count / secs; rtext = num(r) "/s" }
		if (bname ~ /openssl ts/) { btext = sprintf("%.3f s", brate); ratio = sprintf("%.0f× one token", secs / brate) }
		else if (unit == "MB") { btext = sprintf("%.0f MB/s", brate); ratio = sprintf("%.2f", r / brate) }
		else { btext = num(brate) "/s"; ratio = sprintf(tk == "ratio" ? "%.2f" : "%.1f", r / brate) }
		if (tk == "rate") { target = "≥ " num(tv) "/s"; met = r >= tv }
		else if (tk == "ratio") { target = "≥ " tv * 100 "% of baseline"; met = r / brate >= tv }
		else if (tk == "secs") { target = "≤ " tv " s, 1 TSA request"; met = secs <= tv }
		else if (tk == "rss") { target = "≤ " tv " MiB RSS"; met = rss <= tv }
		else if (tk == "query") { split(tv, q, ":"); target = "≤ " q[1] * 1000 " ms, ≥ " q[2] "× the scan"; met = secs <= q[1] && r / brate >= q[2] }
		else { target = "—"; met = -1 }
		printf "| %s | %s | %s | %s | %.0f | %s | %s | %s | %s | %s |\n", what, num(n), sprintf(secs < 0.1 ? "%.3f" : "%.2f", secs), rtext, rss, bname, btext, ratio, target,
			met < 0 ? "—" : met ? "yes" : "**no**"
	}' "$ROWS"
	echo
	echo "${BCRSS:+Bouncy Castle JVM peak RSS: $BCRSS MiB. }$(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)."
}

# serve_rows: `kura serve` on loopback under bench/kura_load.c (issue 17): SERVE_N PreservePO
# of the first SERVE_N 4 KiB documents of small/ from 16 kept-alive connections (each answered
# once durable), against the CLI's folder ingest of the same documents in the same run; as many
# retrievals (GET po/ID) against `kura get` (a process each); ValidateEvidence of one record
# against `kura verify-er`; then GETs while 1,000 idle connections are open, with the server's
# RSS then. Every request also makes its durable audit record (the group commit).
serve_rows()
{
	local n=${SERVE_N:-5000} port='' secs p50 p99 kib base tok id i
	say "service: $n PreservePO of 4 KiB from 16 connections; retrievals; ValidateEvidence; 1,000 idle connections"
	mkdir served
	find small -name '*.txt' | sort | sed -n "1,${n}p" | xargs cp -t served
	"$KURA" init cliing >/dev/null 2>&1
	timed r "$KURA" ingest cliing --no-seal served
	base=$(rate "$n" "${r%% *}")
	rm -rf cliing
	"$KURA" init srv >/dev/null 2>&1
	tok=$("$KURA" user add srv load --role archivist 2>/dev/null)
	"$KURA" serve srv --listen 127.0.0.1:0 >serve.out 2>serve.err &
	SERVE_PID=$!
	for ((i = 0; i < 500; i++)); do
		port=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)/$|\1|p' serve.out)
		[ -z "$port" ] || break
		sleep 0.02
	done
	[ -n "$port" ] || { say "kura serve did not listen: $(cat serve.err)"; exit 1; }
	hwm() { awk '/VmHWM/ { print $2 }' "/proc/$SERVE_PID/status"; }
	say "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	"$KL" submit "$port" "$tok" 16 "$n" ids served/* >load.out || exit 1
	read -r secs p50 p99 _ <load.out
	[ "$(sort -u ids | wc -l)" = "$n" ] || { say "PreservePO answered $(sort -u ids | wc -l) IDs for $n documents"; exit 1; }
	row "PreservePO_4_KiB_over_HTTP_(16_connections,_durable;_p50_${p50}_ms,_p99_${p99}_ms;_load_$(cut -d' ' -f1 /proc/loadavg))" \
		"$n" "$secs" "$n" obj "$(hwm)" "CLI_folder_ingest_of_the_same_documents" "$base" rate 5000
	timed r sh -c 'for id in $(head -n 100 "$0"); do "$1" get srv "$id" -o /dev/null || exit 1; done' ids "$KURA"
	"$KL" get "$port" "$tok" 16 "$n" ids >load.out || exit 1
	read -r secs p50 p99 _ <load.out
	row "RetrievePO_GET_po/ID_(16_connections;_p50_${p50}_ms,_p99_${p99}_ms)" "$n" "$secs" "$n" obj "$(hwm)" \
		"kura_get_(a_process_each)" "$(rate 100 "${r%% *}")" - -
	cp served/doc00000.txt one.txt
	curl -s -H "Authorization: Bearer $tok" --data-binary @one.txt "http://127.0.0.1:$port/api/v1/PreservePO?name=one.txt&wait=sealed" >one.json
	id=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["poId"][0])' one.json)
	curl -sf -H "Authorization: Bearer $tok" -o one.ers "http://127.0.0.1:$port/api/v1/po/$id/evidence" || { say "no evidence record: $(cat one.json)"; exit 1; }
	printf '{"data": "%s", "evidenceRecord": "%s"}' "$(base64 -w0 one.txt)" "$(base64 -w0 one.ers)" >v.json
	timed r sh -c 'for i in $(seq 20); do "$0" verify-er --data one.txt --er one.ers --trust srv/tsa/anchors.pem >/dev/null || exit 1; done' "$KURA"
	"$KL" validate "$port" "$tok" 16 $((n / 5)) v.json >load.out || exit 1
	read -r secs p50 p99 _ <load.out
	row "ValidateEvidence_(16_connections;_p50_${p50}_ms,_p99_${p99}_ms)" $((n / 5)) "$secs" $((n / 5)) obj "$(hwm)" \
		"kura_verify-er_(a_process_each)" "$(rate 20 "${r%% *}")" - -
	local before
	"$KL" get "$port" "$tok" 4 400 ids >load.out || exit 1
	read -r before _ <load.out
	"$KL" idle "$port" 1000 6 >idle.out &
	local idler=$!
	for ((i = 0; i < 500; i++)); do [ -s idle.out ] && break; sleep 0.02; done
	sleep 1
	"$KL" get "$port" "$tok" 4 400 ids >load.out || exit 1
	read -r secs p50 p99 _ <load.out
	local rss
	rss=$(awk '/VmRSS/ { print $2 }' "/proc/$SERVE_PID/status")
	wait "$idler"
	row "GET_beside_1,000_idle_connections_(RSS_with_them_open;_p99_${p99}_ms)" 400 "$secs" 400 obj "$rss" \
		"the_same_GETs_without_them" "$(rate 400 "$before")" rss 512
	kill "$SERVE_PID"
	wait "$SERVE_PID" || true
	SERVE_PID=
	rm -rf srv served
}

# ONLY=serve: just the service rows (issue 17) and the table
if [ "${ONLY:-}" = serve ]; then
	make_small
	serve_rows
	rm -rf small
	table
	exit 0
fi

# ONLY=rados: just the RADOS rows of issue 18 and the table
if [ "${ONLY:-}" = rados ]; then
	make_small
	rados_rows
	table
	echo "Load average before the table: $(cut -d' ' -f1-3 /proc/loadavg)."
	exit 0
fi

# ONLY=search: just the rows of issue 15 (ingest with fields, typed search) and the table
if [ "${ONLY:-}" = search ]; then
	N1=${N1:-1000000}
	make_small
	field_ingest_rows
	rm -rf small
	search_rows
	table
	exit 0
fi

# ------------------------------------------------------------------ seal, export, verify
# (N1, N2, SIZES and SIZE can be made smaller to try the script out quickly)
N1=${N1:-1000000}
N2=${N2:-100000}
SIZES=${SIZES:-10000 $N2 $N1}
[ "$FULL" = 1 ] && SIZES="$SIZES 10000000"
for n in $SIZES; do
	say "seal: filling a store with $n documents"
	"$KURA" init "s$n" >/dev/null 2>&1
	lib r fill "s$n" "$n" 0
	lib r seal "s$n"
	read -r secs kib count _ <<<"$r"
	[ "$count" = "$n" ] || { say "seal sealed $count of $n"; exit 1; }
	target=rate
	tval=1000000
	[ "$n" = 10000000 ] && { target=rss; tval=1024; }
	row "seal_(tree_+_every_reduced_tree)" "$n" "$secs" "$n" obj "$kib" BCSEAL - "$target" "$tval"
done

say "Bouncy Castle baseline ($BC_N objects)"
FIRST=s${SIZES%% *}
"$KURA" tsa ca "$FIRST" >ca.pem
"$KURA" tsa serve --store "$FIRST" --listen 127.0.0.1:0 >serve.out 2>serve.err &
SERVE_PID=$!
URL=
for _ in $(seq 1 100); do
	URL=$(sed -n 's|^listening on \(http://127\.0\.0\.1:[0-9]*/\)$|\1|p' serve.out)
	[ -n "$URL" ] && break
	sleep 0.1
done
[ -n "$URL" ] || { say "kura tsa serve did not start: $(cat serve.err)"; exit 1; }
mkdir classes
javac -nowarn -d classes -cp "$BCCP" "$HERE/BcErsBench.java" 2>javac.log || { cat javac.log >&2; exit 1; }
timed bc java -XX:+UseSerialGC -cp "classes:$BCCP" BcErsBench "$BC_N" "$URL" ca.pem
cp out bc.out
kill "$SERVE_PID" 2>/dev/null || true
wait "$SERVE_PID" 2>/dev/null || true
SERVE_PID=
bc_rate() { awk -v s="$1" '$1 == s { printf "%.6g", $3 / $2 }' bc.out; }
BCSEAL=$(bc_rate seal)
BCEXPORT=$(bc_rate export)
BCVERIFY=$(bc_rate verify)
BCRSS=$((${bc#* } / 1024))
sed -i "s/\tBCSEAL\t-\t/\tBC seal ($BC_N)\t$BCSEAL\t/" "$ROWS"

say "export: every record of the $N1 store"
lib r export "s$N1" 0
read -r secs kib count bytes <<<"$r"
row "export_(DER_record_per_object)" "$count" "$secs" "$count" obj "$kib" "BC_export_($BC_N)" "$BCEXPORT" rate 200000
THREADS=$(nproc)
if [ "$THREADS" -gt 1 ]; then
	say "export: every record of the $N1 store, on $THREADS threads"
	lib r export "s$N1" 0 "$THREADS"
	read -r secs kib count bytes <<<"$r"
	row "export_on_${THREADS}_threads_(a_store_handle_and_cache_each)" "$count" "$secs" "$count" obj "$kib" \
		"BC_export_($BC_N)" "$BCEXPORT" rate 200000
fi

say "verify: kura verify of the $N2 store"
timed r "$KURA" verify "s$N2"
read -r secs kib <<<"$r"
grep -q "^kura: $N2 of $N2 object(s) verified valid" err || { say "verify: $(tail -n 1 err)"; exit 1; }
row "verify_(store-wide_kura_verify)" "$N2" "$secs" "$N2" obj "$kib" "BC_verify_($BC_N)" "$BCVERIFY" rate 50000

say "verify --deep: every record of the $N2 store assembled and verified on its own"
timed r "$KURA" verify "s$N2" --deep
read -r secs kib <<<"$r"
grep -q "^kura: $N2 of $N2 object(s) verified valid" err || { say "verify --deep: $(tail -n 1 err)"; exit 1; }
row "verify_--deep_(each_record_assembled)" "$N2" "$secs" "$N2" obj "$kib" "BC_verify_($BC_N)" "$BCVERIFY" - -

say "verify-er: 10000 records"
lib r verify-er "s$N2" 10000
read -r secs kib count _ <<<"$r"
row "verify-er_(each_record_alone)" "$count" "$secs" "$count" obj "$kib" "BC_verify_($BC_N)" "$BCVERIFY" rate 50000
# The floor of checking a record alone: its token's signature (P-256, the embedded TSA's
# key) and its TSA certificate's (P-384, the root's), as `openssl speed` verifies them.
FLOOR=$(openssl speed -seconds 2 ecdsap256 ecdsap384 2>/dev/null |
	awk '/nistp256\)/ { a = $NF } /nistp384\)/ { b = $NF } END { if (a && b) printf "%.6g", 1 / (1 / a + 1 / b) }')
[ -n "$FLOOR" ] || { say "openssl speed printed no ECDSA verify rates"; exit 1; }
row "verify-er_(each_record_alone)" "$count" "$secs" "$count" obj "$kib" "P-256_+_P-384_verify_(openssl_speed)" "$FLOOR" - -
rm -rf "$FIRST" "s$N2"

# ------------------------------------------------------------------ ingest
say "ingest: 20000 files of 4 KiB"
make_small
"$KURA" init ing >/dev/null 2>&1
timed r "$KURA" ingest ing --no-seal small
read -r secs kib <<<"$r"
[ "$(wc -l <out)" = 20000 ] || { say "ingest printed $(wc -l <out) lines"; exit 1; }
baseline_hz base 20000 small/*
row "ingest_4_KiB_documents_(durable)" 20000 "$secs" 20000 obj "$kib" "SHA-256_+_zstd_-1" "$base" rate 20000
rm -rf ing
field_ingest_rows
serve_rows
rados_rows
rm -rf small

SIZE=${SIZE:-$((512 << 20))}
say "ingest: large files ($((SIZE >> 20)) MiB each)"
awk 'BEGIN { srand(11); for (i = 0; ; i++) printf "%d,2026-%02d-%02d,ACC-%05d,%s,%d.%02d\n", i, i % 12 + 1, i % 28 + 1, int(rand() * 50000), (rand() < 0.5 ? "debit" : "credit"), int(rand() * 100000), int(rand() * 100) }' |
	head -c "$SIZE" >ledger.csv || true
head -c "$SIZE" /dev/urandom >random.bin
"$KURA" init big >/dev/null 2>&1
seg_bytes() { find "$1/segments" -name '*.seg' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
for f in ledger.csv random.bin; do
	before=$(seg_bytes big)
	timed r "$KURA" ingest big --no-seal "$f"
	read -r secs kib <<<"$r"
	stored=$(($(seg_bytes big) - before))
	baseline_hz base "$(mb "$SIZE")" "$f"
	# A durable ingest also writes and fdatasyncs what it stores, which the CPU baseline
	# does not: the disk baseline is dd writing as many bytes (of the same file) with
	# conv=fdatasync, as document MB/s. The row's baseline is the slower of the two.
	timed d dd if="$f" of=disk.out bs=1M iflag=count_bytes count="$stored" conv=fdatasync
	rm -f disk.out
	disk=$(rate "$(mb "$SIZE")" "${d%% *}")
	kind=compressible
	[ "$f" = random.bin ] && kind=random
	if awk -v d="$disk" -v b="$base" 'BEGIN { exit !(d < b) }'; then
		bname=$(printf 'disk:_dd_fdatasync_(CPU:_%.0f_MB/s)' "$base")
		base=$disk
	else
		bname=$(printf 'SHA-256_+_zstd_-1_(disk:_%.0f_MB/s)' "$disk")
	fi
	row "ingest_large_file_($kind)" 1 "$secs" "$SIZE" MB "$kib" "$bname" "$base" ratio 0.7
done

say "hash-tree renewal of the large files"
"$KURA" seal big >/dev/null 2>&1
"$KURA" policy sunset big sha256 2027-06-01 >/dev/null 2>&1
KURA_NOW=2026-07-01T00:00:00Z timed r "$KURA" renew big
read -r secs kib <<<"$r"
grep -q "2 object(s) by hash tree" out || { say "hash-tree renewal: $(cat out err)"; exit 1; }
baseline_hz base "$(mb $((2 * SIZE)))" ledger.csv random.bin
row "hash-tree_renewal_(re-read,_SHA-512_chain)" 2 "$secs" $((2 * SIZE)) MB "$kib" "SHA-256_+_zstd_-1" "$base" - -
rm -rf big ledger.csv random.bin

# ------------------------------------------------------------------ compaction
CSIZE=${CSIZE:-$((256 << 20))}
say "compaction: $((CSIZE >> 20)) MiB of random documents of 1 MiB in segments of 64 MiB, every 10th disposed of"
"$KURA" init cmp --segment-size $((64 << 20)) >/dev/null 2>&1
mkdir cdocs
for i in $(seq 1 $((CSIZE >> 20))); do head -c $((1 << 20)) /dev/urandom >"cdocs/d$i.bin"; done
"$KURA" ingest cmp cdocs >/dev/null 2>&1
rm -rf cdocs
# the baseline first, on the same segment files: each copied with dd conv=fdatasync (one
# sync a segment, as compaction makes), as many bytes as compaction will read
timed d sh -c 'for f in "$@"; do dd if="$f" of="$f.copy" bs=1M conv=fdatasync status=none; rm -f "$f.copy"; done' sh cmp/segments/*.seg
lib r compact cmp 10
read -r secs kib count bytes <<<"$r"
[ "$count" -ge $((CSIZE >> 20 >> 4)) ] || { say "compaction removed $count blobs"; exit 1; }
row "compaction_(1_MiB_documents,_every_10th_disposed_of)" "$count" "$secs" "$bytes" MB "$kib" "copy_with_fdatasync_(dd)" \
	"$(rate "$(mb "$bytes")" "${d%% *}")" ratio 0.7
rm -rf cmp
CTINY=${CTINY:-300000}
say "compaction: $CTINY tiny documents in segments of 16 MiB, every 10th disposed of"
"$KURA" init cmp --segment-size $((16 << 20)) >/dev/null 2>&1
lib r fill cmp "$CTINY" 0
timed d sh -c 'for f in "$@"; do dd if="$f" of="$f.copy" bs=1M conv=fdatasync status=none; rm -f "$f.copy"; done' sh cmp/segments/*.seg
lib r compact cmp 10
read -r secs kib count bytes <<<"$r"
row "compaction_(tiny_documents,_every_10th_disposed_of)" "$count" "$secs" "$bytes" MB "$kib" "copy_with_fdatasync_(dd)" \
	"$(rate "$(mb "$bytes")" "${d%% *}")" ratio 0.7
rm -rf cmp

# ------------------------------------------------------------------ time-stamp renewal
say "time-stamp renewal: filling a store with $N1 documents in seals of 1000"
"$KURA" init ren --tsa-days 365 >/dev/null 2>&1
lib r fill ren "$N1" 1000
read -r before < <("$KB" records ren)
KURA_NOW=2026-11-01T00:00:00Z timed r "$KURA" renew ren
read -r secs kib <<<"$r"
read -r after < <("$KB" records ren)
grep -q "^renewed $((N1 / 1000)) chain(s) by time-stamp" out || { say "renewal: $(cat out err)"; exit 1; }
requests=$((${after##* } - ${before##* }))
[ "$requests" = 1 ] || { say "time-stamp renewal used $requests TSA requests"; exit 1; }
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tsa.key -out tsa.pem -days 365 \
	-subj "/CN=bench TSA" -addext "extendedKeyUsage=critical,timeStamping" >/dev/null 2>&1
printf '[ tsa ]\ndefault_tsa = t\n[ t ]\nserial = %s/serial\nsigner_cert = %s/tsa.pem\nsigner_key = %s/tsa.key\nsigner_digest = sha256\ndefault_policy = 1.2.3.4\ndigests = sha256\ness_cert_id_alg = sha256\n' \
	"$W" "$W" "$W" >ts.cnf
echo 01 >serial
timed t sh -c 'openssl ts -query -digest "$0" -sha256 -cert -out q.tsq && openssl ts -reply -config ts.cnf -queryfile q.tsq -out r.tsr' \
	"$(printf 'root' | openssl dgst -sha256 -r | cut -c1-64)"
row "time-stamp_renewal_($((N1 / 1000))_chains,_1_TSA_request)" "$N1" "$secs" "$N1" obj "$kib" "openssl_ts_(1_token)" "${t%% *}" secs 10

# ------------------------------------------------------------------ ls of current versions
say "ls: the current versions of $N1 records (10,000 of them corrected once)"
"$KB" versions ren 10000 >/dev/null
timed a "$KURA" ls ren --all-versions
[ "$(wc -l <out)" = $((N1 + 10000)) ] || { say "ls --all-versions printed $(wc -l <out) lines"; exit 1; }
timed r "$KURA" ls ren
read -r secs kib <<<"$r"
[ "$(wc -l <out)" = "$N1" ] || { say "ls printed $(wc -l <out) lines, expected $N1"; exit 1; }
row "ls_current_versions_(${N1}_records)" "$N1" "$secs" "$N1" obj "$kib" "ls_--all-versions_(every_object)" "$(rate $((N1 + 10000)) "${a%% *}")" ratio 0.83
rm -rf ren

# ------------------------------------------------------------------ PDF report of long values
say "report: one object with two 64 KiB metadata values without a space, as PDF and as HTML"
"$KURA" init rep >/dev/null 2>&1
echo report >rep.txt
"$KURA" ingest rep rep.txt --meta "k1=$(printf 'v%.0s' $(seq 65536))" --meta "k2=$(printf 'w%.0s' $(seq 65536))" >out 2>err
id=$(cut -f1 out)
timed h "$KURA" report rep "$id" -o rep.html
timed r "$KURA" report rep "$id" -o rep.pdf
read -r secs kib <<<"$r"
row "PDF_report_(one_object,_2_values_of_64_KiB)" 1 "$secs" 1 obj "$kib" "HTML_report_of_the_same" "$(rate 1 "${h%% *}")" ratio 0.1
rm -rf rep rep.txt rep.html rep.pdf

# ------------------------------------------------------------------ typed search
search_rows

# ------------------------------------------------------------------ the table
table
