# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# hello: a plugin without BPF (included by Makefile.am)
pkglib_LTLIBRARIES += plugins/hello.la
plugins_hello_la_SOURCES = plugins/hello/hello.c
plugins_hello_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_hello_la_LIBADD = libpktscope.la
