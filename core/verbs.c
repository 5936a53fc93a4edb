// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The verbs the core gives every plugin with a BPF object (attach, detach,
 * status), and the `status` object over every attachment.
 */
#include "internal.h"
#include "verbs.h"

static const struct ps_arg_spec status_args[] = {
	{ "dev", PS_KIND_IFACE, 0, NULL, "only this interface" },
	{ 0 }
};

const struct ps_cmd ps_status_cmd = {
	"status", "every pktscope attachment found in bpffs", status_args,
	ps_do_status,
};

const struct ps_arg_spec ps_attach_core_args[] = {
	{ "dev", PS_KIND_IFACE, PS_ARG_REQUIRED, NULL,
	  "interface whose ingress to watch" },
	{ "mode", PS_KIND_CHOICE, 0, NULL,
	  "hook: tcx (default where the kernel has it, else tc), tc, xdp, xdp-native, xdp-generic",
	  ps_mode_choices },
	{ "replace", PS_KIND_FLAG, 0, NULL,
	  "replace this plugin's attachment on the interface" },
	{ 0 }
};

static const struct ps_arg_spec detach_args[] = {
	{ "dev", PS_KIND_IFACE, PS_ARG_REQUIRED | PS_ARG_ALL, NULL,
	  "interface, or all" },
	{ 0 }
};

const struct ps_cmd ps_core_bpf_cmds[] = {
	{ "attach", "load and attach to an interface's ingress; state pinned in bpffs",
	  ps_attach_core_args, ps_do_attach, NULL, PS_CMD_BPF },
	{ "detach", "detach and remove pins", detach_args, ps_do_detach, NULL,
	  PS_CMD_BPF },
	{ "status", "where this plugin is attached", status_args, ps_do_status },
	{ 0 }
};
