#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# src-log end to end, through the binary, on real traffic in the lab
# (tests/lib/lab.bash): a netns + veth, frames from sendpkts.py and a real
# TCP connection, tcpdump/tshark on the host end as the oracle.
#
#   - whole path (tcx, tc, xdp): every IP frame of the capture is exactly one
#     event of `-j watch`, with the capture's src, dst, proto, ports, ICMP
#     type/code, VLAN id and length (tshark), TCP flags as tcpdump prints
#     them, in the capture's order per source, at the capture's time.  At TC
#     ingress the kernel has taken the outer VLAN tag out of the frame
#     (skb->vlan_tci), so a tagged frame's len is 4 bytes less than the
#     capture's; XDP sees the frame whole.  Frames that are not IP (ARP, a
#     runt cut inside its IPv4 header) are not_ip.
#   - filters: each one on the same mix, the expected events selected from
#     the capture by a tshark display filter; new-flows (one event per flow,
#     again after flow-timeout); sample N (exactly one in N per CPU by the
#     counter identity of bpf/src_log.h); live `filter` changes, `sources`
#     and `counters` against the capture.
#   - accounting under a bounded flood: the summary's identity, and `seen`
#     equal to the host veth's rx_packets; with max-rate, rate_capped > 0.
#   - record: gzip rotation (rotate 4k keep 3), plain files, plain rotation.
#   - watch's temporary attach: gone after SIGINT, SIGTERM and count; left by
#     kill -9 and taken over (with a warning) by the next watch, or detached.
#   - bad input (exit 2), unwritable files and a full disk (exit 1), and
#     nothing left attached afterwards.
#
# Every sender runs pinned to one CPU (LAB_PYTHON): a veth delivers on the
# sending CPU, so the per-CPU sample counter and the per-source order are
# deterministic.
#
# shellcheck disable=SC2153 # LAB_* come from lab_up
# shellcheck disable=SC2030,SC2031 # bats runs each test in a subshell
# shellcheck disable=SC2143 # [ -z "$(grep ...)" ]: bats ignores a `!` status

load ../lib/common

setup() {
	require_lab || return
	require_cmd bpftool tc gzip taskset mountpoint || return
	PKTSCOPE=$(pktscope_bin) || fail "pktscope is not built"
	T=$BATS_TEST_TMPDIR
	CPU=$(awk '/^Cpus_allowed_list:/ { split($2, a, /[-,]/); print a[1] }' /proc/self/status)
	PY=/usr/bin/python3
	[[ -x $PY ]] || PY=$(command -v python3)
	printf '#!/bin/sh\nexec taskset -c %s %s "$@"\n' "$CPU" "$PY" >"$T/python-pinned"
	chmod +x "$T/python-pinned"
	export LAB_PYTHON=$T/python-pinned
	write_tools
	BG_PIDS=
	PROG_IDS=
	lab_up srclog
	IF=$LAB_HOST_IF
	PIN=/sys/fs/bpf/pktscope/$IF
}

teardown() {
	local p
	for p in ${BG_PIDS:-}; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	# only our interface: other tests may have attachments of their own
	if [[ -n ${PKTSCOPE:-} && -n ${IF:-} ]]; then
		"$PKTSCOPE" -q src-log detach dev "$IF" >/dev/null 2>&1 || true
	fi
	if [[ -n ${TINY:-} ]] && mountpoint -q "$TINY"; then
		umount "$TINY" 2>/dev/null || umount -l "$TINY" || true
	fi
	if declare -F lab_cleanup >/dev/null; then
		lab_cleanup
	fi
}

# ------------------------------------------------------------------ helpers

# run with stderr apart
run_err() {
	local errf="$T/stderr"
	run bash -c '"$@" 2>"'"$errf"'"' _ "$@"
	stderr=$(cat "$errf")
	echo "status $status"
	echo "stdout: ${output:0:2000}"
	echo "stderr: $stderr"
}

# the pinned config of src-log on $IF, one field of it (nothing while
# there is none: bpftool then prints an error object)
config_field() {
	bpftool -j map dump pinned "$PIN/src-log/config" 2>/dev/null |
		jq -r --arg f "$1" 'if type == "array" then .[0].formatted.value[$f] // empty else empty end' \
			2>/dev/null || true
}

# the pinned per-CPU stats, each reader slot's outcomes added to the
# global counters (slog_stats_total()): summed, or per CPU with "percpu"
stats() {
	local fold='def fold: . as $v | reduce $v.rd[] as $r ($v | del(.rd); reduce ($r | keys[]) as $k (.; .[$k] += $r[$k]));'
	if [[ ${1:-} == percpu ]]; then
		bpftool -j map dump pinned "$PIN/src-log/stats" | jq -c "$fold"' [.[0].formatted.values[].value | fold]'
	else
		bpftool -j map dump pinned "$PIN/src-log/stats" |
			jq -c "$fold"' [.[0].formatted.values[].value | fold] | reduce .[] as $v ({}; reduce ($v | keys[]) as $k (.; .[$k] += $v[$k]))'
	fi
}

# Until the watch (pid $1) beats in a reader slot of its own.
wait_reader() {
	local pid=$1 i
	for ((i = 0; i < 200; i++)); do
		[[ -n $(slog_slot_of "$PIN/src-log/config" "$pid") ]] && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# watch_start [-o FILE] ARGS...: a background `-j src-log watch dev $IF
# ARGS`, stdout to FILE ($T/watch.json), stderr to FILE.err; returns once it
# reads.  Remembers the program id for assert_clean.
watch_start() {
	local out=$T/watch.json id
	if [[ $1 == -o ]]; then
		out=$2
		shift 2
	fi
	WATCH_OUT=$out
	"$PKTSCOPE" -j src-log watch dev "$IF" "$@" >"$out" 2>"$out.err" 3>&- &
	WATCH_PID=$!
	BG_PIDS+=" $WATCH_PID"
	if ! wait_reader "$WATCH_PID"; then
		fail "watch $* did not start: $(cat "$out.err")"
		return 1
	fi
	id=$("$PKTSCOPE" -j src-log status dev "$IF" | jq -r '.attachments[0].prog_id // empty')
	PROG_IDS+=" $id"
}

# Until every event the BPF side made is in the watch's output (and that
# stays so for 0.2 s): the watch drains within its 100 ms poll.
wait_drained() {
	local i made lines stable=0
	for ((i = 0; i < 150 && stable < 3; i++)); do
		made=$(stats | jq .events)
		lines=$(wc -l <"$WATCH_OUT")
		if [[ $made == "$lines" ]]; then
			stable=$((stable + 1))
		else
			stable=0
		fi
		sleep 0.1
	done
	((stable >= 3)) || fail "watch output stuck at $lines lines, $made events made"
}

# watch_stop [SIGNAL]: drain, signal (INT), require exit 0; sets SUMMARY and
# writes the events alone to $WATCH_OUT.events
watch_stop() {
	local sig=${1:-INT} rc=0
	wait_drained || return 1
	kill -"$sig" "$WATCH_PID"
	wait "$WATCH_PID" || rc=$?
	BG_PIDS=${BG_PIDS/ $WATCH_PID/}
	watch_result "$rc"
}

watch_result() {
	local rc=$1
	if [[ $rc -ne 0 ]]; then
		fail "watch exited $rc: $(cat "$WATCH_OUT.err")"
		return 1
	fi
	SUMMARY=$(tail -n 1 "$WATCH_OUT" | jq -c '.summary // empty')
	[[ -n $SUMMARY ]] || fail "no summary line: $(tail -n 2 "$WATCH_OUT")" || return 1
	grep -v '^{"summary"' "$WATCH_OUT" >"$WATCH_OUT.events" || true
	echo "summary: $SUMMARY"
}

sum_field() { jq -r ".$1" <<<"$SUMMARY"; }

# nothing of ours on $IF: no pins, no XDP, no tc filter, every program we
# saw freed (after an RCU grace period: allow 2 s), no tcx link to it
assert_clean() {
	local id
	[ ! -e "$PIN/src-log" ] || fail "pins left: $(ls -R "$PIN")" || return 1
	if ip link show "$IF" >/dev/null 2>&1; then
		! ip -d link show "$IF" | grep -q 'prog/xdp' || fail "XDP program left on $IF" || return 1
		[ -z "$(tc filter show dev "$IF" ingress 2>/dev/null)" ] || fail "tc filter left on $IF" || return 1
	fi
	for id in ${PROG_IDS:-}; do
		if bpftool link show | grep -Eq "prog $id( |\$)"; then
			fail "a link to program $id is left"
			return 1
		fi
		for _ in $(seq 20); do
			bpftool prog show id "$id" >/dev/null 2>&1 || continue 2
			sleep 0.1
		done
		fail "program $id still loaded"
		return 1
	done
}

# the attachment is there: pins, and the program on its hook
assert_attached() {
	local mode=$1 id
	[ -e "$PIN/src-log/config" ] || fail "no pins under $PIN/src-log" || return 1
	id=$("$PKTSCOPE" -j src-log status dev "$IF" | jq -r '.attachments[0].prog_id // empty')
	[ -n "$id" ] || fail "status shows no attachment on $IF" || return 1
	case $mode in
	xdp*) ip -d link show "$IF" | grep -q "prog/xdp id $id " || fail "XDP program $id not on $IF" ;;
	tcx) bpftool link show | grep -Eq "prog $id( |\$)" || fail "no tcx link to program $id" ;;
	tc) tc filter show dev "$IF" ingress | grep -q "id $id " || fail "no tc filter with program $id" ;;
	esac
}

# capture_fields PCAP [DISPLAY_FILTER] > TSV: one line per frame (tshark)
capture_fields() {
	local cfg rc=0
	cfg=$(mktemp -d "$T/wireshark.XXXXXX")
	WIRESHARK_CONFIG_DIR=$cfg tshark -n -r "$1" ${2:+-Y "$2"} -T fields -E separator=/t \
		-E occurrence=f -e frame.number -e frame.time_epoch -e frame.len \
		-e frame.protocols -e vlan.id -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst \
		-e tcp.srcport -e tcp.dstport -e tcp.flags -e udp.srcport -e udp.dstport \
		-e icmp.type -e icmp.code -e icmpv6.type -e icmpv6.code -e _ws.malformed \
		-e ieee8021ad.id \
		2>"$T/tshark.err" || rc=$?
	rm -rf -- "$cfg"
	if ((rc)); then
		grep -v 'Running as user' "$T/tshark.err" >&2
		return "$rc"
	fi
}

# oracle PCAP: $PCAP.tsv (tshark, every frame) and $PCAP.txt (tcpdump's
# one line a frame, for its TCP flags)
oracle() {
	capture_fields "$1" >"$1.tsv" || return 1
	tcpdump -nn -r "$1" >"$1.txt" 2>/dev/null || return 1
	[ "$(wc -l <"$1.tsv")" -eq "$(wc -l <"$1.txt")" ] ||
		fail "tshark and tcpdump disagree on the frames of $1"
}

# compare PCAP HOOK [compare.py options]: the watch's events against the
# capture (oracle PCAP first)
compare() {
	local pcap=$1 hook=$2
	shift 2
	"$PY" "$T/compare.py" --frames "$pcap.tsv" --tcpdump "$pcap.txt" \
		--events "$WATCH_OUT" --hook "$hook" --ifname "$IF" "$@"
}

# the N-th address of the IPv4 pool (sendpkts' fixed sources are 7, 8, 9)
pool4_addr() {
	"$PY" -c 'import ipaddress, sys; print(ipaddress.ip_network(sys.argv[1]).network_address + int(sys.argv[2]))' "$LAB_POOL4" "$1"
}

# the mix every functional test sends: default (31 frames: TCP SYNs to 4
# ports, UDP, ICMP, IPv4 and IPv6, 802.1Q, QinQ, ARP, a runt)
send_mix() {
	lab_send --mix default --count "${1:-1}" >"$T/sent.json" ||
		fail "sendpkts failed: $(cat "$T/sent.json")"
}

# A real TCP connection per address family, from the peer to the host:
# handshake, data, FIN, so that SYN, ACK, PSH and FIN arrive at the hook.
# tcp_exchange [LEN]: LEN bytes of a pattern as the data (tcp_peer.py).
tcp_exchange() {
	local port=5555
	"$PY" "$T/tcp_peer.py" server "$LAB_HOST_IP4" "$LAB_HOST_IP6" "$port" 2 \
		"$T/server.ready" >"$T/server.out" 2>&1 3>&- &
	local spid=$! i
	BG_PIDS+=" $spid"
	for ((i = 0; i < 100; i++)); do
		[[ -e $T/server.ready ]] && break
		sleep 0.02
	done
	if ! lab_exec "$LAB_PYTHON" "$T/tcp_peer.py" client "$LAB_HOST_IP4" "$port" ${1:+"$1"} ||
		! lab_exec "$LAB_PYTHON" "$T/tcp_peer.py" client "$LAB_HOST_IP6" "$port" ${1:+"$1"}; then
		fail "TCP client failed"
	fi
	wait "$spid" || fail "TCP server failed: $(cat "$T/server.out")"
	BG_PIDS=${BG_PIDS/ $spid/}
	rm -f "$T/server.ready"
}

# TCP frames with unusual flag sets (FIN+SYN, ACK+URG, ACK+ECE, SYN+ECE+CWR,
# none, all, RST+ACK), from a pool source: tcpdump's way of printing flags
send_odd_flags() {
	lab_exec "$LAB_PYTHON" "$T/odd_flags.py" "$LAB_PEER_IF" "$LAB_HOST_MAC" \
		"$LAB_PEER_MAC" "$LAB_POOL4" "$LAB_HOST_IP4" || fail "odd_flags.py failed"
}

# the tools the tests run, written once per test into $T
write_tools() {
	cat >"$T/compare.py" <<'EOF'
"""Compare src-log's JSON Lines (watch or record) with a capture.

--frames: tshark fields, one line a frame (capture_fields); --tcpdump:
tcpdump's text, one line a frame (its "Flags [..]" for TCP).  Each IP frame
of the capture (or of --select, the frames a display filter picked) must be
exactly one event with the same fields, in the capture's order per source.
Then the summary line: seen, not_ip, filtered, events and made.
"""
import argparse, json, re, sys
from decimal import Decimal

COLS = ("num time len protos vlan ip_src ip_dst ip6_src ip6_dst tcp_sport "
        "tcp_dport tcp_flags udp_sport udp_dport icmp_type icmp_code "
        "icmp6_type icmp6_code malformed qinq").split()
L4 = ("tcp", "udp", "icmp", "icmpv6", "sctp", "gre")


def frames(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                v = line.split("\t")
                out.append(dict(zip(COLS, v + [""] * (len(COLS) - len(v)))))
    return out


def expect(fr, a, flags):
    protos = fr["protos"].split(":")
    if fr["malformed"] or ("ip" not in protos and "ipv6" not in protos):
        return None
    fam = "ipv4" if fr["ip_src"] else "ipv6"
    l3 = protos.index("ip" if fam == "ipv4" else "ipv6")
    proto = next((p for p in protos[l3 + 1:] if p in L4), None)
    e = {"ifname": a.ifname, "family": fam, "proto": proto,
         "src": fr["ip_src"] or fr["ip6_src"], "dst": fr["ip_dst"] or fr["ip6_dst"]}
    if proto == "tcp":
        e.update(sport=int(fr["tcp_sport"]), dport=int(fr["tcp_dport"]),
                 tcp_flags=flags[int(fr["num"])])
    elif proto == "udp":
        e.update(sport=int(fr["udp_sport"]), dport=int(fr["udp_dport"]))
    elif proto == "icmp":
        e.update(icmp_type=int(fr["icmp_type"]), icmp_code=int(fr["icmp_code"]))
    elif proto == "icmpv6":
        e.update(icmp_type=int(fr["icmp6_type"]), icmp_code=int(fr["icmp6_code"]))
    length = int(fr["len"])
    outer = fr["qinq"] or fr["vlan"]    # tshark: 802.1ad apart from 802.1Q
    if outer:
        e["vlan"] = int(outer)
        if a.hook == "tc":
            length -= 4     # the outer tag is in skb->vlan_tci at TC ingress
    e["len"] = length
    return e


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--frames", required=True)
    p.add_argument("--tcpdump", required=True)
    p.add_argument("--events", required=True)
    p.add_argument("--hook", choices=("tc", "xdp"), required=True)
    p.add_argument("--ifname", required=True)
    p.add_argument("--select", help="frames (tshark fields) the filter passes")
    p.add_argument("--no-ts", action="store_true",
                   help="the capture is of another send of the same frames")
    p.add_argument("--no-summary", action="store_true")
    a = p.parse_args()

    flags = {}
    with open(a.tcpdump) as f:
        for n, line in enumerate(f, 1):
            m = re.search(r"Flags \[([^]]*)\]", line)
            if m:
                flags[n] = m.group(1)
    allf = frames(a.frames)
    ip = [(fr, expect(fr, a, flags)) for fr in allf]
    ip = [(fr, e) for fr, e in ip if e]
    want = ip
    if a.select:
        sel = {fr["num"] for fr in frames(a.select)}
        want = [(fr, e) for fr, e in ip if fr["num"] in sel]
        if len(want) != len(sel):
            sys.exit("--select holds frames that are not IP")

    events, summary = [], None
    with open(a.events) as f:
        for n, line in enumerate(f, 1):
            try:
                o = json.loads(line, parse_float=Decimal)
            except ValueError as err:
                sys.exit("%s:%d: not JSON (%s): %r" % (a.events, n, err, line))
            if "summary" in o:
                summary = o["summary"]
            elif summary is not None:
                sys.exit("%s:%d: a line after the summary" % (a.events, n))
            else:
                events.append(o)

    bad = []
    by_src_want, by_src_got = {}, {}
    for fr, e in want:
        by_src_want.setdefault(e["src"], []).append((fr, e))
    for ev in events:
        by_src_got.setdefault(ev.get("src"), []).append(ev)
    for src in sorted(set(by_src_want) | set(by_src_got), key=str):
        w = by_src_want.get(src, [])
        g = by_src_got.get(src, [])
        if len(w) != len(g):
            bad.append("source %s: %d frames, %d events" % (src, len(w), len(g)))
        for i, ((fr, e), ev) in enumerate(zip(w, g)):
            ev = dict(ev)
            ts = ev.pop("ts", None)
            if ev != e:
                bad.append("source %s, #%d (frame %s):\n  capture: %s\n  event:   %s"
                           % (src, i + 1, fr["num"], json.dumps(e, sort_keys=True),
                              json.dumps(ev, sort_keys=True, default=str)))
            elif not a.no_ts and abs(Decimal(fr["time"]) - Decimal(ts)) > Decimal("0.5"):
                bad.append("source %s, #%d (frame %s): ts %s, captured at %s"
                           % (src, i + 1, fr["num"], ts, fr["time"]))
    if not a.no_summary:
        if summary is None:
            bad.append("no summary line")
        else:
            nip = len(ip)
            exp = {"seen": len(allf), "not_ip": len(allf) - nip,
                   "filtered": nip - len(want), "events": len(want),
                   "made": len(want), "lost": 0, "sampled_out": 0,
                   "rate_capped": 0, "not_new": 0}
            for k, v in exp.items():
                if summary.get(k) != v:
                    bad.append("summary %s: %s, expected %d" % (k, summary.get(k), v))
    if bad:
        print("\n".join(bad[:20]))
        sys.exit(1)
    print(json.dumps({"frames": len(allf), "ip": len(ip), "events": len(events)}))


main()
EOF
	cat >"$T/tcp_peer.py" <<'EOF'
"""tcp_peer.py server ADDR4 ADDR6 PORT N READYFILE | client ADDR PORT [LEN]

The client sends 300 x bytes, or LEN bytes of a pattern that tells one
offset from another."""
import os, select, socket, sys

if sys.argv[1] == "server":
    a4, a6, port, n, ready = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    socks = []
    for fam, addr in ((socket.AF_INET, a4), (socket.AF_INET6, a6)):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(4)
        socks.append(s)
    open(ready, "w").close()
    for _ in range(n):
        r, _, _ = select.select(socks, [], [], 10)
        if not r:
            sys.exit("server: no connection")
        c, _ = r[0].accept()
        c.settimeout(10)
        data = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            data += b
        c.sendall(b"got %d\n" % len(data))
        c.close()
else:
    addr, port = sys.argv[2], int(sys.argv[3])
    if len(sys.argv) > 4:
        data = bytes(i % 251 for i in range(int(sys.argv[4])))
    else:
        data = b"x" * 300
    c = socket.create_connection((addr, port), timeout=10)
    c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    reply = c.recv(100)
    assert reply == b"got %d\n" % len(data), reply
    c.close()
EOF
	cat >"$T/odd_flags.py" <<EOF
"""odd_flags.py IFACE DST_MAC SRC_MAC POOL4 DST4: TCP frames with odd flags"""
import ipaddress, socket, sys
sys.path.insert(0, "$PKTSCOPE_TESTLIB")
import sendpkts as s


class Pad:
    pad = True      # like a NIC: 60 bytes at least

iface, dmac, smac, pool, dst = sys.argv[1:6]
src = ipaddress.ip_network(pool).network_address + 20
dst = ipaddress.ip_address(dst)
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
sock.bind((iface, 0))
for i, fl in enumerate((0x03, 0x30, 0x50, 0xC2, 0x00, 0xFF, 0x14, 0x29)):
    seg = s.tcp_segment(src, dst, 44000 + i, 9999, 1, flags=fl)
    eth = s.eth_header(s.mac_bytes(dmac), s.mac_bytes(smac), s.ETH_P_IP)
    sock.send(s.pad(eth + s.ipv4_header(src, dst, s.IPPROTO_TCP, len(seg)) + seg, Pad()))
EOF
}

# ------------------------------------------------------------- whole path

# whole_path MODE HOOK: the default mix, real TCP connections and odd TCP
# flags through `watch mode MODE`, against the capture
whole_path() {
	local mode=$1 hook=$2
	lab_capture_start "$T/cap.pcap"
	watch_start mode "$mode"
	assert_attached "$mode"
	send_mix
	tcp_exchange
	send_odd_flags
	watch_stop
	lab_capture_stop "$T/cap.pcap"
	oracle "$T/cap.pcap"
	run compare "$T/cap.pcap" "$hook"
	echo "$output"
	[ "$status" -eq 0 ]
	# what was sent is what was captured, and every kind is there
	[ "$(jq .frames "$T/sent.json")" -eq 31 ]
	[ "$(lab_count 'tcp.flags.syn == 1 && tcp.flags.ack == 0' "$T/cap.pcap")" -ge 9 ]
	[ "$(lab_count 'tcp.flags.fin == 1 && tcp.flags.ack == 1' "$T/cap.pcap")" -ge 2 ]
	[ "$(lab_count 'vlan' "$T/cap.pcap")" -eq 2 ]
	[ "$(jq .not_ip <<<"$SUMMARY")" -eq 2 ]
	# tcpdump's spelling of flags
	grep -q '"tcp_flags":"FS"' "$WATCH_OUT"
	grep -q '"tcp_flags":".U"' "$WATCH_OUT"
	grep -q '"tcp_flags":"none"' "$WATCH_OUT"
	grep -q '"tcp_flags":"FSRP.UEW"' "$WATCH_OUT"
	[ ! -s "$WATCH_OUT.err" ]
	assert_clean
}

@test "whole path, mode tcx: each IP frame is one event with the capture's fields, in order" {
	whole_path tcx tc
}

@test "whole path, mode xdp: each IP frame is one event with the capture's fields, in order" {
	whole_path xdp xdp
}

@test "whole path, mode tc: each IP frame is one event with the capture's fields, in order" {
	whole_path tc tc
}

# A terminal's stdio is line-buffered; the watch must still write once per
# poll round, not once per event (a flood on a terminal lost a third of its
# events that way), and lose nothing.
@test "watch on a terminal: every event in order, then the summary, a write per round not per event" {
	local spid pid i nlines writes w0 rc=0
	lab_capture_start "$T/cap.pcap"
	WATCH_OUT=$T/tty.json
	# script(1) runs the watch on a pty; the typescript is what it showed
	script -q -e -c "exec $(printf '%q ' "$PKTSCOPE" -j src-log watch dev "$IF") 2>$(printf '%q' "$WATCH_OUT.err")" \
		"$T/tty.log" >/dev/null </dev/null &
	spid=$!
	BG_PIDS+=" $spid"
	for ((i = 0; i < 100; i++)); do
		pid=$(pgrep -P "$spid") && break
		sleep 0.05
	done
	[[ -n $pid ]] || fail "script(1) did not start the watch"
	[[ $(readlink "/proc/$pid/fd/1") == /dev/pts/* ]] || fail "watch's stdout is $(readlink "/proc/$pid/fd/1")"
	wait_reader "$pid" || fail "watch did not start: $(cat "$WATCH_OUT.err")"
	w0=$(awk '/^syscw:/ { print $2 }' "/proc/$pid/io")
	send_mix
	for ((i = 0; i < 100; i++)); do
		nlines=$(grep -c '^{' "$T/tty.log" || true)
		[[ $nlines -lt $(stats | jq .events) ]] || break
		sleep 0.1
	done
	writes=$(($(awk '/^syscw:/ { print $2 }' "/proc/$pid/io") - w0))
	kill -INT "$pid"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$spid" || rc=$?
	BG_PIDS=${BG_PIDS/ $spid/}
	lab_capture_stop "$T/cap.pcap"
	grep '^{' "$T/tty.log" | tr -d '\r' >"$WATCH_OUT"
	watch_result "$rc"
	oracle "$T/cap.pcap"
	run compare "$T/cap.pcap" tc
	echo "$output"
	[ "$status" -eq 0 ]
	echo "# $nlines events, $writes writes"
	[ "$nlines" -ge 20 ]
	# a poll round is 100 ms: the mix arrives within a few
	[ "$writes" -lt $((nlines / 2)) ]
	[ ! -s "$WATCH_OUT.err" ]
	assert_clean
}

# ----------------------------------------------------------------- filters

# filter_case DISPLAY_FILTER FILTER_ARGS...: one watch with the filters on
# the default mix; the events must be the reference capture's frames that
# the display filter selects (the same frames: sendpkts is deterministic)
filter_case() {
	local df=$1
	shift
	echo "# filter: $* (tshark: $df)"
	capture_fields "$T/ref.pcap" "(ip || ipv6) && !_ws.malformed && ($df)" >"$T/sel.tsv"
	if [[ ${ON_ATTACH:-} == 1 ]]; then
		"$PKTSCOPE" -q src-log attach dev "$IF" "$@" || return 1
		watch_start
	else
		watch_start "$@"
	fi
	send_mix
	watch_stop
	[[ ${ON_ATTACH:-} == 1 ]] && "$PKTSCOPE" -q src-log detach dev "$IF"
	run compare "$T/ref.pcap" tc --no-ts --select "$T/sel.tsv"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/sel.tsv")" -gt 0 ]
}

@test "filters on real traffic: proto, src and not-src (pool prefixes), dport range, sport, syn" {
	# the reference: the default mix once, captured
	lab_capture_start "$T/ref.pcap"
	send_mix
	lab_capture_stop "$T/ref.pcap"
	oracle "$T/ref.pcap"

	filter_case 'udp' proto udp
	filter_case 'tcp || icmpv6' proto tcp proto icmpv6
	filter_case "ip.src == $LAB_POOL4 || ipv6.src == $LAB_POOL6" src "$LAB_POOL4" src "$LAB_POOL6"
	filter_case "!(ipv6.src == $LAB_POOL6)" not-src "$LAB_POOL6"
	# the longest prefix wins: one address out of the allowed pool
	filter_case "ip.src == $LAB_POOL4 && ip.src != $(pool4_addr 7)" src "$LAB_POOL4" not-src "$(pool4_addr 7)/32"
	filter_case 'udp.dstport >= 5000 && udp.dstport <= 5003' dport 5000-5003
	filter_case 'tcp.srcport >= 40002 && tcp.srcport <= 40005' sport 40002-40005
	filter_case 'tcp.dstport == 443 && ipv6' proto tcp dport 443 src "$LAB_POOL6"
	# more than 8 prefixes of a family: the program looks the list up in
	# its trie instead of comparing it in the config (bpf/src_log.h); the
	# attachment's lists only (a reader's are 8 at most)
	local args=() set="" a n
	for n in 1 2 3 4 5 6 8 10 11; do
		a=$(pool4_addr "$n")
		args+=(not-src "$a/32")
		set+="${set:+, }$a"
	done
	ON_ATTACH=1 filter_case "!(ip.src in {$set})" "${args[@]}"
	args=() set=""
	for n in 1 2 3 4 5 6 7 10 11; do
		a=$(pool4_addr "$n")
		args+=(src "$a/32")
		set+="${set:+, }$a"
	done
	ON_ATTACH=1 filter_case "ip.src in {$set} || ipv6.src == $LAB_POOL6" "${args[@]}" src "$LAB_POOL6"
	assert_clean
}

@test "syn: only connection attempts of a real TCP exchange, not its ACK, PSH or FIN" {
	lab_capture_start "$T/cap.pcap"
	watch_start syn
	send_mix
	tcp_exchange
	send_odd_flags
	watch_stop
	lab_capture_stop "$T/cap.pcap"
	oracle "$T/cap.pcap"
	capture_fields "$T/cap.pcap" 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && !_ws.malformed' >"$T/sel.tsv"
	run compare "$T/cap.pcap" tc --select "$T/sel.tsv"
	echo "$output"
	[ "$status" -eq 0 ]
	# 7 SYNs of the mix, 2 of the connections, SYN+FIN, SYN+ECE+CWR; not
	# the all-flags frame (ACK set)
	[ "$(wc -l <"$T/sel.tsv")" -eq 11 ]
	[ -z "$(grep '"tcp_flags":"[^"]*\.' "$WATCH_OUT")" ]
}

@test "new-flows: one event per flow; a flow idle past flow-timeout is new again" {
	watch_start new-flows flow-timeout 400ms
	send_mix 3
	wait_drained
	# 29 IP frames, 29 flows: each once
	[ "$(wc -l <"$WATCH_OUT")" -eq 29 ]
	sleep 0.6
	send_mix 1
	watch_stop
	[ "$(sum_field events)" -eq 58 ]
	[ "$(sum_field not_new)" -eq 58 ]
	[ "$(sum_field not_ip)" -eq 8 ]
	[ "$(sum_field seen)" -eq 124 ]
	# the first 29 events are 29 distinct flows
	[ "$(head -n 29 "$WATCH_OUT.events" | jq -c '[.src, .dst, .proto, .sport, .dport]' | sort -u | wc -l)" -eq 29 ]

	# a flood from random sources: one event per distinct source
	watch_start -o "$T/w2.json" new-flows proto udp
	lab_send --mix udp-flood --src-random --count 3000 >"$T/flood.json"
	watch_stop
	distinct=$(jq .distinct_sources "$T/flood.json")
	echo "distinct sources sent: $distinct"
	[ "$(sum_field events)" -eq "$distinct" ]
	[ "$(sum_field not_new)" -eq $((3000 - distinct)) ]
	[ "$(jq -r .src "$T/w2.json.events" | sort -u | wc -l)" -eq "$distinct" ]
	assert_clean
}

@test "sample N: exactly one in N per CPU by the counter identity, the first included" {
	run_err "$PKTSCOPE" -j src-log attach dev "$IF" sample 7 proto udp
	[ "$status" -eq 0 ]
	PROG_IDS+=" $(jq -r .prog_id <<<"$output")"
	watch_start
	lab_send --mix udp-flood --count 1000 >/dev/null
	send_mix 2
	watch_stop
	percpu=$(stats percpu)
	echo "per CPU: $percpu"
	# per CPU: one in 7 of the packets that reached step 5c, the first included
	want=$(jq '[.[] | (.sampled_out + .rate_capped + .lost + .events) as $n | ($n + 6) / 7 | floor] | add' <<<"$percpu")
	[ "$(sum_field events)" -eq "$want" ]
	[ "$(sum_field made)" -eq "$want" ]
	# 1000 + 2 x 17 UDP frames passed the filter, 2 x 12 others did not
	[ "$(($(sum_field events) + $(sum_field sampled_out)))" -eq 1034 ]
	[ "$(sum_field filtered)" -eq 24 ]
	# ~1/7: 148 on one CPU, at most one more per other CPU
	[ "$want" -ge 148 ] && [ "$want" -le $((148 + $(nproc) - 1)) ]
	[ "$(wc -l <"$WATCH_OUT.events")" -eq "$want" ]
	[ -z "$(grep -v '"proto":"udp"' "$WATCH_OUT.events")" ]
	run_err "$PKTSCOPE" src-log detach dev "$IF"
	[ "$status" -eq 0 ]
	assert_clean
}

@test "filter changes a running attach live; sources and counters agree with the capture" {
	run_err "$PKTSCOPE" -j src-log attach dev "$IF" mode tcx
	[ "$status" -eq 0 ]
	PROG_IDS+=" $(jq -r .prog_id <<<"$output")"
	lab_capture_start "$T/cap.pcap"
	watch_start
	send_mix
	wait_drained
	run_err "$PKTSCOPE" -j src-log filter dev "$IF" proto icmp proto icmpv6 not-src "$LAB_PEER_IP6/128"
	[ "$status" -eq 0 ]
	[ "$(jq -c .proto <<<"$output")" = '["icmp","icmpv6"]' ]
	[ "$(jq -c .not_src <<<"$output")" = "[\"$LAB_PEER_IP6/128\"]" ]
	send_mix
	wait_drained
	run_err "$PKTSCOPE" -j src-log filter dev "$IF" clear
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.proto, .not_src, .dport, .sample]' <<<"$output")" = '[[],[],"0-65535",1]' ]
	send_mix
	watch_stop
	lab_capture_stop "$T/cap.pcap"
	# 29 + 4 (ICMP, ICMPv6 but the peer's own) + 29
	[ "$(sum_field events)" -eq 62 ]
	[ "$(sum_field filtered)" -eq 25 ]
	[ "$(sed -n '30,33p' "$WATCH_OUT.events" | jq -r .proto | sort | uniq -c | awk '{print $2 $1}' | paste -sd,)" = "icmp3,icmpv61" ]
	# counters: the same numbers as the summary (one watch since attach)
	run_err "$PKTSCOPE" -j src-log counters dev "$IF"
	[ "$status" -eq 0 ]
	[ "$(jq -c '.interfaces[0] | [.seen, .not_ip, .filtered, .events, .lost, .no_reader]' <<<"$output")" = "[93,6,25,62,0,0]" ]
	# sources: packets and bytes per source of what passed the filters,
	# from the capture (at TC ingress a tagged frame is 4 bytes shorter)
	run_err "$PKTSCOPE" -j src-log sources dev "$IF" limit 100
	[ "$status" -eq 0 ]
	jq -S -c '[.interfaces[0].sources[] | {(.addr): [.packets, .bytes, .protocols]}] | add' <<<"$output" >"$T/sources.got"
	capture_fields "$T/cap.pcap" '(ip || ipv6) && !_ws.malformed' >"$T/ip.tsv"
	"$PY" - "$T/ip.tsv" "$LAB_PEER_IP6" >"$T/sources.want" <<'EOF'
import json, sys
ip = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
n = len(ip) // 3            # the same mix three times, in order
icmp = lambda r: {"icmp", "icmpv6"} & set(r[3].split(":")) and r[7] != sys.argv[2]
L4 = ["tcp", "udp", "icmp", "icmpv6", "sctp", "gre"]  # the column's order, then "other"
out, l4 = {}, {}
for r in ip[:n] + [r for r in ip[n:2 * n] if icmp(r)] + ip[2 * n:]:
    src = r[5] or r[7]
    p, b = out.get(src, (0, 0))
    out[src] = (p + 1, b + int(r[2]) - (4 if r[4] else 0))
    first = [x for x in r[3].split(":") if x in L4]
    l4.setdefault(src, set()).add(first[0] if first else "other")
print(json.dumps({k: [v[0], v[1], ",".join(x for x in L4 + ["other"] if x in l4[k])]
                  for k, v in out.items()}, sort_keys=True, separators=(",", ":")))
EOF
	diff "$T/sources.want" "$T/sources.got"
	run_err "$PKTSCOPE" src-log detach dev "$IF"
	assert_clean
}

# -------------------------------------------------------------- accounting

# flood MODE [FILTER_ARGS...]: 21000 UDP frames from random sources, as
# fast as the sender goes (a count, not a time: a frame built per packet is
# slow on a loaded machine), through a watch; every packet accounted for in
# the summary, and seen equal to the packets the host end of the veth
# received (its rx_packets)
flood() {
	local mode=$1 rx0 rx1 drop0 drop1 sent
	shift
	watch_start mode "$mode" "$@"
	read -r rx0 _ drop0 <<<"$(lab_ifstats)"
	lab_send --mix udp-flood --src-random --count 21000 >"$T/flood.json"
	wait_drained
	read -r rx1 _ drop1 <<<"$(lab_ifstats)"
	watch_stop
	sent=$(jq .frames "$T/flood.json")
	echo "sent $sent, veth rx $((rx1 - rx0)) (dropped $((drop1 - drop0)))"
	[ "$(jq .send_errors "$T/flood.json")" -eq 0 ]
	local sum
	sum=$(jq '.events + .lost + .rate_capped + .sampled_out + .filtered + .not_new + .not_ip + (.no_reader // 0)' <<<"$SUMMARY")
	[ "$sum" -eq "$(sum_field seen)" ]
	[ "$(sum_field seen)" -eq $((rx1 - rx0)) ]
	[ "$(sum_field seen)" -eq "$sent" ]
	[ "$(sum_field made)" -eq "$(sum_field events)" ]
	[ "$(wc -l <"$WATCH_OUT.events")" -eq "$(sum_field events)" ]
	[ "$sent" -gt 20000 ]
}

@test "flood (tcx): delivered + every reason not to == seen == the veth's rx_packets" {
	flood tcx
	[ "$(sum_field lost)" -ge 0 ]
	assert_clean
}

@test "flood on a stalled reader (SIGSTOP): the ring fills, then lost, then no_reader; identity holds" {
	local rx0 rx1
	watch_start mode tcx
	read -r rx0 _ <<<"$(lab_ifstats)"
	# stopped, it neither reads the ring nor beats: the ring (4 MiB) fills,
	# the rest is lost, and 2 s after its last beat the BPF side stops
	# making events (no_reader)
	kill -STOP "$WATCH_PID"
	# one fixed frame: a frame built per packet (--src-random) is too slow
	# to fill the ring within those 2 s on a loaded machine
	lab_send --mix udp-flood --duration 3 >"$T/flood.json"
	kill -CONT "$WATCH_PID"
	read -r rx1 _ <<<"$(lab_ifstats)"
	watch_stop
	sum=$(jq '.events + .lost + .rate_capped + .sampled_out + .filtered + .not_new + .not_ip + .no_reader' <<<"$SUMMARY")
	[ "$sum" -eq "$(sum_field seen)" ]
	[ "$(sum_field seen)" -eq $((rx1 - rx0)) ]
	[ "$(sum_field seen)" -eq "$(jq .frames "$T/flood.json")" ]
	[ "$(sum_field lost)" -gt 0 ]
	[ "$(sum_field no_reader)" -gt 0 ]
	[ "$(sum_field made)" -eq "$(sum_field events)" ]
	[ "$(wc -l <"$WATCH_OUT.events")" -eq "$(sum_field events)" ]
	# what the ring held: 4 MiB of 72-byte records (8-byte header + event)
	[ "$(sum_field events)" -le $((4 * 1024 * 1024 / 72)) ]
	[ "$(sum_field events)" -ge $((4 * 1024 * 1024 / 72 - 64)) ]
	assert_clean
}

@test "record pcapng on a stalled reader (SIGSTOP): the lost events are in the file's statistics block" {
	local f=$T/stalled.pcapng rc=0
	# 64-byte snaps: 144 bytes of ring a packet, so the flood fills the
	# 4 MiB ring with fewer frames than the JSON watch above needs
	record_start "$f" mode tcx snaplen 64
	kill -STOP "$WATCH_PID"
	lab_send --mix udp-flood --duration 3 >"$T/flood.json"
	kill -CONT "$WATCH_PID"
	wait_drained_stats
	kill -INT "$WATCH_PID"
	wait "$WATCH_PID" || rc=$?
	BG_PIDS=${BG_PIDS/ $WATCH_PID/}
	[ "$rc" -eq 0 ] || fail "record exited $rc: $(cat "$WATCH_OUT.err")"
	SUMMARY=$(tail -n 1 "$WATCH_OUT" | jq -c '.summary')
	echo "summary: $SUMMARY"
	[ "$(sum_field lost)" -gt 0 ]
	pcapng_isb_check "$f" "$(sum_field lost)"
	assert_eq "$(sum_field events)" "$(jq .epb "$T/isb.json")" "packets in the file"
	tcpdump -r "$f" >/dev/null 2>"$T/td.err" || fail "tcpdump: $(cat "$T/td.err")"
	assert_clean
}

@test "flood with max-rate (xdp): the excess is rate_capped, the identity holds" {
	flood xdp max-rate 1000
	[ "$(sum_field rate_capped)" -gt 0 ]
	# S seconds of flood span at most ceil(S) + 1 one-second windows, each
	# may pass one event per CPU more than max-rate
	local windows
	windows=$(jq '.duration_s | ceil + 1' "$T/flood.json")
	[ "$(sum_field events)" -ge 1000 ]
	[ "$(sum_field events)" -le $((windows * (1000 + $(nproc)))) ] ||
		fail "$(sum_field events) events in $windows windows"
	assert_clean
}

# ------------------------------------------------------------------ record

# record_start FILE ARGS...: a background `src-log record`; returns once it
# reads
record_start() {
	local file=$1
	shift
	WATCH_OUT=$T/record.out
	"$PKTSCOPE" -j src-log record dev "$IF" file "$file" "$@" >"$WATCH_OUT" 2>"$WATCH_OUT.err" 3>&- &
	WATCH_PID=$!
	BG_PIDS+=" $WATCH_PID"
	wait_reader "$WATCH_PID" || fail "record did not start: $(cat "$WATCH_OUT.err")" || return 1
	PROG_IDS+=" $("$PKTSCOPE" -j src-log status dev "$IF" | jq -r '.attachments[0].prog_id // empty')"
}

# wait_exit SECONDS: until the background reader exits by itself (count,
# error); then its summary
wait_exit() {
	local i rc=0
	for ((i = 0; i < $1 * 20; i++)); do
		kill -0 "$WATCH_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$WATCH_PID" 2>/dev/null; then
		fail "the reader did not exit within $1 s: $(cat "$WATCH_OUT.err")"
		return 1
	fi
	wait "$WATCH_PID" || rc=$?
	BG_PIDS=${BG_PIDS/ $WATCH_PID/}
	WAIT_RC=$rc
}

# JSON Lines check: every line an event object; prints the line count
check_lines() {
	"$PY" - "$@" <<'EOF'
import gzip, json, sys
from decimal import Decimal
need = {"ts", "ifname", "family", "proto", "src", "dst", "len"}
n = 0
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        op = gzip.open if f.read(2) == b"\x1f\x8b" else open
    with op(path, "rt") as f:
        for i, line in enumerate(f, 1):
            o = json.loads(line, parse_float=Decimal)
            if not isinstance(o, dict) or not need <= set(o):
                sys.exit("%s:%d: not an event: %r" % (path, i, line))
            n += 1
print(n)
EOF
}

@test "record: gzip rotation at 64k (the least a .gz honours) keeps 3 finished files and the current one" {
	local f=$T/rec/src.ndjson
	mkdir -p "$T/rec"
	record_start "$f.gz" rotate 64k keep 3 proto udp count 80000
	lab_send --mix udp-flood --src-random --count 80000 >/dev/null
	wait_exit 40
	watch_result "$WAIT_RC"
	ls -l "$T/rec"
	[ "$(sum_field events)" -eq 80000 ]
	[ "$(jq -r .file <<<"$SUMMARY")" = "$f.gz" ]
	files=$(sum_field files)
	[ "$files" -ge 5 ]
	# exactly the current file and the 3 newest finished ones
	[ "$(find "$T/rec" -type f | sort | paste -sd' ')" = "$f.1.gz $f.2.gz $f.3.gz $f.gz" ]
	for g in "$f.3.gz" "$f.2.gz" "$f.1.gz" "$f.gz"; do
		gzip -t "$g"
	done
	# a finished file is past the size, compressed, by less than a deflate
	# block (zlib hands out one at a time, up to ~32 KiB)
	for g in "$f.3.gz" "$f.2.gz" "$f.1.gz"; do
		size=$(stat -c %s "$g")
		echo "$g: $size bytes"
		[ "$size" -ge $((64 * 1024)) ] && [ "$size" -lt $((128 * 1024)) ]
	done
	total=$(check_lines "$f.3.gz" "$f.2.gz" "$f.1.gz" "$f.gz")
	echo "lines kept: $total"
	[ "$total" -gt 0 ] && [ "$total" -lt 80000 ]
	# the files follow each other: oldest .3, newest finished .1, then the
	# current file, which ends with the last event
	for g in "$f.3.gz" "$f.2.gz" "$f.1.gz" "$f.gz"; do
		zcat "$g" | jq -r .ts
	done >"$T/ts"
	sort -n -c "$T/ts"
	assert_clean
}

@test "record: plain JSON Lines, and plain rotation loses and repeats nothing" {
	local f=$T/plain.ndjson
	# no rotation: every event, in order, equal to the capture's frames
	lab_capture_start "$T/cap.pcap"
	record_start "$f" count 58
	send_mix 2
	wait_exit 10
	watch_result "$WAIT_RC"
	lab_capture_stop "$T/cap.pcap"
	run gzip -t "$f"
	[ "$status" -ne 0 ]
	[ "$(check_lines "$f")" -eq 58 ]
	oracle "$T/cap.pcap"
	WATCH_OUT=$f run compare "$T/cap.pcap" tc --no-summary
	echo "$output"
	[ "$status" -eq 0 ]

	# rotate 4k, keep all: the files, oldest first, are the whole stream
	mkdir -p "$T/rot"
	local r=$T/rot/src.ndjson
	record_start "$r" rotate 4k keep 1000 count 290
	send_mix 10
	wait_exit 10
	watch_result "$WAIT_RC"
	files=$(sum_field files)
	[ "$files" -ge 5 ]
	[ "$(sum_field events)" -eq 290 ]
	: >"$T/all"
	for ((i = files - 1; i >= 1; i--)); do
		[ -f "$r.$i" ]
		size=$(stat -c %s "$r.$i")
		# past 4096 by less than one line
		[ "$size" -ge 4096 ] && [ "$size" -lt $((4096 + 300)) ]
		cat "$r.$i" >>"$T/all"
	done
	cat "$r" >>"$T/all"
	[ ! -e "$r.$files" ]
	[ "$(check_lines "$T/all")" -eq 290 ]
	# the order of the mix, 10 times over
	jq -c '[.src, .proto, .sport, .dport, .len]' "$T/all" >"$T/all.k"
	head -n 29 "$T/all.k" >"$T/one.k"
	for i in $(seq 10); do cat "$T/one.k"; done | diff - "$T/all.k"
	assert_clean
}

# wait_file_lines FILE N: until FILE (gzip or not) holds N lines
wait_file_lines() {
	local i n
	for ((i = 0; i < 100; i++)); do
		n=$(zcat -f "$1" 2>/dev/null | wc -l)
		[[ $n -ge $2 ]] && return 0
		sleep 0.05
	done
	fail "$1 has $n lines, not $2"
}

@test "record: SIGHUP after a logrotate rename goes on in a new file, losing nothing; with nothing moved it keeps the file" {
	local f=$T/rot/src.ndjson.gz
	mkdir -p "$T/rot"
	record_start "$f" proto udp count 1500
	lab_send --mix udp-flood --count 500 >/dev/null
	wait_file_lines "$f" 500
	# logrotate: rename, then HUP
	mv "$f" "$f.1"
	kill -HUP "$WATCH_PID"
	for ((i = 0; i < 100; i++)); do
		[[ -e $f ]] && break
		sleep 0.05
	done
	[ -e "$f" ] || fail "no new file after SIGHUP: $(cat "$WATCH_OUT.err")"
	# the finished file is a whole gzip stream
	gzip -t "$f.1"
	lab_send --mix udp-flood --count 500 >/dev/null
	wait_file_lines "$f" 500
	# a SIGHUP with nothing moved: the same file goes on, nothing is cut
	kill -HUP "$WATCH_PID"
	lab_send --mix udp-flood --count 500 >/dev/null
	wait_exit 20
	watch_result "$WAIT_RC"
	[ "$(sum_field events)" -eq 1500 ]
	[ "$(sum_field lost)" -eq 0 ]
	[ "$(sum_field files)" -eq 2 ]
	[ "$(check_lines "$f.1")" -eq 500 ]
	[ "$(check_lines "$f")" -eq 1000 ]
	# one stream cut in two, in order
	for g in "$f.1" "$f"; do zcat "$g" | jq -r .ts; done >"$T/ts"
	sort -c "$T/ts"
	assert_clean
}

@test "record pcapng: SIGHUP after a rename starts a new file with its own header; tcpdump reads both" {
	local f=$T/rot/in.pcapng
	mkdir -p "$T/rot"
	record_start "$f" proto udp count 600
	lab_send --mix udp-flood --count 300 >/dev/null
	sleep 0.5
	mv "$f" "$f.1"
	kill -HUP "$WATCH_PID"
	for ((i = 0; i < 100; i++)); do
		[[ -e $f ]] && break
		sleep 0.05
	done
	[ -e "$f" ]
	lab_send --mix udp-flood --count 300 >/dev/null
	wait_exit 20
	watch_result "$WAIT_RC"
	[ "$(sum_field events)" -eq 600 ]
	[ "$(tcpdump -nr "$f.1" 2>/dev/null | wc -l)" -eq 300 ]
	[ "$(tcpdump -nr "$f" 2>/dev/null | wc -l)" -eq 300 ]
	assert_clean
}

@test "record: SIGUSR1 prints the running counters on stderr and goes on" {
	local f=$T/usr1.ndjson
	record_start "$f" proto udp count 400
	lab_send --mix udp-flood --count 150 >/dev/null
	wait_file_lines "$f" 150
	kill -USR1 "$WATCH_PID"
	for ((i = 0; i < 100; i++)); do
		grep -q '^so far: ' "$WATCH_OUT.err" && break
		sleep 0.05
	done
	cat "$WATCH_OUT.err"
	grep -q '^so far: 150 events delivered, 0 unread, 0 unwritten (150 made); ' "$WATCH_OUT.err"
	kill -0 "$WATCH_PID"
	lab_send --mix udp-flood --count 250 >/dev/null
	wait_exit 20
	watch_result "$WAIT_RC"
	[ "$(sum_field events)" -eq 400 ]
	[ "$(check_lines "$f")" -eq 400 ]
	assert_clean
}

# ------------------------------------------------------ temporary attach

@test "watch's temporary attach is gone after SIGINT, SIGTERM, SIGHUP and count" {
	watch_start mode tcx
	assert_attached tcx
	watch_stop INT
	assert_clean

	watch_start mode xdp
	assert_attached xdp
	watch_stop TERM
	assert_clean

	# a watch has no file to reopen: SIGHUP (the terminal gone) stops it
	watch_start mode tcx
	watch_stop HUP
	assert_clean

	# count, in text: a tcpdump-like line an event, then the summary line
	WATCH_OUT=$T/text.out
	"$PKTSCOPE" src-log watch dev "$IF" mode tc count 3 >"$WATCH_OUT" 2>"$WATCH_OUT.err" 3>&- &
	WATCH_PID=$!
	BG_PIDS+=" $WATCH_PID"
	wait_reader "$WATCH_PID"
	assert_attached tc
	PROG_IDS+=" $("$PKTSCOPE" -j src-log status dev "$IF" | jq -r '.attachments[0].prog_id')"
	send_mix
	wait_exit 10
	cat "$WATCH_OUT" "$WATCH_OUT.err"
	[ "$WAIT_RC" -eq 0 ]
	# the events alone on stdout; the summary on stderr, as tcpdump's
	[ "$(wc -l <"$WATCH_OUT")" -eq 3 ]
	s7=$(pool4_addr 7) s8=$(pool4_addr 8) h=$LAB_HOST_IP4
	head -n 3 "$WATCH_OUT" | sed -E 's/^[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9]{6} /TIME /' >"$T/text.got"
	printf '%s\n' "TIME $IF IP $s7.40001 > $h.22: tcp [S] len 60" \
		"TIME $IF IP $s7.40002 > $h.80: tcp [S] len 60" \
		"TIME $IF IP $s8.40003 > $h.443: tcp [S] len 74" | diff - "$T/text.got"
	[[ $(tail -n 1 "$WATCH_OUT.err") == "3 events delivered, "*" unread, 0 unwritten ("*" made); 0 filtered, "* ]]
	assert_clean
}

# text_of_json: the text line each JSON event must print as, built here
# from the JSON fields (themselves checked against tshark above)
text_of_json() {
	jq -r 'select(.summary == null) |
		def icmp_name: {"1:0": "echo-reply", "1:3": "unreachable", "1:8": "echo-request",
			"1:11": "time-exceeded", "58:1": "unreachable", "58:128": "echo-request",
			"58:129": "echo-reply", "58:133": "router-solicit", "58:134": "router-advert",
			"58:135": "neighbor-solicit", "58:136": "neighbor-advert"}
			[(if .proto == "icmp" then "1" else "58" end) + ":" + (.icmp_type | tostring)];
		"TIME " + .ifname + (if .vlan != null then " vlan \(.vlan)" else "" end) +
		(if .family == "ipv6" then " IP6 " else " IP " end) +
		.src + (if .sport != null then ".\(.sport)" else "" end) + " > " +
		.dst + (if .dport != null then ".\(.dport)" else "" end) + ": " + .proto +
		(if .tcp_flags != null then " [\(.tcp_flags)]"
		 elif .icmp_type != null then (icmp_name // "type \(.icmp_type) code \(.icmp_code)") as $n | " " + $n
		 else "" end) +
		(if .status == "truncated" then " (truncated)" elif .status == "malformed" then " (malformed)"
		 elif .fragment == "later" then " (fragment)" else "" end) +
		" len \(.len)"'
}

@test "text lines say what the JSON events say, for every kind of frame in the mix" {
	local fmt n
	for fmt in text json; do
		WATCH_OUT=$T/$fmt.out
		"$PKTSCOPE" $([[ $fmt == json ]] && echo -j) src-log watch dev "$IF" count 29 \
			>"$WATCH_OUT" 2>"$WATCH_OUT.err" 3>&- &
		WATCH_PID=$!
		BG_PIDS+=" $WATCH_PID"
		wait_reader "$WATCH_PID" || fail "watch did not start: $(cat "$WATCH_OUT.err")"
		PROG_IDS+=" $("$PKTSCOPE" -j src-log status dev "$IF" | jq -r '.attachments[0].prog_id')"
		send_mix
		wait_exit 10
		[ "$WAIT_RC" -eq 0 ] || fail "watch ($fmt) exited $WAIT_RC: $(cat "$WATCH_OUT.err")"
	done
	head -n 29 "$T/text.out" | sed -E 's/^[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9]{6} /TIME /' >"$T/text.got"
	text_of_json <"$T/json.out" >"$T/text.want"
	diff "$T/text.want" "$T/text.got"
	n=$(wc -l <"$T/text.want")
	[ "$n" -eq 29 ]
	# every kind is there: TCP flags, both ICMPs, UDP, a VLAN, IPv6
	grep -q ' tcp \[S\] ' "$T/text.got"
	grep -q ': icmp echo-request ' "$T/text.got"
	grep -q ': icmpv6 echo-request ' "$T/text.got"
	grep -q ' vlan 100 ' "$T/text.got"
	grep -q ' IP6 .*: udp ' "$T/text.got"
	assert_clean
}

@test "kill -9 leaves the attach; the next watch in another mode warns, takes it over and cleans up; so does detach" {
	watch_start mode tcx
	dead=$WATCH_PID
	# a second reader shares it, in its mode only
	run_err "$PKTSCOPE" src-log watch dev "$IF" duration 200ms
	[ "$status" -eq 0 ]
	run_err "$PKTSCOPE" src-log watch dev "$IF" mode xdp count 1
	[ "$status" -eq 1 ]
	[ "$stderr" = "Error: src-log runs on $IF in mode tcx for another process (pid $dead): leave out 'mode' to share it" ]
	kill -KILL "$dead"
	wait "$dead" || true
	BG_PIDS=${BG_PIDS/ $dead/}
	assert_attached tcx
	[ "$(config_field owner_pid)" = "$dead" ]

	watch_start -o "$T/w2.json" mode xdp
	[ "$(cat "$T/w2.json.err")" = "Warning: removing src-log's temporary attach on $IF: its process (pid $dead) died" ]
	assert_attached xdp
	send_mix
	watch_stop
	[ "$(sum_field events)" -eq 29 ]
	assert_clean

	watch_start mode xdp
	kill -KILL "$WATCH_PID"
	wait "$WATCH_PID" || true
	BG_PIDS=${BG_PIDS/ $WATCH_PID/}
	assert_attached xdp
	run_err "$PKTSCOPE" src-log detach dev "$IF"
	[ "$status" -eq 0 ]
	assert_clean
}

# -------------------------------------------------------------- bad input

@test "bad input: usage errors exit 2 and attach nothing" {
	local bad
	for bad in "src 192.0.2.0/33" "src 2001:db8::/129" "not-src 198.51.100.300/24" \
		"src nonsense" "dport 5-3" "sport 70000" "sample 0" "max-rate 0" \
		"proto bogus" "flow-timeout 0" "count 0" "mode turbo"; do
		# shellcheck disable=SC2086
		run_err "$PKTSCOPE" src-log watch dev "$IF" $bad
		[ "$status" -eq 2 ] || fail "watch $bad: exit $status"
		[[ $stderr == Error:* ]]
		[ ! -e "$PIN/src-log" ]
	done
	run_err "$PKTSCOPE" src-log watch dev "$IF" dport 5-3
	[ "$stderr" = "Error: port range 5-3 is reversed (low > high)" ]
	run_err "$PKTSCOPE" src-log watch dev "$IF" src 192.0.2.0/33
	[ "$stderr" = "Error: prefix length 33 is out of range for IPv4 (0-32)" ]
	run_err "$PKTSCOPE" src-log record dev "$IF" file "$T/x.ndjson" rotate 100
	[ "$status" -eq 2 ]
	[ ! -e "$T/x.ndjson" ]
	# on a plain attach
	run_err "$PKTSCOPE" -j src-log attach dev "$IF" proto udp
	[ "$status" -eq 0 ]
	PROG_IDS+=" $(jq -r .prog_id <<<"$output")"
	run_err "$PKTSCOPE" src-log filter dev "$IF" clear proto udp
	[ "$status" -eq 2 ]
	[ "$stderr" = "Error: 'clear' takes no filters with it" ]
	run_err "$PKTSCOPE" src-log filter dev "$IF" dport 9-1
	[ "$status" -eq 2 ]
	# a watch's own source list is compared in its slot: 8 a family at most
	run_err "$PKTSCOPE" src-log watch dev "$IF" $(for n in 1 2 3 4 5 6 7 8 9; do printf 'src 192.0.2.%s/32 ' "$n"; done)
	[ "$status" -eq 2 ]
	[[ $stderr == "Error: a watch or record takes at most 8 'src' prefixes of a family; more go on the attachment"* ]]
	# the flows table is the attachment's: one flow-timeout
	run_err "$PKTSCOPE" src-log watch dev "$IF" new-flows flow-timeout 5s
	[ "$status" -eq 2 ]
	[[ $stderr == *"flow-timeout is the attachment's, 30s on $IF; change it with 'src-log filter dev $IF flow-timeout ...'" ]]
	run_err "$PKTSCOPE" -j src-log filter dev "$IF"
	[ "$(jq -c .proto <<<"$output")" = '["udp"]' ]
	run_err "$PKTSCOPE" src-log detach dev "$IF"
	[ "$status" -eq 0 ]
	assert_clean
}

@test "record to an unwritable path: exit 1, no file, nothing attached" {
	run_err "$PKTSCOPE" src-log record dev "$IF" file "$T/nodir/x.ndjson"
	[ "$status" -eq 1 ]
	[ "$stderr" = "Error: cannot write $T/nodir/x.ndjson: No such file or directory" ]
	mkdir "$T/adir"
	run_err "$PKTSCOPE" src-log record dev "$IF" file "$T/adir"
	[ "$status" -eq 1 ]
	[ "$stderr" = "Error: cannot write $T/adir: Is a directory" ]
	# a root process is not walked into a symlink
	ln -s "$T/target" "$T/link.ndjson"
	run_err "$PKTSCOPE" src-log record dev "$IF" file "$T/link.ndjson"
	[ "$status" -eq 1 ]
	[[ $stderr == "Error: cannot write $T/link.ndjson: "* ]]
	[ ! -e "$T/target" ]
	assert_clean
}

@test "record on a full disk: exit 1, 'No space left on device', nothing attached" {
	TINY=$T/tiny
	mkdir -p "$TINY"
	mount -t tmpfs -o size=64k tmpfs "$TINY"
	local f
	for f in full.ndjson full.ndjson.gz; do
		record_start "$TINY/$f"
		lab_send --mix udp-flood --src-random --count 30000 >/dev/null
		wait_exit 10
		cat "$WATCH_OUT.err"
		[ "$WAIT_RC" -eq 1 ]
		grep -qx "Error: writing $TINY/$f: No space left on device" "$WATCH_OUT.err"
		assert_clean
		rm -f "$TINY"/*
	done
}

# ------------------------------------------------------- tcpdump expressions

# expr_case MODE HOOK DISPLAY_FILTER EXPR: a watch with the expression on
# the default mix; its events must be the reference capture's frames that
# the display filter selects (the same frames as libpcap's own verdicts:
# checked with tcpdump on the capture)
expr_case() {
	local mode=$1 hook=$2 df=$3 ex=$4
	echo "# expr at $mode: $ex (tshark: $df)"
	capture_fields "$T/ref.pcap" "(ip || ipv6) && !_ws.malformed && ($df)" >"$T/sel.tsv"
	# the display filter means the expression: tcpdump agrees on the frames
	[ "$(capture_fields "$T/ref.pcap" "$df" | wc -l)" -eq "$(tcpdump -nn -r "$T/ref.pcap" "$ex" 2>/dev/null | wc -l)" ] ||
		fail "display filter '$df' and expression '$ex' select different frames"
	watch_start mode "$mode" expr "$ex"
	send_mix
	watch_stop
	run compare "$T/ref.pcap" "$hook" --no-ts --select "$T/sel.tsv"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/sel.tsv")" -gt 0 ]
}

expr_cases() {
	local mode=$1 hook=$2
	lab_capture_start "$T/ref.pcap"
	send_mix
	lab_capture_stop "$T/ref.pcap"
	oracle "$T/ref.pcap"
	# libpcap's udp and ip6 look at the first next header only
	expr_case "$mode" "$hook" '(ip.proto == 17 || ipv6.nxt == 17) && !vlan && !ieee8021ad && !_ws.malformed' 'udp and not port 53'
	expr_case "$mode" "$hook" "tcp.dstport == 443 && ip.src == $LAB_POOL4 && !vlan && !ieee8021ad" "tcp dst port 443 and src net $LAB_POOL4"
	# the outer tag: in the frame at XDP, in skb metadata at TC
	expr_case "$mode" "$hook" 'vlan || ieee8021ad' 'vlan'
	# libpcap's tcp[] is IPv4 only: the flags of IPv6 TCP by offset
	expr_case "$mode" "$hook" 'ipv6 && !vlan && !ieee8021ad && (ipv6.nxt == 58 || (ipv6.nxt == 6 && tcp.flags.syn == 1))' 'ip6 and (icmp6 or (ip6[6] = 6 and ip6[53] & 2 != 0))'
	assert_clean
}

@test "expr, mode tcx: tcpdump expressions in the kernel select what tcpdump selects" {
	expr_cases tcx tc
}

@test "expr, mode xdp: tcpdump expressions in the kernel select what tcpdump selects" {
	expr_cases xdp xdp
}

@test "expr, mode tc: tcpdump expressions (vlan: the offloaded tag) select what tcpdump selects" {
	expr_cases tc tc
}

@test "expr: refused with the reason, exit 2, nothing left attached; filter changes it live" {
	run_err "$PKTSCOPE" src-log watch dev "$IF" expr 'inbound'
	[ "$status" -eq 2 ]
	[[ $stderr == *"Error: expr 'inbound'"*"ancillary"* ]]
	run_err "$PKTSCOPE" src-log watch dev "$IF" expr 'tcp and'
	[ "$status" -eq 2 ]
	[[ $stderr == *"syntax error"* ]]
	run_err "$PKTSCOPE" src-log watch dev "$IF" expr 'ip protochain 6'
	[ "$status" -eq 2 ]
	[[ $stderr == *"backward jump"* ]]
	assert_clean

	"$PKTSCOPE" -q src-log attach dev "$IF" expr 'udp'
	[ "$("$PKTSCOPE" -j src-log filter dev "$IF" | jq -r .expr)" = udp ]
	"$PKTSCOPE" -q src-log filter dev "$IF" expr 'tcp port 80'
	[ "$("$PKTSCOPE" -j src-log filter dev "$IF" | jq -r .expr)" = 'tcp port 80' ]
	# a refused one changes nothing
	run_err "$PKTSCOPE" src-log filter dev "$IF" expr 'tcp and'
	[ "$status" -eq 2 ]
	[ "$("$PKTSCOPE" -j src-log filter dev "$IF" | jq -r .expr)" = 'tcp port 80' ]
	"$PKTSCOPE" -q src-log filter dev "$IF" clear
	[ "$("$PKTSCOPE" -j src-log filter dev "$IF" | jq -r .expr)" = '' ]
	"$PKTSCOPE" -q src-log detach dev "$IF"
	assert_clean
}

# ------------------------------------------------------------------ pcapng

# the reference frames src-log logs (IP whose header parsed), as tshark's
# frame numbers, comma-separated
ip_frames() {
	capture_fields "$1" "(ip || ipv6) && !_ws.malformed" | cut -f1 | paste -sd,
}

# pcapng_case MODE [snaplen N]: the default mix recorded by src-log and by
# tcpdump at once; the same packets, bytes, lengths and times.  The frames
# come from $PCAPNG_SEND (default send_mix).
pcapng_case() {
	local mode=$1 snap=256 f
	shift
	[[ ${1:-} == snaplen ]] && snap=$2
	f=$T/rec-$mode-$snap.pcapng
	lab_capture_start "$T/ref.pcap"
	record_start "$f" mode "$mode" "$@"
	${PCAPNG_SEND:-send_mix}
	wait_drained_stats
	kill -INT "$WATCH_PID"
	wait "$WATCH_PID"
	BG_PIDS=${BG_PIDS/ $WATCH_PID/}
	lab_capture_stop "$T/ref.pcap"
	# every reader reads it
	tcpdump -nn -r "$f" >"$T/td.txt" 2>"$T/td.err" || fail "tcpdump: $(cat "$T/td.err")"
	tshark -r "$f" >/dev/null 2>"$T/ts.err" || fail "tshark: $(cat "$T/ts.err")"
	run "$PY" "$PKTSCOPE_SRCDIR/tests/lib/pcapng_compare.py" --ref "$T/ref.pcap" \
		--frames "$(ip_frames "$T/ref.pcap")" --snaplen "$snap" "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	# one interface, named; every packet inbound
	[ "$(tshark -r "$f" -T fields -e frame.interface_name -e frame.packet_flags_direction 2>/dev/null | sort -u)" = "$(printf '%s\t0x00000001' "$IF")" ]
	# the file ends in its statistics: every packet delivered, none lost,
	# over a span that holds them all
	pcapng_isb_check "$f" 0
}

# pcapng_isb_check FILE LOST: FILE's last block is its one interface
# statistics block, which counts its packets and LOST lost events, from the
# file's opening (a rotated file holds packets read after it opened that
# arrived before) to after its last packet; the packets' dropcounts add up
# to no more
pcapng_isb_check() {
	"$PY" "$PKTSCOPE_SRCDIR/tests/lib/pcapng_stats.py" "$1" >"$T/isb.json" ||
		fail "cannot walk $1"
	cat "$T/isb.json"
	jq -e --argjson lost "$2" '.last == "isb" and (.isb | length) == 1 and
		.isb[0].usrdeliv == .epb and .isb[0].ifdrop == $lost and
		.dropcount <= $lost and .isb[0].ts == .isb[0].end and
		.isb[0].start <= .isb[0].end and (.epb == 0 or .last_ts <= .isb[0].end)' \
		"$T/isb.json" >/dev/null || fail "statistics of $1: $(cat "$T/isb.json"), $2 lost"
}

# until the events made stop growing (a record writes no lines to count)
wait_drained_stats() {
	wait_stable 3 events_made
}
events_made() { stats | jq .events; }

# record_killed FILE: a record of the mix 3 times, killed with SIGKILL
# once what it read is flushed
record_killed() {
	record_start "$1"
	send_mix 3
	wait_drained_stats
	sleep 0.3	# a poll round: what it read is flushed
	kill -KILL "$WATCH_PID"
	wait "$WATCH_PID" || true
	BG_PIDS=${BG_PIDS/ $WATCH_PID/}
}

@test "record pcapng, modes tcx, xdp and tc: tcpdump's packets, bytes up to snaplen, times within 1 ms" {
	pcapng_case tcx
	pcapng_case xdp
	# tc: the offloaded VLAN tag is put back where tcpdump shows it
	pcapng_case tc
	pcapng_case tcx snaplen 64
	pcapng_case xdp snaplen 1536
	assert_clean
}

# TCP's data is in the skb's pages, its headers alone in the linear data
# (tcp_sendmsg() with a veth's scatter-gather), and the veth hands the host
# that skb: the snap of a data segment is not all linear until the parser
# pulls PS_PULL_LEN bytes.  Snaps of 64 to 256 bytes are then copied from
# the linear data, a longer one (bucket 1536) through the helper from the
# pages.
tcp_pages() { tcp_exchange 1400; }

@test "record pcapng, modes tc and tcx: TCP segments with their data in the skb's pages, tcpdump's bytes up to snaplen" {
	PCAPNG_SEND=tcp_pages
	pcapng_case tc snaplen 64
	pcapng_case tcx snaplen 128
	pcapng_case tc
	pcapng_case tc snaplen 1536
	pcapng_case tcx snaplen 1536
	assert_clean
}

@test "record pcapng: rotation keeps N readable files; kill -9 leaves one that every reader reads" {
	local f=$T/rot.pcapng n
	record_start "$f" rotate 4096 keep 2
	send_mix 4
	wait_drained_stats
	kill -INT "$WATCH_PID"
	wait "$WATCH_PID"
	BG_PIDS=${BG_PIDS/ $WATCH_PID/}
	[ -s "$f" ] && [ -s "$f.1" ] && [ -s "$f.2" ] && [ ! -e "$f.3" ]
	for n in "$f.2" "$f.1" "$f"; do
		pcapng_isb_check "$n" 0
		tcpdump -r "$n" >/dev/null 2>"$T/td.err" || fail "tcpdump $n: $(cat "$T/td.err")"
		tshark -r "$n" >/dev/null 2>&1 || fail "tshark cannot read $n"
		"$PY" -c 'import sys; from scapy.utils import PcapNgReader; assert len(list(PcapNgReader(sys.argv[1])))' "$n" ||
			fail "scapy cannot read $n"
	done

	f=$T/killed.pcapng
	record_killed "$f"
	tcpdump -r "$f" >"$T/td.txt" 2>"$T/td.err" || fail "tcpdump after kill -9: $(cat "$T/td.err")"
	[ "$(wc -l <"$T/td.txt")" -eq 87 ]
	tshark -r "$f" >/dev/null 2>&1 || fail "tshark cannot read the killed file"
	"$PY" -c 'import sys; from scapy.utils import PcapNgReader; print(len(list(PcapNgReader(sys.argv[1]))))' "$f"
	"$PKTSCOPE" -q src-log detach dev "$IF" || true
}

@test "record pcapng.gz: tshark reads it as it is; unzipped, tcpdump's packets; kill -9 leaves it readable up to the last flush" {
	local f=$T/rec.pcapng.gz
	lab_capture_start "$T/ref.pcap"
	record_start "$f" mode tcx
	send_mix
	wait_drained_stats
	kill -INT "$WATCH_PID"
	wait "$WATCH_PID"
	BG_PIDS=${BG_PIDS/ $WATCH_PID/}
	lab_capture_stop "$T/ref.pcap"
	gzip -t "$f"
	tshark -r "$f" >/dev/null 2>"$T/ts.err" || fail "tshark: $(cat "$T/ts.err")"
	zcat "$f" >"$T/rec.pcapng"
	tcpdump -nn -r "$T/rec.pcapng" >/dev/null 2>"$T/td.err" || fail "tcpdump: $(cat "$T/td.err")"
	run "$PY" "$PKTSCOPE_SRCDIR/tests/lib/pcapng_compare.py" --ref "$T/ref.pcap" \
		--frames "$(ip_frames "$T/ref.pcap")" --snaplen 256 "$T/rec.pcapng"
	echo "$output"
	[ "$status" -eq 0 ]

	# rotated files are x.pcapng.N.gz, each a whole gzip stream
	f=$T/rot.pcapng.gz
	record_start "$f" rotate 64k keep 2 proto udp count 30000
	lab_send --mix udp-flood --src-random --count 30000 >/dev/null
	wait_exit 40
	ls -l "$T"
	[ -s "$T/rot.pcapng.2.gz" ]
	[ ! -e "$T/rot.pcapng.3.gz" ]
	for n in "$T/rot.pcapng.2.gz" "$T/rot.pcapng.1.gz" "$f"; do
		gzip -t "$n"
		tshark -r "$n" >/dev/null 2>&1 || fail "tshark cannot read $n"
	done

	f=$T/killed.pcapng.gz
	record_killed "$f"
	# no gzip trailer, but every flushed block decompresses
	zcat "$f" 2>/dev/null >"$T/killed.pcapng" || true
	tcpdump -r "$T/killed.pcapng" >"$T/td.txt" 2>"$T/td.err" || fail "tcpdump after kill -9: $(cat "$T/td.err")"
	[ "$(wc -l <"$T/td.txt")" -eq 87 ]
	"$PKTSCOPE" -q src-log detach dev "$IF" || true
}

@test "record: snaplen is for pcapng files only" {
	run_err "$PKTSCOPE" src-log record dev "$IF" file "$T/x.ndjson" snaplen 64
	[ "$status" -eq 2 ]
	[[ $stderr == *"snaplen is for pcapng"* ]]
	[ ! -e "$T/x.ndjson" ]
	assert_clean
}
