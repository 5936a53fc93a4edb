#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The interactive shell, driven through a pseudo-terminal (tests/lib/
# ptydrive.py): prompt, Tab completion, errors, Ctrl-C, history, leaving.
# Each `run repl <<EOF` is a ptydrive script: send / expect / eof ...
#
# Note: a Ctrl-C that reaches the shell while it is busy between two
# select() calls (just after echoing a key) is only seen at the next
# signal; the test waits a moment before it presses Ctrl-C at the prompt.

bats_require_minimum_version 1.5.0

load ../lib/cli

setup()
{
	cli_need python3
	cli_tmpdir
}

teardown()
{
	cli_cleanup
}

history_file()
{
	echo "$CLI_TMP/home/.pktscope_history"
}

@test "repl: the prompt 'pktscope> ' appears on a terminal" {
	run repl <<'EOF'
expect interactive shell
expect \npktscope> 
send quit\r
eof
EOF
	pty_check
	[ "${lines[-1]}" = exit=0 ]
}

@test "repl: Tab completes a command (plu<Tab> -> 'plugin ')" {
	run repl <<'EOF'
expect pktscope> 
send plu\t\r
expect \Aplugin \n
expect NAME\s+VERSION
expect \nhello\s+1\.0
expect pktscope> 
send quit\r
eof
EOF
	pty_check
	[ "${lines[-1]}" = exit=0 ]
}

@test "repl: Tab completes a sub-command (plugin l<Tab> -> 'plugin list ')" {
	run repl <<'EOF'
expect pktscope> 
send plugin l\t\r
expect \Aplugin list \n
expect NAME\s+VERSION
expect pktscope> 
send quit\r
eof
EOF
	pty_check
}

@test "repl: Tab completes a plugin's verb (hello g<Tab> -> 'hello greet ')" {
	run repl <<'EOF'
expect pktscope> 
send hello g\t\r
expect \Ahello greet \n
expect Greeting\s+hello, world\n
expect pktscope> 
send quit\r
eof
EOF
	pty_check
}

@test "repl: Tab completes keywords and their values" {
	run repl <<'EOF'
expect pktscope> 
send hello kinds col\tgree\t\r
expect \Ahello kinds color green \n
expect color\s+green\n
expect pktscope> 
send quit\r
eof
EOF
	pty_check
}

@test "repl: Tab Tab lists a plugin's verbs" {
	run repl <<'EOF'
expect pktscope> 
send hello \t\t
expect (?=.*\bgreet\b)(?=.*\bkinds\b)(?=.*\bwait\b).*pktscope> hello $
send \x15quit\r
eof
EOF
	pty_check
	[ "${lines[-1]}" = exit=0 ]
}

@test "repl: a bad command prints an Error and the shell goes on" {
	run repl <<'EOF'
expect pktscope> 
send nosuch\r
expect Error: unknown object 'nosuch'
expect pktscope> 
send hello greet name bob\r
expect Greeting\s+hello, bob\n
expect pktscope> 
send hello kinds rate 10zz\r
expect Error: '10zz' is not a rate
expect pktscope> 
send hello greet name "bob smith"\r
expect Greeting\s+hello, bob smith\n
expect pktscope> 
send quit\r
eof
EOF
	pty_check
	# a failed command does not make the shell fail
	[ "${lines[-1]}" = exit=0 ]
}

@test "repl: a command's output comes before the next prompt, once" {
	# nothing between the echoed line and the output, one prompt after it
	PTY_TIMEOUT=3 run repl <<'EOF'
expect pktscope> 
send hello greet name carol\r
expect \Ahello greet name carol\nGreeting\s+hello, carol\npktscope> 
send version\r
expect \A\s*version\npktscope v[^\n]*\n(?:[^\n]+\n)*pktscope> 
sleep 0.3
reject pktscope> 
send quit\r
eof
EOF
	pty_check
}

@test "repl: Ctrl-C stops a running command, not the shell" {
	# `mark` starts a stopwatch; the wait would take 30 s
	run repl <<'EOF'
expect pktscope> 
send hello wait duration 30s\r
expect hello wait duration 30s\n
mark
sleep 0.5
send \x03
expect Completed\s+no\n(?:.*\n)?pktscope> 
within 5
send hello greet name dave\r
expect Greeting\s+hello, dave\n
expect pktscope> 
send quit\r
eof
EOF
	pty_check
	[ "${lines[-1]}" = exit=0 ]
}

@test "repl: Ctrl-C at the prompt clears the line and keeps the shell" {
	run repl <<'EOF'
expect pktscope> 
send hello gre
expect \Ahello gre$
# let the shell get back to waiting for input (see the note on top)
sleep 0.3
send \x03
expect \npktscope> 
send version\r
expect pktscope v\d
expect pktscope> 
send \x04
eof
EOF
	pty_check
	[ "${lines[-1]}" = exit=0 ]
	# the cleared text never reached the parser
	! grep -q "unknown" "$CLI_TMP/pty.log"
	grep -qx version "$(history_file)"
	! grep -q "hello gre" "$(history_file)"
}

@test "repl: history is written to \$HOME/.pktscope_history and read back" {
	run repl <<'EOF'
expect pktscope> 
send version\r
expect pktscope v\d
expect pktscope> 
send hello greet name alice\r
expect hello, alice
expect pktscope> 
send \x04
eof
EOF
	pty_check
	[ -f "$(history_file)" ]
	grep -qx version "$(history_file)"
	grep -qx "hello greet name alice" "$(history_file)"

	# a new shell recalls it: Ctrl-P is the previous line
	run repl <<'EOF'
expect pktscope> 
send \x10\r
expect hello, alice
expect pktscope> 
send quit\r
eof
EOF
	pty_check
	[ "${lines[-1]}" = exit=0 ]
}

@test "repl: quit ends the shell with status 0" {
	run repl <<'EOF'
expect pktscope> 
send quit\r
eof
EOF
	pty_check
	[ "${lines[-1]}" = exit=0 ]
}

@test "repl: Ctrl-D ends the shell with status 0" {
	run repl <<'EOF'
expect pktscope> 
send hello greet\r
expect hello, world
expect pktscope> 
send \x04
eof
EOF
	pty_check
	[ "${lines[-1]}" = exit=0 ]
}

@test "repl: without a terminal, commands on stdin run without prompts" {
	run --separate-stderr bash -c 'printf "hello greet\nversion\n" | "$PKTSCOPE"'
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ ^Greeting\ +hello,\ world$ ]]
	[[ ${lines[1]} == "pktscope v"* ]]
	[[ $output != *"pktscope> "* ]]
	[[ $output != *"interactive shell"* ]]
	[ -z "$stderr" ]
}

@test "repl: without a terminal, a failing command stops the input with its status" {
	run --separate-stderr bash -c 'printf "hello greet\nnosuch\nversion\n" | "$PKTSCOPE"'
	[ "$status" -eq 2 ]
	[[ $output == *"hello, world"* ]]
	[[ $output != *"pktscope v"* ]]
	[[ $stderr == *"Error: -:2: unknown object 'nosuch'"* ]]
}
