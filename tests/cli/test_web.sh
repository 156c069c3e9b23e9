#!/usr/bin/env bash
# kura serve's web page (server/web/, docs/SERVICE.md "The web page") in a real browser:
# headless Chromium driven over the DevTools protocol (tests/cli/cdp.py, standard library
# only) by tests/cli/web_check.py, which asserts what a person sees: the sign-in form, a
# wrong token's error in words, a role's 403, a search by a field and its rows, an object's
# Japanese name, verdict, evidence timeline (a time-stamp renewal), versions and audit
# trail, the download links (document and evidence record really saved), both languages,
# a hostile name and metadata shown as text (no element injected, no dialog), checking a
# file against an evidence record (valid; invalid after a flipped byte), and the service
# gone. The page itself is public and carries a strict Content-Security-Policy (curl).
# Skips (exit 0, "SKIP:") only where chromium is absent.
source "$(dirname "$0")/serve_lib.sh" || exit 1

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	echo "SKIP: chromium is not installed (make deps installs Debian's chromium)"
	exit 0
fi

# a store: a Japanese-named document with a second version and a time-stamp renewal, a
# hostile name with hostile metadata, one the search leaves out; a hold in the audit trail
T0=2026-01-05T00:00:00Z
NOW=2030-11-01T00:00:00Z
expect_status 0 at $T0 init s
expect_status 0 at $T0 field add s amount amount
JP=請求書_2026年3月.pdf
printf 'invoice of March\n' >"$JP"
expect_status 0 at $T0 ingest s --meta amount=120000 --meta 取引先=山田商事 "$JP"
jp_first=$(cut -f1 "$OUT")
EVIL='<img src=x onerror=window.__pwned=1>.txt'
EVIL_META='<b onmouseover=window.__pwned=2>bold</b>'
printf 'hostile\n' >"$EVIL"
expect_status 0 at $T0 ingest s --meta amount=150000 --meta "note=$EVIL_META" "$EVIL"
evil_id=$(cut -f1 "$OUT")
printf 'small\n' >small.txt
expect_status 0 at $T0 ingest s --meta amount=50 small.txt
expect_status 0 at 2026-02-01T00:00:00Z meta set s "$jp_first" 備考=訂正済み --reason 取引先の確認
expect_status 0 at 2030-10-08T00:00:00Z renew s
jp_id=$(kura ls s --json | py 'print([o["id"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]][-1])' "$JP")
[ "$jp_id" != "$jp_first" ] || fail "meta set made no second version"
AUD=$(kura user add s aud --role auditor 2>/dev/null) || fail "user add aud"
ARCH=$(kura user add s arch --role archivist 2>/dev/null) || fail "user add arch"
ADMIN=$(kura user add s admin --role admin 2>/dev/null) || fail "user add admin"

start_serve srv "$NOW" 127.0.0.1:0 s
API=${SERVER_URL}api/v1
# the page is public (no token), holds no data, and goes out with a strict policy
CODE=$(curl -s -D headers -o page.html -w '%{http_code}' "$SERVER_URL")
[ "$CODE" = 200 ] || fail "GET / without a token: HTTP $CODE"
expect_grep headers "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'"
expect_grep headers "Content-Type: text/html; charset=utf-8"
expect_grep page.html '<meta charset="utf-8">'
if grep -Eq '(src|href)="(https?:)?//| on[a-z]+=|<script>|style=' page.html; then
	fail "the page fetches from elsewhere or has inline script or style: $(grep -E '(src|href)="(https?:)?//| on[a-z]+=|<script>|style=' page.html)"
fi
for f in app.js app.css icon.svg; do
	CODE=$(curl -s -o /dev/null -w '%{http_code}' "${SERVER_URL}web/$f")
	[ "$CODE" = 200 ] || fail "GET /web/$f: HTTP $CODE"
done
curl -s -o app.js "${SERVER_URL}web/app.js"
if grep -Eq 'innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(' app.js ||
	grep -Eo "https?://[^' ]+" app.js | grep -qvx 'http://www.w3.org/2000/svg'; then
	fail "app.js writes HTML or reaches elsewhere"
fi
CODE=$(curl -s -o /dev/null -w '%{http_code}' "${SERVER_URL}web/../users.json" --path-as-is)
[ "$CODE" = 404 ] || [ "$CODE" = 401 ] || fail "GET /web/../users.json: HTTP $CODE"
CODE=$(curl -s -o /dev/null -w '%{http_code}' "$API/RetrieveInfo")
[ "$CODE" = 401 ] || fail "the API without a token: HTTP $CODE"

curl -s -o hold.json -w '%{http_code}' -H "Authorization: Bearer $ARCH" \
	--data "{\"name\": \"tax-2030\", \"poId\": [\"$jp_id\"], \"reason\": \"税務調査 2030\"}" "$API/Hold" >code
[ "$(cat code)" = 201 ] || [ "$(cat code)" = 200 ] || fail "Hold: HTTP $(cat code) $(cat hold.json)"
curl -s -o "$JP.ers" -H "Authorization: Bearer $AUD" "$API/po/$jp_id/evidence"
cp "$JP" flipped.pdf
flip_byte flipped.pdf 3

mkdir downloads profile
LC_ALL=C.UTF-8 "$CHROMIUM" --headless=new --remote-debugging-port=0 --user-data-dir="$T/profile" --no-sandbox --disable-gpu \
	--disable-dev-shm-usage --no-first-run --no-default-browser-check --disable-extensions --disable-sync \
	--disable-background-networking --disable-component-update --lang=ja-JP about:blank \
	>chromium.out 2>chromium.err &
CHROMIUM_PID=$!
stop_chromium() # by its PID (the browser's own children end with it), never by name
{
	kill -TERM "$CHROMIUM_PID" 2>/dev/null || true
	wait "$CHROMIUM_PID" 2>/dev/null || true
}
on_exit 'stop_chromium'

py 'import json, sys
a = sys.argv
json.dump({"profile": a[1], "downloads": a[2], "url": a[3], "auditor": a[4], "admin": a[5], "server_pid": int(a[6]),
           "jp_id": a[7], "jp_first": a[8], "jp_name": a[9], "evil_id": a[10], "evil_name": a[11], "evil_meta": a[12],
           "found": [a[7], a[10]], "jp_file": a[13], "jp_ers": a[14], "flipped": a[15], "t0": "2026-02-01",
           "renewed": "2030-10-08", "hold_reason": "税務調査 2030"}, open("config.json", "w"))' \
	"$T/profile" "$T/downloads" "$SERVER_URL" "$AUD" "$ADMIN" "$SERVER_PID" "$jp_id" "$jp_first" "$JP" \
	"$evil_id" "$EVIL" "$EVIL_META" "$T/$JP" "$T/$JP.ers" "$T/flipped.pdf"
timeout 120 "$PYTHON" "$HERE/web_check.py" config.json >check.out 2>check.err ||
	fail "$(tail -n 5 check.err) (chromium: $(tail -n 3 chromium.err))"
expect_grep check.out "every check passed"
cat check.out

stop_server "$SERVER_PID" # web_check.py stopped it (SIGTERM): it ended cleanly
if grep -q "Sanitizer" srv.err; then fail "the service stopped with a sanitizer's report: $(grep -A12 Sanitizer srv.err | head -30)"; fi
expect_grep srv.err "service stopped"

# the page's own files wrote no audit record; the API's requests did, with their accounts
expect_status 0 kura log s --json
py 'import json, sys
recs = [r for r in json.load(open(sys.argv[1])) if r.get("action") == "api"]
paths = [r["path"] for r in recs]
assert not any(p == "/" or p.startswith("/web/") for p in paths), paths
assert any(r["actor"] == "aud" and r["path"] == "/api/v1/ValidateEvidence" for r in recs), paths
assert any(r["actor"] == "anonymous" and r["status"] == 401 for r in recs), "the wrong token was not audited"
assert any(r["actor"] == "admin" and r["status"] == 403 for r in recs), "the refused search was not audited"' "$OUT"
for tok in "$AUD" "$ADMIN"; do
	if grep -rqF -- "${tok#kura_}" srv.err s; then fail "a token was written down"; fi
done
