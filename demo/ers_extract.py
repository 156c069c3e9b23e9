#!/usr/bin/env python3
"""Check an RFC 4998 evidence record's first hash tree without kura.

usage: ers_extract.py RECORD.ers DATAFILE OUTDIR

Recomputes, with nothing but Python's hashlib, the root that the first archive
time-stamp must cover: H(data), then each list of the reduced hash tree in turn
(RFC 4998 section 4.3: add the previous result; a one-value list passes through,
longer lists are sorted, concatenated and hashed). Writes every time-stamp token
as OUTDIR/token-C-A.der (chain C, time-stamp A) and prints the root in hex, so
that `openssl ts -verify -token_in -in OUTDIR/token-1-1.der -digest ROOT
-CAfile TSA-ROOT.pem` checks the token over exactly that root.
"""
import hashlib
import os
import sys

OIDS = {  # DER contents of the hash algorithm OIDs
    "608648016503040201": "sha256", "608648016503040202": "sha384",
    "608648016503040203": "sha512", "608648016503040208": "sha3_256",
    "608648016503040209": "sha3_384", "60864801650304020a": "sha3_512",
}


def tlv(buf, pos):
    """(tag, start of contents, end of element) of the DER element at pos."""
    tag = buf[pos]
    length = buf[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(buf[pos:pos + n], "big")
        pos += n
    return tag, pos, pos + length


def children(buf, start, end):
    out = []
    while start < end:
        tag, cstart, cend = tlv(buf, start)
        out.append((tag, start, cstart, cend))
        start = cend
    return out


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    record = open(sys.argv[1], "rb").read()
    data = open(sys.argv[2], "rb").read()
    outdir = sys.argv[3]
    os.makedirs(outdir, exist_ok=True)
    _, s, e = tlv(record, 0)
    fields = children(record, s, e)  # version, digestAlgorithms, [cryptoInfos], [encryptionInfo], sequence
    sequence = fields[-1]
    root = None
    for c, chain in enumerate(children(record, sequence[2], sequence[3]), 1):
        for a, ats in enumerate(children(record, chain[2], chain[3]), 1):
            parts = children(record, ats[2], ats[3])
            token = parts[-1]
            with open(os.path.join(outdir, "token-%d-%d.der" % (c, a)), "wb") as f:
                f.write(record[token[1]:token[3]])
            if (c, a) != (1, 1):
                continue
            alg = next(p for p in parts if p[0] == 0xA0)  # [0] digestAlgorithm
            oid = children(record, alg[2], alg[3])[0]
            name = OIDS[record[oid[2]:oid[3]].hex()]
            h = hashlib.new(name, data).digest()
            tree = next((p for p in parts if p[0] == 0xA2), None)  # [2] reducedHashtree
            root = h
            if tree:
                lists = children(record, tree[2], tree[3])
                first = [record[v[2]:v[3]] for v in children(record, lists[0][2], lists[0][3])]
                if h not in first:
                    sys.exit("the data's %s hash is not in the first list: the record is not for this data" % name)
                for k, lst in enumerate(lists):
                    values = [record[v[2]:v[3]] for v in children(record, lst[2], lst[3])]
                    if k > 0:
                        values.append(root)
                    root = values[0] if len(values) == 1 else hashlib.new(name, b"".join(sorted(values))).digest()
            print("chain 1 uses %s; H(data) = %s" % (name, h.hex()), file=sys.stderr)
    print(root.hex())


if __name__ == "__main__":
    main()
