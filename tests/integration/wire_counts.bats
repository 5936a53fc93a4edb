#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# proto-stats counts what the wire carried, in every mode: during an iperf3
# TCP run through the lab's veth, its packets equal the interface's own
# rx_packets delta, and its bytes rx_bytes plus the 14-byte Ethernet header
# veth leaves out of rx_bytes, within 0.1%.
#
# The lab is set up the way a NIC works: the sender (the namespace end)
# segments before it transmits (TSO and GSO off), so every frame the host
# end receives is one it counts in rx_packets, and the host end merges them
# with GRO (on: veth then receives through NAPI).  XDP runs before GRO and
# sees every frame; tc and tcx run after it and see aggregates of up to 64
# KiB, which proto-stats counts as the frames they were made of (gso_segs,
# include/pktscope/bpf/parse.h).  Without that, tc counted ~40 times fewer
# packets than the interface, most of them "jumbo".
#
# shellcheck disable=SC2153 # LAB_* come from lab_up

load ../lib/common

setup() {
	lab_bpffs_setup wire || return
	require_cmd iperf3 ethtool || return
	lab_exec ethtool -K "$LAB_PEER_IF" tso off gso off >/dev/null ||
		fail "cannot turn off TSO/GSO on $LAB_PEER_IF" || return
	ethtool -K "$IF" gro on >/dev/null || fail "cannot turn on GRO on $IF" || return
	PORT=$((20000 + BASHPID % 20000))
}

psc() {
	"$PKTSCOPE" --bpffs "$BPFFS" "$@"
}

teardown() {
	if [[ -n ${SERVER_PID:-} ]]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	lab_bpffs_teardown proto-stats
}

# within WANT +- 0.1%
near() {
	awk -v w="$1" -v g="$2" 'BEGIN { d = w - g; if (d < 0) d = -d; exit !(w > 0 && d <= w / 1000) }'
}

wire_counts() {
	local mode=$1 before after show pkts bytes got_p got_b
	psc proto-stats attach dev "$IF" mode "$mode" >/dev/null ||
		fail "attach mode $mode failed" || return
	iperf3 -s -1 -B "$LAB_HOST_IP4" -p "$PORT" >"$T/server.log" 2>&1 &
	SERVER_PID=$!
	sleep 0.5
	psc proto-stats reset dev "$IF" >/dev/null || return
	read -r -a before < <(lab_ifstats)
	lab_exec iperf3 -c "$LAB_HOST_IP4" -p "$PORT" -t 1 >"$T/client.log" 2>&1 ||
		fail "iperf3 failed: $(cat "$T/client.log")" || return
	read -r -a after < <(lab_ifstats)
	wait "$SERVER_PID" || true
	SERVER_PID=
	show=$(psc -j proto-stats show dev "$IF") || fail "show failed" || return
	pkts=$((after[0] - before[0]))
	bytes=$((after[1] - before[1] + 14 * pkts))
	got_p=$(jq '.interfaces[0].total.packets' <<<"$show")
	got_b=$(jq '.interfaces[0].total.bytes' <<<"$show")
	echo "$mode: rx_packets $pkts, rx_bytes + 14/packet $bytes;" \
		"proto-stats $got_p packets, $got_b bytes," \
		"sizes $(jq -c '.interfaces[0].sizes | map_values(.packets)' <<<"$show")"
	((pkts > 10000)) || fail "iperf3 sent only $pkts packets" || return
	near "$pkts" "$got_p" || fail "$mode: $got_p packets, the interface $pkts" || return
	near "$bytes" "$got_b" || fail "$mode: $got_b bytes, the interface $bytes" || return
	# a 1500-MTU link carries no jumbo frame, aggregates or not
	assert_eq 0 "$(jq '.interfaces[0].sizes.jumbo.packets' <<<"$show")" "jumbo frames" || return
	psc proto-stats detach dev "$IF" >/dev/null || fail "detach failed"
}

@test "wire counts: tcx counts the frames GRO merged, as rx_packets does" {
	wire_counts tcx
}

@test "wire counts: tc counts the frames GRO merged, as rx_packets does" {
	wire_counts tc
}

@test "wire counts: xdp (before GRO) counts every frame, as rx_packets does" {
	wire_counts xdp
}

@test "show says since when it counts: the attach, then the last reset" {
	local out since t0
	t0=$(date -u +%s)
	psc proto-stats attach dev "$IF" mode tcx >/dev/null || fail "attach failed"
	out=$(psc -j proto-stats show dev "$IF") || fail "show failed"
	since=$(jq -r '.interfaces[0].counting_since' <<<"$out")
	[[ $since =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] ||
		fail "counting_since is not RFC 3339 UTC: $since"
	assert_eq attach "$(jq -r '.interfaces[0].counting_from' <<<"$out")" "counting from" || return
	(($(jq -r '.interfaces[0].counting_since | fromdateiso8601' <<<"$out") >= t0 - 1)) ||
		fail "counting_since $since is before the attach"
	psc proto-stats show dev "$IF" | head -2 | grep -q "^counting since .*Z (attach)$" ||
		fail "the text does not say since when: $(psc proto-stats show dev "$IF" | head -2)"
	sleep 1.1
	psc proto-stats reset dev "$IF" >/dev/null || fail "reset failed"
	out=$(psc -j proto-stats show dev "$IF") || fail "show failed"
	assert_eq reset "$(jq -r '.interfaces[0].counting_from' <<<"$out")" "counting from after reset" || return
	(($(jq -r '.interfaces[0].counting_since | fromdateiso8601' <<<"$out") > $(date -d "$since" +%s))) ||
		fail "counting_since did not move on reset: $(jq -r '.interfaces[0].counting_since' <<<"$out")"
}
