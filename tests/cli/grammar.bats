#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The one grammar, through the binary: prefixes, ambiguity, suggestions,
# value kinds and exit status 2 for every usage error.

setup() {
	PKTSCOPE=${PKTSCOPE:-$BATS_TEST_DIRNAME/../../pktscope}
}

# run_err: run and keep stderr apart from stdout
run_err() {
	local errf="$BATS_TEST_TMPDIR/stderr"
	run bash -c '"$@" 2>"'"$errf"'"' _ "$@"
	stderr=$(cat "$errf")
}

@test "unambiguous prefixes match objects and verbs" {
	run "$PKTSCOPE" plug li
	[ "$status" -eq 0 ]
	[[ "$output" == *"hello"* ]]
	run "$PKTSCOPE" hello gr n bob
	[ "$status" -eq 0 ]
	[[ "$output" == *"hello, bob"* ]]
}

@test "ambiguous object lists the candidates, exit 2" {
	run_err "$PKTSCOPE" h
	[ "$status" -eq 2 ]
	[[ "$stderr" == "Error: ambiguous object 'h': help, hello" ]]
}

@test "ambiguous keyword lists the candidates" {
	run_err "$PKTSCOPE" hello kinds d 1
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"ambiguous argument 'd'"*"duration, dev"* ]]
}

@test "unknown words suggest the nearest" {
	run_err "$PKTSCOPE" plugni list
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unknown object 'plugni'; did you mean 'plugin'?"* ]]
	run_err "$PKTSCOPE" hello gret
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"did you mean 'greet'?"* ]]
	run_err "$PKTSCOPE" hello kinds rte 1
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"did you mean 'rate'?"* ]]
	run_err "$PKTSCOPE" --jsno version
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"did you mean '--json'?"* ]]
}

@test "value kinds parse through a command" {
	run "$PKTSCOPE" -j hello kinds rate 10mbit size 64k duration 500ms count 7 \
		port 1000-2000 cidr 2001:db8::1/32 proto icmpv6 color gree dev lo
	[ "$status" -eq 0 ]
	[ "$(jq -r .rate <<<"$output")" = 10000000 ]
	[ "$(jq -r .size <<<"$output")" = 65536 ]
	[ "$(jq -r .duration <<<"$output")" = 500000000 ]
	[ "$(jq -r .count <<<"$output")" = 7 ]
	[ "$(jq -r .port <<<"$output")" = 1000-2000 ]
	[ "$(jq -r .cidr <<<"$output")" = 2001:db8::/32 ]
	[ "$(jq -r .proto <<<"$output")" = 58 ]
	[ "$(jq -r .color <<<"$output")" = green ]
	run "$PKTSCOPE" -j hello kinds rate 1.5gbit
	[ "$(jq -r .rate <<<"$output")" = 1500000000 ]
}

@test "bad values: one sentence on stderr, nothing on stdout, exit 2" {
	local -a cases=(
		"rate 0|must be greater than zero"
		"rate -1|is not a rate"
		"size 10zb|unknown unit 'zb'"
		"cidr 300.1.1.1/33|is not an IPv4 or IPv6 address"
		"cidr fe80::/129|out of range for IPv6 (0-128)"
		"port 70000|port 70000 is out of range (0-65535)"
		"port 5-3|port range 5-3 is reversed"
		"count -1|is not a count"
		"duration 10parsecs|unknown unit 'parsecs'"
		"proto tpc|did you mean 'tcp'"
		"dev ../x|not an interface name"
		"color blue|unknown color 'blue'"
		"plugin nosuch|no plugin named 'nosuch'"
	)
	for c in "${cases[@]}"; do
		# shellcheck disable=SC2086
		run_err "$PKTSCOPE" hello kinds ${c%%|*}
		echo "case: $c -> $status / $stderr / $output"
		[ "$status" -eq 2 ]
		[ -z "$output" ]
		[[ "$stderr" == "Error: "*"${c#*|}"* ]]
		[ "$(wc -l <<<"$stderr")" -eq 1 ]
	done
}

@test "missing value, repeated keyword, missing required argument" {
	run_err "$PKTSCOPE" hello kinds rate
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"'rate' needs a value (rate RATE)"* ]]
	run_err "$PKTSCOPE" hello kinds rate 1mbit rate 2mbit
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"'rate' given twice"* ]]
	run_err "$PKTSCOPE" plugin info
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"'plugin info' needs NAME"* ]]
	run_err "$PKTSCOPE" completion fish
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unknown shell 'fish'"* ]]
}

@test "repeatable keywords collect every value" {
	run "$PKTSCOPE" hello kinds cidr 10.0.0.0/8 cidr 2001:db8::/32
	[ "$status" -eq 0 ]
}

@test "options: unknown, bad values, per-command json" {
	run_err "$PKTSCOPE" -x version
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unknown option '-x'"* ]]
	run_err "$PKTSCOPE" --plugin-path
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"needs a directory"* ]]
	run "$PKTSCOPE" -V
	[ "$status" -eq 0 ]
	[[ "$output" == "pktscope v"* ]]
}

@test "help is generated from the declarations" {
	run "$PKTSCOPE" help hello kinds
	[ "$status" -eq 0 ]
	[[ "$output" == *"Usage: pktscope hello kinds [rate RATE] [size SIZE]"* ]]
	[[ "$output" == *"[cidr CIDR]..."* ]]
	[[ "$output" == *"[color red|green|grey]"* ]]
	run "$PKTSCOPE" hello help
	[ "$status" -eq 0 ]
	[[ "$output" == *"pktscope hello greet [name WHO]"* ]]
	run "$PKTSCOPE" hello greet help
	[[ "$output" == *"Usage: pktscope hello greet [name WHO]"* ]]
	run_err "$PKTSCOPE" help nosuch
	[ "$status" -eq 2 ]
}

@test "quoting and comments in a line" {
	printf '%s\n' "hello greet name 'two words'  # a comment" >"$BATS_TEST_TMPDIR/b"
	run "$PKTSCOPE" batch file "$BATS_TEST_TMPDIR/b"
	[ "$status" -eq 0 ]
	[[ "$output" == *"hello, two words"* ]]
	printf '%s\n' "hello greet name 'unterminated" >"$BATS_TEST_TMPDIR/c"
	run_err "$PKTSCOPE" batch file "$BATS_TEST_TMPDIR/c"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unterminated single quote"* ]]
}

@test "commands that need BPF say they need root, exit 1" {
	command -v setpriv >/dev/null || skip "setpriv not installed"
	[ "$(id -u)" -eq 0 ] || skip "needs root to drop privileges"
	run_err setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$PKTSCOPE" status
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"needs root (CAP_BPF and CAP_NET_ADMIN)"* ]]
}

@test "help, version, plugin list/info, completion and __complete work unprivileged" {
	command -v setpriv >/dev/null || skip "setpriv not installed"
	[ "$(id -u)" -eq 0 ] || skip "needs root to drop privileges"
	nobody() {
		run_err setpriv --reuid=65534 --regid=65534 --clear-groups "$PKTSCOPE" "$@"
		echo "$* -> $status: $stderr"
		[ "$status" -eq 0 ]
		[ -z "$stderr" ]
	}
	nobody help
	nobody version
	nobody plugin list
	nobody plugin info proto-stats
	[[ "$output" == *"Map memory (fixed)"* ]]
	nobody completion bash
	nobody __complete pro
	[ "$output" = proto-stats ]
	run_err setpriv --reuid=65534 --regid=65534 --clear-groups "$PKTSCOPE" proto-stats show
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"needs root (CAP_BPF and CAP_NET_ADMIN)"* ]]
}
