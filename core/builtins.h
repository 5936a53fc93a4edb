/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The built-in objects.  Each command is defined in the file of its
 * concern; only the table (builtins.c) names them all.
 */
#ifndef PKTSCOPE_BUILTINS_H
#define PKTSCOPE_BUILTINS_H

#include <stddef.h>

struct ps_object;

const struct ps_object *ps_builtin_objects(size_t *n);

#endif
