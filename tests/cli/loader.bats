#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The plugin loader refuses broken or unsafe plugins, one clear reason each,
# and every good plugin still loads.

setup_file() {
	TOP_BUILDDIR=${TOP_BUILDDIR:-$BATS_TEST_DIRNAME/../..}
	export TOP_BUILDDIR
	make -C "$TOP_BUILDDIR" -s tests/plugins/bad-abi.la tests/plugins/no-symbol.la \
		tests/plugins/dup-name.la tests/plugins/unresolved.la \
		tests/plugins/bad-bpf.la >/dev/null
}

setup() {
	PKTSCOPE=${PKTSCOPE:-$TOP_BUILDDIR/pktscope}
	# as root, every folder above a plugin must be closed to others: not /tmp
	mkdir -p "$TOP_BUILDDIR/tests/scratch"
	DIR=$(realpath "$(mktemp -d "$TOP_BUILDDIR/tests/scratch/loader.XXXXXX")")
	local libs="$TOP_BUILDDIR/tests/plugins/.libs"
	cp "$TOP_BUILDDIR/plugins/.libs/hello.so" "$DIR/a-hello.so"
	for p in bad-abi no-symbol dup-name unresolved; do
		cp "$libs/$p.so" "$DIR/$p.so"
	done
	cp "$libs/no-symbol.so" "$DIR/writable.so"
	chmod 666 "$DIR/writable.so"
	echo "not a shared object" >"$DIR/notelf.so"
	ln -s "$DIR/a-hello.so" "$DIR/link.so"
	chmod 755 "$DIR"
	ERRF="$BATS_TEST_TMPDIR/stderr"
}

teardown() {
	rm -rf "$DIR"
}

list() {
	run bash -c '"$@" 2>"'"$ERRF"'"' _ "$PKTSCOPE" "$@"
	stderr=$(cat "$ERRF")
	echo "stdout: $output"
	echo "stderr: $stderr"
}

@test "each broken plugin is refused with its file and reason" {
	list --plugin-path "$DIR" plugin list
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"plugin $DIR/bad-abi.so refused: built for plugin ABI 43"*"this pktscope has ABI 2"* ]]
	[[ "$stderr" == *"plugin $DIR/no-symbol.so refused: no 'pktscope_plugin' symbol"* ]]
	[[ "$stderr" == *"plugin $DIR/dup-name.so refused: duplicate name 'hello', already loaded from $DIR/a-hello.so"* ]]
	[[ "$stderr" == *"plugin $DIR/unresolved.so refused: cannot load: "*"undefined symbol: ps_function_that_does_not_exist"* ]]
	[[ "$stderr" == *"plugin $DIR/writable.so refused: writable by group or others"* ]]
	[[ "$stderr" == *"plugin $DIR/notelf.so refused: not an ELF shared object"* ]]
	[[ "$stderr" == *"plugin $DIR/link.so refused: it is a symbolic link"* ]]
}

@test "good plugins still load and run next to broken ones" {
	list --plugin-path "$DIR" -j plugin list
	[ "$status" -eq 0 ]
	[ "$(jq -r '.plugins[] | select(.name == "hello") | .name' <<<"$output")" = "hello" ]
	[ "$(jq -r '.plugins[] | select(.name == "hello") | .file' <<<"$output")" = "$DIR/a-hello.so" ]
	list --plugin-path "$DIR" hello greet
	[ "$status" -eq 0 ]
	[[ "$output" == *"hello, world"* ]]
}

@test "-q silences the refusals, not the results" {
	list -q --plugin-path "$DIR" plugin list
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ "$output" == *"hello"* ]]
}

@test "PKTSCOPE_PLUGIN_PATH is searched like --plugin-path" {
	run bash -c 'PKTSCOPE_PLUGIN_PATH="$1" "$2" plugin list 2>&1' _ "$DIR" "$PKTSCOPE"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$DIR/bad-abi.so refused"* ]]
}

@test "a group- or world-writable plugin directory is refused whole" {
	chmod 777 "$DIR"
	list --plugin-path "$DIR" plugin list
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"plugin directory $DIR refused: directory $DIR is writable by group or others"* ]]
	[[ "$stderr" != *"bad-abi.so"* ]]
}

@test "a plugin owned by another user is refused" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to chown"
	rm -f "$DIR"/*.so
	cp "$TOP_BUILDDIR/plugins/.libs/hello.so" "$DIR/other.so"
	chown 65534 "$DIR/other.so"
	list --plugin-path "$DIR" plugin list
	[[ "$stderr" == *"plugin $DIR/other.so refused: owned by uid 65534, not root"* ]]
}

@test "a missing plugin directory given explicitly is reported" {
	list --plugin-path "$DIR/nope" plugin list
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"plugin directory $DIR/nope: No such file or directory"* ]]
}

@test "plugin info reads a plugin's commands" {
	list plugin info hello
	[ "$status" -eq 0 ]
	[[ "$output" == *"pktscope hello greet [name WHO]"* ]]
	[[ "$output" == *"No BPF object."* ]]
	list plugin info nosuch
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"no plugin named 'nosuch'"* ]]
}

@test "loader messages name the real problem (D34)" {
	rm -f "$DIR"/*.so
	# hello.so with e_machine 183 (aarch64)
	cp "$TOP_BUILDDIR/plugins/.libs/hello.so" "$DIR/arm.so"
	printf '\267\000' | dd of="$DIR/arm.so" bs=1 seek=18 conv=notrunc 2>/dev/null
	list --plugin-path "$DIR" plugin list
	[[ "$stderr" == *"plugin $DIR/arm.so refused: built for another machine (ELF machine 183, this one is "* ]]
	[[ "$stderr" != *"No such file"* ]]
	cp "$TOP_BUILDDIR/tests/plugins/.libs/bad-bpf.so" "$DIR/bad-bpf.so"
	list --plugin-path "$DIR" plugin info bad-bpf
	[ "$status" -eq 1 ]
	[[ "$stderr" != *"Unknown error"* ]]
	[ "$(grep -c '^Error: ' <<<"$stderr")" -eq 1 ]
	list --plugin-path "$(head -c 5000 /dev/zero | tr '\0' a)" version
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"too long"* ]]
}
