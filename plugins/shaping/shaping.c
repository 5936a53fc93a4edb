// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * shaping: rate limits, per-client fairness and priorities for incoming
 * traffic.  Rules live in the pinned maps of bpf/shaping.bpf.c (the
 * contract is bpf/shaping.h) and change live: a rule added or deleted
 * leaves every other rule's slot, bucket and counters as they were.
 * `action shape` rules also get HTB classes on an IFB device (htb.c).
 *
 * This file: the maps, the lock, attach and detach, the command table;
 * rules.c adds and deletes rules, view.c reads what they did.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pktscope/plugin.h>

#include "config.h"
#include "htb.h"
#include "shaping.h"
#include "shaping_int.h"
#include "shaping.skel.h"

/* one lock for every change of every attachment: changes are rare */
#define LOCK_PATH "/run/pktscope-shaping.lock"

const char *const shp_action_choices[] = { "drop", "shape", NULL };

void maps_close(struct maps *m)
{
	int *fds[] = { &m->config, &m->rules, &m->ports, &m->buckets,
		       &m->counters, &m->sources };

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int maps_open(struct ps_ctx *ctx, const struct ps_attachment *att,
		     struct maps *m)
{
	static const char *const names[] = {
		PS_MAP_NAME(SHP_MAP_CONFIG), PS_MAP_NAME(SHP_MAP_RULES),
		PS_MAP_NAME(SHP_MAP_PORTS), PS_MAP_NAME(SHP_MAP_BUCKETS),
		PS_MAP_NAME(SHP_MAP_COUNTERS), PS_MAP_NAME(SHP_MAP_SOURCES),
	};
	int *fds[] = { &m->config, &m->rules, &m->ports, &m->buckets,
		       &m->counters, &m->sources };
	int prev = 0;

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		prev = *fds[i] = prev < 0 ? -1 : ps_map_open(ctx, att, names[i]);
	if (m->sources < 0) {
		maps_close(m);
		return PS_ERR;
	}
	return PS_OK;
}

int get_config(const struct maps *m, struct shp_config *c)
{
	uint32_t zero = 0;

	return bpf_map_lookup_elem(m->config, &zero, c) ? -errno : 0;
}

int put_config(const struct maps *m, const struct shp_config *c)
{
	uint32_t zero = 0;

	return bpf_map_update_elem(m->config, &zero, c, 0) ? -errno : 0;
}

int get_rule(const struct maps *m, uint32_t slot, struct shp_rule *r)
{
	return bpf_map_lookup_elem(m->rules, &slot, r) ? -errno : 0;
}

int put_rule(const struct maps *m, uint32_t slot,
		    const struct shp_rule *r)
{
	return bpf_map_update_elem(m->rules, &slot, r, 0) ? -errno : 0;
}

int get_counters(const struct maps *m, uint32_t slot,
			struct shp_counters *c)
{
	return ps_percpu_sum(m->counters, &slot, (uint64_t *)c, NCOUNTERS);
}

/*
 * `ports` as the rules in all[] (slot-indexed) make it, whole: one batch,
 * and a table left half written by a killed change is made right.
 */
int put_port_table(const struct maps *m, const struct shp_rule *all)
{
	static uint32_t keys[SHP_PORTS], bits[SHP_PORTS];
	uint32_t n = SHP_PORTS;
	int has = 0;

	for (uint32_t s = 0; s < SHP_RULES_MAX; s++)
		has |= all[s].id && shp_rule_has_dport(&all[s]);
	for (uint32_t p = 0; p < SHP_PORTS; p++) {
		keys[p] = p;
		bits[p] = has ? shp_port_bits(all, p) : 0;
	}
	return bpf_map_update_batch(m->ports, keys, bits, &n, NULL) ? -errno : 0;
}

/* a slot's bucket and counters back to zero, for a new rule there */
int zero_slot(const struct maps *m, uint32_t slot)
{
	int ncpu = libbpf_num_possible_cpus();
	struct shp_bucket b = { 0 };
	void *z;
	int r = 0;

	if (ncpu <= 0)
		return -EINVAL;
	z = calloc((size_t)ncpu, sizeof(struct shp_counters));
	if (!z)
		return -ENOMEM;
	if (bpf_map_update_elem(m->counters, &slot, z, 0) ||
	    bpf_map_update_elem(m->buckets, &slot, &b, 0))
		r = -errno;
	free(z);
	return r;
}

/* The rules in config order (slot and rule each); n of them. */
int load_rules(const struct maps *m, struct shp_config *cfg,
		      struct shp_rule *rules, uint32_t *slots, size_t *n)
{
	int r = get_config(m, cfg);

	*n = 0;
	if (r)
		return r;
	for (uint32_t i = 0; i < cfg->n && i < SHP_RULES_MAX; i++) {
		uint32_t slot = cfg->order[i] & (SHP_RULES_MAX - 1);

		r = get_rule(m, slot, &rules[*n]);
		if (r)
			return r;
		if (!rules[*n].id)
			continue;
		slots[(*n)++] = slot;
	}
	return 0;
}

/* ---- the lock around changes ---- */

int lock_take(struct ps_ctx *ctx)
{
	int fd = open(LOCK_PATH, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		      0600);

	if (fd < 0) {
		ps_err(ctx, "cannot open %s: %s", LOCK_PATH, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX)) {
		ps_err(ctx, "cannot lock %s: %s", LOCK_PATH, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void lock_drop(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* ---- lifecycle ---- */

static int configure(struct ps_ctx *ctx, const struct ps_attachment *att,
		     const struct ps_args *args, void *data)
{
	struct shp_config cfg;
	uint32_t zero = 0;
	int fd, e = 0;

	(void)args;
	(void)data;
	fd = ps_map_open(ctx, att, PS_MAP_NAME(SHP_MAP_CONFIG));
	if (fd < 0)
		return PS_ERR;
	memset(&cfg, 0, sizeof(cfg));
	cfg.next_id = 1;
	shp_ifb_name(att->ifname, cfg.ifb_name, sizeof(cfg.ifb_name));
	if (bpf_map_update_elem(fd, &zero, &cfg, 0))
		e = ps_err(ctx, "writing the config of %s: %s", att->ifname,
			   strerror(errno));
	close(fd);
	/* a fresh config shapes nothing: a replaced attachment's IFB goes */
	if (!e)
		e = ps_dev_release(ctx, att, cfg.ifb_name, "ifb");
	return e;
}

/* ---- commands ---- */

static const struct ps_arg_spec add_args[] = {
	{ "dev", PS_KIND_IFACE, PS_ARG_REQUIRED, NULL, "attached interface" },
	{ "name", PS_KIND_WORD, 0, "WORD", "a name for the rule (default rule<ID>)" },
	{ "src", PS_KIND_CIDR, PS_ARG_REPEAT, NULL,
	  "sources in this prefix only (repeatable, up to 4 a family)" },
	{ "not-src", PS_KIND_CIDR, PS_ARG_REPEAT, NULL,
	  "never sources in this prefix (repeatable, up to 4 a family)" },
	{ "proto", PS_KIND_PROTO, 0, NULL, "this IP protocol only" },
	{ "dport", PS_KIND_PORT, 0, NULL, "destination port or range" },
	{ "sport", PS_KIND_PORT, 0, NULL, "source port or range" },
	{ "syn", PS_KIND_FLAG, 0, NULL,
	  "TCP connection attempts only (SYN without ACK): with pps, new connections a second" },
	{ "rate", PS_KIND_RATE, 0, NULL, "limit in bit/s", NULL,
	  1000, 400000000000ULL },
	{ "pps", PS_KIND_COUNT, 0, "N", "limit in packets a second", NULL,
	  1, 1000000000 },
	{ "burst", PS_KIND_SIZE, 0, NULL,
	  "what may pass at once: bytes (packets with pps); default 50 ms of the rate, at least 512k (4 packets with pps); with action shape HTB's burst, default 1 ms of the rate, at least a frame",
	  NULL, 1, 1ULL << 30 },
	{ "per-source", PS_KIND_FLAG, 0, NULL,
	  "the limit applies to each source address (or prefix) on its own" },
	{ "prefix", PS_KIND_COUNT, PS_ARG_REPEAT, "N",
	  "per-source by prefix: up to 32 for IPv4 (24), above for IPv6 (64)",
	  NULL, 1, 128 },
	{ "fair", PS_KIND_FLAG, 0, NULL,
	  "share the rate equally among the active sources (HTB; implies action shape)" },
	{ "action", PS_KIND_CHOICE, 0, NULL,
	  "drop over the limit (police, default) or queue (shape, tc/tcx only)",
	  shp_action_choices },
	{ "prio", PS_KIND_COUNT, 0, "N",
	  "order (lower first, then id) and HTB priority, 0-7 (default 4)",
	  NULL, 0, 7 },
	{ 0 }
};

static const struct ps_arg_spec del_args[] = {
	{ "dev", PS_KIND_IFACE, PS_ARG_REQUIRED, NULL, "attached interface" },
	{ "rule", PS_KIND_WORD, PS_ARG_POSITIONAL | PS_ARG_REQUIRED, "ID|NAME",
	  "the rule's id or name" },
	{ 0 }
};

static const struct ps_arg_spec list_args[] = {
	{ "dev", PS_KIND_IFACE, 0, NULL, "one interface (default: every one attached)" },
	{ "interval", PS_KIND_DURATION, 0, NULL,
	  "how long to measure the current rates (default 200ms)", NULL,
	  1000000, 60000000000ULL },
	{ 0 }
};

static const struct ps_arg_spec show_args[] = {
	{ "dev", PS_KIND_IFACE, 0, NULL, "one interface (default: every one attached)" },
	{ "interval", PS_KIND_DURATION, 0, NULL,
	  "how long to measure the current rates (default 200ms)", NULL,
	  1000000, 60000000000ULL },
	{ "limit", PS_KIND_COUNT, 0, NULL, "sources shown (default 10)",
	  NULL, 1, 100000 },
	{ 0 }
};

static const struct ps_arg_spec watch_args[] = {
	{ "dev", PS_KIND_IFACE, 0, NULL, "one interface (default: every one attached)" },
	{ "interval", PS_KIND_DURATION, 0, NULL, "time between lines (default 1s)",
	  NULL, 10000000, 3600000000000ULL },
	{ "count", PS_KIND_COUNT, 0, NULL, "stop after N rounds", NULL, 1,
	  1000000000 },
	{ 0 }
};

static const struct ps_cmd rule_cmds[] = {
	{ "add", "add a rule; it applies at once", add_args, do_rule_add,
	  NULL, PS_CMD_BPF },
	{ "list", "the rules, their counters and current rates", list_args,
	  do_rule_list, NULL, PS_CMD_BPF },
	{ "del", "delete a rule by id or name", del_args, do_rule_del, NULL,
	  PS_CMD_BPF },
	{ 0 }
};

static const struct ps_cmd cmds[] = {
	{ "rule", "add, list and delete rules", NULL, NULL, rule_cmds, 0 },
	{ "show", "rules and the busiest limited sources, with current rates",
	  show_args, do_show, NULL, PS_CMD_BPF },
	{ "watch", "rates per rule over time", watch_args, do_watch, NULL,
	  PS_CMD_BPF | PS_CMD_STREAM },
	{ 0 }
};

PKTSCOPE_PLUGIN(
	.name = "shaping",
	.version = PACKAGE_VERSION,
	.summary = "rate limits, per-client fairness and priorities for incoming traffic",
	.bpf_elf = shaping__elf_bytes,
	.xdp_prog = "shp_xdp",
	.tc_prog = "shp_tc",
	.stage = PS_STAGE_ENFORCE,
	.cmds = cmds,
	.configure = configure,
	.metrics = shp_metrics,
);
