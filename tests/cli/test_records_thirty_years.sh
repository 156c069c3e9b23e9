#!/usr/bin/env bash
# Thirty years of records management, simulated with KURA_NOW (issue 14), the daemon running
# every half year (it seals, checkpoints the audit trail and renews):
#   - tax books of five fiscal years (jp-tax-books, from each fiscal-year end), one of them
#     corrected (a new version) and one given new metadata (a version too);
#   - a construction project's ledgers (jp-construction-books) and a housing contract
#     (jp-construction-housing), retention from a handover event recorded two years later;
#   - a trial master file (eu-ctr-tmf), retention from a trial-end event recorded for the
#     whole class;
#   - a legal hold on the first fiscal year's books from 2032 to 2034 (a tax inspection);
#   - one record without a class (kept for ever).
# Every year the disposal plan lists exactly what retention_oracle.py works out from the
# rules; whatever it lists is requested by one person and approved by another, and the
# segments shrink by exactly the disposed content's records. At the end every other record
# verifies with kura and with Bouncy Castle, `kura log --verify` passes (the disposal
# records among the trail it checks, each covered by a time-stamped checkpoint), the store
# scrubs clean, and one audit record rewritten with a valid CRC is caught.
source "$(dirname "$0")/lib.sh" || exit 1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ORACLE="$PYTHON $HERE/retention_oracle.py"
SHIPPED=$HERE/../../policies/retention.yaml
S=$T/s
STATE=$T/oracle.json
cd "$T"

test_policy policy.yaml thirty 200
at 2026-01-05T09:00:00Z init "$S" --policy policy.yaml >/dev/null 2>&1 || fail "init"


# doc NAME KIB: a file of random bytes (so no two records share content)
doc() { mkdir -p "$(dirname "$1")" && head -c $(($2 * 1024)) /dev/urandom >"$1"; }
seg_total() { find "$S/segments" -name '*.seg' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }

# ing NOW CLASS-OR-- ORACLE-EVENTS PATH [INGEST-ARGS...]: ingests PATH (a file), tells the oracle
ing()
{
	local now=$1 cls=$2 events=$3 path=$4
	shift 4
	local args=()
	[ "$cls" = - ] || args+=(--class "$cls")
	expect_status 0 at "$now" ingest "$S" "${args[@]}" "$@" "$path"
	ID=$(cut -f1 "$OUT")
	[ "$cls" = - ] || $ORACLE add "$STATE" "$ID" "$cls" "${now%%T*}" $events
}

daemon() { expect_status 0 at "$1" daemon "$S" --once; }


# blob_bytes SHA...: the bytes of the blob records (28 bytes of frame each) in the segments
# whose content has one of these SHA-256s
blob_bytes()
{
	py '
import glob
want = set(sys.argv[2:])
total = 0
for path in glob.glob(sys.argv[1] + "/segments/*.seg"):
    d = open(path, "rb").read()
    off = 16
    while off + 20 <= len(d) and d[off:off + 4] == b"KRec":
        n = 28 + int.from_bytes(d[off + 8:off + 16], "little")
        if d[off + 4:off + 5] == b"B" and d[off + n - 40:off + n - 8].hex() in want:
            total += n
        off += n
print(total)' "$S" "$@"
}

# the yearly round: the plan equals the oracle's; what it lists is disposed of, and exactly
# its content's blob records leave the segments
yearly()
{
	local now=$1
	$ORACLE plan "$STATE" "$now" "$SHIPPED" | sort >want
	expect_status 0 at "$now" dispose "$S" --plan
	cut -f1 "$OUT" | sort >got
	diff want got >diff.out || fail "plan at $now differs from the oracle (< oracle, > kura): $(cat diff.out)"
	[ -s got ] || return 0
	local freed=0 id v shas=()
	for id in $(cat got); do
		expect_status 0 at "$now" history "$S" "$id" --json
		for v in $(py 'print(" ".join(sorted({x["sha256"] + ":" + str(x["stored"]) for x in json.load(open(sys.argv[1]))["versions"]})))' "$OUT"); do
			freed=$((freed + ${v#*:} + 28))
			shas+=("${v%%:*}")
		done
	done
	[ "$(blob_bytes "${shas[@]}")" -eq "$freed" ] || fail "the content to dispose of at $now is not where history says"
	expect_status 0 at "$now" dispose "$S" --request $(cat got) --reason "保存期間満了 (retention ended)" --actor 記録管理者
	local req total0
	req=$(cat "$OUT")
	expect_error 2 at "$now" dispose "$S" --approve "$req" --reason "self" --actor 記録管理者
	total0=$(seg_total)
	expect_status 0 at "$now" dispose "$S" --approve "$req" --reason "承認 (approved)" --actor 監査責任者
	[ "$(blob_bytes "${shas[@]}")" -eq 0 ] || fail "disposed content is still in the segments after $now"
	# the space comes back (less the approval's records, the trail's checkpoint and its seal)
	[ $((total0 - $(seg_total))) -gt $((freed - 65536)) ] ||
		fail "the segments shrank by $((total0 - $(seg_total))) bytes at $now; the disposed content took $freed"
	$ORACLE dispose "$STATE" $(cat got)
	for id in $(cat got); do
		expect_status 1 at "$now" get "$S" "$id"
		expect_grep "$ERR" "approved by 監査責任者"
	done
	DISPOSED+=" $(tr '\n' ' ' <got)"
}
DISPOSED=

# ---- 2026: the first records
doc books/FY2025/journal.csv 40
doc books/FY2025/ledger.csv 30
doc project/ledger-A.csv 20
doc project/ledger-B.csv 20
doc project/housing.pdf 50
doc tmf/protocol.pdf 60
doc tmf/site-list.csv 10
doc keep/charter.pdf 15
ing 2026-02-01T10:00:00Z jp-construction-books "" project/ledger-A.csv
P_A=$ID
ing 2026-02-01T10:00:01Z jp-construction-books "" project/ledger-B.csv
P_B=$ID
ing 2026-02-01T10:00:02Z jp-construction-housing "" project/housing.pdf
P_H=$ID
ing 2026-03-01T10:00:00Z eu-ctr-tmf "" tmf/protocol.pdf
ing 2026-03-01T10:00:01Z eu-ctr-tmf "" tmf/site-list.csv
ing 2026-03-02T10:00:00Z - "" keep/charter.pdf
KEEP=$ID
ing 2026-05-20T10:00:00Z jp-tax-books fiscal-year-end=2026-03-31 books/FY2025/journal.csv --event fiscal-year-end=2026-03-31
FY25_J=$ID
ing 2026-05-20T10:00:01Z jp-tax-books fiscal-year-end=2026-03-31 books/FY2025/ledger.csv --event fiscal-year-end=2026-03-31
FY25_L=$ID

# a correction and a metadata change: versions, the records' retention unchanged
doc fixed/journal.csv 41
expect_status 0 at 2026-06-10T10:00:00Z ingest "$S" --supersedes "$FY25_J" --reason "仕訳の訂正 (entry corrected)" \
	--actor 経理-鈴木 fixed/journal.csv
expect_status 0 at 2026-06-11T10:00:00Z meta set "$S" "$FY25_L" 取引先=山田商事株式会社 --reason "正式名称" --actor 経理-佐藤

# ---- thirty years: what happens when, in order of time
taxbooks()
{
	doc "books/FY$(($1 - 1))/journal.csv" 25
	ing "$1-05-20T10:00:00Z" jp-tax-books "fiscal-year-end=$1-03-31" "books/FY$(($1 - 1))/journal.csv" \
		--event "fiscal-year-end=$1-03-31"
}
handover()
{
	expect_status 0 at "$1" retention event "$S" handover 2028-09-30 "$P_A" "$P_B" "$P_H" --reason "引渡し (handover)"
	$ORACLE event "$STATE" handover 2028-09-30 "$P_A" "$P_B" "$P_H"
	expect_status 0 at "$1" log "$S" --json
	EVENT_SEQ=$(py 'print(json.load(open(sys.argv[1]))[-1]["seq"])' "$OUT")
}
trialend()
{
	expect_status 0 at "$1" retention event "$S" trial-end 2029-12-31 --all-of-class eu-ctr-tmf --reason "trial ended"
	$ORACLE event "$STATE" trial-end 2029-12-31 $(py 'd = json.load(open(sys.argv[1]))
print(" ".join(k for k, v in d["records"].items() if v["class"] == "eu-ctr-tmf"))' "$STATE")
}
hold_place()
{
	expect_status 0 at "$1" hold add "$S" 税務調査 --reason "税務調査 (tax inspection)" "$FY25_J" "$FY25_L"
	$ORACLE hold "$STATE" 税務調査 "$FY25_J" "$FY25_L"
	expect_status 0 at "$1" log "$S" --json
	HOLD_SEQ=$(py 'print([r for r in json.load(open(sys.argv[1])) if r.get("action") == "hold"][-1]["seq"])' "$OUT")
}
hold_release()
{
	expect_status 0 at "$1" hold release "$S" 税務調査 --reason "調査終了 (inspection closed)"
	$ORACLE release "$STATE" 税務調査
}
{
	for year in $(seq 2026 2056); do
		echo "$year-01-15T03:00:00Z daemon"
		echo "$year-07-15T03:00:00Z daemon"
		[ "$year" -ge 2027 ] && echo "$year-02-15T09:00:00Z yearly"
		[ "$year" -ge 2027 ] && [ "$year" -le 2030 ] && echo "$year-05-20T10:00:00Z taxbooks $year"
	done
	echo "2028-10-05T09:00:00Z handover"
	echo "2029-12-31T12:00:00Z trialend"
	echo "2032-03-01T09:00:00Z hold_place"
	echo "2034-02-10T09:00:00Z hold_release"
} | sort >schedule
while read -r now what arg; do
	[ "$now" \> 2026-06-11 ] || continue
	case $what in
	taxbooks) taxbooks "$arg" ;;
	*) "$what" "$now" ;;
	esac
done <schedule

# ---- the end: what was disposed of is gone, everything else proves itself
END=2056-08-01T00:00:00Z
for id in $FY25_J $FY25_L $P_A $P_B $P_H; do
	case " $DISPOSED " in *" $id "*) ;; *) fail "record $id was never disposed of" ;; esac
done
case " $DISPOSED " in *" $KEEP "*) fail "the record without a class was disposed of" ;; esac
expect_status 0 at "$END" ls "$S"
grep -q "^$KEEP	" "$OUT" || fail "the record without a class is not listed"
expect_status 0 at "$END" ls "$S" --disposed --all-versions
[ "$(wc -l <"$OUT")" -ge 11 ] || fail "ls --disposed --all-versions lists $(wc -l <"$OUT") versions"
expect_status 0 at "$END" verify "$S"
expect_grep "$ERR" "disposed of"
expect_scrub_clean "$S"
expect_status 0 at "$END" log "$S" --verify
# a hold is time-stamped at once; an event (no document came in after it) by the daemon's next round
expect_status 0 at "$END" ls "$S" --system --json
py '
def cover(seq):
    c = [o for o in json.load(open(sys.argv[1])) if o.get("audit") and o["audit"]["from"] <= seq <= o["audit"]["to"]]
    assert c, "no checkpoint holds record %d" % seq
    return c[0]["ingested"]
assert cover(int(sys.argv[2])) < "2032-03-01T09:00:01", "the hold waited until %s" % cover(int(sys.argv[2]))
assert cover(int(sys.argv[3])) < "2029-01-16", "the handover event waited until %s" % cover(int(sys.argv[3]))
' "$OUT" "$HOLD_SEQ" "$EVENT_SEQ" || fail "the hold or the event waited to be time-stamped"

# Bouncy Castle: the record kept for thirty years, renewed by the daemon all along
BCCP=/usr/share/java/bcprov.jar:/usr/share/java/bcpkix.jar:/usr/share/java/bcutil.jar
mkdir classes
timeout 120 javac -nowarn -Xlint:-path -d classes -cp "$BCCP" "$HERE/../interop/BcErsCheck.java" >javac.log 2>&1 ||
	fail "javac BcErsCheck.java: $(head -c 2000 javac.log)"
expect_status 0 at "$END" evidence "$S" "$KEEP" -o keep.ers
at "$END" tsa ca "$S" >roots.pem
expect_status 0 timeout 60 java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "classes:$BCCP" BcErsCheck \
	verify keep/charter.pdf keep.ers roots.pem -at "$END"
grep -q '^OK' "$OUT" || fail "Bouncy Castle: $(cat "$OUT")"

# a forger rewrites a disposal record (another approver) and fixes its CRCs: the chain says so
py '
import re, sys, zlib, glob
for path in sorted(glob.glob(sys.argv[1] + "/segments/*.seg")):
    data = bytearray(open(path, "rb").read())
    m = re.search(rb"\"action\":\"dispose-approve\"", data)
    if not m:
        continue
    start = data.rfind(b"KRecA", 0, m.start())
    body_len = int.from_bytes(data[start + 8:start + 16], "little")
    body = start + 20
    forged = bytes(data[body:body + body_len]).replace("監査責任者".encode(), "記録管理者".encode(), 1)
    assert len(forged) == body_len
    data[body:body + body_len] = forged
    data[start + 16:start + 20] = zlib.crc32(bytes(data[start:start + 16])).to_bytes(4, "little")
    data[body + body_len:body + body_len + 4] = zlib.crc32(forged).to_bytes(4, "little")
    open(path, "wb").write(data)
    sys.exit(0)
sys.exit("no disposal record found")
' "$S" || fail "could not forge the disposal record"
expect_status 1 at "$END" log "$S" --verify
