"""A small client of Chromium's DevTools protocol for the CLI tests (tests/cli/test_web.sh):
a WebSocket client in the standard library (RFC 6455, text frames, client frames masked) and
calls and events over the browser's one connection, each page a flattened session. Nothing
is fetched from a registry: only Python 3 and Debian's chromium are needed."""
import base64
import json
import os
import socket
import struct
import time
import urllib.parse


class WebSocket:
    def __init__(self, url, timeout=30):
        u = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                           % (u.path or "/", u.hostname, u.port, key)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("the browser closed the DevTools connection during the handshake")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError("DevTools refused the WebSocket: %r" % head[:200])

    def _exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise ConnectionError("the browser closed the DevTools connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _frame(self, opcode, data):
        n = len(data)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(head + mask + masked)

    def send(self, text):
        self._frame(0x1, text.encode())

    def recv(self):
        message = b""
        while True:
            b0, b1 = self._exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._exact(8))[0]
            mask = self._exact(4) if b1 & 0x80 else None
            data = self._exact(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise ConnectionError("the browser closed the DevTools connection")
            if opcode == 0x9:
                self._frame(0xA, data)
                continue
            if opcode in (0x0, 0x1, 0x2):
                message += data
                if b0 & 0x80:
                    return message.decode()


class Browser:
    """The browser of a DevToolsActivePort file; pages are sessions on its one connection."""

    def __init__(self, profile, wait=30):
        path = os.path.join(profile, "DevToolsActivePort")
        end = time.time() + wait
        while not (os.path.exists(path) and len(open(path).read().split("\n")) >= 2):
            if time.time() > end:
                raise TimeoutError("chromium wrote no DevToolsActivePort within %d s" % wait)
            time.sleep(0.05)
        port, ws_path = open(path).read().split("\n")[:2]
        self.ws = WebSocket("ws://127.0.0.1:%s%s" % (port.strip(), ws_path.strip()))
        self.next_id = 0
        self.events = []

    def call(self, method, params=None, session=None, timeout=30):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        end = time.time() + timeout
        while time.time() < end:
            m = json.loads(self.ws.recv())
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)
        raise TimeoutError("%s: no answer within %d s" % (method, timeout))

    def page(self, url="about:blank"):
        target = self.call("Target.createTarget", {"url": url})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        return Page(self, session)


class Page:
    def __init__(self, browser, session):
        self.b = browser
        self.session = session
        self.call("Page.enable")
        self.call("Runtime.enable")

    def call(self, method, params=None):
        return self.b.call(method, params, self.session)

    def evaluate(self, expression):
        """The value of a JavaScript expression (promises awaited); an exception raises."""
        r = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True})
        if "exceptionDetails" in r:
            raise RuntimeError("%s: %s" % (expression[:80], r["exceptionDetails"]))
        return r["result"].get("value")

    def wait(self, expression, what, timeout=20):
        end = time.time() + timeout
        while True:
            v = self.evaluate(expression)
            if v:
                return v
            if time.time() > end:
                raise AssertionError("%s: not so within %d s (%s)" % (what, timeout, expression))
            time.sleep(0.05)

    def goto(self, url):
        self.call("Page.navigate", {"url": url})
        self.wait("document.readyState === 'complete'", "the page loaded")

    def set_files(self, selector, paths):
        obj = self.call("Runtime.evaluate", {"expression": "document.querySelector(%s)" % json.dumps(selector)})
        self.call("DOM.setFileInputFiles", {"files": paths, "objectId": obj["result"]["objectId"]})

    def dialogs(self):
        return [e for e in self.b.events
                if e.get("method") == "Page.javascriptDialogOpening" and e.get("sessionId") == self.session]
