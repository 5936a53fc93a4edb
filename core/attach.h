/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The attach layer's parts, shared by attach.c (the steps), pins.c (the
 * folder in bpffs) and hooks.c (tcx, tc and XDP); not installed.
 */
#ifndef PKTSCOPE_ATTACH_H
#define PKTSCOPE_ATTACH_H

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

#define PS_BPF_TCX_INGRESS 46	/* absent from Debian 12's uapi headers */
#define PS_PATH_MAX (PS_PIN_DIR_MAX + 128)
#define META_MAGIC 0x70736d32	/* "psm2" */

enum meta_state {
	META_LINKING = 1,	/* pins made; the hook may or may not hold it */
	META_READY,		/* linked and published */
};

/*
 * ps_meta, the one-entry array each attachment pins: what detach, status
 * and the clean-up after a kill need.  Written before the program is
 * linked, so that a tc filter a killed attach made can be found.
 */
struct ps_meta {
	uint32_t magic;
	uint32_t state;		/* enum meta_state */
	uint32_t mode;		/* enum ps_mode */
	int32_t ifindex;
	uint32_t prog_id;
	uint32_t stage;		/* enum ps_stage */
	uint64_t since;
	uint32_t tc_handle;	/* tc mode: where the filter is (or will be) */
	uint32_t tc_priority;
	uint32_t owner_pid;	/* temporary attach: its process, else 0 */
	uint32_t pad;
	uint64_t owner_start;	/* that process's start time (pid reuse) */
	char ifname[PS_IFNAMSIZ];
	char plugin[64];
};

/* pins.c: the folder */
int pins_path(struct ps_ctx *ctx, char *buf, size_t len, const char *ifname,
	      const char *name, const char *file);
int pins_join(char *buf, size_t len, const char *dir, const char *name);
int pins_pin(struct ps_ctx *ctx, int fd, const char *dir, const char *name);

/* devices.c: the devices an attachment in dir owns (ps_dev_own()) */
int devices_remove(struct ps_ctx *ctx, const char *dir);
/* a replacement takes over the replaced attachment's devices */
int devices_carry(struct ps_ctx *ctx, const char *from, const char *to);
int pins_bpffs_check(struct ps_ctx *ctx);
int pins_dir_trusted(struct ps_ctx *ctx, const char *path, bool create);
int pins_meta_read(const char *dir, struct ps_meta *m, char *why, size_t len);
int pins_meta_write(struct ps_ctx *ctx, const char *dir,
		    const struct ps_meta *m, bool create);
int pins_remove(struct ps_ctx *ctx, const char *dir);
size_t pins_list(const char *path, char ***out, bool hidden);
void pins_list_free(char **v, size_t n);
int pins_stage_name(char *buf, size_t len, const char *plugin);
bool pins_stage_parse(const char *name, char *plugin, size_t len,
		      uint32_t *pid, uint64_t *start);
uint64_t pins_proc_start(uint32_t pid);
bool pins_owner_alive(uint32_t pid, uint64_t start);

/* hooks.c: the kernel's hooks */
struct hook_peer {
	uint32_t prog_id;
	enum ps_stage stage;
	enum ps_mode mode;
	uint32_t tc_priority;
};
bool hooks_kernel_has_tcx(void);
bool mode_is_xdp(enum ps_mode m);
int hooks_link_tcx(struct ps_ctx *ctx, int prog_fd, int ifindex,
		   const char *ifname, enum ps_stage stage,
		   const struct hook_peer *peers, size_t npeers);
int hooks_link_xdp(struct ps_ctx *ctx, int prog_fd, int ifindex,
		   const char *ifname, enum ps_mode *mode);
int hooks_tc_pick(struct ps_ctx *ctx, const char *ifdir, struct ps_meta *m);
int hooks_tc_attach(struct ps_ctx *ctx, int prog_fd, const char *ifname,
		    const char *stage_dir, struct ps_meta *m);
void hooks_tc_remove(struct ps_ctx *ctx, const struct ps_meta *m,
		     const char *ifdir);
enum hook_state {
	HOOK_GONE,
	HOOK_ALIVE,
	HOOK_IN_CHAIN,		/* XDP, no link of its own: ask the chain */
};
enum hook_state hooks_alive(const struct ps_meta *m, const char *dir);
unsigned int hooks_position(const struct ps_meta *m,
			    const struct hook_peer *peers, size_t npeers);

#endif
