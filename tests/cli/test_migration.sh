#!/usr/bin/env bash
# Migration without loss: kura export -> kura import into another store keeps each
# object's ID, ingest time, actor, metadata and its history (meta set versions), the
# versions (supersedes chains) and the audit records about them, and the evidence
# verifies there; the import is itself an audit record. Claims the store cannot take
# are handled as docs/FORMAT.md says: an ID taken by another object gets a new ID (and
# so do the later versions of its record, links kept), a version claiming to follow a
# record of the target store is not joined to it, an ID or ingest time from the future
# is not kept; the same object imported twice is there once.
source "$(dirname "$0")/lib.sh"

A=$T/a
B=$T/b
printf 'invoice 1, first draft\n' >"$T/invoice.txt"
printf 'contract\n' >"$T/contract.txt"
expect_status 0 at 2026-04-01T09:00:00Z init "$A"
expect_status 0 at 2026-04-01T09:00:00Z ingest "$A" --meta client=ACME --actor 山田 --class jp-tax-books \
	--event fiscal-year-end=2026-03-31 "$T/invoice.txt"
inv=$(cut -f1 "$OUT")
expect_status 0 at 2026-04-02T10:00:00Z ingest "$A" --meta client=Globex "$T/contract.txt"
con=$(cut -f1 "$OUT")
expect_status 0 at 2026-05-10T09:30:00Z meta set "$A" "$inv" client=ACME-Japan --reason "取引先の訂正" --actor 佐藤
printf 'invoice 1, corrected\n' >"$T/invoice.txt"
expect_status 0 at 2026-06-01T08:00:00Z ingest "$A" --supersedes "$inv" --reason "amount corrected" --actor 山田 \
	"$T/invoice.txt"
expect_status 0 at 2026-06-15T00:00:00Z hold add "$A" audit-2026 --reason "tax audit" --actor counsel "$inv"
expect_status 0 at 2026-06-16T00:00:00Z seal "$A" --audit-trail
expect_status 0 at 2026-07-01T00:00:00Z export "$A" -o "$T/pkg.tar"
kura tsa ca "$A" >"$T/a-root.pem"

# The versions as history gives them, with the fields a migration keeps; and the
# audit records log --object gives (the export's own left out: it is not in a package).
versions() {
	py 'import json, sys
h = json.load(open(sys.argv[1]))
keep = ("id", "name", "size", "sha256", "ingested", "actor", "meta", "record", "supersedes", "superseded_by",
        "reason", "class", "events")
out = []
for v in h["versions"]:
    v = {k: v[k] for k in keep if k in v}
    v["meta"] = {k: x for k, x in v["meta"].items() if k != "import.id"}
    out.append(v)
json.dump({"record": h["record"], "current": h["current"], "versions": out}, open(sys.argv[2], "w"), sort_keys=True, indent=1)' "$1" "$2"
}

case_round_trip() {
	expect_status 0 at 2027-01-01T00:00:00Z init "$B"
	expect_status 0 at 2027-01-01T00:00:00Z trust add "$B" --tsa "$T/a-root.pem"
	expect_status 0 at 2027-01-01T00:00:00Z import "$B" "$T/pkg.tar"
	[ "$(grep -c '^OK' "$OUT")" -eq 4 ] || fail "four objects must be imported: $(cat "$OUT")"
	if grep -q "imported as" "$ERR"; then fail "a claim was not kept: $(cat "$ERR")"; fi
	expect_status 0 kura ls "$A" --all-versions --json
	py 'import json, sys
print("\n".join(sorted(o["id"] for o in json.load(open(sys.argv[1])))))' "$OUT" >"$T/a-ids"
	expect_status 0 kura ls "$B" --all-versions --json
	py 'import json, sys
print("\n".join(sorted(o["id"] for o in json.load(open(sys.argv[1])))))' "$OUT" >"$T/b-ids"
	diff "$T/a-ids" "$T/b-ids" || fail "the IDs differ after the import"
	for pass in imported reindexed; do
		for id in "$con" "$inv"; do
			expect_status 0 kura history "$A" "$id" --json
			versions "$OUT" "$T/a.json"
			expect_status 0 kura log "$A" --object "$id" --json
			py 'import json, sys
json.dump([r for r in json.load(open(sys.argv[1])) if r["action"] != "export"], open(sys.argv[2], "w"), indent=1)' \
				"$OUT" "$T/a-trail.json"
			expect_status 0 kura history "$B" "$id" --json
			versions "$OUT" "$T/b.json"
			py 'import json, sys
json.dump(json.load(open(sys.argv[1]))["imported_trail"], open(sys.argv[2], "w"), indent=1)' "$OUT" "$T/b-trail.json"
			diff "$T/a.json" "$T/b.json" || fail "$pass: versions of $id differ (IDs, times, metadata, links)"
			diff "$T/a-trail.json" "$T/b-trail.json" || fail "$pass: the audit records about $id differ"
		done
		py 'import json, sys
t = json.load(open(sys.argv[1]))
assert [r["action"] for r in t] == ["ingest", "meta", "ingest", "hold"], t
assert t[1]["old"] == {"client": "ACME"} and t[1]["new"] == {"client": "ACME-Japan"} and t[1]["actor"] == "佐藤", t' \
			"$T/b-trail.json"
		# the evidence verifies in the new store, against the original bytes
		expect_status 0 kura verify "$B" --json
		py 'import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(r) == 4 and all(x["verdict"] == "valid" for x in r), r' "$OUT"
		rm -rf "$B/index"
		expect_status 0 kura reindex "$B"
	done
	# the import is an audit record of the new store; its times are claims, the first time-stamp the proof
	expect_status 0 kura log "$B" --json
	py 'import json, sys
r = json.load(open(sys.argv[1]))
imp = [x for x in r if x["action"] == "import"]
assert len(imp) == 1 and len(imp[0]["objects"]) == 4 and imp[0]["time"] == "2027-01-01T00:00:00Z", r
assert any(x["action"] == "imported-trail" and x["proven"] == len(x["imported_trail"]) for x in r), r' "$OUT"
	expect_status 0 kura show "$B" "$inv" --json
	py 'import json, sys
o = json.load(open(sys.argv[1]))
i = o["imported"]
assert o["ingested"] == "2026-04-01T09:00:00Z" and o["actor"] == "山田", o
assert i["package"] == "pkg.tar" and i["at"] == "2027-01-01T00:00:00Z" and i["id"] == o["id"], i
assert i["proven"] == o["time_stamps"][0]["gentime"], o' "$OUT"
	expect_status 0 kura show "$B" "$inv"
	expect_grep "$OUT" "as the package claims them; the first time-stamp proves the document existed at 2026-04-01T09:00:00"
	expect_status 0 kura history "$B" "$inv"
	expect_grep "$OUT" $'2026-04-01T09:00:00Z\t山田\tcreated (imported: as the package claims)'
	expect_grep "$OUT" $'counsel\thold (imported)'
	# the same package again: nothing is imported twice, nothing written
	before=$(seg_digest "$B")
	expect_status 0 at 2027-01-02T00:00:00Z import "$B" "$T/pkg.tar"
	expect_grep "$ERR" "imported 0 object(s), refused 0, 4 in the store already"
	[ "$(seg_digest "$B")" = "$before" ] || fail "importing the same objects again wrote to the store"
}

# pkg_edit DIR PYTHON: edits the unpacked package in DIR (ids: the object folders'
# object.json by ID, saved after the code ran) and redoes its manifests.
pkg_edit() {
	py 'import json, os, sys
root = sys.argv[1]
ids = {}
for d in os.listdir(os.path.join(root, "data")):
    p = os.path.join(root, "data", d, "object.json")
    if d != "audit" and os.path.exists(p):
        ids[d] = json.load(open(p))
def rename(old, new):
    os.rename(os.path.join(root, "data", old), os.path.join(root, "data", new))
    ids[new] = ids.pop(old)
    ids[new]["id"] = new
    for o in ids.values():
        if o.get("supersedes") == old:
            o["supersedes"] = new
exec(sys.argv[2])
for d, o in ids.items():
    json.dump(o, open(os.path.join(root, "data", d, "object.json"), "w"))' "$@"
	remanifest "$1"
}

unpack() {
	rm -rf "$T/x" && mkdir "$T/x" && tar -xf "$T/pkg.tar" -C "$T/x"
	echo "$T/x/pkg"
}

case_collision() {
	local C=$T/c
	expect_status 0 at 2026-03-01T00:00:00Z init "$C"
	expect_status 0 at 2026-03-01T00:00:00Z trust add "$C" --tsa "$T/a-root.pem"
	printf 'the store own document\n' >"$T/own.txt"
	expect_status 0 at 2026-03-15T00:00:00Z ingest "$C" "$T/own.txt"
	own=$(cut -f1 "$OUT")
	# a package whose invoice record's first version has the ID of C's own document (made
	# before it, as IDs are: the package's objects come in ID order)
	pkg=$(unpack)
	pkg_edit "$pkg" "rename(sys.argv[3], sys.argv[4])" "$inv" "$own"
	before=$(seg_digest "$C")
	expect_status 0 at 2027-01-01T00:00:00Z import "$C" "$pkg"
	expect_grep "$ERR" "its ID $own is taken by another object of this store: imported under a new ID"
	expect_grep "$ERR" "got a new ID: so does it, to keep their order"
	new=$(grep "	$(pkg_doc "$pkg" "$own")$" "$OUT" | cut -f2)
	[ -n "$new" ] && [ "$new" != "$own" ] || fail "the colliding object must get a new ID: $(cat "$OUT")"
	# the store's own object is untouched; the imported record keeps its versions, linked anew
	expect_status 0 kura show "$C" "$own" --json
	py 'import json, sys
o = json.load(open(sys.argv[1]))
assert o["name"] == "own.txt" and "imported" not in o, o' "$OUT"
	expect_status 0 kura history "$C" "$new" --json
	py 'import json, sys
h = json.load(open(sys.argv[1]))
v = h["versions"]
assert len(v) == 3 and v[0]["id"] == sys.argv[2] and v[0]["imported"]["id"] == sys.argv[3], v
assert [x["ingested"] for x in v] == ["2026-04-01T09:00:00Z", "2026-05-10T09:30:00Z", "2026-06-01T08:00:00Z"], v
assert v[1]["supersedes"] == v[0]["id"] and v[2]["supersedes"] == v[1]["id"] and h["current"] == v[2]["id"], v
assert all(x["id"] > sys.argv[3] for x in v[1:]), "later versions must get new IDs too, after the first"
# the trail names the versions by their IDs in the package (the first one renamed there: not it)
assert [r["action"] for r in h["imported_trail"]] == ["meta", "ingest"], h' "$OUT" "$new" "$own"
	expect_status 0 kura show "$C" "$new"
	expect_grep "$OUT" "imported  claimed id not kept: $own"
	expect_status 0 kura verify "$C"
}

case_hostile() {
	local H=$T/h
	expect_status 0 at 2026-12-01T00:00:00Z init "$H"
	expect_status 0 at 2026-12-01T00:00:00Z trust add "$H" --tsa "$T/a-root.pem"
	printf 'a record of this store\n' >"$T/mine.txt"
	expect_status 0 at 2026-12-01T00:00:00Z ingest "$H" "$T/mine.txt"
	mine=$(cut -f1 "$OUT")
	# the contract claims to be a new version of H's record, to be ingested after its first
	# time-stamp, and the first invoice to have an ID from the year 10889
	pkg=$(unpack)
	pkg_edit "$pkg" 'ids[sys.argv[4]]["supersedes"] = sys.argv[5]
ids[sys.argv[4]]["ingested"] = "2026-12-31T00:00:00Z"
rename(sys.argv[3], "7ZZZZZZZZZZZZZZZZZZZZZZZZZ")' "$inv" "$con" "$mine"
	expect_status 0 at 2027-01-01T00:00:00Z import "$H" "$pkg"
	expect_grep "$ERR" "it claims to follow $mine, which this import did not bring before it"
	expect_grep "$ERR" "its ingest time 2026-12-31T00:00:00Z is later than its first time-stamp or now"
	expect_grep "$ERR" "its ID 7ZZZZZZZZZZZZZZZZZZZZZZZZZ is from the future: imported under a new ID"
	# H's record has no new version; the contract is a record of its own, its claims kept aside
	expect_status 0 kura history "$H" "$mine" --json
	py 'import json, sys
h = json.load(open(sys.argv[1]))
assert len(h["versions"]) == 1 and h["current"] == sys.argv[2] and h["imported_trail"] == [], h' "$OUT" "$mine"
	expect_status 0 kura show "$H" "$con" --json
	py 'import json, sys
o = json.load(open(sys.argv[1]))
assert "supersedes" not in o and "record" not in o, o
assert o["imported"]["supersedes"] == sys.argv[2] and o["imported"]["ingested"] == "2026-12-31T00:00:00Z", o
assert o["ingested"] == "2027-01-01T00:00:00Z", o' "$OUT" "$mine"
	expect_status 0 kura show "$H" "$con"
	expect_grep "$OUT" "imported  claimed supersedes not kept: $mine"
	# new IDs still come in time order after the import
	printf 'later\n' >"$T/later.txt"
	expect_status 0 at 2027-01-02T00:00:00Z ingest "$H" "$T/later.txt"
	case $(cut -c1-3 "$OUT") in 01M | 01N) ;; *) fail "an ingest after the import got the ID $(cut -f1 "$OUT")" ;; esac
	expect_status 0 kura verify "$H"
	expect_status 0 kura log "$H" --verify
}

# One record asked for by its current version: --all-versions carries its history along;
# without it the current version alone comes, as a record of its own (said).
case_one_record() {
	local D=$T/d cur
	expect_status 0 kura history "$A" "$inv" --json
	cur=$(py 'import json, sys; print(json.load(open(sys.argv[1]))["current"])' "$OUT")
	expect_status 0 at 2026-07-01T00:00:00Z export "$A" -o "$T/all.tar" --all-versions "$cur"
	expect_status 0 at 2026-07-01T00:00:00Z export "$A" -o "$T/cur.tar" "$cur"
	expect_status 0 at 2027-01-01T00:00:00Z init "$D"
	expect_status 0 at 2027-01-01T00:00:00Z trust add "$D" --tsa "$T/a-root.pem"
	expect_status 0 at 2027-01-01T00:00:00Z import "$D" "$T/cur.tar"
	expect_grep "$ERR" "imported as $cur, but it claims to follow"
	expect_status 0 kura history "$D" "$cur" --json
	py 'import json, sys
h = json.load(open(sys.argv[1]))
assert [v["id"] for v in h["versions"]] == [sys.argv[2]], h' "$OUT" "$cur"
	expect_status 0 at 2027-01-01T00:00:00Z init "$D.2"
	expect_status 0 at 2027-01-01T00:00:00Z trust add "$D.2" --tsa "$T/a-root.pem"
	expect_status 0 at 2027-01-01T00:00:00Z import "$D.2" "$T/all.tar"
	[ "$(grep -c '^OK' "$OUT")" -eq 3 ] || fail "--all-versions must carry the three versions: $(cat "$OUT")"
	expect_status 0 kura history "$A" "$inv" --json
	versions "$OUT" "$T/a1.json"
	expect_status 0 kura history "$D.2" "$cur" --json
	versions "$OUT" "$T/d1.json"
	diff "$T/a1.json" "$T/d1.json" || fail "the record's versions differ after export --all-versions CURRENT"
}

run_case round_trip case_round_trip
run_case one_record case_one_record
run_case collision case_collision
run_case hostile case_hostile
finish_cases
