#!/usr/bin/env bash
# kura status, kura verify --at and the daemon's alerts, on a store sealed by its embedded TSA
# (certificate 365 days, certificate margin 30 days: due 2026-12-02, breaks 2027-01-01), the
# clock moved with KURA_NOW:
#  - healthy at first (exit 0); from the due date AT RISK with the break date (exit 1), the
#    command to run; --json fields; --prometheus parsed as the text exposition format (HELP and
#    TYPE before samples, kura_* names, label values escaped: the store's path holds a quote
#    and a backslash); a folder that is no store: exit 3;
#  - verify --at a time after the token's certificate ends says invalid, verify now valid;
#  - alerts: the TSA unreachable (tsa urls --set to a closed port), `daemon --once
#    --alert-command` is called once per kind, not again within the hour's back-off, again
#    after it; then (embedded TSA again, the command from config.json) once "cleared", and
#    nothing more in the next round; status is healthy again.
. "$(dirname "$0")/lib.sh"

D0=2026-01-01T00:00:00Z
DUE=2026-12-05T00:00:00Z
POLICY=$T/policy.yaml
test_policy "$POLICY" status-test
mkdir -p "$T/a\"b\\c"
S="$T/a\"b\\c/store"

expect_status 0 at "$D0" init "$S" --policy "$POLICY" --tsa-days 365
random_file "$T/one" 500
random_file "$T/two" 700
expect_status 0 at "$D0" ingest "$S" "$T/one" "$T/two"

# ---- healthy, then AT RISK
expect_status 0 at "$D0" status "$S"
expect_grep "$OUT" "evidence: 2 valid, 0 AT RISK"
expect_status 1 at "$DUE" status "$S"
expect_grep "$OUT" "NEEDS ATTENTION"
expect_grep "$OUT" "AT RISK: 2 object(s): a renewal is due (since 2026-12-02T00:00:00Z) and has not happened; their evidence breaks on 2027-01-01T00:00:00Z"
grep -qF "run: kura renew '$S'" "$OUT" || fail "status names no renew command: $(cat "$OUT")"

expect_status 1 at "$DUE" status "$S" --json
py '
s = json.load(open(sys.argv[1])); store = sys.argv[2]
problems = []
def want(what, got, expected):
    if got != expected: problems.append("%s: %r, not %r" % (what, got, expected))
want("store", s["store"], store)
want("healthy", s["healthy"], False)
want("records", s["objects"]["records"], 2)
want("pending", s["objects"]["pending"], 0)
want("at_risk", s["evidence"]["at_risk"], 2)
want("valid", s["evidence"]["valid"], 0)
want("at_risk_breaks", s["evidence"]["at_risk_breaks"], "2027-01-01T00:00:00Z")
want("chain state", [c["state"] for c in s["evidence"]["chains"]], ["at_risk"])
want("tsa", [(t["name"], t["root_trusted"], t["cert_end"]) for t in s["tsas"]], [("embedded TSA", True, "2027-01-01T00:00:00Z")])
items = {i["key"]: i for i in s["attention"]}
want("at-risk severity", items.get("evidence-at-risk", {}).get("severity"), "warning")
want("at-risk command", items.get("evidence-at-risk", {}).get("command"), "kura renew \x27" + store.replace("\x27", "\x27\\\x27\x27") + "\x27")
for k in ("free", "low"): 
    if k not in s["space"]: problems.append("space has no " + k)
for k in ("holds_active", "disposal_due"):
    if k not in s["records"]: problems.append("records has no " + k)
if problems: sys.exit("status --json: " + "; ".join(problems))
' "$OUT" "$S" || fail "status --json"

expect_status 1 at "$DUE" status "$S" --prometheus
py '
import re, calendar, time
store = sys.argv[2]
types, helps, samples = {}, set(), {}
label = re.compile(r"\s*([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\]|\\[\\\"n])*)\"\s*(,|$)")
for n, line in enumerate(open(sys.argv[1]), 1):
    line = line.rstrip("\n")
    if line.startswith("# HELP "):
        helps.add(line.split(" ")[2]); continue
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split(" ")
        if kind not in ("gauge", "counter"): sys.exit("line %d: type %s" % (n, kind))
        types[name] = kind; continue
    m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)", line)
    if not m: sys.exit("line %d is no sample: %r" % (n, line))
    name, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
    if not name.startswith("kura_"): sys.exit("line %d: %s is not kura_*" % (n, name))
    if name not in types or name not in helps: sys.exit("line %d: %s before its HELP and TYPE" % (n, name))
    got, rest = {}, labels
    while rest:
        lm = label.match(rest)
        if not lm: sys.exit("line %d: bad labels %r" % (n, labels))
        got[lm.group(1)] = re.sub(r"\\(.)", lambda e: {"n": "\n"}.get(e.group(1), e.group(1)), lm.group(2))
        rest = rest[lm.end():]
    if got.get("store") != store: sys.exit("line %d: store label %r, not %r" % (n, got.get("store"), store))
    samples[(name, tuple(sorted((k, v) for k, v in got.items() if k != "store")))] = value
def get(name, **l): return samples.get((name, tuple(sorted(l.items()))))
breaks = calendar.timegm(time.strptime("2027-01-01", "%Y-%m-%d"))
checks = [(get("kura_evidence_objects", state="at_risk"), 2), (get("kura_evidence_objects", state="valid"), 0),
          (get("kura_evidence_breaks_timestamp_seconds", state="at_risk"), breaks), (get("kura_healthy"), 0),
          (get("kura_records"), 2), (get("kura_tsa_root_trusted", tsa="embedded TSA"), 1),
          (get("kura_attention_items", severity="warning"), 1)]
for i, (got, want) in enumerate(checks):
    if got != want: sys.exit("check %d: %r, not %r" % (i, got, want))
' "$OUT" "$S" || fail "status --prometheus: $(head -c 3000 "$OUT")"

expect_error 3 at "$DUE" status "$T"

# ---- verify as of a time
expect_status 0 at "$DUE" verify "$S"
expect_status 1 at "$DUE" verify "$S" --at 2027-06-01
expect_grep "$OUT" "invalid	time-stamp token not valid at 2027-06-01T00:00:00Z: Verify error: certificate has expired"
[ "$(grep -c 'invalid' "$OUT")" -eq 2 ] || fail "verify --at: $(cat "$OUT")"
expect_error 2 at "$DUE" verify "$S" --at yesterday

# ---- alerts
cat >"$T/alert.sh" <<'EOS'
#!/bin/sh
cat >>"$(dirname "$0")/alerts.jsonl"
EOS
chmod +x "$T/alert.sh"
ALERTS=$T/alerts.jsonl
: >"$ALERTS"
# alerts KIND EVENT: how many such events the alert command got
alerts()
{
	py 'print(sum(1 for l in open(sys.argv[1]) if l.strip() and (lambda e: e["kind"] == sys.argv[2] and e["event"] == sys.argv[3])(json.loads(l))))' "$ALERTS" "$1" "$2"
}
expect_status 0 at "$DUE" tsa urls "$S" --set http://127.0.0.1:1/
export KURA_TSA_TIMEOUT=2
expect_status 3 at 2026-12-05T00:00:00Z daemon "$S" --once --alert-command "$T/alert.sh"
[ "$(alerts round-failed alert)" = 1 ] || fail "no round-failed alert: $(cat "$ALERTS")"
[ "$(alerts tsa-failing alert)" = 1 ] || fail "no tsa-failing alert: $(cat "$ALERTS")"
[ "$(alerts evidence-at-risk alert)" = 1 ] || fail "no evidence-at-risk alert: $(cat "$ALERTS")"
py 'e = [json.loads(l) for l in open(sys.argv[1])]
r = [x for x in e if x["kind"] == "round-failed"][0]
assert r["severity"] == "error" and r["command"].startswith("kura renew ") and "no TSA gave" in r["message"], r
assert r["store"] == sys.argv[2], r' "$ALERTS" "$S" || fail "the round-failed event: $(cat "$ALERTS")"
expect_grep "$ERR" "alert round-failed [error]"
expect_status 3 at 2026-12-05T00:30:00Z daemon "$S" --once --alert-command "$T/alert.sh"
[ "$(wc -l <"$ALERTS")" -eq 3 ] || fail "alerts again within the hour's back-off: $(cat "$ALERTS")"
expect_status 3 at 2026-12-05T01:05:00Z daemon "$S" --once --alert-command "$T/alert.sh"
[ "$(alerts round-failed repeat)" = 1 ] || fail "no repeat after the back-off: $(cat "$ALERTS")"

expect_status 0 at 2026-12-05T01:06:00Z tsa urls "$S" --embedded
py 'c = json.load(open(sys.argv[1])); c["alert_command"] = sys.argv[2]; json.dump(c, open(sys.argv[1], "w"))' \
	"$S/config.json" "$T/alert.sh"
expect_status 0 at 2026-12-05T01:10:00Z daemon "$S" --once
[ "$(alerts round-failed cleared)" = 1 ] || fail "no round-failed cleared: $(cat "$ALERTS")"
[ "$(alerts evidence-at-risk cleared)" = 1 ] || fail "no evidence-at-risk cleared: $(cat "$ALERTS")"
n=$(wc -l <"$ALERTS")
expect_status 0 at 2026-12-05T01:20:00Z daemon "$S" --once
[ "$(wc -l <"$ALERTS")" -eq "$n" ] || fail "alerts after everything cleared: $(tail -n 2 "$ALERTS")"
expect_status 0 at 2026-12-05T01:20:00Z status "$S"
expect_grep "$OUT" "daemon: last round 2026-12-05T01:20:00Z ok"
