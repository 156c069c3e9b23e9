#!/usr/bin/env python3
"""Which TSA signed each archive time-stamp of an evidence record, independent of kura.

  signers.py ERS LABEL=CERT.pem [LABEL=CERT.pem]...

Prints JSON: one list per chain, one entry per ATS: the labels whose certificate (its DER
bytes, from the PEM file: the TSA's signing certificate) the ATS's time-stamp token carries.
A token from an RFC 3161 request with certReq carries its signer's certificate, so an entry
that is exactly [LABEL] names the TSA that issued that time-stamp. The record is walked with
tests/cli/ers_tool.py (a DER reader written for the tests).
"""
import base64
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import ers_tool  # noqa: E402


def pem_certs(path):
    out, cur = [], None
    for line in open(path):
        line = line.strip()
        if line == "-----BEGIN CERTIFICATE-----":
            cur = []
        elif line == "-----END CERTIFICATE-----":
            out.append(base64.b64decode("".join(cur)))
            cur = None
        elif cur is not None:
            cur.append(line)
    if not out:
        sys.exit("signers.py: no certificate in " + path)
    return out


def main(argv):
    buf = open(argv[1], "rb").read()
    labels = []
    for arg in argv[2:]:
        label, path = arg.split("=", 1)
        labels.append((label, pem_certs(path)[0]))
    rec = ers_tool.info(buf)
    out = []
    for chain in rec["chains"]:
        row = []
        for ats in chain:
            tok = buf[ats["token"]["off"]:ats["token"]["off"] + ats["token"]["len"]]
            row.append([label for label, der in labels if der in tok])
        out.append(row)
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main(sys.argv)
