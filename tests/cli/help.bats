#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Help at every level, for every object and command the binary declares:
# `help PATH` and `PATH help` print the same, with full words or with the
# shortest unambiguous prefixes.  The command tree comes from the binary
# itself (`-j help`), so a new object or command is covered without
# touching this file.

load ../lib/common

setup() {
	PS=$(pktscope_bin)
}

# every object, one a line
objects() { "$PS" -j help | jq -r '.objects[].name'; }

# every command's full path, one a line ("status", "anomaly allow add")
command_paths() {
	local o
	for o in $(objects); do
		"$PS" -j help "$o" |
			jq -r 'if .commands then .commands[].command else .command end'
	done
}

# the names one level below a path of full words ("" for the objects);
# `help` is a word at every verb level
siblings() {
	local parent=$1 depth
	if [[ -z $parent ]]; then
		objects
		return
	fi
	depth=$(wc -w <<<"$parent")
	grep -E "^$parent " "$BATS_TEST_TMPDIR/paths" | awk -v d="$depth" '{ print $(d + 1) }' | sort -u
	echo help
}

# the shortest prefix of word that names it alone among its siblings
shortest() {
	local word=$1 parent=$2 p n i sib
	mapfile -t sib < <(siblings "$parent")
	for ((i = 1; i <= ${#word}; i++)); do
		p=${word:0:i}
		n=0
		for s in "${sib[@]}"; do
			[[ $s == "$p"* ]] && n=$((n + 1))
		done
		# a full word matches itself even when it begins another
		if [[ $p == "$word" || $n -eq 1 ]]; then
			echo "$p"
			return
		fi
	done
}

# a path with each word cut to its shortest unambiguous prefix
prefixed() {
	local parent="" out="" w
	for w in $1; do
		out+="${out:+ }$(shortest "$w" "$parent")"
		parent+="${parent:+ }$w"
	done
	echo "$out"
}

# `help PATH`, `PATH help` and both with prefixes: exit 0, one text
help_everywhere() {
	local path=$1 short line
	# want: what it printed, for the caller
	short=$(prefixed "$path")
	# shellcheck disable=SC2086 # the words of a path
	run "$PS" help $path
	[ "$status" -eq 0 ] || fail "'help $path' exits $status: $output"
	[ -n "$output" ] || fail "'help $path' prints nothing"
	want=$output
	for line in "$path help" "help $short" "$short help"; do
		# shellcheck disable=SC2086
		run "$PS" $line
		[ "$status" -eq 0 ] || fail "'$line' exits $status: $output"
		[ "$output" = "$want" ] ||
			fail "'$line' prints otherwise than 'help $path':" "$output" "--- wanted:" "$want"
	done
}

@test "help: the command tree the binary declares is there" {
	command_paths >"$BATS_TEST_TMPDIR/paths"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/paths")" -ge 40 ]
	grep -qx status "$BATS_TEST_TMPDIR/paths"
	grep -qx batch "$BATS_TEST_TMPDIR/paths"
	grep -qx 'plugin list' "$BATS_TEST_TMPDIR/paths"
}

@test "help: every object, as 'help OBJECT', 'OBJECT help' and by prefix" {
	command_paths >"$BATS_TEST_TMPDIR/paths"
	for o in $(objects); do
		help_everywhere "$o"
		[[ $want == "$o: "* || $want == "Usage: pktscope $o"* ]] ||
			fail "'help $o' does not describe $o: $want"
	done
}

@test "help: every command, as 'help PATH', 'PATH help' and by prefix" {
	command_paths >"$BATS_TEST_TMPDIR/paths"
	while read -r path; do
		help_everywhere "$path"
		[[ $want == "Usage: pktscope $path"* ]] ||
			fail "'help $path' does not start with its usage: $want"
	done <"$BATS_TEST_TMPDIR/paths"
}

@test "help: every group of sub-commands lists them, at its level" {
	command_paths >"$BATS_TEST_TMPDIR/paths"
	groups=$(awk 'NF >= 3 { NF--; print }' "$BATS_TEST_TMPDIR/paths" | sort -u)
	[ -n "$groups" ]
	while read -r g; do
		help_everywhere "$g"
		while read -r sub; do
			[[ $want == *"pktscope $sub"* ]] || fail "'help $g' does not list $sub"
		done < <(grep -E "^$g " "$BATS_TEST_TMPDIR/paths")
	done <<<"$groups"
}

@test "help: 'status help' and 'batch help' print their usage" {
	run "$PS" status help
	[ "$status" -eq 0 ]
	[[ $output == "Usage: pktscope status [dev IF]"* ]]
	run "$PS" batch help
	[ "$status" -eq 0 ]
	[[ $output == "Usage: pktscope batch file FILE|-"* ]]
	[[ $output == *"Arguments:"* ]]
}

@test "help: 'help help' explains help, with its arguments" {
	run "$PS" help help
	[ "$status" -eq 0 ]
	[[ $output == "Usage: pktscope help"* ]]
	[[ $output == *"Arguments:"*"OBJECT"* ]]
}

@test "help: 'help pro wa' works where 'pro wa' does" {
	run "$PS" help pro wa
	[ "$status" -eq 0 ]
	[[ $output == "Usage: pktscope proto-stats watch"* ]]
	run "$PS" pro wa help
	[ "$status" -eq 0 ]
	[[ $output == "Usage: pktscope proto-stats watch"* ]]
}

@test "help: under -j every command's help is one JSON document naming it" {
	command_paths >"$BATS_TEST_TMPDIR/paths"
	while read -r path; do
		# shellcheck disable=SC2086
		run "$PS" -j $path help
		[ "$status" -eq 0 ] || fail "'-j $path help' exits $status"
		[ "$(jq -r .command <<<"$output")" = "$path" ] ||
			fail "'-j $path help' is not its help: $output"
	done <"$BATS_TEST_TMPDIR/paths"
}

@test "help: a hidden command's words stay its data ('__complete help')" {
	run "$PS" __complete help
	[ "$status" -eq 0 ]
	[[ $output == *help* ]]
	[[ $output != *Usage* ]]
}
