# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# common.bash - helpers shared by the bats test files.  In a .bats file:
#
#     load ../lib/common      # (path relative to the .bats file)
#
# Skips become failures under PKTSCOPE_REQUIRE_BPF=1 (set by CI, which runs
# as root on a kernel that can load BPF): there, a test that cannot run is a
# bug, not something to shrug at.
#
#   pktscope_unavailable REASON   skip the test, or fail it under
#                                 PKTSCOPE_REQUIRE_BPF=1
#   require_root                  root, or unavailable
#   require_cmd CMD...            every CMD on PATH, or unavailable
#   require_netns                 root + ip + a network namespace can be made
#   require_lab                   require_netns + the lab's tools; loads lab.bash
#   require_bpffs                 bpffs mounted at /sys/fs/bpf
#   fail MSG...                   print MSG and fail the test
#   assert_eq EXPECTED ACTUAL [WHAT]
#   assert_json_eq EXPECTED_JSON ACTUAL_JSON [WHAT]   (compared with jq -S)
#   pktscope_bin                  path of the built pktscope binary ($PKTSCOPE
#                                 under make check)
#   private_bpffs [OPTION...]     mount a bpffs of the test's own ($BPFFS) and
#                                 point $PKTSCOPE at a wrapper that passes
#                                 --bpffs $BPFFS and the OPTIONs; for tests
#                                 that list or detach "all"; both go in
#                                 $PRIVATE_BPFFS_DIR (default: the test's
#                                 tmpdir)
#   private_bpffs_cleanup         unmount it (in teardown)
#   trusted_dir [NAME]            print a new folder the loader trusts as
#                                 root, for test plugins (remove it after)
#   run_err CMD...                bats' run, with stderr apart in $stderr
#   wait_stable LOOKS CMD...      until CMD prints the same LOOKS times in a
#                                 row, 0.1 s apart (10 s at most): a file or
#                                 a counter that stopped growing
#   lab_bpffs_setup NAME          the usual integration setup: require_lab,
#                                 PKTSCOPE, T, a private bpffs in BPFFS (other
#                                 tests detach "all" in theirs), lab_up NAME,
#                                 IF (the host end)
#   lab_bpffs_teardown PLUGIN...  detach each PLUGIN from IF, remove the labs,
#                                 unmount the private bpffs
#
# Exported paths: PKTSCOPE_SRCDIR (top of the source tree: $TOP_SRCDIR under
# make check), PKTSCOPE_BUILDDIR (top of the build tree: $TOP_BUILDDIR under
# make check, else the source tree), PKTSCOPE_TESTLIB (this directory).

PKTSCOPE_TESTLIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PKTSCOPE_SRCDIR=${PKTSCOPE_SRCDIR:-${TOP_SRCDIR:-$(cd "$PKTSCOPE_TESTLIB/../.." && pwd)}}
PKTSCOPE_BUILDDIR=${PKTSCOPE_BUILDDIR:-${TOP_BUILDDIR:-$PKTSCOPE_SRCDIR}}
export PKTSCOPE_TESTLIB PKTSCOPE_SRCDIR PKTSCOPE_BUILDDIR

pktscope_unavailable() {
	if [[ ${PKTSCOPE_REQUIRE_BPF:-0} == 1 ]]; then
		printf 'cannot run: %s (PKTSCOPE_REQUIRE_BPF=1 turns this skip into a failure)\n' "$*" >&2
		return 1
	fi
	skip "$*"
}

fail() {
	printf '%s\n' "$*" >&2
	return 1
}

require_root() {
	if [[ $EUID -ne 0 ]]; then
		pktscope_unavailable "needs root"
	fi
}

require_cmd() {
	local c
	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			pktscope_unavailable "needs $c"
			return
		fi
	done
}

require_netns() {
	local probe
	require_root || return
	require_cmd ip || return
	probe=pktscope-probe-$BASHPID
	if ! ip netns add "$probe" 2>/dev/null; then
		pktscope_unavailable "cannot create a network namespace"
		return
	fi
	ip netns del "$probe" 2>/dev/null || true
}

require_lab() {
	require_netns || return
	require_cmd tcpdump tshark python3 flock jq || return
	# shellcheck source=tests/lib/lab.bash
	source "$PKTSCOPE_TESTLIB/lab.bash"
}

require_bpffs() {
	require_root || return
	if ! grep -qs '^[^ ]* /sys/fs/bpf bpf ' /proc/mounts; then
		pktscope_unavailable "bpffs is not mounted at /sys/fs/bpf"
	fi
}

assert_eq() {
	local expected=$1 actual=$2 what=${3:-value}
	if [[ $expected != "$actual" ]]; then
		fail "$what: expected '$expected', got '$actual'"
	fi
}

# verdict_packets PLUGIN VERDICT IF [PKTSCOPE]: the packets PLUGIN's program
# on IF gave VERDICT (pass, drop, redirect): the hook's own counters, read
# as an operator reads them (`pktscope metrics`)
verdict_packets() {
	local plugin=$1 verdict=$2 ifc=$3 cmd=${4:-$PKTSCOPE}
	"$cmd" -j metrics dev "$ifc" | jq -r --arg p "$plugin" --arg v "$verdict" '
		.metrics[] | select(.name == "pktscope_verdict_packets_total") |
		.samples[] | select(.labels.plugin == $p and .labels.verdict == $v) |
		.value'
}

assert_json_eq() {
	local expected actual what=${3:-JSON}
	expected=$(jq -S -c . <<<"$1") || fail "$what: expected value is not JSON: $1" || return
	actual=$(jq -S -c . <<<"$2") || fail "$what: actual value is not JSON: $2" || return
	if [[ $expected != "$actual" ]]; then
		fail "$what differs:
  expected: $expected
  actual:   $actual"
	fi
}

pktscope_bin() {
	local b
	for b in "${PKTSCOPE:-}" "$PKTSCOPE_BUILDDIR/pktscope" "$PKTSCOPE_SRCDIR/pktscope"; do
		if [[ -n $b && -x $b ]]; then
			printf '%s\n' "$b"
			return 0
		fi
	done
	return 1
}

private_bpffs() {
	local real dir=${PRIVATE_BPFFS_DIR:-$BATS_TEST_TMPDIR}
	BPFFS=$dir/bpffs
	mkdir -p "$BPFFS"
	mount -t bpf bpf "$BPFFS" || pktscope_unavailable "cannot mount a bpffs" || return
	real=$(pktscope_bin) || fail "no pktscope binary" || return
	{
		printf '#!/bin/sh\nexec "%s" --bpffs "%s"' "$real" "$BPFFS"
		(($# == 0)) || printf ' "%s"' "$@"
		printf ' "$@"\n'
	} >"$dir/pktscope"
	chmod +x "$dir/pktscope"
	PKTSCOPE=$dir/pktscope
}

# A new folder the loader trusts as root, in the build tree (/tmp, sticky
# and world-writable, is not: see pktscope(8), SECURITY); printed.
trusted_dir() {
	local top=$PKTSCOPE_BUILDDIR/tests/scratch
	mkdir -p "$top" && chmod 755 "$top" &&
		realpath "$(mktemp -d "$top/${1:-t}.XXXXXX")"
}

private_bpffs_cleanup() {
	[[ -n ${BPFFS:-} ]] || return 0
	umount "$BPFFS" 2>/dev/null || umount -l "$BPFFS" 2>/dev/null || true
}

# slog_slot_of CONFIG PID: the src-log reader slot that pid holds and beats
# in, from the pinned config map CONFIG (owner: pid << 32 | start time);
# nothing when it holds none
slog_slot_of() {
	bpftool -j map dump pinned "$1" 2>/dev/null |
		jq -r --argjson p "$2" '.[0].formatted.value.readers | to_entries[] |
			select((.value.owner / 4294967296 | floor) == $p and .value.beat_ns != 0) | .key' 2>/dev/null
}

run_err() {
	local errf="$BATS_TEST_TMPDIR/stderr"
	run bash -c '"$@" 2>"'"$errf"'"' _ "$@"
	stderr=$(cat "$errf")
	echo "status $status"; echo "stdout: $output"; echo "stderr: $stderr"
}

lab_bpffs_setup() {
	require_lab || return
	PKTSCOPE=$(pktscope_bin) || fail "pktscope is not built" || return
	T=$BATS_TEST_TMPDIR
	BPFFS=$T/bpffs
	mkdir -p "$BPFFS"
	mount -t bpf bpf "$BPFFS" || fail "cannot mount a bpffs at $BPFFS" || return
	BPFFS_MOUNTED=1
	lab_up "$1"
	IF=$LAB_HOST_IF
}

lab_bpffs_teardown() {
	local p
	if [[ -n ${PKTSCOPE:-} && -n ${IF:-} ]]; then
		for p in "$@"; do
			"$PKTSCOPE" --bpffs "$BPFFS" -q "$p" detach dev "$IF" >/dev/null 2>&1 || true
		done
	fi
	if declare -F lab_cleanup >/dev/null; then
		lab_cleanup
	fi
	if [[ -n ${BPFFS_MOUNTED:-} ]]; then
		umount "$BPFFS" || umount -l "$BPFFS" || true
	fi
}

wait_stable() {
	local looks=$1 i now last="" stable=0
	shift
	for ((i = 0; i < 100 && stable < looks; i++)); do
		now=$("$@" 2>/dev/null)
		if [[ $now == "$last" ]]; then
			stable=$((stable + 1))
		else
			stable=0
		fi
		last=$now
		sleep 0.1
	done
}
