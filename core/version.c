// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The `version` object: versions, plugin path and features. */
#include <stdio.h>

#include <bpf/libbpf.h>

#include "config.h"
#include "internal.h"
#include "loader.h"

static int do_version(struct ps_ctx *ctx, const struct ps_args *args)
{
	char dirs[8192], libbpf_ver[32];
	const char *features[8];
	size_t nf = 0;

	(void)args;
	snprintf(libbpf_ver, sizeof(libbpf_ver), "%u.%u",
		 libbpf_major_version(), libbpf_minor_version());
	features[nf++] = "json";
	features[nf++] = "readline";
	features[nf++] = "zlib";
	features[nf++] = "tcx";
	features[nf++] = "xdp";
#ifdef PKTSCOPE_SANITIZERS
	features[nf++] = "sanitizers";
#endif
	if (!ctx->json) {
		printf("%s v%s\nusing libbpf v%s, plugin ABI %d\n", PACKAGE_NAME,
		       PACKAGE_VERSION, libbpf_ver, PKTSCOPE_ABI_VERSION);
		printf("plugin path: %s\n",
		       ps_plugin_dirs(ctx, dirs, sizeof(dirs)));
		printf("features: ");
		for (size_t i = 0; i < nf; i++)
			printf("%s%s", i ? ", " : "", features[i]);
		printf("\n");
		return PS_OK;
	}
	ps_out_str(ctx, "version", NULL, PACKAGE_VERSION);
	ps_out_str(ctx, "libbpf_version", NULL, libbpf_ver);
	ps_out_u64(ctx, "plugin_abi", NULL, PKTSCOPE_ABI_VERSION);
	/* the JSON vocabulary (man pktscope, JSON VOCABULARY) */
	ps_out_u64(ctx, "json_schema", NULL, PS_JSON_SCHEMA);
	ps_out_str(ctx, "plugin_path", NULL, ps_plugin_dirs(ctx, dirs, sizeof(dirs)));
	ps_out_strv(ctx, "features", NULL, features, nf);
	return PS_OK;
}

const struct ps_cmd ps_version_cmd = {
	"version", "versions, plugin path and features", NULL, do_version,
};
