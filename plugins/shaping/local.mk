# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shaping: the plugin, its BPF object and its tests (included by Makefile.am)
pkglib_LTLIBRARIES += plugins/shaping.la
plugins_shaping_la_SOURCES = plugins/shaping/shaping.c plugins/shaping/rules.c \
	plugins/shaping/view.c plugins/shaping/shaping_int.h \
	plugins/shaping/htb.c plugins/shaping/htb.h
nodist_plugins_shaping_la_SOURCES = bpf/shaping.skel.h
plugins_shaping_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/bpf $(LIBNL_CFLAGS)
plugins_shaping_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_shaping_la_LIBADD = libpktscope.la $(LIBBPF_LIBS) $(LIBNL_LIBS)

BUILT_SOURCES += bpf/shaping.skel.h
CLEANFILES += bpf/shaping.bpf.o bpf/shaping.skel.h
EXTRA_DIST += bpf/shaping.bpf.c
noinst_HEADERS += bpf/shaping.h
.SECONDARY: bpf/shaping.bpf.o

if HAVE_CMOCKA
check_PROGRAMS += tests/bpf/test_shaping
tests_bpf_test_shaping_SOURCES = tests/bpf/test_shaping.c tests/lib/frames.c \
	tests/lib/frames.h tests/lib/bpf_harness.c tests/lib/bpf_harness.h
tests_bpf_test_shaping_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/bpf \
	-I$(top_srcdir)/tests/lib
tests_bpf_test_shaping_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -pthread
tests_bpf_test_shaping_LDADD = libpktscope.la $(CMOCKA_LIBS) $(LIBBPF_LIBS) \
	-lpthread
TESTS += tests/bpf/test_shaping
endif
BATS_TESTS += tests/integration/shaping.bats
