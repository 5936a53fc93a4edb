#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The shaping plugin on the whole path: iperf3 in the lab namespace sends,
# iperf3 on the host end receives, and the receiver's report is the oracle
# (what the sender offered is measured too: a deep shaping queue pushes back
# on a UDP sender's socket).  Every run is a few seconds.  Residue is
# checked with tc, ip and bpftool, not with pktscope.
#
# Rates: a rule counts IP bytes (bpf/shaping.h); iperf3 reports UDP or TCP
# payload.  With 1472-byte datagrams (1500-byte IP packets) the payload is
# 98.1% of the IP rate, so "9.8-10.2 Mbit/s at the receiver" for a 10mbit
# rule is checked on the payload, as the issue asks, and the first second
# (the burst) is left out with iperf3's -O.

load ../lib/common

setup() {
	require_lab
	require_cmd iperf3 jq tc bpftool
	lab_up shaping
	IF=$LAB_HOST_IF
	BPFFS=$BATS_TEST_TMPDIR/bpffs
	mkdir -p "$BPFFS"
	mount -t bpf bpf "$BPFFS" || pktscope_unavailable "cannot mount a bpffs"
	REAL_PKTSCOPE=$(pktscope_bin)
	printf '#!/bin/sh\nexec "%s" --bpffs "%s" "$@"\n' "$REAL_PKTSCOPE" "$BPFFS" \
		>"$BATS_TEST_TMPDIR/pktscope"
	chmod +x "$BATS_TEST_TMPDIR/pktscope"
	PKTSCOPE=$BATS_TEST_TMPDIR/pktscope
	PIN=$BPFFS/pktscope/$IF
	IFB=$(ifb_name "$IF")
	SERVERS=()
	PORT=$((5201 + (LAB_SLOT * 16)))
}

teardown() {
	local p
	for p in "${SERVERS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	"$PKTSCOPE" -q shaping detach dev "$IF" >/dev/null 2>&1 || true
	lab_cleanup
	umount "$BPFFS" 2>/dev/null || umount -l "$BPFFS" 2>/dev/null || true
}

P() { "$PKTSCOPE" "$@"; }

# a measured figure, shown in the TAP output of a passing test too
figure() { echo "# $*" >&3; echo "$*"; }

run_err() {
	local errf="$BATS_TEST_TMPDIR/stderr"
	run bash -c '"$@" 2>"'"$errf"'"' _ "$@"
	stderr=$(cat "$errf")
	echo "status $status"; echo "stdout: $output"; echo "stderr: $stderr"
}

attach() {
	run_err "$PKTSCOPE" -j shaping attach dev "$IF" "$@"
	[ "$status" -eq 0 ] || fail "attach failed: $stderr"
	PROG_ID=$(jq -r .prog_id <<<"$output")
}

# the IFB name of an interface: psshp + FNV-1a of its name (htb.c)
ifb_name() {
	python3 -c 'import sys
h = 2166136261
for c in sys.argv[1].encode():
    h = ((h ^ c) * 16777619) & 0xffffffff
print("psshp%08x" % h)' "$1"
}

# the IFB if it exists
ifb_of() {
	ip link show "$IFB" >/dev/null 2>&1 && echo "$IFB"
	return 0
}

# a second, third... source address of the namespace: IPv6, in the lab's
# /64 (the IPv4 pool is routed to one lab only, and the /24 is shared), with
# the host's route and static neighbour entry the quiet lab needs
extra_src() {
	local a
	a=$(python3 -c 'import ipaddress, sys
n = ipaddress.ip_interface(sys.argv[1] + "/64").network
print(n.network_address + (0x5ba9 << 32) + (int(sys.argv[2]) << 16) + int(sys.argv[3]))' \
		"$LAB_HOST_IP6" "$LAB_SLOT" "$1")
	lab_exec ip -6 addr add "$a/128" dev "$LAB_PEER_IF" nodad 2>/dev/null || true
	ip -6 route replace "$a/128" dev "$IF"
	ip -6 neigh replace "$a" lladdr "$LAB_PEER_MAC" dev "$IF" nud permanent
	lab_on_cleanup "ip -6 route del $a/128 dev $IF 2>/dev/null"
	echo "$a"
}

# an iperf3 server for one test on the host end; prints its JSON to FILE
server() {
	local port=$1 file=$2
	iperf3 -s -1 -J -B "${HOST:-$LAB_HOST_IP4}" -p "$port" >"$file" 2>/dev/null &
	SERVERS+=($!)
	local i
	for i in $(seq 50); do
		ss -ltn "sport = :$port" | grep -q LISTEN && return 0
		sleep 0.05
	done
	fail "iperf3 server on $port did not start"
}

# client in the lab: client PORT OUT [iperf3 args]
client() {
	local port=$1 out=$2
	shift 2
	lab_exec timeout 30 iperf3 -c "${HOST:-$LAB_HOST_IP4}" -p "$port" -J "$@" >"$out"
}

wait_servers() {
	local p
	for p in "${SERVERS[@]}"; do
		timeout 30 tail --pid="$p" -f /dev/null || true
	done
	SERVERS=()
}

# receiver's payload rate, Mbit/s, of a server's JSON: the intervals after
# the omitted ones (-O), where the burst went, over the time from the end of
# the omission to the last one's end.  Not the sum of their seconds: when
# iperf3's (3.12) omit timer fires just before its interval timer, it zeroes
# the counts of the interval under way but the next interval still starts
# where the last one reported did, so it says 2 s for 1 s of bytes (7.7
# instead of 9.6 Mbit/s, on a loaded machine).  The ends count from the
# omission's end either way.
rx_mbps() {
	jq -r '[.intervals[].sum | select(.omitted | not)] |
		((map(.bytes) | add) * 8 / .[-1].end / 1e6)' "$1"
}

# a TCP counter of the lab namespace: tcp_count RetransSegs (segments sent
# again, /proc/net/snmp) or tcp_count TCPTimeouts (retransmission timeouts,
# /proc/net/netstat)
tcp_count() {
	lab_exec awk -v name="$1" '$1 == "Tcp:" || $1 == "TcpExt:" {
		if (!(FILENAME $1 in col)) { col[FILENAME $1] = 0
			for (i = 2; i <= NF; i++) if ($i == name) col[FILENAME $1] = i
		} else if (col[FILENAME $1]) print $col[FILENAME $1] }' \
		/proc/net/snmp /proc/net/netstat
}

# the same as IP bytes: ip_mbps FILE PAYLOAD IPLEN
ip_mbps() {
	awk -v r="$(rx_mbps "$1")" -v p="$2" -v l="$3" 'BEGIN { print r * l / p }'
}

# datagrams a UDP sender sent, and a UDP receiver got, omitted time included
udp_sent() { jq '[.intervals[].sum.packets] | add' "$1"; }
udp_got() { jq '[.intervals[].sum | .packets - .lost_packets] | add' "$1"; }

within() {	# within VALUE LO HI WHAT
	awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }' ||
		fail "$4: $1 not within [$2, $3]"
}

rule_json() {	# rule_json NAME -> that rule's row of rule list -j
	P -j shaping rule list dev "$IF" interval 1ms |
		jq -c --arg n "$1" '.rules[] | select(.name == $n)'
}

# nothing of ours left: pins, program, IFB, qdiscs and classes
assert_clean() {
	[ ! -e "$PIN/shaping" ] || fail "pins left: $(ls -R "$PIN")"
	[ -z "$(ifb_of)" ] || fail "IFB left: $(ifb_of)"
	! tc qdisc show | grep -q "$IFB" || fail "qdisc left: $(tc qdisc show | grep "$IFB")"
	! ip -d link show "$IF" | grep -q 'prog/xdp' || fail "XDP program left"
	[ -z "$(tc filter show dev "$IF" ingress 2>/dev/null)" ] || fail "tc filter left"
	local try
	for try in $(seq 20); do
		bpftool prog show id "$PROG_ID" >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	fail "program $PROG_ID still loaded"
}

@test "shaping: bad input is a clear error and changes nothing" {
	run_err "$PKTSCOPE" shaping rule add dev "$IF" rate 10mbit
	[ "$status" -eq 1 ]
	[[ $stderr == *"not attached to $IF"* ]]
	attach
	P shaping rule add dev "$IF" name keep rate 10mbit >/dev/null
	before=$(P -j shaping rule list dev "$IF" interval 1ms | jq -c '[.rules[] | {id, name}]')

	run_err "$PKTSCOPE" shaping rule add dev "$IF" rate 0
	[ "$status" -eq 2 ]; [[ $stderr == Error:*rate* ]]
	run_err "$PKTSCOPE" shaping rule add dev "$IF" rate 10mbit burst 1000
	[ "$status" -eq 2 ]; [[ $stderr == *"below one full-size frame"* ]]
	run_err "$PKTSCOPE" shaping rule add dev "$IF" rate 10mbit pps 100
	[ "$status" -eq 2 ]; [[ $stderr == *"rate or pps, not both"* ]]
	run_err "$PKTSCOPE" shaping rule add dev "$IF" proto udp
	[ "$status" -eq 2 ]; [[ $stderr == *"a limit is needed"* ]]
	run_err "$PKTSCOPE" shaping rule add dev "$IF" name keep rate 1mbit
	[ "$status" -eq 1 ]; [[ $stderr == *"named 'keep' exists"* ]]
	run_err "$PKTSCOPE" shaping rule add dev "$IF" rate 1mbit fair action drop
	[ "$status" -eq 2 ]; [[ $stderr == *"needs action shape"* ]]
	run_err "$PKTSCOPE" shaping rule add dev "$IF" rate 1mbit prefix 24
	[ "$status" -eq 2 ]; [[ $stderr == *"prefix needs per-source"* ]]
	run_err "$PKTSCOPE" shaping rule del dev "$IF" 99
	[ "$status" -eq 1 ]; [[ $stderr == *"no rule '99'"* ]]
	run_err "$PKTSCOPE" shaping rule del dev "$IF" nosuch
	[ "$status" -eq 1 ]; [[ $stderr == *"no rule 'nosuch'"* ]]
	run_err "$PKTSCOPE" -j shaping rule add dev "$IF" rate 0
	[ "$status" -eq 2 ]; jq -e .error <<<"$output" >/dev/null

	after=$(P -j shaping rule list dev "$IF" interval 1ms | jq -c '[.rules[] | {id, name}]')
	assert_eq "$before" "$after" "rules after bad input"
	[ -z "$(ifb_of)" ] || fail "an IFB appeared"
}

@test "shaping: rule list shows each rule's match as it was given, protocols by name" {
	attach
	P shaping rule add dev "$IF" name g proto gre pps 10 >/dev/null
	P shaping rule add dev "$IF" name i6 proto icmpv6 pps 10 >/dev/null
	P shaping rule add dev "$IF" name n proto 89 pps 10 >/dev/null
	P shaping rule add dev "$IF" name s proto tcp dport 80-90 syn pps 10 >/dev/null
	P shaping rule add dev "$IF" name u src 10.0.0.0/8 proto udp sport 53 pps 10 >/dev/null
	assert_eq '["proto gre","proto icmpv6","proto 89","proto tcp dport 80-90 syn","src 10.0.0.0/8 proto udp sport 53"]' \
		"$(P -j shaping rule list dev "$IF" interval 1ms | jq -c '[.rules[].match]')" \
		"rule matches"
}

@test "shaping: action shape is refused in XDP mode, nothing half made" {
	attach mode xdp
	run_err "$PKTSCOPE" shaping rule add dev "$IF" rate 10mbit action shape
	[ "$status" -eq 1 ]
	[[ $stderr == *"needs mode tcx or tc"* ]]
	[ -z "$(ifb_of)" ]
	[ "$(P -j shaping rule list dev "$IF" interval 1ms | jq '.rules | length')" -eq 0 ]
}

@test "shaping: 10 Mbit/s drop rule against 50 Mbit/s UDP; drops = offered - delivered" {
	attach
	P shaping rule add dev "$IF" name udp10 proto udp rate 10mbit >/dev/null
	server "$PORT" "$BATS_TEST_TMPDIR/s.json"
	client "$PORT" "$BATS_TEST_TMPDIR/c.json" -u -b 50M -l 1472 -t 4 -O 1
	wait_servers
	rx=$(rx_mbps "$BATS_TEST_TMPDIR/s.json")
	figure "receiver $rx Mbit/s"
	within "$rx" 9.8 10.2 "receiver rate"
	# every datagram the sender sent reached the hook: what the rule
	# dropped is exactly what the receiver did not get (iperf3's one
	# handshake datagram passed and is in neither report)
	sent=$(udp_sent "$BATS_TEST_TMPDIR/c.json")
	got=$(udp_got "$BATS_TEST_TMPDIR/s.json")
	row=$(rule_json udp10)
	echo "sent $sent, received $got, rule: $row"
	assert_eq "$((sent - got))" "$(jq .dropped_packets <<<"$row")" "dropped = offered - delivered"
	assert_eq "$((got + 1))" "$(jq .passed_packets <<<"$row")" "passed = delivered + handshake"
}

@test "shaping: in XDP mode too; watch shows the rates per rule (JSON Lines)" {
	attach mode xdp
	P shaping rule add dev "$IF" name udp10 proto udp rate 10mbit >/dev/null
	server "$PORT" "$BATS_TEST_TMPDIR/s.json"
	client "$PORT" "$BATS_TEST_TMPDIR/c.json" -u -b 50M -l 1472 -t 4 -O 1 &
	sleep 1.5
	P -j shaping watch dev "$IF" interval 1s count 2 >"$BATS_TEST_TMPDIR/watch.json"
	wait
	wait_servers
	rx=$(rx_mbps "$BATS_TEST_TMPDIR/s.json")
	figure "XDP: receiver $rx Mbit/s; watch: $(jq -c '[.passed_bits_per_second, .dropped_bits_per_second]' "$BATS_TEST_TMPDIR/watch.json" | tr '\n' ' ')"
	within "$rx" 9.8 10.2 "receiver rate at XDP"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/watch.json")" -eq 2 ]
	while read -r line; do
		jq -e '.name == "udp10" and (.time | test("^[0-9-]+T[0-9:.]+Z$"))' <<<"$line" >/dev/null
		# the rule passes 10 Mbit/s of IP, the rest of 50 is dropped
		within "$(jq '.passed_bits_per_second / 1e6' <<<"$line")" 9.5 10.5 "watch passed rate"
		within "$(jq '.dropped_bits_per_second / 1e6' <<<"$line")" 35 45 "watch dropped rate"
	done <"$BATS_TEST_TMPDIR/watch.json"
}

# the kernel has these TCP congestion controls, or loads them when asked
require_cc() {
	local cc
	for cc in "$@"; do
		grep -qw "$cc" /proc/sys/net/ipv4/tcp_available_congestion_control ||
			python3 -c 'import socket, sys
socket.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, sys.argv[1].encode())' "$cc" ||
			fail "this kernel has no TCP congestion control $cc"
	done
}

# bytes the IFB has sent, and the time: "BYTES SECONDS"
ifb_sent() {
	echo "$(ip -j -s link show dev "$IFB" | jq '.[0].stats64.tx.bytes') $(date +%s.%N)"
}

# One TCP transfer through the rule: tcp_run CC NAME ARGS...; sets GOODPUT
# (receiver payload, Mbit/s), RTOS (retransmission timeouts) and RETRANS
# (segments sent again), and writes NAME.json.  With LINK_AT=S, also LINK:
# the IP rate the IFB sent from S seconds in for 4 s (Mbit/s; its frames
# are 1514 bytes for 1500 of IP).
tcp_run() {
	local cc=$1 name=$2 rto0 re0 a b
	shift 2
	server "$PORT" "$BATS_TEST_TMPDIR/$name.json"
	rto0=$(tcp_count TCPTimeouts) re0=$(tcp_count RetransSegs)
	client "$PORT" "$BATS_TEST_TMPDIR/$name-client.json" -C "$cc" "$@" &
	if [ -n "${LINK_AT:-}" ]; then
		sleep "$LINK_AT"
		a=$(ifb_sent)
		sleep 4
		b=$(ifb_sent)
		LINK=$(awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ")
			printf "%.3f", (y[1] - x[1]) * 8 / (y[2] - x[2]) / 1e6 * 1500 / 1514 }')
	fi
	wait $! || fail "iperf3 client ($cc) failed"
	wait_servers
	RTOS=$(($(tcp_count TCPTimeouts) - rto0))
	RETRANS=$(($(tcp_count RetransSegs) - re0))
	GOODPUT=$(rx_mbps "$BATS_TEST_TMPDIR/$name.json")
}

# Both senders named, not the machine's default (bbr on some, cubic in
# Linux): they meet a shaper differently (bbr paces at the rate it
# measures, cubic fills the queue).  A 10 Mbit/s rule counts IP bytes, so
# it carries at most 10 * 1448 / 1500 = 9.65 Mbit/s of TCP payload; the
# shaped bound is 95% of that: the receiver counts a segment only once
# the holes before it are filled, so a loss at the edge of the measured
# seconds moves up to a window of data out of them.
@test "shaping: TCP, cubic and bbr, against a 10 Mbit/s rule: >= 90% policed (default burst), >= 95% shaped" {
	local cc
	declare -A police shape link
	require_cc cubic bbr
	attach
	P shaping rule add dev "$IF" name tcp10 proto tcp rate 10mbit >/dev/null
	for cc in cubic bbr; do
		tcp_run "$cc" "police-$cc" -t 4 -O 1
		police[$cc]=$GOODPUT
		figure "policed TCP ($cc): $GOODPUT Mbit/s, $RTOS timeouts"
	done
	P shaping rule del dev "$IF" tcp10 >/dev/null
	P shaping rule add dev "$IF" name tcp10s proto tcp rate 10mbit action shape >/dev/null
	for cc in cubic bbr; do
		row=$(rule_json tcp10s)
		qdrops0=$(jq .queue_drops_packets <<<"$row")
		queued0=$(jq .queued_packets <<<"$row")
		# three seconds left out: the segments slow start lost there
		# reach the receiver's socket only once recovered, and a timeout
		# in slow start (200 ms at least) can push that past the second
		# second; eight measured, as one timeout costs 200 ms or more
		LINK_AT=4 tcp_run "$cc" "shape-$cc" -t 8 -O 3
		shape[$cc]=$GOODPUT link[$cc]=$LINK
		row=$(rule_json tcp10s)
		qdrops=$(($(jq .queue_drops_packets <<<"$row") - qdrops0))
		figure "shaped TCP ($cc): $GOODPUT Mbit/s at the receiver, $LINK Mbit/s of IP out of the IFB, $RTOS timeouts, $qdrops queue drops, $RETRANS segments sent again; each second (omitted ones first): $(jq -r '[.intervals[].sum | .bits_per_second / 1e6 * 100 | floor / 100] | join(" ")' "$BATS_TEST_TMPDIR/shape-$cc.json")"
		[ "$(jq .queued_packets <<<"$row")" -gt "$queued0" ] ||
			fail "$cc: the shaped rule queued nothing"
		# a full queue drops a segment, not a whole GSO aggregate of ~40
		# (which TCP would have to send again)
		[ "$RETRANS" -le $((qdrops * 3 / 2 + 20)) ] ||
			fail "$cc: $RETRANS segments sent again for $qdrops dropped"
	done
	for cc in cubic bbr; do
		# at most the rate and what is left of the 512 KiB burst after
		# the omitted second, over 4 s
		within "${police[$cc]}" 9.0 11.4 "policed TCP goodput ($cc)"
		within "${shape[$cc]}" 9.17 10.2 "shaped TCP goodput ($cc)"
		# the shaper itself, over 4 s of the transfer: never over the
		# rate, and under it only while the sender stops (a timeout can
		# empty the queue for 200 ms); the receiver's figure also moves
		# with the data a loss holds back from it
		within "${link[$cc]}" 9.5 10.2 "IP rate out of the IFB under shaped TCP ($cc)"
	done
}

# Each second's payload rate at the receiver (iperf3 -i 1), the first
# included: a shaper whose HTB burst is large lets that burst through at
# once (kubernetes 90838: 199x the rate in the first second).
@test "shaping: action shape holds a 10 Mbit/s rate from the first second (UDP)" {
	attach
	P shaping rule add dev "$IF" name udp10s proto udp rate 10mbit action shape >/dev/null
	server "$PORT" "$BATS_TEST_TMPDIR/s.json"
	client "$PORT" "$BATS_TEST_TMPDIR/c.json" -u -b 50M -l 1472 -t 4 -i 1
	wait_servers
	# each datagram the program redirected (its REDIRECT verdicts) reached
	# the IFB's root qdisc, which sent or dropped it
	read -r sent drops qlen < <(tc -s -j qdisc show dev "$IFB" root |
		jq -r '.[0] | "\(.packets) \(.drops) \(.qlen)"')
	assert_eq "$((sent + drops + qlen))" "$(verdict_packets shaping redirect "$IF")" \
		"redirected: the IFB root's sent $sent + dropped $drops + queued $qlen"
	# and nothing else: the host sends nothing of its own out of the IFB
	# (an IPv6 link-local address would make it send router solicitations)
	[ -z "$(ip -6 addr show dev "$IFB")" ] || fail "the IFB has IPv6 addresses: $(ip -6 addr show dev "$IFB")"
	jq -r '.intervals[].sum | select(.seconds > 0.5) | .bits_per_second / 1e6' \
		"$BATS_TEST_TMPDIR/s.json" >"$BATS_TEST_TMPDIR/each"
	offered=$(jq '.end.sum.bits_per_second / 1e6' "$BATS_TEST_TMPDIR/c.json")
	figure "shaped UDP, each second at the receiver: $(tr '\n' ' ' <"$BATS_TEST_TMPDIR/each")Mbit/s (payload); offered $offered"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/each")" -ge 4 ]
	# 9.81 Mbit/s of payload in 1500-byte IP packets is the rule's 10
	while read -r r; do within "$r" 8.0 10.2 "a second of shaped UDP"; done \
		<"$BATS_TEST_TMPDIR/each"
	within "$(rx_mbps "$BATS_TEST_TMPDIR/s.json")" 9.3 10.2 "shaped UDP over 4 s"
}

@test "shaping: per-source gives two senders 5 Mbit/s each (within 5%)" {
	attach
	HOST=$LAB_HOST_IP6
	a=$(extra_src 1); b=$(extra_src 2)
	P shaping rule add dev "$IF" name ps proto udp rate 5mbit per-source >/dev/null
	server "$PORT" "$BATS_TEST_TMPDIR/sa.json"
	server "$((PORT + 1))" "$BATS_TEST_TMPDIR/sb.json"
	# 1452-byte datagrams: 1500-byte IPv6 packets
	client "$PORT" "$BATS_TEST_TMPDIR/ca.json" -u -b 20M -l 1452 -t 4 -O 1 -B "$a" &
	client "$((PORT + 1))" "$BATS_TEST_TMPDIR/cb.json" -u -b 20M -l 1452 -t 4 -O 1 -B "$b"
	wait
	wait_servers
	ra=$(ip_mbps "$BATS_TEST_TMPDIR/sa.json" 1452 1500)
	rb=$(ip_mbps "$BATS_TEST_TMPDIR/sb.json" 1452 1500)
	figure "sources (IP rate): $a $ra, $b $rb Mbit/s"
	within "$ra" 4.75 5.25 "source $a"
	within "$rb" 4.75 5.25 "source $b"
	run_err "$PKTSCOPE" -j shaping show dev "$IF" interval 1ms
	[ "$(jq '.interfaces[0].sources | length' <<<"$output")" -eq 2 ]
}

@test "shaping: fair shares 20 Mbit/s among four senders (each within 10% of a quarter)" {
	attach
	HOST=$LAB_HOST_IP6
	P shaping rule add dev "$IF" name fair proto udp rate 20mbit fair >/dev/null
	local i pids=()
	for i in 0 1 2 3; do
		src[i]=$(extra_src $((i + 1)))
		server "$((PORT + i))" "$BATS_TEST_TMPDIR/s$i.json"
	done
	for i in 0 1 2 3; do
		client "$((PORT + i))" "$BATS_TEST_TMPDIR/c$i.json" -u -b $((10 + 5 * i))M \
			-l 1452 -t 4 -O 1 -B "${src[i]}" &
		pids+=($!)
	done
	wait "${pids[@]}"
	wait_servers
	for i in 0 1 2 3; do
		r[i]=$(ip_mbps "$BATS_TEST_TMPDIR/s$i.json" 1452 1500)
		o[i]=$(jq '.end.sum.bits_per_second / 1e6' "$BATS_TEST_TMPDIR/c$i.json")
	done
	figure "received (IP rate) ${r[*]} Mbit/s, offered ${o[*]} Mbit/s"
	for i in 0 1 2 3; do
		within "${r[i]}" 4.5 5.5 "fair share of sender $i"
	done
}

@test "shaping: fair after 20 sources came and went: a heavy and a light sender get half each" {
	attach
	HOST=$LAB_HOST_IP6
	P shaping rule add dev "$IF" name fair proto udp rate 20mbit fair >/dev/null
	local i all=()
	for i in $(seq 20); do all+=("$(extra_src "$i")"); done
	# one datagram from each in turn, 10 ms apart, then a second of quiet
	lab_exec python3 -c 'import socket, sys, time
for a in sys.argv[2:]:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind((a, 0))
    s.sendto(b"x" * 64, (sys.argv[1], 9))
    s.close()
    time.sleep(0.01)' "$HOST" "${all[@]}"
	[ "$(rule_json fair | jq .queued_packets)" -eq 20 ] ||
		fail "not the 20 datagrams queued"
	sleep 1
	# the 1st and the 17th: a class handed to each new source in turn
	# put them in one queue.  The heavy one sends on four sockets: in a
	# shared queue, each socket's own pushback gives each about a share
	# (one socket each came out 11/9, four 15/5, with the old classes)
	a=${all[0]}; b=${all[16]}
	server "$PORT" "$BATS_TEST_TMPDIR/sa.json"
	server "$((PORT + 1))" "$BATS_TEST_TMPDIR/sb.json"
	client "$PORT" "$BATS_TEST_TMPDIR/ca.json" -u -P 4 -b 10M -l 1452 -t 4 -O 1 -B "$a" &
	client "$((PORT + 1))" "$BATS_TEST_TMPDIR/cb.json" -u -b 12M -l 1452 -t 4 -O 1 -B "$b"
	wait
	wait_servers
	ra=$(ip_mbps "$BATS_TEST_TMPDIR/sa.json" 1452 1500)
	rb=$(ip_mbps "$BATS_TEST_TMPDIR/sb.json" 1452 1500)
	figure "received (IP rate): heavy $a $ra, light $b $rb Mbit/s"
	within "$ra" 9 11 "heavy sender's half"
	within "$rb" 9 11 "light sender's half"
}

@test "shaping: a pps rule against 64-byte packets (within 2%)" {
	attach
	P shaping rule add dev "$IF" name pps proto udp pps 2000 >/dev/null
	server "$PORT" "$BATS_TEST_TMPDIR/s.json"
	# 22 bytes of UDP payload: 50-byte IP packets, 64-byte frames
	client "$PORT" "$BATS_TEST_TMPDIR/c.json" -u -l 22 -b 1760k -t 4 -O 1
	wait_servers
	pps=$(jq '[.intervals[].sum | select(.omitted | not)] |
		((map(.packets - .lost_packets) | add) / (map(.seconds) | add))' \
		"$BATS_TEST_TMPDIR/s.json")
	offered=$(jq '.end.sum.packets / .end.sum.seconds' "$BATS_TEST_TMPDIR/c.json")
	figure "received $pps packets/s of $offered offered"
	within "$pps" 1960 2040 "packets a second"
}

@test "shaping: syn pps 20 per-source lets 20 connections a second per client through" {
	attach
	HOST=$LAB_HOST_IP6
	a=$(extra_src 1); b=$(extra_src 2)
	P shaping rule add dev "$IF" name conn proto tcp dport "$PORT" syn pps 20 per-source >/dev/null
	cr=$PKTSCOPE_TESTLIB/conn_rate.py
	python3 "$cr" serve "$HOST" "$PORT" 6 >"$BATS_TEST_TMPDIR/acc.json" 2>"$BATS_TEST_TMPDIR/srv.err" &
	SERVERS+=($!)
	for i in $(seq 50); do grep -q listening "$BATS_TEST_TMPDIR/srv.err" && break; sleep 0.05; done
	# 60 attempts a second each, for 4 s
	lab_exec python3 "$cr" connect "$a" "$HOST" "$PORT" 60 4 >"$BATS_TEST_TMPDIR/ca.json" &
	lab_exec python3 "$cr" connect "$b" "$HOST" "$PORT" 60 4 >"$BATS_TEST_TMPDIR/cb.json"
	wait
	wait_servers
	na=$(jq --arg a "$a" '.accepted[$a] // 0' "$BATS_TEST_TMPDIR/acc.json")
	nb=$(jq --arg a "$b" '.accepted[$a] // 0' "$BATS_TEST_TMPDIR/acc.json")
	row=$(rule_json conn)
	figure "rule: $(jq -c '{passed_packets, dropped_packets}' <<<"$row")"
	figure "accepted in 4 s: $na from $a ($(jq .attempts "$BATS_TEST_TMPDIR/ca.json") tried), $nb from $b ($(jq .attempts "$BATS_TEST_TMPDIR/cb.json") tried)"
	# 20 a second for 4 s (within 5%), and the default burst of four
	within "$na" 80 88 "connections from $a"
	within "$nb" 80 88 "connections from $b"
	[ "$(jq .passed_packets <<<"$row")" -eq $((na + nb)) ] || fail "rule passed $(jq .passed_packets <<<"$row"), server accepted $((na + nb))"
}

# p99 of hping3's ICMP round trips (ms), 200 pings 15 ms apart; the
# median goes to the test's output
ping_p99() {
	lab_exec timeout 20 hping3 -1 -i u15000 -c 200 "$LAB_HOST_IP4" 2>/dev/null |
		sed -n 's/.*rtt=\([0-9.]*\) ms/\1/p' | sort -n >"$BATS_TEST_TMPDIR/rtt"
	awk '{ v[NR] = $1 } END { if (NR < 150) { print "lost"; exit }
		print "median", v[int(NR / 2)] >"/dev/stderr"; print v[int(NR * 0.99)] }' \
		"$BATS_TEST_TMPDIR/rtt"
}

@test "shaping: prio: ping p99 under 5 ms while bulk UDP saturates a shaped rule" {
	attach
	P shaping rule add dev "$IF" name bulk rate 10mbit action shape >/dev/null
	server "$PORT" "$BATS_TEST_TMPDIR/s1.json"
	client "$PORT" "$BATS_TEST_TMPDIR/c1.json" -u -b 20M -l 1472 -t 5 &
	sleep 1
	without=$(ping_p99)
	wait
	wait_servers
	P shaping rule add dev "$IF" name icmp proto icmp rate 1mbit action shape prio 0 >/dev/null
	server "$PORT" "$BATS_TEST_TMPDIR/s2.json"
	client "$PORT" "$BATS_TEST_TMPDIR/c2.json" -u -b 20M -l 1472 -t 5 &
	sleep 1
	with=$(ping_p99)
	wait
	wait_servers
	figure "ping p99 under bulk UDP: $without ms in the bulk rule's queue, $with ms with its own prio 0 rule"
	bulk=$(rx_mbps "$BATS_TEST_TMPDIR/s2.json")
	figure "bulk UDP received at $bulk Mbit/s"
	within "$with" 0 5 "ping p99 with priority"
	within "$without" 10 10000 "ping p99 without priority"
	[ "$(jq .queued_packets <<<"$(rule_json icmp)")" -ge 100 ]
}

@test "shaping: deleting a rule restores full throughput within 1 s" {
	attach
	P shaping rule add dev "$IF" name lim proto udp rate 10mbit >/dev/null
	server "$PORT" "$BATS_TEST_TMPDIR/s.json"
	t0=$(date +%s.%N)
	client "$PORT" "$BATS_TEST_TMPDIR/c.json" -u -b 50M -l 1472 -t 5 -i 0.25 &
	sleep 2
	td=$(date +%s.%N)
	P shaping rule del dev "$IF" lim >/dev/null
	wait
	wait_servers
	off=$(awk -v a="$t0" -v b="$td" 'BEGIN { print b - a }')
	# every interval that starts 1 s after the delete: the sender's rate
	jq -r --argjson off "$off" '.intervals[].sum |
		select(.start >= $off + 1 and .seconds > 0.2) |
		"\(.start) \(.bits_per_second / 1e6)"' "$BATS_TEST_TMPDIR/s.json" >"$BATS_TEST_TMPDIR/after"
	jq -r --argjson off "$off" '.intervals[].sum |
		select(.end <= $off and .start >= 1) |
		"\(.start) \(.bits_per_second / 1e6)"' "$BATS_TEST_TMPDIR/s.json" >"$BATS_TEST_TMPDIR/before"
	figure "deleted at ${off}s; before: $(awk '{printf "%.1f ", $2}' "$BATS_TEST_TMPDIR/before")| 1 s after: $(awk '{printf "%.1f ", $2}' "$BATS_TEST_TMPDIR/after")"
	[ -s "$BATS_TEST_TMPDIR/after" ]
	while read -r s r; do within "$r" 0 10.5 "before the delete ($s)"; done <"$BATS_TEST_TMPDIR/before"
	while read -r s r; do within "$r" 45 60 "after the delete ($s)"; done <"$BATS_TEST_TMPDIR/after"
}

@test "shaping: rules change live; the counters of the rules left alone stay" {
	attach
	P shaping rule add dev "$IF" name a proto udp dport 7001 pps 100000 >/dev/null
	lab_send --mix udp-flood --dport 7001 --count 200 >/dev/null
	[ "$(jq .passed_packets <<<"$(rule_json a)")" -eq 200 ]
	id_a=$(jq .id <<<"$(rule_json a)")
	P shaping rule add dev "$IF" name b proto udp dport 7002 pps 100000 prio 0 >/dev/null
	P shaping rule add dev "$IF" name c rate 1gbit prio 7 >/dev/null
	lab_send --mix udp-flood --dport 7002 --count 50 >/dev/null
	P shaping rule del dev "$IF" b >/dev/null
	lab_send --mix udp-flood --dport 7001 --count 100 >/dev/null
	row=$(rule_json a)
	[ "$(jq .passed_packets <<<"$row")" -eq 300 ] || fail "a: $row"
	[ "$(jq .id <<<"$row")" -eq "$id_a" ]
	# b's 50 went to b, not to c (prio 0 first), and nothing to a
	[ "$(jq .passed_packets <<<"$(rule_json c)")" -eq 0 ]
	# list order: prio, then id
	P -j shaping rule list dev "$IF" interval 1ms | jq -e '[.rules[].name] == ["a", "c"]'
	P shaping rule del dev "$IF" "$id_a" >/dev/null
	P -j shaping rule list dev "$IF" interval 1ms | jq -e '[.rules[].name] == ["c"]'
}

# the value of a shaping metric: metric NAME RULE [VERDICT] < metrics -j
metric() {
	jq --arg n "pktscope_$1" --arg r "$2" --arg v "${3:-}" '[.metrics[] | select(.name == $n)
		| .samples[] | select(.labels.rule == $r and
			($v == "" or .labels.verdict == $v)) | .value] | add'
}

@test "shaping: the metrics callback gives each rule's passed, dropped and queued packets and bytes" {
	attach
	P shaping rule add dev "$IF" name pol proto udp dport 7001 pps 5 burst 10 >/dev/null
	P shaping rule add dev "$IF" name shp proto udp dport 7002 rate 10mbit action shape >/dev/null
	lab_send --mix udp-flood --dport 7001 --count 100 >/dev/null
	lab_send --mix udp-flood --dport 7002 --count 40 >/dev/null
	P -j metrics dev "$IF" >"$BATS_TEST_TMPDIR/m.json"
	pol=$(rule_json pol); shp=$(rule_json shp)
	echo "pol: $pol"; echo "shp: $shp"
	# what was sent is the oracle: every frame is in one verdict, and
	# rule list agrees (it has no queued bytes: a frame's IP bytes each)
	[ "$(jq '.passed_packets + .dropped_packets' <<<"$pol")" -eq 100 ]
	[ "$(jq .dropped_packets <<<"$pol")" -gt 0 ]
	[ "$(jq .queued_packets <<<"$shp")" -eq 40 ]
	ipb=$(jq '.passed_bytes / .passed_packets' <<<"$pol")
	for v in passed dropped queued; do
		for r in pol shp; do
			row=$pol; [ "$r" = shp ] && row=$shp
			want_b=$(jq ".${v}_bytes // (.${v}_packets * $ipb)" <<<"$row")
			assert_eq "$(jq ".${v}_packets" <<<"$row")" \
				"$(metric shaping_rule_packets_total "$r" "$v" <"$BATS_TEST_TMPDIR/m.json")" "$r $v packets"
			assert_eq "$want_b" \
				"$(metric shaping_rule_bytes_total "$r" "$v" <"$BATS_TEST_TMPDIR/m.json")" "$r $v bytes"
		done
	done
	[ "$(metric shaping_queue_backlog_bytes shp <"$BATS_TEST_TMPDIR/m.json")" != null ]
	[ "$(metric shaping_queue_drops_total shp <"$BATS_TEST_TMPDIR/m.json")" = 0 ]
}

# the n-th (1-based) bpf() call of a command at which to kill it: the first
# after its last netlink message (after_netlink), or its BPF_LINK_CREATE
kill_point() {
	local what=$1
	shift
	strace -f -qq -e trace=bpf,sendmsg -o "$BATS_TEST_TMPDIR/trace" "$@" >/dev/null 2>&1
	awk -v what="$what" '
		/bpf\(/ { n++; if (what == "link" && /BPF_LINK_CREATE/) { print n; exit }
			  if (what == "after_netlink" && seen) { print n; exit } }
		/sendmsg\(/ { seen = 1 }' "$BATS_TEST_TMPDIR/trace"
}

@test "shaping: detach leaves no qdisc, class, IFB, program or pin; also after kill -9" {
	attach
	P shaping rule add dev "$IF" name s1 rate 10mbit action shape >/dev/null
	P shaping rule add dev "$IF" name f1 proto udp rate 20mbit fair >/dev/null
	ip link show "$IFB" >/dev/null
	[ "$(tc class show dev "$IFB" | grep -c "^class htb")" -eq $((2 + 16)) ]
	[ "$(tc qdisc show dev "$IFB" | grep -c "^qdisc tbf")" -eq 17 ]
	[ "$(tc class show dev "$IFB" | grep -c "^class tbf")" -eq 17 ]
	# each TBF holds a queue that drops at its head, of 50 ms or 128 KiB
	# in full frames
	[ "$(tc qdisc show dev "$IFB" | grep -c "^qdisc pfifo_head_drop .* limit 86p")" -eq 17 ]
	P shaping detach dev "$IF" >/dev/null
	assert_clean

	# a rule add killed after it made its HTB classes, before the rule
	attach
	P shaping rule add dev "$IF" name s1 rate 10mbit action shape >/dev/null
	n=$(kill_point after_netlink "$PKTSCOPE" shaping rule add dev "$IF" name probe rate 5mbit action shape)
	P shaping rule del dev "$IF" probe >/dev/null
	[ -n "$n" ] || fail "no kill point found"
	run strace -f -qq -o /dev/null -e trace=bpf -e inject=bpf:signal=KILL:when="$n" \
		"$PKTSCOPE" shaping rule add dev "$IF" name killed rate 5mbit action shape
	[ "$status" -ne 0 ]
	[ "$(tc class show dev "$IFB" | grep -c "^class htb")" -eq 2 ] || fail "the killed add made no class: $(tc class show dev "$IFB")"
	P shaping detach dev "$IF" >/dev/null
	assert_clean

	# an attach killed as it links: the next attach cleans up and works
	n=$(kill_point link "$PKTSCOPE" shaping attach dev "$IF")
	P shaping detach dev "$IF" >/dev/null
	[ -n "$n" ] || fail "no kill point found"
	run strace -f -qq -o /dev/null -e trace=bpf -e inject=bpf:signal=KILL:when="$n" \
		"$PKTSCOPE" shaping attach dev "$IF"
	[ "$status" -ne 0 ]
	# (the core builds an attach in a folder of its own, _shaping_PID_START)
	[ -d "$PIN/shaping" ] || compgen -G "$PIN/_shaping_*" >/dev/null ||
		fail "the killed attach left nothing to clean up"
	attach
	P shaping rule add dev "$IF" name s2 rate 10mbit action shape >/dev/null
	P shaping detach dev "$IF" >/dev/null
	assert_clean
}
