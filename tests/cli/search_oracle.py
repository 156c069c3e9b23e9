"""The test oracle of test_search_oracle.sh: typed search (`kura ls --where`) worked out anew in
Python from the rules of include/kura/search.h and search/query.c's header, not from kura's code,
by a plain scan of ONE `kura ls --all-versions --json` dump.

The types, as Python reads them: date and datetime by their numbers (datetime in microseconds
since 1970 UTC, the offset applied), amount as (currency, decimal.Decimal) never as a float,
integer as int, text as unicodedata.normalize("NFKC", s).casefold() without spaces and tabs at
its ends, keyword as given. Queries often use another spelling of a stored value (full-width
digits, another offset for the same instant, "¥1,000" for "1000.00 JPY", ﾔﾏﾀﾞ for ヤマダ).

Every value and query is made of characters on which Python's Unicode tables (14.0) and
utf8proc's (kura's, 15.0) agree for NFKC and case folding: ASCII, full-width ASCII, the
ideographic space, katakana in full and half width, common kanji, "㈱", "¥", "￥" and "円".
Left out on purpose, because the two could disagree: default-ignorable characters (kura drops
them, UTF8PROC_IGNORE; Python keeps them), letters whose full case folding differs between
libraries or versions (ß, final sigma, Cherokee), characters newer than Unicode 14. Also never
written: a leap second :60 and the year 0 (kura takes both).

Subcommands:
  make DIR N SEED                 DIR/docs/ (small files), DIR/files-KK.csv (manifests of N rows in
                                  all: path, then the six fields; a few seq values not integers)
  versions KURA STORE SEED COUNT PHASE    meta set on COUNT current versions. PHASE "fix": first
                                  the versions whose seq is not an integer (seq made valid or
                                  empty), then random changes; "more": random changes to any field
  queries KURA STORE DUMP SEED COUNT BROAD  COUNT random queries of 0-3 conditions (the
                                  first 4 and BROAD others with large answers), each answered by
                                  `kura ls --where ... --json` and by the scan of DUMP: the same
                                  objects, equal to DUMP's, in the same order; prints a summary
"""
import csv
import datetime as dt
import json
import os
import random
import re
import subprocess
import sys
import time
import unicodedata
from decimal import Decimal

FIELDS = [("取引年月日", "date"), ("stamp", "datetime"), ("取引金額", "amount"), ("取引先", "text"),
          ("seq", "integer"), ("code", "keyword")]
TYPE = dict(FIELDS)
EMPTY = {"取引年月日": 0.08, "stamp": 0.004, "取引金額": 0.08, "取引先": 0.03, "seq": 0.08, "code": 0.005}  # how often
EPOCH = dt.date(1970, 1, 1).toordinal()

# ---------------------------------------------------------------- reading values as their types


def leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def day_ok(y, m, d):
    if not 1 <= m <= 12 or d < 1:
        return False
    return d <= [31, 29 if leap(y) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]


DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.A)
DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?"
                      r"(?:([Zz])|([+-])(\d{2}):(\d{2}))", re.A)
INTEGER = re.compile(r"([+-]?)(\d+)", re.A)
CUR = r"(¥|円|[A-Z]{3}(?![A-Z]))"
AMOUNT = re.compile(r"(?:" + CUR + r" *)?(-?)(\d+(?:,\d{3})*)(?:\.(\d{1,6}))? *(?:" + CUR + r")?", re.A)


def parse(t, raw):
    """(state, key): state "empty" (no value, or ""), "value" (key orders and compares as the
    values do; amounts: (currency, Decimal)) or "invalid" (not a value of type t)."""
    if raw is None or raw == "":
        return "empty", None
    if t == "keyword":
        return "value", raw
    s = unicodedata.normalize("NFKC", raw)
    if t == "text":
        return "value", s.casefold().strip(" \t")
    s = s.strip(" \t")
    key = None
    if t == "date":
        m = DATE.fullmatch(s)
        if m and day_ok(*map(int, m.groups())):
            key = tuple(map(int, m.groups()))
    elif t == "datetime":
        m = DATETIME.fullmatch(s)
        if m:
            y, mo, d, h, mi = (int(x) for x in m.groups()[:5])
            sec = int(m.group(6) or 0)
            frac = int((m.group(7) or "").ljust(6, "0"))
            off = 0 if m.group(8) else (1 if m.group(9) == "+" else -1) * (int(m.group(10)) * 3600 + int(m.group(11)) * 60)
            if (1 <= y and day_ok(y, mo, d) and h <= 23 and mi <= 59 and sec <= 60 and
                    (m.group(8) or (int(m.group(10)) <= 23 and int(m.group(11)) <= 59))):
                days = dt.date(y, mo, d).toordinal() - EPOCH
                key = (days * 86400 + h * 3600 + mi * 60 + sec - off) * 1000000 + frac
    elif t == "integer":
        m = INTEGER.fullmatch(s)
        if m:
            v = int(m.group(2)) * (-1 if m.group(1) == "-" else 1)
            key = v if -2**63 <= v < 2**63 else None
    elif t == "amount":
        m = AMOUNT.fullmatch(s)
        if m and not (m.group(1) and m.group(5)):
            cur = m.group(1) or m.group(5) or "JPY"
            cur = "JPY" if cur in ("¥", "円") else cur
            v = Decimal(m.group(3).replace(",", "") + "." + (m.group(4) or "0"))
            if v < Decimal(10) ** 30:
                key = (cur, -v if m.group(2) else v)
    return ("value", key) if key is not None else ("invalid", None)


# ---------------------------------------------------------------- conditions


class Column:
    """One field's values over the dump, by object: key (None unless a value of the type),
    empty (no value, or ""), and for < <= > >= group and order: a value's currency (amounts;
    "" for other types, None for no value) and what orders it (the Decimal; the key)."""

    def __init__(self, t, raws):
        parsed = [parse(t, raw) for raw in raws]
        self.key = [key for _, key in parsed]
        self.empty = [state == "empty" for state, _ in parsed]
        if t == "amount":
            self.group = [key and key[0] for key in self.key]
            self.order = [key and key[1] for key in self.key]
        else:
            self.group = [None if key is None else "" for key in self.key]
            self.order = self.key


def select(t, op, q, col, hits):
    """The objects of hits (indexes) whose value meets "op q" (q: the query value read as t).
    A comparison holds only for a value of the type; != not for an empty one; < <= > >= not
    across currencies."""
    key = col.key
    if op == "is empty":
        return [i for i in hits if col.empty[i]]
    if op == "^=":
        return [i for i in hits if key[i] is not None and key[i].startswith(q)]
    if op == "=":
        return [i for i in hits if key[i] == q]
    if op == "!=":
        return [i for i in hits if key[i] is not None and key[i] != q]
    group, order = col.group, col.order
    qg, qo = (q[0], q[1]) if t == "amount" else ("", q)
    if op == "<":
        return [i for i in hits if group[i] == qg and order[i] < qo]
    if op == "<=":
        return [i for i in hits if group[i] == qg and order[i] <= qo]
    if op == ">":
        return [i for i in hits if group[i] == qg and order[i] > qo]
    assert op == ">="
    return [i for i in hits if group[i] == qg and order[i] >= qo]


def query_value(t, op, text):
    """The query's value as the oracle compares it."""
    if op == "^=":
        return text if t == "keyword" else unicodedata.normalize("NFKC", text).casefold().strip(" \t")
    state, key = parse(t, text)
    assert state == "value", "the generator made a query value that is not a %s: %r" % (t, text)
    return key


# ---------------------------------------------------------------- making values (in many spellings)


KANA = ["ヤマダ", "サトウ", "スズキ", "タナカ", "ワタナベ", "イトウ", "ナカムラ", "コバヤシ", "カトウ", "ヨシダ",
        "ヤマモト", "ササキ", "マツモト", "イノウエ", "キムラ", "ハヤシ", "シミズ", "ヤマザキ", "パナソニー", "ビックリ",
        "ガスコ", "デンキヤ", "ポプラ", "ヴェルデ"]
KANJI = ["山田", "佐藤", "鈴木", "田中", "渡辺", "伊藤", "中村", "小林", "加藤", "吉田", "山本", "佐々木", "松本",
         "井上", "木村", "林", "清水", "山崎", "森", "阿部", "東京", "大阪", "北海道", "九州"]
LATIN = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Soylent", "Hooli"]
SUFFIX = ["商事", "工業", "物産", "建設", "電機", "製作所", "商店", "ホールディングス", "サービス", "Corp", "Inc.",
          "Trading", "KK"]
HALF = {}  # full-width katakana -> half-width spelling
for c in range(0xFF66, 0xFF9E):
    full = unicodedata.normalize("NFKC", chr(c))
    HALF[full] = chr(c)
for c in range(0x30A0, 0x3100):
    d = unicodedata.normalize("NFD", chr(c))
    if len(d) == 2 and d[0] in HALF and d[1] in "\u3099\u309a":
        HALF[chr(c)] = HALF[d[0]] + ("\uff9e" if d[1] == "\u3099" else "\uff9f")


def entity(rnd):
    """A counterparty: its parts, each (kind, text)."""
    k = rnd.random()
    head = ("kana", rnd.choice(KANA)) if k < 0.4 else ("kanji", rnd.choice(KANJI)) if k < 0.75 else ("latin", rnd.choice(LATIN))
    parts = [head, ("suffix", rnd.choice(SUFFIX))]
    if rnd.random() < 0.15:
        parts.insert(0, ("kabu", ""))  # 株式会社 ... / ㈱ ... / (株) ...
    if rnd.random() < 0.85:
        parts.append(("num", str(rnd.randint(1, 400))))
    return parts


def full_width(s):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in s)


def swap_case(rnd, s):
    r = rnd.random()
    return s.upper() if r < 0.3 else s.lower() if r < 0.6 else "".join(
        c.swapcase() if rnd.random() < 0.5 else c for c in s)


def spell(rnd, parts):
    """One spelling of a counterparty: widths, case and spaces vary, the folded value does not."""
    out = []
    for kind, text in parts:
        if kind == "kana":
            text = "".join(HALF[c] for c in text) if rnd.random() < 0.4 else text
        elif kind in ("latin", "suffix") and text.isascii():
            text = swap_case(rnd, text)
            text = full_width(text) if rnd.random() < 0.2 else text
        elif kind == "kabu":
            text = rnd.choice(["株式会社", "㈱", "(株)", "（株）"])
        elif kind == "num":
            text = full_width(text) if rnd.random() < 0.3 else text
        out.append(text)
    s = out[0]
    for p in out[1:]:  # a space between latin parts (else "AcmeCorp" would be another name)
        s += (rnd.choice([" ", "\u3000"]) if (s[-1].isascii() or p[0].isascii() or rnd.random() < 0.3) else "") + p
    return s


def fw_digits(rnd, s):
    return full_width(s) if rnd.random() < 0.1 else s


def spell_date(rnd, key):
    s = "%04d-%02d-%02d" % key
    return fw_digits(rnd, s)


def spell_datetime(rnd, micros):
    off = rnd.choice([0, 0, 9 * 60, -5 * 60, 5 * 60 + 30, -(23 * 60 + 59), 14 * 60])
    days, rest = divmod(micros + off * 60 * 1000000, 86400 * 1000000)
    if not 1 <= days + EPOCH <= dt.date.max.toordinal():  # the local day must be in years 1-9999
        off = 0
        days, rest = divmod(micros, 86400 * 1000000)
    d = dt.date.fromordinal(days + EPOCH)
    secs, frac = divmod(rest, 1000000)
    h, mi, sec = secs // 3600, secs // 60 % 60, secs % 60
    s = "%04d-%02d-%02d%s%02d:%02d" % (d.year, d.month, d.day, rnd.choice("TTTt "), h, mi)
    if sec or frac or rnd.random() < 0.5:
        s += ":%02d" % sec
        if frac or rnd.random() < 0.2:
            f = "%06d" % frac
            s += "." + (f.rstrip("0") or "0") if rnd.random() < 0.5 else "." + f
    if off == 0:
        s += rnd.choice(["Z", "Z", "z", "+00:00", "-00:00"])
    else:
        s += "%s%02d:%02d" % ("+" if off > 0 else "-", abs(off) // 60, abs(off) % 60)
    return s


def spell_amount(rnd, key):
    cur, v = key
    neg = v < 0
    whole, _, f = format(abs(v), "f").partition(".")
    digits = "{:,}".format(int(whole)) if rnd.random() < 0.3 else whole
    f = f.rstrip("0")
    if rnd.random() < 0.2:
        f = (f + "000000")[:rnd.randint(max(len(f), 1), 6)]
    num = ("-" if neg else "") + digits + ("." + f if f else "")
    if cur == "JPY":
        form = rnd.choice(["%s", "%s", "%s", "¥%s", "￥%s", "%s円", "%s JPY", "JPY %s", "JPY%s"])
    else:
        form = rnd.choice(["%s " + cur, cur + " %s", "%s" + cur])
    return fw_digits(rnd, form % num)


def spell_integer(rnd, v):
    s = str(v)
    if v >= 0 and rnd.random() < 0.1:
        s = "+" + s
    return fw_digits(rnd, s)


DATE_EDGES = [(1, 1, 1), (9999, 12, 31), (2000, 2, 29), (2024, 2, 29), (1900, 2, 28), (1900, 3, 1), (2100, 2, 28)]
DT_EDGES = [-62135596800000000, 253402300799999999, 0, -1, 951782400000000, 1709251199999999]
AMOUNT_EDGES = [("JPY", Decimal(0)), ("JPY", Decimal("-0.000001")), ("JPY", Decimal(10**29 - 1)),
                ("JPY", Decimal(-(10**29 - 1))), ("USD", Decimal("0.01")), ("JPY", Decimal("99999999999999999999.999999"))]
INT_EDGES = [2**63 - 1, -2**63, 0, -1, 1]
CURRENCIES = ["JPY"] * 14 + ["USD"] * 3 + ["EUR", "CNY"]


def random_key(rnd, t):
    """A random value of type t, as its key (text and keyword: a spelling)."""
    if t == "date":
        if rnd.random() < 0.02:
            return rnd.choice(DATE_EDGES)
        d = dt.date.fromordinal(dt.date(2000, 1, 1).toordinal() + rnd.randint(0, 11322))
        return (d.year, d.month, d.day)
    if t == "datetime":
        if rnd.random() < 0.02:
            return rnd.choice(DT_EDGES)
        sec = rnd.randint(946684800, 2082758399)  # 2000 to 2035
        r = rnd.random()
        return (sec - sec % 60 if r < 0.5 else sec) * 1000000 + (rnd.randint(0, 999999) if r > 0.8 else 0)
    if t == "amount":
        if rnd.random() < 0.02:
            return rnd.choice(AMOUNT_EDGES)
        cur = rnd.choice(CURRENCIES)
        r = rnd.random()
        v = Decimal(rnd.randint(0, 10**7)) if r < 0.6 else Decimal(rnd.randint(0, 10**9)) / 100 if r < 0.85 else \
            Decimal(rnd.randint(0, 10**12)) / 10**6 if r < 0.95 else Decimal(rnd.randint(0, 10**22))
        return (cur, -v if rnd.random() < 0.08 else v)
    if t == "integer":
        if rnd.random() < 0.02:
            return rnd.choice(INT_EDGES)
        return rnd.randint(-10**6, 10**6) if rnd.random() < 0.9 else rnd.randint(-2**63, 2**63 - 1)
    if t == "text":
        return spell(rnd, entity(rnd))
    r = rnd.random()
    if r < 0.6:
        return "INV-%d-%05d" % (rnd.randint(2015, 2030), rnd.randint(0, 99999))
    if r < 0.75:
        return "inv-%d-%05d" % (rnd.randint(2015, 2030), rnd.randint(0, 99999))
    if r < 0.9:
        return "請求-%d" % rnd.randint(0, 99999)
    return rnd.choice(["ＩＮＶ-", "PO-", "po-", "見積-"]) + str(rnd.randint(0, 9999))


def spell_key(rnd, t, key):
    if t == "date":
        return spell_date(rnd, key)
    if t == "datetime":
        return spell_datetime(rnd, key)
    if t == "amount":
        return spell_amount(rnd, key)
    if t == "integer":
        return spell_integer(rnd, key)
    return key


def random_value(rnd, t):
    return spell_key(rnd, t, random_key(rnd, t))


def respell(rnd, t, raw):
    """Another spelling of the value raw (of type t): equal as t."""
    state, key = parse(t, raw)
    if t == "text":
        out = []
        for c in raw:
            if c in HALF and rnd.random() < 0.5:
                c = HALF[c]
            elif c.isascii() and c.isalpha():
                c = c.swapcase() if rnd.random() < 0.5 else c
                c = full_width(c) if rnd.random() < 0.2 else c
            out.append(c)
        return "".join(out)
    if t == "keyword":
        return raw
    return spell_key(rnd, t, key)


# ---------------------------------------------------------------- make


def cmd_make(d, n, seed):
    rnd = random.Random(seed)
    invalid = set(rnd.sample(range(n), max(1, min(20, n // 250))))
    # 10,000 files at most, each ingested again by the next manifest (a new object each time):
    # making and removing 100,000 files costs minutes on a busy disk. Each file is M zero bytes
    # (M = 1 to 1,000), sparse: no block to discard when it is removed.
    nfiles = min(n, 10000)
    for i in range(nfiles):
        path = os.path.join(d, "docs/%02d/%05d.txt" % (i % 10, i))
        if i < 10:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.ftruncate(fd, i % 1000 + 1)
        os.close(fd)
    for k in range((n + nfiles - 1) // nfiles):
        with open(os.path.join(d, "files-%02d.csv" % k), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["path"] + [name for name, _ in FIELDS])
            for i in range(k * nfiles, min(n, (k + 1) * nfiles)):
                row = ["docs/%02d/%05d.txt" % (i % nfiles % 10, i % nfiles)]
                for name, t in FIELDS:
                    v = "" if rnd.random() < EMPTY[name] else random_value(rnd, t)
                    if name == "seq" and i in invalid:
                        v = rnd.choice(["n/a", "12.5", "１２x", "- 3", "99999999999999999999"])  # not integers
                    row.append(v)
                w.writerow(row)


# ---------------------------------------------------------------- versions


def kura(binary, *args):
    return subprocess.run([binary] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def current_versions(binary, store):
    r = kura(binary, "ls", store, "--json")
    if r.returncode != 0:
        sys.exit("kura ls --json failed: %s" % r.stderr.decode())
    return json.loads(r.stdout)


def cmd_versions(binary, store, seed, count, phase):
    rnd = random.Random(seed)
    objs = current_versions(binary, store)
    todo = []
    if phase == "fix":
        for o in objs:
            v = o["meta"].get("seq")
            if v is not None and parse("integer", v)[0] == "invalid":
                todo.append((o["id"], ["seq=" + (random_value(rnd, "integer") if rnd.random() < 0.7 else "")]))
    fixed = {oid for oid, _ in todo}
    for o in rnd.sample([o for o in objs if o["id"] not in fixed], count):
        changes = []
        for name, t in rnd.sample(FIELDS if phase == "more" else FIELDS[:4] + FIELDS[5:], rnd.randint(1, 3)):
            changes.append("%s=%s" % (name, "" if rnd.random() < 0.15 else random_value(rnd, t)))
        todo.append((o["id"], changes))
    for i, (oid, changes) in enumerate(todo):
        r = kura(binary, "meta", "set", store, oid, *changes, "--reason", "oracle %s" % phase, "--no-seal")
        if r.returncode == 2 and b"nothing to change" in r.stderr:
            continue
        if r.returncode != 0:
            sys.exit("kura meta set %s %s failed (%d): %s" % (oid, changes, r.returncode, r.stderr.decode()))
        if rnd.random() < 0.3:
            new = r.stdout.decode().split()[0]
            name, t = rnd.choice(FIELDS if phase == "more" else FIELDS[:4])
            r = kura(binary, "meta", "set", store, new, "%s=%s" % (name, random_value(rnd, t)), "--reason", "again",
                     "--no-seal")
            if r.returncode not in (0, 2):
                sys.exit("kura meta set %s failed (%d): %s" % (new, r.returncode, r.stderr.decode()))
    print("%d metadata changes" % len(todo))


# ---------------------------------------------------------------- queries


class Store:
    """The dump, read once: each field's Column; which objects are current, which superseded."""

    def __init__(self, path):
        self.objs = json.load(open(path, encoding="utf-8"))
        self.by_id = {o["id"]: o for o in self.objs}
        superseded = {o["supersedes"] for o in self.objs if "supersedes" in o}
        self.current = [i for i, o in enumerate(self.objs) if o["id"] not in superseded]
        self.old = [i for i, o in enumerate(self.objs) if o["id"] in superseded]
        self.every = list(range(len(self.objs)))
        self.col = {name: Column(t, [o.get("meta", {}).get(name) for o in self.objs]) for name, t in FIELDS}

    def select(self, conds, hits):
        for name, op, text in conds:
            t = TYPE[name]
            hits = select(t, op, None if op == "is empty" else query_value(t, op, text), self.col[name], hits)
        return hits

    def answer(self, conds, all_versions, sort):
        """The IDs a query must give, in its order: a plain scan."""
        hits = self.select(conds, self.every if all_versions else self.current)
        ids = [self.objs[i]["id"] for i in hits]
        if not sort:
            return sorted(ids)
        key = self.col[sort].key
        valued = sorted((key[i], self.objs[i]["id"]) for i in hits if key[i] is not None)
        rest = sorted(self.objs[i]["id"] for i in hits if key[i] is None)
        return [i for _, i in valued] + rest


OPS = {"date": ["=", "!=", "<", "<=", ">", ">=", "is empty"], "text": ["=", "!=", "<", "<=", ">", ">=", "^=", "is empty"]}
OPS["datetime"] = OPS["amount"] = OPS["integer"] = OPS["date"]
OPS["keyword"] = OPS["text"]
PAIRS = [(t, op) for t, ops in sorted(OPS.items()) for op in ops]


def random_cond(rnd, st, fields, pool, force=None):
    """A random condition; force (a type and an operator) fixes its operator and a field of that type."""
    name, t = rnd.choice([f for f in fields if f[1] == force[0]] if force else fields)
    op = force[1] if force else rnd.choice(OPS[t])
    if op == "is empty":
        return (name, op, None)
    raw = None
    if rnd.random() < 0.7:  # a value some object of pool has, maybe spelt otherwise
        i = rnd.choice(pool)
        raw = st.objs[i].get("meta", {}).get(name)
        if st.col[name].key[i] is None:
            raw = None
    if raw is None:
        raw = random_value(rnd, t)
    else:
        raw = respell(rnd, t, raw)
    if op == "^=":
        if t == "text":
            raw = raw[:rnd.randint(1, max(1, len(raw) - 1))]
        else:
            raw = raw[:rnd.randint(1, len(raw))]
        if not raw.strip(" \t\u3000"):
            raw = raw + "x"
    return (name, op, raw)


def one_cond(op):
    """A query of one condition with operator op, on a field that has it."""
    def make(rnd, st, pool):
        while True:
            c = random_cond(rnd, st, FIELDS, pool)
            if c[1] == op:
                return [c]
    return make


# The first queries of a run: large answers, each walking a whole range of the index (a !=
# alone, an is empty, an amount range to the end of its currency), and none (--sort alone)
BROAD = [lambda rnd, st, pool: [], one_cond("!="), one_cond("is empty"),
         lambda rnd, st, pool: [("取引金額", rnd.choice(["<", ">="]), random_value(rnd, "amount"))]]


def spell_cond(rnd, name, op, value):
    if op == "is empty":
        return name + rnd.choice([" is empty", " IS EMPTY", "  is empty"])
    sp = rnd.choice(["", "", " "])
    return name + sp + op + sp + value


def describe(conds, flags):
    return " ".join("--where '%s'" % c for c in conds) + (" " + " ".join(flags) if flags else "")


def cmd_queries(binary, store, dump, seed, count, broad):
    rnd = random.Random(seed)
    st = Store(dump)
    fields = FIELDS
    sample = rnd.sample(range(len(st.objs)), min(3000, len(st.objs)))
    n_broad = total_hits = 0
    t_kura = t_oracle = 0.0
    ops_seen = {}
    for qn in range(count):
        all_versions = rnd.random() < 0.25
        # values from old versions half of the time with --all-versions: they are few
        pool = st.old if all_versions and st.old and rnd.random() < 0.5 else st.current
        # every type's every operator first, one a query (then at random), so that a run of 200
        # queries never misses one by chance: the rest of the query keeps it small
        force = PAIRS[qn - len(BROAD)] if len(BROAD) <= qn < len(BROAD) + len(PAIRS) else None
        while True:
            conds = [random_cond(rnd, st, fields, pool, force if k == 0 else None)
                     for k in range(rnd.choice([1, 1, 2, 2, 2, 3]) + (1 if force else 0))]
            if qn < len(BROAD):  # the walks small queries never take: whole ranges, and no --where
                conds = BROAD[qn](rnd, st, pool)
                n_broad += 1
                break
            # the answer's size estimated on a sample: most queries must stay small (time), but
            # a sample knows nothing of the few old versions: those are checked in full
            est = len(st.select(conds, sample)) * len(st.objs) / len(sample)
            if est <= 800:
                break
            if n_broad < len(BROAD) + broad and rnd.random() < 0.05:
                n_broad += 1
                break
        sort = rnd.choice(fields)[0] if rnd.random() < 0.3 or not conds else None
        texts = [spell_cond(rnd, *c) for c in conds]
        flags = (["--all-versions"] if all_versions else []) + (["--sort", sort] if sort else [])
        t0 = time.time()
        r = kura(binary, "ls", store, *sum([["--where", c] for c in texts], []), *flags, "--json")
        t1 = time.time()
        what = describe(texts, flags)
        if r.returncode != 0:
            sys.exit("query %d: kura ls %s exited %d: %s" % (qn, what, r.returncode, r.stderr.decode()))
        got = json.loads(r.stdout)
        want = st.answer(conds, all_versions, sort)
        t_oracle += time.time() - t1
        t_kura += t1 - t0
        got_ids = [o["id"] for o in got]
        if got_ids != want:
            missing = sorted(set(want) - set(got_ids))
            extra = sorted(set(got_ids) - set(want))
            def show(ids):
                return ", ".join("%s %s" % (i, json.dumps({n: st.by_id[i]["meta"].get(n) for n, _, _ in conds}, ensure_ascii=False))
                                 for i in ids[:5]) + (" ..." if len(ids) > 5 else "")
            msg = "query %d: kura ls %s\n  %d hits, the scan finds %d\n  missing: %s\n  extra: %s" % (
                qn, what, len(got_ids), len(want), show(missing), show(extra))
            if not missing and not extra:
                msg += "\n  same objects, another order: kura %s\n  the scan %s" % (got_ids[:8], want[:8])
            sys.exit(msg)
        for o in got:
            if o != st.by_id[o["id"]]:
                sys.exit("query %d: kura ls %s: object %s differs from the dump's:\n  %s\n  %s" % (
                    qn, what, o["id"], json.dumps(o, ensure_ascii=False), json.dumps(st.by_id[o["id"]], ensure_ascii=False)))
        total_hits += len(got_ids)
        for n, op, _ in conds:
            ops_seen[(TYPE[n], op)] = ops_seen.get((TYPE[n], op), 0) + 1
    untried = [(t, op) for t, ops in OPS.items() for op in ops if (t, op) not in ops_seen]
    if count >= 200 and untried:
        sys.exit("the random queries never tried %s: the test is too weak (seed %d)" % (untried, seed))
    print("%d queries agree (%d hits in all, %d broad); kura %.1f s, the scan %.1f s" % (
        count, total_hits, n_broad, t_kura, t_oracle))


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "make":
        cmd_make(a[0], int(a[1]), int(a[2]))
    elif cmd == "versions":
        cmd_versions(a[0], a[1], int(a[2]), int(a[3]), a[4])
    elif cmd == "queries":
        cmd_queries(a[0], a[1], a[2], int(a[3]), int(a[4]), int(a[5]))
    else:
        sys.exit("unknown subcommand " + cmd)


main()
