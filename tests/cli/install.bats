#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# `make install DESTDIR=...` from the build tree, then the out-of-tree
# example plugin examples/hello-ext built against what was installed (its
# header and pktscope.pc, through pkg-config only) and loaded with
# --plugin-path: listed, in help, completed, run.

bats_require_minimum_version 1.5.0

load ../lib/cli

# make without the jobserver of a `make check` around us
inner_make()
{
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES make "$@"
}

# the value of an installation variable of the configured build tree
build_var()
{
	inner_make -s -C "$TOP_BUILDDIR" -f Makefile -f "$INST/print.mk" "print-$1"
}

setup_file()
{
	umask 022
	# as root the loader trusts no plugin below /tmp: stage in the build tree
	mkdir -p "$TOP_BUILDDIR/tests/scratch"
	INST=$(realpath "$(mktemp -d "$TOP_BUILDDIR/tests/scratch/install.XXXXXX")")
	chmod 755 "$INST"
	export INST
	printf 'print-%%:\n\t@echo $($*)\n' > "$INST/print.mk"

	local v
	for v in prefix bindir libdir includedir pkgincludedir pkglibdir \
		 pkgconfigdir datadir bashcompletiondir zshcompletiondir \
		 systemdsystemunitdir pkgdatadir sysconfdir; do
		local val
		val=$(build_var "$v") && [[ $val == /* ]] || {
			echo "cannot read '$v' from $TOP_BUILDDIR/Makefile: '$val'" >&2
			rm -rf "$INST"
			return 1
		}
		export "I_$v=$val"
	done

	# the staged tree; D=$DEST$prefix and so on below
	DEST=$INST/root
	export DEST
	touch "$INST/stamp"
	local st=0
	inner_make -C "$TOP_BUILDDIR" install DESTDIR="$DEST" \
		> "$INST/install.log" 2>&1 || st=$?
	# libtool relinks the plugins for installation and leaves the
	# relinked copies (.libs/*.soT) in the build tree: ours, remove them
	find "$TOP_BUILDDIR" -path '*/.libs/*.soT' -newer "$INST/stamp" \
		-type f -delete 2>/dev/null || true
	if [[ $st -ne 0 ]]; then
		echo "make install DESTDIR=$DEST failed:" >&2
		tail -n 40 "$INST/install.log" >&2
		rm -rf "$INST"
		return 1
	fi

	# pkg-config for the staged tree: the .pc says prefix=$I_prefix, the
	# files are under $DEST; the sysroot maps one onto the other
	export EXT_PKG_CONFIG_PATH=$DEST$I_pkgconfigdir
	export EXT_SYSROOT=$DEST

	# the examples, built once for the tests that load them; hello-bpf
	# from the installed BPF headers and bpf_cflags
	EXT=$INST/hello-ext
	EXT_BPF=$INST/hello-bpf
	export EXT EXT_BPF
	build_example hello-ext "$INST/ext-build.log" &&
		build_example hello-bpf "$INST/bpf-build.log" || {
		rm -rf "$INST"
		return 1
	}
}

# copy examples/NAME to $INST/NAME and build it against the staged tree
build_example()
{
	local dir=$INST/$1
	cp -R "$TOP_SRCDIR/examples/$1" "$dir"
	chmod -R go-w "$dir"
	rm -f "$dir"/*.o "$dir"/*.so "$dir"/*.skel.h
	if ! PKG_CONFIG_PATH=$EXT_PKG_CONFIG_PATH \
	     PKG_CONFIG_SYSROOT_DIR=$EXT_SYSROOT \
	     inner_make -C "$dir" > "$2" 2>&1; then
		echo "building examples/$1 failed:" >&2
		cat "$2" >&2
		return 1
	fi
}

teardown_file()
{
	if [[ -n ${INST:-} ]]; then
		rm -rf -- "$INST"
	fi
}

setup()
{
	# what we build and stage must not be group-writable: the loader
	# would refuse it
	umask 022
	cli_tmpdir
}

teardown()
{
	# a lab test that failed half-way
	if declare -F lab_cleanup > /dev/null; then
		lab_cleanup
	fi
	cli_cleanup
}

# the installed binary, on the installed library
installed_pktscope()
{
	LD_LIBRARY_PATH=$DEST$I_libdir "$DEST$I_bindir/pktscope" "$@"
}

@test "install: the staged tree has binary, library, plugin, header, .pc, completions" {
	[ -x "$DEST$I_bindir/pktscope" ]
	[ -f "$DEST$I_bindir/pktscope" ]
	# the real binary, not libtool's wrapper script
	! head -c 2 "$DEST$I_bindir/pktscope" | grep -q '#!'
	compgen -G "$DEST$I_libdir/libpktscope.so*" > /dev/null
	[ -e "$DEST$I_libdir/libpktscope.so" ]
	[ -f "$DEST$I_pkglibdir/proto-stats.so" ]
	# the test plugin stays in the build tree
	[ ! -e "$DEST$I_pkglibdir/hello.so" ]
	[ -f "$DEST$I_pkgincludedir/plugin.h" ]
	cmp "$DEST$I_pkgincludedir/plugin.h" "$TOP_SRCDIR/include/pktscope/plugin.h"
	[ -f "$DEST$I_pkgconfigdir/pktscope.pc" ]
	# the usual places, under the configured prefix
	[ "$I_pkgincludedir" = "$I_includedir/pktscope" ]
	[ "$I_pkgconfigdir" = "$I_libdir/pkgconfig" ]
	[ "$I_pkglibdir" = "$I_libdir/pktscope" ]
	[[ $I_bashcompletiondir == "$I_prefix/share/bash-completion/completions" ||
	   $I_bashcompletiondir == "$I_datadir/bash-completion/completions" ]]
	[[ $I_zshcompletiondir == "$I_prefix/share/zsh/vendor-completions" ||
	   $I_zshcompletiondir == "$I_datadir/zsh/vendor-completions" ]]
}

@test "install: systemd units name the installed binary and configuration; examples beside them" {
	local u=$DEST$I_systemdsystemunitdir
	[ "$I_systemdsystemunitdir" = "$I_prefix/lib/systemd/system" ]
	grep -qx "ExecStart=$I_bindir/pktscope -q batch file $I_sysconfdir/pktscope/pktscope.conf" \
		"$u/pktscope.service"
	grep -qx "ExecStart=$I_bindir/pktscope serve listen 127.0.0.1:9877" \
		"$u/pktscope-serve.service"
	! grep -q @ "$u/pktscope.service" "$u/pktscope-serve.service"
	for f in pktscope.conf pktscope-rules.yml pktscope-rules.test.yml; do
		[ -f "$DEST$I_pkgdatadir/examples/$f" ]
	done
	# never the administrator's own configuration
	[ ! -e "$DEST$I_sysconfdir/pktscope/pktscope.conf" ]
}

@test "install: the completion scripts are installed unchanged" {
	local bash_file
	bash_file=$(compgen -G "$DEST$I_bashcompletiondir/pktscope*" | head -n 1)
	[ -n "$bash_file" ]
	cmp "$bash_file" "$TOP_SRCDIR/completions/pktscope.bash"
	cmp "$DEST$I_zshcompletiondir/_pktscope" "$TOP_SRCDIR/completions/_pktscope"
}

@test "install: no libtool archives among the plugins" {
	run find "$DEST$I_pkglibdir" -name '*.la'
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# plugins are not group/world-writable, or the loader would refuse them
	run find "$DEST$I_pkglibdir" -perm /022
	[ -z "$output" ]
}

@test "install: pktscope.pc describes the configured prefix and plugin directory" {
	local pc=$DEST$I_pkgconfigdir/pktscope.pc
	grep -qx "prefix=$I_prefix" "$pc"
	run pkg-config --variable=plugindir "$pc"
	[ "$status" -eq 0 ]
	[ "$output" = "$I_pkglibdir" ]
	PKG_CONFIG_PATH=$EXT_PKG_CONFIG_PATH pkg-config --exists pktscope
}

@test "install: the installed binary runs on the installed library and plugins" {
	run --separate-stderr installed_pktscope version
	[ "$status" -eq 0 ]
	# its default plugin directory is the installed one, not the build tree
	[[ $output == *"plugin path: $I_pkglibdir"* ]]
	# (not just "$TOP_BUILDDIR": a tree cloned at /pktscope is a prefix of
	# /usr/local/lib/pktscope)
	[[ $output != *"$TOP_BUILDDIR/plugins"* && $output != *"/.libs"* ]]
	run --separate-stderr installed_pktscope --plugin-path "$DEST$I_pkglibdir" plugin list
	[ "$status" -eq 0 ]
	[[ $output == *"$DEST$I_pkglibdir/proto-stats.so"* ]]
	# the test-only hello plugin is nowhere: not listed, helped or completed
	[[ $output != *hello* ]]
	run --separate-stderr installed_pktscope --plugin-path "$DEST$I_pkglibdir" help
	[[ $output != *hello* ]]
	run --separate-stderr installed_pktscope --plugin-path "$DEST$I_pkglibdir" __complete he
	[[ $output != *hello* ]]
}

@test "install: the man pages carry the version and no placeholder, and leave out hello" {
	local page
	for page in "$DEST$I_prefix/share/man/man8/pktscope.8" \
		    "$DEST$I_prefix/share/man/man7/pktscope-plugin.7"; do
		[ -f "$page" ]
		run grep -c '@[A-Z]*@' "$page"
		[ "$output" = 0 ]
		grep -q "^\.TH .*\"pktscope $(build_var VERSION)\"" "$page"
	done
	page=$DEST$I_prefix/share/man/man8/pktscope.8
	! grep -q 'hello' "$page"
	for s in EXAMPLES ENVIRONMENT FILES "EXIT STATUS"; do
		grep -q "^\.SH \"\?$s\"\?\$" "$page"
	done
}

@test "hello-ext: builds against the installed header and .pc with pkg-config only" {
	[ -f "$EXT/hello-ext.so" ]
	# the compiler got the staged include and library directories
	grep -q -- "-I$DEST$I_includedir" "$INST/ext-build.log"
	grep -q -- "-L$DEST$I_libdir" "$INST/ext-build.log"
	grep -q -- "-shared" "$INST/ext-build.log"
	grep -q -- "-fPIC" "$INST/ext-build.log"
	# it exports the descriptor
	nm -D --defined-only "$EXT/hello-ext.so" | grep -qw pktscope_plugin
}

@test "hello-ext: builds with pkgconf's --define-prefix too" {
	cp -R "$TOP_SRCDIR/examples/hello-ext" "$CLI_TMP/ext"
	rm -f "$CLI_TMP/ext/hello-ext.so"
	run env PKG_CONFIG_PATH="$EXT_PKG_CONFIG_PATH" \
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make -C "$CLI_TMP/ext" PKG_CONFIG="pkg-config --define-prefix"
	[ "$status" -eq 0 ]
	[[ $output == *"-I$DEST$I_includedir"* ]]
	[ -f "$CLI_TMP/ext/hello-ext.so" ]
}

@test "hello-ext: without pktscope.pc the Makefile stops with a clear message" {
	cp -R "$TOP_SRCDIR/examples/hello-ext" "$CLI_TMP/ext"
	rm -f "$CLI_TMP/ext/hello-ext.so"
	run env PKG_CONFIG_PATH="$CLI_TMP/none" PKG_CONFIG_LIBDIR="$CLI_TMP/none" \
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$CLI_TMP/ext"
	[ "$status" -ne 0 ]
	[[ $output == *"pktscope.pc not found"* ]]
	[ ! -e "$CLI_TMP/ext/hello-ext.so" ]
}

@test "hello-ext: --plugin-path loads it; plugin list shows it" {
	run --separate-stderr "$PKTSCOPE" --plugin-path "$EXT" plugin list
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ $output =~ (^|$'\n')hello-ext\ +1\.0\ +2\ +no\ +$EXT/hello-ext\.so\ +out-of-tree\ example\ plugin ]]
	# the build tree's own plugins still load
	[[ $output =~ (^|$'\n')hello\  ]]
	run --separate-stderr "$PKTSCOPE" --plugin-path "$EXT" -j plugin list
	python3 -c '
import json, sys
p = [x for x in json.loads(sys.argv[1])["plugins"] if x["name"] == "hello-ext"]
assert len(p) == 1 and p[0]["version"] == "1.0" and p[0]["plugin_abi"] == 2, p
' "$output"
}

@test "hello-ext: help lists it; help hello-ext shows its commands and arguments" {
	run --separate-stderr "$PKTSCOPE" --plugin-path "$EXT" help
	[ "$status" -eq 0 ]
	[[ $output =~ hello-ext\ +out-of-tree\ example\ plugin ]]
	run --separate-stderr "$PKTSCOPE" --plugin-path "$EXT" help hello-ext
	[ "$status" -eq 0 ]
	[[ $output == *"shout"* ]]
	[[ $output == *"word WORD"* ]]
	[[ $output == *"times N"* ]]
	[[ $output == *"count"* ]]
	[[ $output == *"say hi"* ]]
	[[ $output == *"say bye"* ]]
	run --separate-stderr "$PKTSCOPE" --plugin-path "$EXT" hello-ext shout help
	[ "$status" -eq 0 ]
	[[ $output == *"word WORD"* ]]
}

@test "hello-ext: a sub-command group runs, and its help lists its sub-commands" {
	run --separate-stderr "$PKTSCOPE" --plugin-path "$EXT" hello-ext say hi
	[ "$status" -eq 0 ]
	[[ $output =~ Said\ +hi,\ world ]]
	# the group alone, and `help` on it: its own sub-commands, nothing else
	for args in "hello-ext say" "help hello-ext say"; do
		# shellcheck disable=SC2086 # $args is two or three words
		run --separate-stderr "$PKTSCOPE" --plugin-path "$EXT" $args
		[ "$status" -eq 0 ]
		[[ $output == *"pktscope hello-ext say hi [to WHO]"* ]]
		[[ $output == *"pktscope hello-ext say bye [to WHO]"* ]]
		[[ $output != *shout* ]]
		[[ $output != *count* ]]
	done
}

@test "hello-ext: completes like a built-in plugin" {
	run --separate-stderr "$PKTSCOPE" --plugin-path "$EXT" __complete hello-ext ""
	[ "$status" -eq 0 ]
	[ "$(sort <<< "$output" | paste -sd ' ')" = "count help say shout" ]
	run --separate-stderr "$PKTSCOPE" --plugin-path "$EXT" __complete hello-ext say ""
	[ "$(sort <<< "$output" | grep -v '^help$' | paste -sd ' ')" = "bye hi" ]
	run --separate-stderr "$PKTSCOPE" --plugin-path "$EXT" __complete hello-ext shout ""
	[ "$(sort <<< "$output" | paste -sd ' ')" = "help times word" ]
	# through the environment too, as the shell scripts would see it
	PKTSCOPE_PLUGIN_PATH=$EXT run --separate-stderr "$PKTSCOPE" __complete hello-
	[ "$output" = hello-ext ]
}

@test "hello-ext: the bash completion offers its verbs, by PKTSCOPE_PLUGIN_PATH or --plugin-path" {
	PKTSCOPE_PLUGIN_PATH=$EXT run bash_comp "pktscope hello-ext "
	[ "$status" -eq 0 ]
	[ "$(sort <<< "$output" | paste -sd ' ')" = "count help say shout" ]
	# the plugin directory given on the line being completed
	run bash_comp "pktscope --plugin-path $EXT hello-ext "
	[ "$status" -eq 0 ]
	[ "$(sort <<< "$output" | paste -sd ' ')" = "count help say shout" ]
}

@test "hello-ext: runs its commands, text and JSON" {
	run --separate-stderr "$PKTSCOPE" --plugin-path "$EXT" hello-ext shout word hey times 3
	[ "$status" -eq 0 ]
	[[ $output =~ Shout\ +HEY!\ HEY!\ HEY! ]]
	run --separate-stderr "$PKTSCOPE" --plugin-path "$EXT" -j hello-ext sh w hi
	[ "$status" -eq 0 ]
	[ "$output" = '{"shout":"HI!","times":1}' ]
	run --separate-stderr "$PKTSCOPE" --plugin-path "$EXT" hello-ext say bye to bob
	[ "$status" -eq 0 ]
	[[ $output =~ Said\ +bye,\ bob ]]
	run --separate-stderr "$PKTSCOPE" --plugin-path "$EXT" -j hello-ext count to 3
	[ "$status" -eq 0 ]
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d == {"numbers": [{"n": 1, "square": 1}, {"n": 2, "square": 4},
                         {"n": 3, "square": 9}]}, d
' "$output"
}

@test "hello-ext: its declared arguments are enforced; its errors exit 1" {
	run --separate-stderr "$PKTSCOPE" --plugin-path "$EXT" hello-ext shout
	[ "$status" -eq 2 ]
	[[ $stderr == Error:*word* ]]
	run --separate-stderr "$PKTSCOPE" --plugin-path "$EXT" hello-ext shout word x times 11
	[ "$status" -eq 2 ]
	[[ $stderr == Error:* ]]
	# a runtime error reported by the plugin through ps_err()
	run --separate-stderr "$PKTSCOPE" --plugin-path "$EXT" hello-ext shout \
		word "$(printf 'a%.0s' {1..100})" times 10
	[ "$status" -eq 1 ]
	[[ $stderr == "Error: "*"too loud"* ]]
}

@test "hello-ext: make install puts it in the plugin directory, where it loads" {
	local stage=$CLI_TMP/stage
	cp -R "$TOP_SRCDIR/examples/hello-ext" "$CLI_TMP/ext"
	rm -f "$CLI_TMP/ext/hello-ext.so"
	run env PKG_CONFIG_PATH="$EXT_PKG_CONFIG_PATH" \
		PKG_CONFIG_SYSROOT_DIR="$EXT_SYSROOT" \
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make -C "$CLI_TMP/ext" install DESTDIR="$stage" plugindir="$I_pkglibdir"
	[ "$status" -eq 0 ]
	[ -f "$stage$I_pkglibdir/hello-ext.so" ]
	[ -z "$(find "$stage$I_pkglibdir/hello-ext.so" -perm /022)" ]
	# the installed pktscope, looking in that plugin directory
	run --separate-stderr installed_pktscope \
		--plugin-path "$DEST$I_pkglibdir:$stage$I_pkglibdir" plugin list
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ $output =~ (^|$'\n')proto-stats\  ]]
	[[ $output =~ (^|$'\n')hello-ext\  ]]
	run --separate-stderr installed_pktscope \
		--plugin-path "$stage$I_pkglibdir" hello-ext say hi to installed
	[ "$status" -eq 0 ]
	[[ $output =~ Said\ +hi,\ installed ]]
}

@test "install: the BPF headers are installed, and pktscope.pc gives bpf_cflags" {
	local h
	for h in hook.h parse.h; do
		cmp "$DEST$I_pkgincludedir/bpf/$h" "$TOP_SRCDIR/include/pktscope/bpf/$h"
	done
	run env PKG_CONFIG_PATH="$EXT_PKG_CONFIG_PATH" \
		PKG_CONFIG_SYSROOT_DIR="$EXT_SYSROOT" \
		pkg-config --variable=bpf_cflags pktscope
	[ "$status" -eq 0 ]
	[[ " $output " == *" -target bpf "* ]]
	[[ " $output " == *" -I$DEST$I_includedir "* ]]
}

@test "hello-bpf: its two-file BPF object builds from the installed headers alone" {
	[ -f "$EXT_BPF/hello-bpf.so" ]
	# both BPF files compiled with the staged headers, none from the source tree
	[ "$(grep -c -- "-target bpf .*-I$DEST$I_includedir" "$INST/bpf-build.log")" -eq 2 ]
	! grep -q -- "$TOP_SRCDIR" "$INST/bpf-build.log"
	grep -q "gen object hello-bpf.bpf.o hello.bpf.o count.bpf.o" "$INST/bpf-build.log"
	nm -D --defined-only "$EXT_BPF/hello-bpf.so" | grep -qw pktscope_plugin
}

@test "hello-bpf: attached next to proto-stats on one veth, both count the same packets" {
	load ../lib/common
	require_lab
	lab_up install
	local bpffs=$CLI_TMP/bpffs path="$DEST$I_pkglibdir:$EXT_BPF" mode rx
	mkdir -p "$bpffs"
	mount -t bpf bpf "$bpffs" || pktscope_unavailable "cannot mount a bpffs"
	lab_on_cleanup "umount '$bpffs'"
	for mode in tcx xdp; do
		for p in hello-bpf proto-stats; do
			run --separate-stderr installed_pktscope --bpffs "$bpffs" \
				--plugin-path "$path" "$p" attach dev "$LAB_HOST_IF" \
				mode "$mode"
			echo "$p $mode: $output $stderr"
			[ "$status" -eq 0 ]
		done
		read -r -a before < <(lab_ifstats "$LAB_HOST_IF")
		lab_send --mix default --count 2 > /dev/null
		read -r -a after < <(lab_ifstats "$LAB_HOST_IF")
		rx=$((after[0] - before[0]))
		[ "$rx" -gt 0 ]
		run --separate-stderr installed_pktscope --bpffs "$bpffs" \
			--plugin-path "$path" -j hello-bpf show dev "$LAB_HOST_IF"
		[ "$status" -eq 0 ]
		assert_eq "$rx" "$(jq '.interfaces[0].packets' <<<"$output")" \
			"hello-bpf packets ($mode)"
		run --separate-stderr installed_pktscope --bpffs "$bpffs" \
			--plugin-path "$path" -j proto-stats show dev "$LAB_HOST_IF"
		assert_eq "$rx" "$(jq '.interfaces[0].total.packets' <<<"$output")" \
			"proto-stats packets ($mode)"
		for p in hello-bpf proto-stats; do
			installed_pktscope --bpffs "$bpffs" --plugin-path "$path" \
				"$p" detach dev "$LAB_HOST_IF" > /dev/null
		done
	done
	lab_cleanup
}
