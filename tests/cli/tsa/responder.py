#!/usr/bin/env python3
"""An independent RFC 3161 TSA for tests/cli/test_tsa.sh: `openssl ts -reply` behind a
python3 http.server on loopback, plus misbehaving endpoints. The URL path picks the
behaviour:

  /ok         each POST body is piped through `openssl ts -reply`; the answer is also kept
              for /replay
  /500        HTTP 500
  /garbage    HTTP 200, application/timestamp-reply, random bytes
  /hang       reads the request and never answers (until the server is killed)
  /badnonce   a genuine, signed answer over the requested imprint but for another nonce
              (a fresh `openssl ts -query -digest` of the same hash)
  /replay     the last /ok answer again (another imprint, another nonce)
  /ber        like /ok, but the answer and its token (ContentInfo, [0], SignedData) in BER with
              indefinite lengths, as some TSAs send (the signature stays valid); kept for /replay
              and --save as sent
  /ok2        like /ok, with the [tsa_v2] section of the config (ESSCertIDv2)
  /okchain    like /ok, with the [tsa_chain] section (ESSCertIDv2 list naming the whole chain)
  /reject     a well-formed TimeStampResp with status rejection (2) and a status text
  /empty      HTTP 200 with no body

Usage: responder.py --conf TSA.cnf --signer tsa.pem --inkey tsa.key --chain ca.pem [--port 0] [--save DIR]
Prints "listening on http://127.0.0.1:PORT/" once ready; logs "POST /path" per request on
stderr. Binds 127.0.0.1 only.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import der  # noqa: E402

DIGEST_FLAG = {
    "2.16.840.1.101.3.4.2.1": "-sha256",
    "2.16.840.1.101.3.4.2.2": "-sha384",
    "2.16.840.1.101.3.4.2.3": "-sha512",
}

def _seq(body):
    assert len(body) < 128
    return b"\x30" + bytes([len(body)]) + body


_TEXT = b"test TSA refuses everything"
# TimeStampResp { PKIStatusInfo { status rejection(2), statusString { UTF8String } } }, no token
REJECTION = _seq(_seq(b"\x02\x01\x02" + _seq(b"\x0c" + bytes([len(_TEXT)]) + _TEXT)))

# endpoints answered by `openssl ts -reply`, with the config section each uses
SECTIONS = {"/ok": None, "/ber": None, "/ok2": "tsa_v2", "/okchain": "tsa_chain"}

args = None
lock = threading.Lock()  # openssl ts -reply shares a serial file
state = {"last_ok": None}


def openssl_reply(query, section=None):
    with lock, tempfile.TemporaryDirectory() as d:
        q = os.path.join(d, "q.tsq")
        r = os.path.join(d, "r.tsr")
        with open(q, "wb") as f:
            f.write(query)
        p = subprocess.run(["openssl", "ts", "-reply", "-config", args.conf, "-queryfile", q, "-signer",
                            args.signer, "-inkey", args.inkey, "-chain", args.chain, "-out", r]
                           + (["-section", section] if section else []),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        if p.returncode != 0:
            sys.stderr.write("openssl ts -reply failed: %s\n" % p.stderr.decode(errors="replace"))
            return None
        with open(r, "rb") as f:
            return f.read()


def requery_same_imprint(query):
    """A new request over the same imprint (so a new random nonce)."""
    alg, h = der.req_imprint(query)
    p = subprocess.run(["openssl", "ts", "-query", "-digest", h.hex(), DIGEST_FLAG[alg], "-cert"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.decode(errors="replace"))
    return p.stdout


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *a):
        pass

    def answer(self, status, body, ctype="application/timestamp-reply"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.answer(405, b"POST an RFC 3161 request\n", "text/plain")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        path = self.path.rstrip("/") or "/ok"
        sys.stderr.write("POST %s\n" % path)
        sys.stderr.flush()
        if path in SECTIONS:
            resp = openssl_reply(body, SECTIONS[path])
            if resp is None:
                return self.answer(500, b"openssl failed\n", "text/plain")
            if path == "/ber":
                resp = der.to_indefinite(resp, 0, 4)  # TimeStampResp, ContentInfo, [0], SignedData
            state["last_ok"] = resp
            if args.save:
                with lock:
                    state["saved"] = state.get("saved", 0) + 1
                    with open(os.path.join(args.save, "ok-%d.tsr" % state["saved"]), "wb") as f:
                        f.write(resp)
            return self.answer(200, resp)
        if path == "/500":
            return self.answer(500, b"internal error\n", "text/plain")
        if path == "/garbage":
            return self.answer(200, os.urandom(300))
        if path == "/hang":
            while True:
                time.sleep(3600)
        if path == "/badnonce":
            resp = openssl_reply(requery_same_imprint(body))
            if resp is None:
                return self.answer(500, b"openssl failed\n", "text/plain")
            return self.answer(200, resp)
        if path == "/replay":
            if state["last_ok"] is None:
                return self.answer(500, b"nothing to replay yet\n", "text/plain")
            return self.answer(200, state["last_ok"])
        if path == "/reject":
            return self.answer(200, REJECTION)
        if path == "/empty":
            return self.answer(200, b"")
        self.answer(404, b"no such endpoint\n", "text/plain")


def main():
    global args
    ap = argparse.ArgumentParser()
    for o in ("--conf", "--signer", "--inkey", "--chain"):
        ap.add_argument(o, required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--save", help="folder where every /ok answer is written (ok-N.tsr)")
    args = ap.parse_args()
    if args.save:
        os.makedirs(args.save, exist_ok=True)
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    print("listening on http://127.0.0.1:%d/" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
