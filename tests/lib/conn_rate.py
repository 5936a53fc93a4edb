#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""conn_rate.py - connection attempts at a fixed rate, and a counting server.

    conn_rate.py serve ADDR PORT SECONDS     accept for SECONDS, then print
                                             {"accepted": {source: count}}
    conn_rate.py connect SRC DST PORT RATE SECONDS
                                             RATE attempts a second from SRC,
                                             print {"attempts": N}

Each attempt is a non-blocking connect() whose socket is closed after
0.3 s if it has not connected, before the kernel would send its SYN again
(1 s): so every attempt is one SYN, and what the server accepts is what got
through.  Standard library only.
"""

import json
import select
import socket
import sys
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve(addr, port, seconds):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(4096)
    s.setblocking(False)
    print("listening", file=sys.stderr, flush=True)
    counts = {}
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([s], [], [], left)
        while r:
            try:
                c, peer = s.accept()
            except BlockingIOError:
                break
            counts[peer[0]] = counts.get(peer[0], 0) + 1
            c.close()
    print(json.dumps({"accepted": counts}))


def connect(src, dst, port, rate, seconds):
    fam = family(dst)
    pending = []
    n = 0
    start = time.monotonic()
    while True:
        now = time.monotonic()
        if now - start >= seconds:
            break
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((src, 0))
        s.connect_ex((dst, port))
        pending.append((now, s))
        n += 1
        while pending and now - pending[0][0] > 0.3:
            pending.pop(0)[1].close()
        # the n-th attempt at start + n / rate, whatever the loop costs
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    for _, s in pending:
        s.close()
    print(json.dumps({"attempts": n}))


def main(argv):
    if len(argv) == 5 and argv[1] == "serve":
        serve(argv[2], int(argv[3]), float(argv[4]))
    elif len(argv) == 7 and argv[1] == "connect":
        connect(argv[2], argv[3], int(argv[4]), float(argv[5]), float(argv[6]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
