#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""The blocks of a pcapng file (plain or gzip), walked by hand from the
specification: what a test needs that tshark and scapy do not show.

  pcapng_stats.py FILE

prints one JSON object: "epb" (enhanced packets), "dropcount" (the sum of
their epb_dropcount), "first_ts"/"last_ts" (their times, ns), "isb" (each
interface statistics block: start, end, ifdrop, usrdeliv) and "last" (the
last block's type name).
"""
import gzip
import json
import struct
import sys

NAMES = {0x0A0D0D0A: "shb", 1: "idb", 5: "isb", 6: "epb"}


def options(body):
    i, out = 0, {}
    while i + 4 <= len(body):
        code, n = struct.unpack_from("<HH", body, i)
        if code == 0:
            break
        out[code] = body[i + 4:i + 4 + n]
        i += 4 + ((n + 3) & ~3)
    return out


def ts(hi_lo):
    hi, lo = struct.unpack("<II", hi_lo)
    return hi << 32 | lo


def main():
    path = sys.argv[1]
    with open(path, "rb") as f:
        op = gzip.open if f.read(2) == b"\x1f\x8b" else open
    with op(path, "rb") as f:
        data = f.read()
    i, res = 0, {"epb": 0, "dropcount": 0, "first_ts": None, "last_ts": None,
                 "isb": [], "last": None}
    while i + 12 <= len(data):
        btype, total = struct.unpack_from("<II", data, i)
        if total < 12 or i + total > len(data):
            sys.exit("%s: a block cut at offset %d" % (path, i))
        body = data[i + 8:i + total - 4]
        if btype == 6:
            t = ts(body[4:12])
            caplen = struct.unpack_from("<I", body, 12)[0]
            o = options(body[20 + ((caplen + 3) & ~3):])
            res["epb"] += 1
            res["dropcount"] += struct.unpack("<Q", o[4])[0] if 4 in o else 0
            res["first_ts"] = t if res["first_ts"] is None else res["first_ts"]
            res["last_ts"] = t
        elif btype == 5:
            o = options(body[12:])
            q = lambda c: struct.unpack("<Q", o[c])[0] if c in o else None
            res["isb"].append({"ts": ts(body[4:12]),
                               "start": ts(o[2]) if 2 in o else None,
                               "end": ts(o[3]) if 3 in o else None,
                               "ifdrop": q(5), "usrdeliv": q(8)})
        res["last"] = NAMES.get(btype, hex(btype))
        i += total
    print(json.dumps(res))


if __name__ == "__main__":
    main()
