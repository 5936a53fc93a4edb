/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pcapng blocks (draft-ietf-opsawg-pcapng): section header, interface
 * description, enhanced packet, interface statistics.  libpcap reads pcapng but cannot write it,
 * and Debian has no small C writer, so the blocks are built here from the
 * specification.
 *
 * Each function builds one whole block in buf and returns its length, or
 * 0 when cap is too small.  ps_pcapng_put() hands a block to a FILE so
 * that whatever reaches the file is whole blocks: a file cut by a crash
 * ends between two blocks, which every reader takes.
 */
#ifndef PKTSCOPE_PCAPNG_H
#define PKTSCOPE_PCAPNG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PS_PCAPNG_LINKTYPE_ETHERNET	1
#define PS_PCAPNG_INBOUND		0x1	/* epb_flags: direction in */

/* a section: byte order, version 1.0, unknown length; app: shb_userappl */
size_t ps_pcapng_shb(void *buf, size_t cap, const char *app);
/* an interface with if_name and if_tsresol 9 (nanoseconds) */
size_t ps_pcapng_idb(void *buf, size_t cap, uint16_t linktype,
		     uint32_t snaplen, const char *ifname);
/* a packet of interface ifid at ts_ns (since the epoch); flags
 * (epb_flags) and dropcount (epb_dropcount) are left out when 0 */
size_t ps_pcapng_epb(void *buf, size_t cap, uint32_t ifid, uint64_t ts_ns,
		     const void *data, uint32_t caplen, uint32_t wirelen,
		     uint32_t flags, uint64_t dropcount);
/*
 * the statistics of interface ifid at end_ns, for the time since start_ns
 * (isb_starttime, isb_endtime; src-log: since the file was opened):
 * packets lost (isb_ifdrop) and delivered (isb_usrdeliv).  A file's last block, so that losses after its last
 * packet are in it too.
 */
size_t ps_pcapng_isb(void *buf, size_t cap, uint32_t ifid, uint64_t start_ns,
		     uint64_t end_ns, uint64_t ifdrop, uint64_t usrdeliv);
/* the most a block ps_pcapng_epb() makes for caplen bytes takes */
#define PS_PCAPNG_EPB_MAX(caplen) (32 + (((size_t)(caplen) + 3) & ~3ul) + 28)

/*
 * Writes the block into f's buffer of bufsize bytes whole: if it does not
 * fit behind what waits there, what waits is flushed first.  0 or -1
 * (errno).
 */
int ps_pcapng_put(FILE *f, size_t bufsize, const void *blk, size_t len);

#endif
