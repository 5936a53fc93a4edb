#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Checks of `pktscope serve` from outside, for tests/integration/serve.bats.

  serve_check.py abuse PORT PID     hostile clients; prints a JSON report
  serve_check.py textfile PATH PID N  read PATH in a tight loop while PID runs
  serve_check.py parse FILE|-       parse with prometheus_client; sample count
  serve_check.py query URL EXPR     a Prometheus instant query: JSON {labels: value}
"""
import json
import os
import socket
import sys
import threading
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def samples(text):
    return sum(len(f.samples) for f in text_string_to_metric_families(text))


def get(port, path="/metrics", method="GET", timeout=5):
    """(status, body) of one request; None when the server closed."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\n"
                  "Connection: close\r\n\r\n".encode())
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        s.close()
    if not data:
        return None, b""
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def proc_state(pid):
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def slow_client(port, seconds, out, i):
    """One byte a second of a request; how long until the server hung up."""
    req = b"GET /metrics HTTP/1.1\r\nHost: slow\r\n\r\n"
    t0 = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.settimeout(1)
        for b in req:
            if time.monotonic() - t0 > seconds:
                break
            s.send(bytes([b]))
            try:
                if s.recv(1024) == b"":
                    break
            except socket.timeout:
                pass
        out[i] = time.monotonic() - t0
        s.close()
    except OSError:
        out[i] = time.monotonic() - t0


def abuse(port, pid):
    rep = {}
    for _ in range(20):			# warm up: allocator, first snapshot
        get(port)
    rep["rss0_kib"], rep["fds0"] = proc_state(pid)

    slow = [None] * 50
    threads = [threading.Thread(target=slow_client, args=(port, 25, slow, i))
               for i in range(50)]
    for t in threads:
        t.start()
    time.sleep(1)
    ok = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 3:	# served while 50 trickle
        st, body = get(port)
        ok += st == 200 and body.endswith(b"\n") and samples(body.decode()) > 0
    rep["served_during_slow"] = ok

    st, _ = get(port, "/" + "a" * (1 << 20))
    rep["huge_request_line"] = st	# 414 or None (closed)
    rep["post"] = get(port, method="POST")[0]
    rep["delete"] = get(port, method="DELETE")[0]
    rep["traversal"] = get(port, "/../../etc/passwd")[0]
    rep["traversal_encoded"] = get(port, "/metrics/%2e%2e/%2e%2e/etc/passwd")[0]
    rep["index"] = get(port, "/")[0]

    for t in threads:
        t.join()
    rep["slow_closed_after_s"] = [round(x, 1) for x in slow if x is not None]
    rep["slow_max_s"] = max(rep["slow_closed_after_s"] or [0])

    n = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 3:	# a run of scrapes
        n += get(port)[0] == 200
    rep["scrapes"] = n
    time.sleep(0.5)
    rep["rss1_kib"], rep["fds1"] = proc_state(pid)
    print(json.dumps(rep))


def textfile(path, pid, n):
    """While pid writes, every read is one whole exposition: newline-ended,
    the same lines (all of them parsed now and then)."""
    bad, counts, reads = 0, set(), 0
    while reads < n and os.path.exists(f"/proc/{pid}"):
        try:
            with open(path) as f:
                text = f.read()
        except FileNotFoundError:
            continue
        reads += 1
        if not text.endswith("\n"):
            bad += 1
            continue
        counts.add(sum(1 for l in text.split("\n") if l and l[0] != "#"))
        if reads % 100 == 1:
            try:
                counts.add(samples(text))
            except Exception:
                bad += 1
    print(json.dumps({"reads": reads, "bad": bad, "sample_counts":
                      sorted(counts)}))


def query(url, expr):
    q = urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(f"{url}/api/v1/query?{q}", timeout=5) as r:
        res = json.load(r)["data"]["result"]
    out = {}
    for s in res:
        m = s["metric"]
        key = ",".join(f"{k}={m[k]}" for k in sorted(m) if k not in
                       ("__name__", "instance", "job"))
        out[key] = int(float(s["value"][1]))
    print(json.dumps(out, sort_keys=True, separators=(",", ":")))


def main():
    cmd = sys.argv[1]
    if cmd == "abuse":
        abuse(int(sys.argv[2]), int(sys.argv[3]))
    elif cmd == "textfile":
        textfile(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "parse":
        src = sys.stdin if sys.argv[2] == "-" else open(sys.argv[2])
        print(samples(src.read()))
    elif cmd == "query":
        query(sys.argv[2], sys.argv[3])


if __name__ == "__main__":
    import urllib.parse
    main()
