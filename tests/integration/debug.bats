#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# -d: libbpf's log and the core's decisions on stderr, every line
# "debug: ...", so they grep apart: which plugin file loaded, the mode
# chosen, where on the hook (tcx neighbour, tc priority, XDP chain slot),
# the pins made and renamed into place, a dead owner taken over, the
# teardown.  Each decision is checked against what the kernel or tc says.
# Without -d, none of it.

load ../lib/common
load ../lib/attach

setup_file() {
	attach_build_test_plugin
}

setup() {
	attach_setup debug
}

teardown() {
	attach_teardown
}

# every stderr line is a debug line (nothing else was expected there)
all_debug() {
	local bad
	bad=$(grep -v '^debug: ' <<<"$stderr" || true)
	[ -z "$bad" ] || fail "stderr lines without the prefix: $bad"
}

has() {
	grep -qE "$1" <<<"$stderr" || fail "no line /$1/ in: $stderr"
}

prog_id() {
	"$P" -j "$1" status dev "$IF" | jq -r '.attachments[0].prog_id'
}

@test "-d: a tcx attach shows libbpf's log, the plugin file, the mode, the neighbour, the pins" {
	"$P" -q test-enforce attach dev "$IF" mode tcx
	enforcer=$(prog_id test-enforce)
	[ "$enforcer" -gt 0 ]
	run_err "$P" -d proto-stats attach dev "$IF"
	[ "$status" -eq 0 ]
	all_debug
	# libbpf's own log, its debug level too, without any variable
	has '^debug: libbpf: '
	[ "$(grep -c '^debug: libbpf: ' <<<"$stderr")" -ge 5 ]
	has "^debug: loader: .*/proto-stats\.so: loaded as proto-stats "
	has "^debug: loader: .*/test-enforce\.so: loaded as test-enforce "
	has "^debug: attach: proto-stats on $IF: mode tcx \(the default"
	has "^debug: attach: proto-stats: loaded program .* \(prog id $(prog_id proto-stats)\)"
	# the observer goes before the enforcer, by its id
	has "^debug: tcx: $IF: placed before prog id $enforcer,"
	has "^debug: pins: pinned $BPFFS/pktscope/$IF/[^/]*/ps_prog$"
	has "^debug: pins: renamed .* to $BPFFS/pktscope/$IF/proto-stats$"
}

@test "-d: tc priority and XDP chain slot, as tc and the chain have them" {
	run_err "$P" -d test-enforce attach dev "$IF" mode tc
	[ "$status" -eq 0 ]
	all_debug
	has "^debug: attach: test-enforce on $IF: mode tc, as asked"
	prio=$(sed -n "s/^debug: tc: $IF: filter at priority \([0-9]*\),.*/\1/p" <<<"$stderr")
	[ -n "$prio" ] || fail "no tc priority line: $stderr"
	# the oracle: tc itself
	tc filter show dev "$IF" ingress | grep -q "pref $prio " ||
		fail "tc has no filter at pref $prio: $(tc filter show dev "$IF" ingress)"
	"$P" -q test-enforce detach dev "$IF"

	run_err "$P" -d proto-stats attach dev "$IF" mode xdp-generic
	[ "$status" -eq 0 ]
	has "^debug: xdp: $IF: chain slot 0 \(a new chain\)"
	has "^debug: xdp: $IF: linked in mode xdp-generic"
	run_err "$P" -d test-enforce attach dev "$IF" mode xdp-generic
	[ "$status" -eq 0 ]
	all_debug
	# enforcers take slots 8-15, after every observer
	has "^debug: xdp: $IF: chain slot 8 \(joining the chain there\)"
	ip -d link show "$IF" | grep -q 'prog/xdp' || fail "no XDP program on $IF"
}

@test "-d: detach says the teardown ran and what went" {
	"$P" -q test-enforce attach dev "$IF"
	ifb_exists
	run_err "$P" -d test-enforce detach dev "$IF"
	[ "$status" -eq 0 ]
	all_debug
	has "^debug: teardown: test-enforce on $IF: done"
	has "^debug: devices: deleted $IFB \\(ifb\\)$"
	has "^debug: detach: test-enforce on $IF: hook and pins removed"
	! ifb_exists || fail "the teardown left $IFB"
}

@test "-d: an attach takes over from a dead owner and says so" {
	"$P" proto-stats watch dev "$IF" interval 1s >/dev/null 2>&1 &
	pid=$!
	BG_PIDS+=" $pid"
	wait_for test -e "$PIN/proto-stats/ps_link" || fail "the watch did not attach"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	run_err "$P" -d -q proto-stats attach dev "$IF"
	[ "$status" -eq 0 ]
	all_debug
	has "^debug: owner: taking over proto-stats on $IF from pid $pid, which died"
	[ "$(jq -r '.attachments[0].owner_pid // 0' <<<"$("$P" -j proto-stats status dev "$IF")")" = 0 ]
}

@test "without -d: none of it" {
	"$P" -q test-enforce attach dev "$IF" mode tcx
	run_err "$P" proto-stats attach dev "$IF"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ] || fail "stderr without -d: $stderr"
	run_err "$P" test-enforce detach dev "$IF"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ] || fail "stderr without -d: $stderr"
	"$P" -q proto-stats detach dev "$IF"
	run_err "$P" proto-stats attach dev "$IF" mode xdp-generic
	[ "$status" -eq 0 ]
	[ -z "$stderr" ] || fail "stderr without -d: $stderr"
}
