#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The attach layer's life cycle, with proto-stats as the plugin: separate
# processes compose through bpffs, mistakes are clear errors, and nothing is
# left behind -- checked with ip link, tc and bpftool, not with pktscope.

load ../lib/common

setup() {
	require_lab
	lab_up attach
	IF=$LAB_HOST_IF
	# a private bpffs: `detach dev all` and `status` here must not see (or
	# remove) what other test files attach at the same time
	BPFFS=$BATS_TEST_TMPDIR/bpffs
	mkdir -p "$BPFFS"
	mount -t bpf bpf "$BPFFS" || pktscope_unavailable "cannot mount a bpffs"
	REAL_PKTSCOPE=$(pktscope_bin)
	printf '#!/bin/sh\nexec "%s" --bpffs "%s" "$@"\n' "$REAL_PKTSCOPE" "$BPFFS" \
		>"$BATS_TEST_TMPDIR/pktscope"
	chmod +x "$BATS_TEST_TMPDIR/pktscope"
	PKTSCOPE=$BATS_TEST_TMPDIR/pktscope
	PIN=$BPFFS/pktscope/$IF
}

teardown() {
	"$PKTSCOPE" -q proto-stats detach dev "$IF" >/dev/null 2>&1 || true
	lab_cleanup
	umount "$BPFFS" 2>/dev/null || umount -l "$BPFFS" 2>/dev/null || true
}

# run with stderr apart
run_err() {
	local errf="$BATS_TEST_TMPDIR/stderr"
	run bash -c '"$@" 2>"'"$errf"'"' _ "$@"
	stderr=$(cat "$errf")
	echo "status $status"; echo "stdout: $output"; echo "stderr: $stderr"
}

# nothing of ours on the interface: no pins, no tcx/xdp program, no filter
assert_clean() {
	[ ! -e "$PIN/proto-stats" ] || fail "pins left: $(ls -R "$PIN")"
	if ip link show "$IF" >/dev/null 2>&1; then
		! ip -d link show "$IF" | grep -q 'prog/xdp' || fail "XDP program left on $IF"
		[ -z "$(tc filter show dev "$IF" ingress 2>/dev/null)" ] || fail "tc filter left on $IF"
	fi
	# every program we loaded is gone from the kernel, links included
	# (the kernel frees a program after an RCU grace period: allow 2 s)
	local id try
	for id in ${PROG_IDS:-}; do
		for try in $(seq 20); do
			bpftool prog show id "$id" >/dev/null 2>&1 || continue 2
			sleep 0.1
		done
		fail "program $id still loaded"
	done
}

# attach and remember the program id for assert_clean
attach() {
	run_err "$PKTSCOPE" -j proto-stats attach dev "$IF" "$@"
	if [ "$status" -eq 0 ]; then
		PROG_IDS+=" $(jq -r .prog_id <<<"$output")"
	fi
}

# bpftool 7.1 lists a tcx link only as "type 11 prog ID"
tcx_linked() {
	bpftool link show | grep -Eq "type (11|tcx) +prog $1( |\$)"
}

@test "attach, show and detach in three processes (tcx by default)" {
	attach
	[ "$status" -eq 0 ]
	[ "$(jq -r .mode <<<"$output")" = tcx ]
	id=$(jq -r .prog_id <<<"$output")
	tcx_linked "$id"
	[ -e "$PIN/proto-stats/counters" ]
	[ -e "$PIN/proto-stats/ps_link" ]
	lab_send --mix default --count 1 >/dev/null
	run_err "$PKTSCOPE" -j proto-stats show dev "$IF"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.interfaces[0].total.packets' <<<"$output")" -ge 31 ]
	run_err "$PKTSCOPE" -j status
	[ "$(jq -r --arg i "$IF" '.attachments[] | select(.ifname == $i) | .mode' <<<"$output")" = tcx ]
	run_err "$PKTSCOPE" proto-stats detach dev "$IF"
	[ "$status" -eq 0 ]
	assert_clean
}

@test "every mode attaches and detaches cleanly" {
	for mode in tcx tc xdp xdp-native xdp-generic; do
		attach mode "$mode"
		[ "$status" -eq 0 ]
		got=$(jq -r .mode <<<"$output")
		id=$(jq -r .prog_id <<<"$output")
		case $mode in
		xdp) [[ $got == xdp-native || $got == xdp-generic ]] ;;
		*) [ "$got" = "$mode" ] ;;
		esac
		case $mode in
		tc) [ -n "$(tc filter show dev "$IF" ingress)" ] ;;
		xdp*) ip -d link show "$IF" | grep -q 'prog/xdp' ;;
		tcx) tcx_linked "$id" ;;
		esac
		run_err "$PKTSCOPE" proto-stats detach dev "$IF"
		[ "$status" -eq 0 ]
		assert_clean
	done
}

@test "attach twice is an error; replace swaps it" {
	attach
	[ "$status" -eq 0 ]
	first=$(jq -r .prog_id <<<"$output")
	attach
	[ "$status" -eq 1 ]
	[[ "$stderr" == "Error: proto-stats is already attached to $IF (mode tcx"*"add 'replace'" ]]
	tcx_linked "$first"
	attach mode tc replace
	[ "$status" -eq 0 ]
	[ "$(jq -r .mode <<<"$output")" = tc ]
	! tcx_linked "$first"
	[ "$(tc filter show dev "$IF" ingress | grep -c 'direct-action')" -eq 1 ]
	run_err "$PKTSCOPE" proto-stats detach dev "$IF"
	assert_clean
}

@test "detaching what is not attached says so" {
	run_err "$PKTSCOPE" proto-stats detach dev "$IF"
	[ "$status" -eq 1 ]
	[ "$stderr" = "Error: proto-stats is not attached to $IF" ]
	run_err "$PKTSCOPE" proto-stats detach dev all
	[ "$status" -eq 0 ]
}

@test "bad input: unknown interface, bad mode, no root" {
	run_err "$PKTSCOPE" proto-stats attach dev nosuch0
	[ "$status" -eq 1 ]
	[ "$stderr" = "Error: interface 'nosuch0' not found" ]
	[ ! -e "$BPFFS/pktscope/nosuch0" ]
	run_err "$PKTSCOPE" proto-stats attach dev "$IF" mode turbo
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unknown mode 'turbo'"* ]]
	run_err "$PKTSCOPE" proto-stats watch dev "$IF" interval 0
	[ "$status" -eq 2 ]
	run_err "$PKTSCOPE" proto-stats show dev "$IF"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"proto-stats is not attached to $IF"* ]]
	run_err setpriv --reuid=65534 --regid=65534 --clear-groups "$REAL_PKTSCOPE" proto-stats attach dev "$IF"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"needs root (CAP_BPF and CAP_NET_ADMIN)"* ]]
	assert_clean
}

@test "XDP held by another program is a clear error naming it" {
	run_err "$PKTSCOPE" proto-stats attach dev "$IF" mode xdp
	[ "$status" -eq 0 ]
	# a second pktscope attach is a replace question; the XDP slot is the
	# point here, so pin a foreign XDP program with bpftool
	obj="$PKTSCOPE_BUILDDIR/bpf/proto_stats.bpf.o"
	[ -e "$obj" ]
	run_err "$PKTSCOPE" proto-stats detach dev "$IF"
	ip link set dev "$IF" xdp obj "$obj" sec xdp
	run_err "$PKTSCOPE" proto-stats attach dev "$IF" mode xdp
	ip link set dev "$IF" xdp off
	[ "$status" -eq 1 ]
	[[ "$stderr" == "Error: the XDP hook of $IF is held by program 'ps_xdp' (id "* ]]
	assert_clean
}

@test "the interface vanishes while attached: status says so, detach cleans up" {
	run_err "$PKTSCOPE" proto-stats attach dev "$IF"
	[ "$status" -eq 0 ]
	ip link del "$IF"
	run_err "$PKTSCOPE" -j status
	[ "$status" -eq 0 ]
	[ "$(jq -r --arg i "$IF" '.attachments[] | select(.ifname == $i) | .state' <<<"$output")" = "interface gone" ]
	run_err "$PKTSCOPE" proto-stats detach dev "$IF"
	[ "$status" -eq 0 ]
	[ ! -e "$PIN" ]
}

@test "kill -9 during a watch leaves the attachment intact and readable" {
	run_err "$PKTSCOPE" proto-stats attach dev "$IF"
	"$PKTSCOPE" proto-stats watch dev "$IF" interval 100ms >/dev/null 2>&1 &
	pid=$!
	sleep 0.5
	kill -9 "$pid"
	wait "$pid" || true
	run_err "$PKTSCOPE" -j proto-stats show dev "$IF"
	[ "$status" -eq 0 ]
	run_err "$PKTSCOPE" proto-stats detach dev all
	[ "$status" -eq 0 ]
	assert_clean
}

@test "watch stops on count and on SIGINT, with JSON Lines under -j" {
	run_err "$PKTSCOPE" proto-stats attach dev "$IF"
	run_err "$PKTSCOPE" -j proto-stats watch dev "$IF" interval 100ms count 3
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" -eq 3 ]
	while read -r line; do jq -e '.total.packets_per_second >= 0 and .ifname != null' <<<"$line" >/dev/null; done <<<"$output"
	"$PKTSCOPE" proto-stats watch dev "$IF" interval 100ms >"$BATS_TEST_TMPDIR/w" 2>&1 &
	pid=$!
	sleep 0.6
	kill -INT "$pid"
	wait "$pid"
	grep -q '^TIME' "$BATS_TEST_TMPDIR/w"
}

@test "a watch stops with an error when its interface vanishes" {
	run_err "$PKTSCOPE" proto-stats attach dev "$IF"
	"$PKTSCOPE" proto-stats watch dev "$IF" interval 100ms >/dev/null 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	sleep 0.4
	ip link del "$IF"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 1 ]
	grep -q "interface $IF vanished" "$BATS_TEST_TMPDIR/err"
	"$PKTSCOPE" proto-stats detach dev "$IF"
}

@test "bpffs: mounted when missing, refused when --bpffs is not one" {
	mkdir -p "$BATS_TEST_TMPDIR/plain"
	run_err "$REAL_PKTSCOPE" --bpffs "$BATS_TEST_TMPDIR/plain" proto-stats attach dev "$IF"
	[ "$status" -eq 1 ]
	[ "$stderr" = "Error: $BATS_TEST_TMPDIR/plain is not a bpffs mount" ]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/plain")" ]
	# in a private mount namespace, take /sys/fs/bpf away: attach mounts it
	run_err unshare -m sh -c '
		umount /sys/fs/bpf 2>/dev/null || true
		if grep -q " /sys/fs/bpf bpf " /proc/mounts; then echo still-mounted; exit 3; fi
		"$1" proto-stats attach dev "$2" >/dev/null || exit 4
		grep -q " /sys/fs/bpf bpf " /proc/mounts || exit 5
		"$1" proto-stats detach dev "$2" >/dev/null || exit 6' _ "$REAL_PKTSCOPE" "$IF"
	[ "$status" -eq 0 ]
	assert_clean
}
