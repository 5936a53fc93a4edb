# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# cli.bash - helpers for the command-line tests (tests/cli/*.bats).
# Source it from a .bats file; it changes no shell options.
#
# Under `make check` the environment names the build:
#   PKTSCOPE      absolute path of ./pktscope (the libtool wrapper)
#   TOP_SRCDIR    source tree
#   TOP_BUILDDIR  build tree
# Run standalone (`bats tests/cli/x.bats`), they default to the tree the
# test file lives in.
#
#   cli_tmpdir              make a private temporary directory (0700) in
#                           the build tree, export CLI_TMP; cli_cleanup
#                           removes it
#   cli_cleanup             remove CLI_TMP (call it from teardown)
#   cli_need CMD...         skip the test unless every CMD is installed
#   pty_drive [OPTS] -- CMD...
#                           run CMD on a pseudo-terminal, driven by the
#                           ptydrive.py script on stdin (see that file);
#                           TERM=dumb and an empty inputrc make the screen
#                           predictable.  The raw output is kept in
#                           $CLI_TMP/pty.log.
#   repl [ARGS...]          pty_drive on `$PKTSCOPE ARGS...` with
#                           HOME=$CLI_TMP/home (so the history file lands
#                           there)
#   pkt_bin_dir             a directory holding a `pktscope` symlink to
#                           $PKTSCOPE, for scripts that find it through PATH

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
TOP_BUILDDIR=${TOP_BUILDDIR:-$TOP_SRCDIR}
PKTSCOPE=${PKTSCOPE:-$TOP_BUILDDIR/pktscope}
case $PKTSCOPE in
/*) ;;
*) PKTSCOPE=$(cd "$(dirname "$PKTSCOPE")" && pwd)/$(basename "$PKTSCOPE") ;;
esac
export PKTSCOPE TOP_SRCDIR TOP_BUILDDIR

CLI_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PTYDRIVE=$CLI_LIB_DIR/ptydrive.py

# plugins from the environment would change what the tests see
unset PKTSCOPE_PLUGIN_PATH

cli_tmpdir()
{
	# in the build tree: run as root, pktscope keeps no history and loads
	# no plugin in a folder below /tmp (sticky, writable by others)
	mkdir -p "$TOP_BUILDDIR/tests/scratch"
	CLI_TMP=$(realpath "$(mktemp -d "$TOP_BUILDDIR/tests/scratch/cli.XXXXXX")")
	export CLI_TMP
}

cli_cleanup()
{
	if [[ -n ${CLI_TMP:-} && -d $CLI_TMP ]]; then
		rm -rf -- "$CLI_TMP"
	fi
	CLI_TMP=
}

cli_need()
{
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c is not installed"
	done
}

pty_drive()
{
	local -a opts=()

	while [[ $# -gt 0 && $1 != -- ]]; do
		opts+=("$1")
		shift
	done
	shift
	python3 "$PTYDRIVE" --timeout "${PTY_TIMEOUT:-10}" --log "$CLI_TMP/pty.log" \
		"${opts[@]}" -- \
		env TERM=dumb INPUTRC=/dev/null "$@"
}

repl()
{
	mkdir -p "$CLI_TMP/home"
	pty_drive -- env HOME="$CLI_TMP/home" "$PKTSCOPE" "$@"
}

pkt_bin_dir()
{
	mkdir -p "$CLI_TMP/bin"
	ln -sf "$PKTSCOPE" "$CLI_TMP/bin/pktscope"
	echo "$CLI_TMP/bin"
}

# After `run pty_drive ...` or `run repl ...`: fail, showing what the
# terminal showed, unless the script ran through.
# shellcheck disable=SC2154 # status and output come from bats' run
pty_check()
{
	if [[ $status -ne 0 ]]; then
		printf '%s\n' "$output"
		echo "--- terminal output (cat -v):"
		cat -v "$CLI_TMP/pty.log" 2>/dev/null
		return 1
	fi
}

# bash_comp LINE [SCRIPT]: the candidates the bash completion script
# (default completions/pktscope.bash) gives for LINE with the cursor at its
# end, one a line.  A real bash, called the way it calls a completion
# function (COMP_LINE, COMP_POINT, COMP_WORDS, COMP_CWORD set; arguments
# command, current word, previous word), finding `pktscope` through PATH
# (pkt_bin_dir first; BASH_COMP_PATH replaces that PATH).
bash_comp()
{
	local script=${2:-$TOP_SRCDIR/completions/pktscope.bash} bin

	bin=$(pkt_bin_dir)
	# shellcheck disable=SC2016 # the script expands its own arguments
	env PATH="${BASH_COMP_PATH-$bin:$PATH}" bash --norc --noprofile -c '
source "$1" || exit 99
COMP_LINE=$2
COMP_POINT=${#COMP_LINE}
read -ra COMP_WORDS <<< "$COMP_LINE"
[[ -z $COMP_LINE || $COMP_LINE == *[[:space:]] ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMPREPLY=()
# bash ignores what a completion function returns (except 124)
_pktscope "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" \
	"${COMP_WORDS[COMP_CWORD-1]}"
(( ${#COMPREPLY[@]} == 0 )) || printf "%s\n" "${COMPREPLY[@]}"
' bash_comp "$script" "$1"
}

# cli_trusted_dir: a fresh directory (0755, exported as TRUSTED) whose every
# parent is root's and closed to others, as the loader asks of a plugin
# directory when it runs as root (/tmp, sticky and world-writable, is not).
# Made in the build tree; cli_trusted_cleanup removes it.
cli_trusted_dir()
{
	mkdir -p "$TOP_BUILDDIR/tests/scratch"
	chmod 755 "$TOP_BUILDDIR/tests/scratch"
	TRUSTED=$(realpath "$(mktemp -d "$TOP_BUILDDIR/tests/scratch/t.XXXXXX")")
	chmod 755 "$TRUSTED"
	export TRUSTED
}

cli_trusted_cleanup()
{
	if [[ -n ${TRUSTED:-} && -d $TRUSTED ]]; then
		rm -rf -- "$TRUSTED"
	fi
	TRUSTED=
}
