#!/usr/bin/env bash
# Fifty years of renewal, simulated with KURA_NOW (the embedded TSA's genTime follows it).
#
#  1. fifty_years: a store made 2026-01-01 with an RSA-2048 embedded TSA (700-day certificates,
#     4000-day roots) and a policy written here: RSA-2048 suffices until 2030-12-31, SHA-256
#     until 2039-12-31, SHA-512 and EC P-256 have no end, margins 120 days. `kura daemon --once`
#     runs every quarter (a step shorter than the margins, else evidence expires between runs)
#     up to 2076-01-01; documents are ingested with --no-seal along the way (2026, 2030, 2035,
#     2042, 2050, 2063) so that the daemon seals them. No run may fail, leave anything overdue
#     or refuse a renewal. At the end, for every object: `kura verify` says valid, its exported
#     record verifies with `kura verify-er` against `kura tsa ca` alone; objects from before 2040
#     carry a sha256 chain and then a sha512 chain (the hash-tree renewal, made before SHA-256
#     ended, over the data and the earlier chain: h' = H(h || ha)); later objects sha512 chains
#     only; genTimes increase along each record; the 2026 objects' first chain has at least five
#     time-stamp renewals, signed with RSA-2048 until the key kind changed in 2030 and never with
#     RSA-2048 afterwards. The TSA went through more than one root, and `kura renew --plan`
#     lists nothing due.
#  2. remote_failover: two `kura tsa serve --dir` TSAs, A and B, a store initialised with both
#     URLs (A first) and both roots trusted; A is stopped half-way; later seals and renewals fail
#     over to B, stderr names A's failure, nothing is lost, and the later time-stamps are B's
#     (the design is explained above the function).
# Under two minutes on a loaded 2-core machine (~200 short kura runs for part 1).
source "$(dirname "$0")/lib.sh" || exit 1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/renewal/servers.sh"
SIGNERS=$HERE/renewal/signers.py
on_exit stop_all_servers
cd "$T"

# Every quarter YYYY-01/04/07/10 from $1 to $2 (both YYYY-MM), one a line.
quarters()
{
	local y m
	for ((y = ${1%-*}; y <= ${2%-*}; y++)); do
		for m in 01 04 07 10; do
			[[ "$y-$m" < "$1" || "$y-$m" > "$2" ]] || echo "$y-$m"
		done
	done
}

# ---------------------------------------------------------------- 1. fifty years, embedded TSA

fifty_years()
{
	local S=$T/fifty/store LOG=$T/fifty/daemon.log q now n i f id rest
	mkdir -p "$T/fifty/docs"
	cat >"$T/fifty/policy.yaml" <<'EOF'
kura-policy: 1
name: fifty-years-test
title: test policy for fifty years of renewal
margins: {certificate-days: 120, algorithm-days: 120}
algorithms:
  sha256:   {until: 2039-12-31, source: "test: SHA-256 ends 2040"}
  sha512:   {until: null, source: "test: no end"}
  rsa-2048: {until: 2030-12-31, source: "test: RSA-2048 ends 2031"}
  ec-p256:  {until: null, source: "test: no end"}
EOF
	# quarter -> number of documents ingested then (sealed by that quarter's daemon run)
	declare -A docs=([2026-01]=2 [2030-07]=1 [2035-01]=1 [2042-04]=1 [2050-01]=2 [2063-10]=1)
	: >"$T/fifty/objects.tsv" # ID, quarter, file
	: >"$LOG"
	expect_status 0 env KURA_NOW=2026-01-01T00:00:00Z "$KURA_BIN" init "$S" --policy "$T/fifty/policy.yaml" \
		--tsa-key rsa-2048 --tsa-days 700 --tsa-root-days 4000
	for q in $(quarters 2026-01 2076-01); do
		now=$q-01T00:00:00Z
		n=${docs[$q]:-0}
		if [ "$n" -gt 0 ]; then
			local files=()
			for ((i = 1; i <= n; i++)); do
				f=$T/fifty/docs/doc-$q-$i.bin
				random_file "$f" $((700 + 313 * i))
				files+=("$f")
			done
			KURA_NOW=$now "$KURA_BIN" ingest "$S" --no-seal "${files[@]}" >"$OUT" 2>"$ERR" ||
				fail "ingest at $now failed: $(cat "$ERR")"
			[ "$(wc -l <"$OUT")" -eq "$n" ] || fail "ingest at $now printed $(wc -l <"$OUT") lines for $n files"
			while IFS=$'\t' read -r id rest; do
				printf '%s\t%s\t%s\n' "$id" "$q" "${rest#*$'\t'}" >>"$T/fifty/objects.tsv"
			done <"$OUT"
		fi
		echo "== $now" >>"$LOG"
		KURA_NOW=$now "$KURA_BIN" daemon "$S" --once >>"$LOG" 2>&1 ||
			fail "kura daemon --once at $now failed: $(tail -n 5 "$LOG")"
	done
	now=2076-01-01T00:00:00Z

	# every run did what was due: nothing refused, nothing left overdue, nothing failed
	! grep -n -e 'NOT RENEWED' -e 'OVERDUE' -e 'round failed' "$LOG" >"$OUT" ||
		fail "a daemon run refused or left overdue evidence: $(head -n 5 "$OUT")"
	local pre2040
	pre2040=$(awk -F'\t' '$2 < "2040"' "$T/fifty/objects.tsv" | wc -l)
	[ "$(grep -c 'hash-tree renewal: ' "$LOG")" -eq 1 ] ||
		fail "expected exactly one hash-tree renewal in 50 years: $(grep 'hash-tree renewal' "$LOG")"
	expect_grep "$LOG" "hash-tree renewal: $pre2040 object(s) now in a sha512 chain"
	grep -q 'sealed .* object(s)' "$LOG" || fail "the daemon sealed nothing"
	[ "$(grep -c 'sealed .* object(s)' "$LOG")" -eq "${#docs[@]}" ] ||
		fail "expected one seal per ingest quarter (${#docs[@]}): $(grep 'sealed' "$LOG")"

	# the store says every object is valid
	expect_status 0 env KURA_NOW=$now "$KURA_BIN" verify "$S" --json
	cp "$OUT" "$T/fifty/verify.jsonl"
	# trust: every root the embedded TSA ever used, nothing else
	expect_status 0 env KURA_NOW=$now "$KURA_BIN" tsa ca "$S"
	cp "$OUT" "$T/fifty/ca.pem"
	local roots
	roots=$(grep -c -- '-----BEGIN CERTIFICATE-----' "$T/fifty/ca.pem")
	[ "$roots" -gt 1 ] || fail "kura tsa ca lists $roots root(s) after 50 years with 4000-day roots; expected more than one"
	# every exported record verifies on its own
	while IFS=$'\t' read -r id q f; do
		expect_status 0 env KURA_NOW=$now "$KURA_BIN" evidence "$S" "$id" -o "$T/fifty/$id.ers"
		expect_status 0 env KURA_NOW=$now "$KURA_BIN" verify-er --data "$f" --er "$T/fifty/$id.ers" \
			--trust "$T/fifty/ca.pem" --json
		cp "$OUT" "$T/fifty/$id.json"
	done <"$T/fifty/objects.tsv"
	expect_status 0 env KURA_NOW=$now "$KURA_BIN" renew "$S" --plan --json
	cp "$OUT" "$T/fifty/plan.json"

	py '
d = sys.argv[1]
problems = []
objects = [l.rstrip("\n").split("\t") for l in open(d + "/objects.tsv")]
if len(objects) != 8:
    problems.append("expected 8 objects, the test recorded %d" % len(objects))
verdicts = {}
for line in open(d + "/verify.jsonl"):
    r = json.loads(line)
    verdicts[r["id"]] = r["verdict"]
if sorted(verdicts) != sorted(o[0] for o in objects):
    problems.append("kura verify lists %s, ingested %s" % (sorted(verdicts), sorted(o[0] for o in objects)))
for oid, q, path in objects:
    name = "object %s (ingested %s)" % (oid, q)
    if verdicts.get(oid) != "valid":
        problems.append("%s: kura verify says %s" % (name, verdicts.get(oid)))
    r = json.load(open("%s/%s.json" % (d, oid)))
    if r["verdict"] != "valid":
        problems.append("%s: verify-er says %s (%s)" % (name, r["verdict"], r.get("reason")))
    chains = r["chains"]
    hashes = [c.get("hash") for c in chains]
    times = [a.get("genTime") for c in chains for a in c["ats"]]
    if any(t is None for t in times) or times != sorted(times) or len(set(times)) != len(times):
        problems.append("%s: genTimes do not strictly increase along the record: %s" % (name, times))
    if q < "2040":
        if hashes != ["sha256", "sha512"]:
            problems.append("%s: chains %s, expected [sha256, sha512]" % (name, hashes))
            continue
        first = chains[1]["ats"][0]
        if first["genTime"] >= "2040-01-01":
            problems.append("%s: the sha512 chain starts %s, after SHA-256 ended" % (name, first["genTime"]))
        if first.get("covers") != "data and the earlier chains (hash-tree renewal)" or \
                not first.get("rule", "").startswith("h\x27 = H(h || ha)"):
            problems.append("%s: the sha512 chain does not start with an ERS-RULES hash-tree renewal: %s" % (name, first))
    elif hashes != ["sha512"] * len(hashes) or not hashes:
        problems.append("%s: ingested after SHA-256 ended, but chains %s" % (name, hashes))
    if q.startswith("2026"):
        ats = chains[0]["ats"]
        if len(ats) - 1 < 5:
            problems.append("%s: chain 1 has %d time-stamp renewal(s), expected at least 5" % (name, len(ats) - 1))
        keys = [(a["genTime"], a.get("key")) for a in ats]
        if keys[0][1] != "rsa-2048":
            problems.append("%s: the first time-stamp key is %s, the TSA was made with rsa-2048" % (name, keys[0][1]))
        switch = [t for (t, k), (_, k0) in zip(keys[1:], keys) if k != k0]
        if len(switch) != 1 or not ("2030-01-01" <= switch[0] < "2031-01-01"):
            problems.append("%s: the key kind must change exactly once, in 2030 (RSA-2048 ends 2031): %s" % (name, keys))
        late = [t for t, k in keys if t >= "2031-01-01" and k == "rsa-2048"]
        if late:
            problems.append("%s: time-stamps signed with rsa-2048 after it ended: %s" % (name, late))
        for c in chains:
            for a in c["ats"]:
                if a.get("genTime", "") >= "2031-01-01" and a.get("key") == "rsa-2048":
                    problems.append("%s: a %s ATS of %s is signed with rsa-2048" % (name, c.get("hash"), a["genTime"]))
plan = json.load(open(d + "/plan.json"))
if not plan:
    problems.append("renew --plan lists no live chain at the end")
for it in plan:
    if it["due_now"] or it["hash"] != "sha512" or (it["due"] or "9") <= sys.argv[2]:
        problems.append("at the end, renew --plan lists %s" % it)
for p in problems:
    print(p)
' "$T/fifty" "$now" >"$OUT"
	[ ! -s "$OUT" ] || fail "after fifty years:
$(head -n 20 "$OUT")"
}

# ---------------------------------------------------------------- 2. two remote TSAs, failover
#
# Design (deterministic): `kura tsa serve` reads KURA_NOW from its own environment, so each
# server is restarted at every quarterly step with that step's KURA_NOW, on the port it got at
# its first start: every genTime, certificate check and due date then follows the one simulated
# clock. A's TSA folder is created by its first `serve --dir` in 2024-07 (a server running for
# a while: its certificate ends 2029-07-01), B's in 2026-01 (ends 2031-01-01). The store's policy
# ends SHA-256 on 2027-03-31 (120-day margin) and renews 400 days before a TSA certificate ends.
# Timeline (2026-01 .. 2029-04, quarterly):
#   2026-01  init with --tsa-url A --tsa-url B, both roots trusted; 2 objects, sealed by A
#   2026-07  1 object, sealed by A
#   2027-01  hash-tree renewal (SHA-256 ends) of the 3 objects to sha512, time-stamped by A
#   2027-07  1 object, sealed by A (sha512: the store no longer starts sha256 chains)
#   -------  A is stopped for good after the 2027-10 step ("half-way")
#   2028-01  1 object: A refuses connections, the seal fails over to B
#   2028-07  A's tokens are due (A's certificate ends within 400 days): the time-stamp renewal of
#            both sha512 chains fails over to B
#   2029-01  1 object, sealed by B
#   2029-04  end: nothing due; every object valid in the store and in its exported record
#            (verify-er trusting both roots), each time-stamp attributed to A or B by the
#            certificate its token carries (tests/cli/renewal/signers.py).
# A refused connection fails at once (2 attempts, 1 s apart), so each stamp after A's stop
# costs about a second; KURA_TSA_TIMEOUT bounds anything worse.

remote_failover()
{
	local R=$T/remote S=$T/remote/store q now f a_up=1
	export KURA_TSA_TIMEOUT=5
	mkdir -p "$R/docs"
	cat >"$R/policy.yaml" <<'EOF'
kura-policy: 1
name: remote-failover-test
title: test policy for two remote TSAs
margins: {certificate-days: 400, algorithm-days: 120}
algorithms:
  sha256:   {until: 2027-03-31, source: "test: SHA-256 ends 2027-04"}
  sha512:   {until: null, source: "test: no end"}
  ec-p256:  {until: null, source: "test: no end"}
EOF
	# first starts (both at once, so that they get two ports): each creates its TSA folder
	start_serve "$R/tsa-a" 2024-07-01T00:00:00Z 127.0.0.1:0 --dir "$R/tsa-a"
	local URL_A=$SERVER_URL PORT_A=$SERVER_PORT pid_a=$SERVER_PID
	start_serve "$R/tsa-b" 2026-01-01T00:00:00Z 127.0.0.1:0 --dir "$R/tsa-b"
	local URL_B=$SERVER_URL PORT_B=$SERVER_PORT pid_b=$SERVER_PID
	[ "$PORT_A" != "$PORT_B" ] || fail "both TSAs got port $PORT_A"
	for f in tsa.pem anchors.pem; do
		[ -s "$R/tsa-a/$f" ] && [ -s "$R/tsa-b/$f" ] || fail "kura tsa serve --dir did not create $f"
	done
	cmp -s "$R/tsa-a/tsa.pem" "$R/tsa-b/tsa.pem" && fail "A and B have the same TSA certificate"
	declare -A docs=([2026-01]=2 [2026-07]=1 [2027-07]=1 [2028-01]=1 [2029-01]=1)
	: >"$R/objects.tsv"
	local id rest
	for q in $(quarters 2026-01 2029-04); do
		now=$q-01T00:00:00Z
		[ -z "$pid_a" ] || stop_server "$pid_a"
		[ -z "$pid_b" ] || stop_server "$pid_b"
		pid_a=
		if [[ $q > 2027-10 ]]; then a_up=0; fi
		if [ "$a_up" = 1 ]; then
			start_serve "$R/tsa-a" "$now" "127.0.0.1:$PORT_A" --dir "$R/tsa-a"
			pid_a=$SERVER_PID
		fi
		start_serve "$R/tsa-b" "$now" "127.0.0.1:$PORT_B" --dir "$R/tsa-b"
		pid_b=$SERVER_PID
		if [ "$q" = 2026-01 ]; then
			expect_status 0 env KURA_NOW=$now "$KURA_BIN" init "$S" --policy "$R/policy.yaml" \
				--tsa-url "$URL_A" --tsa-url "$URL_B"
			expect_status 0 env KURA_NOW=$now "$KURA_BIN" trust add "$S" --tsa "$R/tsa-a/anchors.pem"
			expect_status 0 env KURA_NOW=$now "$KURA_BIN" trust add "$S" --tsa "$R/tsa-b/anchors.pem"
			expect_status 0 env KURA_NOW=$now "$KURA_BIN" tsa urls "$S"
			[ "$(cat "$OUT")" = "$URL_A"$'\n'"$URL_B" ] || fail "kura tsa urls lists: $(cat "$OUT")"
		fi
		if [ -n "${docs[$q]:-}" ]; then
			local files=() i n=${docs[$q]}
			for ((i = 1; i <= n; i++)); do
				random_file "$R/docs/doc-$q-$i.bin" $((500 + 211 * i))
				files+=("$R/docs/doc-$q-$i.bin")
			done
			expect_status 0 env KURA_NOW=$now "$KURA_BIN" ingest "$S" --no-seal "${files[@]}"
			while IFS=$'\t' read -r id rest; do
				printf '%s\t%s\t%s\n' "$id" "$q" "${rest#*$'\t'}" >>"$R/objects.tsv"
			done <"$OUT"
		fi
		expect_status 0 env KURA_NOW=$now "$KURA_BIN" daemon "$S" --once
		cp "$ERR" "$R/step-$q.err"
		# what each step must have done, and with which TSA
		case $q in
		2026-01 | 2026-07 | 2027-07)
			grep -q "sealed ${docs[$q]} object(s): .*, time-stamped $now by $URL_A" "$ERR" ||
				fail "step $q: expected a seal of ${docs[$q]} object(s) by A ($URL_A): $(cat "$ERR")" ;;
		2027-01)
			grep -q "hash-tree renewal: 3 object(s) now in a sha512 chain, time-stamped $now by $URL_A" "$ERR" ||
				fail "step $q: expected the hash-tree renewal of 3 objects by A: $(cat "$ERR")" ;;
		2028-01 | 2029-01)
			grep -q "sealed 1 object(s): .*, time-stamped $now by $URL_B" "$ERR" ||
				fail "step $q: expected the seal to fail over to B ($URL_B): $(cat "$ERR")" ;;
		2028-07)
			grep -q "time-stamp renewal: 2 sha512 chain(s), time-stamped $now by $URL_B" "$ERR" ||
				fail "step $q: expected the time-stamp renewal of A's two chains by B: $(cat "$ERR")" ;;
		esac
		case $q in
		2028-01 | 2028-07 | 2029-01)
			grep -q "TSA $URL_A failed" "$ERR" || fail "step $q: stderr does not name A's failure: $(cat "$ERR")" ;;
		*)
			! grep -q "failed" "$ERR" || fail "step $q: unexpected failure: $(cat "$ERR")"
			! grep -q -e 'renewal' -e 'sealed' "$ERR" || [ -n "${docs[$q]:-}" ] || [ "$q" = 2027-01 ] ||
				fail "step $q: unexpected seal or renewal: $(cat "$ERR")" ;;
		esac
		! grep -q -e 'NOT RENEWED' -e OVERDUE "$ERR" "$OUT" || fail "step $q: $(cat "$OUT" "$ERR")"
	done
	now=2029-04-01T00:00:00Z

	# nothing lost: every object valid in the store and in its own record
	expect_status 0 env KURA_NOW=$now "$KURA_BIN" verify "$S" --json
	cp "$OUT" "$R/verify.jsonl"
	expect_status 0 env KURA_NOW=$now "$KURA_BIN" renew "$S" --plan --json
	cp "$OUT" "$R/plan.json"
	while IFS=$'\t' read -r id q f; do
		expect_status 0 env KURA_NOW=$now "$KURA_BIN" evidence "$S" "$id" -o "$R/$id.ers"
		expect_status 0 env KURA_NOW=$now "$KURA_BIN" verify-er --data "$f" --er "$R/$id.ers" \
			--trust "$R/tsa-a/anchors.pem" --trust "$R/tsa-b/anchors.pem" --json
		cp "$OUT" "$R/$id.json"
		"$PYTHON" "$SIGNERS" "$R/$id.ers" A="$R/tsa-a/tsa.pem" B="$R/tsa-b/tsa.pem" >"$R/$id.signers" ||
			fail "signers.py failed on the record of $id"
	done <"$R/objects.tsv"
	# B's root is needed: trusting A alone does not make the latest time-stamps valid
	id=$(head -n 1 "$R/objects.tsv" | cut -f1)
	f=$(head -n 1 "$R/objects.tsv" | cut -f3)
	expect_status 1 env KURA_NOW=$now "$KURA_BIN" verify-er --data "$f" --er "$R/$id.ers" \
		--trust "$R/tsa-a/anchors.pem"

	py '
d = sys.argv[1]
problems = []
objects = [l.rstrip("\n").split("\t") for l in open(d + "/objects.tsv")]
if len(objects) != 6:
    problems.append("expected 6 objects, the test recorded %d" % len(objects))
verdicts = {json.loads(l)["id"]: json.loads(l)["verdict"] for l in open(d + "/verify.jsonl")}
# by ingest quarter: chain hashes, and who signed each ATS
want = {
    "2026-01": (["sha256", "sha512"], [[["A"]], [["A"], ["B"]]]),
    "2026-07": (["sha256", "sha512"], [[["A"]], [["A"], ["B"]]]),
    "2027-07": (["sha512"], [[["A"], ["B"]]]),
    "2028-01": (["sha512"], [[["B"]]]),
    "2029-01": (["sha512"], [[["B"]]]),
}
for oid, q, path in objects:
    name = "object %s (ingested %s)" % (oid, q)
    if verdicts.get(oid) != "valid":
        problems.append("%s: kura verify says %s" % (name, verdicts.get(oid)))
    r = json.load(open("%s/%s.json" % (d, oid)))
    if r["verdict"] != "valid":
        problems.append("%s: verify-er says %s (%s)" % (name, r["verdict"], r.get("reason")))
    hashes = [c.get("hash") for c in r["chains"]]
    signers = json.load(open("%s/%s.signers" % (d, oid)))
    times = [a.get("genTime") for c in r["chains"] for a in c["ats"]]
    if times != sorted(times) or len(set(times)) != len(times):
        problems.append("%s: genTimes do not strictly increase: %s" % (name, times))
    if (hashes, signers) != want[q]:
        problems.append("%s: chains %s signed by %s (genTimes %s); expected %s signed by %s"
                        % (name, hashes, signers, times, want[q][0], want[q][1]))
    if signers and signers[-1] and signers[-1][-1] != ["B"]:
        problems.append("%s: its latest time-stamp is not B\x27s" % name)
if sorted(verdicts) != sorted(o[0] for o in objects):
    problems.append("kura verify lists %d objects, %d were ingested" % (len(verdicts), len(objects)))
for it in json.load(open(d + "/plan.json")):
    if it["due_now"]:
        problems.append("at the end, renew --plan lists %s" % it)
for p in problems:
    print(p)
' "$R" >"$OUT"
	[ ! -s "$OUT" ] || fail "remote failover:
$(head -n 20 "$OUT")"
	stop_server "$pid_b"
}

run_case fifty_years fifty_years
run_case remote_failover remote_failover
finish_cases
