#!/usr/bin/env bash
# Retention, retention events, legal holds and disposal decisions over 30 years (issue 14):
# the classes shown; ingest --class with events; events recorded later by ID (of any
# version) and --all-of-class; a store's own class, which may not be shortened; every
# year from 2026 to 2056 the disposal plan lists exactly what retention_oracle.py works out
# from the YAML rules (tax books with fiscal-year ends, a construction project with a
# handover, a trial with its end and approval); the boundary (kept to the end of the last
# day); holds block a request and an approval placed before; four eyes (and a store made
# with --single-approver); every refusal exits 2 and leaves the segments and the store's
# files as they were; reindex rebuilds the same plan and holds.
source "$(dirname "$0")/lib.sh"

S=$T/s
HERE=$(cd "$(dirname "$0")" && pwd)
SHIPPED=$HERE/../../policies/retention.yaml
ORACLE="$PYTHON $HERE/retention_oracle.py"
STATE=$T/state.json
mkdir -p "$T/docs"
NOW=2026-01-10T09:00:00Z

# k ARGS...: kura ARGS at $NOW, exit 0, stdout in $OUT
k() { expect_status 0 at "$NOW" "$@"; }

# what a refusal must leave as it was: the segments' bytes and the store's own classes
store_state()
{
	seg_digest "$S"
	if [ -e "$S/retention.yaml" ]; then sha256_of "$S/retention.yaml"; fi
}

# refused ARGS...: kura ARGS at $NOW exits 2 with a message, and changes nothing
refused()
{
	local before after
	before=$(store_state)
	expect_error 2 at "$NOW" "$@"
	after=$(store_state)
	[ "$before" = "$after" ] || fail "refused 'kura $*' changed the store"
}

# ing NAME CLASS [INGEST-ARGS...]: ingests docs/NAME (made here), sets ID_NAME, tells the oracle
ing()
{
	local name=$1 cls=$2 ev=() a
	shift 2
	printf '%s of %s\n' "$name" "$cls" >"$T/docs/$name"
	k ingest "$S" --no-seal ${cls:+--class "$cls"} "$@" "$T/docs/$name"
	printf -v "ID_$name" '%s' "$(cut -f1 "$OUT")"
	for a in "$@"; do case $a in *=*) ev+=("$a") ;; esac; done
	local v=ID_$name
	$ORACLE add "$STATE" "${!v}" "${cls:-none}" "${NOW%%T*}" "${ev[@]+"${ev[@]}"}"
}

# check_plan: the plan at $NOW lists exactly what the oracle says
check_plan()
{
	k dispose "$S" --plan --json
	py 'print("\n".join(e["record"] for e in json.load(open(sys.argv[1]))))' "$OUT" | sed '/^$/d' >"$T/got"
	$ORACLE plan "$STATE" "$NOW" "$SHIPPED" "$S/retention.yaml" >"$T/want"
	diff "$T/want" "$T/got" >"$T/diff" || fail "plan at $NOW differs from the oracle (< oracle, > kura): $(cat "$T/diff")"
}

expect_status 0 at "$NOW" init "$S"

# ---- the classes
k retention show "$S" --json
py 'show = json.load(open(sys.argv[1]))
names = {c["name"]: c for c in show["classes"]}
for n in ("jp-tax-books", "jp-tax-books-10y", "jp-construction-books", "jp-construction-housing",
          "jp-architect-drawings", "eu-ctr-tmf", "eu-atmp", "j-gcp", "us-fda-ind"):
    assert n in names and names[n]["source"] and names[n]["shipped"], n
assert "536/2014 Art. 58" in names["eu-ctr-tmf"]["source"]
assert "312.62(c)" in names["us-fda-ind"]["source"]
assert names["j-gcp"]["rule"] == "the later of approval or discontinued + 3 years and trial-end + 3 years", names["j-gcp"]["rule"]
for e in ("fiscal-year-end", "handover", "trial-end", "approval", "discontinued", "ingest"):
    assert e in show["events"], e' "$OUT"
k retention show "$S"
expect_grep "$OUT" "jp-construction-books"
expect_grep "$OUT" "建設業法施行規則 第28条"

# ---- ingest with a class and events; refused ones store nothing
printf 'x\n' >"$T/docs/x"
refused ingest "$S" --no-seal --class no-such-class "$T/docs/x"
expect_grep "$ERR" "no-such-class: no such retention class"
refused ingest "$S" --no-seal --class jp-tax-books --event fiscal-year-end=2026-02-30 "$T/docs/x"
expect_grep "$ERR" "2026-02-30: not a calendar date"
refused ingest "$S" --no-seal --class jp-tax-books --event fiscal-year=2026-03-31 "$T/docs/x"
expect_grep "$ERR" "fiscal-year: unknown event"
ing tax1 jp-tax-books --event fiscal-year-end=2025-03-31
ing tax2 jp-tax-books
ing tax3 jp-tax-books-10y --event fiscal-year-end=2025-06-30
ing con1 jp-construction-books
ing con2 jp-construction-books
ing house jp-construction-housing
ing tmf eu-ctr-tmf
ing gcp j-gcp
ing fda us-fda-ind
ing atmp eu-atmp
ing drawing jp-architect-drawings
ing plain ""
# a correction of tax2: its events go to the record, whichever version is named
printf 'tax2, corrected\n' >"$T/docs/tax2"
k ingest "$S" --no-seal --supersedes "$ID_tax2" --reason "typo in line 3" "$T/docs/tax2"
TAX2_V2=$(cut -f1 "$OUT")

# ---- refusals of events
refused retention event "$S" handover 2026-01-05 "$ID_con1"
expect_grep "$ERR" "--reason"
refused retention event "$S" handovr 2026-01-05 "$ID_con1" --reason x
refused retention event "$S" handover 2026-02-29 "$ID_con1" --reason x
refused retention event "$S" handover 2026-01-05 01KEJK7S008S26M5VKJT2Q0PH6 --reason x
expect_grep "$ERR" "no such object"
refused retention event "$S" handover 2026-01-05 --all-of-class no-such-class --reason x
refused retention event "$S" handover 2026-01-05 --all-of-class eu-atmp "$ID_con1" --reason x
# an event is recorded once it has happened (today by the clock, or tomorrow east of UTC)
refused retention event "$S" handover 2026-01-12 "$ID_con1" --reason x
expect_grep "$ERR" "2026-01-12: that day has not come (today is 2026-01-10, UTC)"
refused retention event "$S" handover 9999-12-31 "$ID_con1" --reason x
refused ingest "$S" --no-seal --class jp-construction-books --event handover=2026-01-12 "$T/docs/plain"
expect_grep "$ERR" "--event handover=2026-01-12: that day has not come"

# ---- a store's own class; a change that would shorten retention is refused
cat >"$T/own.yaml" <<'EOF'
kura-retention: 1
classes:
  contracts:
    title: Contracts
    keep:
      - {from: ingest, years: 12}
    source: "house rule 7"
EOF
sed 's/years: 12/years: 10/' "$T/own.yaml" >"$T/shorter.yaml"
sed 's/years: 12/years: 13/' "$T/own.yaml" >"$T/longer.yaml"
printf 'kura-retention: 1\nclasses:\n  eu-ctr-tmf: {keep: [{from: trial-end, years: 1}], source: x}\n' >"$T/redefine.yaml"
refused retention set "$S" "$T/redefine.yaml" --reason "shorter trials"
expect_grep "$ERR" "shipped class cannot be redefined"
refused retention set "$S" "$T/own.yaml"
k retention set "$S" "$T/own.yaml" --reason "contracts policy of 2026"
[ "$(cat "$S/retention.yaml")" = "$(cat "$T/own.yaml")" ] || fail "retention set did not write STORE/retention.yaml"
ing contract contracts
refused retention set "$S" "$T/shorter.yaml" --reason "less paper"
expect_grep "$ERR" "record $ID_contract (class contracts) would be kept until 2036-01-10 instead of 2038-01-10"
printf 'kura-retention: 1\nclasses: {}\n' >"$T/none.yaml"
refused retention set "$S" "$T/none.yaml" --reason "no more contracts class"
k retention set "$S" "$T/longer.yaml" --reason "contracts kept 13 years" --actor legal
k retention show "$S" --json
py 'c = [c for c in json.load(open(sys.argv[1]))["classes"] if c["name"] == "contracts"][0]
assert c["rule"] == "ingest + 13 years" and not c["shipped"], c' "$OUT"

# ---- disposal decisions, called from the years below
disposals_2032()
{
	refused dispose "$S" --request "$ID_tax1" --reason "past retention"
	expect_grep "$ERR" "under legal hold audit-2031"
	refused dispose "$S" --request "$TAX2_V2" --reason "past retention"
	expect_grep "$ERR" "kept until the end of 2033-05-31: it can be disposed of from 2033-06-01"
	refused dispose "$S" --request "$ID_atmp" --reason "past retention"
	expect_grep "$ERR" "kept until its trial-end is recorded"
	refused dispose "$S" --request "$ID_plain" --reason "past retention"
	expect_grep "$ERR" "has no retention class"
	refused dispose "$S" --request "$ID_con1"
	k dispose "$S" --request "$ID_con1" "$ID_con2" --reason "site A: 5 years over" --actor alice
	R1=$(cat "$OUT")
	refused dispose "$S" --request "$ID_con2" --reason "again" --actor alice
	expect_grep "$ERR" "in disposal request $R1 already"
	refused dispose "$S" --approve "$R1" --reason "fine" --actor alice
	expect_grep "$ERR" "another actor must approve it"
	refused dispose "$S" --approve 01KEJK7S008S26M5VKJT2Q0PH6 --reason "fine" --actor bob
	expect_grep "$ERR" "no disposal request"
	k dispose "$S" --approve "$R1" --reason "checked the ledger index" --actor bob
	$ORACLE dispose "$STATE" "$ID_con1" "$ID_con2"
	k history "$S" "$ID_con1" --json
	py 'h = json.load(open(sys.argv[1]))
a = [t for t in h["trail"] if t.get("action") == "dispose-approve"][0]
assert a["actor"] == "bob" and a["requester"] == "alice" and a["request"] == sys.argv[3], a
d = [x for x in a["disposed"] if x["id"] == sys.argv[2]][0]
assert d["sha256"] == h["versions"][0]["sha256"] and d["size"] == h["versions"][0]["size"], d
assert d["class"] == "jp-construction-books" and "建設業法施行規則 第28条" in d["rule"], d
assert (d["start_event"], d["start"], d["retention_end"]) == ("handover", "2027-03-20", "2032-03-20"), d
assert d["ingested"] == h["versions"][0]["ingested"], d' "$OUT" "$ID_con1" "$R1"
	refused dispose "$S" --approve "$R1" --reason "twice" --actor carol
	expect_grep "$ERR" "was approved already"
	refused dispose "$S" --request "$ID_con1" --reason "again"
	expect_grep "$ERR" "disposed of already"
	refused retention event "$S" handover 2027-03-21 "$ID_con1" --reason "late"
	refused hold add "$S" too-late --reason "late" "$ID_con2"
}

disposals_2033()
{
	k dispose "$S" --request "$ID_fda" --reason "2 years after approval" --actor carol
	R2=$(cat "$OUT")
	k hold add "$S" late-hold --reason "subpoena" "$ID_fda" --actor counsel
	$ORACLE hold "$STATE" late-hold "$ID_fda"
	refused dispose "$S" --approve "$R2" --reason "fine" --actor bob
	expect_grep "$ERR" "under legal hold late-hold"
	k hold release "$S" late-hold --reason "subpoena withdrawn" --actor counsel
	$ORACLE release "$STATE" late-hold
	refused hold release "$S" late-hold --reason "again"
	expect_grep "$ERR" "no active hold named late-hold"
	k dispose "$S" --request "$ID_tax2" --reason "7 years over" --actor carol
	k dispose "$S" --refuse "$(cat "$OUT")" --reason "loss carried forward: keep" --actor dave
	k dispose "$S" --approve "$R2" --reason "fine" --actor bob
	$ORACLE dispose "$STATE" "$ID_fda"
}

dispose_all()
{
	$ORACLE plan "$STATE" "$NOW" "$SHIPPED" "$S/retention.yaml" >"$T/all"
	k dispose "$S" --request --reason "yearly clean-up" --actor alice
	R4=$(cat "$OUT")
	k dispose "$S" --approve "$R4" --reason "yearly clean-up" --actor bob
	expect_grep "$ERR" "$(($(wc -l <"$T/all") + 1)) versions of $(wc -l <"$T/all") records"
	$ORACLE dispose "$STATE" $(cat "$T/all")
	grep -qx "$ID_tax2" "$T/all" || fail "tax2 should have gone in 2045"
	k history "$S" "$TAX2_V2" --json
	py 'h = json.load(open(sys.argv[1]))
a = [t for t in h["trail"] if t.get("action") == "dispose-approve"][0]
ids = [d["id"] for d in a["disposed"]]
assert all(v["id"] in ids for v in h["versions"]) and len(h["versions"]) == 2, (ids, h["versions"])' "$OUT"
}

# the boundary: kept to the end of the last day, disposable from the next
boundary()
{
	[ "$($ORACLE end "$STATE" "$ID_house" "$SHIPPED")" = 2037-03-20 ] || fail "oracle: house ends $($ORACLE end "$STATE" "$ID_house" "$SHIPPED")"
	NOW=2037-03-20T23:59:59Z
	check_plan
	grep -qx "$ID_house" "$T/got" && fail "house listed on its last day"
	NOW=2037-03-21T00:00:00Z
	check_plan
	grep -qx "$ID_house" "$T/got" || fail "house not listed the day after its last"
	NOW=2037-06-15T12:00:00Z
}

# ---- thirty years
listed=0
for year in $(seq 2026 2056); do
	NOW=$year-06-15T12:00:00Z
	case $year in
	2026)
		k retention event "$S" fiscal-year-end 2026-03-31 "$TAX2_V2" --reason "FY2025 closed"
		$ORACLE event "$STATE" fiscal-year-end 2026-03-31 "$ID_tax2"
		;;
	2027)
		k retention event "$S" handover 2027-03-20 --all-of-class jp-construction-books --reason "site A handed over"
		k retention event "$S" handover 2027-03-20 "$ID_house" --reason "site A handed over"
		$ORACLE event "$STATE" handover 2027-03-20 "$ID_con1" "$ID_con2" "$ID_house"
		;;
	2029)
		k retention event "$S" trial-end 2028-09-30 "$ID_tmf" "$ID_gcp" "$ID_fda" --reason "last patient out"
		$ORACLE event "$STATE" trial-end 2028-09-30 "$ID_tmf" "$ID_gcp" "$ID_fda"
		;;
	2030)
		k retention event "$S" approval 2030-06-01 "$ID_gcp" "$ID_fda" --reason "marketing approval"
		$ORACLE event "$STATE" approval 2030-06-01 "$ID_gcp" "$ID_fda"
		;;
	2031)
		k hold add "$S" audit-2031 --reason "tax audit" "$ID_tax1" "$ID_gcp" --actor counsel
		$ORACLE hold "$STATE" audit-2031 "$ID_tax1" "$ID_gcp"
		refused hold add "$S" audit-2031 --reason "again" "$ID_tax2"
		expect_grep "$ERR" "hold audit-2031 is active already"
		;;
	2032) disposals_2032 ;;
	2033) disposals_2033 ;;
	2034)
		k hold release "$S" audit-2031 --reason "audit closed" --actor counsel
		$ORACLE release "$STATE" audit-2031
		;;
	2037) boundary ;;
	2045) dispose_all ;;
	esac
	check_plan
	listed=$((listed + $(wc -l <"$T/got")))
done

# the oracle was asked something: records came and went
[ "$listed" -ge 40 ] || fail "the plans of 30 years listed only $listed records in all"
[ "$(cat "$T/got")" = "$ID_tmf" ] || fail "2056: only the TMF (trial end + 25 years) should be left: $(cat "$T/got")"

# ---- holds as listed: who placed and released them, when and why
k hold ls "$S" --json
py 'hs = {h["name"]: h for h in json.load(open(sys.argv[1]))}
a = hs["audit-2031"]
assert a["state"] == "released" and sorted(a["records"]) == sorted(sys.argv[2:4]), a
assert a["held"]["actor"] == "counsel" and a["held"]["reason"] == "tax audit" and a["held"]["time"].startswith("2031-"), a
assert a["released"]["reason"] == "audit closed" and a["released"]["time"].startswith("2034-"), a
assert hs["late-hold"]["released"]["reason"] == "subpoena withdrawn"' "$OUT" "$ID_tax1" "$ID_gcp"
k hold add "$S" final --reason "archive review" "$ID_atmp"
k hold ls "$S"
expect_grep "$OUT" "final	active	$ID_atmp	held $NOW root archive review"

# ---- reindex rebuilds the same plan and holds
k dispose "$S" --plan --json
cp "$OUT" "$T/plan.before"
k hold ls "$S" --json
cp "$OUT" "$T/holds.before"
rm -rf "$S/index"
k reindex "$S"
k dispose "$S" --plan --json
cmp -s "$OUT" "$T/plan.before" || fail "reindex changed the plan: $(diff "$T/plan.before" "$OUT" | head -5)"
k hold ls "$S" --json
cmp -s "$OUT" "$T/holds.before" || fail "reindex changed the holds"
refused dispose "$S" --request "$ID_con1" --reason "after reindex"
expect_grep "$ERR" "disposed of already"

# ---- a store that allows one approver
S1=$T/s1
NOW=2026-01-10T09:00:00Z
k init "$S1" --single-approver
printf 'old ledger\n' >"$T/docs/old"
k ingest "$S1" --no-seal --class jp-construction-books --event handover=2020-01-05 "$T/docs/old"
k dispose "$S1" --request --reason "long over" --actor alice
k dispose "$S1" --approve "$(cat "$OUT")" --reason "long over" --actor alice
k dispose "$S1" --plan
[ ! -s "$OUT" ] || fail "the disposed record is still in the plan: $(cat "$OUT")"

# ---- a retention end past 9999 is written in full, never cut to its last 4 digits
S9=$T/s9
NOW=9999-12-31T00:00:00Z
k init "$S9"
printf 'the last ledger\n' >"$T/docs/last"
k ingest "$S9" --no-seal --class jp-construction-books "$T/docs/last"
LAST=$(cut -f1 "$OUT")
k retention event "$S9" handover 9999-12-31 "$LAST" --reason "handed over"
refused dispose "$S9" --request "$LAST" --reason "too early"
expect_grep "$ERR" "kept until the end of 10004-12-31: it can be disposed of from 10005-01-01"
