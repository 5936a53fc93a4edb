# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# anomaly: the plugin, its BPF object and its tests (included by Makefile.am)
pkglib_LTLIBRARIES += plugins/anomaly.la
plugins_anomaly_la_SOURCES = plugins/anomaly/anomaly.c
nodist_plugins_anomaly_la_SOURCES = bpf/anomaly.skel.h
plugins_anomaly_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/bpf
plugins_anomaly_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_anomaly_la_LIBADD = libpktscope.la $(LIBBPF_LIBS)

# v2, not v3: with v3 (alu32) clang 14 bounds a copy of the parser's TCP
# offset in ps_wire_segments() and the verifier refuses an_tc; the atomics
# are all 64-bit, which v2 has
bpf/anomaly.bpf.o: BPF_EXTRA_CFLAGS = -mcpu=v2
BUILT_SOURCES += bpf/anomaly.skel.h
CLEANFILES += bpf/anomaly.bpf.o bpf/anomaly.skel.h
EXTRA_DIST += bpf/anomaly.bpf.c
noinst_HEADERS += bpf/anomaly.h
.SECONDARY: bpf/anomaly.bpf.o

if HAVE_CMOCKA
check_PROGRAMS += tests/bpf/test_anomaly
tests_bpf_test_anomaly_SOURCES = tests/bpf/test_anomaly.c tests/lib/frames.c \
	tests/lib/frames.h tests/lib/bpf_harness.c tests/lib/bpf_harness.h
tests_bpf_test_anomaly_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/bpf \
	-I$(top_srcdir)/tests/lib
tests_bpf_test_anomaly_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_bpf_test_anomaly_LDADD = libpktscope.la $(CMOCKA_LIBS) $(LIBBPF_LIBS)
TESTS += tests/bpf/test_anomaly
endif
BATS_TESTS += tests/integration/anomaly.bats
