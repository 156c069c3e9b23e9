#!/usr/bin/env bash
# kura timeliness (電子帳簿保存法 施行規則4条1項2号, docs/DENCHO.md): invoices received over
# the fiscal year 2026-04 to 2027-03, each time-stamped when KURA_NOW says (the embedded TSA's
# genTime), some late across Golden Week, the year's end and substitute holidays. The report
# lists exactly the late ones with their delay in business days (worked out by hand below);
# a store's closed days move deadlines; with an 事務処理規程 the 2-month rule applies; a
# received_at in a year kura has no holidays for is undecided until the store gives them.
source "$(dirname "$0")/lib.sh"

S=$T/store
KURA_NOW=2026-04-01T00:00:00Z kura init "$S" >/dev/null 2>&1

# invoice NAME RECEIVED_AT STAMP(UTC) [ingest options]: ingested (and sealed) at STAMP
invoice()
{
	local name=$1 recv=$2 at=$3
	shift 3
	echo "invoice $name" >"$T/$name.pdf"
	local meta=()
	[ -z "$recv" ] || meta=(--meta "received_at=$recv")
	KURA_NOW=$at kura ingest "$S" "${meta[@]}" "$@" "$T/$name.pdf" 2>/dev/null | cut -f1 >"$T/$name.id"
	[ -s "$T/$name.id" ] || fail "ingest of $name failed"
}
id() { cat "$T/$1.id"; }

# name   received_at                 time-stamped (JST)          deadline    expected
invoice A 2026-04-06 2026-04-08T01:00:00Z                     # 4/08 10:00  4/15  on time, 2 days
invoice B 2026-04-24 2026-05-11T14:59:00Z                     # 5/11 23:59  5/11  on time, 7 (Golden Week)
invoice C 2026-04-28 2026-05-15T01:00:00Z                     # 5/15 10:00  5/13  LATE 2 (Golden Week)
invoice K 2026-04-10 2026-06-22T01:00:00Z                     # 6/22 10:00  4/21  LATE 40
invoice D 2026-06-30T20:00:00-05:00 2026-07-10T15:30:00Z      # 7/11 00:30 (Sat) 7/10: LATE 1 (received 7/1 in Japan)
invoice E 2026-09-18 2026-10-02T09:00:00Z                     # 10/2 18:00  10/2  on time, 7 (敬老の日, 国民の休日, 秋分の日)
invoice F 2026-09-18 2026-10-05T00:00:00Z                     # 10/5 09:00  10/2  LATE 1
invoice G 2026-12-24 2027-01-06T01:00:00Z                     # 1/06 10:00  1/05  LATE 1 (year's end)
invoice H 2026-12-25 2027-01-06T08:00:00Z                     # 1/06 17:00  1/06  on time, 7
invoice I 2027-03-12 2027-03-24T03:00:00Z                     # 3/24 12:00  3/24  on time, 7 (3/22 振替休日)
invoice J 2027-03-15 2027-03-26T03:00:00Z                     # 3/26 12:00  3/25  LATE 1 (3/22 振替休日)
invoice N "" 2027-03-26T03:30:00Z                             # no received_at, no class: not listed
invoice M 2027-03-29 2027-03-30T00:00:00Z --no-seal           # not time-stamped; deadline 4/07

export KURA_NOW=2027-04-10T00:00:00Z

# rows: ID TAB name TAB received_at TAB first time-stamp (JST) TAB deadline TAB days TAB verdict
expect_status 1 kura timeliness "$S"
report=$(cat "$OUT")
row() { grep "^$(id "$1")	" <<<"$report" || fail "no row for $1: $report"; }
[ "$(row A)" = "$(id A)	A.pdf	2026-04-06	2026-04-08T10:00:00+09:00	2026-04-15	2	on time" ] || fail "A: $(row A)"
[ "$(row B | cut -f5-)" = "2026-05-11	7	on time" ] || fail "B: $(row B)"
[ "$(row C | cut -f5-)" = "2026-05-13	9	LATE by 2 business days" ] || fail "C: $(row C)"
[ "$(row K | cut -f5-)" = "2026-04-21	47	LATE by 40 business days" ] || fail "K: $(row K)"
[ "$(row D | cut -f3-)" = "2026-06-30T20:00:00-05:00	2026-07-11T00:30:00+09:00	2026-07-10	8	LATE by 1 business day" ] ||
	fail "D: $(row D)"
[ "$(row E | cut -f5-)" = "2026-10-02	7	on time" ] || fail "E: $(row E)"
[ "$(row F | cut -f5-)" = "2026-10-02	8	LATE by 1 business day" ] || fail "F: $(row F)"
[ "$(row G | cut -f5-)" = "2027-01-05	8	LATE by 1 business day" ] || fail "G: $(row G)"
[ "$(row H | cut -f5-)" = "2027-01-06	7	on time" ] || fail "H: $(row H)"
[ "$(row I | cut -f5-)" = "2027-03-24	7	on time" ] || fail "I: $(row I)"
[ "$(row J | cut -f5-)" = "2027-03-25	8	LATE by 1 business day" ] || fail "J: $(row J)"
[ "$(row M | cut -f4-)" = "-	2027-04-07	-	not time-stamped yet (deadline passed)" ] || fail "M: $(row M)"
! grep -q "^$(id N)" <<<"$report" || fail "N (no received_at, no class) is listed"
[ "$(grep -c LATE <<<"$report")" = 6 ] || fail "not exactly 6 late: $report"
tail -1 <<<"$report" | grep -q '^12 objects: 5 on time, 6 late, 1 not time-stamped yet, 0 without received_at, 0 undecided' ||
	fail "summary: $(tail -1 <<<"$report")"

# --json: the same verdicts; the embedded TSA is never certified (総務大臣認定): false where
# time-stamped, null where not yet
expect_status 1 kura timeliness "$S" --json
"$PYTHON" - "$OUT" "$(id C)" "$(id D)" <<'EOF' || fail "JSON report: $(head -c 2000 "$OUT")"
import json, sys
r = json.load(open(sys.argv[1]))
rows = {o["id"]: o for o in r["objects"]}
assert r["jimu_shori_kitei"] is False and r["summary"]["late"] == 6, r["summary"]
assert all(o["tsa_certified"] is (None if o["verdict"] == "not-time-stamped" else False) for o in r["objects"]), \
    [(o["verdict"], o["tsa_certified"]) for o in r["objects"]]
c = rows[sys.argv[2]]
assert (c["verdict"], c["late_business_days"], c["deadline"], c["received"]) == ("late", 2, "2026-05-13", "2026-04-28"), c
assert c["first_timestamp"] == "2026-05-15T01:00:00Z" and c["timestamp_date"] == "2026-05-15", c
d = rows[sys.argv[3]]
assert d["received"] == "2026-07-01" and d["timestamp_date"] == "2026-07-11", d
assert sorted(o["verdict"] for o in r["objects"]).count("on-time") == 5
EOF

# a document named without received_at (a jp-dencho record must have one: ingest refuses it
# without, kura field add ... --required-for jp-dencho)
expect_status 1 kura timeliness "$S" "$(id N)"
grep -q "^$(id N)	.*	no received_at" "$OUT" || fail "N named: $(cat "$OUT")"
expect_error 2 kura ingest "$S" --class jp-dencho "$T/N.pdf"
grep -q "kura field add $S txn_date date --required-for jp-dencho" "$ERR" || fail "the class's fields: $(cat "$ERR")"

# the objects named, and nothing else
expect_status 0 kura timeliness "$S" "$(id A)" "$(id H)"
[ "$(grep -c . "$OUT")" = 3 ] || fail "two rows and a summary expected: $(cat "$OUT")"

# --where: exactly the documents the conditions pick (here those received in the first half-year;
# a keyword field, for D holds a date and time: ISO 8601 text sorts in time order)
kura field add "$S" received_at keyword >/dev/null 2>"$T/fa.err" || fail "field add received_at: $(cat "$T/fa.err")"
expect_status 1 kura timeliness "$S" --where 'received_at<2026-10-01'
[ "$(grep -c LATE "$OUT")" = "$(grep LATE <<<"$report" | awk -F'\t' '$3 < "2026-10-01"' | grep -c .)" ] ||
	fail "--where: $(cat "$OUT")"
! grep -q "^$(id G)" "$OUT" || fail "--where kept G, received after the bound"
expect_status 2 kura timeliness "$S" --where 'no_such_field=1'
expect_status 2 kura timeliness "$S" "$(id A)" --where 'received_at<2026-10-01'

# a store's closed days move deadlines: the year's end (G now on time) and 2026-07-08 (D)
cat >"$S/calendar.yaml" <<'EOF'
kura-calendar: 1
closed-every-year: {"12-29": 年末休業, "12-30": 年末休業, "12-31": 年末休業, "01-02": 年始休業, "01-03": 年始休業}
closed:
  2026-07-08: 棚卸
EOF
expect_status 1 kura timeliness "$S"
report=$(cat "$OUT")
[ "$(row G | cut -f5-)" = "2027-01-08	5	on time" ] || fail "G with the year's end closed: $(row G)"
[ "$(row D | cut -f5-)" = "2026-07-13	7	on time" ] || fail "D with 7/08 closed: $(row D)"
[ "$(grep LATE <<<"$report" | cut -f1 | sort)" = "$(printf '%s\n' "$(id C)" "$(id K)" "$(id F)" "$(id J)" | sort)" ] ||
	fail "late with the store's days: $report"

# with an 事務処理規程: 2 months, then 7 business days; only K is late (4/10: 6/10, then 6/19)
echo "jimu-shori-kitei: true" >>"$S/calendar.yaml"
expect_status 1 kura timeliness "$S"
report=$(cat "$OUT")
[ "$(grep LATE <<<"$report")" = "$(row K)" ] || fail "with the 事務処理規程 only K is late: $report"
[ "$(row K | cut -f5-)" = "2026-06-19	47	LATE by 1 business day" ] || fail "K: $(row K)"
[ "$(row M | cut -f5-)" = "2027-06-08	-	not time-stamped yet" ] || fail "M: $(row M)"
grep -q '事務処理規程' <<<"$(tail -1 <<<"$report")" || fail "the summary does not name the rule"

# a year kura has no holidays for: undecided, saying how to add it; then the store adds it
invoice O 2027-12-28 2027-12-29T00:00:00Z --no-seal
expect_status 1 kura timeliness "$S" "$(id O)"
grep -q "undecided: kura's calendar has no national holidays for 2028 (it ships 2000 to 2027)" "$OUT" || fail "$(cat "$OUT")"
printf 'holidays:\n  2028-01-01: 元日\n  2028-01-10: 成人の日\n' >>"$S/calendar.yaml"
expect_status 1 kura timeliness "$S" "$(id O)"
[ "$(cut -f5- "$OUT" | head -1)" = "2028-03-08	-	not time-stamped yet" ] || fail "$(cat "$OUT")"

# a metadata change (a new version, sealed now) keeps the first time-stamp of the bytes
KURA_NOW=2027-04-01T00:00:00Z kura meta set "$S" "$(id H)" counterparty=山田商事 --reason "取引先の追記" >"$T/H2.id" 2>/dev/null
expect_status 0 kura timeliness "$S" "$(cat "$T/H2.id")" --json
grep -q '"timestamped_as": "'"$(id H)"'"' "$OUT" || fail "the new version did not keep H's time-stamp: $(cat "$OUT")"
grep -q '"verdict": "on-time"' "$OUT" || fail "$(cat "$OUT")"

# an imported document keeps its first time-stamp (its imported evidence record's)
kura export "$S" -o "$T/c.tar" "$(id C)" 2>/dev/null
kura init "$T/other" >/dev/null 2>&1
kura tsa ca "$S" >"$T/ca.pem"
kura trust add "$T/other" --tsa "$T/ca.pem" 2>/dev/null
kura import "$T/other" "$T/c.tar" >/dev/null 2>&1
expect_status 1 kura timeliness "$T/other"
[ "$(cut -f2- "$OUT" | head -1)" = "C.pdf	2026-04-28	2026-05-15T10:00:00+09:00	2026-05-13	9	LATE by 2 business days" ] ||
	fail "imported C: $(cat "$OUT")"

# the class declares the keys the law asks for
expect_status 0 kura retention show "$S"
grep -A5 '^jp-dencho ' "$OUT" | grep -q '^    fields: txn_date (date, required), counterparty (text, required), received_at (date, required), amount (amount)$' ||
	fail "retention show: $(grep -A5 '^jp-dencho ' "$OUT")"

# bad input: exit 2, nothing else
printf 'kura-calendar: 1\njimu-shori-kitei: yes\n' >"$S/calendar.yaml"
expect_error 2 kura timeliness "$S"
grep -q "calendar.yaml line 2: jimu-shori-kitei is true or false, not 'yes'" "$ERR" || fail "$(cat "$ERR")"
rm "$S/calendar.yaml"
expect_error 2 kura timeliness "$S" not-an-id
expect_error 1 kura timeliness "$S" 01KQ6E28W0FSX5TPSQKVJDGD4X
expect_error 2 kura timeliness
expect_error 2 kura timeliness "$S" --bogus
mkdir "$T/empty"
expect_error 2 kura timeliness "$T/empty"
expect_error 2 kura timeliness "$T/nowhere"
[ -z "$(ls -A "$T/empty")" ] && [ ! -e "$T/nowhere" ] || fail "timeliness on a non-store created something"

# a name that is not UTF-8 or holds a tab: shown as kura ls shows it (escaped once), and in
# JSON with its bytes under name_hex as kura ls --json gives them
N=$T/names
mkdir "$T/odd"
printf 'x\n' >"$T/odd/bad"$'\xfe'.pdf
printf 'y\n' >"$T/odd/a"$'\t'b.pdf
KURA_NOW=2026-04-01T00:00:00Z kura init "$N" >/dev/null 2>&1
KURA_NOW=2026-04-02T00:00:00Z kura ingest "$N" --meta received_at=2026-04-01 "$T/odd" >/dev/null 2>&1 ||
	fail "ingest of odd names"
KURA_NOW=2026-04-02T00:00:00Z expect_status 0 kura timeliness "$N"
got=$(head -n 2 "$OUT" | cut -f1,2 | sort)
expect_status 0 kura ls "$N"
[ "$got" = "$(cut -f1,4 "$OUT" | sort)" ] || fail "timeliness names differ from ls's: $got / $(cat "$OUT")"
grep -qF 'bad\xFE.pdf' <<<"$got" || fail "timeliness: the name not UTF-8 is not escaped once: $got"
ls_hex=$(kura ls "$N" --json | py 'import json,sys; print(sorted(o.get("name_hex","") for o in json.load(sys.stdin)))')
tl_hex=$(KURA_NOW=2026-04-02T00:00:00Z kura timeliness "$N" --json |
	py 'import json,sys; print(sorted(o.get("name_hex","") for o in json.load(sys.stdin)["objects"]))')
[ "$ls_hex" = "$tl_hex" ] && grep -q 626164fe2e706466 <<<"$tl_hex" || fail "timeliness --json name_hex: $tl_hex, ls: $ls_hex"
