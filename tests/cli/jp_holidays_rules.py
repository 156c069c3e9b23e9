#!/usr/bin/env python3
"""Recomputes Japan's national holidays 2000-2027 from the rules of 国民の祝日に関する法律 and
compares them, date and name, with policies/jp-holidays.csv (the Cabinet Office's list, shipped).
Used by tests/cli/test_jp_holidays.sh. Prints every difference; exit 1 if any.

    python3 jp_holidays_rules.py policies/jp-holidays.csv [FIRST LAST]
"""
import datetime as dt
import sys

SUBSTITUTE = "休日"  # 3条2項 振替休日 and 3条3項 国民の休日: the list names both so

# The days no rule gives, spelled out: each is a law of its own.
SPECIAL = {
    # 天皇の即位の日及び即位礼正殿の儀の行われる日を休日とする法律 (平成30年法律第99号): treated as 祝日
    dt.date(2019, 5, 1): "休日（祝日扱い）",
    dt.date(2019, 10, 22): "休日（祝日扱い）",
}
# The Olympic moves (平成30年法律第57号 for 2020, 令和2年法律第68号 for 2021): {year: {holiday: date}}
OLYMPIC = {
    2020: {"海の日": (7, 23), "スポーツの日": (7, 24), "山の日": (8, 10)},
    2021: {"海の日": (7, 22), "スポーツの日": (7, 23), "山の日": (8, 8)},
}


def nth_monday(y, m, n):
    first = dt.date(y, m, 1)
    return first + dt.timedelta(days=(7 - first.weekday()) % 7 + 7 * (n - 1))


def equinox(y, base):
    """The equinox day, 1980-2099 (the formula from 国立天文台's tables; 官報 announces it)."""
    return int(base + 0.242194 * (y - 1980) - (y - 1980) // 4)


def holidays_by_name(y):
    """The 国民の祝日 of year y (2条), before substitutes and 国民の休日."""
    h = {"元日": (1, 1), "建国記念の日": (2, 11), "憲法記念日": (5, 3), "こどもの日": (5, 5),
         "文化の日": (11, 3), "勤労感謝の日": (11, 23)}
    h["成人の日"] = nth_monday(y, 1, 2)  # Happy Monday from 2000
    h["春分の日"] = (3, equinox(y, 20.8431))
    h["秋分の日"] = (9, equinox(y, 23.2488))
    if y <= 2006:
        h["みどりの日"] = (4, 29)
    else:
        h["昭和の日"] = (4, 29)
        h["みどりの日"] = (5, 4)
    h["海の日"] = (7, 20) if y <= 2002 else nth_monday(y, 7, 3)
    h["敬老の日"] = (9, 15) if y <= 2002 else nth_monday(y, 9, 3)
    # 体育の日, renamed スポーツの日 from 2020 (the list names 2019's with both)
    sports = "体育の日" if y <= 2018 else "体育の日（スポーツの日）" if y == 2019 else "スポーツの日"
    h[sports] = nth_monday(y, 10, 2)
    if y >= 2016:
        h["山の日"] = (8, 11)
    if y <= 2018:
        h["天皇誕生日"] = (12, 23)
    elif y >= 2020:
        h["天皇誕生日"] = (2, 23)
    for name, md in OLYMPIC.get(y, {}).items():
        h[name] = md
    out = {}
    for name, d in h.items():
        out[d if isinstance(d, dt.date) else dt.date(y, *d)] = name
    for d, name in SPECIAL.items():
        if d.year == y:
            out[d] = name
    return out


def holidays(y):
    shuku = holidays_by_name(y)
    out = dict(shuku)
    # 3条3項 国民の休日: a day that is no holiday, between two 祝日 (before 2007: not on a Sunday,
    # nor a day that is a substitute)
    for d in list(shuku):
        mid, after = d + dt.timedelta(days=1), d + dt.timedelta(days=2)
        if mid not in shuku and after in shuku and (y >= 2007 or mid.weekday() != 6):
            out[mid] = SUBSTITUTE
    # 3条2項 振替休日: a 祝日 on a Sunday; until 2006 the Monday after (if no 祝日), from 2007 the
    # nearest day after that is no 祝日
    for d in sorted(shuku):
        if d.weekday() != 6:
            continue
        nxt = d + dt.timedelta(days=1)
        if y >= 2007:
            while nxt in shuku:
                nxt += dt.timedelta(days=1)
        if nxt not in shuku:
            out[nxt] = SUBSTITUTE
    return {d: n for d, n in out.items() if d.year == y}


def main():
    path = sys.argv[1]
    first, last = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (2000, 2027)
    shipped = {}
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or line.startswith("date,"):
            continue
        d, name = line.rstrip("\n").split(",", 1)
        shipped[dt.date.fromisoformat(d)] = name
    years = {d.year for d in shipped}
    if years != set(range(first, last + 1)):
        print("the file covers %s, not %d-%d" % (sorted(years), first, last))
        return 1
    want = {}
    for y in range(first, last + 1):
        want.update(holidays(y))
    bad = 0
    for d in sorted(set(want) | set(shipped)):
        if want.get(d) != shipped.get(d):
            print("%s: the rules give %s, the file has %s" % (d, want.get(d), shipped.get(d)))
            bad += 1
    print("%d days compared, %d differences" % (len(want), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
