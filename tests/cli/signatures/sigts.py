#!/usr/bin/env python3
"""Signature time-stamps (CAdES-T, RFC 5126 id-aa-signatureTimeStampToken) for the signature
tests, independent of kura: DER surgery on a definite-length CMS SignedData.

  sigts.py value P7S OUT          write the first SignerInfo's signature value (what a
                                  signature time-stamp's imprint is over) to OUT
  sigts.py add P7S TOKEN OUT      OUT = P7S with TOKEN (a ContentInfo) added to the first
                                  SignerInfo as the unsigned attribute 1.2.840.113549.1.9.16.2.14
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tsa"))
from der import children, element, tlv  # noqa: E402

SIG_TS_OID = bytes([0x06, 0x0B, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x10, 0x02, 0x0E])


def enc(tag, content):
    n = len(content)
    if n < 0x80:
        head = bytes([tag, n])
    else:
        size = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([tag, 0x80 | len(size)]) + size
    return head + content


def path_to_signer(buf):
    """The nested elements from the ContentInfo down to the first SignerInfo."""
    ci = tlv(buf, 0)
    explicit = children(buf, ci[1], ci[2])[1]
    sd = children(buf, explicit[1], explicit[2])[0]
    signer_infos = children(buf, sd[1], sd[2])[-1]
    si = children(buf, signer_infos[1], signer_infos[2])[0]
    return [(ci[0], ci[1], ci[2], 0), explicit, sd, signer_infos, si]


def rebuild(buf, chain, new_inner):
    """Re-encodes the chain of elements (outermost first) with the last one replaced."""
    out = new_inner
    for outer, inner in zip(reversed(chain[:-1]), reversed(chain[1:])):
        kids = children(buf, outer[1], outer[2])
        parts = [out if k[3] == inner[3] else element(buf, k) for k in kids]
        out = enc(outer[0], b"".join(parts))
    return out


def main(argv):
    buf = open(argv[2], "rb").read()
    chain = path_to_signer(buf)
    si = chain[-1]
    kids = children(buf, si[1], si[2])
    sig = next(k for k in kids if k[0] == 0x04)
    if argv[1] == "value":
        open(argv[3], "wb").write(bytes(buf[sig[1]:sig[2]]))
        return 0
    token = open(argv[3], "rb").read()
    attr = enc(0x30, SIG_TS_OID + enc(0x31, token))
    if kids[-1][0] == 0xA1:  # unsigned attributes already: add ours
        new_si = b"".join(element(buf, k) for k in kids[:-1]) + enc(0xA1, bytes(buf[kids[-1][1]:kids[-1][2]]) + attr)
    else:
        new_si = b"".join(element(buf, k) for k in kids) + enc(0xA1, attr)
    open(argv[4], "wb").write(rebuild(buf, chain, enc(0x30, new_si)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
