# A load of PreservePO submissions for the tests of `kura serve` under many clients
# (test_serve_load.sh): THREADS connections (HTTP/1.1, kept alive), each submitting
# documents of SIZE random bytes until COUNT were sent in all (0: until the server is gone
# or STOPFILE exists). Every answer 201 is appended at once to ACKED as "ID SHA256" (a
# line is whole or absent: one write per line); the count of each status to STATUS as JSON.
#   python3 serve_load.py HOST PORT TOKEN THREADS COUNT SIZE ACKED STATUS [STOPFILE]
import hashlib, http.client, json, os, sys, threading

host, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
threads, count, size = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
acked_path, status_path = sys.argv[7], sys.argv[8]
stop_file = sys.argv[9] if len(sys.argv) > 9 else None
lock = threading.Lock()
sent = [0]
statuses = {}
acked = os.open(acked_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)


def next_ticket():
    with lock:
        if (count and sent[0] >= count) or (stop_file and os.path.exists(stop_file)):
            return None
        sent[0] += 1
        return sent[0]


def worker(k):
    conn = http.client.HTTPConnection(host, port, timeout=60)
    while True:
        t = next_ticket()
        if t is None:
            break
        doc = os.urandom(size)
        try:
            conn.request("POST", "/api/v1/PreservePO?name=load%d-%d.bin" % (k, t), body=doc,
                         headers={"Authorization": "Bearer " + token})
            r = conn.getresponse()
            body = r.read()
        except (OSError, http.client.HTTPException):
            with lock:
                statuses["gone"] = statuses.get("gone", 0) + 1
            if not count:
                break  # the server was killed
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=60)
            continue
        with lock:
            statuses[str(r.status)] = statuses.get(str(r.status), 0) + 1
        if r.status == 201:
            ids = json.loads(body)["poId"]
            assert len(ids) == 1, body
            os.write(acked, ("%s %s\n" % (ids[0], hashlib.sha256(doc).hexdigest())).encode())


ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
with open(status_path, "w") as f:
    json.dump(statuses, f)
