// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* `pktscope feature`: what this kernel offers, probed, not assumed. */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <zlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "internal.h"

#define PS_BPF_TCX_INGRESS 46	/* absent from Debian 12's uapi headers */

static const char *const config_keys[] = {
	"CONFIG_BPF", "CONFIG_BPF_SYSCALL", "CONFIG_BPF_JIT",
	"CONFIG_BPF_JIT_ALWAYS_ON", "CONFIG_DEBUG_INFO_BTF",
	"CONFIG_NET_CLS_BPF", "CONFIG_NET_ACT_BPF", "CONFIG_NET_SCH_INGRESS",
	"CONFIG_NET_CLS_ACT", "CONFIG_NET_XGRESS", "CONFIG_XDP_SOCKETS",
	"CONFIG_VETH", "CONFIG_IFB", "CONFIG_NET_SCH_HTB", "CONFIG_NET_SCH_TBF",
	"CONFIG_CGROUP_BPF", "CONFIG_BPF_LSM",
};

/* CONFIG_ values from /proc/config.gz; NULL when not there */
static int read_config(char vals[][8], size_t n)
{
	gzFile gz = gzopen("/proc/config.gz", "rb");
	char line[512];

	if (!gz)
		return -1;
	for (size_t i = 0; i < n; i++)
		snprintf(vals[i], 8, "n");
	while (gzgets(gz, line, sizeof(line))) {
		for (size_t i = 0; i < n; i++) {
			size_t kl = strlen(config_keys[i]);

			if (!strncmp(line, config_keys[i], kl) && line[kl] == '=') {
				snprintf(vals[i], 8, "%s", line + kl + 1);
				vals[i][strcspn(vals[i], "\n")] = '\0';
			}
		}
	}
	gzclose(gz);
	return 0;
}

static bool file_has(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	bool ok = false;

	if (!f)
		return false;
	if (fgets(buf, (int)len, f)) {
		buf[strcspn(buf, "\n")] = '\0';
		ok = true;
	}
	fclose(f);
	return ok;
}

static void probe(struct ps_ctx *ctx, struct ps_table *t, const char *key,
		  bool ok, const char *detail)
{
	(void)ctx;
	ps_table_str(t, key);
	ps_table_bool(t, ok);
	ps_table_str(t, detail);
	ps_table_end_row(t);
}

static int do_feature(struct ps_ctx *ctx, const struct ps_args *args)
{
	static const struct ps_col cols[] = {
		{ "feature", NULL, PS_LEFT },
		{ "available", NULL, PS_LEFT },
		{ "detail", NULL, PS_LEFT },
	};
	char buf[64], detail[320];
	struct utsname u;
	struct statfs sfs;
	struct ps_table *t;
	bool root = geteuid() == 0;
	int r;

	(void)args;
	ps_libbpf_log_setup(ctx);
	uname(&u);
	ps_out_str(ctx, "kernel", "Kernel", u.release);
	ps_out_bool(ctx, "privileged", "Privileged", root);
	if (!root)
		ps_out_text(ctx, "(not root: BPF probes below may read as unavailable)\n");
	ps_out_text(ctx, "\n");

	t = ps_table_new(ctx, "probes", cols, ARRAY_SIZE(cols));
	r = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, 1, NULL);
	snprintf(detail, sizeof(detail), "%s", r >= 0 ? "bpf() syscall works" :
		 strerror(errno));
	probe(ctx, t, "bpf_syscall", r >= 0, detail);
	if (r >= 0)
		close(r);

	bool btf = !access("/sys/kernel/btf/vmlinux", R_OK);
	probe(ctx, t, "btf", btf, btf ? "/sys/kernel/btf/vmlinux" : "no vmlinux BTF");

	bool jit = file_has("/proc/sys/net/core/bpf_jit_enable", buf, sizeof(buf));
	snprintf(detail, sizeof(detail), "bpf_jit_enable=%s", jit ? buf : "?");
	probe(ctx, t, "jit", jit && strcmp(buf, "0"), detail);

	bool bpffs = !statfs(ctx->bpffs, &sfs) && sfs.f_type == BPF_FS_MAGIC;
	snprintf(detail, sizeof(detail), "%s %s", ctx->bpffs,
		 bpffs ? "is mounted" : "is not mounted (attach mounts it)");
	probe(ctx, t, "bpffs", bpffs, detail);

	r = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL);
	probe(ctx, t, "xdp", r == 1, r == 1 ? "XDP programs load" :
	      "XDP programs do not load");
	r = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, NULL);
	probe(ctx, t, "tc", r == 1, r == 1 ? "cls_bpf programs load" :
	      "cls_bpf programs do not load");

	/* tcx: the kernel answers a query for the attach type it knows */
	__u32 cnt = 0, flags = 0;
	int lo = (int)if_nametoindex("lo");
	r = lo ? bpf_prog_query(lo, PS_BPF_TCX_INGRESS, 0, &flags, NULL, &cnt) : -1;
	snprintf(detail, sizeof(detail), "%s", r == 0 ?
		 "tcx links (BPF_TCX_INGRESS) supported" :
		 "no tcx (kernel < 6.6?): tc is used instead");
	probe(ctx, t, "tcx", r == 0, detail);

	r = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
	probe(ctx, t, "ringbuf", r == 1, r == 1 ? "BPF_MAP_TYPE_RINGBUF" :
	      "no ring buffer maps");
	r = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_LRU_PERCPU_HASH, NULL);
	probe(ctx, t, "lru_percpu_hash", r == 1, "bounded per-CPU tables");
	r = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_LPM_TRIE, NULL);
	probe(ctx, t, "lpm_trie", r == 1, "prefix filters");
	ps_table_end(t);

	char vals[ARRAY_SIZE(config_keys)][8];

	ps_out_text(ctx, "\n");
	if (read_config(vals, ARRAY_SIZE(config_keys))) {
		ps_out_str(ctx, "kernel_config", "Kernel config",
			   "/proc/config.gz not available");
		return PS_OK;
	}
	static const struct ps_col ccols[] = {
		{ "option", NULL, PS_LEFT },
		{ "value", NULL, PS_LEFT },
	};
	t = ps_table_new(ctx, "kernel_config", ccols, ARRAY_SIZE(ccols));
	for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++) {
		ps_table_str(t, config_keys[i]);
		ps_table_str(t, vals[i]);
		ps_table_end_row(t);
	}
	ps_table_end(t);
	return PS_OK;
}

const struct ps_cmd ps_feature_cmd = {
	"feature", "probe what the kernel offers", NULL, do_feature,
};
