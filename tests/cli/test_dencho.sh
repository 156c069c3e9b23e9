#!/usr/bin/env bash
# 電子帳簿保存法, a tax office's request end to end (issue 15): a fiscal year of invoices in
# class jp-dencho, given by a manifest; "every invoice from 山田商事 between April and
# September over ¥100,000" asked by the three keys the law names (取引年月日, 取引金額,
# 取引先). `ls --where` returns exactly the invoices worked out below, `export --where`
# hands over exactly those (and their audit trail), which `verify-export` accepts;
# `verify --where` and `timeliness --where` check exactly those. A request with no hit
# or a bad value leaves no package.
source "$(dirname "$0")/lib.sh"

S=$T/books
kura init "$S" >/dev/null 2>&1 || fail "init"
for f in "txn_date date" "counterparty text" "received_at date"; do
	kura field add "$S" $f --required-for jp-dencho 2>/dev/null || fail "field add $f"
done
kura field add "$S" amount amount 2>/dev/null || fail "field add amount"

# name, txn_date, amount, counterparty (as typed on the invoice), wanted by the request?
mkdir -p "$T/in"
cat >"$T/invoices.txt" <<'EOF'
a01|2026-04-01|120000|山田商事|yes
a02|2026-04-15|¥100,000|山田商事|yes
a03|2026-05-20|99999|山田商事|no
a04|2026-06-30|1200000|ﾔﾏﾀﾞ商事|no
a05|2026-07-07|150000|山田商事|yes
a06|2026-09-30|300000.50|山田商事|yes
a07|2026-10-01|500000|山田商事|no
a08|2026-03-31|500000|山田商事|no
a09|2026-08-08|800000|山田商事株式会社|no
a10|2026-08-09|800000|佐藤工業|no
a11|2026-09-01|200000 USD|山田商事|no
a12|2026-05-05||山田商事|no
EOF
{
	echo "path,txn_date,amount,counterparty,received_at"
	while IFS='|' read -r name date amount cp _; do
		echo "invoice $name" >"$T/in/$name.pdf"
		printf '%s.pdf,%s,"%s",%s,%s\n' "$name" "$date" "$amount" "$cp" "$date"
	done <"$T/invoices.txt"
} >"$T/in/manifest.csv"
kura ingest "$S" --class jp-dencho --manifest "$T/in/manifest.csv" >"$T/ids.tsv" 2>"$T/ingest.err" ||
	fail "manifest ingest: $(cat "$T/ingest.err")"
[ "$(wc -l <"$T/ids.tsv")" = 12 ] || fail "12 invoices expected: $(cat "$T/ids.tsv")"
id_of() { awk -F '\t' -v n="/$1.pdf" 'index($3, n) { print $1 }' "$T/ids.tsv"; }
want=$(while IFS="|" read -r name _ _ _ wanted; do if [ "$wanted" = yes ]; then id_of "$name"; fi; done <"$T/invoices.txt" | sort)
[ "$(wc -l <<<"$want")" = 4 ] || fail "the table should want 4: $want"

Q=(--where 'txn_date>=2026-04-01' --where 'txn_date<=2026-09-30' --where 'amount>=100000' --where 'counterparty=山田商事')

# the query: exactly the four, in ID order
expect_status 0 kura ls "$S" "${Q[@]}"
[ "$(cut -f1 "$OUT")" = "$want" ] || fail "ls --where: $(cat "$OUT") / want $want"

# export --where: exactly those, with their evidence and audit trail; verify-export accepts it
expect_status 0 kura export "$S" -o "$T/request.tar" "${Q[@]}"
got=$(tar tf "$T/request.tar" | sed -n 's|^[^/]*/data/\([0-9A-Z]\{26\}\)/.*|\1|p' | sort -u)
[ "$got" = "$want" ] || fail "export --where packed: $got / want $want"
expect_status 0 kura verify-export "$T/request.tar"
expect_grep "$ERR" "4 of 4 evidence record(s) valid"

# verify --where and timeliness --where: the same four (time-stamped today, months after
# they were received: late, exit 1)
expect_status 0 kura verify "$S" "${Q[@]}" --json
[ "$("$PYTHON" -c 'import json,sys; print("\n".join(sorted(json.loads(l)["id"] for l in open(sys.argv[1]) if l.strip())))' "$OUT")" = "$want" ] ||
	fail "verify --where: $(cat "$OUT")"
expect_status 1 kura timeliness "$S" "${Q[@]}"
[ "$(grep -av objects: "$OUT" | cut -f1 | sort)" = "$want" ] || fail "timeliness --where: $(cat "$OUT")"

# nothing matches: no package; a value that is not an amount: no package, exit 2
expect_error 1 kura export "$S" -o "$T/none.tar" --where 'counterparty=鈴木'
[ ! -e "$T/none.tar" ] || fail "an export with no hit left a package"
expect_error 2 kura export "$S" -o "$T/bad.tar" --where 'amount>=十万'
[ ! -e "$T/bad.tar" ] || fail "an export with a bad value left a package"
expect_error 2 kura verify "$S" --where 'txn_date>=2026-04-31'
expect_error 2 kura export "$S" -o "$T/both.tar" "$(id_of a01)" --where 'amount>=1'
