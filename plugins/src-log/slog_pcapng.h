/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* src-log's records as pcapng (core/pcapng.c builds the blocks). */
#ifndef PKTSCOPE_SLOG_PCAPNG_H
#define PKTSCOPE_SLOG_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* whether a record file is written as pcapng: its name ends in .pcapng */
bool slog_is_pcapng(const char *path);
/* a new file: section header and the interface */
int slog_pcapng_begin(FILE *f, size_t bufsize, const char *ifname,
		      uint32_t snaplen);
/*
 * One ring record (an event and its snap) as an enhanced packet block;
 * *drops (events lost since the last block) goes into its dropcount and
 * is then 0.  0 or -1 (errno).
 */
int slog_pcapng_event(FILE *f, size_t bufsize, int64_t mono_to_real_ns,
		      const void *rec, size_t len, uint64_t *drops);

/*
 * The file's last block: its interface statistics since start_ns (real
 * time): events lost, packets written.  0 or -1 (errno).
 */
int slog_pcapng_end(FILE *f, size_t bufsize, uint64_t start_ns,
		    uint64_t end_ns, uint64_t lost, uint64_t delivered);

#endif
