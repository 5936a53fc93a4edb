#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# anomaly end to end, through the binary, with real attack tools in the lab
# (tests/lib/lab.bash): nmap, hping3 and scapy in the namespace send to the
# host end, where anomaly is attached; `-j watch` reads the alerts and
# tcpdump on the host end is the oracle for their timestamps.
#
#   - nmap -sS over closed ports: one port-scan alert naming the scanner, at
#     the 15th closed port (the capture's time of that SYN within 1 ms),
#     printed by watch within 100 ms of it;
#     scans of an open port alone raise none.
#   - hping3 -S: syn-flood per source; with random sources, per
#     destination and no per-source alert; each alert at the threshold-th
#     SYN of its window (capture time within 1 ms, watch within 100 ms).
#   - scapy: NULL, XMAS and SYN+FIN flags, a bad IPv4 header length, a bad
#     UDP length, a 127.0.0.1 source: each its own reason, each alert at
#     its packet (within 1 ms, watch within 100 ms).
#   - a benign suite (iperf3 TCP and UDP below the thresholds, HTTP requests
#     on new and kept-alive connections, pings, DNS-like UDP with retries to
#     an open port) raises zero alerts.
#   - action block: the scanner's packets are dropped (counted), another
#     address of the namespace still gets through, the block expires at its
#     TTL (probes 10 ms apart: the first through within 1 s of block_until);
#     an allowlisted scanner is never blocked.
#   - own addresses: one added after attach is one a running watch knows
#     (a forged packet from it is martian.own_address), and show counts
#     it; deleted, show counts it no more.
#   - bad input: one clear sentence, a non-zero exit, the configuration
#     unchanged.
#
# Every run is bounded in count and time.  A private bpffs keeps other
# agents' attachments out of sight.
#
# shellcheck disable=SC2153 # LAB_* come from lab_up

load ../lib/common

setup() {
	require_lab || return
	require_cmd nmap hping3 tcpdump tshark jq iperf3 || return
	# Debian's python3, which has python3-scapy, whatever PATH says
	PY=/usr/bin/python3
	[[ -x $PY ]] || PY=$(command -v python3)
	"$PY" -c 'import scapy' 2>/dev/null ||
		pktscope_unavailable "needs python3-scapy" || return
	REAL_PKTSCOPE=$(pktscope_bin) || fail "pktscope is not built"
	T=$BATS_TEST_TMPDIR
	BPFFS=$T/bpffs
	mkdir -p "$BPFFS"
	mount -t bpf bpf "$BPFFS" || pktscope_unavailable "cannot mount a bpffs"
	PS() { "$REAL_PKTSCOPE" --bpffs "$BPFFS" "$@"; }
	BG_PIDS=
	lab_up anomaly
	IF=$LAB_HOST_IF
}

teardown() {
	local p
	for p in ${BG_PIDS:-}; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [[ -n ${REAL_PKTSCOPE:-} && -n ${IF:-} ]]; then
		"$REAL_PKTSCOPE" --bpffs "$BPFFS" -q anomaly detach dev "$IF" \
			>/dev/null 2>&1 || true
	fi
	if [[ -n ${BPFFS:-} ]] && mountpoint -q "$BPFFS"; then
		umount "$BPFFS" || umount -l "$BPFFS" || true
	fi
	if declare -F lab_cleanup >/dev/null; then
		lab_cleanup
	fi
}

# ------------------------------------------------------------------ helpers

attach() {
	PS -q anomaly attach dev "$IF" "$@" >/dev/null ||
		fail "attach $* failed"
}

# watch in the background for at most $1 seconds: the lines into
# $T/alerts.json, the time each line arrived into $T/arrivals.txt
watch_start() {
	: >"$T/alerts.json"
	: >"$T/arrivals.txt"
	# exec: $! is then watch itself, not a shell that TERM would leave
	# it running behind
	(exec "$REAL_PKTSCOPE" --bpffs "$BPFFS" -j anomaly watch dev "$IF" \
		duration "$1") > >("$PY" -u -c '
import sys, time
out, times = open(sys.argv[1], "w"), open(sys.argv[2], "w")
for line in sys.stdin:
    times.write("%.6f\n" % time.time())
    times.flush()
    out.write(line)
    out.flush()
' "$T/alerts.json" "$T/arrivals.txt") &
	WATCH_PID=$!
	BG_PIDS+=" $WATCH_PID"
	sleep 0.3
}

watch_stop() {
	# TERM: an asynchronous job of a script ignores SIGINT
	kill -TERM "$WATCH_PID" 2>/dev/null || true
	wait "$WATCH_PID" 2>/dev/null || true
	sleep 0.2	# the time stamper drains
}

# alerts of a jq selection
alerts() {
	jq -c "select(.detector and (${1:-true}))" "$T/alerts.json"
}

n_alerts() {
	alerts "$@" | wc -l
}

# the sum of every detector's alerts, from show
total_alerts() {
	PS -j anomaly show dev "$IF" |
		jq '[.interfaces[0].counters.detectors[].alerts] | add'
}

# scapy in the namespace, sending on the peer end: $1 a python expression
# for a list of packets (IP layer and up)
scapy_send() {
	lab_exec "$PY" -c "
import logging; logging.getLogger('scapy').setLevel(logging.ERROR)
from scapy.all import *
conf.verb = 0
src, dst = '$LAB_PEER_IP4', '$LAB_HOST_IP4'
pkts = $1
sendp([Ether(src='$LAB_PEER_MAC', dst='$LAB_HOST_MAC') / p for p in pkts],
      iface='$LAB_PEER_IF')
"
}

# The detector's windows are fixed: window k holds the packets its coarse
# clock (CLOCK_MONOTONIC_COARSE, up to a tick behind CLOCK_MONOTONIC) reads
# in [k W, (k + 1) W), W the window (1 s unless attached otherwise).
WIN_S=1

# sleep until 50 ms after the next window starts, so that a short bounded
# flood sent next fits in one window; the wall clock's offset from the
# monotonic one then into $T/mono_off, for crossing_packet (measured at the
# flood: NTP's slew moves it up to 0.5 ms a second)
window_next() {
	"$PY" - "$WIN_S" "$T/mono_off" <<'EOF'
import sys, time
w = float(sys.argv[1])
m = time.clock_gettime(time.CLOCK_MONOTONIC)
time.sleep(w - m % w + 0.05)
open(sys.argv[2], "w").write("%.9f\n" % (time.time() -
                             time.clock_gettime(time.CLOCK_MONOTONIC)))
EOF
}

# the capture time of the packet that crossed a threshold of $3 packets a
# window: the $3-th packet of the first window that has as many, among the
# packets of capture $1 that display filter $2 selects (an_check() and
# an_spike() in bpf/anomaly.bpf.c alert when the count reaches the
# threshold: the threshold-th packet crosses); with $4, an alert's ts, of
# that alert's window instead (a spike's threshold changes from one window
# to the next).  A packet within a tick after a window's start (or 1 ms
# either side) may be in either window: every such split is tried, and all
# must give one answer.  The flood was sent after window_next.
crossing_packet() {
	tshark -r "$1" -T fields -e frame.time_epoch -Y "$2" >"$T/crossing.txt" ||
		fail "tshark -r $1 -Y '$2'"
	"$PY" - "$T/crossing.txt" "$3" "$WIN_S" "$T/mono_off" "${4:-}" <<'EOF'
import itertools, sys, time, datetime as d
times = [float(l) for l in open(sys.argv[1]) if l.strip()]
n, w = int(sys.argv[2]), float(sys.argv[3])
tick = time.clock_getres(6)	# CLOCK_MONOTONIC_COARSE
off = float(open(sys.argv[4]).read())	# window_next's
want = None
if sys.argv[5]:
    # the alert's ts is the precise clock; its window, the coarse one's
    a = d.datetime.strptime(sys.argv[5], "%Y-%m-%dT%H:%M:%S.%fZ")
    m = a.replace(tzinfo=d.timezone.utc).timestamp() - off
    want = {int(m // w), int((m - tick - 0.001) // w)}
# each packet's window, and the other window it may be in (None: sure)
win, alt = [], []
for t in times:
    m = t - off
    k, f = int(m // w), m % w
    win.append(k)
    alt.append(k - 1 if f < tick + 0.001 else k + 1 if f > w - 0.001 else None)
# the coarse clock never goes back: of the packets at a window's edge e
# that may be in either window, the first j are in e - 1, the rest in e
amb = {}
for i, k in enumerate(win):
    if alt[i] is not None:
        amb.setdefault(max(k, alt[i]), []).append(i)
found = set()
for split in itertools.product(*[range(len(v) + 1) for v in amb.values()]):
    wi = list(win)
    for (e, v), j in zip(amb.items(), split):
        for r, i in enumerate(v):
            wi[i] = e - 1 if r < j else e
    count = {}
    for i, k in enumerate(wi):
        count[k] = count.get(k, 0) + 1
        if count[k] == n and (want is None or k in want):
            found.add(i)
            if want is None:
                break
if len(found) != 1:
    sys.exit("%d packets, the %d-th of a window: %s" % (len(times), n,
             "never" if not found else "one of packets %s (at a window's edge)" %
             sorted(i + 1 for i in found)))
i = found.pop()
print("crossing: packet %d of %d" % (i + 1, len(times)), file=sys.stderr)
print("%.6f" % times[i])
EOF
}

# alert $1 (a line of alerts()) names the packet captured at $2: its ts
# within 1 ms of the packet's, and watch printed it within 100 ms of its ts
assert_alert_at() {
	if ! "$PY" - "$1" "$2" "$T/alerts.json" "$T/arrivals.txt" <<'EOF'; then
import json, sys, datetime as d
a = json.loads(sys.argv[1])
lines = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
arrived = float(open(sys.argv[4]).read().split()[lines.index(a)])
t = d.datetime.strptime(a["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
t = t.replace(tzinfo=d.timezone.utc).timestamp()
delta = abs(t - float(sys.argv[2]))
late = arrived - t
print("%s %s alert - capture: %.6f s, watch printed it %.6f s later" %
      (a["detector"], a.get("reason", a.get("scope")), delta, late),
      file=sys.stderr)
sys.exit(0 if delta < 0.001 and 0 <= late < 0.1 else 1)
EOF
		fail "alert $1 is not the packet captured at $2"
	fi
}

# whether a TCP connection from the namespace (source address $1) to the
# host's address $2, port $3 is made within two seconds
tcp_reach() {
	lab_exec "$PY" -c "
import socket, sys
s = socket.socket(socket.AF_INET6 if ':' in '$2' else socket.AF_INET)
s.settimeout(2)
s.bind(('$1', 0))
try:
    s.connect(('$2', $3))
except OSError:
    sys.exit(1)
"
}

# the block of the lab's peer address ends at $1 (its until, RFC 3339) in
# the kernel: probes of the host's open port $2 from it, 10 ms apart from
# 0.8 s before $1, are dropped until then; the first the host answers
# (SYN-ACK) is within 1 s of $1 and not before it
assert_expires_at() {
	local before after first
	LAB_CAPTURE_DIRECTION=out lab_capture_start "$T/expiry.pcap" \
		tcp src port "$2" and dst host "$LAB_PEER_IP4"
	"$PY" - "$1" <<'EOF'
import sys, time, datetime as d
u = d.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%S.%fZ")
u = u.replace(tzinfo=d.timezone.utc).timestamp()
time.sleep(max(0, u - 0.8 - time.time()))
EOF
	before=$(PS -j anomaly show dev "$IF" | jq '.interfaces[0].counters.block_drops')
	lab_exec timeout 10 hping3 -q -S -p "$2" -c 250 -i u10000 \
		"$LAB_HOST_IP4" >/dev/null 2>&1 || true
	after=$(PS -j anomaly show dev "$IF" | jq '.interfaces[0].counters.block_drops')
	lab_capture_stop "$T/expiry.pcap"
	[[ $after -gt $before ]] || fail "no probe was dropped: they began after the expiry"
	first=$(tshark -r "$T/expiry.pcap" -T fields -e frame.time_epoch \
		-Y "tcp.flags.syn == 1 && tcp.flags.ack == 1" | head -1)
	[[ -n $first ]] || fail "still blocked 1.7 s after $1"
	"$PY" - "$1" "$first" <<'EOF' || fail "the block did not end at $1"
import sys, datetime as d
u = d.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%S.%fZ")
u = u.replace(tzinfo=d.timezone.utc).timestamp()
late = float(sys.argv[2]) - u
print("the first probe through %.6f s after the block's end" % late,
      file=sys.stderr)
sys.exit(0 if -0.001 <= late < 1.0 else 1)
EOF
}

# ------------------------------------------------------------------ tests

@test "nmap -sS over closed ports: one port-scan alert, at the 15th port" {
	attach
	"$PY" -m http.server --bind "$LAB_HOST_IP4" 48080 >/dev/null 2>&1 &
	BG_PIDS+=" $!"
	sleep 0.5
	lab_capture_start "$T/cap.pcap" tcp
	watch_start 30
	# an open port alone, scanned again and again: nothing
	for _ in 1 2 3; do
		lab_exec timeout 20 nmap -n -Pn -sS -p 48080 --max-retries 0 \
			"$LAB_HOST_IP4" >/dev/null
	done
	# 30 closed ports, one at a time so that their order is known
	lab_exec timeout 60 nmap -n -Pn -sS -p 47200-47229 --max-retries 0 \
		--max-parallelism 1 -r "$LAB_HOST_IP4" >/dev/null
	sleep 0.3
	watch_stop
	lab_capture_stop "$T/cap.pcap"
	cat "$T/alerts.json" >&2
	assert_eq 1 "$(n_alerts)" "alerts"
	assert_eq 1 "$(n_alerts '.detector == "port-scan"')" "port-scan alerts"
	a=$(alerts)
	assert_eq "$LAB_PEER_IP4" "$(jq -r .src <<<"$a")" "scanner"
	assert_eq tcp "$(jq -r .proto <<<"$a")" "protocol (the core's name)"
	assert_eq 15 "$(jq -r .count <<<"$a")" "count"
	assert_eq 15 "$(jq -r .threshold <<<"$a")" "threshold"
	# the 15th distinct closed port's SYN, from the capture
	tshark -r "$T/cap.pcap" -T fields -e frame.time_epoch -e tcp.dstport \
		-Y "tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport >= 47200 && tcp.dstport < 47230" \
		>"$T/syns.txt"
	read -r t15 p15 < <(awk '!seen[$2]++ { if (++n == 15) print }' "$T/syns.txt")
	assert_eq "$p15" "$(jq -r .dport <<<"$a")" "the port that crossed"
	assert_alert_at "$a" "$t15"
}

@test "hping3 -S: syn-flood per source; random sources: per destination" {
	attach syn-src 100 syn-dst 200 scan off
	lab_capture_start "$T/syn.pcap" tcp
	watch_start 30
	# 150 SYNs 2.5 ms apart (so that 1 ms tells one from the next), at the
	# start of a window: the 100th crosses syn-src, the 150 stay below
	# syn-dst
	window_next
	lab_exec timeout 20 hping3 -q -S -p 47300 -c 150 -i u2500 \
		"$LAB_HOST_IP4" >/dev/null 2>&1 || true
	# hping3 --rand-source would make the host answer addresses outside
	# the lab (out of its default route): sendpkts' random sources come
	# from the lab's pool, which is routed back into the namespace.  250
	# 2 ms apart, in the next window: the 200th crosses syn-dst.
	window_next
	LAB_PYTHON=$PY lab_send --mix syn-flood --src-random --count 250 \
		--rate 500 --dport 47301 >/dev/null
	sleep 0.3
	watch_stop
	lab_capture_stop "$T/syn.pcap"
	cat "$T/alerts.json" >&2
	assert_eq 1 "$(n_alerts '.scope == "source"')" "per-source alerts"
	a=$(alerts '.scope == "source"')
	assert_eq "$LAB_PEER_IP4" "$(jq -r .src <<<"$a")" "the flooder"
	assert_eq 47300 "$(jq -r .dport <<<"$a")"
	assert_eq 100 "$(jq -r .count <<<"$a")" "count at the crossing"
	t=$(crossing_packet "$T/syn.pcap" \
		"ip.src == $LAB_PEER_IP4 && tcp.flags.syn == 1 && tcp.flags.ack == 0" 100) ||
		fail "no crossing SYN in the capture"
	assert_alert_at "$a" "$t"
	assert_eq 1 "$(n_alerts '.scope == "destination"')" "per-destination alerts"
	a=$(alerts '.scope == "destination"')
	assert_eq "$LAB_HOST_IP4" "$(jq -r .dst <<<"$a")" "victim"
	assert_eq 47301 "$(jq -r .dport <<<"$a")"
	assert_eq 200 "$(jq -r .count <<<"$a")" "count at the crossing"
	# every SYN to the victim counts, the flooder's too
	t=$(crossing_packet "$T/syn.pcap" \
		"ip.dst == $LAB_HOST_IP4 && tcp.flags.syn == 1 && tcp.flags.ack == 0" 200) ||
		fail "no crossing SYN in the capture"
	assert_alert_at "$a" "$t"
	assert_eq 0 "$(n_alerts '.detector != "syn-flood"')" "other alerts"
	# fixed memory: no table grew past its size
	assert_eq 0 "$(PS -j anomaly show dev "$IF" | jq '.interfaces[0].counters.dst_full')"
}

@test "a forged-source SYN flood at the sender's full rate: the destination alert at its crossing" {
	attach syn-dst 5000
	LAB_CAPTURE_BUFFER_KB=131072 lab_capture_start "$T/flood.pcap" -s 96 tcp dst port 47303
	watch_start 30
	# every packet a new source of the lab's pool, as fast as it goes,
	# from the start of a window: the 5000th crosses
	window_next
	LAB_PYTHON=$PY lab_send --mix syn-flood --src-random --count 30000 \
		--dport 47303 >/dev/null
	sleep 0.3
	watch_stop
	lab_capture_stop "$T/flood.pcap"
	cat "$T/alerts.json" >&2
	a=$(alerts '.scope == "destination" and .dport == 47303' | head -1)
	[[ -n $a ]] || fail "no destination alert"
	assert_eq "$LAB_HOST_IP4" "$(jq -r .dst <<<"$a")" "victim"
	assert_eq 5000 "$(jq -r .count <<<"$a")" "count at the crossing"
	assert_eq 0 "$(n_alerts '.scope == "source"')" "per-source alerts"
	t=$(crossing_packet "$T/flood.pcap" "tcp.flags.syn == 1" 5000) ||
		fail "no crossing SYN in the capture"
	assert_alert_at "$a" "$t"
	show=$(PS -j anomaly show dev "$IF")
	assert_eq 0 "$(jq '.interfaces[0].counters.dst_full' <<<"$show")" "dst_full"
	seen=$(jq '.interfaces[0].counters.seen' <<<"$show")
	[[ $seen -ge 30000 ]] || fail "only $seen packets seen"
}

@test "per protocol: udp-bytes-src trips at its crossing datagram, TCP bytes do not count in it" {
	# 80 kbit/s is 10000 bytes a 1 s window; tcp-bytes-dst set (and out of
	# reach) turns the per-protocol counts on for TCP too
	attach udp-bytes-src 80kbit tcp-bytes-dst 10gbit scan off
	lab_capture_start "$T/proto.pcap" "udp or tcp"
	watch_start 30
	window_next
	# 30 SYNs of 1000 bytes: more TCP bytes than the UDP limit
	lab_exec timeout 20 hping3 -q -S -p 47310 -d 1000 -c 30 -i u2000 \
		"$LAB_HOST_IP4" >/dev/null 2>&1 || true
	# then 20 datagrams of 986 bytes, 2.5 ms apart
	lab_exec timeout 20 hping3 -q -2 -p 47311 -d 986 -c 20 -i u2500 \
		"$LAB_HOST_IP4" >/dev/null 2>&1 || true
	sleep 0.3
	watch_stop
	lab_capture_stop "$T/proto.pcap"
	cat "$T/alerts.json" >&2
	assert_eq 1 "$(n_alerts)" "alerts"
	a=$(alerts)
	assert_eq udp-bytes "$(jq -r .detector <<<"$a")"
	assert_eq "$LAB_PEER_IP4" "$(jq -r .src <<<"$a")"
	assert_eq 10000 "$(jq -r .threshold <<<"$a")"
	# the count at the crossing: the least number of the datagrams' bytes
	# that reaches 10000, whatever the TCP bytes before
	len=$(tshark -r "$T/proto.pcap" -T fields -e frame.len -Y udp 2>/dev/null | head -1)
	n=$(( (10000 + len - 1) / len ))
	assert_eq $((n * len)) "$(jq -r .count <<<"$a")" "count at the crossing"
	t=$(crossing_packet "$T/proto.pcap" "ip.src == $LAB_PEER_IP4 && udp" "$n") ||
		fail "no crossing datagram in the capture"
	assert_alert_at "$a" "$t"
	run PS anomaly show dev "$IF"
	[[ $output == *udp-bytes* ]] || fail "show: no udp-bytes row"
}

@test "spike: a jump over the baseline, per source, destination and interface" {
	attach scan off spike-factor 5 spike-min-src 100 spike-min-dst 100 \
		spike-min-if 100
	lab_capture_start "$T/spike.pcap"
	watch_start 30
	# a baseline of about 20 a second, then 20x that (below icmp-src) in
	# the next window, 2.5 ms apart: the 100th crosses (spike-min-*, above
	# 5x the baseline)
	lab_exec timeout 10 hping3 -q -1 -c 60 -i u50000 "$LAB_HOST_IP4" >/dev/null 2>&1 || true
	window_next
	lab_exec timeout 10 hping3 -q -1 -c 200 -i u2500 "$LAB_HOST_IP4" >/dev/null 2>&1 || true
	sleep 0.3
	watch_stop
	lab_capture_stop "$T/spike.pcap"
	cat "$T/alerts.json" >&2
	# one alert a window at most: the 0.5 s burst spans one window, more
	# when the machine is loaded
	for scope in source destination interface; do
		n=$(n_alerts ".detector == \"spike\" and .scope == \"$scope\"")
		[[ $n -ge 1 && $n -le 3 ]] || fail "$n $scope spikes"
	done
	assert_eq "$LAB_PEER_IP4" "$(alerts '.detector == "spike" and .scope == "source"' | jq -r .src | sort -u)"
	assert_eq "$LAB_HOST_IP4" "$(alerts '.detector == "spike" and .scope == "destination"' | jq -r .dst | sort -u)"
	# each at the count-th packet of its window that counts for its key
	declare -A of=([source]="ip.src == $LAB_PEER_IP4"
		[destination]="ip.dst == $LAB_HOST_IP4" [interface]=frame)
	while read -r a; do
		t=$(crossing_packet "$T/spike.pcap" "${of[$(jq -r .scope <<<"$a")]}" \
			"$(jq -r .count <<<"$a")" "$(jq -r .ts <<<"$a")") ||
			fail "no crossing packet for $a"
		assert_alert_at "$a" "$t"
	done < <(alerts '.detector == "spike"')
	assert_eq 0 "$(n_alerts '.detector != "spike"')" "other alerts"
	PS -j anomaly config dev "$IF" | jq -e '.spike_min_if_packets_per_second == 100' >/dev/null ||
		fail "spike-min-if not in the config"
}

@test "scapy: malformed classes and a 127.0.0.1 source, each its own reason" {
	attach scan off
	lab_capture_start "$T/crafted.pcap"
	watch_start 20
	scapy_send "[IP(src=src, dst=dst)/TCP(dport=80, flags='')]"
	scapy_send "[IP(src=src, dst=dst)/TCP(dport=81, flags='FPU')]"
	scapy_send "[IP(src=src, dst=dst)/TCP(dport=82, flags='SF')]"
	scapy_send "[IP(src=src, dst=dst, ihl=4)/TCP(dport=83, flags='S')]"
	scapy_send "[IP(src=src, dst=dst)/UDP(dport=53, len=30)/Raw(b'x'*4)]"
	scapy_send "[IP(src='127.0.0.1', dst=dst)/UDP(dport=53)]"
	sleep 0.3
	watch_stop
	lab_capture_stop "$T/crafted.pcap"
	cat "$T/alerts.json" >&2
	assert_eq 6 "$(n_alerts)" "alerts"
	got=$(jq -r .reason "$T/alerts.json" | sort | tr '\n' ' ')
	assert_eq "ipv4.hlen_too_small martian.loopback tcp.flags_null tcp.flags_syn_fin tcp.flags_xmas udp.hlen_invalid " \
		"$got" "reasons"
	assert_eq 127.0.0.1 "$(alerts '.detector == "martian"' | jq -r .src)"
	# the capture holds the six packets, in the order sent: each alert is
	# its own packet's
	tshark -r "$T/crafted.pcap" -T fields -e frame.time_epoch >"$T/crafted.txt"
	assert_eq 6 "$(wc -l <"$T/crafted.txt")" "packets captured"
	i=0
	for r in tcp.flags_null tcp.flags_xmas tcp.flags_syn_fin \
		ipv4.hlen_too_small udp.hlen_invalid martian.loopback; do
		i=$((i + 1))
		assert_alert_at "$(alerts ".reason == \"$r\"")" \
			"$(sed -n "${i}p" "$T/crafted.txt")"
	done
}

@test "watches: each of four gets every alert; a killed one loses none for the rest; a fifth is refused" {
	local i pids=() n
	attach scan off
	for i in 1 2 3 4; do
		(exec "$REAL_PKTSCOPE" --bpffs "$BPFFS" -j anomaly watch \
			dev "$IF" duration 20 >"$T/w$i.json" 2>"$T/w$i.err") &
		pids+=($!)
		BG_PIDS+=" $!"
	done
	sleep 0.5
	assert_eq "$(printf '%s\n' "${pids[@]}" | sort -n | tr '\n' ' ')" \
		"$(PS -j anomaly show dev "$IF" | jq -r '.interfaces[0].watches[].pid' | sort -n | tr '\n' ' ')" \
		"the watches show lists"
	PS -j anomaly show dev "$IF" | jq -e '.interfaces[0].watches |
		length == 4 and all(.command | test("anomaly watch dev"))' >/dev/null ||
		fail "show does not give each watch's command: $(PS -j anomaly show dev "$IF" | jq -c '.interfaces[0].watches')"
	PS anomaly show dev "$IF" | sed -n '/^Watches/,/^$/p' | sed 's/^/# /' >&3
	run PS anomaly watch dev "$IF" duration 1
	[[ $status -ne 0 ]] || fail "a fifth watch ran"
	[[ $output == *"4 watches"*"${pids[0]}"* ]] ||
		fail "the refusal does not name the four: $output"
	scapy_send "[IP(src=src, dst=dst)/TCP(dport=80, flags='')]"
	scapy_send "[IP(src=src, dst=dst)/TCP(dport=81, flags='FPU')]"
	sleep 0.3
	# killed without a chance to leave its slot: the others go on, its
	# ring is no longer written, so nothing counts as lost
	kill -KILL "${pids[3]}"
	wait "${pids[3]}" 2>/dev/null || true
	sleep 1.2
	scapy_send "[IP(src=src, dst=dst)/TCP(dport=82, flags='SF')]"
	# the dead one's slot is free again
	(exec "$REAL_PKTSCOPE" --bpffs "$BPFFS" -j anomaly watch dev "$IF" \
		duration 20 >"$T/w5.json" 2>"$T/w5.err") &
	pids+=($!)
	BG_PIDS+=" $!"
	sleep 0.5
	scapy_send "[IP(src='127.0.0.1', dst=dst)/UDP(dport=53)]"
	sleep 0.3
	for i in 0 1 2 4; do
		kill -TERM "${pids[$i]}" 2>/dev/null || true
		wait "${pids[$i]}" 2>/dev/null || true
	done
	for i in 1 2 3; do
		cat "$T/w$i.err" >&2
		n=$(jq -r 'select(.detector) | .reason' "$T/w$i.json" | sort | tr '\n' ' ')
		assert_eq "martian.loopback tcp.flags_null tcp.flags_syn_fin tcp.flags_xmas " \
			"$n" "watch $i's alerts"
	done
	assert_eq "tcp.flags_null tcp.flags_xmas " \
		"$(jq -r 'select(.detector) | .reason' "$T/w4.json" | sort | tr '\n' ' ')" \
		"the killed watch's alerts"
	assert_eq "martian.loopback " \
		"$(jq -r 'select(.detector) | .reason' "$T/w5.json" | sort | tr '\n' ' ')" \
		"the late watch's alerts"
	assert_eq 0 "$(PS -j anomaly show dev "$IF" | jq '.interfaces[0].counters.ring_lost')" \
		"alerts lost"
}

@test "a watch stopped over a second is not written to, and says what it missed when it goes on" {
	local p
	attach scan off
	(exec "$REAL_PKTSCOPE" --bpffs "$BPFFS" -j anomaly watch dev "$IF" \
		duration 20 >"$T/w.json" 2>"$T/w.err") &
	p=$!
	BG_PIDS+=" $p"
	sleep 0.5
	kill -STOP "$p"
	sleep 1.5
	scapy_send "[IP(src=src, dst=dst)/TCP(dport=80, flags='')]"
	scapy_send "[IP(src=src, dst=dst)/TCP(dport=81, flags='FPU')]"
	assert_eq "[2,0]" "$(PS -j anomaly show dev "$IF" | jq -c '[.interfaces[0].watches[0].missed, .interfaces[0].counters.ring_lost]')" \
		"missed and ring_lost while stopped"
	kill -CONT "$p"
	sleep 0.5
	scapy_send "[IP(src=src, dst=dst)/TCP(dport=82, flags='SF')]"
	sleep 0.3
	kill -TERM "$p"
	wait "$p" 2>/dev/null || true
	cat "$T/w.err" >&2
	grep -q "2 alerts on $IF missed: this watch was stalled" "$T/w.err" ||
		fail "no warning of the missed alerts"
	assert_eq "tcp.flags_syn_fin" "$(jq -r 'select(.detector) | .reason' "$T/w.json")" \
		"the alert after it went on"
}

@test "benign suite: iperf3, HTTP, pings and DNS-like UDP raise no alert" {
	attach
	iperf3 -s -B "$LAB_HOST_IP4" -p 47400 >/dev/null 2>&1 &
	BG_PIDS+=" $!"
	"$PY" - "$LAB_HOST_IP4" 47401 47402 <<'EOF' >/dev/null 2>&1 &
import http.server, socketserver, socket, sys, threading
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 128
def dns():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((sys.argv[1], int(sys.argv[3])))
    while True:
        d, a = u.recvfrom(2048)
        u.sendto(d, a)
threading.Thread(target=dns, daemon=True).start()
S((sys.argv[1], int(sys.argv[2])), H).serve_forever()
EOF
	BG_PIDS+=" $!"
	sleep 1
	lab_exec timeout 20 iperf3 -c "$LAB_HOST_IP4" -p 47400 -t 2 -b 50M >/dev/null
	lab_exec timeout 20 iperf3 -c "$LAB_HOST_IP4" -p 47400 -t 2 -u -b 10M >/dev/null
	lab_exec hping3 -q -1 -c 20 -i u50000 "$LAB_HOST_IP4" >/dev/null 2>&1
	lab_exec "$PY" - "$LAB_HOST_IP4" 47401 47402 <<'EOF'
import http.client, socket, sys
host, port, dport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(1000):		# a new connection each
    c = http.client.HTTPConnection(host, port, timeout=5)
    c.request("GET", "/")
    assert c.getresponse().read() == b"ok\n"
    c.close()
c = http.client.HTTPConnection(host, port, timeout=5)
for i in range(1000):		# one connection, kept alive
    c.request("GET", "/")
    assert c.getresponse().read() == b"ok\n"
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(0.2)
for i in range(200):		# queries, each sent twice (a retry)
    q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01"
    u.sendto(q, (host, dport))
    u.sendto(q, (host, dport))
    u.recvfrom(2048)
EOF
	PS anomaly show dev "$IF" >&2
	assert_eq 0 "$(total_alerts)" "alerts"
	seen=$(PS -j anomaly show dev "$IF" | jq '.interfaces[0].counters.seen')
	[[ $seen -gt 5000 ]] || fail "only $seen packets seen"
}

@test "action block: the scanner is dropped, another address is not, the block expires" {
	attach action block block-time 8s
	"$PY" -m http.server --bind "$LAB_HOST_IP4" 48081 >/dev/null 2>&1 &
	BG_PIDS+=" $!"
	"$PY" -m http.server --bind "$LAB_HOST_IP6" 48082 >/dev/null 2>&1 &
	BG_PIDS+=" $!"
	sleep 0.5
	watch_start 30
	lab_exec timeout 30 nmap -n -Pn -sS -p 47500-47520 --max-retries 0 \
		--max-rtt-timeout 100ms "$LAB_HOST_IP4" >/dev/null
	sleep 0.2
	watch_stop
	a=$(alerts '.detector == "port-scan"')
	assert_eq block "$(jq -r .action <<<"$a")" "action"
	PS -j anomaly block list | jq -e --arg s "$LAB_PEER_IP4" \
		'.interfaces[0].blocks[] | select(.addr == $s)' >/dev/null ||
		fail "the scanner is not in the block list"
	before=$(PS -j anomaly show dev "$IF" | jq '.interfaces[0].counters.block_drops')
	! tcp_reach "$LAB_PEER_IP4" "$LAB_HOST_IP4" 48081 ||
		fail "the blocked scanner got through"
	# the namespace's other address (a pool address added to the peer
	# would be answered through whichever lab routes the pool)
	tcp_reach "$LAB_PEER_IP6" "$LAB_HOST_IP6" 48082 ||
		fail "another address was dropped too"
	after=$(PS -j anomaly show dev "$IF" | jq '.interfaces[0].counters.block_drops')
	[[ $after -gt $before ]] || fail "drops not counted: $before -> $after"
	# the only block: its drops are all of them, the CPUs' cached ones too
	listed=$(PS -j anomaly block list | jq --arg s "$LAB_PEER_IP4" \
		'.interfaces[0].blocks[] | select(.addr == $s) | .dropped_packets')
	later=$(PS -j anomaly show dev "$IF" | jq '.interfaces[0].counters.block_drops')
	[[ $listed -ge $after && $listed -le $later ]] ||
		fail "block list says $listed dropped, the counters $after-$later"
	# expiry: at block_until, without user space
	assert_expires_at "$(jq -r .block_until <<<"$a")" 48081
}

@test "block add of a prefix: its sources dropped, allow wins, del and ttl end it" {
	attach
	"$PY" -m http.server --bind "$LAB_HOST_IP4" 48083 >/dev/null 2>&1 &
	BG_PIDS+=" $!"
	"$PY" -m http.server --bind "$LAB_HOST_IP6" 48084 >/dev/null 2>&1 &
	BG_PIDS+=" $!"
	sleep 0.5
	net=$("$PY" -c "import ipaddress, sys; print(ipaddress.ip_network(sys.argv[1], strict=False))" \
		"$LAB_PEER_IP4/$LAB_PREFIX4")
	tcp_reach "$LAB_PEER_IP4" "$LAB_HOST_IP4" 48083 || fail "no path before the block"
	# the lab's network holds the host's own address: said, and spared
	run PS anomaly block add dev "$IF" "$net" ttl 1m
	[ "$status" -eq 0 ] || fail "block add $net: $output"
	[[ $output == *"own address"* ]] || fail "no word of the own address: '$output'"
	PS -j anomaly block list dev "$IF" | jq -e --arg n "$net" \
		'.interfaces[0].blocks[] | select(.addr == $n and .detector == "manual")' >/dev/null ||
		fail "$net is not in the block list"
	! tcp_reach "$LAB_PEER_IP4" "$LAB_HOST_IP4" 48083 || fail "a source of $net got through"
	tcp_reach "$LAB_PEER_IP6" "$LAB_HOST_IP6" 48084 || fail "a source outside $net was dropped"
	drops=$(PS -j anomaly show dev "$IF" | jq '.interfaces[0].counters.block_drops')
	[[ $drops -gt 0 ]] || fail "drops not counted"
	# an allowlisted address in the prefix gets through: allow wins
	PS anomaly allow add dev "$IF" "$LAB_PEER_IP4/32" >/dev/null
	tcp_reach "$LAB_PEER_IP4" "$LAB_HOST_IP4" 48083 || fail "the allowlisted source was dropped"
	PS anomaly allow del dev "$IF" "$LAB_PEER_IP4/32" >/dev/null
	! tcp_reach "$LAB_PEER_IP4" "$LAB_HOST_IP4" 48083 || fail "blocked again: got through"
	# a prefix the allowlist holds whole may not be blocked
	PS anomaly allow add dev "$IF" "$net" >/dev/null
	run PS anomaly block add dev "$IF" "$net"
	[ "$status" -eq 1 ] && [[ $output == *"in the allowlist"* ]] || fail "'$output'"
	PS anomaly allow del dev "$IF" "$net" >/dev/null
	# del ends it at once
	PS anomaly block del dev "$IF" "$net" >/dev/null
	tcp_reach "$LAB_PEER_IP4" "$LAB_HOST_IP4" 48083 || fail "still dropped after block del"
	assert_eq 0 "$(PS -j anomaly block list dev "$IF" | jq '.interfaces[0].blocks | length')"
	run PS anomaly block del dev "$IF" "$net"
	[ "$status" -eq 1 ] && [[ $output == *"not blocked"* ]] || fail "'$output'"
	# and a ttl in the kernel, without user space
	PS anomaly block add dev "$IF" "$net" ttl 5s >/dev/null 2>&1
	! tcp_reach "$LAB_PEER_IP4" "$LAB_HOST_IP4" 48083 || fail "the second block let it through"
	assert_expires_at "$(PS -j anomaly block list dev "$IF" |
		jq -r '.interfaces[0].blocks[0].until')" 48083
}

@test "an allowlisted scanner is never alerted on, never blocked" {
	attach action block
	PS anomaly allow add dev "$IF" "$LAB_PEER_IP4/32" >/dev/null
	watch_start 30
	lab_exec timeout 30 nmap -n -Pn -sS -p 47600-47640 --max-retries 0 \
		"$LAB_HOST_IP4" >/dev/null
	watch_stop
	cat "$T/alerts.json" >&2
	assert_eq 0 "$(n_alerts)" "alerts"
	assert_eq 0 "$(PS -j anomaly block list | jq '.interfaces[0].blocks | length')"
	allowed=$(PS -j anomaly show dev "$IF" | jq '.interfaces[0].counters.allowed')
	[[ $allowed -ge 41 ]] || fail "allowed $allowed"
	# and may not be blocked by hand
	run PS anomaly block add dev "$IF" "$LAB_PEER_IP4"
	[ "$status" -eq 1 ]
	[[ $output == *"in the allowlist"* ]]
}

@test "own addresses: one added after attach is followed by watch and show" {
	attach scan off
	own() {
		PS -j anomaly show dev "$IF" |
			jq '.interfaces[0].config.own_addresses'
	}
	before=$(own)
	# an address of this lab's slot only, on its host end: gone with it
	base=${LAB_HOST_IP4%.*}
	new=$base.$((128 + LAB_SLOT))
	watch_start 20
	ip addr add "$new/32" dev "$IF"
	sleep 0.3
	# a forged packet from it: the host's own address from outside
	scapy_send "[IP(src='$new', dst=dst)/UDP(dport=53)]"
	sleep 0.3
	watch_stop
	cat "$T/alerts.json" >&2
	assert_eq 1 "$(n_alerts '.reason == "martian.own_address"')" \
		"own-address alerts"
	assert_eq "$new" "$(alerts '.reason == "martian.own_address"' |
		jq -r .src)"
	# show reads them anew, when they changed
	assert_eq $((before + 1)) "$(own)" "own addresses after the add"
	ip addr del "$new/32" dev "$IF"
	assert_eq "$before" "$(own)" "own addresses after the del"
}

@test "bad input: a clear error, a non-zero exit, the configuration unchanged" {
	attach syn-src 300
	PS -j anomaly config dev "$IF" >"$T/before.json"
	check() {
		local want=$1 msg=$2
		shift 2
		run PS "$@"
		[ "$status" -eq "$want" ] || fail "'$*': exit $status, want $want"
		[[ $output == *"$msg"* ]] || fail "'$*': '$output'"
		PS -j anomaly config dev "$IF" >"$T/after.json"
		cmp -s "$T/before.json" "$T/after.json" ||
			fail "'$*' changed the configuration"
	}
	check 2 "syn-src" anomaly config dev "$IF" syn-src 0
	check 2 "syn-src" anomaly config dev "$IF" syn-src 2000000000
	check 2 "bogus" anomaly config dev "$IF" bogus 5
	check 2 "block-time" anomaly config dev "$IF" block-time 0
	check 2 "10.0.0.300" anomaly allow add dev "$IF" 10.0.0.300/8
	check 2 "bytes-src" anomaly config dev "$IF" syn-src 10 bytes-src 40gbit
	check 2 "udp-bytes-src" anomaly config dev "$IF" udp-bytes-src 0
	check 2 "tcp-src" anomaly config dev "$IF" tcp-src 2000000000
	check 1 "own address" anomaly block add dev "$IF" "$LAB_HOST_IP4"
	check 2 "prefix length" anomaly block add dev "$IF" 10.0.0.0/33
	check 1 "not attached" anomaly config dev lo syn-src 5
	assert_eq 300 "$(jq '.thresholds[0].per_source' "$T/after.json")"
	run PS anomaly attach dev "$IF" block-time 0
	[ "$status" -eq 2 ]
}
