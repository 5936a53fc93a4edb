# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# attach.bash - set-up and checks shared by the attach layer's bats files
# (lifecycle, attach_faults, killsweep).  In a .bats file, after
# `load ../lib/common`:
#
#     load ../lib/attach
#     setup_file() { attach_build_test_plugin; }
#     setup() { attach_setup NAME; }
#     teardown() { attach_teardown; }
#
#   attach_setup NAME   a lab (IF: its host end), a private bpffs ($BPFFS),
#                       $P: pktscope on that bpffs with the test plugin
#                       test-enforce (IFB: the device it makes); PIN
#   attach_teardown     detach everything, remove what tests made
#   run_err CMD...      run, with $stderr apart from $output
#   wait_for CMD...     up to 5 s for CMD to succeed
#   ifb_exists          test-enforce's two devices are there
#   assert_clean [IF]   nothing of ours on IF ($IF): pins, hook programs,
#                       tc filters, clsact qdisc, the IFB device (checked
#                       with ip, tc and bpftool)
#   veth_make NAME [ARGS]  a veth pair NAME / NAMEp of the test's own (ARGS:
#                       ip link add's, as "index 4000"), removed by
#                       attach_teardown

attach_build_test_plugin() {
	make -C "$PKTSCOPE_BUILDDIR" -s tests/plugins/test-enforce.la >/dev/null
}

attach_setup() {
	require_lab || return
	lab_up "$1"
	IF=$LAB_HOST_IF
	IFB=tf${IF:0:13}
	BPFFS=$BATS_TEST_TMPDIR/bpffs
	mkdir -p "$BPFFS"
	mount -t bpf bpf "$BPFFS" || pktscope_unavailable "cannot mount a bpffs"
	PLUGDIR=$(trusted_dir attach)
	cp "$PKTSCOPE_BUILDDIR/tests/plugins/.libs/test-enforce.so" "$PLUGDIR/"
	chmod 755 "$BATS_TEST_TMPDIR" "$PLUGDIR"
	REAL_PKTSCOPE=$(pktscope_bin)
	printf '#!/bin/sh\nexec "%s" --bpffs "%s" --plugin-path "%s" "$@"\n' \
		"$REAL_PKTSCOPE" "$BPFFS" "$PLUGDIR" >"$BATS_TEST_TMPDIR/pktscope"
	chmod +x "$BATS_TEST_TMPDIR/pktscope"
	P=$BATS_TEST_TMPDIR/pktscope
	PIN=$BPFFS/pktscope/$IF
	BG_PIDS=
	MY_VETHS=
}

attach_teardown() {
	local pid v
	for pid in ${BG_PIDS:-}; do
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	"$P" -q test-enforce detach dev all >/dev/null 2>&1 || true
	"$P" -q proto-stats detach dev all >/dev/null 2>&1 || true
	"$P" -q src-log detach dev all >/dev/null 2>&1 || true
	for v in ${MY_VETHS:-}; do
		ip link del "$v" 2>/dev/null || true
		ip link del "tf${v:0:13}" 2>/dev/null || true
		ip link del "tg${v:0:13}" 2>/dev/null || true
	done
	ip link del "$IFB" 2>/dev/null || true
	ip link del "tg${IF:0:13}" 2>/dev/null || true
	lab_cleanup
	umount "$BPFFS" 2>/dev/null || umount -l "$BPFFS" 2>/dev/null || true
	[[ -z ${PLUGDIR:-} ]] || rm -rf -- "$PLUGDIR"
}

run_err() {
	local errf="$BATS_TEST_TMPDIR/stderr"
	run bash -c '"$@" 2>"'"$errf"'"' _ "$@"
	stderr=$(cat "$errf")
	echo "status $status"; echo "stdout: $output"; echo "stderr: $stderr"
}

wait_for() {
	local i
	for i in $(seq 50); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

ifb_exists() {
	ip link show "$IFB" >/dev/null 2>&1 &&
		ip link show "tg${IF:0:13}" >/dev/null 2>&1
}

assert_clean() {
	local dev=${1:-$IF}
	[ ! -e "$BPFFS/pktscope/$dev" ] || fail "pins left: $(ls -aR "$BPFFS/pktscope/$dev")"
	# tf: the core removes it (ps_dev_own); tg: the plugin's teardown()
	! ip link show "tf${dev:0:13}" >/dev/null 2>&1 || fail "tf${dev:0:13} left behind"
	! ip link show "tg${dev:0:13}" >/dev/null 2>&1 || fail "tg${dev:0:13} left behind"
	if ip link show "$dev" >/dev/null 2>&1; then
		! ip -d link show "$dev" | grep -q 'prog/xdp' || fail "XDP program left on $dev"
		[ -z "$(tc filter show dev "$dev" ingress 2>/dev/null)" ] || fail "tc filter left on $dev"
		! tc qdisc show dev "$dev" | grep -q clsact || fail "clsact qdisc left on $dev"
		[ "$(bpftool net show dev "$dev" -j | jq '[.[] | (.tc // []), (.xdp // [])] | flatten | length')" -eq 0 ] ||
			fail "bpftool sees programs on $dev: $(bpftool net show dev "$dev")"
		# bpftool 7.1 cannot show tcx: ask the kernel
		[ -z "$(python3 "$PKTSCOPE_TESTLIB/tcx_progs.py" "$dev")" ] ||
			fail "tcx programs left on $dev: $(python3 "$PKTSCOPE_TESTLIB/tcx_progs.py" "$dev")"
	fi
}

veth_make() {
	ip link add "$1" "${@:2}" type veth peer name "${1}p" || return
	ip link set "$1" up
	MY_VETHS+=" $1"
}
