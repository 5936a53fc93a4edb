#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""sendpkts.py - build exact Ethernet frames and send them on a raw socket.

The pktscope test lab's traffic source (python3 standard library only).
Run it inside the lab's network namespace, on the peer end of the veth pair,
aimed at the host end's MAC address:

    lab_exec python3 sendpkts.py --iface "$LAB_PEER_IF" --dst-mac "$LAB_HOST_MAC" \
        --mix default [--count N | --duration S] [--rate PPS] [--src-random]

(lab_send in tests/lib/lab.bash fills in every address for you.)

When it is done it prints one JSON document on stdout: what it sent, counted
the way the tests count it, so that tcpdump/tshark on the host side and
pktscope can both be compared with it.  Nothing else goes to stdout.

Byte accounting
---------------
Every length here is the frame as the host end of the veth sees it at ingress
(and as tcpdump writes it): destination MAC through the last payload byte, no
preamble, no FCS.  A veth does NOT pad short frames: a 42-byte ARP request
sent on a raw socket arrives as 42 bytes.  Real NICs pad to the 60-byte
Ethernet minimum (64 with the FCS), so by default this tool pads every frame
shorter than 60 bytes with zeros before sending, like a NIC would; the IP
total length still says the real size, so parsers must honour it.  The one
exception is the deliberately truncated frame of the default mix (a "runt":
Ethernet header plus half an IPv4 header, 24 bytes), which is sent as is.
--no-pad turns padding off.  VLAN tags are part of the frame (4 bytes each).

Counting rules (the keys of "proto"):
  ipv4, ipv6   frames whose network header (after any VLAN tags) is a whole
               IPv4/IPv6 header.  The truncated frame is NOT counted here.
  arp          ARP frames.
  truncated    frames cut inside their network header.
  vlan         frames with at least one 802.1Q/802.1ad tag; qinq: two tags.
               A tagged frame also counts under its inner protocols.
  tcp udp icmp icmpv6
               frames that carry that transport header (also behind VLAN
               tags, IPv4 options and IPv6 extension headers).
  ipv4 + ipv6 + arp + truncated + other == frames.

Addresses are restricted to the documentation ranges 192.0.2.0/24,
198.51.100.0/24 and 2001:db8::/32; the tool refuses anything else.
"""

import argparse
import ipaddress
import json
import os
import random
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
ETH_P_ARP = 0x0806
ETH_P_8021Q = 0x8100
ETH_P_8021AD = 0x88A8
IPPROTO_ICMP = 1
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_DSTOPTS = 60
IPPROTO_ICMPV6 = 58

ETH_MIN = 60            # minimum frame without FCS
ETH_MAX = 1514          # 1500-byte MTU + 14-byte header, untagged
DEFAULT_CAP_S = 30.0    # time cap when no --duration is given
MAX_DURATION_S = 3600.0

DOC_NETS = [ipaddress.ip_network(n) for n in
            ("192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32")]

PROTO_KEYS = ("ipv4", "ipv6", "arp", "vlan", "qinq", "tcp", "udp", "icmp",
              "icmpv6", "truncated", "other")


class UsageError(Exception):
    pass


class _Stop(Exception):
    pass


# --------------------------------------------------------------------------
# Checksums and headers

def csum_add(data, start=0):
    """Ones'-complement sum of 16-bit big-endian words, not yet folded."""
    if len(data) % 2:
        data = bytes(data) + b"\0"
    total = start
    for (word,) in struct.iter_unpack("!H", data):
        total += word
    return total


def csum_fold(total):
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def checksum(data):
    return csum_fold(csum_add(data))


def mac_bytes(mac):
    parts = mac.split(":")
    if len(parts) != 6:
        raise UsageError("bad MAC address: %s" % mac)
    try:
        return bytes(int(p, 16) for p in parts)
    except ValueError:
        raise UsageError("bad MAC address: %s" % mac) from None


def eth_header(dst, src, ethertype, tags=()):
    """tags: sequence of (tpid, vid) from outermost to innermost."""
    hdr = dst + src
    for tpid, vid in tags:
        hdr += struct.pack("!HH", tpid, vid & 0x0FFF)
    return hdr + struct.pack("!H", ethertype)


def ipv4_header(src, dst, proto, payload_len, ident=0, ttl=64, options=b""):
    if len(options) % 4:
        raise ValueError("IPv4 options must be a multiple of 4 bytes")
    ihl = 5 + len(options) // 4
    total = ihl * 4 + payload_len
    hdr = struct.pack("!BBHHHBBH4s4s", (4 << 4) | ihl, 0, total, ident & 0xFFFF,
                      0x4000, ttl, proto, 0, src.packed, dst.packed) + options
    csum = checksum(hdr)
    return hdr[:10] + struct.pack("!H", csum) + hdr[12:]


def ipv6_header(src, dst, nexthdr, payload_len, hlim=64):
    return struct.pack("!IHBB16s16s", 6 << 28, payload_len, nexthdr, hlim,
                       src.packed, dst.packed)


def pseudo_sum(src, dst, proto, length):
    if src.version == 4:
        ph = src.packed + dst.packed + struct.pack("!BBH", 0, proto, length)
    else:
        ph = src.packed + dst.packed + struct.pack("!IxxxB", length, proto)
    return csum_add(ph)


def l4_checksum(src, dst, proto, segment):
    csum = csum_fold(csum_add(segment, pseudo_sum(src, dst, proto, len(segment))))
    if proto == IPPROTO_UDP and csum == 0:
        csum = 0xFFFF
    return csum


def tcp_segment(src, dst, sport, dport, seq, flags=0x02, options=b"",
                payload=b"", window=64240):
    if len(options) % 4:
        raise ValueError("TCP options must be a multiple of 4 bytes")
    off = (20 + len(options)) // 4
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, off << 4, flags,
                      window, 0, 0) + options + payload
    c = l4_checksum(src, dst, IPPROTO_TCP, seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp_datagram(src, dst, sport, dport, payload):
    dgram = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = l4_checksum(src, dst, IPPROTO_UDP, dgram)
    return dgram[:6] + struct.pack("!H", c) + dgram[8:]


def icmp_echo(ident, seq, payload):
    msg = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
    return msg[:2] + struct.pack("!H", checksum(msg)) + msg[4:]


def icmpv6_echo(src, dst, ident, seq, payload):
    msg = struct.pack("!BBHHH", 128, 0, 0, ident, seq) + payload
    c = csum_fold(csum_add(msg, pseudo_sum(src, dst, IPPROTO_ICMPV6, len(msg))))
    return msg[:2] + struct.pack("!H", c) + msg[4:]


def pattern(n, seed=0):
    """Deterministic payload bytes."""
    return bytes((seed + i) & 0xFF for i in range(n))


TCP_OPT_MSS = struct.pack("!BBH", 2, 4, 1460)
# What Linux puts in a SYN: MSS, SACK-permitted, timestamps, NOP, window scale.
TCP_OPT_LINUX = (struct.pack("!BBH", 2, 4, 1460) + b"\x04\x02"
                 + struct.pack("!BBII", 8, 10, 0x01020304, 0) + b"\x01"
                 + b"\x03\x03\x07")
IPV4_OPT_NOPS = b"\x01\x01\x01\x00"      # NOP NOP NOP EOL: IHL 6


# --------------------------------------------------------------------------
# Frame specifications
#
# A spec is a dict; build(spec, ctx) turns it into bytes.  Keeping specs
# rather than bytes lets --src-random rebuild a frame with a new source.

class Ctx:
    def __init__(self, a):
        self.dst_mac = mac_bytes(a.dst_mac)
        self.src_mac = mac_bytes(a.src_mac)
        self.dst4 = a.dst4
        self.dst6 = a.dst6
        self.src4 = a.src4
        self.src6 = a.src6
        self.pool4 = a.pool4
        self.pool6 = a.pool6
        self.pad = not a.no_pad
        self.rng = random.Random(a.seed)

    def pool_addr(self, fam, n):
        """The n-th address of a pool (fixed sources of the mixes)."""
        net = self.pool4 if fam == 4 else self.pool6
        if n >= net.num_addresses - 1:
            raise UsageError("pool %s too small" % net)
        return net.network_address + n

    def random_addr(self, fam):
        net = self.pool4 if fam == 4 else self.pool6
        size = net.num_addresses
        if fam == 4 and size > 2:
            off = self.rng.randrange(1, size - 1)   # no network/broadcast
        else:
            off = self.rng.randrange(1, size)
        return net.network_address + off


def build(spec, ctx, src=None):
    """Return (frame bytes, src address used or None)."""
    kind = spec["kind"]
    tags = spec.get("tags", ())
    dst_mac = spec.get("dst_mac", ctx.dst_mac)
    if kind == "arp":
        body = struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, 1, ctx.src_mac,
                           ctx.src4.packed, b"\0" * 6, ctx.dst4.packed)
        frame = eth_header(dst_mac, ctx.src_mac, ETH_P_ARP, tags) + body
        return pad(frame, ctx), None
    if kind == "runt4":
        hdr = ipv4_header(ctx.src4, ctx.dst4, IPPROTO_UDP, 8)
        return eth_header(dst_mac, ctx.src_mac, ETH_P_IP, tags) + hdr[:10], None

    fam = spec["fam"]
    if src is None:
        src = spec["src"]
    dst = ctx.dst4 if fam == 4 else ctx.dst6
    proto = spec["proto"]
    sz = spec.get("size")           # wanted frame length (before padding)
    l2 = 14 + 4 * len(tags)
    ip_opt = spec.get("ipopt", b"")
    ext = spec.get("ext", b"")     # IPv6 destination options header body
    l3 = (20 + len(ip_opt)) if fam == 4 else (40 + (1 + len(ext) if ext else 0))
    fixed = {"tcp": 20 + len(spec.get("tcpopt", b"")), "udp": 8,
             "icmp": 8}[proto]
    if sz is None:
        plen = spec.get("plen", 0)
    else:
        plen = sz - l2 - l3 - fixed
        if plen < 0:
            raise ValueError("size %d too small for %s" % (sz, spec["desc"]))
    payload = pattern(plen, spec.get("pseed", 0))
    if proto == "tcp":
        seg = tcp_segment(src, dst, spec["sport"], spec["dport"],
                          spec.get("seq", 1000), spec.get("flags", 0x02),
                          spec.get("tcpopt", b""), payload)
        ipproto = IPPROTO_TCP
    elif proto == "udp":
        seg = udp_datagram(src, dst, spec["sport"], spec["dport"], payload)
        ipproto = IPPROTO_UDP
    else:
        if fam == 4:
            seg = icmp_echo(spec.get("ident", 0x5053), spec.get("seq", 1), payload)
            ipproto = IPPROTO_ICMP
        else:
            seg = icmpv6_echo(src, dst, spec.get("ident", 0x5053),
                              spec.get("seq", 1), payload)
            ipproto = IPPROTO_ICMPV6
    if fam == 4:
        net = ipv4_header(src, dst, ipproto, len(seg), ident=spec.get("ipid", 1),
                          options=ip_opt) + seg
        etype = ETH_P_IP
    else:
        if ext:
            extension = struct.pack("!B", ipproto) + ext
            net = ipv6_header(src, dst, IPPROTO_DSTOPTS,
                              len(extension) + len(seg)) + extension + seg
        else:
            net = ipv6_header(src, dst, ipproto, len(seg)) + seg
        etype = ETH_P_IPV6
    return pad(eth_header(dst_mac, ctx.src_mac, etype, tags) + net, ctx), src


def pad(frame, ctx):
    if ctx.pad and len(frame) < ETH_MIN:
        frame += b"\0" * (ETH_MIN - len(frame))
    return frame


def classify(spec):
    """Counting keys for one frame of this spec (see module docstring)."""
    keys = []
    tags = spec.get("tags", ())
    if tags:
        keys.append("vlan")
    if len(tags) >= 2:
        keys.append("qinq")
    kind = spec["kind"]
    if kind == "arp":
        keys.append("arp")
    elif kind == "runt4":
        keys.append("truncated")
    elif kind == "ip":
        keys.append("ipv4" if spec["fam"] == 4 else "ipv6")
        proto = spec["proto"]
        if proto == "icmp":
            keys.append("icmp" if spec["fam"] == 4 else "icmpv6")
        else:
            keys.append(proto)
    else:
        keys.append("other")
    return keys


# --------------------------------------------------------------------------
# Mixes

DSTOPT_PADN = b"\x00" + b"\x01\x04\x00\x00\x00\x00"   # hdr ext len 0, PadN(4)


def mix_default(ctx):
    s4 = [ctx.pool_addr(4, n) for n in (7, 8, 9)]
    s6 = [ctx.pool_addr(6, n) for n in (7, 8)]
    q1, ad = ETH_P_8021Q, ETH_P_8021AD
    specs = [
        # TCP SYNs, IPv4 and IPv6, with and without options
        dict(desc="IPv4 TCP SYN :22 (no options, padded)", kind="ip", fam=4,
             proto="tcp", src=s4[0], sport=40001, dport=22),
        dict(desc="IPv4 TCP SYN :80 (MSS, padded)", kind="ip", fam=4,
             proto="tcp", src=s4[0], sport=40002, dport=80, tcpopt=TCP_OPT_MSS),
        dict(desc="IPv4 TCP SYN :443 (Linux options)", kind="ip", fam=4,
             proto="tcp", src=s4[1], sport=40003, dport=443,
             tcpopt=TCP_OPT_LINUX),
        dict(desc="IPv4 TCP SYN :8080 (Linux options)", kind="ip", fam=4,
             proto="tcp", src=s4[2], sport=40004, dport=8080,
             tcpopt=TCP_OPT_LINUX),
        dict(desc="IPv6 TCP SYN :22", kind="ip", fam=6, proto="tcp",
             src=s6[0], sport=40005, dport=22),
        dict(desc="IPv6 TCP SYN :443 (Linux options)", kind="ip", fam=6,
             proto="tcp", src=s6[0], sport=40006, dport=443,
             tcpopt=TCP_OPT_LINUX),
        dict(desc="IPv6 TCP SYN :80", kind="ip", fam=6, proto="tcp",
             src=s6[1], sport=40007, dport=80),
        # UDP, sizes 60..1514
        dict(desc="IPv4 UDP :9, 4-byte payload (padded)", kind="ip", fam=4,
             proto="udp", src=s4[0], sport=41001, dport=9, plen=4),
        dict(desc="IPv4 UDP :9", kind="ip", fam=4, proto="udp", src=s4[0],
             sport=41002, dport=9, size=60),
        dict(desc="IPv4 UDP :7", kind="ip", fam=4, proto="udp", src=s4[1],
             sport=41003, dport=7, size=64),
        dict(desc="IPv4 UDP :5000", kind="ip", fam=4, proto="udp", src=s4[1],
             sport=41004, dport=5000, size=128),
        dict(desc="IPv4 UDP :5001", kind="ip", fam=4, proto="udp", src=s4[2],
             sport=41005, dport=5001, size=256),
        dict(desc="IPv4 UDP :5002", kind="ip", fam=4, proto="udp", src=s4[2],
             sport=41006, dport=5002, size=512),
        dict(desc="IPv4 UDP :5003", kind="ip", fam=4, proto="udp", src=s4[0],
             sport=41007, dport=5003, size=1024),
        dict(desc="IPv4 UDP :5004 (full MTU)", kind="ip", fam=4, proto="udp",
             src=s4[1], sport=41008, dport=5004, size=ETH_MAX),
        dict(desc="IPv4 UDP :5005 with IP options (IHL 6)", kind="ip", fam=4,
             proto="udp", src=s4[2], sport=41009, dport=5005, size=100,
             ipopt=IPV4_OPT_NOPS),
        dict(desc="IPv6 UDP :9", kind="ip", fam=6, proto="udp", src=s6[0],
             sport=41010, dport=9, size=64),
        dict(desc="IPv6 UDP :5000", kind="ip", fam=6, proto="udp", src=s6[0],
             sport=41011, dport=5000, size=128),
        dict(desc="IPv6 UDP :5001", kind="ip", fam=6, proto="udp", src=s6[1],
             sport=41012, dport=5001, size=512),
        dict(desc="IPv6 UDP :5002", kind="ip", fam=6, proto="udp", src=s6[1],
             sport=41013, dport=5002, size=1280),
        dict(desc="IPv6 UDP :5003 (full MTU)", kind="ip", fam=6, proto="udp",
             src=s6[0], sport=41014, dport=5003, size=ETH_MAX),
        dict(desc="IPv6 UDP :5004 behind a Destination Options header",
             kind="ip", fam=6, proto="udp", src=s6[1], sport=41015,
             dport=5004, size=200, ext=DSTOPT_PADN),
        # ICMP / ICMPv6 echo requests
        dict(desc="IPv4 ICMP echo request (ping-sized), from the peer",
             kind="ip", fam=4, proto="icmp", src=ctx.src4, plen=56),
        dict(desc="IPv4 ICMP echo request, empty (padded)", kind="ip", fam=4,
             proto="icmp", src=s4[2], plen=0, seq=2),
        dict(desc="IPv4 ICMP echo request (full MTU)", kind="ip", fam=4,
             proto="icmp", src=s4[1], size=ETH_MAX, seq=3),
        dict(desc="IPv6 ICMPv6 echo request (ping-sized), from the peer",
             kind="ip", fam=6, proto="icmp", src=ctx.src6, plen=56),
        dict(desc="IPv6 ICMPv6 echo request, empty", kind="ip", fam=6,
             proto="icmp", src=s6[1], plen=0, seq=2),
        # VLAN, QinQ
        dict(desc="802.1Q VLAN 100, IPv4 UDP :5060", kind="ip", fam=4,
             proto="udp", src=s4[0], sport=41016, dport=5060, size=102,
             tags=((q1, 100),)),
        dict(desc="QinQ 802.1ad 200 / 802.1Q 100, IPv6 UDP :5061", kind="ip",
             fam=6, proto="udp", src=s6[0], sport=41017, dport=5061, size=130,
             tags=((ad, 200), (q1, 100))),
        # ARP, truncated
        dict(desc="ARP request who-has host tell peer (broadcast, padded)",
             kind="arp", dst_mac=b"\xff" * 6),
        dict(desc="truncated: Ethernet + 10 bytes of IPv4 header (runt, unpadded)",
             kind="runt4"),
    ]
    return specs


def mix_udp_flood(ctx, a):
    fam = a.family
    size = a.size if a.size else 64
    return [dict(desc="IPv%d UDP flood frame" % fam, kind="ip", fam=fam,
                 proto="udp", src=ctx.pool_addr(fam, 7), sport=42000,
                 dport=a.dport or 9, size=size)]


def mix_syn_flood(ctx, a):
    fam = a.family
    spec = dict(desc="IPv%d TCP SYN flood frame" % fam, kind="ip", fam=fam,
                proto="tcp", src=ctx.pool_addr(fam, 7), sport=43000,
                dport=a.dport or 80)
    if a.size:
        spec["size"] = a.size
    return [spec]


def mix_icmp_flood(ctx, a):
    fam = a.family
    spec = dict(desc="IPv%d ICMP echo flood frame" % fam, kind="ip", fam=fam,
                proto="icmp", src=ctx.pool_addr(fam, 7), plen=56)
    if a.size:
        spec["size"] = a.size
    return [spec]


MIXES = {
    "default": ("every protocol the parser handles, sizes 60..1514, "
                "VLAN/QinQ, ARP, a truncated frame", None),
    "udp-flood": ("one fixed UDP frame (64 bytes unless --size), "
                  "as fast as allowed", mix_udp_flood),
    "syn-flood": ("one TCP SYN frame (60 bytes unless --size)", mix_syn_flood),
    "icmp-flood": ("one ICMP echo request (98/118 bytes unless --size)",
                   mix_icmp_flood),
}


def make_mix(ctx, a):
    if a.mix == "default":
        specs = mix_default(ctx)
    else:
        specs = MIXES[a.mix][1](ctx, a)
    if a.only:
        words = [w.strip().lower() for w in a.only.split(",") if w.strip()]
        specs = [s for s in specs if any(w in s["desc"].lower() for w in words)]
        if not specs:
            raise UsageError("--only %s matches no frame of the %s mix (see --list)"
                             % (a.only, a.mix))
    return specs


# --------------------------------------------------------------------------
# Accounting

class Tally:
    def __init__(self, src_random):
        self.frames = 0
        self.bytes = 0
        self.proto = dict.fromkeys(PROTO_KEYS, 0)
        self.proto_bytes = dict.fromkeys(PROTO_KEYS, 0)
        self.sizes = {}
        self.ports = {"tcp": {}, "udp": {}}
        self.syn = 0
        self.src_random = src_random
        self.sources = {}
        self.distinct = set()
        self.errors = 0
        self.first_error = None

    def add(self, spec, keys, length, src):
        self.frames += 1
        self.bytes += length
        for k in keys:
            self.proto[k] += 1
            self.proto_bytes[k] += length
        self.sizes[length] = self.sizes.get(length, 0) + 1
        if spec["kind"] == "ip":
            p = spec["proto"]
            if p in self.ports:
                port = str(spec["dport"])
                self.ports[p][port] = self.ports[p].get(port, 0) + 1
                if p == "tcp" and spec.get("flags", 0x02) & 0x02:
                    self.syn += 1
            if self.src_random:
                if len(self.distinct) < 1 << 20:
                    self.distinct.add(src)
            else:
                s = str(src)
                self.sources[s] = self.sources.get(s, 0) + 1

    def report(self, a, elapsed, repeats, stopped_by):
        out = {
            "mix": a.mix,
            "iface": a.iface,
            "frames": self.frames,
            "bytes": self.bytes,
            "proto": self.proto,
            "proto_bytes": self.proto_bytes,
            "tcp_syn": self.syn,
            "dst_ports": self.ports,
            "sizes": {str(k): v for k, v in sorted(self.sizes.items())},
            "repeats": repeats,
            "stopped_by": stopped_by,
            "duration_s": round(elapsed, 6),
            "pps": round(self.frames / elapsed, 1) if elapsed > 0 else None,
            "send_errors": self.errors,
            "padding": not a.no_pad,
            "src_random": a.src_random,
        }
        if self.first_error:
            out["first_error"] = self.first_error
        if self.src_random:
            out["distinct_sources"] = len(self.distinct)
        else:
            out["sources"] = self.sources
        return out


# --------------------------------------------------------------------------
# Sending

class PcapSink:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))

    def send(self, frame):
        t = time.time()
        sec = int(t)
        usec = int((t - sec) * 1e6)
        self.f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
        self.f.write(frame)
        return len(frame)

    def close(self):
        self.f.close()


class NullSink:
    def send(self, frame):
        return len(frame)

    def close(self):
        pass


class RawSink:
    def __init__(self, iface):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        try:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        except OSError:
            pass
        self.s.bind((iface, 0))
        self.send = self.s.send

    def close(self):
        self.s.close()


def run(a, ctx, specs, sink):
    tally = Tally(a.src_random)
    prebuilt = []
    for spec in specs:
        frame, src = build(spec, ctx)
        prebuilt.append((spec, classify(spec), frame, src))

    cap = a.duration if a.duration is not None else DEFAULT_CAP_S
    count = a.count
    if count is None and a.duration is None:
        count = 1 if a.mix == "default" else None
        if count is None:
            cap = 1.0            # floods without bounds: one second
    interval = 1.0 / a.rate if a.rate else 0.0

    start = time.monotonic()
    deadline = start + cap
    sent_total = 0
    repeats = 0
    stopped_by = "count"
    nframes = len(prebuilt)
    # Check the clock every frame when pacing or when the mix is long,
    # every 256 frames in a tight flood loop.
    check_every = 1 if (interval or nframes > 1) else 256
    send = sink.send
    rebuild = a.src_random
    try:
        while count is None or repeats < count:
            for spec, keys, frame, src in prebuilt:
                if sent_total % check_every == 0:
                    now = time.monotonic()
                    if now >= deadline:
                        stopped_by = "duration"
                        raise _Stop
                    if interval:
                        due = start + sent_total * interval
                        if due > now:
                            time.sleep(min(due - now, deadline - now))
                            if time.monotonic() >= deadline:
                                stopped_by = "duration"
                                raise _Stop
                if rebuild and spec["kind"] == "ip":
                    frame, src = build(spec, ctx, ctx.random_addr(spec["fam"]))
                try:
                    send(frame)
                except OSError as e:
                    tally.errors += 1
                    if tally.first_error is None:
                        tally.first_error = "%s (frame %d bytes: %s)" % (
                            e.strerror, len(frame), spec["desc"])
                    if tally.errors > 1000 and tally.frames == 0:
                        raise
                    sent_total += 1
                    continue
                tally.add(spec, keys, len(frame), src)
                sent_total += 1
            repeats += 1
    except _Stop:
        pass
    except KeyboardInterrupt:
        stopped_by = "interrupt"
    elapsed = time.monotonic() - start
    return tally.report(a, elapsed, repeats, stopped_by)


# --------------------------------------------------------------------------
# Command line

def doc_addr(text, what, fam=None):
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise UsageError("%s: not an IP address: %s" % (what, text)) from None
    if fam and addr.version != fam:
        raise UsageError("%s must be IPv%d: %s" % (what, fam, text))
    if not any(addr in n for n in DOC_NETS):
        raise UsageError("%s %s is outside the documentation ranges "
                         "192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32" % (what, text))
    return addr


def doc_net(text, what, fam):
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError as e:
        raise UsageError("%s: %s" % (what, e)) from None
    if net.version != fam:
        raise UsageError("%s must be IPv%d: %s" % (what, fam, text))
    if not any(net.subnet_of(n) for n in DOC_NETS if n.version == fam):
        raise UsageError("%s %s is outside the documentation ranges" % (what, text))
    if net.num_addresses < 16:
        raise UsageError("%s %s: need at least 16 addresses" % (what, text))
    return net


def iface_mac(iface):
    try:
        with open("/sys/class/net/%s/address" % iface) as f:
            return f.read().strip()
    except OSError:
        raise UsageError("no such interface: %s" % iface) from None


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="sendpkts.py",
        description="Send exact Ethernet frames on a raw socket and print, as "
                    "JSON, what was sent (see the module docstring for the "
                    "byte accounting).",
        epilog="mixes: " + "; ".join("%s: %s" % (k, v[0]) for k, v in MIXES.items()))
    p.add_argument("--iface", help="interface to send on (in the lab: the peer end)")
    p.add_argument("--dst-mac", help="destination MAC (the host end)")
    p.add_argument("--src-mac", help="source MAC (default: the interface's)")
    p.add_argument("--dst4", default="192.0.2.1", help="IPv4 destination")
    p.add_argument("--dst6", default="2001:db8:1::1", help="IPv6 destination")
    p.add_argument("--src4", default="192.0.2.2",
                   help="the sender's own IPv4 address (ARP, ping)")
    p.add_argument("--src6", default="2001:db8:1::2",
                   help="the sender's own IPv6 address (ping)")
    p.add_argument("--pool4", default="198.51.100.0/24",
                   help="IPv4 network for the other and the random sources")
    p.add_argument("--pool6", default="2001:db8:ff::/48",
                   help="IPv6 network for the other and the random sources")
    p.add_argument("--mix", default="default", choices=sorted(MIXES))
    p.add_argument("--count", type=int, help="send the mix N times")
    p.add_argument("--duration", type=float,
                   help="stop after S seconds (default cap: %g s)" % DEFAULT_CAP_S)
    p.add_argument("--rate", type=float, help="at most PPS frames per second")
    p.add_argument("--src-random", action="store_true",
                   help="a new random source address (from the pools) per packet")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--family", type=int, choices=(4, 6), default=4,
                   help="IP version of the flood mixes")
    p.add_argument("--size", type=int, help="frame size of the flood mixes")
    p.add_argument("--dport", type=int, help="destination port of the flood mixes")
    p.add_argument("--only", metavar="TEXT[,TEXT...]",
                   help="keep only the frames of the mix whose description "
                        "(see --list) contains one of the TEXTs (any case)")
    p.add_argument("--no-pad", action="store_true",
                   help="do not pad frames shorter than 60 bytes")
    p.add_argument("--pcap", metavar="FILE",
                   help="write the frames to a pcap file instead of sending")
    p.add_argument("--dry-run", action="store_true",
                   help="send nothing, just print what would be sent")
    p.add_argument("--list", action="store_true",
                   help="print the frames of the mix (one line each) and exit")
    p.add_argument("--pretty", action="store_true", help="indent the JSON")
    a = p.parse_args(argv)

    a.dst4 = doc_addr(a.dst4, "--dst4", 4)
    a.dst6 = doc_addr(a.dst6, "--dst6", 6)
    a.src4 = doc_addr(a.src4, "--src4", 4)
    a.src6 = doc_addr(a.src6, "--src6", 6)
    a.pool4 = doc_net(a.pool4, "--pool4", 4)
    a.pool6 = doc_net(a.pool6, "--pool6", 6)
    if a.count is not None and a.count < 1:
        raise UsageError("--count must be at least 1")
    if a.duration is not None and not 0 < a.duration <= MAX_DURATION_S:
        raise UsageError("--duration must be in (0, %g]" % MAX_DURATION_S)
    if a.rate is not None and not 0 < a.rate <= 10_000_000:
        raise UsageError("--rate must be in (0, 10000000]")
    if a.size is not None:
        if a.mix == "default":
            raise UsageError("--size only applies to the flood mixes")
        if not ETH_MIN <= a.size <= ETH_MAX:
            raise UsageError("--size must be in [%d, %d]" % (ETH_MIN, ETH_MAX))
    if a.dport is not None and not 0 < a.dport < 65536:
        raise UsageError("--dport must be in [1, 65535]")
    offline = a.pcap or a.dry_run or a.list
    if not offline and not a.iface:
        raise UsageError("--iface is required (or use --pcap/--dry-run/--list)")
    if not offline and not a.dst_mac:
        raise UsageError("--dst-mac is required")
    if not a.dst_mac:
        a.dst_mac = "02:00:00:00:00:01"
    if not a.src_mac:
        a.src_mac = iface_mac(a.iface) if a.iface else "02:00:00:00:00:02"
    if a.pcap and a.count is None and a.duration is None and a.mix != "default":
        a.count = 1
    return a


def main(argv):
    try:
        a = parse_args(argv)
        ctx = Ctx(a)
        specs = make_mix(ctx, a)
    except (UsageError, ValueError) as e:
        print("sendpkts.py: error: %s" % e, file=sys.stderr)
        return 2
    if a.list:
        for i, spec in enumerate(specs):
            frame, _ = build(spec, ctx)
            print("%2d %5d  %s" % (i + 1, len(frame), spec["desc"]))
        return 0
    try:
        if a.dry_run:
            sink = NullSink()
        elif a.pcap:
            sink = PcapSink(a.pcap)
        else:
            sink = RawSink(a.iface)
    except OSError as e:
        print("sendpkts.py: error: %s: %s" % (a.pcap or a.iface, e.strerror),
              file=sys.stderr)
        return 1
    try:
        report = run(a, ctx, specs, sink)
    except OSError as e:
        print("sendpkts.py: error: send on %s: %s" % (a.iface, e.strerror),
              file=sys.stderr)
        return 1
    finally:
        sink.close()
    json.dump(report, sys.stdout, indent=2 if a.pretty else None, sort_keys=True)
    sys.stdout.write("\n")
    if report["send_errors"]:
        print("sendpkts.py: %d send errors, first: %s"
              % (report["send_errors"], report.get("first_error")), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
