// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* pcapng blocks, from the specification (see pcapng.h). */
#include <errno.h>
#include <stdio_ext.h>
#include <string.h>

#include <pktscope/pcapng.h>

#define BT_SHB		0x0A0D0D0Au
#define BT_IDB		0x00000001u
#define BT_EPB		0x00000006u
#define BT_ISB		0x00000005u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du

#define OPT_END		0
#define SHB_USERAPPL	4
#define IF_NAME		2
#define IF_TSRESOL	9
#define EPB_FLAGS	2
#define EPB_DROPCOUNT	4
#define ISB_STARTTIME	2
#define ISB_ENDTIME	3
#define ISB_IFDROP	5
#define ISB_USRDELIV	8

struct blk {
	uint8_t *p;
	size_t len, cap;
	int full;
};

static void put(struct blk *b, const void *v, size_t n)
{
	if (b->len + n > b->cap) {
		b->full = 1;
		return;
	}
	memcpy(b->p + b->len, v, n);
	b->len += n;
}

static void put32(struct blk *b, uint32_t v)
{
	put(b, &v, 4);
}

static void put16(struct blk *b, uint16_t v)
{
	put(b, &v, 2);
}

/* to the next multiple of 4, with zeros */
static void pad(struct blk *b)
{
	static const uint8_t z[4];

	put(b, z, (4 - b->len % 4) % 4);
}

static void opt(struct blk *b, uint16_t code, const void *v, uint16_t n)
{
	put16(b, code);
	put16(b, n);
	put(b, v, n);
	pad(b);
}

static void begin(struct blk *b, void *buf, size_t cap, uint32_t type)
{
	*b = (struct blk){ .p = buf, .cap = cap };
	put32(b, type);
	put32(b, 0);	/* total length, set by end() */
}

/* the end-of-options option, the trailing length, and the leading one */
static size_t end(struct blk *b, int options)
{
	uint32_t total;

	if (options) {
		put16(b, OPT_END);
		put16(b, 0);
	}
	total = (uint32_t)(b->len + 4);
	put32(b, total);
	if (b->full)
		return 0;
	memcpy(b->p + 4, &total, 4);
	return total;
}

size_t ps_pcapng_shb(void *buf, size_t cap, const char *app)
{
	struct blk b;
	int64_t unknown = -1;

	begin(&b, buf, cap, BT_SHB);
	put32(&b, BYTE_ORDER_MAGIC);
	put16(&b, 1);
	put16(&b, 0);
	put(&b, &unknown, 8);
	if (app && *app)
		opt(&b, SHB_USERAPPL, app, (uint16_t)strnlen(app, 256));
	return end(&b, app && *app);
}

size_t ps_pcapng_idb(void *buf, size_t cap, uint16_t linktype,
		     uint32_t snaplen, const char *ifname)
{
	struct blk b;
	uint8_t ns = 9;

	begin(&b, buf, cap, BT_IDB);
	put16(&b, linktype);
	put16(&b, 0);
	put32(&b, snaplen);
	if (ifname && *ifname)
		opt(&b, IF_NAME, ifname, (uint16_t)strnlen(ifname, 256));
	opt(&b, IF_TSRESOL, &ns, 1);
	return end(&b, 1);
}

size_t ps_pcapng_epb(void *buf, size_t cap, uint32_t ifid, uint64_t ts_ns,
		     const void *data, uint32_t caplen, uint32_t wirelen,
		     uint32_t flags, uint64_t dropcount)
{
	struct blk b;

	begin(&b, buf, cap, BT_EPB);
	put32(&b, ifid);
	put32(&b, (uint32_t)(ts_ns >> 32));
	put32(&b, (uint32_t)ts_ns);
	put32(&b, caplen);
	put32(&b, wirelen);
	put(&b, data, caplen);
	pad(&b);
	if (flags)
		opt(&b, EPB_FLAGS, &flags, 4);
	if (dropcount)
		opt(&b, EPB_DROPCOUNT, &dropcount, 8);
	return end(&b, flags || dropcount);
}

/* a timestamp as blocks carry it: the high 32 bits first */
static void ts_words(uint32_t w[2], uint64_t ts_ns)
{
	w[0] = (uint32_t)(ts_ns >> 32);
	w[1] = (uint32_t)ts_ns;
}

size_t ps_pcapng_isb(void *buf, size_t cap, uint32_t ifid, uint64_t start_ns,
		     uint64_t end_ns, uint64_t ifdrop, uint64_t usrdeliv)
{
	struct blk b;
	uint32_t w[2];

	begin(&b, buf, cap, BT_ISB);
	put32(&b, ifid);
	put32(&b, (uint32_t)(end_ns >> 32));
	put32(&b, (uint32_t)end_ns);
	ts_words(w, start_ns);
	opt(&b, ISB_STARTTIME, w, 8);
	ts_words(w, end_ns);
	opt(&b, ISB_ENDTIME, w, 8);
	opt(&b, ISB_IFDROP, &ifdrop, 8);
	opt(&b, ISB_USRDELIV, &usrdeliv, 8);
	return end(&b, 1);
}

int ps_pcapng_put(FILE *f, size_t bufsize, const void *blk, size_t len)
{
	if (__fpending(f) + len > bufsize && fflush(f))
		return -1;
	if (fwrite(blk, 1, len, f) != len) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}
