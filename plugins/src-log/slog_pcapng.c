// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <string.h>

#include <pktscope/pcapng.h>
#include "src_log.h"
#include "slog_pcapng.h"
#include "config.h"

/* x.pcapng, or x.pcapng.gz: the same blocks through the gzip stream */
bool slog_is_pcapng(const char *path)
{
	size_t n = strlen(path);

	if (n > 3 && !strcmp(path + n - 3, ".gz"))
		n -= 3;
	return n > 7 && !strncmp(path + n - 7, ".pcapng", 7);
}

int slog_pcapng_begin(FILE *f, size_t bufsize, const char *ifname,
		      uint32_t snaplen)
{
	uint8_t b[512];
	size_t n;

	n = ps_pcapng_shb(b, sizeof(b), "pktscope " PACKAGE_VERSION " src-log");
	if (!n || ps_pcapng_put(f, bufsize, b, n))
		return -1;
	n = ps_pcapng_idb(b, sizeof(b), PS_PCAPNG_LINKTYPE_ETHERNET, snaplen,
			  ifname);
	if (!n || ps_pcapng_put(f, bufsize, b, n))
		return -1;
	return 0;
}

int slog_pcapng_event(FILE *f, size_t bufsize, int64_t mono_to_real_ns,
		      const void *rec, size_t len, uint64_t *drops)
{
	static uint8_t b[PS_PCAPNG_EPB_MAX(SLOG_SNAP_MAX)];
	const struct slog_event *e = rec;
	const struct slog_snap *sn;
	const uint8_t *data;
	uint32_t caplen;
	size_t n;

	uint32_t wire = e->len;

	/* without its snap (none asked for yet, or a bad record): the
	 * packet is there, with no bytes, not left out */
	caplen = 0;
	data = NULL;
	if (len >= sizeof(*e) + sizeof(*sn)) {
		sn = (const void *)((const uint8_t *)rec + sizeof(*e));
		if (sn->snap_len <= len - sizeof(*e) - sizeof(*sn) &&
		    sn->snap_len <= SLOG_SNAP_MAX) {
			caplen = sn->snap_len;
			data = (const uint8_t *)(sn + 1);
			wire = sn->wire_len;
		}
	}
	n = ps_pcapng_epb(b, sizeof(b), 0,
			  e->ts_ns + (uint64_t)mono_to_real_ns, data, caplen,
			  wire, PS_PCAPNG_INBOUND, *drops);
	if (!n) {
		errno = EOVERFLOW;
		return -1;
	}
	if (ps_pcapng_put(f, bufsize, b, n))
		return -1;
	*drops = 0;
	return 0;
}

int slog_pcapng_end(FILE *f, size_t bufsize, uint64_t start_ns,
		    uint64_t end_ns, uint64_t lost, uint64_t delivered)
{
	uint8_t b[128];
	size_t n = ps_pcapng_isb(b, sizeof(b), 0, start_ns, end_ns, lost,
				 delivered);

	return n && !ps_pcapng_put(f, bufsize, b, n) ? 0 : -1;
}
