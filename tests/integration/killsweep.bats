#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# kill -9 at the bpf() and mkdir() calls of an attach (strace's fault
# injection): whatever the point, the next attach or detach leaves nothing
# behind -- no pins, no tcx/XDP program, no tc filter, no clsact qdisc, no
# IFB device of the test plugin (ip, tc, bpftool and a tcx query).
#
# An attach makes 40-60 bpf() calls; to keep the run short each mode
# samples SWEEP_POINTS of them (default 12, spread from the first call to
# the last; SWEEP_POINTS=all for every one), and every mkdir() point.

load ../lib/common
load ../lib/attach

setup_file() {
	attach_build_test_plugin
}

setup() {
	require_cmd strace
	attach_setup sweep
}

teardown() {
	attach_teardown
}

# the calls of one attach of test-enforce in mode $1
count_calls() {
	strace -f -e trace="$2" -o "$BATS_TEST_TMPDIR/trace" \
		"$P" test-enforce attach dev "$IF" mode "$1" >/dev/null 2>&1
	"$P" test-enforce detach dev "$IF" >/dev/null 2>&1
	grep -c "$2(" "$BATS_TEST_TMPDIR/trace"
}

# N points spread over 1..total
points() {
	local total=$1 want=${SWEEP_POINTS:-12} i
	if [ "$want" = all ] || [ "$total" -le "$want" ]; then
		seq 1 "$total"
		return
	fi
	for i in $(seq 0 $((want - 1))); do
		echo $((1 + i * (total - 1) / (want - 1)))
	done | uniq
}

# kill at call $3 (of syscall $2) of an attach in mode $1; then recover by
# the next attach and its detach (odd points) or by a detach alone (even).
# (`replace`: a kill after the attach was published leaves a whole one.)
kill_at() {
	strace -f -o /dev/null -e inject="$2":signal=SIGKILL:when="$3" \
		"$P" test-enforce attach dev "$IF" mode "$1" >/dev/null 2>&1 || true
	if [ $(($3 % 2)) -eq 1 ]; then
		"$P" -q test-enforce attach dev "$IF" mode "$1" replace >/dev/null 2>&1 ||
			fail "$1, $2 #$3: the next attach failed"
	fi
	"$P" -q test-enforce detach dev "$IF" >/dev/null 2>&1 || true
	assert_clean || fail "$1: left behind after kill -9 at $2 call $3"
}

sweep() {
	local mode=$1 sys=$2 total k covered=0
	total=$(count_calls "$mode" "$sys")
	[ "$total" -gt 0 ]
	assert_clean
	for k in $(points "$total"); do
		kill_at "$mode" "$sys" "$k"
		covered=$((covered + 1))
	done
	echo "# $mode: $covered of $total $sys() points" >&3
}

@test "kill -9 at bpf() calls of a tcx attach" {
	sweep tcx bpf
}

@test "kill -9 at bpf() calls of a tc attach" {
	sweep tc bpf
}

@test "kill -9 at bpf() calls of an xdp attach" {
	sweep xdp bpf
}

@test "kill -9 at every mkdir() of an attach" {
	SWEEP_POINTS=all sweep tcx mkdir
}
