#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# `pktscope batch file FILE|-`: one command a line, '#' comments and blank
# lines skipped, shell-like quotes; stops at the first failing command,
# naming FILE:LINE, with that command's exit status; -j makes one JSON array.

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

# greeting lines of text output, one per line: "hello, X"
greetings()
{
	sed -n 's/^Greeting  *//p' <<< "$output"
}

@test "batch: one command a line; comments and blank lines are skipped" {
	cat > "$B" <<'EOF'
# a batch file

hello greet name one
   # an indented comment
	
hello greet name two   # a trailing comment
hello kinds rate 10mbit
EOF
	run --separate-stderr "$PKTSCOPE" batch file "$B"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(greetings)" = $'hello, one\nhello, two' ]
	[[ ${lines[2]} =~ ^rate\ +10000000$ ]]
	[ "${#lines[@]}" -eq 3 ]
}

@test "batch: quotes and backslashes keep words together" {
	cat > "$B" <<'EOF'
hello greet name "bob smith"
hello greet name 'ann  lee'
hello greet name a\ b
hello greet name "say \"hi\""
hello greet name "#not-a-comment"
EOF
	run --separate-stderr "$PKTSCOPE" batch file "$B"
	[ "$status" -eq 0 ]
	[ "$(greetings)" = 'hello, bob smith
hello, ann  lee
hello, a b
hello, say "hi"
hello, #not-a-comment' ]
}

@test "batch: CRLF line ends are fine" {
	printf 'hello greet name a\r\n# c\r\n\r\nhello greet name b\r\n' > "$B"
	run --separate-stderr "$PKTSCOPE" batch file "$B"
	[ "$status" -eq 0 ]
	[ "$(greetings)" = $'hello, a\nhello, b' ]
}

@test "batch: a file of comments only does nothing and succeeds" {
	printf '# nothing\n\n   \n' > "$B"
	run --separate-stderr "$PKTSCOPE" batch file "$B"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "batch: stops at the first error, names FILE:LINE, exits with its status" {
	cat > "$B" <<'EOF'
# line 1
hello greet name before

hello nosuchverb
hello greet name after
EOF
	run --separate-stderr "$PKTSCOPE" batch file "$B"
	[ "$status" -eq 2 ]
	# earlier output present, later commands not run
	[ "$(greetings)" = "hello, before" ]
	[[ $output != *after* ]]
	# the command's own error, naming the line it was on: one Error: line
	[[ $stderr == *"Error: $B:4: unknown command 'nosuchverb'"* ]]
	[ "$(grep -c '^Error: ' <<< "$stderr")" -eq 1 ]
	! grep -q ":5:" <<< "$stderr"
}

@test "batch: output and errors come in order on one stream" {
	printf 'hello greet name first\nhello nosuchverb\n' > "$B"
	run bash -c '"$PKTSCOPE" batch file "$1" 2>&1 | cat' _ "$B"
	[[ ${lines[0]} =~ ^Greeting\ +hello,\ first$ ]]
	[[ ${lines[1]} == "Error: $B:2: unknown command 'nosuchverb'"* ]]
	[[ ${lines[2]} == "Stopped at $B:2 (1 command done)" ]]
	[ "${#lines[@]}" -eq 3 ]
}

@test "batch: a bad value stops the batch with exit status 2 and its line" {
	printf 'hello greet\nhello kinds rate 10zz\nhello greet name never\n' > "$B"
	run --separate-stderr "$PKTSCOPE" batch file "$B"
	[ "$status" -eq 2 ]
	[ "$(greetings)" = "hello, world" ]
	[[ $stderr == *"'10zz' is not a rate"* ]]
	grep -q "^Error: $B:2: " <<< "$stderr"
}

@test "batch: an unterminated quote is a usage error naming its line" {
	printf 'hello greet\nhello greet name "oops\nhello greet name never\n' > "$B"
	run --separate-stderr "$PKTSCOPE" batch file "$B"
	[ "$status" -eq 2 ]
	[ "$(greetings)" = "hello, world" ]
	grep -q "^Error: $B:2: .*quote" <<< "$stderr"
}

@test "batch: 'batch file -' reads stdin" {
	run --separate-stderr bash -c \
		'printf "hello greet name in\n# c\nversion\n" | "$PKTSCOPE" batch file -'
	[ "$status" -eq 0 ]
	[ "$(greetings)" = "hello, in" ]
	[[ $output == *"pktscope v"* ]]
	run --separate-stderr bash -c \
		'printf "hello greet\nnosuch\nversion\n" | "$PKTSCOPE" batch file -'
	[ "$status" -eq 2 ]
	[[ $output != *"pktscope v"* ]]
	grep -q "^Error: .*:2: " <<< "$stderr"
}

@test "batch: a missing file is exit status 1 with a clear message" {
	run --separate-stderr "$PKTSCOPE" batch file "$CLI_TMP/missing"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ $stderr == "Error: "*"$CLI_TMP/missing"*"No such file or directory"* ]]
}

@test "batch: a directory is exit status 1 with a clear message" {
	run --separate-stderr "$PKTSCOPE" batch file "$CLI_TMP"
	[ "$status" -eq 1 ]
	[[ $stderr == "Error: "*"$CLI_TMP"*"Is a directory"* ]]
}

@test "batch: 'batch' without a file is a usage error" {
	run --separate-stderr "$PKTSCOPE" batch
	[ "$status" -eq 2 ]
	[[ $stderr == Error:* ]]
}

@test "batch: -j prints one JSON array of documents" {
	cat > "$B" <<'EOF'
hello greet name one
# skipped
hello kinds rate 1kbit color green
plugin list
EOF
	"$PKTSCOPE" -j batch file "$B" > "$CLI_TMP/out.json"
	python3 -m json.tool "$CLI_TMP/out.json" > /dev/null
	python3 - "$CLI_TMP/out.json" <<'EOF'
import json, sys
docs = json.load(open(sys.argv[1]))
assert isinstance(docs, list) and len(docs) == 3, docs
assert docs[0] == {"greeting": "hello, one"}, docs[0]
assert docs[1] == {"rate": 1000, "color": "green"}, docs[1]
assert any(p["name"] == "hello" for p in docs[2]["plugins"]), docs[2]
EOF
}

@test "batch: -p prints the same array, pretty, and it parses" {
	printf 'hello greet name one\nhello greet name two\n' > "$B"
	"$PKTSCOPE" -p batch file "$B" > "$CLI_TMP/out.json"
	[ "$(wc -l < "$CLI_TMP/out.json")" -gt 1 ]
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d == [{"greeting":"hello, one"},{"greeting":"hello, two"}], d' "$CLI_TMP/out.json"
}

@test "batch: -j with a failing line still prints valid JSON, ending with the error" {
	printf 'hello greet\nhello nosuchverb\nhello greet name never\n' > "$B"
	run --separate-stderr "$PKTSCOPE" -j batch file "$B"
	[ "$status" -eq 2 ]
	python3 - "$output" <<'EOF'
import json, sys
docs = json.loads(sys.argv[1])
assert len(docs) == 2, docs
assert docs[0] == {"greeting": "hello, world"}, docs
assert "nosuchverb" in docs[1]["error"], docs
EOF
	grep -q "^Error: $B:2: " <<< "$stderr"
}

@test "batch: -j on an empty batch prints an empty array" {
	printf '# nothing\n' > "$B"
	run --separate-stderr "$PKTSCOPE" -j batch file "$B"
	[ "$status" -eq 0 ]
	python3 -c 'import json,sys; assert json.loads(sys.argv[1]) == []' "$output"
}

@test "batch: a batch inside a batch is refused" {
	printf 'hello greet name inner\n' > "$CLI_TMP/inner"
	printf 'hello greet name outer\nbatch file %s\nhello greet name after\n' \
		"$CLI_TMP/inner" > "$B"
	run --separate-stderr "$PKTSCOPE" batch file "$B"
	[ "$status" -eq 2 ]
	[ "$(greetings)" = "hello, outer" ]
	[[ $stderr == *"batch cannot run inside a batch"* ]]
	grep -q "^Error: $B:2: " <<< "$stderr"
	# also through stdin
	run --separate-stderr bash -c 'echo "batch file -" | "$PKTSCOPE" batch file -'
	[ "$status" -eq 2 ]
	[[ $stderr == *"batch cannot run inside a batch"* ]]
}

@test "batch: per-line options apply to that line only" {
	printf -- '-j hello greet name j\nhello greet name text\n' > "$B"
	run --separate-stderr "$PKTSCOPE" batch file "$B"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"greeting":"hello, j"}' ]
	[[ ${lines[1]} =~ ^Greeting\ +hello,\ text$ ]]
}
