# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# src-log: the plugin, its BPF object and its tests (included by Makefile.am)
pkglib_LTLIBRARIES += plugins/src-log.la
plugins_src_log_la_SOURCES = plugins/src-log/src_log.c \
	plugins/src-log/slog_expr.c plugins/src-log/slog_expr.h \
	plugins/src-log/slog_pcapng.c plugins/src-log/slog_pcapng.h
nodist_plugins_src_log_la_SOURCES = bpf/src_log.skel.h
plugins_src_log_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/bpf
plugins_src_log_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_src_log_la_LIBADD = libpktscope.la $(LIBBPF_LIBS) $(ZLIB_LIBS)

BUILT_SOURCES += bpf/src_log.skel.h
CLEANFILES += bpf/src_log.bpf.o bpf/src_log.skel.h
EXTRA_DIST += bpf/src_log.bpf.c
noinst_HEADERS += bpf/src_log.h
.SECONDARY: bpf/src_log.bpf.o

if HAVE_CMOCKA
check_PROGRAMS += tests/bpf/test_src_log
tests_bpf_test_src_log_SOURCES = tests/bpf/test_src_log.c tests/lib/frames.c \
	tests/lib/frames.h tests/lib/bpf_harness.c tests/lib/bpf_harness.h
tests_bpf_test_src_log_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/bpf \
	-I$(top_srcdir)/tests/lib
tests_bpf_test_src_log_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_bpf_test_src_log_LDADD = $(CMOCKA_LIBS) $(LIBBPF_LIBS)
TESTS += tests/bpf/test_src_log
endif
BATS_TESTS += tests/integration/src_log.bats
