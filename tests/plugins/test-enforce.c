// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test-enforce: an enforcer for the attach layer's tests.  Its program
 * drops every packet; its configure() makes two resources beyond the
 * program: an IFB device "tf<ifname>" that the core owns for it
 * (ps_dev_own(), removed by the core), and one "tg<ifname>" that only its
 * own teardown() removes.  With
 * `hang`, configure() waits after making the device, so a test can kill
 * the attach there; `hold` attaches for its own duration.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <pktscope/plugin.h>

#include "test_enforce.skel.h"

static void ifb_name(const struct ps_attachment *att, char *buf, size_t len)
{
	snprintf(buf, len, "tg%.13s", att->ifname);
}

/* add (true) or delete the device; 0 or a negative libnl error */
static int ifb_change(const char *name, bool add)
{
	struct nl_sock *sk = ps_nl_route(NULL);
	struct rtnl_link *link = rtnl_link_alloc();
	int r = -NLE_NOMEM;

	if (!sk || !link)
		goto out;
	rtnl_link_set_name(link, name);
	if (add) {
		r = rtnl_link_set_type(link, "ifb");
		if (!r)
			r = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	} else {
		r = rtnl_link_delete(sk, link);
	}
out:
	rtnl_link_put(link);
	nl_socket_free(sk);
	return r;
}

static int configure(struct ps_ctx *ctx, const struct ps_attachment *att,
		     const struct ps_args *args, void *data)
{
	(void)data;
	char name[PS_IFNAMSIZ];
	int r;

	snprintf(name, sizeof(name), "tf%.13s", att->ifname);
	if (ps_dev_own(ctx, att, name, "ifb") < 0)
		return PS_ERR;
	ifb_name(att, name, sizeof(name));
	r = ifb_change(name, true);
	if (r && r != -NLE_EXIST)
		return ps_err(ctx, "creating %s: %s", name, nl_geterror(r));
	if (ps_arg_has(args, "hang"))
		for (int i = 0; i < 300 && !ps_should_stop(); i++)
			usleep(100000);
	return PS_OK;
}

static int teardown(struct ps_ctx *ctx, const struct ps_attachment *att)
{
	char name[PS_IFNAMSIZ];
	int r;

	ifb_name(att, name, sizeof(name));
	r = ifb_change(name, false);
	if (r && r != -NLE_OBJ_NOTFOUND && r != -NLE_NODEV)
		return ps_err(ctx, "removing %s: %s", name, nl_geterror(r));
	return PS_OK;
}

static const struct ps_arg_spec attach_args[] = {
	{ "hang", PS_KIND_FLAG, 0, NULL, "wait in configure() (tests)" },
	{ 0 }
};

/* attach for as long as this runs, as a watch does */
static int do_hold(struct ps_ctx *ctx, const struct ps_args *args)
{
	struct ps_attach_opts o = { .args = args };
	struct ps_attachment att;
	bool temporary;

	if (ps_attach_hold(ctx, ps_arg_str(args, "dev", NULL), &o, &att,
			   &temporary))
		return PS_ERR;
	ps_out_str(ctx, "state", "Holding", temporary ? "temporary" : "plain");
	fflush(stdout);
	ps_sleep(ps_arg_u64(args, "duration", 30000000000ULL));
	ps_attach_release(ctx, &att, temporary);
	return PS_OK;
}

static const struct ps_arg_spec hold_args[] = {
	{ "dev", PS_KIND_IFACE, PS_ARG_REQUIRED, NULL, "interface" },
	{ "duration", PS_KIND_DURATION, 0, NULL, "how long (default 30s)" },
	{ 0 }
};

/* own one more device after attach, as shaping's rule add does */
static int do_own(struct ps_ctx *ctx, const struct ps_args *args)
{
	const char *dev = ps_arg_str(args, "dev", NULL);
	struct ps_attachment att;

	if (ps_attachment_get(ctx, dev, &att))
		return ps_err(ctx, "test-enforce is not attached to %s", dev);
	return ps_dev_own(ctx, &att, ps_arg_str(args, "name", NULL), "ifb") < 0 ?
	       PS_ERR : PS_OK;
}

static const struct ps_arg_spec own_args[] = {
	{ "dev", PS_KIND_IFACE, PS_ARG_REQUIRED, NULL, "interface" },
	{ "name", PS_KIND_WORD, PS_ARG_REQUIRED, NULL, "the IFB device's name" },
	{ 0 }
};

static const struct ps_cmd cmds[] = {
	{ "hold", "attach for this command's duration", hold_args, do_hold,
	  NULL, PS_CMD_BPF },
	{ "own", "make an IFB device the attachment owns", own_args, do_own,
	  NULL, PS_CMD_BPF },
	{ 0 }
};

PKTSCOPE_PLUGIN(
	.name = "test-enforce",
	.version = "1",
	.summary = "drops everything; owns two IFB devices (tests only)",
	.bpf_elf = test_enforce__elf_bytes,
	.xdp_prog = "tenf_xdp",
	.tc_prog = "tenf_tc",
	.stage = PS_STAGE_ENFORCE,
	.cmds = cmds,
	.attach_args = attach_args,
	.configure = configure,
	.teardown = teardown,
);
