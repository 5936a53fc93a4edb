#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Shell completion: completions/pktscope.bash under a real bash (the
# function called the way bash calls it, and once through an interactive
# bash on a pseudo-terminal), `pktscope completion bash|zsh`, and the zsh
# script through compinit when zsh is installed.  The scripts find the
# binary through PATH as `pktscope`, like an installed one.

bats_require_minimum_version 1.5.0

load ../lib/cli

BASH_SCRIPT=$TOP_SRCDIR/completions/pktscope.bash
ZSH_SCRIPT=$TOP_SRCDIR/completions/_pktscope

setup()
{
	cli_tmpdir
	BIN_DIR=$(pkt_bin_dir)
}

teardown()
{
	cli_cleanup
}

# comp LINE: COMPREPLY for LINE (cursor at its end), one a line, in $lines
comp()
{
	run bash_comp "$1" "${COMP_SCRIPT:-}"
	if [[ $status -ne 0 ]]; then
		echo "completing '$1' failed with status $status: $output"
		return 1
	fi
}

# the candidates, sorted, on one line
sorted()
{
	printf '%s\n' "${lines[@]}" | sort | paste -sd ' '
}

has()
{
	local w
	for w in "$@"; do
		printf '%s\n' "${lines[@]}" | grep -qxF -- "$w" || {
			echo "'$w' missing from: ${lines[*]}"
			return 1
		}
	done
}

@test "__complete prints candidates one a line; the last word may be empty" {
	run --separate-stderr "$PKTSCOPE" __complete pl
	[ "$status" -eq 0 ]
	[ "$output" = plugin ]
	run --separate-stderr "$PKTSCOPE" __complete hello ""
	[ "$status" -eq 0 ]
	has greet wait kinds
}

@test "bash: pktscope pl<Tab> completes to plugin" {
	comp "pktscope pl"
	[ "$(sorted)" = plugin ]
}

@test "bash: pktscope <Tab> offers built-in objects and plugins, not hidden ones" {
	comp "pktscope "
	has plugin help version completion batch hello
	! has __complete
}

@test "bash: pktscope plugin <Tab> gives list and info" {
	comp "pktscope plugin "
	has list info
}

@test "bash: pktscope hello <Tab> gives the plugin's verbs" {
	comp "pktscope hello "
	has greet wait kinds
}

@test "bash: after a verb, before its arguments, help is offered too" {
	comp "pktscope hello kinds "
	has help rate
	comp "pktscope plugin info "
	has help hello
	# not once an argument is given
	comp "pktscope hello kinds rate 1mbit "
	! has help
}

@test "bash: pktscope hello kinds color g<Tab> gives green grey" {
	comp "pktscope hello kinds color g"
	[ "$(sorted)" = "green grey" ]
}

@test "bash: pktscope plugin info <Tab> gives the loaded plugins" {
	comp "pktscope plugin info "
	has hello
	! has plugin
}

@test "bash: keywords complete (pktscope hello kinds ra<Tab> -> rate)" {
	comp "pktscope hello kinds ra"
	[ "$(sorted)" = rate ]
	# a keyword already given is not offered again
	comp "pktscope hello kinds rate 1mbit "
	has size dev
	! has rate
}

@test "bash: interface names complete (pktscope hello kinds dev l<Tab>)" {
	comp "pktscope hello kinds dev l"
	has lo
}

@test "bash: file names complete for a FILE value (batch file /et<Tab>)" {
	comp "pktscope batch file /et"
	has /etc || has /etc/
	mkdir "$CLI_TMP/cmds.d"
	touch "$CLI_TMP/cmds.txt"
	comp "pktscope batch file $CLI_TMP/cmd"
	[ "$(sorted)" = "$CLI_TMP/cmds.d $CLI_TMP/cmds.txt" ]
}

@test "bash: options complete and are skipped before the object" {
	comp "pktscope --js"
	[ "$(sorted)" = --json ]
	comp "pktscope -j hel"
	[ "$(sorted)" = "hello help" ]
	comp "pktscope --plugin-path /tm"
	has /tmp
}

@test "bash: the script finds the binary through PATH as 'pktscope'" {
	comp "pktscope hello "
	has greet
	# with no pktscope on PATH there is nothing to ask, and no error
	if ! PATH=/usr/bin:/bin command -v pktscope >/dev/null; then
		BASH_COMP_PATH=/usr/bin:/bin run bash_comp "pktscope hello "
		[ "$status" -eq 0 ]
		[ -z "$output" ]
	fi
}

@test "bash: sourcing the script registers _pktscope for pktscope" {
	run bash --norc --noprofile -c 'source "$1" && complete -p pktscope' _ "$BASH_SCRIPT"
	[ "$status" -eq 0 ]
	[ "$output" = "complete -F _pktscope pktscope" ] ||
		[[ $output =~ ^complete\ .*-F\ _pktscope\ pktscope$ ]]
}

@test "bash: in an interactive bash, Tab adds a space after a word and '/' after a directory" {
	cli_need python3
	cat > "$CLI_TMP/bashrc" <<EOF
PATH=$BIN_DIR:\$PATH
HISTFILE=/dev/null
source $BASH_SCRIPT
PS1='bash> '
EOF
	PTY_TIMEOUT=3 run pty_drive -- env HOME="$CLI_TMP" \
		bash --noprofile --rcfile "$CLI_TMP/bashrc" -i <<'EOF'
expect bash> $
send pktscope pl\t
expect pktscope plugin $
send \x15
send pktscope batch file /et\t
expect bash> pktscope batch file /etc/$
send \x15
send exit\r
eof
EOF
	pty_check
}

@test "completion bash prints exactly completions/pktscope.bash" {
	"$PKTSCOPE" completion bash > "$CLI_TMP/out.bash"
	cmp "$CLI_TMP/out.bash" "$BASH_SCRIPT"
}

@test "completion zsh prints exactly completions/_pktscope" {
	"$PKTSCOPE" completion zsh > "$CLI_TMP/_pktscope"
	cmp "$CLI_TMP/_pktscope" "$ZSH_SCRIPT"
}

@test "bash: the script printed by 'completion bash' works when sourced" {
	"$PKTSCOPE" completion bash > "$CLI_TMP/printed.bash"
	COMP_SCRIPT=$CLI_TMP/printed.bash comp "pktscope hello kinds color g"
	[ "$(sorted)" = "green grey" ]
}

@test "completion: an unknown shell is a usage error" {
	run --separate-stderr "$PKTSCOPE" completion fish
	[ "$status" -eq 2 ]
	[[ $stderr == Error:* ]]
	[ -z "$output" ]
}

@test "zsh: compinit loads _pktscope; it completes objects, verbs, choices, files" {
	cli_need zsh python3
	mkdir "$CLI_TMP/zfunc"
	cp "$ZSH_SCRIPT" "$CLI_TMP/zfunc/_pktscope"
	cat > "$CLI_TMP/.zshrc" <<EOF
fpath=($CLI_TMP/zfunc \$fpath)
path=($BIN_DIR \$path)
bindkey -e
autoload -Uz compinit && compinit -u -D
PS1='zsh%# '
EOF
	# ^U clears the line between cases
	PTY_TIMEOUT=5 run pty_drive -- env ZDOTDIR="$CLI_TMP" HOME="$CLI_TMP" \
		zsh -d -i <<'EOF'
expect zsh# 
send pktscope pl\t
expect pktscope plugin 
send \x15
send pktscope hello kinds color gree\t
expect pktscope hello kinds color green 
send \x15
send pktscope hello \t
expect (?=.*\bgreet\b)(?=.*\bkinds\b)(?=.*\bwait\b)
send \x15
send pktscope batch file /et\t
expect pktscope batch file /etc/
send \x15
send exit\r
eof
EOF
	pty_check
	[ "${lines[-1]}" = exit=0 ]
}
