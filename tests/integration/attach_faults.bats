#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The attach layer under hostile conditions, one test a defect of
# ../shared/research/reliability-findings.md (D2, D8, D11, D14, D16, D18,
# D25, D27, D28, D35): a clear Error, the right exit status, and nothing
# lost or left behind (checked with ip, tc and bpftool).

load ../lib/common
load ../lib/attach

setup_file() {
	attach_build_test_plugin
}

setup() {
	attach_setup faults
}

teardown() {
	ip link set "$IF" mtu 1500 2>/dev/null || true
	attach_teardown
}

@test "D2: a pinned map of another shape is refused, named, never read" {
	mkdir -p "$PIN/proto-stats"
	bpftool map create "$PIN/proto-stats/ps_meta" type array key 4 value 8192 entries 1 name ps_meta
	run_err "$P" status
	[ "$status" -eq 0 ]
	[[ "$output" == *"incomplete"* ]]
	run_err "$P" proto-stats attach dev "$IF"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"ps_meta: type array, 1 entries, 4-byte keys, 8192-byte values; expected type array, 1 entry, 4-byte keys, "* ]]
	run_err "$P" proto-stats detach dev "$IF"
	[ "$status" -eq 0 ]
	[ ! -e "$PIN" ]
	rm -rf "$BPFFS/pktscope"
	run_err "$P" src-log attach dev "$IF"
	[ "$status" -eq 0 ]
	D=$PIN/src-log
	rm "$D/stats"
	bpftool map create "$D/stats" type percpu_array key 4 value 4096 entries 1 name stats
	run_err "$P" src-log counters dev "$IF"
	[ "$status" -eq 1 ]
	[[ "$stderr" == "Error: map 'stats' of src-log on $IF: type percpu_array, 4-byte keys, 4096-byte values; this src-log expects type percpu_array, 4-byte keys, "* ]]
	rm "$D/config"
	bpftool map create "$D/config" type array key 4 value 4096 entries 1 name config
	run_err "$P" src-log filter dev "$IF"
	[ "$status" -eq 1 ]
	[[ "$stderr" == "Error: map 'config' of src-log on $IF: type array, 4-byte keys, 4096-byte values; "* ]]
	run_err "$P" src-log detach dev "$IF"
	[ "$status" -eq 0 ]
	assert_clean
}

@test "D8, D35: a failed replace keeps the working attachment and its counters; the MTU is named" {
	run_err "$P" -j proto-stats attach dev "$IF"
	[ "$status" -eq 0 ]
	id=$(jq -r .prog_id <<<"$output")
	lab_send --mix default --count 1 >/dev/null
	before=$("$P" -j proto-stats show dev "$IF" | jq .interfaces[0].total.packets)
	[ "$before" -ge 31 ]
	ip link set "$IF" mtu 9000
	lab_exec ip link set "$LAB_PEER_IF" mtu 9000
	run_err "$P" proto-stats attach dev "$IF" mode xdp-native replace
	[ "$status" -eq 1 ]
	[[ "$stderr" == "Error: the MTU of $IF (9000) is too large for XDP in native mode"* ]]
	run_err "$P" -j status dev "$IF"
	[ "$(jq -r '.attachments[0].prog_id' <<<"$output")" = "$id" ]
	[ "$(jq -r '.attachments[0].state' <<<"$output")" = attached ]
	[ "$("$P" -j proto-stats show dev "$IF" | jq .interfaces[0].total.packets)" -eq "$before" ]
	[ "$(python3 "$PKTSCOPE_TESTLIB/tcx_progs.py" "$IF")" = "$id" ]
	! ip -d link show "$IF" | grep -q prog/xdp || fail "XDP program on $IF"
	run_err "$P" proto-stats detach dev "$IF"
	assert_clean
}

@test "D11: an attach in progress is not cleaned up by a second one; the loser says so" {
	"$P" test-enforce attach dev "$IF" hang >/dev/null 2>"$BATS_TEST_TMPDIR/a.err" &
	a=$!
	BG_PIDS+=" $a"
	wait_for ifb_exists
	run_err "$P" -j test-enforce attach dev "$IF"
	[ "$status" -eq 0 ]
	b_id=$(jq -r .prog_id <<<"$output")
	kill -INT "$a"
	rc=0
	wait "$a" || rc=$?
	[ "$rc" -eq 1 ]
	grep -q "test-enforce was attached to $IF by another process meanwhile" "$BATS_TEST_TMPDIR/a.err"
	# B's attachment is whole and the only one on the hook
	[ "$(python3 "$PKTSCOPE_TESTLIB/tcx_progs.py" "$IF")" = "$b_id" ]
	run_err "$P" -j status dev "$IF"
	[ "$(jq -r '.attachments | length' <<<"$output")" -eq 1 ]
	[ "$(jq -r '.attachments[0].state' <<<"$output")" = attached ]
	[ -e "$PIN/test-enforce/ps_link" ]
	ifb_exists
	run_err "$P" test-enforce detach dev "$IF"
	assert_clean
}

@test "D11: racing replaces never end in a success with nothing attached" {
	run_err "$P" src-log attach dev "$IF"
	for i in $(seq 15); do
		"$P" -q src-log attach dev "$IF" replace >/dev/null 2>&1 &
		a=$!
		sleep 0.0$((RANDOM % 10))
		rb=0
		"$P" -q src-log attach dev "$IF" replace >/dev/null 2>&1 || rb=$?
		ra=0
		wait "$a" || ra=$?
		if [ "$ra" -eq 0 ] || [ "$rb" -eq 0 ]; then
			[ "$(python3 "$PKTSCOPE_TESTLIB/tcx_progs.py" "$IF" | wc -w)" -eq 1 ] ||
				fail "round $i: $(python3 "$PKTSCOPE_TESTLIB/tcx_progs.py" "$IF")"
			[ -e "$PIN/src-log/ps_link" ] || fail "round $i: no link pinned"
		fi
	done
	run_err "$P" src-log detach dev "$IF"
	assert_clean
}

@test "D14: a pktscope folder someone else made is refused with its owner; detach never claims a detach" {
	# a bpffs that an unprivileged user can reach, mode 1777 like some
	# distributions' /sys/fs/bpf
	D14=$(mktemp -d /tmp/pktscope-d14.XXXXXX)
	chmod 755 "$D14"
	mount -t bpf bpf "$D14"
	chmod 1777 "$D14"
	run setpriv --reuid=65534 --regid=65534 --clear-groups mkdir -p "$D14/pktscope/$IF/proto-stats/x"
	ok=$status
	Q="$REAL_PKTSCOPE --bpffs $D14"
	[ "$ok" -eq 0 ] && run_err $Q proto-stats attach dev "$IF"
	a_rc=$status a_err=$stderr
	[ "$ok" -eq 0 ] && run_err $Q proto-stats detach dev "$IF"
	d_rc=$status d_out=$output
	rm -rf "$D14/pktscope"
	run_err $Q proto-stats attach dev "$IF"
	m_rc=$status
	perm=$(stat -c '%u %a' "$D14/pktscope" 2>/dev/null || true)
	$Q proto-stats detach dev "$IF" >/dev/null 2>&1 || true
	umount "$D14"
	rmdir "$D14"
	[ "$ok" -eq 0 ]
	[ "$a_rc" -eq 1 ]
	[[ "$a_err" == "Error: $D14/pktscope is not pktscope's: owned by uid 65534"* ]]
	[ "$d_rc" -eq 1 ]
	[[ "$d_out" != *Detached* ]]
	# made by pktscope: root's alone
	[ "$m_rc" -eq 0 ]
	[ "$perm" = "0 700" ]
	assert_clean
}

@test "D18: the clsact qdisc tc mode made goes with its last filter; one found there stays" {
	run_err "$P" proto-stats attach dev "$IF" mode tc
	run_err "$P" test-enforce attach dev "$IF" mode tc
	run_err "$P" proto-stats detach dev "$IF"
	tc qdisc show dev "$IF" | grep -q clsact
	run_err "$P" test-enforce detach dev "$IF"
	! tc qdisc show dev "$IF" | grep -q clsact || fail "clsact left on $IF"
	tc qdisc add dev "$IF" clsact
	run_err "$P" proto-stats attach dev "$IF" mode tc
	run_err "$P" proto-stats detach dev "$IF"
	tc qdisc show dev "$IF" | grep -q clsact
	tc qdisc del dev "$IF" clsact
	assert_clean
}

@test "D25: every command given a folder that is not a bpffs says so, exit 1" {
	mkdir -p "$BATS_TEST_TMPDIR/plain"
	for cmd in "status" "proto-stats status" "proto-stats detach dev all" \
		   "proto-stats detach dev $IF" "proto-stats show" "src-log counters" \
		   "src-log filter dev $IF"; do
		run_err "$REAL_PKTSCOPE" --bpffs "$BATS_TEST_TMPDIR/plain" $cmd
		[ "$status" -eq 1 ] || fail "$cmd: rc $status"
		[ "$stderr" = "Error: $BATS_TEST_TMPDIR/plain is not a bpffs mount" ] || fail "$cmd: $stderr"
	done
}

@test "D27: a bpffs folder too long for the pins is refused, not truncated" {
	long=$BPFFS
	for i in 1 2 3 4 5; do
		long=$long/$(printf 'd%.0s' $(seq 50))
	done
	mkdir -p "$long"
	run_err "$REAL_PKTSCOPE" --bpffs "$long" proto-stats attach dev "$IF"
	if [ "$status" -eq 0 ]; then
		run_err "$REAL_PKTSCOPE" --bpffs "$long" proto-stats show dev "$IF"
		[ "$status" -eq 0 ] || fail "attached, but show fails: $stderr"
		"$REAL_PKTSCOPE" --bpffs "$long" proto-stats detach dev "$IF"
	else
		[ "$status" -eq 1 ]
		[[ "$stderr" == *"too long"* ]]
		[ ! -e "$long/pktscope" ]
	fi
	[ -z "$(python3 "$PKTSCOPE_TESTLIB/tcx_progs.py" "$IF")" ]
}

@test "D28: proto-stats watch of every interface goes on past a gone one" {
	v=lf$((BASHPID % 100000))w
	veth_make "$v"
	run_err "$P" proto-stats attach dev "$IF"
	run_err "$P" proto-stats attach dev "$v"
	ip link del "$v"
	run_err "$P" -j proto-stats watch interval 100ms count 2
	[ "$status" -eq 0 ]
	[ "$(grep -c "\"ifname\":\"$IF\"" <<<"$output")" -eq 2 ]
	[[ "$stderr" == *"Warning: "*"$v"* ]]
}

@test "D16: a failed id lookup or an error at any bpf() call leaves no tc filter behind" {
	require_cmd strace
	n=$(strace -f -e trace=bpf -o "$BATS_TEST_TMPDIR/trace" "$P" src-log attach dev "$IF" mode tc >/dev/null 2>&1;
	    grep -c 'bpf(' "$BATS_TEST_TMPDIR/trace")
	"$P" src-log detach dev "$IF" >/dev/null
	assert_clean
	# every third point, from the first to the last call
	for k in $(seq 1 3 "$n"); do
		strace -f -o /dev/null -e inject=bpf:error=ENOMEM:when=$k \
			"$P" src-log attach dev "$IF" mode tc >/dev/null 2>&1 || true
		"$P" -q src-log detach dev "$IF" >/dev/null 2>&1 || true
		assert_clean || fail "ENOMEM at bpf() call $k of $n"
	done
}
