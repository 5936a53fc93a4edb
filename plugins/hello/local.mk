# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# hello: a plugin without BPF (included by Makefile.am).  It exercises the
# loader and the grammar in the tests: built with the others (the build
# tree's pktscope loads it from plugins/.libs), never installed, so an
# installed pktscope neither lists nor documents it.
noinst_LTLIBRARIES += plugins/hello.la
plugins_hello_la_SOURCES = plugins/hello/hello.c
plugins_hello_la_LDFLAGS = $(PLUGIN_LDFLAGS) -rpath $(abs_builddir)/plugins
plugins_hello_la_LIBADD = libpktscope.la
