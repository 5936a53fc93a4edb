# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# proto-stats: the plugin, its BPF object and its tests (included by
# Makefile.am).  A new plugin copies this file with its own names.
pkglib_LTLIBRARIES += plugins/proto-stats.la
plugins_proto_stats_la_SOURCES = plugins/proto-stats/proto_stats.c \
	plugins/proto-stats/live.c plugins/proto-stats/pstat_read.h
nodist_plugins_proto_stats_la_SOURCES = bpf/proto_stats.skel.h
plugins_proto_stats_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/bpf
plugins_proto_stats_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_proto_stats_la_LIBADD = libpktscope.la $(LIBBPF_LIBS)

# the BPF object (bpf/%.bpf.o, bpf/%.skel.h); it outlives its skeleton:
# tests and benchmarks load it
BUILT_SOURCES += bpf/proto_stats.skel.h
CLEANFILES += bpf/proto_stats.bpf.o bpf/proto_stats.skel.h
EXTRA_DIST += bpf/proto_stats.bpf.c
noinst_HEADERS += bpf/proto_stats.h
.SECONDARY: bpf/proto_stats.bpf.o

if HAVE_CMOCKA
check_PROGRAMS += tests/bpf/test_proto_stats
tests_bpf_test_proto_stats_SOURCES = tests/bpf/test_proto_stats.c \
	tests/bpf/frame_cases.c tests/bpf/frame_cases.h tests/lib/frames.c \
	tests/lib/frames.h tests/lib/bpf_harness.c tests/lib/bpf_harness.h
tests_bpf_test_proto_stats_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/bpf \
	-I$(top_srcdir)/tests/lib -I$(top_builddir)/tests/bpf
tests_bpf_test_proto_stats_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_bpf_test_proto_stats_LDADD = $(CMOCKA_LIBS) $(LIBBPF_LIBS)
TESTS += tests/bpf/test_proto_stats
endif
BATS_TESTS += tests/integration/proto_stats.bats
