#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The plugin life cycle the core owns: teardown of what a plugin set up
# beyond its program, the run order of observers and enforcers on a hook,
# temporary attaches, interfaces that come and go.  The enforcer is the
# test plugin tests/plugins/test-enforce.c: it drops every packet and owns
# an IFB device tf<ifname>.  Checked with ip, tc and bpftool.

load ../lib/common
load ../lib/attach

setup_file() {
	attach_build_test_plugin
}

setup() {
	attach_setup life
}

teardown() {
	attach_teardown
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

@test "owned devices: one of that name the attachment did not make is refused and left alone; a replace takes them over" {
	ip link add "$IFB" type ifb
	run_err "$P" test-enforce attach dev "$IF"
	[ "$status" -eq 1 ]
	[[ $stderr == *"a device named $IFB exists and is not test-enforce's on $IF: left alone"* ]]
	ip link show "$IFB" >/dev/null || fail "the core deleted a device it did not make"
	[ ! -e "$BPFFS/pktscope/$IF/test-enforce" ] || fail "a refused attach left pins"
	ip link del "$IFB"
	# a replace takes the devices over, also one made after attach that
	# its configure() does not know; the replaced one's cleanup keeps them
	run_err "$P" test-enforce attach dev "$IF"
	[ "$status" -eq 0 ]
	later=tx${IF:0:13}
	run_err "$P" test-enforce own dev "$IF" name "$later"
	[ "$status" -eq 0 ]
	run_err "$P" test-enforce attach dev "$IF" replace
	[ "$status" -eq 0 ]
	ifb_exists || fail "the replace lost the device"
	ip link show "$later" >/dev/null || fail "the replace deleted $later"
	run_err "$P" test-enforce detach dev "$IF"
	[ "$status" -eq 0 ]
	! ip link show "$later" >/dev/null 2>&1 || { ip link del "$later"; fail "$later outlived the replacing attachment"; }
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
	read -r -a before < <(lab_ifstats "$IF")
	lab_send --mix default --count 1 >/dev/null
	read -r -a after < <(lab_ifstats "$IF")
	rx=$((after[0] - before[0]))
	[ "$rx" -ge 31 ]
	# the observer ran first: it counted what the enforcer then dropped,
	# and each program's verdicts say so
	assert_eq "$rx" "$(observed)" "proto-stats' packets"
	assert_eq "$rx" "$(verdict_packets proto-stats pass "$IF" "$P")" "proto-stats passed"
	assert_eq "$rx" "$(verdict_packets test-enforce drop "$IF" "$P")" "test-enforce dropped"
	assert_eq 0 "$(verdict_packets test-enforce pass "$IF" "$P")" "test-enforce passed"
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

# ---- temporary attaches ----

@test "temporary: proto-stats watch attaches for its duration; status marks it" {
	"$P" proto-stats watch dev "$IF" interval 100ms >/dev/null 2>&1 &
	pid=$!
	BG_PIDS+=" $pid"
	wait_for test -e "$PIN/proto-stats/ps_meta"
	run_err "$P" -j status dev "$IF"
	[ "$(jq -r '.attachments[0].owner_pid' <<<"$output")" = "$pid" ]
	[[ "$(jq -r '.attachments[0].state' <<<"$output")" == "attached, temporary (pid $pid)" ]]
	kill -INT "$pid"
	wait "$pid"
	assert_clean
}

@test "temporary: anomaly watch attaches for its duration, alerts only, and leaves nothing" {
	"$P" -j anomaly watch dev "$IF" duration 4s >"$BATS_TEST_TMPDIR/alerts" &
	pid=$!
	BG_PIDS+=" $pid"
	wait_for test -e "$PIN/anomaly/ps_meta"
	run_err "$P" -j status dev "$IF"
	[[ "$(jq -r '.attachments[0].state' <<<"$output")" == "attached, temporary (pid $pid)" ]]
	run_err "$P" -j anomaly show dev "$IF"
	assert_eq alert "$(jq -r '.interfaces[0].config.action' <<<"$output")" "a temporary attach's action"
	# the default mix holds a truncated IPv4 header: one malformed alert
	lab_send --mix default --count 1 >/dev/null
	wait "$pid"
	cat "$BATS_TEST_TMPDIR/alerts" >&2
	[ "$(jq -s 'map(select(.detector == "malformed")) | length' "$BATS_TEST_TMPDIR/alerts")" -ge 1 ]
	[ "$(jq -s 'map(select(.action != "alert")) | length' "$BATS_TEST_TMPDIR/alerts")" -eq 0 ]
	assert_clean
}

@test "temporary: a watch killed with -9 is marked orphaned, then taken over and cleaned (D17)" {
	"$P" src-log watch dev "$IF" >/dev/null 2>&1 &
	pid=$!
	BG_PIDS+=" $pid"
	wait_for test -e "$PIN/src-log/ps_link"
	kill -9 "$pid"
	wait "$pid" || true
	run_err "$P" -j status dev "$IF"
	[[ "$(jq -r '.attachments[0].state' <<<"$output")" == *"orphaned"*"pid $pid"* ]]
	run_err "$P" src-log watch dev "$IF" duration 200ms
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"process (pid $pid) died"* ]]
	assert_clean
}

@test "temporary: any plugin's orphan goes with its teardown at the next attach or detach" {
	for next in attach detach; do
		"$P" test-enforce hold dev "$IF" >/dev/null 2>&1 &
		pid=$!
		BG_PIDS+=" $pid"
		wait_for test -e "$PIN/test-enforce/ps_link"
		ifb_exists
		run_err "$P" test-enforce hold dev "$IF" duration 1ms
		[ "$status" -eq 1 ]
		[[ "$stderr" == *"another process (pid $pid) is using test-enforce"* ]]
		kill -9 "$pid"
		wait "$pid" || true
		if [ $next = attach ]; then
			run_err "$P" proto-stats attach dev "$IF"
			[ "$status" -eq 0 ]
			run_err "$P" proto-stats detach dev "$IF"
		else
			run_err "$P" test-enforce detach dev "$IF"
		fi
		[ "$status" -eq 0 ]
		assert_clean
	done
}

# ---- interfaces that come and go (D19, D16) ----

@test "re-created interface: attach cleans the dead attachment with a warning" {
	v=lf$((BASHPID % 100000))a
	for mode in tcx tc xdp; do
		veth_make "$v"
		run_err "$P" proto-stats attach dev "$v" mode $mode
		[ "$status" -eq 0 ]
		ip link del "$v"
		veth_make "$v"
		run_err "$P" proto-stats attach dev "$v" mode $mode
		[ "$status" -eq 0 ]
		[[ "$stderr" == *"Warning: removing proto-stats's attachment to an earlier $v"* ]]
		run_err "$P" -j status dev "$v"
		[ "$(jq -r '.attachments[0].state' <<<"$output")" = attached ]
		run_err "$P" proto-stats detach dev "$v"
		[ "$status" -eq 0 ]
		assert_clean "$v"
		ip link del "$v"
	done
}

@test "re-created interface with the same name and ifindex is not shown as attached" {
	v=lf$((BASHPID % 100000))b
	veth_make "$v" index 4000
	run_err "$P" src-log attach dev "$v"
	[ "$status" -eq 0 ]
	ip link del "$v"
	veth_make "$v" index 4000
	run_err "$P" -j status dev "$v"
	[ "$(jq -r '.attachments[0].state' <<<"$output")" = "interface gone" ]
	run_err "$P" src-log detach dev "$v"
	assert_clean "$v"
}

@test "renamed interface: status follows it, detach removes its tc filter" {
	v=lf$((BASHPID % 100000))c
	veth_make "$v"
	run_err "$P" proto-stats attach dev "$v" mode tc
	[ "$status" -eq 0 ]
	ip link set "$v" down
	ip link set "$v" name "${v}x"
	MY_VETHS+=" ${v}x"
	run_err "$P" -j status dev "$v"
	[ "$(jq -r '.attachments[0].state' <<<"$output")" = "renamed to ${v}x" ]
	run_err "$P" proto-stats attach dev "${v}x"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"already runs on ${v}x"* ]]
	run_err "$P" proto-stats detach dev "$v"
	[ "$status" -eq 0 ]
	[ -z "$(tc filter show dev "${v}x" ingress)" ]
	assert_clean "${v}x"
}

@test "detach dev all sweeps every attachment whose interface is gone" {
	v=lf$((BASHPID % 100000))d
	veth_make "$v"
	veth_make "${v}2"
	run_err "$P" proto-stats attach dev "$v"
	run_err "$P" proto-stats attach dev "${v}2" mode tc
	run_err "$P" proto-stats attach dev "$IF"
	ip link del "$v"
	ip link del "${v}2"
	run_err "$P" -j proto-stats detach dev all
	[ "$status" -eq 0 ]
	[ "$(jq -r '[.detached[].ifname] | sort | join(",")' <<<"$output")" = "$(printf '%s\n' "$v" "${v}2" "$IF" | sort | paste -sd,)" ]
	[ ! -e "$BPFFS/pktscope" ]
	assert_clean
}
