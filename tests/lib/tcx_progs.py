#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Print the ids of the programs on an interface's tcx ingress, in run order.

bpftool 7.1 and iproute2 6.1 cannot show tcx, so the tests ask the kernel
(BPF_PROG_QUERY, attach type BPF_TCX_INGRESS = 46) without pktscope.
Usage: tcx_progs.py IFNAME  (exit 1 when the interface does not exist)
"""
import ctypes
import os
import socket
import struct
import sys

NR_BPF = 321  # x86_64
BPF_PROG_QUERY = 16
BPF_TCX_INGRESS = 46


def main():
    try:
        ifindex = socket.if_nametoindex(sys.argv[1])
    except OSError:
        return 1
    libc = ctypes.CDLL(None, use_errno=True)
    ids = (ctypes.c_uint32 * 64)()
    attr = ctypes.create_string_buffer(64)
    struct.pack_into("IIIIQI", attr, 0, ifindex, BPF_TCX_INGRESS, 0, 0,
                     ctypes.addressof(ids), 64)
    libc.syscall.restype = ctypes.c_long
    if libc.syscall(NR_BPF, BPF_PROG_QUERY, attr, 64) < 0:
        err = ctypes.get_errno()
        print("query: %s" % os.strerror(err), file=sys.stderr)
        return 2
    cnt = struct.unpack_from("I", attr, 24)[0]
    print(" ".join(str(ids[i]) for i in range(min(cnt, 64))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
