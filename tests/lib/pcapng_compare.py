#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Compare a pcapng recorded by src-log with a capture of the same frames.

  pcapng_compare.py --ref REF.pcap --frames 1,2,5 --snaplen N FILE.pcapng...

The recorded packets (the files in order, oldest first) must be the
reference frames named by --frames (tshark's frame numbers), in order: the
same wire length, the same bytes up to the snap length, timestamps within
1 ms.  scapy reads every file; an unreadable one fails.
"""
import argparse
import sys

from scapy.utils import PcapNgReader, rdpcap


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ref", required=True)
    p.add_argument("--frames", required=True)
    p.add_argument("--snaplen", type=int, required=True)
    p.add_argument("files", nargs="+")
    a = p.parse_args()
    ref = rdpcap(a.ref)
    want = [ref[int(n) - 1] for n in a.frames.split(",") if n]
    got = []
    for path in a.files:
        with PcapNgReader(path) as r:
            got.extend(r)
    errors = []
    if len(got) != len(want):
        errors.append("%d packets recorded, %d in the capture" % (len(got), len(want)))
    for i, (g, w) in enumerate(zip(got, want)):
        gb, wb = bytes(g), bytes(w)
        n = min(a.snaplen, len(wb))
        if len(gb) != n:
            errors.append("packet %d: %d bytes, want %d" % (i + 1, len(gb), n))
        elif gb != wb[:n]:
            at = next(k for k in range(n) if gb[k] != wb[k])
            errors.append("packet %d: bytes differ from offset %d" % (i + 1, at))
        if g.wirelen != (w.wirelen or len(wb)):
            errors.append("packet %d: wire length %d, want %d" % (i + 1, g.wirelen, w.wirelen))
        dt = abs(float(g.time) - float(w.time))
        if dt > 0.001:
            errors.append("packet %d: %.6f s from the capture's time" % (i + 1, dt))
    for e in errors[:20]:
        print(e)
    print("%d packets compared, %d problems" % (len(got), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
