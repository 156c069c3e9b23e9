#!/usr/bin/env python3
"""A tiny DER walker for the TSA tests (tests/cli/test_tsa.sh), independent of kura.

Library: tlv(), children(), the RFC 3161 / RFC 4998 pieces the tests need.
Command line:
  der.py token ERS OUT          write the first ATS's timeStamp (token ContentInfo) bytes to OUT
  der.py imprint TOKEN.der      print "ALG-OID HEX" of the token's messageImprint
  der.py root ERS DATA          recompute the root from DATA and the first ATS's reduced tree
                                (RFC 4998 section 4.3 with one-value lists passed through, as in
                                ERS-RULES.md), check it equals the token's imprint, print the hex
  der.py req-imprint REQ.tsq    print "ALG-OID HEX" of a TimeStampReq's messageImprint
  der.py seal ERS DATA [ERS DATA]...
                                `root` for each pair, and all their tokens byte-identical (one
                                seal); writes each token to ERS with .ers replaced by .tst
  der.py find-token TOKEN RESP...  exit 0 if one of the TimeStampResps carries exactly TOKEN's bytes
"""
import hashlib
import sys

HASHES = {
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}


def tlv(buf, pos=0):
    """(tag, content_start, content_end, end) of the element at pos. BER indefinite lengths
    (0x80 ... 00 00) are followed: content_end is then where the end-of-contents octets start."""
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte tags are not used here")
    n = buf[pos + 1]
    p = pos + 2
    if n == 0x80:
        if not tag & 0x20:
            raise ValueError("indefinite length on a primitive element at %d" % pos)
        q = p
        while buf[q:q + 2] != b"\x00\x00":
            q = tlv(buf, q)[3]
            if q >= len(buf):
                raise ValueError("indefinite-length element at %d has no end" % pos)
        return tag, p, q, q + 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4:
            raise ValueError("bad length at %d" % pos)
        n = int.from_bytes(buf[p:p + k], "big")
        p += k
    if p + n > len(buf):
        raise ValueError("element at %d runs past the end" % pos)
    return tag, p, p + n, p + n


def to_indefinite(buf, pos=0, depth=1):
    """The element at pos re-encoded in BER: its constructed elements down to `depth` levels
    with indefinite lengths, everything deeper unchanged."""
    t, s, e, end = tlv(buf, pos)
    if depth <= 0 or not t & 0x20:
        return bytes(buf[pos:end])
    inner = b"".join(to_indefinite(buf, cp, depth - 1) for _, _, _, cp in children(buf, s, e))
    return bytes([t, 0x80]) + inner + b"\x00\x00"


def children(buf, start, end):
    """[(tag, content_start, content_end, element_start)] of the elements in buf[start:end]."""
    out = []
    p = start
    while p < end:
        t, s, e, nxt = tlv(buf, p)
        out.append((t, s, e, p))
        p = nxt
    return out


def element(buf, c):
    """The whole encoding (header included) of a child tuple from children()."""
    return bytes(buf[c[3]:tlv(buf, c[3])[3]])


def oid(b):
    first = b[0]
    parts = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    v = 0
    for x in b[1:]:
        v = (v << 7) | (x & 0x7F)
        if not x & 0x80:
            parts.append(v)
            v = 0
    return ".".join(map(str, parts))


def octets(buf, t, s, e):
    """Contents of an OCTET STRING, primitive (0x04) or constructed (0x24, BER)."""
    if t == 0x04:
        return bytes(buf[s:e])
    if t == 0x24:
        return b"".join(octets(buf, ct, cs, ce) for ct, cs, ce, _ in children(buf, s, e))
    raise ValueError("not an OCTET STRING: tag %#x" % t)


def first_ats(er):
    """(digest algorithm OID or None, [[bytes]] reduced tree lists, token bytes) of chain 1, ATS 1."""
    t, s, e, _ = tlv(er)
    assert t == 0x30, "EvidenceRecord is not a SEQUENCE"
    top = children(er, s, e)
    assert top[0][0] == 0x02 and er[top[0][1]:top[0][2]] == b"\x01", "version is not 1"
    seq = [c for c in top if c[0] == 0x30][-1]  # archiveTimeStampSequence is the last SEQUENCE
    chain = children(er, seq[1], seq[2])[0]
    ats = children(er, chain[1], chain[2])[0]
    alg, lists, token = None, [], None
    for ct, cs, ce, cp in children(er, ats[1], ats[2]):
        if ct == 0xA0:
            alg = oid(er[children(er, cs, ce)[0][1]:children(er, cs, ce)[0][2]])
        elif ct == 0xA2:
            for pt, ps, pe, _ in children(er, cs, ce):
                lists.append([octets(er, ot, os_, oe) for ot, os_, oe, _ in children(er, ps, pe)])
        elif ct == 0x30:
            token = element(er, (ct, cs, ce, cp))
    assert token is not None, "ATS without timeStamp"
    return alg, lists, token


def tstinfo(token):
    """The TSTInfo bytes inside a token ContentInfo (SignedData, eContent)."""
    t, s, e, _ = tlv(token)
    ci = children(token, s, e)
    assert oid(token[ci[0][1]:ci[0][2]]) == "1.2.840.113549.1.7.2", "token is not SignedData"
    sd_t, sd_s, sd_e, _ = tlv(token, ci[1][1])
    sd = children(token, sd_s, sd_e)
    encap = sd[2]
    ec = children(token, encap[1], encap[2])
    assert oid(token[ec[0][1]:ec[0][2]]) == "1.2.840.113549.1.9.16.1.4", "eContentType is not TSTInfo"
    inner = children(token, ec[1][1], ec[1][2])[0]
    return octets(token, inner[0], inner[1], inner[2])


def imprint_of(seq_bytes, index):
    """(alg OID, hash bytes) of the MessageImprint that is element `index` of a SEQUENCE."""
    t, s, e, _ = tlv(seq_bytes)
    mi = children(seq_bytes, s, e)[index]
    alg, h = children(seq_bytes, mi[1], mi[2])
    a = children(seq_bytes, alg[1], alg[2])[0]
    return oid(seq_bytes[a[1]:a[2]]), bytes(seq_bytes[h[1]:h[2]])


def token_imprint(token):
    return imprint_of(tstinfo(token), 2)  # version, policy, messageImprint


def token_nonce(token):
    info = tstinfo(token)
    t, s, e, _ = tlv(info)
    ints = [c for c in children(info, s, e)[3:] if c[0] == 0x02]  # serialNumber, then nonce
    return int.from_bytes(info[ints[1][1]:ints[1][2]], "big") if len(ints) > 1 else None


def req_imprint(req):
    return imprint_of(req, 1)  # version, messageImprint


def reduce_tree(lists, leaf, hname):
    """RFC 4998 section 4.3: pass-through of one-value lists, sort + concatenate + hash otherwise."""
    if not lists:
        return leaf
    if leaf not in lists[0]:
        raise SystemExit("the data's hash is not in the first list of the reduced tree")
    cur = None
    for i, values in enumerate(lists):
        vals = list(values) + ([cur] if i > 0 else [])
        if len(vals) == 1:
            cur = vals[0]
        else:
            cur = hashlib.new(hname, b"".join(sorted(vals))).digest()
    return cur


def checked_root(ers, data):
    """(root, token): the root recomputed from DATA and the record's first ATS, checked
    against the token's imprint."""
    alg, lists, token = first_ats(open(ers, "rb").read())
    ialg, imprint = token_imprint(token)
    if alg is not None and alg != ialg:
        raise SystemExit("%s: ATS digestAlgorithm %s differs from the token's imprint algorithm %s" % (ers, alg, ialg))
    hname = HASHES[ialg]
    leaf = hashlib.new(hname, open(data, "rb").read()).digest()
    if lists and leaf not in lists[0]:
        raise SystemExit("%s: the hash of %s is not in the first list of the reduced tree" % (ers, data))
    root = reduce_tree(lists, leaf, hname)
    if root != imprint:
        raise SystemExit("%s: root recomputed from %s is %s, the token's imprint %s" % (ers, data, root.hex(), imprint.hex()))
    return root, token


def main(argv):
    cmd = argv[1]
    if cmd == "token":
        _, _, token = first_ats(open(argv[2], "rb").read())
        open(argv[3], "wb").write(token)
    elif cmd == "imprint":
        a, h = token_imprint(open(argv[2], "rb").read())
        print(a, h.hex())
    elif cmd == "req-imprint":
        a, h = req_imprint(open(argv[2], "rb").read())
        print(a, h.hex())
    elif cmd == "find-token":
        token = open(argv[2], "rb").read()
        for f in argv[3:]:
            resp = open(f, "rb").read()
            t, s, e, _ = tlv(resp)
            parts = children(resp, s, e)
            if len(parts) > 1 and element(resp, parts[1]) == token:
                print(f)
                return
        raise SystemExit("no answer carries exactly these token bytes")
    elif cmd == "root":
        print(checked_root(argv[2], argv[3])[0].hex())
    elif cmd == "seal":
        pairs = list(zip(argv[2::2], argv[3::2]))
        first = None
        for ers, data in pairs:
            root, token = checked_root(ers, data)
            open(ers[:-4] + ".tst" if ers.endswith(".ers") else ers + ".tst", "wb").write(token)
            if first is None:
                first = (ers, root, token)
            elif token != first[2]:
                raise SystemExit("the records %s and %s carry different tokens" % (first[0], ers))
        print(first[1].hex())
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
