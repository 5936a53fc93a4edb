#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Global options come from one table (core/cmd.c) that drives parsing,
# help and completion; like bpftool, they are taken anywhere on the line
# until `--`.  A word of a minus and a digit is a value (`rate -1`), never
# an option.

bats_require_minimum_version 1.5.0

load ../lib/cli

@test "options: -j after the command's arguments" {
	run --separate-stderr "$PKTSCOPE" hello greet name x -j
	[ "$status" -eq 0 ]
	[ "$output" = '{"greeting":"hello, x"}' ]
	run --separate-stderr "$PKTSCOPE" version --json
	[ "$status" -eq 0 ]
	[[ $output == '{"version":'* ]]
	run --separate-stderr "$PKTSCOPE" hello -p greet
	[ "$status" -eq 0 ]
	[[ $output == $'{\n'* ]]
}

@test "options: a value option anywhere, with its value" {
	run --separate-stderr "$PKTSCOPE" version --bpffs /nonexistent -j
	[ "$status" -eq 0 ]
	run --separate-stderr "$PKTSCOPE" -j plugin list --plugin-path "$TOP_BUILDDIR/plugins/.libs"
	[ "$status" -eq 0 ]
	[[ $output == *'"hello"'* ]]
}

@test "options: after -- every word is plain" {
	run --separate-stderr "$PKTSCOPE" hello greet -- name -j
	[ "$status" -eq 0 ]
	[[ $output == *"hello, -j"* ]]
}

@test "options: a minus and a digit is a value, not an option" {
	run --separate-stderr "$PKTSCOPE" hello kinds count -1
	[ "$status" -eq 2 ]
	[[ $stderr == *"'-1' is not a count"* ]]
}

@test "options: unknown ones anywhere are usage errors" {
	run --separate-stderr "$PKTSCOPE" hello greet -x
	[ "$status" -eq 2 ]
	[[ $stderr == *"unknown option '-x'"* ]]
	run --separate-stderr "$PKTSCOPE" hello greet --jso
	[ "$status" -eq 0 ]
}

@test "options: in a batch line too" {
	printf 'hello greet name b -j\n' >"$BATS_TEST_TMPDIR/b"
	run --separate-stderr "$PKTSCOPE" batch file "$BATS_TEST_TMPDIR/b"
	[ "$status" -eq 0 ]
	[ "$output" = '{"greeting":"hello, b"}' ]
}

@test "options: help lists every option of the table, completion offers them anywhere" {
	run --separate-stderr "$PKTSCOPE" -j help
	[ "$(jq -r '[.options[].option] | join(" ")' <<<"$output")" = \
		"-j, --json -p, --pretty -d, --debug -q, --quiet -V, --version -h, --help --plugin-path DIR[:DIR] --bpffs DIR" ]
	run --separate-stderr "$PKTSCOPE" __complete hello greet name x --
	[ "$status" -eq 0 ]
	[[ $output == *--json* && $output == *--bpffs* ]]
	run --separate-stderr "$PKTSCOPE" __complete hello -q gr
	[ "$output" = greet ]
	run --separate-stderr "$PKTSCOPE" __complete hello greet --bpffs ""
	[ "$output" = @dir ]
}
