#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The hook contract on a real interface: a program that would end the chain
# is refused at attach (the attach-time probe), programs after a
# well-behaved one still count, and several plugins share the XDP hook
# through pktscope's chain, each counting every packet, also after the
# middle one leaves.  Counts are checked against the interface's own
# counters and what sendpkts reports, not against pktscope.

load ../lib/common

setup_file() {
	make -C "$TOP_BUILDDIR" -s tests/plugins/chain-end.la \
		tests/plugins/pass-all.la >/dev/null
}

setup() {
	require_lab
	lab_up hook
	IF=$LAB_HOST_IF
	PLUGINS=$(trusted_dir hook)
	cp "$TOP_BUILDDIR/tests/plugins/.libs/chain-end.so" \
		"$TOP_BUILDDIR/tests/plugins/.libs/pass-all.so" "$PLUGINS/"
	chmod 755 "$PLUGINS"
	chmod 644 "$PLUGINS"/*.so
	# `status` and `detach dev all` see only ours
	private_bpffs --plugin-path "$PLUGINS"
	PIN=$BPFFS/pktscope/$IF
}

teardown() {
	local p
	for p in proto-stats src-log pass-all chain-end; do
		"$PKTSCOPE" -q "$p" detach dev all >/dev/null 2>&1 || true
	done
	lab_cleanup
	private_bpffs_cleanup
	[[ -z ${PLUGINS:-} ]] || rm -rf -- "$PLUGINS"
}

# packets a plugin passed on IF (its ps_verdicts[PS_PASS], all CPUs): the
# first 8 bytes of each CPU's value, a little-endian u64
passed() {
	local hex sum=0
	for hex in $(bpftool -j map lookup pinned "$PIN/$1/ps_verdicts" \
			key 0 0 0 0 |
		     jq -r '.values[].value[0:8] | reverse | map(ltrimstr("0x")) | join("")'); do
		sum=$((sum + 16#$hex))
	done
	echo "$sum"
}

# send N frames of the default mix; prints the packets IF received
send_mix() {
	local before after
	read -r -a before < <(lab_ifstats "$IF")
	lab_send --mix default --count "$1" >/dev/null
	read -r -a after < <(lab_ifstats "$IF")
	echo $((after[0] - before[0]))
}

@test "a tc program that returns TC_ACT_OK is refused at attach, and leaves nothing" {
	local mode
	for mode in tcx tc; do
		run_err "$PKTSCOPE" chain-end attach dev "$IF" mode "$mode"
		[ "$status" -eq 1 ]
		[[ $stderr == "Error: chain-end's tc program returned TC_ACT_OK (0) for a harmless frame: a tc/tcx program must return TC_ACT_UNSPEC (-1, TCX_NEXT)"* ]]
		[ ! -e "$PIN/chain-end" ]
		[ -z "$(tc filter show dev "$IF" ingress 2>/dev/null)" ]
	done
	run_err "$PKTSCOPE" chain-end attach dev "$IF" mode xdp
	[ "$status" -eq 1 ]
	[[ $stderr == "Error: chain-end's XDP program returned XDP_DROP (1) for a harmless frame: an XDP program must return XDP_PASS (2)"* ]]
	! ip -d link show "$IF" | grep -q 'prog/xdp'
	[ ! -e "$PIN" ] || [ -z "$(ls "$PIN")" ]
}

@test "tcx: a program after a well-behaved one counts every packet" {
	run_err "$PKTSCOPE" src-log attach dev "$IF" mode tcx
	[ "$status" -eq 0 ]
	run_err "$PKTSCOPE" pass-all attach dev "$IF" mode tcx
	[ "$status" -eq 0 ]
	rx=$(send_mix 2)
	[ "$rx" -gt 0 ]
	assert_eq "$rx" "$(passed src-log)" "src-log passed"
	assert_eq "$rx" "$(passed pass-all)" "pass-all (after it) passed"
}

@test "xdp: two and three plugins share the hook, each counts every packet" {
	run_err "$PKTSCOPE" -j proto-stats attach dev "$IF" mode xdp
	[ "$status" -eq 0 ]
	mode=$(jq -r .mode <<<"$output")
	run_err "$PKTSCOPE" -j pass-all attach dev "$IF" mode xdp
	[ "$status" -eq 0 ]
	[ "$(jq -r .mode <<<"$output")" = "$mode" ]
	rx=$(send_mix 1)
	[ "$rx" -gt 0 ]
	assert_eq "$rx" "$(passed proto-stats)" "proto-stats, 2 in chain"
	assert_eq "$rx" "$(passed pass-all)" "pass-all, 2 in chain"
	run_err "$PKTSCOPE" -j proto-stats show dev "$IF"
	assert_eq "$rx" "$(jq -r '.interfaces[0].total.packets' <<<"$output")" \
		"proto-stats total"

	# an observer attached after an enforcer still runs before it
	run_err "$PKTSCOPE" src-log attach dev "$IF" mode xdp
	[ "$status" -eq 0 ]
	rx2=$(send_mix 1)
	assert_eq $((rx + rx2)) "$(passed proto-stats)" "proto-stats, 3 in chain"
	assert_eq "$rx2" "$(passed src-log)" "src-log, 3 in chain"
	assert_eq $((rx + rx2)) "$(passed pass-all)" "pass-all, 3 in chain"
	# one XDP program on the interface: the chain's first
	[ "$(ip -d link show "$IF" | grep -c 'prog/xdp')" -eq 1 ]
	run_err "$PKTSCOPE" status
	[ "$status" -eq 0 ]
	[[ $output != *incomplete* ]]
}

@test "xdp: the middle one leaves, the others keep counting; the first leaves, the link moves" {
	for p in proto-stats src-log pass-all; do
		run_err "$PKTSCOPE" "$p" attach dev "$IF" mode xdp
		[ "$status" -eq 0 ]
	done
	run_err "$PKTSCOPE" src-log detach dev "$IF"
	[ "$status" -eq 0 ]
	rx=$(send_mix 1)
	assert_eq "$rx" "$(passed proto-stats)" "proto-stats after the middle left"
	assert_eq "$rx" "$(passed pass-all)" "pass-all after the middle left"

	run_err "$PKTSCOPE" proto-stats detach dev "$IF"
	[ "$status" -eq 0 ]
	rx2=$(send_mix 1)
	assert_eq $((rx + rx2)) "$(passed pass-all)" "pass-all alone"
	ip -d link show "$IF" | grep -q 'prog/xdp'

	run_err "$PKTSCOPE" pass-all detach dev "$IF"
	[ "$status" -eq 0 ]
	! ip -d link show "$IF" | grep -q 'prog/xdp'
	[ ! -e "$PIN" ]
}

@test "xdp: a chain in one mode refuses a plugin that asks for the other" {
	run_err "$PKTSCOPE" -j proto-stats attach dev "$IF" mode xdp-generic
	[ "$status" -eq 0 ]
	run_err "$PKTSCOPE" pass-all attach dev "$IF" mode xdp-native
	[ "$status" -eq 1 ]
	[ "$stderr" = "Error: the XDP chain of $IF runs in mode xdp-generic: attach with mode xdp-generic or xdp" ]
	[ ! -e "$PIN/pass-all" ]
	rx=$(send_mix 1)
	assert_eq "$rx" "$(passed proto-stats)" "proto-stats after the refusal"
}

@test "xdp: replace moves an attachment between tc, tcx and the XDP chain, and never waits on its own lock" {
	local mode
	for mode in tc xdp xdp tcx xdp; do
		run_err timeout 20 "$PKTSCOPE" proto-stats attach dev "$IF" mode $mode replace
		[ "$status" -eq 0 ]
	done
	rx=$(send_mix 1)
	assert_eq "$rx" "$(passed proto-stats)" "proto-stats after the replaces"
	run_err timeout 20 "$PKTSCOPE" proto-stats detach dev "$IF"
	[ "$status" -eq 0 ]
	! ip -d link show "$IF" | grep -q 'prog/xdp'
	[ ! -e "$PIN" ]
}
