// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Crafted Ethernet frames for tests and benchmarks; see frames.h. */
#include <string.h>

#include "frames.h"

const uint8_t frame_ip4_src[4] = { 192, 0, 2, 1 };
const uint8_t frame_ip4_dst[4] = { 198, 51, 100, 2 };
const uint8_t frame_ip6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				    0, 0, 0, 0, 0, 0, 0, 1 };
const uint8_t frame_ip6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				    0, 0, 0, 0, 0, 0, 0, 2 };

static const uint8_t mac_dst[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t mac_src[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static uint16_t get16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

static int all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

/* Reserve len zeroed bytes for a header; NULL (and f->error) if too long. */
static uint8_t *push(struct frame *f, enum frame_hdr_kind kind,
		     const char *name, size_t len)
{
	struct frame_hdr *h;
	uint8_t *p;

	if (f->error || f->nhdrs >= FRAME_MAX_HDRS || f->len + len > FRAME_MAX) {
		f->error = 1;
		return NULL;
	}
	h = &f->hdr[f->nhdrs++];
	h->kind = kind;
	h->name = name;
	h->off = f->len;
	h->len = len;
	h->auto_len = 0;
	p = f->buf + f->len;
	memset(p, 0, len);
	f->len += len;
	return p;
}

/*
 * Many headers open with two 16-bit fields (ports; TCI and type; flags and
 * protocol): reserve the header and fill those in.
 */
static uint8_t *push16x2(struct frame *f, enum frame_hdr_kind kind,
			 const char *name, size_t len, uint16_t a, uint16_t b)
{
	uint8_t *p = push(f, kind, name, len);

	if (p) {
		put16(p, a);
		put16(p + 2, b);
	}
	return p;
}

/* An IPv6 extension header: its first byte names the next header. */
static uint8_t *push_ext(struct frame *f, const char *name, size_t len,
			 uint8_t nexthdr)
{
	uint8_t *p = push(f, FH_IPV6_EXT, name, len);

	if (p)
		p[0] = nexthdr;
	return p;
}

/* The ARP header's fixed part; len covers the addresses that follow it. */
static uint8_t *push_arp(struct frame *f, size_t len, uint16_t hrd,
			 uint16_t pro, uint8_t hln, uint8_t pln, uint16_t op)
{
	uint8_t *p = push16x2(f, FH_ARP, "arp", len, hrd, pro);

	if (p) {
		p[4] = hln;
		p[5] = pln;
		put16(p + 6, op);
	}
	return p;
}

void frame_init(struct frame *f)
{
	memset(f, 0, sizeof(*f));
}

void frame_eth(struct frame *f, uint16_t proto)
{
	uint8_t *p = push(f, FH_ETH, "eth", 14);

	if (!p)
		return;
	memcpy(p, mac_dst, 6);
	memcpy(p + 6, mac_src, 6);
	put16(p + 12, proto);
}

void frame_vlan(struct frame *f, uint16_t tci, uint16_t proto)
{
	push16x2(f, FH_VLAN, "vlan", 4, tci, proto);
}

void frame_arp_raw(struct frame *f, uint16_t hrd, uint16_t pro, uint8_t hln,
		   uint8_t pln, uint16_t op)
{
	push_arp(f, 8, hrd, pro, hln, pln, op);
}

void frame_arp(struct frame *f, uint16_t op, const uint8_t sip[4],
	       const uint8_t tip[4])
{
	/* Ethernet and IPv4: 6- and 4-byte addresses */
	uint8_t *p = push_arp(f, 28, 1, 0x0800, 6, 4, op);

	if (!p)
		return;
	memcpy(p + 8, mac_src, 6);
	memcpy(p + 14, sip, 4);
	if (op == 2)
		memcpy(p + 18, mac_dst, 6);
	memcpy(p + 24, tip, 4);
}

void frame_ipv4(struct frame *f, const struct frame_ipv4 *ip)
{
	size_t hlen = 20 + ip->opt_len;
	uint8_t *p = push(f, FH_IPV4, "ipv4", hlen);
	uint8_t ihl = ip->ihl ? ip->ihl : hlen / 4;

	if (!p)
		return;
	p[0] = (ip->version ? ip->version : 4) << 4 | (ihl & 0x0f);
	put16(p + 2, ip->tot_len);
	f->hdr[f->nhdrs - 1].auto_len = !ip->tot_len;
	put16(p + 4, 0x1234);
	put16(p + 6, ip->frag);
	p[8] = ip->ttl ? ip->ttl : 64;
	p[9] = ip->proto;
	memcpy(p + 12, all_zero(ip->src, 4) ? frame_ip4_src : ip->src, 4);
	memcpy(p + 16, all_zero(ip->dst, 4) ? frame_ip4_dst : ip->dst, 4);
	/* options: NOPs, so the header stays valid whatever their length */
	memset(p + 20, 1, ip->opt_len);
}

void frame_ipv6(struct frame *f, const struct frame_ipv6 *ip)
{
	uint8_t *p = push(f, FH_IPV6, "ipv6", 40);

	if (!p)
		return;
	p[0] = (ip->version ? ip->version : 6) << 4;
	put16(p + 4, ip->payload_len);
	f->hdr[f->nhdrs - 1].auto_len = !ip->payload_len;
	p[6] = ip->nexthdr;
	p[7] = ip->hop_limit ? ip->hop_limit : 64;
	memcpy(p + 8, all_zero(ip->src, 16) ? frame_ip6_src : ip->src, 16);
	memcpy(p + 24, all_zero(ip->dst, 16) ? frame_ip6_dst : ip->dst, 16);
}

void frame_ipv6_opt(struct frame *f, uint8_t nexthdr, size_t len)
{
	uint8_t *p = push_ext(f, "ipv6-opt", len, nexthdr);

	if (!p)
		return;
	p[1] = len / 8 - 1;
	/* one PadN option covering the rest keeps options well-formed */
	p[2] = 1;
	p[3] = len - 4;
}

void frame_ipv6_frag(struct frame *f, uint8_t nexthdr, uint16_t offset8,
		     int more)
{
	uint8_t *p = push_ext(f, "ipv6-frag", 8, nexthdr);

	if (!p)
		return;
	put16(p + 2, offset8 << 3 | !!more);
	p[4] = 0xab;
	p[7] = 0xcd;
}

void frame_ipv6_ah(struct frame *f, uint8_t nexthdr, size_t len)
{
	uint8_t *p = push_ext(f, "ipv6-ah", len, nexthdr);

	if (!p)
		return;
	p[1] = len / 4 - 2;
	p[7] = 0x42;	/* SPI */
}

void frame_tcp(struct frame *f, uint16_t sport, uint16_t dport,
	       uint8_t flags, uint8_t doff)
{
	size_t hlen = doff > 5 ? doff * 4 : 20;
	uint8_t *p = push16x2(f, FH_TCP, "tcp", hlen, sport, dport);
	size_t i;

	if (!p)
		return;
	p[7] = 1;		/* seq */
	p[12] = (doff ? doff : 5) << 4;
	p[13] = flags;
	put16(p + 14, 65535);
	for (i = 20; i < hlen; i++)
		p[i] = 1;	/* NOP options */
}

void frame_udp(struct frame *f, uint16_t sport, uint16_t dport)
{
	if (push16x2(f, FH_UDP, "udp", 8, sport, dport))
		f->hdr[f->nhdrs - 1].auto_len = 1;
}

static void icmp_common(struct frame *f, enum frame_hdr_kind kind,
			const char *name, uint8_t type, uint8_t code)
{
	uint8_t *p = push(f, kind, name, 8);

	if (!p)
		return;
	p[0] = type;
	p[1] = code;
	put16(p + 4, 0x0042);	/* echo id */
	put16(p + 6, 1);	/* echo sequence */
}

void frame_icmp(struct frame *f, uint8_t type, uint8_t code)
{
	icmp_common(f, FH_ICMP, "icmp", type, code);
}

void frame_icmpv6(struct frame *f, uint8_t type, uint8_t code)
{
	icmp_common(f, FH_ICMPV6, "icmpv6", type, code);
}

void frame_sctp(struct frame *f, uint16_t sport, uint16_t dport)
{
	uint8_t *p = push16x2(f, FH_SCTP, "sctp", 12, sport, dport);

	if (!p)
		return;
	p[7] = 7;		/* verification tag */
}

void frame_gre(struct frame *f, uint16_t flags, uint16_t proto)
{
	size_t hlen = 4;

	if (flags & 0xc000)		/* checksum or routing */
		hlen += 4;
	if (flags & 0x2000)		/* key */
		hlen += 4;
	if (flags & 0x1000)		/* sequence */
		hlen += 4;
	if ((flags & 7) == 1 && (flags & 0x0080))	/* PPTP ack */
		hlen += 4;
	push16x2(f, FH_GRE, "gre", hlen, flags, proto);
}

void frame_payload(struct frame *f, size_t len)
{
	uint8_t *p = push(f, FH_PAYLOAD, "payload", len);
	size_t i;

	if (!p)
		return;
	for (i = 0; i < len; i++)
		p[i] = 'a' + i % 26;
}

void frame_pad(struct frame *f, size_t len)
{
	/* zeros, as Ethernet padding is */
	if (f->len < len)
		push(f, FH_PAYLOAD, "pad", len - f->len);
}

const struct frame_hdr *frame_find(const struct frame *f,
				   enum frame_hdr_kind kind)
{
	int i;

	for (i = f->nhdrs - 1; i >= 0; i--)
		if (f->hdr[i].kind == kind)
			return &f->hdr[i];
	return NULL;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/*
 * Checksums make the frames acceptable to a real stack (integration tests
 * may inject them); the BPF parser itself checks none.
 */
static void l4_csum(struct frame *f, const struct frame_hdr *ip,
		    const struct frame_hdr *l4, size_t end)
{
	uint8_t *p = f->buf + l4->off;
	size_t len = end - l4->off, sum_off;
	uint32_t sum = 0;
	uint8_t proto;

	switch (l4->kind) {
	case FH_TCP:
		sum_off = 16;
		proto = 6;
		break;
	case FH_UDP:
		sum_off = 6;
		proto = 17;
		break;
	case FH_ICMP:
		sum_off = 2;
		proto = 0;
		break;
	case FH_ICMPV6:
		sum_off = 2;
		proto = 58;
		break;
	default:
		return;
	}
	if (l4->off + sum_off + 2 > end)
		return;
	put16(p + sum_off, 0);
	if (proto && ip->kind == FH_IPV4)
		sum = csum_add(sum, f->buf + ip->off + 12, 8);
	else if (proto)
		sum = csum_add(sum, f->buf + ip->off + 8, 32);
	if (proto)
		sum += proto + len;
	sum = csum_add(sum, p, len);
	sum = csum_fold(sum);
	if (proto == 17 && !sum)
		sum = 0xffff;
	put16(p + sum_off, sum);
}

void frame_finish(struct frame *f)
{
	const struct frame_hdr *ip = NULL, *l4 = NULL;
	size_t ip_end = f->len;
	int frag = 0, i;

	for (i = 0; i < f->nhdrs; i++) {
		struct frame_hdr *h = &f->hdr[i];
		uint8_t *p = f->buf + h->off;

		switch (h->kind) {
		case FH_IPV4:
			if (h->auto_len)
				put16(p + 2, f->len - h->off);
			ip_end = h->off + get16(p + 2);
			frag = get16(p + 6) & 0x3fff;
			put16(p + 10, 0);
			put16(p + 10, csum_fold(csum_add(0, p, h->len)));
			ip = h;
			break;
		case FH_IPV6:
			if (h->auto_len)
				put16(p + 4, f->len - h->off - 40);
			ip_end = h->off + 40 + get16(p + 4);
			frag = 0;
			ip = h;
			break;
		case FH_IPV6_EXT:
			if (!strcmp(h->name, "ipv6-frag") &&
			    (get16(p + 2) & 0xfff9))
				frag = 1;
			break;
		case FH_UDP:
			if (h->auto_len)
				put16(p + 4, (ip_end > f->len ? f->len : ip_end) -
					     h->off);
			/* fallthrough */
		case FH_TCP:
		case FH_ICMP:
		case FH_ICMPV6:
			l4 = h;
			break;
		default:
			break;
		}
	}
	if (ip && l4 && !frag && ip_end <= f->len)
		l4_csum(f, ip, l4, ip_end);
}
