#!/usr/bin/env bash
# Twenty-five years with two remote TSAs, one of which moves to a new root (issue 16), simulated
# with KURA_NOW. Each TSA is a store of its own (an embedded TSA, `kura init`) served by
# `kura tsa serve --store`; its operator's upkeep is `kura renew` of that store (a new certificate
# 180 days before the old one ends). Both are restarted at every step with the step's clock.
#
#  1. root_change: store S (default policy: its margins are what is tested) with --tsa-url A
#     --tsa-url B, both roots trusted, three documents sealed by A on 2026-01-01. The daemon runs
#     only when the plan says a renewal is due, and each time 90 days LATE (a daemon stopped for
#     90 days before every renewal): every renewal still happens with at least 60 days of the
#     old certificate left, by A. In year 20 (2046-01-01) A switches to a new root (a new CA and
#     certificate) and a document comes in: A's token is refused, naming the new root, its
#     SHA-256 fingerprint and `kura trust add S --tsa ROOT.pem`, and B seals it. The next
#     renewal fails over to B the same way. A store whose only TSA is A gives up with that
#     message (exit 3), and seals after `kura trust add`. Two weeks after the renewal the person
#     trusts A's new root: A seals again and renews from then on. In year 25 `kura verify S` says
#     every object valid and nothing is due. An import into a store that trusts neither TSA is
#     refused naming the root, its fingerprint and the trust command; after it, it succeeds.
#  2. late (the same store, copied before its first renewal): a daemon stopped much longer than
#     90 days. The evidence stays valid until the margin is used up (due + 179 days), and only
#     then breaks (due + 181 days): `kura renew` exits 1, saying NOT RENEWED and what to do.
#  3. due_again: a TSA whose certificate ends within the margin renews, but leaves the chain due
#     at once: `kura renew` says so and names the commands that help (exit 0: renewing again
#     cannot help; a chain left overdue without renewal is exit 1, as in 2).
# About 20 steps; under a minute plain.
source "$(dirname "$0")/lib.sh" || exit 1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/renewal/servers.sh"
on_exit stop_all_servers
cd "$T"
command -v openssl >/dev/null || fail "openssl is needed by this test"
export KURA_TSA_TIMEOUT=5

YEAR20=2046-01-01T00:00:00Z
YEAR25=2051-01-01T00:00:00Z

# DATE + N days, as KURA_NOW takes it.
plus_days() { date -u -d "${1%Z} UTC + $2 days" +%Y-%m-%dT%H:%M:%SZ; }

# openssl's SHA-256 fingerprint of the first certificate of PEM file $1 ("AB:CD:...").
fingerprint() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^[^=]*=//'; }

# The subject of the first certificate of PEM file $1, as kura names it ("CN=..., O=...").
subject_cn() { openssl x509 -in "$1" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= //p'; }

# earliest NOW STORE: the earliest due date of `kura renew STORE --plan --json` at NOW, a tab,
# its reason ("" when nothing is due ever).
earliest()
{
	expect_status 0 at "$1" renew "$2" --plan --json
	py '
items = [i for i in json.load(open(sys.argv[1])) if i["due"]]
items.sort(key=lambda i: i["due"])
print("%s\t%s" % (items[0]["due"], items[0]["reason"]) if items else "")' "$OUT"
}

# tsa_upkeep_and_serve NOW: each TSA's operator renews its TSA store at NOW (rolling its
# certificate when due), and both TSAs are served with clock NOW on their ports.
tsa_upkeep_and_serve()
{
	local now=$1
	stop_server "$PID_A"
	stop_server "$PID_B"
	expect_status 0 at "$now" renew "$A_STORE"
	expect_status 0 at "$now" renew "$B_STORE"
	start_serve "$T/a" "$now" "127.0.0.1:$PORT_A" --store "$A_STORE"
	PID_A=$SERVER_PID
	start_serve "$T/b" "$now" "127.0.0.1:$PORT_B" --store "$B_STORE"
	PID_B=$SERVER_PID
}

# step NOW [FILE...]: the TSAs at NOW, FILEs ingested unsealed, one daemon round on S; its
# stderr in $T/log/NOW.err (and $ERR).
step()
{
	local now=$1
	shift
	tsa_upkeep_and_serve "$now"
	if [ $# -gt 0 ]; then
		expect_status 0 at "$now" ingest "$S" --no-seal "$@"
		cut -f1,3 "$OUT" >>"$T/objects.tsv"
	fi
	expect_status 0 at "$now" daemon "$S" --once --alert-command "cat >>'$T/alerts.jsonl'"
	cp "$ERR" "$T/log/$now.err"
	! grep -q -e 'NOT RENEWED' -e 'OVERDUE' "$ERR" || fail "step $now: $(cat "$ERR")"
}

# renewal_step: the daemon, stopped since the last step, comes back 90 days after the earliest
# due date (sets NOW). The last time-stamp's certificate must still have 60 days or more left
# then: the default margin leaves room for a daemon that missed 90 days and for a person.
renewal_step()
{
	local due reason end
	IFS=$'\t' read -r due reason <<<"$(earliest "$NOW" "$S")"
	[ -n "$due" ] || fail "after $NOW nothing is ever due in $S"
	NOW=$(plus_days "$due" 90)
	end=$(sed -n 's/.*expires \([0-9-]*\).*/\1/p' <<<"$reason")
	[ -n "$end" ] || fail "the next renewal of $S is not for a TSA certificate: $reason"
	[ "$(plus_days "$NOW" 60)" \< "${end}T00:00:00Z" ] ||
		fail "renewal due $due (+90 days: $NOW) leaves less than 60 days before the certificate ends ($end): $reason"
	DUE=$due
}

new_doc() { printf 'document %s of the root change test\n' "$1" >"$T/docs/$1.txt"; echo "$T/docs/$1.txt"; }

# ---------------------------------------------------------------- 1. twenty-five years

root_change()
{
	mkdir -p "$T/log" "$T/docs"
	: >"$T/objects.tsv"
	NOW=2026-01-01T00:00:00Z
	A_STORE=$T/tsa-a B_STORE=$T/tsa-b S=$T/s
	# A: two-year certificates (renewals every two years or so); roots outlive the test
	expect_status 0 at "$NOW" init "$A_STORE" --tsa-days 730 --tsa-root-days 9000
	expect_status 0 at "$NOW" init "$B_STORE" --tsa-root-days 12000
	kura tsa ca "$A_STORE" >"$T/a-root.pem"
	kura tsa ca "$B_STORE" >"$T/b-root.pem"
	start_serve "$T/a" "$NOW" 127.0.0.1:0 --store "$A_STORE"
	PID_A=$SERVER_PID PORT_A=$SERVER_PORT URL_A=$SERVER_URL
	start_serve "$T/b" "$NOW" 127.0.0.1:0 --store "$B_STORE"
	PID_B=$SERVER_PID PORT_B=$SERVER_PORT URL_B=$SERVER_URL
	expect_status 0 at "$NOW" init "$S" --tsa-url "$URL_A" --tsa-url "$URL_B"
	expect_status 0 at "$NOW" trust add "$S" --tsa "$T/a-root.pem"
	expect_status 0 at "$NOW" trust add "$S" --tsa "$T/b-root.pem"
	step "$NOW" "$(new_doc 1)" "$(new_doc 2)" "$(new_doc 3)"
	grep -q "sealed 3 object(s): .* by $URL_A" "$ERR" || fail "2026: the seal is not A's: $(cat "$ERR")"

	# years 0-20: every renewal 90 days late, by A, nothing failing
	local renewals=0
	while :; do
		renewal_step
		[[ $NOW < $YEAR20 ]] || break
		if [ "$renewals" -eq 0 ]; then # for 2: a copy whose daemon stays stopped
			cp -a "$S" "$T/late"
			echo "$DUE" >"$T/late-due"
		fi
		step "$NOW"
		grep -q "time-stamp renewal: .* by $URL_A" "$ERR" || fail "renewal at $NOW is not A's: $(cat "$ERR")"
		! grep -q failed "$ERR" || fail "renewal at $NOW: $(cat "$ERR")"
		renewals=$((renewals + 1))
	done
	[ "$renewals" -ge 8 ] || fail "only $renewals renewals in 20 years with two-year TSA certificates"

	# year 20: A moves to a new root (a new CA and certificate, served at the same URL)
	NOW=$YEAR20
	A_STORE=$T/tsa-a2
	expect_status 0 at "$NOW" init "$A_STORE" --tsa-days 730
	kura tsa ca "$A_STORE" >"$T/a2-root.pem"
	cmp -s "$T/a-root.pem" "$T/a2-root.pem" && fail "A's new root is its old one"
	local fp cn
	fp=$(fingerprint "$T/a2-root.pem")
	cn=$(subject_cn "$T/a2-root.pem")
	[ -n "$fp" ] && [ -n "$cn" ] || fail "no fingerprint or subject of $T/a2-root.pem"
	step "$NOW" "$(new_doc 4)"
	grep -q "sealed 1 object(s): .* by $URL_B" "$ERR" || fail "year 20: the seal did not fail over to B: $(cat "$ERR")"
	expect_untrusted_a "year 20 seal" "$S" "$ERR"
	# the daemon's alert command was called the same day, naming the root and the command
	py "
import json, sys
events = [json.loads(l) for l in open('$T/alerts.jsonl')]
today = [e for e in events if e['event'] == 'alert' and e['kind'] == 'tsa-failing' and e['time'].startswith('${NOW:0:10}')]
assert today, events[-3:]
e = today[-1]
text = json.dumps(e, ensure_ascii=False)
assert '$fp' in text and '$cn' in text, e
assert e['command'] == 'kura trust add $S --tsa ROOT.pem', e
"

	# a store whose only TSA is A gives up, saying the same; after trusting the root it seals
	expect_status 0 at "$NOW" init "$T/solo" --tsa-url "$URL_A"
	expect_status 0 at "$NOW" trust add "$T/solo" --tsa "$T/a-root.pem"
	expect_status 3 at "$NOW" ingest "$T/solo" "$(new_doc solo)"
	expect_grep "$ERR" "no TSA gave a usable time-stamp ($URL_A: "
	expect_untrusted_a "a store with A alone" "$T/solo" "$ERR"
	expect_status 0 at "$NOW" trust add "$T/solo" --tsa "$T/a2-root.pem"
	expect_status 0 at "$NOW" seal "$T/solo"
	expect_grep "$ERR" "by $URL_A"

	# the next renewal (90 days late as ever) fails over to B
	renewal_step
	[[ $NOW < $YEAR25 ]] || fail "test assumption: no renewal between years 20 and 25 ($NOW)"
	step "$NOW"
	grep -q "time-stamp renewal: .* by $URL_B" "$ERR" || fail "renewal at $NOW did not fail over to B: $(cat "$ERR")"
	expect_untrusted_a "renewal at $NOW" "$S" "$ERR"

	# two weeks later the person trusts A's new root: A seals and renews again
	NOW=$(plus_days "$NOW" 14)
	expect_status 0 at "$NOW" trust add "$S" --tsa "$T/a2-root.pem"
	step "$NOW" "$(new_doc 5)"
	grep -q "sealed 1 object(s): .* by $URL_A" "$ERR" || fail "after trust add, A does not seal: $(cat "$ERR")"
	! grep -v ' cleared ' "$ERR" | grep -q failed || fail "after trust add: $(cat "$ERR")"
	grep -q "cleared tsa-failing" "$ERR" || fail "after trust add the TSA's alert did not clear: $(cat "$ERR")"
	local by_a=0
	while :; do
		renewal_step
		[[ $NOW < $YEAR25 ]] || break
		step "$NOW"
		! grep -q failed "$ERR" || fail "renewal at $NOW: $(cat "$ERR")"
		if grep -q "time-stamp renewal: .* by $URL_A" "$ERR"; then by_a=$((by_a + 1)); fi
	done
	[ "$by_a" -ge 1 ] || fail "A renewed nothing after its new root was trusted"

	# year 25: nothing is broken, nothing is due
	NOW=$YEAR25
	expect_status 0 at "$NOW" verify "$S" --json
	py '
rows = [json.loads(l) for l in open(sys.argv[1])]
docs = [l.split("\t")[0] for l in open(sys.argv[2])]
bad = [r["id"] + ": " + r["verdict"] for r in rows if r["verdict"] != "valid" or r["trust"] != "valid"]
if sorted(r["id"] for r in rows) != sorted(docs) or bad:
    sys.exit("year 25: verify lists %d objects of %d, not valid: %s" % (len(rows), len(docs), bad))
' "$OUT" "$T/objects.tsv" || fail "year 25: kura verify $S"
	expect_status 0 at "$NOW" renew "$S" --plan --json
	py 'sys.exit(any(i["due_now"] for i in json.load(open(sys.argv[1]))))' "$OUT" ||
		fail "year 25: something is due: $(cat "$OUT")"

	# import into a store that trusts neither TSA: refused, naming A's first root and the command
	expect_status 0 at "$NOW" export "$S" -o "$T/s.tar"
	expect_status 0 at "$NOW" init "$T/imp"
	expect_status 1 at "$NOW" import "$T/imp" "$T/s.tar"
	expect_grep "$OUT" "$(fingerprint "$T/a-root.pem")"
	expect_grep "$OUT" "$(subject_cn "$T/a-root.pem")"
	expect_grep "$OUT" "trust it with: kura trust add $T/imp --tsa ROOT.pem"
	mkdir "$T/pkg"
	tar -m -xf "$T/s.tar" -C "$T/pkg"
	expect_status 0 at "$NOW" trust add "$T/imp" --tsa "$T"/pkg/*/data/tsa-anchors.pem
	expect_status 0 at "$NOW" import "$T/imp" "$T/s.tar"
	[ "$(grep -c '^OK' "$OUT")" -eq "$(wc -l <"$T/objects.tsv")" ] || fail "import after trust add: $(cat "$OUT" "$ERR")"
}

# expect_untrusted_a WHAT STORE FILE: FILE says A's token was refused, naming A's new root, its
# fingerprint and the command that trusts it in STORE.
expect_untrusted_a()
{
	grep -F "TSA $URL_A failed" "$3" >"$T/a-failed" || fail "$1: A's failure is not reported: $(cat "$3")"
	for want in "$cn" "SHA-256 fingerprint $fp" "is not a trusted TSA root" "kura trust add $2 --tsa ROOT.pem"; do
		grep -qF -- "$want" "$T/a-failed" || fail "$1: A's failure does not say '$want': $(cat "$T/a-failed")"
	done
}

# ---------------------------------------------------------------- 2. a daemon stopped too long

late()
{
	local L=$T/late cert_end
	[ -d "$L" ] || fail "no copy of the store was made before its first renewal"
	# the evidence holds for the whole margin after the due date ...
	NOW=$(plus_days "$LATE_DUE" 179)
	expect_status 0 at "$NOW" verify "$L"
	# status has said AT RISK (exit 1) since the due date, with the date the evidence breaks
	expect_status 1 at "$NOW" status "$L" --json
	py "
import json
s = json.load(open('$OUT'))
risk = [a for a in s['attention'] if a['kind'] in ('evidence-at-risk', 'evidence-overdue')]
assert risk and 'AT RISK' in risk[0]['message'] and risk[0]['command'] == 'kura renew $L', s['attention']
ev = s['evidence']
assert ev['broken'] == 0 and ev['at_risk'] + ev['overdue'] == ev['at_risk'] + ev['overdue'] > 0, ev
assert (ev['overdue_breaks'] or ev['at_risk_breaks']) > '$NOW', ev
" || fail "status of the late store: $(head -c 800 "$OUT")"
	expect_status 1 at "$NOW" status "$L"
	expect_grep "$OUT" "breaks on"
	expect_grep "$OUT" "kura renew $L"
	# ... and breaks only after it
	NOW=$(plus_days "$LATE_DUE" 181)
	expect_status 1 at "$NOW" verify "$L"
	expect_status 1 at "$NOW" renew "$L"
	expect_grep "$ERR" "NOT RENEWED"
	expect_grep "$ERR" "cannot be renewed: kura verify $L names the objects"
	expect_grep "$ERR" "kura ingest $L FILE"
}

# ---------------------------------------------------------------- 3. renewed, yet still overdue

due_again()
{
	local C=$T/tsa-c O=$T/o now=2030-01-01T00:00:00Z
	mkdir -p "$T/docs"
	# a TSA whose certificates live 100 days, less than the 180-day margin
	expect_status 0 at "$now" init "$C" --tsa-days 100
	kura tsa ca "$C" >"$T/c-root.pem"
	start_serve "$T/c" "$now" 127.0.0.1:0 --store "$C"
	expect_status 0 at "$now" init "$O" --tsa-url "$SERVER_URL"
	expect_status 0 at "$now" trust add "$O" --tsa "$T/c-root.pem"
	expect_status 0 at "$now" ingest "$O" "$(new_doc overdue)"
	# renewing again cannot help: the run did what it could (exit 0) and says what a person can do
	expect_status 0 at "$now" renew "$O"
	expect_grep "$OUT" "renewed 1 chain(s) by time-stamp"
	expect_grep "$ERR" "1 chain(s) renewed now are due again at once"
	expect_grep "$ERR" "kura renew $O --plan"
	expect_grep "$ERR" "kura tsa urls $O --set URL"
	expect_status 0 at "$now" renew "$O" --json
	py 'r = json.load(open(sys.argv[1])); sys.exit(r["due_again"] != 1 or r["overdue"] != 0)' "$OUT" ||
		fail "renew --json: $(cat "$OUT")"
	stop_server "$SERVER_PID"
}

mkdir -p "$T/docs"
run_case root_change root_change
run_case due_again due_again
# the copy of part 1 is made in its subshell: it is there when part 1 got that far
LATE_DUE=$(cat "$T/late-due" 2>/dev/null || true)
run_case late late
finish_cases
