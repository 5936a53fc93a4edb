// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The attach-time probe of the hook contract (include/pktscope/bpf/hook.h):
 * a plugin's program runs once on a harmless frame before it is on a hook,
 * and one that would not pass the frame on is refused: a tc program that
 * returns TC_ACT_OK ends the chain for every program after it, and nothing
 * would show it.
 */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <pktscope/bpf/hook.h>
#include "internal.h"

static const char *xdp_ret_name(int r)
{
	static const char *const n[] = {
		"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT",
	};

	return r >= 0 && r < (int)ARRAY_SIZE(n) ? n[r] : "an unknown action";
}

static const char *tc_ret_name(int r)
{
	static const char *const n[] = {
		"TC_ACT_OK", "TC_ACT_RECLASSIFY", "TC_ACT_SHOT", "TC_ACT_PIPE",
		"TC_ACT_STOLEN", "TC_ACT_QUEUED", "TC_ACT_REPEAT",
		"TC_ACT_REDIRECT", "TC_ACT_TRAP",
	};

	if (r == TC_ACT_UNSPEC)
		return "TC_ACT_UNSPEC";
	return r >= 0 && r < (int)ARRAY_SIZE(n) ? n[r] : "an unknown action";
}

/*
 * 60 bytes of UDP from 192.0.2.1 to 192.0.2.2 (TEST-NET-1), port 9
 * (discard) to port 9: nothing any plugin should stop.
 */
static void harmless_frame(unsigned char f[60])
{
	static const unsigned char hdr[42] = {
		0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
		0x45, 0, 0, 46, 0, 0, 0x40, 0, 64, 17, 0, 0,
		192, 0, 2, 1, 192, 0, 2, 2,
		0, 9, 0, 9, 0, 26, 0, 0,
	};
	uint32_t sum = 0;
	int i;

	memset(f, 0, 60);
	memcpy(f, hdr, sizeof(hdr));
	for (i = 14; i < 34; i += 2)
		sum += f[i] << 8 | f[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f[24] = (unsigned char)(~sum >> 8);
	f[25] = (unsigned char)~sum;
}

static void set_probe(struct bpf_map *flag, uint32_t on)
{
	uint32_t zero = 0;

	if (flag)
		bpf_map_update_elem(bpf_map__fd(flag), &zero, &on, 0);
}

int ps_hook_probe(struct ps_ctx *ctx, struct bpf_object *obj, int prog_fd,
		  bool xdp)
{
	const char *name = ctx->plugin->name;
	struct bpf_map *flag = bpf_object__find_map_by_name(obj, PS_PROBE_SEC);
	unsigned char frame[60];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = sizeof(frame), .repeat = 1);
	int r, ret;

	harmless_frame(frame);
	set_probe(flag, 1);
	r = bpf_prog_test_run_opts(prog_fd, &o) ? -errno : 0;
	set_probe(flag, 0);
	if (r) {
		ps_warn(ctx, "cannot check that %s passes packets on (BPF_PROG_TEST_RUN: %s)",
			name, strerror(-r));
		return 0;
	}
	ret = (int)o.retval;
	if (xdp && ret != XDP_PASS)
		return ps_err(ctx,
			"%s's XDP program returned %s (%d) for a harmless frame: an XDP program must return XDP_PASS (2) for what it lets through, or the stack and the programs after it see nothing; not attached",
			name, xdp_ret_name(ret), ret);
	if (!xdp && ret != TC_ACT_UNSPEC)
		return ps_err(ctx,
			"%s's tc program returned %s (%d) for a harmless frame: a tc/tcx program must return TC_ACT_UNSPEC (-1, TCX_NEXT) for what it lets through, or the programs after it see nothing; not attached",
			name, tc_ret_name(ret), ret);
	return 0;
}
