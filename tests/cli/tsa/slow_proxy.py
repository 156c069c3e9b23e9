#!/usr/bin/env python3
"""A slow TSA for tests/cli/test_serve_seal_unlocked.sh: passes each POST on to another TSA
(--to URL) and answers with its answer after --delay seconds. Writes "POST" and a newline to
--log as each request arrives (before the delay), so a test knows a time-stamp is being asked.
With --delay-file FILE, the delay is read from FILE at each request when it exists (a test
prepares its store quickly, then slows the TSA down).

Usage: slow_proxy.py --to URL --delay SECONDS --log FILE [--delay-file FILE]
Prints "listening on http://127.0.0.1:PORT/" once ready. Binds 127.0.0.1 only.
"""
import argparse
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = None


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with open(args.log, "a") as f:
            f.write("POST\n")
        delay = args.delay
        if args.delay_file:
            try:
                with open(args.delay_file) as f:
                    delay = float(f.read().strip())
            except FileNotFoundError:
                pass
        time.sleep(delay)
        req = urllib.request.Request(args.to, data=body, headers={"Content-Type": "application/timestamp-query"})
        with urllib.request.urlopen(req, timeout=30) as r:
            answer = r.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def main():
    global args
    ap = argparse.ArgumentParser()
    ap.add_argument("--to", required=True)
    ap.add_argument("--delay", type=float, required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--delay-file")
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print("listening on http://127.0.0.1:%d/" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
