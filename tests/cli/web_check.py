"""What a person sees on kura serve's web page, in headless Chromium (tests/cli/test_web.sh):
python3 web_check.py CONFIG.json, the store, the service and the browser made by the script.
Every assertion reads the page as shown (innerText of what is not hidden, links, the SVG)."""
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser  # noqa: E402

c = json.load(open(sys.argv[1], encoding="utf-8"))
b = Browser(c["profile"])
b.call("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": c["downloads"]})
p = b.page()
step = "start"


def need(cond, what):
    if not cond:
        raise AssertionError("%s: %s" % (step, what))


def text(selector="body"):
    return p.evaluate("(document.querySelector(%s) || {}).innerText || ''" % json.dumps(selector))


def visible(id_):
    return p.evaluate("!document.getElementById(%s).hidden" % json.dumps(id_))


def injected():
    """Elements or script the page did not make itself (a name or metadata become markup)."""
    return p.evaluate("[document.querySelectorAll('img, iframe, object, embed, b, script:not([src])').length,"
                      " typeof window.__pwned]")


def submit(form):
    p.evaluate("document.getElementById(%s).requestSubmit()" % json.dumps(form))


def choose_language(lang):
    p.evaluate("(() => { const s = document.getElementById('lang'); s.value = %s;"
               " s.dispatchEvent(new Event('change')); })()" % json.dumps(lang))


def sign_in(token):
    p.evaluate("document.getElementById('token').value = %s" % json.dumps(token))
    submit("signin-form")


step = "the sign-in form"
ua = b.call("Browser.getVersion")["userAgent"]  # a Japanese browser: navigator.language ja-JP
p.call("Emulation.setUserAgentOverride", {"userAgent": ua, "acceptLanguage": "ja-JP"})
p.goto(c["url"])
need(visible("signin") and not visible("search") and not visible("object"), "only the sign-in form is shown")
lang = p.evaluate("navigator.language")
need(lang == "ja-JP" and p.evaluate("document.documentElement.lang") == "ja" and "サインイン" in text("#signin"),
     "a Japanese browser (%s) opens the page in Japanese: %r" % (lang, text("#signin")))
print("navigator.language %s: the page opened in %s" % (lang, p.evaluate("document.documentElement.lang")))
choose_language("en")
need("Sign in" in text("#signin") and "API token" in text("#signin"), text("#signin"))
need(p.evaluate("document.querySelector('meta[charset]').getAttribute('charset').toLowerCase()") == "utf-8",
     "<meta charset=utf-8>")

missing = p.evaluate("(() => { const e = Object.keys(WORDS.en), j = Object.keys(WORDS.ja);"
                     " const used = [...document.querySelectorAll('[data-t]')].map(x => x.dataset.t);"
                     " return e.filter(k => !j.includes(k)).concat(j.filter(k => !e.includes(k)),"
                     " used.filter(k => !e.includes(k))); })()")
need(not missing, "words not in both languages: %s" % missing)

step = "a wrong token"
sign_in("kura_" + "0" * 64)
p.wait("!document.getElementById('message').hidden", "an error is shown")
need("token is wrong or has expired" in text("#message"), text("#message"))
need(visible("signin") and not visible("search"), "still signed out")
p.evaluate("document.getElementById('message').hidden = true")
sign_in("トークン")  # not one a header can carry
p.wait("!document.getElementById('message').hidden", "an error is shown")
need("token is wrong or has expired" in text("#message") and visible("signin"), text("#message"))
choose_language("ja")
need("サインイン" in text("#signin"), text("#signin"))
choose_language("en")

step = "a role that may not search (403)"
sign_in(c["admin"])
p.wait("!document.getElementById('search').hidden", "signed in as admin")
p.evaluate("document.querySelector('.condition .field').value = 'amount'")
p.evaluate("document.querySelector('.condition .value').value = '1'")
submit("search-form")
p.wait("!document.getElementById('message').hidden", "an error is shown")
need("Your role may not do this" in text("#message"), text("#message"))
p.evaluate("location.hash = 'po/%s'" % c["jp_id"])  # an admin reads, but may not verify
p.wait("document.getElementById('verdict').textContent.includes('could not be checked')", "the verdict's 403")
need("Your role may not do this" in text("#verdict"), text("#verdict"))
p.evaluate("document.getElementById('signout').click()")
p.wait("!document.getElementById('signin').hidden", "signed out")
need(p.evaluate("sessionStorage.getItem('kura.token')") is None, "the token is forgotten at sign-out")

step = "signing in"
sign_in(c["auditor"])
p.wait("!document.getElementById('search').hidden", "the search form after signing in")
need("aud" in text("#account"), text("#account"))
need(c["auditor"] not in p.evaluate("location.href + document.body.innerText"), "the token shown or in the URL")

step = "a search by a field"
p.evaluate("document.querySelector('.condition .field').value = 'amount'")
p.evaluate("document.querySelector('.condition select').value = '>='")
p.evaluate("document.querySelector('.condition .value').value = '100000'")
submit("search-form")
p.wait("!document.getElementById('results').hidden", "the result list")
rows = p.evaluate("[...document.querySelectorAll('#results tbody tr')].map(r => [...r.cells].map(td => td.innerText))")
need(sorted(r[1] for r in rows) == sorted(c["found"]), "rows %s, expected the IDs %s" % (rows, c["found"]))
names = {r[1]: r[0] for r in rows}
need(names[c["jp_id"]] == c["jp_name"], "the Japanese name as given: %r" % names)
need(names[c["evil_id"]] == c["evil_name"], "the hostile name as text: %r" % names)
need(any("取引先 = 山田商事" in r[3] for r in rows) and all(r[2][:4].isdigit() for r in rows), rows)
need("2 found" in text("#result-count"), text("#result-count"))
offered = p.evaluate("[...document.querySelectorAll('#field-names option')].map(o => o.value)")
need("amount" in offered and "取引先" in offered, "the field list offers the keys seen: %s" % offered)
need(injected() == [0, "undefined"], "markup injected by a name or metadata: %s" % injected())

step = "the hostile object's page"
p.evaluate("location.hash = 'po/%s'" % c["evil_id"])
p.wait("document.getElementById('obj-name').textContent === %s" % json.dumps(c["evil_name"]), "its name as text")
p.wait("document.getElementById('verdict').className.includes('valid')", "its verdict")
need(c["evil_meta"] in text("#obj-facts"), text("#obj-facts"))
need(injected() == [0, "undefined"], "markup injected on the object page: %s" % injected())
need(not p.dialogs(), "a dialog opened: %s" % p.dialogs())

step = "the Japanese object's page"
p.evaluate("history.back()")
p.wait("!document.getElementById('results').hidden && document.getElementById('object').hidden", "back to the list")
p.evaluate("[...document.querySelectorAll('#results a')].find(a => a.textContent === %s).click()"
           % json.dumps(c["jp_name"]))
p.wait("document.getElementById('obj-name').textContent === %s" % json.dumps(c["jp_name"]), "the Japanese name")
p.wait("document.getElementById('verdict').className === 'verdict valid'", "the verdict valid", 30)
need("Verdict: valid" in text("#verdict"), text("#verdict"))
need("山田商事" in text("#obj-facts") and "訂正済み" in text("#obj-facts"), text("#obj-facts"))
stamps = p.evaluate("[...document.querySelectorAll('#stamps tbody tr')].map(r => [...r.cells].map(td => td.innerText))")
kinds = [s[1] for s in stamps]
need("first time-stamp" in kinds and "time-stamp renewal" in kinds, "time-stamps %s" % stamps)
need(all("kura embedded TSA" in s[3] for s in stamps), "the TSA named: %s" % stamps)
need(any(s[2].startswith(c["renewed"]) for s in stamps), "the renewal of %s: %s" % (c["renewed"], stamps))
svg = p.evaluate("[document.querySelectorAll('#timeline svg circle').length,"
                 " document.querySelector('#timeline svg').textContent]")
need(svg[0] >= 3 and c["renewed"] in svg[1] and c["t0"] in svg[1], "the timeline: %s" % svg)
versions = p.evaluate("[...document.querySelectorAll('#versions tbody tr')].map(r => r.innerText)")
need(len(versions) == 2 and c["jp_first"] in versions[0] and "(current)" in versions[1], versions)
trail = text("#trail")
need("hold" in trail and c["hold_reason"] in trail and "arch" in trail, trail)

step = "the downloads"
hrefs = p.evaluate("Object.fromEntries([...document.querySelectorAll('#downloads a')].map(a => [a.id,"
                   " a.getAttribute('href')]))")
base = "/api/v1/po/" + c["jp_id"]
need(hrefs == {"dl-document": base, "dl-evidence": base + "/evidence", "dl-package": base + "/package",
               "dl-report-html": base + "/report?format=html", "dl-report-pdf": base + "/report?format=pdf"}, hrefs)
for link, name, expected in (("dl-document", c["jp_name"], c["jp_file"]),
                             ("dl-evidence", c["jp_name"] + ".ers", c["jp_ers"])):
    p.evaluate("document.getElementById('%s').click()" % link)
    got = os.path.join(c["downloads"], name)
    end = time.time() + 15
    while not (os.path.exists(got) and open(got, "rb").read() == open(expected, "rb").read()):
        need(time.time() < end, "%s was not saved as %s with its bytes (%s)" % (link, got, os.listdir(c["downloads"])))
        time.sleep(0.1)

step = "switching the language"
choose_language("ja")
for sel, word in (("#object h3", "ダウンロード"), ("#verdict", "判定：有効"), ("#search", "項目で検索"),
                  ("#stamps", "タイムスタンプの更新"), ("#versions", "現行"), ("header", "サインアウト")):
    need(word in text(sel), "%s in Japanese: %r" % (sel, text(sel)))
need(p.evaluate("document.documentElement.lang") == "ja", "<html lang=ja>")
choose_language("en")
need("Audit trail" in text("#object") and "Versions" in text("#object"), text("#object")[:300])

step = "checking a file against an evidence record"
for data, verdict, words in ((c["jp_file"], "valid", "valid: this file is the one"),
                             (c["flipped"], None, "invalid: this file and this evidence record")):
    p.evaluate("document.getElementById('check-result').textContent = ''")
    p.set_files("#check-data", [data])
    p.set_files("#check-er", [c["jp_ers"]])
    submit("check-form")
    p.wait("document.getElementById('check-result').dataset.verdict && "
           "!document.getElementById('check-result').textContent.endsWith('…')", "a verdict", 30)
    got = p.evaluate("document.getElementById('check-result').dataset.verdict")
    need((got == verdict) if verdict else got != "valid", "verdict %s for %s" % (got, data))
    need(text("#check-result").startswith(words), text("#check-result"))

if os.environ.get("KURA_WEB_SHOT"):  # a picture of the object page, for a person's look
    p.evaluate("location.hash = 'po/%s'" % c["jp_id"])
    p.wait("document.getElementById('verdict').className === 'verdict valid'", "the verdict again")
    shot = p.call("Page.captureScreenshot", {"captureBeyondViewport": True})["data"]
    open(os.environ["KURA_WEB_SHOT"], "wb").write(__import__("base64").b64decode(shot))
step = "the service gone"
os.kill(c["server_pid"], signal.SIGTERM)
end = time.time() + 10
while time.time() < end and os.path.exists("/proc/%d" % c["server_pid"]) and \
        open("/proc/%d/stat" % c["server_pid"]).read().rsplit(")", 1)[1].split()[0] != "Z":
    time.sleep(0.05)
submit("search-form")
p.wait("!document.getElementById('message').hidden", "an error is shown")
need("cannot be reached" in text("#message"), text("#message"))
need(not p.dialogs(), "a dialog opened: %s" % p.dialogs())
print("web page: every check passed")
