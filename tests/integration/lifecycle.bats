#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The plugin life cycle the core owns: teardown of what a plugin set up
# beyond its program, the run order of observers and enforcers on a hook,
# temporary attaches, interfaces that come and go.  The enforcer is the
# test plugin tests/plugins/test-enforce.c: it drops every packet and owns
# an IFB device tf<ifname>.  Checked with ip, tc and bpftool.

load ../lib/common

setup_file() {
	make -C "$PKTSCOPE_BUILDDIR" -s tests/plugins/test-enforce.la >/dev/null
}

setup() {
	require_lab
	lab_up life
	IF=$LAB_HOST_IF
	IFB=tf${IF:0:13}
	BPFFS=$BATS_TEST_TMPDIR/bpffs
	mkdir -p "$BPFFS"
	mount -t bpf bpf "$BPFFS" || pktscope_unavailable "cannot mount a bpffs"
	PLUGDIR=$BATS_TEST_TMPDIR/plugins
	mkdir -p "$PLUGDIR"
	cp "$PKTSCOPE_BUILDDIR/tests/plugins/.libs/test-enforce.so" "$PLUGDIR/"
	chmod 755 "$BATS_TEST_TMPDIR" "$PLUGDIR"
	REAL_PKTSCOPE=$(pktscope_bin)
	printf '#!/bin/sh\nexec "%s" --bpffs "%s" --plugin-path "%s" "$@"\n' \
		"$REAL_PKTSCOPE" "$BPFFS" "$PLUGDIR" >"$BATS_TEST_TMPDIR/pktscope"
	chmod +x "$BATS_TEST_TMPDIR/pktscope"
	P=$BATS_TEST_TMPDIR/pktscope
	PIN=$BPFFS/pktscope/$IF
}

teardown() {
	local pid
	for pid in ${BG_PIDS:-}; do
		kill -9 "$pid" 2>/dev/null || true
	done
	"$P" -q test-enforce detach dev all >/dev/null 2>&1 || true
	"$P" -q proto-stats detach dev all >/dev/null 2>&1 || true
	ip link del "$IFB" 2>/dev/null || true
	lab_cleanup
	umount "$BPFFS" 2>/dev/null || umount -l "$BPFFS" 2>/dev/null || true
}

run_err() {
	local errf="$BATS_TEST_TMPDIR/stderr"
	run bash -c '"$@" 2>"'"$errf"'"' _ "$@"
	stderr=$(cat "$errf")
	echo "status $status"; echo "stdout: $output"; echo "stderr: $stderr"
}

ifb_exists() {
	ip link show "$IFB" >/dev/null 2>&1
}

# wait up to 5 s for a command to succeed
wait_for() {
	local i
	for i in $(seq 50); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# nothing of ours on the interface: no pins, no hook, no filter, no qdisc
assert_clean() {
	[ ! -e "$PIN" ] || fail "pins left: $(ls -aR "$PIN")"
	! ifb_exists || fail "$IFB left behind"
	if ip link show "$IF" >/dev/null 2>&1; then
		! ip -d link show "$IF" | grep -q 'prog/xdp' || fail "XDP program left on $IF"
		[ -z "$(tc filter show dev "$IF" ingress 2>/dev/null)" ] || fail "tc filter left on $IF"
		! tc qdisc show dev "$IF" | grep -q clsact || fail "clsact qdisc left on $IF"
		[ "$(bpftool net show dev "$IF" -j | jq '[.[] | (.tc // []), (.xdp // [])] | flatten | length')" -eq 0 ] ||
			fail "bpftool sees programs on $IF: $(bpftool net show dev "$IF")"
	fi
}

# proto-stats' total packet count on $IF
observed() {
	"$P" -j proto-stats show dev "$IF" | jq -r '.interfaces[0].total.packets'
}

@test "teardown: the enforcer's device goes on detach and on detach dev all" {
	run_err "$P" test-enforce attach dev "$IF"
	[ "$status" -eq 0 ]
	ifb_exists
	run_err "$P" test-enforce detach dev "$IF"
	[ "$status" -eq 0 ]
	assert_clean
	run_err "$P" test-enforce attach dev "$IF"
	[ "$status" -eq 0 ]
	ifb_exists
	run_err "$P" test-enforce detach dev all
	[ "$status" -eq 0 ]
	assert_clean
}

@test "teardown: an attach killed with -9 is cleaned, device too, by the next attach or detach" {
	for next in attach detach; do
		"$P" test-enforce attach dev "$IF" hang >/dev/null 2>&1 &
		pid=$!
		BG_PIDS+=" $pid"
		wait_for ifb_exists
		kill -9 "$pid"
		wait "$pid" || true
		ifb_exists
		if [ $next = attach ]; then
			run_err "$P" test-enforce attach dev "$IF"
			[ "$status" -eq 0 ]
			ifb_exists
			run_err "$P" test-enforce detach dev "$IF"
		else
			run_err "$P" test-enforce detach dev "$IF"
		fi
		[ "$status" -eq 0 ]
		assert_clean
	done
}

# $1 $2: the plugins in the order they are attached; $3: mode
order_case() {
	run_err "$P" "$1" attach dev "$IF" mode "$3"
	[ "$status" -eq 0 ]
	run_err "$P" "$2" attach dev "$IF" mode "$3"
	[ "$status" -eq 0 ]
	lab_send --mix default --count 1 >/dev/null
	# the observer ran first: it counted what the enforcer then dropped
	[ "$(observed)" -ge 31 ]
	run_err "$P" -j status dev "$IF"
	[ "$(jq -r '[.attachments[] | .plugin] | join(",")' <<<"$output")" = "proto-stats,test-enforce" ]
	[ "$(jq -r '[.attachments[] | .position] | join(",")' <<<"$output")" = "1,2" ]
	run_err "$P" test-enforce detach dev "$IF"
	run_err "$P" proto-stats detach dev "$IF"
	assert_clean
}

@test "order: observer before enforcer whichever is attached first (tcx)" {
	order_case proto-stats test-enforce tcx
	order_case test-enforce proto-stats tcx
}

@test "order: observer before enforcer whichever is attached first (tc)" {
	order_case proto-stats test-enforce tc
	order_case test-enforce proto-stats tc
}
