#!/usr/bin/env bash
# Renewal behaviours, one case each (the long run is test_fifty_years.sh). The clock is KURA_NOW;
# stores are made 2026-01-01 with an embedded EC P-256 TSA (365-day certificates unless said
# otherwise) and a policy written here (SHA-256, SHA-512, EC P-256 without end, margins 30 days).
#  - plan_json: `renew --plan --json` shape, order and reasons: the TSA certificate's end, a key
#    end declared by `policy sunset` (time-stamp renewal), a hash end ("hash-tree renewal");
#    due_now flips when the clock passes the due time; an empty store plans and renews nothing.
#  - sunset_hashtree: `policy sunset sha256` then `renew`: one hash-tree renewal to sha512; each
#    exported record has 2 chains that `verify-er` accepts, and its leaf is H'(h || ha) computed
#    independently (tests/cli/renewal/er_check.py); later seals start sha512 chains.
#  - tsa_down_remote / tsa_down_closed_port: the TSA is unreachable during a renewal (a stopped
#    `kura tsa serve`; `kura tsa urls --set` to a closed port): exit 3, segments byte-identical,
#    the plan still shows the chain due now, the old evidence still verifies; once a TSA is back
#    the next run renews.
#  - refused_broken: the TSA certificate expired before anyone renewed: `renew` (and the daemon)
#    say NOT RENEWED and exit 1, a second run writes nothing, the chain stays due.
#  - bad_policy_init / bad_policy_set: a syntax error, an unknown algorithm, a bad date (and bad
#    sunsets): exit 2 naming the file and line; the store (or the lack of one) is unchanged.
#  - audit: `policy set` and `policy sunset` are logged in the segments (JSON text).
#  - daemon_sigterm: `kura daemon S` in the background seals, then stops on SIGTERM within a few
#    seconds, exit 0, logging "stopped".
#  - suitability: verification judges algorithms by the policy (rule 4): a token whose key was
#    declared unsuitable before the time it is checked at makes `verify` (store policy) and
#    `verify-er --policy` invalid, naming the algorithm and date; `verify-er` without a policy
#    does not judge it; a sunset after that time changes nothing.
#  - reindex: after time-stamp and hash-tree renewals, `reindex` (also with the index removed)
#    keeps every object valid and every record and plan identical.
source "$(dirname "$0")/lib.sh" || exit 1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/renewal/servers.sh"
ER_CHECK=$HERE/renewal/er_check.py
on_exit stop_all_servers
export KURA_TSA_TIMEOUT=5
cd "$T"

D0=2026-01-01T00:00:00Z
POLICY=$T/policy.yaml
test_policy "$POLICY" renewal-test

# new_store DIR [init options]: a store made at D0 with $POLICY and 365-day TSA certificates
new_store()
{
	local dir=$1
	shift
	expect_status 0 at "$D0" init "$dir" --policy "$POLICY" --tsa-days 365 "$@"
}

# ingest_at NOW STORE FILE...: ingest (sealed at once); the seal ID in $SEAL
ingest_at()
{
	local now=$1 store=$2
	shift 2
	expect_status 0 at "$now" ingest "$store" "$@"
	SEAL=$(sed -n 's/^kura: sealed [0-9]* object(s): seal \([0-9A-Z]*\), .*/\1/p' "$ERR")
	[ -n "$SEAL" ] || fail "ingest at $now did not seal: $(cat "$ERR")"
}

# Python over the JSON in file $1: the code must print nothing when all is well.
check_json()
{
	local file=$1 code=$2 what=$3
	shift 3
	py "d = json.load(open(sys.argv[1]))
$code" "$file" "$@" >"$T/.check" 2>&1 || fail "$what: the check itself failed: $(cat "$T/.check")"
	[ ! -s "$T/.check" ] || fail "$what: $(head -n 10 "$T/.check")
  in: $(head -c 1500 "$file")"
}

# Snapshot of everything a failed command must leave alone.
snapshot()
{
	local s=$1
	{
		seg_digest "$s"
		for f in policy.yaml sunsets.json config.json; do
			if [ -e "$s/$f" ]; then sha256_of "$s/$f"; else echo "no $f"; fi
		done
		at "$D0" policy show "$s" --json
	} 2>&1
}

# ---------------------------------------------------------------- plan

case_plan_json()
{
	local S=$T/plan/store
	mkdir -p "$T/plan"
	new_store "$S"
	random_file "$T/plan/a" 1000
	ingest_at "$D0" "$S" "$T/plan/a"
	local chain=$SEAL
	if command -v openssl >/dev/null; then
		local end
		end=$(openssl x509 -in "$S/tsa/tsa.pem" -noout -enddate)
		[ "$end" = "notAfter=Jan  1 00:00:00 2027 GMT" ] ||
			fail "a 365-day TSA certificate made $D0 should end 2027-01-01: $end"
	fi
	# the TSA certificate (2027-01-01) less 30 days
	expect_status 0 at "$D0" renew "$S" --plan --json
	check_json "$OUT" '
want_keys = {"chain", "action", "due", "due_now", "reason", "hash", "objects"}
if not isinstance(d, list) or len(d) != 1:
    print("expected one live chain, got", d); sys.exit()
it = d[0]
if set(it) != want_keys:
    print("keys", sorted(it), "expected", sorted(want_keys))
want = {"chain": sys.argv[2], "action": "time-stamp renewal", "due": "2026-12-02T00:00:00Z", "due_now": False,
        "hash": "sha256", "objects": 1}
for k, v in want.items():
    if it.get(k) != v:
        print("%s is %r, expected %r" % (k, it.get(k), v))
r = it.get("reason", "")
if "TSA certificate" not in r or "expires 2027-01-01" not in r:
    print("the reason does not name the TSA certificate and its end:", r)
' "plan at $D0" "$chain"
	expect_status 0 at "$D0" renew "$S" --plan
	expect_grep "$OUT" "policy renewal-test; 1 live chain(s)"
	grep -q "^later  .*time-stamp renewal.*2026-12-02T00:00:00Z" "$OUT" || fail "text plan: $(cat "$OUT")"
	# due once the clock passes the due time (the certificate is still valid)
	expect_status 0 at 2026-12-15T00:00:00Z renew "$S" --plan --json
	check_json "$OUT" '
if [(i["due_now"], i["due"]) for i in d] != [(True, "2026-12-02T00:00:00Z")]:
    print("at 2026-12-15 the chain must be due now:", d)
' "plan at 2026-12-15"
	expect_status 0 at 2026-12-15T00:00:00Z renew "$S" --plan
	grep -q "^DUE NOW .*time-stamp renewal" "$OUT" || fail "text plan at 2026-12-15: $(cat "$OUT")"

	# a key end declared by a sunset comes before the certificate's end
	expect_status 0 at "$D0" policy sunset "$S" ec-p256 2026-06-30
	expect_status 0 at "$D0" renew "$S" --plan --json
	check_json "$OUT" '
it = d[0]
if (len(d), it["action"], it["due"], it["due_now"], it["hash"]) != (1, "time-stamp renewal", "2026-05-31T00:00:00Z", False, "sha256"):
    print("after the ec-p256 sunset:", it)
if "key ec-p256 suffices only until 2026-06-29" not in it["reason"] or "sunset" not in it["reason"]:
    print("the reason does not name the key end from the sunset:", it["reason"])
' "plan after a key sunset"

	# a hash end comes first: hash-tree renewal
	expect_status 0 at "$D0" policy sunset "$S" sha256 2026-04-30
	expect_status 0 at "$D0" renew "$S" --plan --json
	check_json "$OUT" '
it = d[0]
if (len(d), it["action"], it["due"], it["due_now"], it["hash"], it["objects"]) != (1, "hash-tree renewal", "2026-03-31T00:00:00Z", False, "sha256", 1):
    print("after the sha256 sunset:", it)
if "hash algorithm sha256 suffices only until 2026-04-29" not in it["reason"]:
    print("the reason does not name the hash end:", it["reason"])
' "plan after a hash sunset"
	expect_status 0 at 2026-04-01T00:00:00Z renew "$S" --plan --json
	check_json "$OUT" '
if [(i["action"], i["due_now"]) for i in d] != [("hash-tree renewal", True)]:
    print("at 2026-04-01 the hash-tree renewal must be due now:", d)
' "plan at 2026-04-01"

	# two chains (a second seal later): both listed, sorted by due time
	random_file "$T/plan/b" 1000
	ingest_at 2026-02-01T00:00:00Z "$S" "$T/plan/b"
	expect_status 0 at 2026-02-01T00:00:00Z renew "$S" --plan --json
	check_json "$OUT" '
if len(d) != 2 or sorted(i["chain"] for i in d) != sorted([sys.argv[2], sys.argv[3]]):
    print("expected the two seals as live chains:", d)
if [i["due"] for i in d] != sorted(i["due"] for i in d):
    print("the plan is not sorted by due time:", [i["due"] for i in d])
' "plan with two chains" "$chain" "$SEAL"
}

# an empty store: nothing planned, nothing to do
case_plan_empty()
{
	local S=$T/empty/store
	mkdir -p "$T/empty"
	new_store "$S"
	expect_status 0 at "$D0" renew "$S" --plan --json
	[ "$(tr -d ' \n' <"$OUT")" = "[]" ] || fail "an empty store plans something: $(cat "$OUT")"
	expect_status 0 at "$D0" renew "$S" --plan
	expect_grep "$OUT" "policy renewal-test; 0 live chain(s)"
	expect_status 0 at "$D0" renew "$S" --json
	check_json "$OUT" '
if (d["chains_renewed"], d["objects_rehashed"], d["refused"], d["next_due"]) != (0, 0, 0, "never"):
    print("renew on an empty store:", d)
' "renew on an empty store"
	expect_status 0 at "$D0" daemon "$S" --once
	expect_grep "$OUT" "next due never"
}

# ---------------------------------------------------------------- hash-tree renewal

case_sunset_hashtree()
{
	local S=$T/ht/store i id f
	mkdir -p "$T/ht"
	new_store "$S"
	for i in 1 2 3; do random_file "$T/ht/doc$i" $((900 + 77 * i)); done
	ingest_at "$D0" "$S" "$T/ht/doc1" "$T/ht/doc2"
	ingest_at 2026-01-02T00:00:00Z "$S" "$T/ht/doc3"
	expect_status 0 at 2026-01-10T00:00:00Z policy sunset "$S" sha256 2026-03-01
	# due 2026-01-30: nothing done before
	expect_status 0 at 2026-01-20T00:00:00Z renew "$S" --json
	check_json "$OUT" '
if (d["objects_rehashed"], d["chains_renewed"]) != (0, 0):
    print("renewed before it was due:", d)
' "renew at 2026-01-20"
	expect_status 0 at 2026-02-15T00:00:00Z renew "$S" --json
	check_json "$OUT" '
want = {"objects_rehashed": 3, "rehashed_to": "sha512", "chains_renewed": 0, "refused": 0}
for k, v in want.items():
    if d.get(k) != v:
        print("%s is %r, expected %r" % (k, d.get(k), v))
' "renew at 2026-02-15"
	grep -q "hash-tree renewal: 3 object(s) now in a sha512 chain" "$ERR" || fail "renew stderr: $(cat "$ERR")"
	expect_status 0 at 2026-02-15T00:00:00Z tsa ca "$S"
	cp "$OUT" "$T/ht/ca.pem"
	expect_status 0 at 2026-02-15T00:00:00Z ls "$S"
	cut -f1,4 "$OUT" >"$T/ht/objects"
	[ "$(wc -l <"$T/ht/objects")" -eq 3 ] || fail "expected 3 objects: $(cat "$OUT")"
	while read -r id f; do
		expect_status 0 at 2026-02-15T00:00:00Z evidence "$S" "$id" -o "$T/ht/$id.ers"
		expect_status 0 at 2026-02-15T00:00:00Z verify-er --data "$T/ht/$(basename "$f")" --er "$T/ht/$id.ers" \
			--trust "$T/ht/ca.pem" --json
		check_json "$OUT" '
if d["verdict"] != "valid":
    print("verdict", d["verdict"], d.get("reason"))
if [c.get("hash") for c in d["chains"]] != ["sha256", "sha512"]:
    print("chains", [c.get("hash") for c in d["chains"]], "expected [sha256, sha512]")
elif not d["chains"][1]["ats"][0].get("rule", "").startswith("h\x27 = H(h || ha)"):
    print("the sha512 chain does not start with H(h || ha):", d["chains"][1]["ats"][0])
' "verify-er of $id"
		"$PYTHON" "$ER_CHECK" hashtree "$T/ht/$id.ers" "$T/ht/$(basename "$f")" >"$T/ht/check" 2>&1 ||
			fail "the hash-tree renewal leaf of $id is not H'(h || ha): $(cat "$T/ht/check")"
	done <"$T/ht/objects"
	expect_status 0 at 2026-02-15T00:00:00Z verify "$S"
	# one live chain now, sha512, not due; a second run does nothing
	expect_status 0 at 2026-02-15T00:00:00Z renew "$S" --plan --json
	check_json "$OUT" '
if [(i["hash"], i["objects"], i["due_now"], i["action"]) for i in d] != [("sha512", 3, False, "time-stamp renewal")]:
    print("after the hash-tree renewal:", d)
' "plan after the hash-tree renewal"
	expect_status 0 at 2026-02-16T00:00:00Z renew "$S" --json
	check_json "$OUT" '
if (d["objects_rehashed"], d["chains_renewed"]) != (0, 0):
    print("a second run renewed again:", d)
' "second renew"
	# new seals no longer start on the ended hash
	random_file "$T/ht/doc4" 500
	ingest_at 2026-02-20T00:00:00Z "$S" "$T/ht/doc4"
	id=$(head -c 26 "$OUT")
	expect_status 0 at 2026-02-20T00:00:00Z evidence "$S" "$id" -o "$T/ht/new.ers"
	expect_status 0 at 2026-02-20T00:00:00Z verify-er --data "$T/ht/doc4" --er "$T/ht/new.ers" --trust "$T/ht/ca.pem" --json
	check_json "$OUT" '
if d["verdict"] != "valid" or [c.get("hash") for c in d["chains"]] != ["sha512"]:
    print("an object sealed after the sha256 sunset:", d["verdict"], [c.get("hash") for c in d["chains"]])
' "object sealed after the sunset"
}

# ---------------------------------------------------------------- hash-tree renewal to SHA-3

# sha3_policy FILE TARGET: sha256, sha512, sha3-512, sha384 and sha3-384 end 2026-03-01 except
# TARGET, which never ends (also the only entry for sha3-256): the planner's preference
# (renewal/plan.c) then picks TARGET for the hash-tree renewal.
sha3_policy()
{
	local a until
	printf 'kura-policy: 1\nname: %s\ntitle: %s\nmargins: {certificate-days: 30, algorithm-days: 30}\nalgorithms:\n' \
		"to-$2" "to-$2" >"$1"
	for a in sha256 sha512 sha3-512 sha384 sha3-384 sha3-256; do
		until=2026-03-01
		[ "$a" != "$2" ] || until=null
		[ "$a" != sha3-256 ] || [ "$2" = sha3-256 ] || continue
		printf '  %s: {until: %s, source: "test"}\n' "$a" "$until" >>"$1"
	done
	printf '  ec-p256: {until: null, source: "test"}\n' >>"$1"
}

case_sha3_hashtree()
{
	local h S id tok now=2026-02-15T00:00:00Z
	for h in sha3-256 sha3-384 sha3-512; do
		S=$T/sha3/$h
		mkdir -p "$S.x"
		sha3_policy "$S.yaml" "$h"
		expect_status 0 at "$D0" init "$S" --policy "$S.yaml" --tsa-days 365 --tsa-key ec-p256
		random_file "$S.doc" 700
		ingest_at "$D0" "$S" "$S.doc"
		id=$(head -c 26 "$OUT")
		expect_status 0 at "$now" renew "$S" --json
		check_json "$OUT" 'd["objects_rehashed"] == 1 and d["rehashed_to"] == sys.argv[2] or print("renew:", d)' \
			"renew to $h" "$h"
		expect_status 0 at "$now" verify "$S"
		expect_status 0 at "$now" tsa ca "$S"
		cp "$OUT" "$S.ca"
		expect_status 0 at "$now" evidence "$S" "$id" -o "$S.ers"
		expect_status 0 at "$now" verify-er --data "$S.doc" --er "$S.ers" --trust "$S.ca" --json
		check_json "$OUT" '
if d["verdict"] != "valid" or [c.get("hash") for c in d["chains"]] != ["sha256", sys.argv[2]]:
    print("verify-er:", d["verdict"], d.get("reason"), [c.get("hash") for c in d["chains"]])
elif d["chains"][1]["ats"][0].get("signature_algorithm") != "ecdsa_with_" + sys.argv[2].upper():
    print("the %s token is not signed ecdsa-with-%s:" % (sys.argv[2], sys.argv[2]), d["chains"][1]["ats"][0])
' "verify-er after the renewal to $h" "$h"
		# the tokens check out with openssl alone, as the package's VERIFY.md says
		expect_status 0 at "$now" export "$S" -o "$S.tar"
		tar -xf "$S.tar" -C "$S.x"
		tok=$(echo "$S.x"/*/data/tokens)
		grep -q "	$h	" "$tok/INDEX.tsv" || fail "no $h token in the export: $(ls -R "$S.x" | head)"
		(cd "$tok" && while IFS=$'\t' read -r file gentime epoch hash imprint; do
			openssl ts -verify -token_in -in "$file" -digest "$imprint" -CAfile ../tsa-anchors.pem \
				-attime "$epoch" >"$S.ossl" 2>&1 || exit 1
		done <INDEX.tsv) || fail "openssl ts -verify fails on a token of the $h renewal: $(cat "$S.ossl")"
	done
}

# ---------------------------------------------------------------- TSA down during renewal

case_tsa_down_remote()
{
	local S=$T/down/store now=2026-02-15T00:00:00Z before url port
	mkdir -p "$T/down"
	start_serve "$T/down/tsa" "$D0" 127.0.0.1:0 --dir "$T/down/tsa-dir"
	url=$SERVER_URL
	port=$SERVER_PORT
	expect_status 0 at "$D0" init "$S" --policy "$POLICY" --tsa-url "$url"
	expect_status 0 at "$D0" trust add "$S" --tsa "$T/down/tsa-dir/anchors.pem"
	random_file "$T/down/a" 800
	random_file "$T/down/b" 900
	ingest_at "$D0" "$S" "$T/down/a" "$T/down/b"
	grep -q "by $url" "$ERR" || fail "the seal did not come from the served TSA: $(cat "$ERR")"
	expect_status 0 at "$D0" policy sunset "$S" sha256 2026-03-01
	stop_server "$SERVER_PID"

	before=$(snapshot "$S")
	expect_error 3 at "$now" renew "$S"
	expect_grep "$ERR" "TSA $url failed"
	expect_grep "$ERR" "no TSA gave a usable time-stamp"
	[ "$(snapshot "$S")" = "$before" ] || fail "a renewal that got no time-stamp changed the store"
	expect_status 3 at "$now" daemon "$S" --once
	expect_grep "$ERR" "round failed"
	expect_grep "$ERR" "TSA $url failed"
	[ "$(snapshot "$S")" = "$before" ] || fail "a daemon round that got no time-stamp changed the store"
	expect_status 0 at "$now" renew "$S" --plan --json
	check_json "$OUT" '
if [(i["action"], i["due_now"], i["objects"]) for i in d] != [("hash-tree renewal", True, 2)]:
    print("after the failed renewal the chain must still be due now:", d)
' "plan after the failed renewal"
	expect_status 0 at "$now" verify "$S"

	# the TSA is back (same port): the next run renews
	start_serve "$T/down/tsa" "$now" "127.0.0.1:$port" --dir "$T/down/tsa-dir"
	expect_status 0 at "$now" renew "$S" --json
	check_json "$OUT" '
if (d["objects_rehashed"], d["rehashed_to"]) != (2, "sha512"):
    print("once the TSA is back:", d)
' "renew once the TSA is back"
	stop_server "$SERVER_PID"
	expect_status 0 at "$now" verify "$S" --json
	py '
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["verdict"] != "valid" or [c.get("hash") for c in r["chains"]] != ["sha256", "sha512"]:
        print(r["id"], r["verdict"], [c.get("hash") for c in r["chains"]])
' "$OUT" >"$T/down/check"
	[ ! -s "$T/down/check" ] || fail "after the renewal: $(cat "$T/down/check")"
}

case_tsa_down_closed_port()
{
	local S=$T/closed/store now=2026-12-10T00:00:00Z before port
	mkdir -p "$T/closed"
	new_store "$S"
	random_file "$T/closed/a" 700
	ingest_at "$D0" "$S" "$T/closed/a"
	port=$(closed_port)
	expect_status 0 at "$now" tsa urls "$S" --set "http://127.0.0.1:$port/"
	before=$(snapshot "$S")
	expect_error 3 at "$now" renew "$S"
	expect_grep "$ERR" "TSA http://127.0.0.1:$port/ failed"
	[ "$(snapshot "$S")" = "$before" ] || fail "a renewal that got no time-stamp changed the store"
	expect_status 0 at "$now" renew "$S" --plan --json
	check_json "$OUT" '
if [(i["action"], i["due_now"]) for i in d] != [("time-stamp renewal", True)]:
    print("after the failed renewal the chain must still be due now:", d)
' "plan after the failed renewal"
	expect_status 0 at "$now" verify "$S"
	# back to the embedded TSA: it rolls over (its certificate ends within the margin) and renews
	expect_status 0 at "$now" tsa urls "$S" --embedded
	expect_status 0 at "$now" renew "$S" --json
	check_json "$OUT" '
if (d["chains_renewed"], d["refused"], d["tsa_rolled_over"]) != (1, 0, True):
    print("with the embedded TSA back:", d)
' "renew with the embedded TSA back"
	expect_status 0 at "$now" verify "$S" --json
	check_json "$OUT" '
ats = d["chains"][0]["ats"] if d["chains"] else []
if d["verdict"] != "valid" or [a["genTime"] for a in ats] != ["2026-01-01T00:00:00Z", "2026-12-10T00:00:00Z"]:
    print(d["verdict"], [a.get("genTime") for a in ats])
' "verify after the renewal"
}

# ---------------------------------------------------------------- broken evidence is not renewed

case_refused_broken()
{
	local S=$T/broken/store now=2026-04-01T00:00:00Z chain before
	mkdir -p "$T/broken"
	expect_status 0 at "$D0" init "$S" --policy "$POLICY" --tsa-days 60
	random_file "$T/broken/a" 600
	ingest_at "$D0" "$S" "$T/broken/a"
	chain=$SEAL
	# the TSA certificate ended 2026-03-02; nobody renewed in time
	expect_status 1 at "$now" renew "$S"
	expect_grep "$ERR" "NOT RENEWED: chain $chain"
	expect_grep "$ERR" "1 chain(s) were NOT renewed"
	expect_grep "$OUT" "renewed 0 chain(s) by time-stamp"
	# a second run writes nothing and refuses again
	before=$(snapshot "$S")
	expect_status 1 at "$now" renew "$S" --json
	check_json "$OUT" '
if (d["chains_renewed"], d["refused"], d["objects_rehashed"]) != (0, 1, 0):
    print("second run:", d)
' "second refused run"
	expect_grep "$ERR" "NOT RENEWED: chain $chain"
	expect_status 1 at "$now" daemon "$S" --once
	expect_grep "$ERR" "NOT RENEWED: chain $chain"
	[ "$(snapshot "$S")" = "$before" ] || fail "a refused renewal wrote to the store"
	expect_status 0 at "$now" renew "$S" --plan --json
	check_json "$OUT" '
if [(i["chain"], i["due_now"]) for i in d] != [(sys.argv[2], True)]:
    print("the broken chain must stay due now:", d)
' "plan after the refusal" "$chain"
	expect_status 1 at "$now" verify "$S"
	grep -q "invalid" "$OUT" || fail "kura verify should call the broken evidence invalid: $(cat "$OUT")"
}

# ---------------------------------------------------------------- bad policies

write_bad_policies()
{
	# a tab as indentation on line 5
	printf 'kura-policy: 1\nname: broken-syntax\nmargins: {certificate-days: 30, algorithm-days: 30}\nalgorithms:\n\tsha256: {until: null, source: "x"}\n' \
		>"$T/bad-syntax.yaml"
	# an unknown algorithm on line 6
	printf 'kura-policy: 1\nname: unknown-algorithm\nmargins: {certificate-days: 30, algorithm-days: 30}\nalgorithms:\n  sha256: {until: null, source: "x"}\n  md5: {until: 2020-01-01, source: "y"}\n' \
		>"$T/bad-alg.yaml"
	# a date that does not exist on line 6
	printf 'kura-policy: 1\nname: bad-date\nmargins: {certificate-days: 30, algorithm-days: 30}\nalgorithms:\n  sha256: {until: null, source: "x"}\n  sha512: {until: 2030-02-30, source: "y"}\n' \
		>"$T/bad-date.yaml"
}
BAD_POLICIES=("bad-syntax.yaml:5:tab" "bad-alg.yaml:6:unknown algorithm 'md5'" "bad-date.yaml:6:until must be a date")

case_bad_policy_init()
{
	local spec file line what left=() wrong=()
	write_bad_policies
	for spec in "${BAD_POLICIES[@]}"; do
		IFS=: read -r file line what <<<"$spec"
		expect_error 2 at "$D0" init "$T/init-${file%.yaml}" --policy "$T/$file"
		expect_grep "$ERR" "$what"
		expect_grep "$ERR" "nothing was changed"
		grep -q -F "$T/$file line $line: " "$ERR" || wrong+=("$file: expected line $line, got: $(cat "$ERR")")
	done
	# "nothing was changed": no store, not even a half-made folder
	for spec in "${BAD_POLICIES[@]}"; do
		IFS=: read -r file line what <<<"$spec"
		[ ! -e "$T/init-${file%.yaml}" ] || left+=("init-${file%.yaml}: $(cd "$T/init-${file%.yaml}" && ls | tr '\n' ' ')")
	done
	if [ ${#left[@]} -gt 0 ]; then
		# what a user meets next
		local again=0
		at "$D0" init "$T/init-bad-alg" --policy "$POLICY" >/dev/null 2>"$T/.again" || again=$?
		wrong+=("kura init --policy BAD exits 2 but leaves a half-made folder: ${left[*]}; \`kura init\` there again with a good policy then exits $again: $(cat "$T/.again")")
	fi
	[ ${#wrong[@]} -eq 0 ] || fail "$(printf '%s; ' "${wrong[@]}")"
}

case_bad_policy_set()
{
	local S=$T/badset/store spec file line what before
	mkdir -p "$T/badset"
	write_bad_policies
	new_store "$S"
	random_file "$T/badset/a" 500
	ingest_at "$D0" "$S" "$T/badset/a"
	before=$(snapshot "$S")
	expect_status 0 at "$D0" policy show "$S"
	cp "$OUT" "$T/badset/show.before"
	local wrong=()
	for spec in "${BAD_POLICIES[@]}"; do
		IFS=: read -r file line what <<<"$spec"
		expect_error 2 at "$D0" policy set "$S" "$T/$file"
		expect_grep "$ERR" "$what"
		expect_grep "$ERR" "nothing was changed"
		grep -q -F "$T/$file line $line: " "$ERR" || wrong+=("$file: expected line $line, got: $(cat "$ERR")")
		[ "$(snapshot "$S")" = "$before" ] || fail "policy set $file changed the store"
	done
	expect_error 2 at "$D0" policy set "$S" no-such-policy
	expect_grep "$ERR" "no policy named 'no-such-policy'"
	expect_error 2 at "$D0" policy sunset "$S" md5 2030-01-01
	expect_grep "$ERR" "unknown algorithm 'md5'"
	expect_error 2 at "$D0" policy sunset "$S" sha256 2030-02-30
	expect_error 2 at "$D0" policy sunset "$S" sha256 soon
	[ "$(snapshot "$S")" = "$before" ] || fail "a refused policy change changed the store"
	[ ! -e "$S/sunsets.json" ] || fail "a refused sunset left $S/sunsets.json"
	expect_status 0 at "$D0" policy show "$S"
	cmp -s "$OUT" "$T/badset/show.before" || fail "policy show changed after refused changes"
	expect_status 0 at "$D0" verify "$S"
	[ ${#wrong[@]} -eq 0 ] || fail "a YAML syntax error must name its line: $(printf '%s; ' "${wrong[@]}")"
}

# ---------------------------------------------------------------- audit

case_audit()
{
	local S=$T/audit/store
	mkdir -p "$T/audit"
	new_store "$S"
	! grep -a -q -e '"policy-set"' -e '"policy-sunset"' "$S"/segments/*.seg || fail "a new store logs policy changes"
	expect_status 0 at "$D0" policy set "$S" bsi-tr-02102-1
	expect_status 0 at "$D0" policy show "$S" --json
	check_json "$OUT" '
if d["name"] != "bsi-tr-02102-1":
    print("policy set did not take:", d["name"])
' "policy show after set"
	grep -a -q '"action":"policy-set"' "$S"/segments/*.seg || fail "policy set is not in the store's audit trail"
	grep -a -q 'bsi-tr-02102-1' "$S"/segments/*.seg || fail "the audit entry does not name the new policy"
	expect_status 0 at 2026-01-02T00:00:00Z policy sunset "$S" sha256 2035-01-01
	grep -a -q '"action":"policy-sunset"' "$S"/segments/*.seg || fail "policy sunset is not in the store's audit trail"
	expect_status 0 at "$D0" policy show "$S" --json
	check_json "$OUT" '
a = d["algorithms"].get("sha256", {})
if a.get("until") != "2034-12-31" or "sunset" not in a.get("source", ""):
    print("the sunset is not applied:", a)
' "policy show after sunset"
	# back to a file: logged again, and a sunset survives a policy change
	expect_status 0 at 2026-01-03T00:00:00Z policy set "$S" "$POLICY"
	[ "$(grep -a -o '"action":"policy-set"' "$S"/segments/*.seg | wc -l)" -eq 2 ] ||
		fail "two policy changes, expected two policy-set entries"
	expect_status 0 at "$D0" policy show "$S" --json
	check_json "$OUT" '
if d["name"] != "renewal-test" or d["algorithms"]["sha256"]["until"] != "2034-12-31":
    print("after setting the file back:", d["name"], d["algorithms"]["sha256"])
' "policy show after the second set"
}

# ---------------------------------------------------------------- daemon

case_daemon_sigterm()
{
	local S=$T/daemon/store pid rc=0 i t0 t1
	mkdir -p "$T/daemon"
	new_store "$S"
	random_file "$T/daemon/a" 500
	expect_status 0 at "$D0" ingest "$S" --no-seal "$T/daemon/a"
	KURA_NOW=$D0 "$KURA_BIN" daemon "$S" >"$T/daemon/out" 2>"$T/daemon/err" &
	pid=$!
	echo "$pid" >>"$SERVERS_FILE"
	for ((i = 0; i < 300; i++)); do
		grep -q 'sealed 1 object(s)' "$T/daemon/err" && break
		alive "$pid" || fail "kura daemon exited early: $(cat "$T/daemon/err")"
		sleep 0.05
	done
	grep -q 'sealed 1 object(s)' "$T/daemon/err" || fail "kura daemon did not seal the pending object in 15 s: $(cat "$T/daemon/err")"
	# the round's report ("renewed ...; next due ...") belongs in the log while the daemon runs
	# (under systemd stdout is the journal, a pipe): it must not wait in a buffer until exit
	local unflushed=
	for ((i = 0; i < 60; i++)); do
		grep -q 'renewed ' "$T/daemon/out" && break
		sleep 0.05
	done
	grep -q 'renewed ' "$T/daemon/out" ||
		unflushed="the first round's report (stdout) is not written while the daemon runs (stdout not a TTY: buffered until exit); "
	alive "$pid" || fail "kura daemon (without --once) stopped by itself: $(cat "$T/daemon/err")"
	t0=$(date +%s%N)
	kill -TERM "$pid"
	for ((i = 0; i < 250; i++)); do
		alive "$pid" || break
		sleep 0.02
	done
	t1=$(date +%s%N)
	if alive "$pid"; then
		stop_server "$pid"
		fail "kura daemon still runs 5 s after SIGTERM"
	fi
	wait "$pid" || rc=$?
	sed -i "/^$pid\$/d" "$SERVERS_FILE"
	[ "$rc" -eq 0 ] || fail "kura daemon exited $rc on SIGTERM: $(cat "$T/daemon/err")"
	tail -n 1 "$T/daemon/err" | grep -q 'kura daemon: stopped' || fail "the daemon's last log line is not 'stopped': $(tail -n 3 "$T/daemon/err")"
	grep -q '^renewed 0 chain(s) by time-stamp, 0 object(s) by hash tree; next due 2026-12-02T00:00:00Z' "$T/daemon/out" ||
		fail "the daemon's round report: $(cat "$T/daemon/out")"
	expect_status 0 at "$D0" verify "$S"
	[ -z "$unflushed" ] || fail "kura daemon: $unflushed(it stopped $(((t1 - t0) / 1000000)) ms after SIGTERM, exit 0, otherwise fine)"
}

# ---------------------------------------------------------------- reindex

case_suitability()
{
	new_store U
	printf 'suitability\n' >u.txt
	ingest_at 2026-02-01T00:00:00Z U u.txt
	local id
	id=$(cut -f1 "$OUT")
	at 2026-03-01T00:00:00Z evidence U "$id" -o u.ers
	at 2026-03-01T00:00:00Z tsa ca U >u-roots.pem
	expect_status 0 at 2026-03-01T00:00:00Z verify U
	# a sunset later than now changes nothing
	at 2026-03-01T00:00:00Z policy sunset U ec-p256 2026-06-01 >/dev/null 2>&1
	expect_status 0 at 2026-03-01T00:00:00Z verify U
	# one before now: the last token's key no longer suffices
	at 2026-03-01T00:00:00Z policy sunset U ec-p256 2026-02-15 >/dev/null 2>&1
	expect_status 1 at 2026-03-01T00:00:00Z verify U --json
	expect_grep "$OUT" "ec-p256 no longer sufficed at 2026-03-01"
	sed 's/^  ec-p256:.*$/  ec-p256:  {until: 2026-02-14, source: "test: broken"}/' "$POLICY" >u-policy.yaml
	expect_status 1 at 2026-03-01T00:00:00Z verify-er --data u.txt --er u.ers --trust u-roots.pem --policy u-policy.yaml --json
	check_json "$OUT" 'assert d["trust"] == "invalid" and d["integrity"] == "valid", d["trust"]' "verify-er --policy"
	expect_grep "$OUT" "no longer sufficed"
	expect_status 0 at 2026-03-01T00:00:00Z verify-er --data u.txt --er u.ers --trust u-roots.pem
	expect_error 2 at 2026-03-01T00:00:00Z verify-er --data u.txt --er u.ers --policy no-such-policy
}

case_reindex()
{
	local S=$T/reindex/store now=2027-02-20T00:00:00Z id
	mkdir -p "$T/reindex"
	new_store "$S"
	random_file "$T/reindex/a" 500
	random_file "$T/reindex/b" 600
	random_file "$T/reindex/c" 700
	ingest_at "$D0" "$S" "$T/reindex/a" "$T/reindex/b"
	expect_status 0 at 2026-12-10T00:00:00Z renew "$S" --json # time-stamp renewal
	check_json "$OUT" 'd["chains_renewed"] == 1 or print("expected a time-stamp renewal:", d)' "renew 2026-12"
	expect_status 0 at 2026-12-11T00:00:00Z policy sunset "$S" sha256 2027-03-01
	expect_status 0 at 2027-02-15T00:00:00Z renew "$S" --json # hash-tree renewal
	check_json "$OUT" 'd["objects_rehashed"] == 2 or print("expected a hash-tree renewal:", d)' "renew 2027-02"
	ingest_at "$now" "$S" "$T/reindex/c"
	expect_status 0 at "$now" verify "$S" --json
	cp "$OUT" "$T/reindex/verify.before"
	expect_status 0 at "$now" renew "$S" --plan --json
	cp "$OUT" "$T/reindex/plan.before"
	expect_status 0 at "$now" ls "$S"
	cut -f1 "$OUT" >"$T/reindex/ids"
	[ "$(wc -l <"$T/reindex/ids")" -eq 3 ] || fail "expected 3 objects: $(cat "$OUT")"
	while read -r id; do
		expect_status 0 at "$now" evidence "$S" "$id" -o "$T/reindex/$id.before"
	done <"$T/reindex/ids"
	local round
	for round in reindex index-removed; do
		[ "$round" = reindex ] || rm -rf "$S/index"
		expect_status 0 at "$now" reindex "$S"
		expect_grep "$OUT" "reindexed 3 objects"
		expect_status 0 at "$now" verify "$S" --json
		cmp -s "$OUT" "$T/reindex/verify.before" || fail "($round) verify differs after reindex: $(diff "$T/reindex/verify.before" "$OUT" | head -c 800)"
		expect_status 0 at "$now" renew "$S" --plan --json
		cmp -s "$OUT" "$T/reindex/plan.before" || fail "($round) the plan differs after reindex: $(diff "$T/reindex/plan.before" "$OUT" | head -c 800)"
		while read -r id; do
			expect_status 0 at "$now" evidence "$S" "$id" -o "$T/reindex/$id.after"
			cmp -s "$T/reindex/$id.before" "$T/reindex/$id.after" || fail "($round) the record of $id differs after reindex"
		done <"$T/reindex/ids"
	done
	py '
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["verdict"] != "valid":
        print(r["id"], r["verdict"])
' "$T/reindex/verify.before" >"$T/reindex/check"
	[ ! -s "$T/reindex/check" ] || fail "not valid: $(cat "$T/reindex/check")"
}

run_case plan_empty case_plan_empty
run_case plan_json case_plan_json
run_case sunset_hashtree case_sunset_hashtree
run_case sha3_hashtree case_sha3_hashtree
run_case tsa_down_remote case_tsa_down_remote
run_case tsa_down_closed_port case_tsa_down_closed_port
run_case refused_broken case_refused_broken
run_case bad_policy_init case_bad_policy_init
run_case bad_policy_set case_bad_policy_set
run_case audit case_audit
run_case daemon_sigterm case_daemon_sigterm
run_case reindex case_reindex
run_case suitability case_suitability
finish_cases
