// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * hello-bpf: a third-party pktscope plugin with a BPF object, built out of
 * tree from the installed headers and `pkg-config pktscope` alone (see
 * README.md).  The core gives it `attach`, `detach` and `status`; it adds
 *
 *   hello-bpf show [dev IF]     packets and bytes by L4 protocol
 */
#include <stdlib.h>
#include <unistd.h>

#include <pktscope/plugin.h>
#include <pktscope/bpf/parse.h>

#include "hello_bpf.h"
#include "hello.skel.h"

static const char *const class_name[HB_CLASSES] = {
	[PS_L4_NONE] = "non-ip",	[PS_L4_TCP] = "tcp",
	[PS_L4_UDP] = "udp",		[PS_L4_ICMP] = "icmp",
	[PS_L4_ICMPV6] = "icmpv6",	[PS_L4_SCTP] = "sctp",
	[PS_L4_GRE] = "gre",		[PS_L4_OTHER] = "other",
};

static int show_one(struct ps_ctx *ctx, const struct ps_attachment *att)
{
	static const struct ps_col cols[] = {
		{ "proto", NULL, PS_LEFT },
		{ "packets", NULL, PS_RIGHT },
		{ "bytes", NULL, PS_RIGHT },
	};
	uint64_t c[2];	/* struct hb_count, summed over the CPUs */
	struct ps_table *t;
	uint64_t total = 0;
	int fd = ps_map_open(ctx, att, HB_COUNTS_MAP);

	if (fd < 0)
		return PS_ERR;
	ps_out_item(ctx, att->ifname);
	ps_out_str(ctx, "ifname", "Interface", att->ifname);
	t = ps_table_new(ctx, "protocols", cols, 3);
	for (uint32_t k = 0; k < HB_CLASSES; k++) {
		if (ps_percpu_sum(fd, &k, c, 2))
			continue;
		total += c[0];
		ps_table_str(t, class_name[k]);
		ps_table_u64(t, c[0]);
		ps_table_u64(t, c[1]);
		ps_table_end_row(t);
	}
	ps_table_end(t);
	ps_out_u64(ctx, "packets", "Packets", total);
	ps_out_item_end(ctx);
	close(fd);
	return PS_OK;
}

static int do_show(struct ps_ctx *ctx, const struct ps_args *args)
{
	struct ps_attachment *att;
	size_t n;
	int r = PS_OK;

	if (ps_attachments_select(ctx, ps_arg_str(args, "dev", NULL), &att,
				  &n))
		return PS_ERR;
	ps_out_list(ctx, "interfaces", NULL);
	for (size_t i = 0; i < n && !r; i++)
		r = show_one(ctx, &att[i]);
	ps_out_list_end(ctx);
	free(att);
	return r;
}

static const struct ps_arg_spec show_args[] = {
	{ "dev", PS_KIND_IFACE, 0, "IF", "one interface (default: all)" },
	{ 0 }
};

static const struct ps_cmd cmds[] = {
	{ "show", "packets and bytes by L4 protocol", show_args, do_show,
	  NULL, PS_CMD_BPF },
	{ 0 }
};

PKTSCOPE_PLUGIN(.name = "hello-bpf", .version = "1.0",
		.summary = "out-of-tree example plugin with BPF",
		.bpf_elf = hello__elf_bytes,
		.xdp_prog = "hb_xdp", .tc_prog = "hb_tc",
		.stage = PS_STAGE_OBSERVE,
		.cmds = cmds);
