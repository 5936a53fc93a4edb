/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The verbs every plugin with a BPF object gets from the core. */
#ifndef PKTSCOPE_VERBS_H
#define PKTSCOPE_VERBS_H

#include <pktscope/plugin.h>

extern const struct ps_cmd ps_core_bpf_cmds[];	/* attach, detach, status */
extern const struct ps_arg_spec ps_attach_core_args[];	/* dev, mode, replace */

#endif
