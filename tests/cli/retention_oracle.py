"""The test oracle of test_retention.sh: which records a disposal plan must list, worked out
from the retention rules (policies/retention.yaml and the store's retention.yaml, read with
PyYAML) with the Civil Code's counting written out anew, not kura's code.

State (a JSON file) is what the test did: records with class, ingest day and events, holds,
disposals. Subcommands:
  add STATE ID CLASS INGEST-DAY [NAME=DATE...]    event STATE NAME DATE ID...
  hold STATE NAME ID...    release STATE NAME      dispose STATE ID...
  plan STATE NOW SHIPPED.yaml [STORE.yaml]  -> the IDs the plan must list, one a line
  end STATE ID SHIPPED.yaml [STORE.yaml]    -> the record's last day kept, or "kept"
"""
import calendar
import datetime as dt
import json
import os
import sys

import yaml


def after(day, years=0, months=0):
    """The last day of a period of years and months after day: it runs from the next day and
    ends the day before the corresponding day; with none (the 29th to 31st), on the last day
    of that month (Civil Code arts. 140, 143)."""
    if not years and not months:
        return day
    first = day + dt.timedelta(days=1)
    k = first.month - 1 + months + 12 * years
    y, m = first.year + k // 12, k % 12 + 1
    last = calendar.monthrange(y, m)[1]
    if first.day > last:
        return dt.date(y, m, last)
    return dt.date(y, m, first.day) - dt.timedelta(days=1)


def rule_end(rule, events):
    if rule["from"] not in events:
        return None
    start = events[rule["from"]]
    return after(after(start, months=rule.get("months", 0)), years=rule.get("years", 0))


def class_end(cls, events):
    ends = []
    for term in cls["keep"]:
        alts = term["any"] if "any" in term else [term]
        known = [e for e in (rule_end(r, events) for r in alts) if e is not None]
        if not known:
            return None
        ends.append(max(known))
    return max(ends)


def classes(paths):
    out = {}
    for p in paths:
        if os.path.exists(p):
            out.update(yaml.safe_load(open(p, encoding="utf-8"))["classes"])
    return out


def record_end(rec, cls):
    if cls is None:
        return None
    events = {k: dt.date.fromisoformat(v) for k, v in rec["events"].items()}
    events["ingest"] = dt.date.fromisoformat(rec["ingest"])
    return class_end(cls, events)


def main():
    cmd, path, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    st = json.load(open(path)) if os.path.exists(path) else {"records": {}, "holds": {}, "disposed": []}
    recs = st["records"]
    if cmd == "add":
        recs[args[0]] = {"class": args[1], "ingest": args[2], "events": dict(a.split("=", 1) for a in args[3:])}
    elif cmd == "event":
        for rid in args[2:]:
            recs[rid]["events"][args[0]] = args[1]
    elif cmd == "hold":
        st["holds"][args[0]] = args[1:]
    elif cmd == "release":
        del st["holds"][args[0]]
    elif cmd == "dispose":
        st["disposed"] += args
    elif cmd == "plan":
        today = dt.datetime.strptime(args[0], "%Y-%m-%dT%H:%M:%SZ").date()
        cl = classes(args[1:])
        held = {r for ids in st["holds"].values() for r in ids}
        for rid in sorted(recs):
            end = record_end(recs[rid], cl.get(recs[rid]["class"]))
            if end is not None and today > end and rid not in held and rid not in st["disposed"]:
                print(rid)
    elif cmd == "end":
        end = record_end(recs[args[0]], classes(args[1:]).get(recs[args[0]]["class"]))
        print(end.isoformat() if end else "kept")
    json.dump(st, open(path, "w"))


main()
