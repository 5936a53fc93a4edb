#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The core's module graphs, one "A B" edge a line (module = file name
# without .c/.h):
#   core-graph.sh symbols BUILDDIR   A's object uses a symbol B's defines
#   core-graph.sh includes SRCDIR    A.c or A.h includes "B.h"
# tsort(1) on either finds the cycles.
set -eu
mode=$1 top=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

module() {
	m=$(basename "$1")
	m=${m%.*}
	echo "${m#libpktscope_la-}"
}

case $mode in
symbols)
	for o in "$top"/core/.libs/libpktscope_la-*.o "$top"/core/main.o \
		 "$top"/core/repl.o; do
		m=$(module "$o")
		nm -g --defined-only "$o" | awk -v m="$m" 'NF == 3 { print $3, m }' >>"$tmp/defs"
		nm -u "$o" | awk -v m="$m" '{ print $NF, m }' >>"$tmp/uses"
	done
	sort -u -o "$tmp/defs" "$tmp/defs"
	sort -u -o "$tmp/uses" "$tmp/uses"
	join "$tmp/uses" "$tmp/defs" | awk '$2 != $3 { print $2, $3 }' | sort -u
	;;
includes)
	for f in "$top"/core/*.c "$top"/core/*.h; do
		m=$(module "$f")
		sed -n 's/^#include "\([a-z_]*\)\.h".*/\1/p' "$f" |
			awk -v m="$m" '$1 != m && $1 != "config" { print m, $1 }'
	done | sort -u
	;;
*)
	echo "usage: $0 symbols BUILDDIR | includes SRCDIR" >&2
	exit 2
	;;
esac
