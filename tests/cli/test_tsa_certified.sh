#!/usr/bin/env bash
# Certified TSAs (issue 15: 電子帳簿保存法 counts only time-stamps of a TSA certified by the
# Minister, 総務大臣認定, made within its certification's period). One store with two TSAs: its
# embedded TSA and a `kura tsa serve --dir` TSA "A" (its clock set by KURA_NOW at each start),
# which is marked certified from 2026-03-01 through 2026-06-30:
#  - the embedded TSA is refused (by name, and served over HTTP by `kura tsa serve --store`),
#    exit 2 with the reason; bad periods and URLs are exit 2; nothing is written then; its
#    tokens are judged uncertified even when the list is edited by hand to name it;
#  - seals by the embedded TSA, by A before, inside and after the period, and by another TSA
#    "B" answering at A's URL inside the period: only the seal by A inside says certified
#    (show --json, verify --json: "tsa_certified" and "time_stamps"), the text of show too;
#  - certify and uncertify are audit records (who, when); uncertifying later does not change
#    what seals recorded, nor does reindex (the mark is in the segments);
#  - a seal record without the mark (as kura wrote them before; the byte zeroed and its
#    checksum made right) reads as unknown: null.
#  - a time-stamp renewal's new token is judged when obtained: certified when A is again.
source "$(dirname "$0")/lib.sh" || exit 1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/renewal/servers.sh"
on_exit stop_all_servers
cd "$T"
export KURA_TSA_TIMEOUT=5

# jfield KEY.PATH: a field of the JSON on stdin (lists by index), printed as JSON
jfield() { "$PYTHON" -c 'import json,sys
d = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    d = d[int(k)] if k.isdigit() else d[k]
print(json.dumps(d))' "$1"; }

# certified_of NOW ID: "tsa_certified" of `kura show S ID --json`
certified_of() { at "$1" show S "$2" --json | jfield tsa_certified; }

# seal_at NOW NAME: ingests NAME.txt at NOW (sealed at once); ID_NAME gets its ID
seal_at()
{
	printf '%s\n' "$2" >"$2.txt"
	expect_status 0 at "$1" ingest S "$2.txt"
	printf -v "ID_$2" '%s' "$(cut -f1 "$OUT")"
}

# serve_at NOW DIR: (re)starts the TSA of folder DIR on A's port with its clock at NOW
serve_at()
{
	[ -z "${PID:-}" ] || stop_server "$PID"
	start_serve "srv-$(basename "$2")" "$1" "127.0.0.1:${PORT:-0}" --dir "$2"
	PID=$SERVER_PID
	PORT=$SERVER_PORT
}

store_files() { (cd S && find . -path ./index -prune -o -type f ! -name lock -print0 | sort -z | xargs -0 sha256sum); }

expect_status 0 at 2026-01-05T00:00:00Z init S
serve_at 2026-01-05T00:00:00Z "$T/tsa-a"
URL=$SERVER_URL
serve_at 2026-01-05T00:00:00Z "$T/tsa-b" # made now, used later
serve_at 2026-01-05T00:00:00Z "$T/tsa-a"
[ "$SERVER_URL" = "$URL" ] || fail "A moved from $URL to $SERVER_URL"
FP_A=$(openssl x509 -in tsa-a/tsa.pem -outform DER | sha256sum | cut -d' ' -f1)
FP_B=$(openssl x509 -in tsa-b/tsa.pem -outform DER | sha256sum | cut -d' ' -f1)

# ---- refusals: the embedded TSA, bad input; nothing changes
store_files >before.sum
expect_error 2 at 2026-01-05T00:00:00Z tsa certify S embedded --from 2026-03-01
expect_grep "$ERR" "never be certified"
stop_server "$PID"
PID=
start_serve own 2026-01-05T00:00:00Z "127.0.0.1:$PORT" --store S # the store's own TSA over HTTP
OWN=$SERVER_PID
expect_error 2 at 2026-01-05T00:00:00Z tsa certify S "$URL" --from 2026-03-01
expect_grep "$ERR" "embedded TSA, which can never be certified"
stop_server "$OWN"
serve_at 2026-01-05T00:00:00Z "$T/tsa-a"
expect_error 2 at 2026-01-05T00:00:00Z tsa certify S "$URL" --from 2026-07-01 --until 2026-06-30
expect_grep "$ERR" "is not after"
expect_error 2 at 2026-01-05T00:00:00Z tsa certify S "$URL" --from 2026-13-01
expect_error 2 at 2026-01-05T00:00:00Z tsa certify S "$URL"
expect_error 2 at 2026-01-05T00:00:00Z tsa certify S ftp://example.invalid/ --from 2026-03-01
expect_error 2 at 2026-01-05T00:00:00Z tsa certify S "$URL" --from 2026-03-01 --cert tsa-a/root.pem
expect_error 1 at 2026-01-05T00:00:00Z tsa uncertify S "$URL"
store_files | cmp -s - before.sum || fail "a refused certify or uncertify changed the store's files"

# ---- seals: embedded, A before the period
seal_at 2026-02-01T00:00:00Z emb
expect_status 0 at 2026-02-01T00:00:00Z tsa urls S --set "$URL"
expect_status 0 at 2026-02-01T00:00:00Z trust add S --tsa tsa-a/anchors.pem
expect_status 0 at 2026-02-01T00:00:00Z trust add S --tsa tsa-b/anchors.pem
serve_at 2026-02-15T00:00:00Z "$T/tsa-a"
seal_at 2026-02-15T00:00:00Z before

# ---- the certification (by its certificate, learnt from a token of A), logged with who
expect_status 0 env KURA_ACTOR=tax-officer KURA_NOW=2026-02-20T00:00:00Z "$KURA_BIN" tsa certify S "$URL" \
	--from 2026-03-01 --until 2026-06-30 --reason "総務大臣認定 番号 0001"
expect_grep "$OUT" "$FP_A"
expect_status 0 kura tsa certified S --json
[ "$(jfield 0.certificate_sha256 <"$OUT")" = "\"$FP_A\"" ] || fail "certified the wrong certificate: $(cat "$OUT")"
[ "$(jfield 0.until <"$OUT")" = '"2026-07-01T00:00:00Z"' ] || fail "--until 2026-06-30 is not through that day: $(cat "$OUT")"
[ "$(jfield 0.by <"$OUT")" = '"tax-officer"' ] || fail "who certified is not recorded: $(cat "$OUT")"
expect_status 0 kura log S --json
"$PYTHON" - "$OUT" "$FP_A" <<'EOF' || fail "no tsa-certify audit record by tax-officer for A's certificate"
import json, sys
recs = [r for r in json.load(open(sys.argv[1])) if r.get("action") == "tsa-certify"]
assert len(recs) == 1 and recs[0]["actor"] == "tax-officer", recs
assert recs[0]["detail"]["certificate_sha256"] == sys.argv[2], recs
EOF

# ---- inside the period by A; inside by B at A's URL; after the period by A
serve_at 2026-04-01T00:00:00Z "$T/tsa-a"
seal_at 2026-04-01T00:00:00Z inside
serve_at 2026-04-15T00:00:00Z "$T/tsa-b"
seal_at 2026-04-15T00:00:00Z other
serve_at 2026-08-01T00:00:00Z "$T/tsa-a"
seal_at 2026-08-01T00:00:00Z after
NOW=2026-08-02T00:00:00Z

# expect_marks: each object's first time-stamp certified (show and verify) as it must be
expect_marks()
{
	local name want id got
	for name in emb:false before:false inside:true other:false after:false; do
		want=${name#*:}
		id=ID_${name%:*}
		got=$(certified_of "$NOW" "${!id}")
		[ "$got" = "$want" ] || fail "$1: show says tsa_certified $got for the seal '${name%:*}', not $want"
	done
	expect_status 0 at "$NOW" verify S --json
	"$PYTHON" - "$OUT" "$ID_inside" "$FP_A" "$FP_B" "$ID_other" <<'EOF' || fail "$1: verify --json: $(head -c 600 "$OUT")"
import json, sys
reps = {r["id"]: r for r in map(json.loads, open(sys.argv[1]))}
assert len(reps) == 5, reps.keys()
for i, r in reps.items():
    assert r["verdict"] == "valid", r
    assert len(r["time_stamps"]) == 1 and r["time_stamps"][0]["tsa_certified"] == r["tsa_certified"], r
    assert r["tsa_certified"] == (i == sys.argv[2]), (i, r["tsa_certified"])
assert reps[sys.argv[2]]["time_stamps"][0]["tsa_certificate_sha256"] == sys.argv[3]
assert reps[sys.argv[5]]["time_stamps"][0]["tsa_certificate_sha256"] == sys.argv[4]
EOF
	expect_status 0 at "$NOW" show S "$ID_inside"
	expect_grep "$OUT" "TSA certified"
}
expect_marks "sealed"

# ---- uncertified later, reindexed: what the seals recorded stays
expect_status 0 at "$NOW" tsa uncertify S "$URL" --reason "認定の取消"
expect_status 0 kura tsa certified S --json
[ "$(cat "$OUT")" = "[]" ] || fail "uncertify left: $(cat "$OUT")"
expect_status 0 at "$NOW" reindex S
expect_marks "uncertified and reindexed"
expect_status 0 kura log S --json
expect_grep "$OUT" '"tsa-uncertify"'

# ---- a seal record as kura wrote them before the mark: unknown
expect_status 0 kura show S "$ID_inside" --json
REC=$(jfield time_stamps.0.record <"$OUT" | tr -d '"')
"$PYTHON" - S/segments "$REC" <<'EOF' || fail "found no seal record $REC to unmark"
import glob, struct, sys, zlib
rec = sys.argv[2].encode()
for path in sorted(glob.glob(sys.argv[1] + "/*.seg")):
    b = bytearray(open(path, "rb").read())
    off = 16
    while off + 20 <= len(b) and b[off:off + 4] == b"KRec":
        n = struct.unpack("<Q", b[off + 8:off + 16])[0]
        body = off + 20
        if b[off + 4:off + 5] == b"E" and b[body + 4:body + 30] == rec:
            assert b[body + 1:body + 2] == b"C", b[body + 1]
            b[body + 1] = 0
            b[body + n:body + n + 4] = struct.pack("<I", zlib.crc32(bytes(b[body:body + n])))
            open(path, "wb").write(b)
            sys.exit(0)
        off = body + n + 8
sys.exit(1)
EOF
expect_status 0 at "$NOW" reindex S
[ "$(certified_of "$NOW" "$ID_inside")" = null ] || fail "a seal without the mark does not read as unknown"
expect_status 0 at "$NOW" verify S "$ID_inside" --json
[ "$(jfield tsa_certified <"$OUT")" = null ] || fail "verify: a seal without the mark is not null: $(cat "$OUT")"

# ---- the embedded TSA stays uncertified even when the list is edited by hand to name it
expect_status 0 at 2026-08-03T00:00:00Z tsa urls S --embedded
FP_E=$(openssl x509 -in S/tsa/tsa.pem -outform DER | sha256sum | cut -d' ' -f1)
"$PYTHON" - S/tsa-certified.json "$FP_E" <<'EOF'
import json, sys
d = {"certified": [{"url": "http://127.0.0.1:9/", "certificate_sha256": sys.argv[2],
                    "from": "2020-01-01T00:00:00Z", "until": None}]}
json.dump(d, open(sys.argv[1], "w"))
EOF
seal_at 2026-08-03T00:00:00Z handmade
expect_status 0 kura show S "$ID_handmade" --json
[ "$(jfield time_stamps.0.tsa_certificate_sha256 <"$OUT")" = "\"$FP_E\"" ] || fail "not sealed by the embedded TSA"
[ "$(jfield tsa_certified <"$OUT")" = false ] || fail "the embedded TSA passed for certified: $(cat "$OUT")"
expect_status 0 at 2026-08-03T00:00:00Z tsa urls S --set "$URL"

# ---- a renewal's new token is judged too: A certified again from 2026-09-01, every chain due
test_policy policy.yaml renew-all 1900 # margin past the TSAs' five years: every chain is due
expect_status 0 at 2026-09-01T00:00:00Z policy set S policy.yaml
expect_status 0 at 2026-09-01T00:00:00Z tsa certify S "$URL" --from 2026-09-01
serve_at 2026-09-01T00:00:00Z "$T/tsa-a"
expect_status 0 at 2026-09-01T00:00:00Z renew S --json
for name in emb:false other:false; do
	id=ID_${name%:*}
	expect_status 0 at 2026-09-01T00:00:00Z show S "${!id}" --json
	"$PYTHON" - "$OUT" "${name#*:}" <<'EOF' || fail "renewal of '${name%:*}': $(head -c 900 "$OUT")"
import json, sys
o = json.load(open(sys.argv[1]))
ts = o["time_stamps"]
assert json.dumps(o["tsa_certified"]) == sys.argv[2], o["tsa_certified"]
assert [t["kind"] for t in ts] == ["seal", "time-stamp renewal"], ts
assert ts[1]["tsa_certified"] is True and ts[1]["gentime"].startswith("2026-09-01"), ts
EOF
done
finish_cases
