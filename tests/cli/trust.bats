#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The trust rule (man pktscope, PLUGINS): running as root, pktscope loads a
# plugin only when the file and every directory above it are root's and
# closed to others, sticky or not; SUDO_UID and the caller's environment
# grant nothing; a file's type is checked before anything opens it; the
# REPL history is never written through a path another user controls.

bats_require_minimum_version 1.5.0

load ../lib/cli

setup()
{
	[ "$(id -u)" -eq 0 ] || skip "the trust rule is about running as root"
	cli_tmpdir
	cli_trusted_dir
	HELLO=$TOP_BUILDDIR/plugins/.libs/hello.so
}

teardown()
{
	cli_trusted_cleanup
	cli_cleanup
}

@test "trust: SUDO_UID does not make the caller's plugins root's (D13)" {
	mkdir "$TRUSTED/u"
	cp "$HELLO" "$TRUSTED/u/u-hello.so"
	chown -R 4242 "$TRUSTED/u"
	run --separate-stderr env SUDO_UID=4242 "$PKTSCOPE" \
		--plugin-path "$TRUSTED/u" plugin list
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"plugin directory $TRUSTED/u refused: directory $TRUSTED/u is owned by uid 4242"* ]]
	[[ "$output" != *u-hello* ]]
}

@test "trust: a root-owned plugin in a caller-owned directory is refused (D13)" {
	mkdir "$TRUSTED/u"
	cp "$HELLO" "$TRUSTED/u/u-hello.so"
	chown 4242 "$TRUSTED/u"
	run --separate-stderr env SUDO_UID=4242 "$PKTSCOPE" \
		--plugin-path "$TRUSTED/u" -j plugin list
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"refused: directory $TRUSTED/u is owned by uid 4242"* ]]
	[ "$(jq '[.plugins[] | select(.file | startswith("'"$TRUSTED"'"))] | length' <<<"$output")" -eq 0 ]
}

@test "trust: a sticky world-writable plugin directory is refused (D15)" {
	mkdir -m 1777 "$TRUSTED/sticky"
	chmod 1777 "$TRUSTED/sticky"
	cp "$HELLO" "$TRUSTED/sticky/s-hello.so"
	run --separate-stderr "$PKTSCOPE" --plugin-path "$TRUSTED/sticky" plugin list
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"plugin directory $TRUSTED/sticky refused: directory $TRUSTED/sticky is writable by group or others"* ]]
	run --separate-stderr env PKTSCOPE_PLUGIN_PATH="$TRUSTED/sticky" "$PKTSCOPE" plugin list
	[[ "$stderr" == *"plugin directory $TRUSTED/sticky refused"* ]]
}

@test "trust: a plugin directory under /tmp is refused (D15)" {
	local t
	t=$(mktemp -d /tmp/pktscope-trust.XXXXXX)
	cp "$HELLO" "$t/t-hello.so"
	run --separate-stderr "$PKTSCOPE" --plugin-path "$t" plugin list
	rm -rf -- "$t"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"refused: directory /tmp is writable by group or others"* ]]
}

@test "trust: a FIFO named x.so is refused without blocking (D5)" {
	mkfifo "$TRUSTED/x.so"
	run --separate-stderr timeout 10 "$PKTSCOPE" --plugin-path "$TRUSTED" version
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"plugin $TRUSTED/x.so refused: not a regular file"* ]]
}

@test "trust: a device node named x.so is refused, never opened (D5)" {
	mknod "$TRUSTED/tty.so" c 5 0
	# LeakSanitizer cannot run under ptrace (an ASan build)
	run --separate-stderr env ASAN_OPTIONS=detect_leaks=0 timeout 10 \
		strace -f -e trace=openat -o "$CLI_TMP/st" \
		"$PKTSCOPE" --plugin-path "$TRUSTED" version
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"plugin $TRUSTED/tty.so refused: not a regular file"* ]]
	grep -F '"tty.so"' "$CLI_TMP/st"
	! grep -F '"tty.so"' "$CLI_TMP/st" | grep -v O_PATH
}

@test "trust: one directory listed twice loads its plugins once (D20)" {
	mkdir "$TRUSTED/p1"
	cp "$HELLO" "$TRUSTED/p1/a-hello.so"
	run --separate-stderr "$PKTSCOPE" --plugin-path "$TRUSTED/p1:$TRUSTED/p1" \
		-j plugin list
	[ "$status" -eq 0 ]
	[ "$(jq '[.plugins[] | select(.name == "proto-stats")] | length' <<<"$output")" -eq 1 ]
	[ "$(jq -r '.plugins[] | select(.name == "hello") | .file' <<<"$output")" = "$TRUSTED/p1/a-hello.so" ]
	[[ "$stderr" != *"proto-stats.so refused"* ]]
}

@test "trust: a hard link to a loaded plugin is refused by name, the rest load (D20)" {
	mkdir "$TRUSTED/p1" "$TRUSTED/p2"
	cp "$HELLO" "$TRUSTED/p1/a-hello.so"
	ln "$TRUSTED/p1/a-hello.so" "$TRUSTED/p2/b-hello.so"
	run --separate-stderr "$PKTSCOPE" --plugin-path "$TRUSTED/p1:$TRUSTED/p2" \
		-j plugin list
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"plugin $TRUSTED/p2/b-hello.so refused: the same file as $TRUSTED/p1/a-hello.so"* ]]
	[ "$(jq '[.plugins[] | select(.name == "proto-stats")] | length' <<<"$output")" -eq 1 ]
	[ "$(jq '[.plugins[] | select(.name == "src-log")] | length' <<<"$output")" -eq 1 ]
}

@test "trust: the REPL history never follows a symlink (D12)" {
	mkdir "$CLI_TMP/home"
	chmod 755 "$CLI_TMP/home"
	seq 5000 >"$CLI_TMP/victim"
	ln -s "$CLI_TMP/victim" "$CLI_TMP/home/.pktscope_history"
	run repl <<'EOF2'
expect pktscope> 
send version\r
expect pktscope> 
send ssh-ed25519 AAAA attacker\r
expect pktscope> 
send \x04
eof
EOF2
	[ "$(wc -l <"$CLI_TMP/victim")" -eq 5000 ]
	[ "$(tail -1 "$CLI_TMP/victim")" = 5000 ]
	[[ "$(cat "$CLI_TMP/pty.log")" == *"history"*"symbolic link"* ]]
}

@test "trust: as root the REPL keeps no history in a folder another user owns (D12)" {
	mkdir "$TRUSTED/home"
	chown 65534 "$TRUSTED/home"
	run pty_drive -- env HOME="$TRUSTED/home" "$PKTSCOPE" <<'EOF2'
expect pktscope> 
send version\r
expect pktscope> 
send \x04
eof
EOF2
	[ ! -e "$TRUSTED/home/.pktscope_history" ]
}

@test "trust: the REPL history still works in root's own home (D12)" {
	mkdir "$TRUSTED/home"
	run pty_drive -- env HOME="$TRUSTED/home" "$PKTSCOPE" <<'EOF2'
expect pktscope> 
send version\r
expect pktscope> 
send \x04
eof
EOF2
	pty_check
	[ "$(cat "$TRUSTED/home/.pktscope_history")" = version ]
}
