#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Hostile input on the command line, in batch files and the REPL: each one
# ends with one clear Error: (rc 2 for usage) or works; none crashes, hangs
# or is silently dropped.  Dn names the defect in
# research/reliability-findings.md that the test was written for.

bats_require_minimum_version 1.5.0

load ../lib/cli

setup()
{
	cli_tmpdir
	B=$CLI_TMP/cmds
}

teardown()
{
	cli_cleanup
}

long()
{
	head -c "$2" /dev/zero | tr '\0' "$1"
}

one_error()
{
	[ "$(grep -c '^Error: ' <<<"$stderr")" -eq 1 ]
}

@test "hostile: help with words longer than its buffer (D1)" {
	run --separate-stderr "$PKTSCOPE" help "$(long a 513)" "$(long b 4000)"
	[ "$status" -eq 2 ]
	one_error
	printf 'help %s %s\n' "$(long a 513)" "$(long b 4000)" >"$B"
	run --separate-stderr "$PKTSCOPE" batch file "$B"
	[ "$status" -eq 2 ]
	[[ $stderr == Error:* ]]
}

@test "hostile: help takes prefixes and never re-reads its words as a line (D32)" {
	run --separate-stderr "$PKTSCOPE" help proto
	[ "$status" -eq 0 ]
	[[ $output == proto-stats:* ]]
	run --separate-stderr "$PKTSCOPE" help proto sh
	[ "$status" -eq 0 ]
	[[ $output == *"Usage: pktscope proto-stats show"* ]]
	run --separate-stderr "$PKTSCOPE" help '"'
	[ "$status" -eq 2 ]
	[[ $stderr != *quote* ]]
	run --separate-stderr "$PKTSCOPE" help 'hel\lo'
	[ "$status" -eq 2 ]
	[[ $stderr == *"'hel\\lo'"* ]]
}

@test "hostile: a batch line longer than the limit is an error, not all memory (D3)" {
	# an address-space limit keeps a build without the limit from eating
	# the machine; an ASan build cannot start under one (its shadow)
	local lim=(prlimit --as=629145600)
	"${lim[@]}" "$PKTSCOPE" version >/dev/null 2>&1 || lim=()
	run --separate-stderr "${lim[@]}" timeout 20 "$PKTSCOPE" batch file /dev/zero
	[ "$status" -eq 2 ]
	one_error
	[[ $stderr == *"/dev/zero:1: line longer than 65536 bytes"* ]]
}

@test "hostile: SIGINT stops a batch waiting for its next line (D3)" {
	mkfifo "$CLI_TMP/fifo"
	( exec 3>"$CLI_TMP/fifo"; echo 'hello greet name one' >&3; sleep 8 ) &
	local writer=$!
	"$PKTSCOPE" batch file "$CLI_TMP/fifo" >"$CLI_TMP/out" 2>&1 &
	local pid=$!
	sleep 1
	kill -INT "$pid"
	local t=0
	while kill -0 "$pid" 2>/dev/null && [ $t -lt 30 ]; do
		sleep 0.1
		t=$((t + 1))
	done
	kill -0 "$pid" 2>/dev/null && { kill "$pid"; kill "$writer"; false; }
	kill "$writer" 2>/dev/null || true
	grep -q 'hello, one' "$CLI_TMP/out"
}

@test "hostile: a NUL byte in a batch line is an error, not the end of the line (D26)" {
	printf 'hello greet name a\0b c\n' >"$B"
	run --separate-stderr "$PKTSCOPE" batch file "$B"
	[ "$status" -eq 2 ]
	one_error
	[[ $stderr == *"$B:1: a NUL byte"* ]]
	printf '\0hello greet\n' >"$B"
	run --separate-stderr "$PKTSCOPE" batch file "$B"
	[ "$status" -eq 2 ]
}

@test "hostile: a failing batch line prints one Error: line (D31)" {
	printf 'hello greet name x\nhello greet nosuch\nhello greet\n' >"$B"
	run --separate-stderr "$PKTSCOPE" batch file "$B"
	[ "$status" -eq 2 ]
	one_error
	[[ $stderr == *"$B:2:"* ]]
	[[ $stderr == *"1 command done"* ]]
}

@test "hostile: completion after many help words does not recurse (D6)" {
	local words=()
	# the REPL hands ps_complete() any number; __complete takes 64 words
	for _ in $(seq 60); do words+=(help); done
	run --separate-stderr "$PKTSCOPE" __complete "${words[@]}" pro
	[ "$status" -eq 0 ]
	[[ $output == *proto-stats* ]]
	# the recursion is gone from the source, not only optimised away
	! grep -n 'return ps_complete(' "$TOP_SRCDIR/core/complete.c"
}

@test "hostile: -j output is valid JSON for non-UTF-8 input (D23)" {
	run --separate-stderr "$PKTSCOPE" -j hello greet name $'\xff\xfe\x80'
	[ "$status" -eq 0 ]
	python3 -c 'import json,sys; json.loads(sys.stdin.buffer.read().decode("utf-8"))' <<<"$output"
	[ "$(jq -r .greeting <<<"$output")" = $'hello, \ufffd\ufffd\ufffd' ]
	run --separate-stderr "$PKTSCOPE" -j $'\xff\xfe'
	[ "$status" -eq 2 ]
	python3 -c 'import json,sys; json.loads(sys.stdin.buffer.read().decode("utf-8"))' <<<"$output"
	# valid UTF-8 passes through unchanged
	run --separate-stderr "$PKTSCOPE" -j hello greet name 'zoë ✓'
	[ "$(jq -r .greeting <<<"$output")" = 'hello, zoë ✓' ]
}

@test "hostile: sizes and durations between 2^63 and 2^64 keep their value (D24)" {
	run --separate-stderr "$PKTSCOPE" -j hello kinds size 1e19
	[ "$status" -eq 0 ]
	[ "$output" = '{"size":10000000000000000000}' ]
	run --separate-stderr "$PKTSCOPE" -j hello kinds duration 213503d
	[ "$status" -eq 0 ]
	[ "$output" = '{"duration":18446659200000000000}' ]
	run --separate-stderr "$PKTSCOPE" -j hello kinds size 2e19
	[ "$status" -eq 2 ]
}

@test "hostile: an ambiguous protocol prefix is called ambiguous (D33)" {
	run --separate-stderr "$PKTSCOPE" hello kinds proto ic
	[ "$status" -eq 2 ]
	[[ $stderr == *"ambiguous"*icmp*icmpv6* ]]
}

@test "hostile: a zero duration names its keyword (D36)" {
	run --separate-stderr "$PKTSCOPE" src-log watch dev lo flow-timeout 0
	[ "$status" -eq 2 ]
	[[ $stderr == "Error: flow-timeout '0' must be greater than zero" ]]
}

@test "hostile: a REPL line longer than the limit is an error; the shell goes on (D3)" {
	cli_need python3
	local l
	l=$(long a 70000)
	run repl <<EOF2
expect pktscope> 
send hello greet name $l\r
expect Error: line longer than 65536 bytes
expect pktscope> 
send hello greet name short\r
expect hello, short
expect pktscope> 
send quit\r
eof
EOF2
	pty_check
	[ "${lines[-1]}" = exit=0 ]
}
