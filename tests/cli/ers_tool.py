#!/usr/bin/env python3
"""Small RFC 4998 EvidenceRecord inspector/mutator for tests/cli/test_vectors.sh.

Independent of kura (a minimal DER/BER reader written for the tests), so the tests can find
the places to damage and know the shape of a record without trusting the code under test.

  ers_tool.py info ER
      JSON: version, digestAlgorithms, shape (ATSs per chain), and per ATS: its node path,
      the offsets in the file of its digestAlgorithm OID, every reduced-tree value, the token,
      the token's messageImprint OID and hashedMessage
  ers_tool.py patch IN OUT OFF HEX     copy with the bytes at OFF replaced by HEX
  ers_tool.py flip IN OUT OFF          copy with the byte at OFF xor 0x01
  ers_tool.py edit IN OUT OP PATH [HEX|@FILE]
      structural edit with every enclosing length re-encoded (DER lengths), nothing else
      changed. PATH = child indices from the outer SEQUENCE, comma-separated (e.g. 4,0,1,3).
      OP: replace (the TLV at PATH by HEX/@FILE), delete (the TLV at PATH),
          insert (HEX/@FILE as a new TLV before the child at PATH; index = count appends)
  ers_tool.py garbage OUT N SEED       N pseudo-random bytes (deterministic)
  ers_tool.py sigalg IN OUT HEX        copy with the signatureAlgorithm of the first token's
      SignerInfo replaced by the AlgorithmIdentifier HEX (lengths re-encoded): the signature
      value does not cover it, so the token still verifies unless the OID is checked
"""
import json
import random
import sys

OIDS = {
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
    "1.3.14.3.2.26": "sha1",
}


class Node:
    __slots__ = ("tag", "constructed", "start", "off", "len", "end", "indef", "kids")


def parse(buf, pos, limit):
    """One TLV at buf[pos:limit] (BER: indefinite lengths allowed); children parsed when constructed."""
    if pos >= limit:
        raise ValueError("truncated at %d" % pos)
    n = Node()
    n.start = pos
    first = buf[pos]
    n.constructed = bool(first & 0x20)
    tag = first
    pos += 1
    if first & 0x1F == 0x1F:
        while True:
            if pos >= limit:
                raise ValueError("truncated tag")
            tag = (tag << 8) | buf[pos]
            pos += 1
            if not buf[pos - 1] & 0x80:
                break
    n.tag = tag
    if pos >= limit:
        raise ValueError("truncated length")
    lb = buf[pos]
    pos += 1
    n.indef = lb == 0x80
    length = None
    if lb < 0x80:
        length = lb
    elif lb > 0x80:
        k = lb & 0x7F
        if pos + k > limit:
            raise ValueError("truncated long length")
        length = int.from_bytes(buf[pos:pos + k], "big")
        pos += k
    n.off = pos
    n.kids = []
    if n.indef:
        if not n.constructed:
            raise ValueError("indefinite primitive")
        p = pos
        while True:
            if p + 2 > limit:
                raise ValueError("no end-of-contents")
            if buf[p] == 0 and buf[p + 1] == 0:
                n.len = p - pos
                n.end = p + 2
                break
            k = parse(buf, p, limit)
            n.kids.append(k)
            p = k.end
    else:
        if pos + length > limit:
            raise ValueError("length %d overruns at %d" % (length, n.start))
        n.len = length
        n.end = pos + length
        if n.constructed:
            p = pos
            while p < n.end:
                k = parse(buf, p, n.end)
                n.kids.append(k)
                p = k.end
    return n


def oid_str(buf, n):
    b = buf[n.off:n.off + n.len]
    top = min(b[0] // 40, 2)
    parts = [top, b[0] - 40 * top]
    v = 0
    for x in b[1:]:
        v = (v << 7) | (x & 0x7F)
        if not x & 0x80:
            parts.append(v)
            v = 0
    return ".".join(map(str, parts))


def span(n):
    return {"off": n.off, "len": n.len}


def token_info(buf, tok):
    """messageImprint of a ContentInfo(SignedData(TSTInfo)) token; {} if not found."""
    try:
        sd = tok.kids[1].kids[0]  # [0] EXPLICIT SignedData
        eci = [k for k in sd.kids if k.tag == 0x30][0]  # encapContentInfo
        octet = eci.kids[1].kids[0]
        if octet.constructed:
            octet = octet.kids[0]
        tst = parse(buf, octet.off, octet.off + octet.len)
        mi = tst.kids[2]
        alg = mi.kids[0].kids[0]
        hm = mi.kids[1]
        si = sd.kids[-1].kids[0]  # signerInfos SET -> the (first) SignerInfo
        sig = [k for k in si.kids if k.tag == 0x04][-1]
        return {
            "signature": span(sig),
            "imprint_oid": dict(span(alg), oid=oid_str(buf, alg)),
            "hashedMessage": dict(span(hm), hex=buf[hm.off:hm.off + hm.len].hex()),
            "sd_version": buf[sd.kids[0].off],
        }
    except (IndexError, ValueError):
        return {}


def info(buf):
    er = parse(buf, 0, len(buf))
    v = er.kids[0]
    out = {"size": len(buf), "trailing": len(buf) - er.end, "version": int.from_bytes(buf[v.off:v.off + v.len], "big")}
    out["digestAlgorithms"] = [dict(span(a.kids[0]), oid=oid_str(buf, a.kids[0])) for a in er.kids[1].kids]
    seq_i = len(er.kids) - 1
    out["seq_path"] = [seq_i]
    chains = []
    for ci, ch in enumerate(er.kids[seq_i].kids):
        atss = []
        for ai, ats in enumerate(ch.kids):
            a = {"path": [seq_i, ci, ai], "digestAlgorithm": None, "rht": None, "attributes": False, "fields": {}}
            for fi, k in enumerate(ats.kids):
                if k.tag == 0xA0:  # [0] IMPLICIT AlgorithmIdentifier
                    a["fields"]["digestAlgorithm"] = fi
                    a["digestAlgorithm"] = dict(span(k.kids[0]), oid=oid_str(buf, k.kids[0]), params=len(k.kids) > 1)
                    a["hash"] = OIDS.get(a["digestAlgorithm"]["oid"], a["digestAlgorithm"]["oid"])
                elif k.tag == 0xA1:
                    a["fields"]["attributes"] = fi
                    a["attributes"] = True
                elif k.tag == 0xA2:  # [2] IMPLICIT SEQUENCE OF PartialHashtree
                    a["fields"]["reducedHashtree"] = fi
                    a["rht"] = [[dict(span(v), hex=buf[v.off:v.off + v.len].hex()) for v in pht.kids] for pht in k.kids]
                elif k.tag == 0x30:
                    a["fields"]["timeStamp"] = fi
                    a["token"] = {"off": k.start, "len": k.end - k.start}
                    ti = token_info(buf, k)
                    a.update(ti)
                    if ti:
                        a.setdefault("hash", OIDS.get(ti["imprint_oid"]["oid"], ti["imprint_oid"]["oid"]))
            a["shape"] = [len(l) for l in a["rht"]] if a["rht"] is not None else None
            atss.append(a)
        chains.append(atss)
    out["chains"] = chains
    out["shape"] = [len(c) for c in chains]
    return out


def enc_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def edit(buf, node, path, op, new):
    """Bytes of node (a TLV) after applying op at path (relative to node)."""
    i = path[0]
    if len(path) == 1:
        if op == "insert":
            at = node.kids[i].start if i < len(node.kids) else node.off + node.len
            inner = buf[node.off:at] + new + buf[at:node.off + node.len]
        else:
            kid = node.kids[i]
            inner = buf[node.off:kid.start] + (new if op == "replace" else b"") + buf[kid.end:node.off + node.len]
    else:
        kid = node.kids[i]
        inner = buf[node.off:kid.start] + edit(buf, kid, path[1:], op, new) + buf[kid.end:node.off + node.len]
    return buf[node.start:node.start + 1] + enc_len(len(inner)) + inner  # single-byte tags only here


def sigalg_path(buf, er):
    """Path (from the record) of the signatureAlgorithm in the first token's SignerInfo."""
    a = info(buf)["chains"][0][0]
    ats = er
    for i in a["path"]:
        ats = ats.kids[i]
    tok_i = a["fields"]["timeStamp"]
    sd = ats.kids[tok_i].kids[1].kids[0]
    si = sd.kids[-1].kids[0]
    sig_i = [i for i, k in enumerate(si.kids) if k.tag == 0x04][-1]
    return a["path"] + [tok_i, 1, 0, len(sd.kids) - 1, 0, sig_i - 1]


def arg_bytes(s):
    if s.startswith("@"):
        return open(s[1:], "rb").read()
    return bytes.fromhex(s)


def main(argv):
    cmd = argv[1]
    if cmd == "info":
        buf = open(argv[2], "rb").read()
        json.dump(info(buf), sys.stdout, indent=1)
        print()
    elif cmd in ("patch", "flip"):
        buf = bytearray(open(argv[2], "rb").read())
        off = int(argv[4])
        if cmd == "flip":
            buf[off] ^= 0x01
        else:
            new = bytes.fromhex(argv[5])
            buf[off:off + len(new)] = new
        open(argv[3], "wb").write(bytes(buf))
    elif cmd == "edit":
        buf = open(argv[2], "rb").read()
        op = argv[4]
        path = [int(x) for x in argv[5].split(",")]
        new = arg_bytes(argv[6]) if op != "delete" else b""
        er = parse(buf, 0, len(buf))
        open(argv[3], "wb").write(edit(buf, er, path, op, new) + buf[er.end:])
    elif cmd == "sigalg":
        buf = open(argv[2], "rb").read()
        er = parse(buf, 0, len(buf))
        open(argv[3], "wb").write(edit(buf, er, sigalg_path(buf, er), "replace", bytes.fromhex(argv[4])) + buf[er.end:])
    elif cmd == "garbage":
        open(argv[2], "wb").write(random.Random(int(argv[4])).randbytes(int(argv[3])))
    else:
        sys.exit("ers_tool.py: unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
