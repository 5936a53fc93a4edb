#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Every table fits an 80-column terminal: each command runs on a
# pseudo-terminal of 80 columns (tests/lib/ptydrive.py --cols 80, which the
# output writer reads with TIOCGWINSZ), and no line of what it printed is
# wider.  The same commands on a pipe print full width (scripts read them),
# and the widest of them is wider than 80, so the test has something to fit.
#
# shellcheck disable=SC2153 # LAB_* come from lab_up

load ../lib/common

setup() {
	lab_bpffs_setup width || return
}

teardown() {
	lab_bpffs_teardown proto-stats src-log
}

# the widest line CMD prints on an 80-column terminal (display columns)
width_on_pty() {
	env -u COLUMNS python3 "$PKTSCOPE_TESTLIB/ptydrive.py" --cols 80 --timeout 20 \
		--log "$T/pty.log" -- "$PKTSCOPE" --bpffs "$BPFFS" "$@" <<<"eof" >"$T/pty.rc" ||
		return 1
	grep -q '^exit=0$' "$T/pty.rc" || { cat "$T/pty.log" >&2; return 1; }
	sed 's/\r$//' "$T/pty.log" | LC_ALL=C.UTF-8 wc -L
}

@test "width: every table fits 80 columns on a terminal, full width on a pipe" {
	local cmds c w widest=0
	"$PKTSCOPE" --bpffs "$BPFFS" proto-stats attach dev "$IF" >/dev/null || fail "attach proto-stats"
	"$PKTSCOPE" --bpffs "$BPFFS" src-log attach dev "$IF" >/dev/null || fail "attach src-log"
	lab_send --mix default --count 2 >/dev/null || fail "sendpkts failed"
	cmds=(
		"plugin list"
		"status"
		"feature"
		"proto-stats show dev $IF"
		"proto-stats top dev $IF"
		"proto-stats watch dev $IF interval 300ms count 2"
		"src-log sources dev $IF"
		"src-log counters dev $IF"
	)
	for c in "${cmds[@]}"; do
		# shellcheck disable=SC2086 # word splitting wanted
		w=$(width_on_pty $c) || fail "'$c' failed on a pty"
		echo "$c: $w columns on an 80-column terminal"
		((w <= 80)) || { cat "$T/pty.log"; fail "'$c' is $w columns wide on an 80-column terminal"; }
		# shellcheck disable=SC2086
		w=$("$PKTSCOPE" --bpffs "$BPFFS" $c | LC_ALL=C.UTF-8 wc -L)
		((w > widest)) && widest=$w
	done
	echo "widest on a pipe: $widest"
	((widest > 80)) || fail "nothing is wider than 80 on a pipe: the test fits nothing"
	# watch below a second shows milliseconds, so its rows differ
	w=$("$PKTSCOPE" --bpffs "$BPFFS" proto-stats watch dev "$IF" interval 300ms count 2 |
		awk 'NR > 1 { print $1 }' | sort -u | wc -l)
	assert_eq 2 "$w" "distinct TIME values of two 300ms rows"
	"$PKTSCOPE" --bpffs "$BPFFS" proto-stats watch dev "$IF" interval 300ms count 1 |
		awk 'NR == 2 && $1 !~ /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9][0-9][0-9]$/ { exit 1 }' ||
		fail "TIME has no milliseconds at interval 300ms"
}
