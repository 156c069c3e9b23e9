#!/usr/bin/env python3
"""Checks the hash-tree renewals of an evidence record by ERS-RULES.md, independent of kura.

  er_check.py hashtree ERS DATA

For every chain k > 0: H' = the hash algorithm of chain k's first ATS (its digestAlgorithm, or
its token's imprint algorithm), h = H'(DATA), ha = H'(DER of the ArchiveTimeStampSequence
holding chains 0..k-1, outer SEQUENCE header included), leaf = H'(h || ha) in this order (not
sorted). The leaf must be in the first list of that ATS's reduced hash tree, or be the token's
hashedMessage when the ATS has no tree. Prints one line per chain checked; exit 1 on a mismatch
or when the record has a single chain.
"""
import hashlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import ers_tool  # noqa: E402

NAMES = {"sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}


def main(argv):
    if len(argv) != 4 or argv[1] != "hashtree":
        sys.exit(__doc__)
    buf = open(argv[2], "rb").read()
    data = open(argv[3], "rb").read()
    rec = ers_tool.info(buf)
    er = ers_tool.parse(buf, 0, len(buf))
    seq = er.kids[rec["seq_path"][0]]
    if len(seq.kids) < 2:
        print("the record has %d chain(s): no hash-tree renewal to check" % len(seq.kids))
        return 1
    bad = 0
    for k in range(1, len(seq.kids)):
        first = rec["chains"][k][0]
        name = NAMES.get(first.get("hash"))
        if not name:
            print("chain %d: unknown hash algorithm %s" % (k + 1, first.get("hash")))
            bad = 1
            continue
        inner = b"".join(buf[c.start:c.end] for c in seq.kids[:k])
        earlier = b"\x30" + ers_tool.enc_len(len(inner)) + inner
        h = hashlib.new(name, data).digest()
        ha = hashlib.new(name, earlier).digest()
        leaf = hashlib.new(name, h + ha).hexdigest()
        if first["rht"]:
            ok = leaf in [v["hex"] for v in first["rht"][0]]
            where = "the first list of its reduced tree"
        else:
            ok = leaf == first.get("hashedMessage", {}).get("hex")
            where = "its token's hashedMessage"
        print("chain %d (%s): H'(h || ha) %s %s" % (k + 1, name, "is in" if ok else "is NOT in", where))
        bad |= not ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
