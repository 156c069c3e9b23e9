#!/usr/bin/env bash
# ls --where with conditions on fields of different types ANDed: each candidate's
# values are read per condition (a check once compared an amount with the length
# of the previous condition's text encoding, losing or inventing hits), and no hits.
source "$(dirname "$0")/lib.sh"

kura init "$T/s" >/dev/null 2>&1
kura field add "$T/s" counterparty text >/dev/null 2>&1
kura field add "$T/s" amount amount >/dev/null 2>&1
for a in 150000 250000 99999; do
	echo "invoice $a" >"$T/inv$a.txt"
	kura ingest "$T/s" --no-seal --meta counterparty=山田商事 --meta amount=$a "$T/inv$a.txt" >>"$T/ids" 2>/dev/null
done
echo "other" >"$T/other.txt"
kura ingest "$T/s" --no-seal --meta counterparty=取引先 --meta amount=150000 "$T/other.txt" >/dev/null 2>&1

hits()
{
	expect_status 0 kura ls "$T/s" "$@"
	cut -c1-26 "$OUT" | tr '\n' ' '
}
id_of() { sed -n "$1p" "$T/ids" | cut -c1-26; }

got=$(hits --where 'counterparty=山田商事' --where 'amount<200000' --where 'amount>=100000')
[ "$got" = "$(id_of 1) " ] || fail "counterparty, 100000 <= amount < 200000: got '$got', want the first invoice"
got=$(hits --where 'amount>=100000' --where 'counterparty=山田商事')
[ "$got" = "$(id_of 1) $(id_of 2) " ] || fail "amount >= 100000, counterparty: got '$got'"
got=$(hits --where 'counterparty=誰も' --where 'amount>0')
[ -z "$got" ] || fail "a counterparty nobody has: got '$got'"
got=$(hits --where 'counterparty^=山田' --where 'amount>200000')
[ "$got" = "$(id_of 2) " ] || fail "counterparty ^= 山田, amount > 200000: got '$got'"
