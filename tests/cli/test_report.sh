#!/usr/bin/env bash
# kura report (report/): a store with Japanese names and metadata, a second version and a
# time-stamp renewal, reported as HTML and as PDF. The HTML is opened in headless Chromium
# and the text a person sees is checked (names, metadata, verdicts, the timeline's dates);
# a hostile name and metadata value stay text (no element is injected). The PDF's text
# (pdftotext) holds the Japanese names and the verdict; its first page renders
# (pdftoppm) to a PNG that is not blank. Skips (exit 0) only where chromium is absent
# (`make deps` installs it, with poppler-utils).
source "$(dirname "$0")/lib.sh" || exit 1
cd "$T"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	echo "SKIP: chromium is not installed (make deps installs Debian's chromium)"
	exit 0
fi
command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null ||
	fail "pdftotext and pdftoppm are needed (poppler-utils: make deps)"

if [ "$KURA_SANITIZED" = 1 ]; then # the PDF's libraries keep or lose a little on their own (see the file)
	export LSAN_OPTIONS=suppressions=$(cd "$(dirname "$0")" && pwd)/report_lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}
	export ASAN_OPTIONS=fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS} # whole stacks, to name cairo's
	export G_SLICE=always-malloc # so a pango object kura does not free is a leak LeakSanitizer sees
fi

T0=2026-01-05T00:00:00Z
expect_status 0 at $T0 init S
printf 'report of the works\n' >工事報告書.txt
evil=$'<script>alert(1)<script>\x01.txt'
printf 'x' >"$evil"
expect_status 0 at $T0 ingest S --meta 工事番号=K-2026-001 --meta 取引先=山田商事 工事報告書.txt
id1=$(cut -f1 "$OUT")
expect_status 0 at $T0 ingest S --meta $'note=</td><img src=x onerror=alert(2)>\x07' "$evil"
evil_id=$(cut -f1 "$OUT")
# a second version of the record (its metadata corrected), then a time-stamp renewal
expect_status 0 at 2026-02-01T00:00:00Z meta set S "$id1" 備考=訂正済み --reason 取引先の確認
ids=$(kura ls S --json | py 'print(" ".join(o["id"] for o in json.load(sys.stdin)))')
for i in $ids; do kura show S "$i" --json | py 'o = json.load(sys.stdin); print(o["id"], o["name"])'; done >names
id2=$(awk '$2 == "工事報告書.txt" {print $1}' names)
[ -n "$id2" ] && [ "$id2" != "$id1" ] || fail "no second version of the record: $(cat names)"
expect_status 0 at 2030-10-08T00:00:00Z renew S
NOW=2030-11-01T00:00:00Z
due=$(at $NOW renew S --plan --json | py 'print(min(e["due"] for e in json.load(sys.stdin))[:10])')

# ---- HTML, as Chromium shows it ----
expect_status 0 at $NOW report S "$id2" "$evil_id" -o r.html
expect_grep "$ERR" "report of 2 object(s) written to r.html"
timeout 120 "$CHROMIUM" --headless --disable-gpu --no-sandbox --disable-dev-shm-usage --user-data-dir="$T/chromium" \
	--dump-dom "file://$T/r.html" >dom.html 2>chromium.err ||
	fail "chromium could not open the report: $(tail -5 chromium.err)"
py '
from html.parser import HTMLParser
class Seen(HTMLParser):
    def __init__(s):
        super().__init__(); s.tags = []; s.text = []; s.svg = []; s.open = []; s.attrs = []
    def handle_starttag(s, tag, attrs):
        s.tags.append(tag); s.open.append(tag); s.attrs += [(tag, k, v) for k, v in attrs]
    def handle_endtag(s, tag):
        while s.open and s.open.pop() != tag: pass
    def handle_data(s, d):
        if "style" in s.open or "title" in s.open: return
        (s.svg if "svg" in s.open else s.text).append(d)
p = Seen(); p.feed(open("dom.html", encoding="utf-8").read())
text, svg = " ".join(p.text), " ".join(p.svg)
def need(what, where, name):
    if what not in where: sys.exit("not in the %s a person sees: %r" % (name, what))
for w in ["工事報告書.txt", "工事番号", "K-2026-001", "取引先", "山田商事", "備考", "訂正済み", sys.argv[1], sys.argv[2],
          "<script>alert(1)<script>\\x01.txt", "</td><img src=x onerror=alert(2)>\\x07", "Summary", "Valid", "valid",
          "time-stamp renewal", "2030-10-08T00:00:00Z", "CN=kura embedded TSA"]:
    need(w, text, "page")
for w in ["2026-01-05", "2030-10-08", sys.argv[3], "next renewal due", "chain 1 sha256"]:
    need(w, svg, "timeline")
if "invalid" in text.split() or "indeterminate" in text.split(): sys.exit("a verdict is not valid")
bad = [t for t in p.tags if t in ("script", "img", "iframe", "object", "embed", "link")]
if bad: sys.exit("markup injected or fetched: %s" % bad)
refs = [(t, k, v) for t, k, v in p.attrs if k in ("src", "href") or k.startswith("on")]
if refs: sys.exit("external references or handlers: %s" % refs)
if ("html", "lang", "en") not in p.attrs: sys.exit("no lang=\"en\" on <html>")
if not any(k == "lang" and v == "ja" for t, k, v in p.attrs): sys.exit("Japanese text has no lang=\"ja\"")
if "svg" not in p.tags: sys.exit("no timeline drawn")
' "$id2" "$evil_id" "$due" || fail "the HTML report as Chromium shows it: see above"
grep -qiE 'url\(|@import' r.html && fail "the HTML report's style refers outside itself"

# ---- PDF: its text and its first page ----
expect_status 0 at $NOW report S -o r.pdf
pdftotext -enc UTF-8 r.pdf r.txt
for w in 工事報告書.txt 山田商事 工事番号 訂正済み valid "page 1 of" "2030-10-08T00:00:00Z"; do
	grep -qF -- "$w" r.txt || fail "the PDF's text lacks '$w': $(head -c 400 r.txt)"
done
grep -qwE 'invalid|indeterminate' r.txt && fail "a verdict in the PDF is not valid"
pdftoppm -png -r 50 -f 1 -l 1 r.pdf page
py '
import struct, zlib
b = open(sys.argv[1], "rb").read()
w, h, depth, kind = struct.unpack(">IIBB", b[16:26])
data, p = b"", 8
while p < len(b):
    n, t = struct.unpack(">I4s", b[p:p + 8])
    if t == b"IDAT": data += b[p + 8:p + 8 + n]
    p += 12 + n
raw, bpp = zlib.decompress(data), {0: 1, 2: 3, 4: 2, 6: 4}[kind]
stride, prev, dark = w * bpp, bytearray(w * bpp), 0
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        c = prev[i - bpp] if i >= bpp else 0
        pa, pb, pc = abs(prev[i] - c), abs(a - c), abs(a + prev[i] - 2 * c)
        pred = [0, a, prev[i], (a + prev[i]) // 2, a if pa <= pb and pa <= pc else prev[i] if pb <= pc else c][f]
        line[i] = (line[i] + pred) & 255
    dark += sum(1 for x in range(0, stride, bpp) if line[x] < 128)
    prev = line
if w < 300 or h < 400 or dark < 500: sys.exit("page 1 is blank or not A4: %dx%d, %d dark pixels" % (w, h, dark))
' page-1.png || fail "page 1 of the PDF"

# ---- PDF: long values are cut short, and say so ----
# Two 64 KiB values with no space: pango lays such a run out in time growing with its
# square (minutes for an object of long values), and a cell taller than a page ran off its
# foot. The PDF shows each value's first 800 characters, then a note of how many more
# there are; the HTML report keeps the whole value.
long_v=$(printf 'v%.0s' $(seq 65536)) long_w=$(printf 'w%.0s' $(seq 65536))
expect_status 0 at $NOW ingest S --meta "long1=$long_v" --meta "long2=$long_w" 工事報告書.txt
long_id=$(cut -f1 "$OUT")
expect_status 0 at $NOW report S "$long_id" -o long.pdf
expect_status 0 at $NOW report S "$long_id" -o long.html
grep -qF "$long_v" long.html && grep -qF "$long_w" long.html || fail "the HTML report lacks a whole long value"
pdftotext -enc UTF-8 long.pdf long.txt
py '
import re
text = open(sys.argv[1], encoding="utf-8").read()
for c in "vw": # the value wraps, and the key beside it may wrap between its lines
    shown = sum(len(r) for r in re.findall("(?<![A-Za-z])%s+(?![A-Za-z])" % c, text))
    if shown != 800: sys.exit("the %s value: %d characters shown, not 800" % (c * 3, shown))
note = "more characters not shown here; the HTML report and kura show give the whole text"
if text.count("\u2026 64736 " + note) != 2: sys.exit("no note of the 64736 characters left out of each long value")
' long.txt || fail "the PDF's long values: $(grep -F -m3 'more characters' long.txt)"
pages=$(pdfinfo long.pdf | awk '$1 == "Pages:" {print $2}')
[ "$pages" -le 3 ] || fail "the PDF of one object of long values has $pages pages"
# a key beside a value too long for the line keeps its word whole (it was squeezed with the
# value and cut: "counterpartyref" / "erence")
hash_like=$(printf 'abcdefghijklmnop%.0s' $(seq 12))
expect_status 0 at $NOW ingest S --meta "counterpartyreference=$hash_like" 工事報告書.txt
expect_status 0 at $NOW report S "$(cut -f1 "$OUT")" -o key.pdf
pdftotext -enc UTF-8 key.pdf key.txt
grep -q '^counterpartyreference ' key.txt || fail "the PDF cuts a metadata key beside a long value: $(grep -A2 '^Metadata' key.txt)"

# ---- choosing by --where; bad requests ----
expect_status 0 kura field add S 工事番号 keyword
expect_status 0 at $NOW report S --where '工事番号 = K-2026-001' -o w.html
grep -qF -- "--where 工事番号 = K-2026-001" w.html || fail "the summary does not say what chose the objects"
grep -qF "$evil_id" w.html && fail "--where reported an object it does not match"
grep -qF "$id2" w.html || fail "--where left out the object it matches"
expect_error 2 kura report S -o r.txt
expect_error 2 kura report S
expect_error 1 kura report S 01AAAAAAAAAAAAAAAAAAAAAAAA -o x.html
[ ! -e x.html ] && [ ! -e x.html.part ] || fail "a failed report left a file behind"
