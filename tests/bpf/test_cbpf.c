// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The cBPF converter (core/cbpf.c) against libpcap itself: every
 * expression of the corpus, compiled by pcap_compile(), converted, loaded
 * into the kernel and run with BPF_PROG_TEST_RUN on every frame of the
 * corpus at XDP and at TC, must return what pcap_offline_filter() returns
 * for that frame (the snap length or 0).  Expressions the converter cannot
 * take must be refused with a reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/if_ether.h>
#include <linux/in.h>

#include "bpf_harness.h"
#include <pktscope/cbpf.h>
#include "pcap_oracle.h"

#define MAX_FRAMES 96

static struct frame frames[MAX_FRAMES];
static int nframes;

static const uint8_t A1[4] = { 10, 0, 0, 1 }, A2[4] = { 10, 0, 0, 2 },
	A3[4] = { 192, 168, 1, 5 }, A4[4] = { 10, 1, 2, 3 },
	A5[4] = { 8, 8, 8, 8 }, A6[4] = { 224, 0, 0, 251 };
static const uint8_t S1[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
	S2[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 },
	S3[16] = { 0xfe, 0x80, [15] = 1 },
	S4[16] = { 0xff, 0x02, [15] = 1 };

/* one L3/L4 body after the Ethernet header (and tags) */
static void body(struct frame *f, int kind)
{
	struct frame_ipv4 v4 = { 0 };
	struct frame_ipv6 v6 = { 0 };

	switch (kind) {
	case 0:	/* TCP SYN 10.0.0.1:1234 -> 10.0.0.2:80 */
		v4.proto = IPPROTO_TCP;
		memcpy(v4.src, A1, 4), memcpy(v4.dst, A2, 4);
		frame_ipv4(f, &v4);
		frame_tcp(f, 1234, 80, 0x02, 0);
		break;
	case 1:	/* TCP SYN-ACK 192.168.1.5:443 -> 10.1.2.3:40000 */
		v4.proto = IPPROTO_TCP;
		memcpy(v4.src, A3, 4), memcpy(v4.dst, A4, 4);
		frame_ipv4(f, &v4);
		frame_tcp(f, 443, 40000, 0x12, 0);
		frame_payload(f, 100);
		break;
	case 2:	/* TCP RST-ACK to port 22, with TCP options */
		v4.proto = IPPROTO_TCP;
		memcpy(v4.src, A4, 4), memcpy(v4.dst, A1, 4);
		frame_ipv4(f, &v4);
		frame_tcp(f, 2222, 22, 0x14, 8);
		break;
	case 3:	/* UDP DNS 10.1.2.3:5353 -> 8.8.8.8:53 */
		v4.proto = IPPROTO_UDP;
		memcpy(v4.src, A4, 4), memcpy(v4.dst, A5, 4);
		frame_ipv4(f, &v4);
		frame_udp(f, 5353, 53);
		frame_payload(f, 30);
		break;
	case 4:	/* UDP 1500 -> multicast */
		v4.proto = IPPROTO_UDP;
		v4.ttl = 1;
		memcpy(v4.src, A2, 4), memcpy(v4.dst, A6, 4);
		frame_ipv4(f, &v4);
		frame_udp(f, 1500, 1999);
		frame_payload(f, 300);
		break;
	case 5:	/* ICMP echo request */
		v4.proto = IPPROTO_ICMP;
		memcpy(v4.src, A3, 4), memcpy(v4.dst, A1, 4);
		frame_ipv4(f, &v4);
		frame_icmp(f, 8, 0);
		frame_payload(f, 56);
		break;
	case 6:	/* a later UDP fragment */
		v4.proto = IPPROTO_UDP;
		v4.frag = 100;
		memcpy(v4.src, A1, 4), memcpy(v4.dst, A2, 4);
		frame_ipv4(f, &v4);
		frame_payload(f, 40);
		break;
	case 7:	/* IPv4 options, TCP ACK to port 8080 */
		v4.proto = IPPROTO_TCP;
		v4.opt_len = 8;
		memcpy(v4.src, A5, 4), memcpy(v4.dst, A2, 4);
		frame_ipv4(f, &v4);
		frame_tcp(f, 1024, 8080, 0x10, 0);
		break;
	case 8:	/* GRE */
		v4.proto = 47;
		memcpy(v4.src, A1, 4), memcpy(v4.dst, A4, 4);
		frame_ipv4(f, &v4);
		frame_gre(f, 0, 0x0800);
		break;
	case 9:	/* IPv6 TCP 2001:db8::1 -> ::2 port 443 */
		v6.nexthdr = IPPROTO_TCP;
		memcpy(v6.src, S1, 16), memcpy(v6.dst, S2, 16);
		frame_ipv6(f, &v6);
		frame_tcp(f, 50000, 443, 0x02, 0);
		break;
	case 10: /* IPv6 UDP fe80::1 -> ff02::1 port 53 */
		v6.nexthdr = IPPROTO_UDP;
		memcpy(v6.src, S3, 16), memcpy(v6.dst, S4, 16);
		frame_ipv6(f, &v6);
		frame_udp(f, 53, 53);
		break;
	case 11: /* ICMPv6 echo request */
		v6.nexthdr = 58;
		memcpy(v6.src, S2, 16), memcpy(v6.dst, S1, 16);
		frame_ipv6(f, &v6);
		frame_icmpv6(f, 128, 0);
		frame_payload(f, 32);
		break;
	case 12: /* IPv6 hop-by-hop then UDP 1234 */
		v6.nexthdr = 0;
		memcpy(v6.src, S1, 16), memcpy(v6.dst, S4, 16);
		frame_ipv6(f, &v6);
		frame_ipv6_opt(f, IPPROTO_UDP, 8);
		frame_udp(f, 1234, 1234);
		break;
	default: /* ARP request */
		frame_arp(f, 1, A1, A2);
		break;
	}
}

#define NBODY 14

static uint16_t body_proto(int kind)
{
	return kind == 13 ? ETH_P_ARP : kind >= 9 ? ETH_P_IPV6 : ETH_P_IP;
}

static void build_frames(void)
{
	/* no tag, one 802.1Q tag, another id, QinQ (802.1ad then 802.1Q) */
	for (int v = 0; v < 4; v++) {
		for (int k = 0; k < NBODY; k++) {
			struct frame *f = &frames[nframes++];
			uint16_t p = body_proto(k);

			frame_init(f);
			if (v == 0) {
				frame_eth(f, p);
			} else if (v == 3) {
				frame_eth(f, 0x88a8);
				frame_vlan(f, 30, 0x8100);
				frame_vlan(f, 10, p);
			} else {
				frame_eth(f, 0x8100);
				frame_vlan(f, v == 1 ? 10 : (3 << 13) | 20, p);
			}
			body(f, k);
			frame_pad(f, 60);
			frame_finish(f);
		}
	}
	/* cut frames: loads past the end must fail as in libpcap */
	for (int k = 0; k < 12; k++) {
		struct frame *f = &frames[nframes++];

		*f = frames[k % 3 == 0 ? k : NBODY + k];
		f->len = 14 + (size_t)(3 * k + 2);
	}
}

/* the corpus of expressions: singles, their negations and pairs */
static const char *const base[] = {
	"ip", "ip6", "arp", "tcp", "udp", "icmp", "icmp6", "ip proto 47",
	"ip6 proto 17", "ether proto 0x86dd", "ether proto 0x0806",
	"host 10.0.0.1", "src host 192.168.1.5", "dst host 10.0.0.2",
	"host 8.8.8.8", "net 10.0.0.0/8", "src net 192.168.0.0/16",
	"dst net 10.1.0.0/16", "net 224.0.0.0/4", "ip6 host 2001:db8::1",
	"src host 2001:db8::2", "net 2001:db8::/32", "src net fe80::/10",
	"dst net ff02::/16", "port 80", "tcp port 443", "udp port 53",
	"src port 1234", "dst port 22", "port 8080", "portrange 1000-2000",
	"tcp dst portrange 20-25", "udp src portrange 5000-6000",
	"tcp[tcpflags] & tcp-syn != 0",
	"tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
	"tcp[tcpflags] & tcp-rst != 0", "tcp[13] = 0x12",
	"tcp[tcpflags] & tcp-ack != 0 and not tcp[tcpflags] & tcp-syn != 0",
	"vlan", "vlan 10", "vlan 20", "vlan 30", "vlan and vlan 10",
	"vlan 20 and udp", "vlan and ip6", "vlan 10 and host 10.0.0.1",
	"vlan and tcp port 80", "ether[0] & 1 = 0", "ether[12:2] = 0x0800",
	"ip[8] > 32", "ip[8] = 1", "ip[2:2] > 100", "ip[6:2] & 0x1fff = 0",
	"ip[6:2] & 0x1fff != 0", "ip[0] & 0xf > 5", "udp[0:2] = 53",
	"udp[2:2] = 53", "ip6[6] = 6", "ip6[7] = 64", "icmp[icmptype] = icmp-echo",
	"icmp6[icmp6type] = icmp6-echo", "icmp6[0] = 128", "len > 100",
	"len <= 80", "greater 200", "less 70", "ether multicast",
	"ether broadcast", "ether host 02:00:00:00:00:01", "ip multicast",
	"ip6 multicast", "tcp[0:2] > 1023", "tcp[2:2] < 1024",
	"ip[2:2] - 20 > 10", "ip[2:2] % 7 = 3", "ip[2:2] / 3 > 20",
	"ip[2:2] * 2 > 200", "ip[2:2] << 1 > 100", "ip[2:2] >> 2 = 5",
	"ip[2:2] ^ 0xff = 0", "ip[1] | 1 = 1", "ip[2:2] & 0xff00 = 0",
	"len - 14 > ip[2:2]", "ip[2:2] = len - 14", "udp[4:2] - 8 > 20",
	"tcp[12] >> 4 > 5", "ether[14] = 0x45", "ether[100] = 0",
	"ether[0:4] = 0x02000000", "ip6 and tcp", "ip6 and udp port 53",
	"proto \\udp",
	"ip and not tcp", "icmp or icmp6", "tcp or udp", "not ip and not ip6",
	"(tcp or udp) and port 53", "ip6[40] = 128",
};

/* libpcap compiles them; the converter must refuse them: Linux ancillary
 * data that an XDP or TC program does not have */
static const char *const refused[] = {
	"inbound", "outbound", "ifindex 3",
};

/* libpcap compiles a loop for them; the converter refuses it */
static const char *const loops[] = {
	"ip6 protochain 17", "ip protochain 6", "tcp or ip6 protochain 58",
};

/* libpcap itself refuses them: the reason must come through */
static const char *const pcap_refused[] = {
	"ip broadcast", "ip[2:2] / 0 = 0", "ifname eth0", "tcp and",
	"ip[2:2] << 40 = 0", "no such keyword",
};

#define NBASE (sizeof(base) / sizeof(base[0]))
#define MAX_EXPR 512

static char *corpus[MAX_EXPR];
static int ncorpus;

static void add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void add(const char *fmt, ...)
{
	va_list ap;

	if (ncorpus == MAX_EXPR)
		return;
	struct sock_filter *f;
	size_t n;
	char err[256];

	va_start(ap, fmt);
	if (vasprintf(&corpus[ncorpus], fmt, ap) < 0) {
		va_end(ap);
		return;
	}
	va_end(ap);
	/* libpcap refuses a pair that can match nothing: not one for us */
	if (oracle_compile(corpus[ncorpus], &f, &n, err, sizeof(err))) {
		free(corpus[ncorpus]);
		return;
	}
	free(f);
	ncorpus++;
}

static void build_corpus(void)
{
	size_t i;

	for (i = 0; i < NBASE; i++)
		add("%s", base[i]);
	for (i = 0; i < NBASE; i += 2)
		add("not (%s)", base[i]);
	for (i = 0; i < NBASE; i++)
		add("(%s) and (%s)", base[i], base[(i * 7 + 3) % NBASE]);
	for (i = 0; i < NBASE; i += 2)
		add("(%s) or not (%s)", base[i], base[(i * 5 + 11) % NBASE]);
}

static int load(enum hook h, const struct bpf_insn *insns, size_t n,
		char *log, size_t loglen)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = log,
		    .log_size = (__u32)loglen, .log_level = 1);
	int fd;

	fd = bpf_prog_load(h == XDP ? BPF_PROG_TYPE_XDP : BPF_PROG_TYPE_SCHED_CLS,
			   "cbpf_test", "Dual BSD/GPL", insns, n, NULL);
	if (fd < 0) {
		/* again, for the verifier's words */
		fd = bpf_prog_load(h == XDP ? BPF_PROG_TYPE_XDP :
				   BPF_PROG_TYPE_SCHED_CLS, "cbpf_test",
				   "Dual BSD/GPL", insns, n, &o);
	}
	return fd;
}

static char vlog[1 << 20];

/* mismatches of one classic program over all frames at h; -1: not loaded */
static int check_prog(enum hook h, const char *what,
		      const struct sock_filter *f, size_t n)
{
	struct bpf_insn *insns;
	size_t ni;
	char err[256];
	int fd, bad = 0;

	if (ps_cbpf_to_ebpf(f, n, h == XDP ? PS_CBPF_XDP : PS_CBPF_TC, NULL, &insns,
			    &ni, err, sizeof(err))) {
		print_message("# %s: refused: %s\n", what, err);
		return -1;
	}
	fd = load(h, insns, ni, vlog, sizeof(vlog));
	free(insns);
	if (fd < 0) {
		size_t l = strlen(vlog);

		print_message("# %s at %s: not loaded (%s): %s\n", what,
			      hook_name(h), strerror(errno),
			      l > 1500 ? vlog + l - 1500 : vlog);
		return -1;
	}
	for (int i = 0; i < nframes; i++) {
		unsigned int want = oracle_run(f, n, frames[i].buf,
					       frames[i].len);
		int got;

		if (test_run(fd, frames[i].buf, frames[i].len, 1, &got)) {
			/* the kernel's skb test harness wants the whole IP
			 * header of an IP frame: those cut frames are XDP's */
			if (h == TC && errno == EINVAL && frames[i].len < 54)
				continue;
			print_message("# %s: test_run, frame %d (%zu bytes): %s\n",
				      what, i, frames[i].len, strerror(errno));
			bad++;
			continue;
		}
		if ((unsigned int)got != want) {
			if (bad < 3)
				print_message("# %s at %s, frame %d (%zu bytes): got %u, libpcap %u\n",
					      what, hook_name(h), i,
					      frames[i].len, (unsigned)got,
					      want);
			bad++;
		}
	}
	close(fd);
	return bad;
}

static void t_agreement(void **state)
{
	enum hook h = *(enum hook *)*state;
	int runs = 0, bad_exprs = 0, matched = 0;

	need_bpf();
	assert_true(ncorpus >= 200);
	assert_true(nframes >= 50);
	for (int e = 0; e < ncorpus; e++) {
		struct sock_filter *f;
		size_t n;
		char err[256];
		int bad;

		if (oracle_compile(corpus[e], &f, &n, err, sizeof(err)))
			fail_msg("libpcap refused corpus expression '%s': %s",
				 corpus[e], err);
		bad = check_prog(h, corpus[e], f, n);
		if (bad)
			bad_exprs++;
		else
			runs += nframes;
		for (int i = 0; i < nframes && !bad; i++)
			matched += oracle_run(f, n, frames[i].buf,
					      frames[i].len) != 0;
		free(f);
	}
	print_message("# %s: %d expressions x %d frames: %d runs agree (%d matches), %d expressions disagree\n",
		      hook_name(h), ncorpus, nframes, runs, matched, bad_exprs);
	assert_int_equal(bad_exprs, 0);
	/* a corpus where nothing or everything matches would prove little */
	assert_true(matched > runs / 10 && matched < runs * 9 / 10);
}

/* hand-made programs for what pcap_compile() never emits */
#define I(c, jt, jf, k) { (c), (jt), (jf), (k) }

static void t_edges(void **state)
{
	enum hook h = *(enum hook *)*state;
	const struct sock_filter divx[] = {	/* A / X with X = 0: 0 */
		I(BPF_LD | BPF_IMM, 0, 0, 5), I(BPF_LDX | BPF_IMM, 0, 0, 0),
		I(BPF_ALU | BPF_DIV | BPF_X, 0, 0, 0),
		I(BPF_RET | BPF_K, 0, 0, 7),
	}, modx[] = {
		I(BPF_LD | BPF_IMM, 0, 0, 5), I(BPF_LDX | BPF_IMM, 0, 0, 0),
		I(BPF_ALU | BPF_MOD | BPF_X, 0, 0, 0),
		I(BPF_RET | BPF_K, 0, 0, 7),
	}, divk[] = {
		I(BPF_LD | BPF_IMM, 0, 0, 5),
		I(BPF_ALU | BPF_DIV | BPF_K, 0, 0, 0),
		I(BPF_RET | BPF_K, 0, 0, 7),
	}, divok[] = {	/* 1000 / 7 % 9 */
		I(BPF_LD | BPF_IMM, 0, 0, 1000), I(BPF_LDX | BPF_IMM, 0, 0, 7),
		I(BPF_ALU | BPF_DIV | BPF_X, 0, 0, 0),
		I(BPF_ALU | BPF_MOD | BPF_K, 0, 0, 9),
		I(BPF_RET | BPF_A, 0, 0, 0),
	}, shx[] = {	/* A << 40 with X: 0, as libpcap */
		I(BPF_LD | BPF_IMM, 0, 0, 5), I(BPF_LDX | BPF_IMM, 0, 0, 40),
		I(BPF_ALU | BPF_LSH | BPF_X, 0, 0, 0),
		I(BPF_ALU | BPF_ADD | BPF_K, 0, 0, 1),
		I(BPF_RET | BPF_A, 0, 0, 0),
	}, wrap[] = {	/* [X + k] past 32 bits: fails, not wraps */
		I(BPF_LDX | BPF_IMM, 0, 0, 0xffffffff),
		I(BPF_LD | BPF_H | BPF_IND, 0, 0, 13),
		I(BPF_RET | BPF_A, 0, 0, 0),
	}, mem[] = {	/* scratch memory, X, TXA, NEG, LEN */
		I(BPF_LD | BPF_W | BPF_LEN, 0, 0, 0),
		I(BPF_ST, 0, 0, 3), I(BPF_LDX | BPF_MEM, 0, 0, 3),
		I(BPF_LD | BPF_B | BPF_ABS, 0, 0, 14),
		I(BPF_ALU | BPF_NEG, 0, 0, 0), I(BPF_ALU | BPF_ADD | BPF_X, 0, 0, 0),
		I(BPF_STX, 0, 0, 15), I(BPF_LD | BPF_MEM, 0, 0, 15),
		I(BPF_ALU | BPF_SUB | BPF_K, 0, 0, 1),
		I(BPF_MISC | BPF_TAX, 0, 0, 0), I(BPF_MISC | BPF_TXA, 0, 0, 0),
		I(BPF_ALU | BPF_XOR | BPF_K, 0, 0, 0x80000000),
		I(BPF_JMP | BPF_JGT | BPF_K, 0, 1, 0x7fffffff),
		I(BPF_RET | BPF_A, 0, 0, 0), I(BPF_RET | BPF_K, 0, 0, 1),
	}, far[] = {	/* beyond any frame: 0 */
		I(BPF_LD | BPF_B | BPF_ABS, 0, 0, 70000),
		I(BPF_RET | BPF_K, 0, 0, 9),
	}, ind_end[] = {	/* IND load ending exactly at the end, and past */
		I(BPF_LD | BPF_W | BPF_LEN, 0, 0, 0),
		I(BPF_ALU | BPF_SUB | BPF_K, 0, 0, 4),
		I(BPF_MISC | BPF_TAX, 0, 0, 0),
		I(BPF_LD | BPF_W | BPF_IND, 0, 0, 0),
		I(BPF_LD | BPF_W | BPF_IND, 0, 0, 1),
		I(BPF_RET | BPF_K, 0, 0, 3),
	}, msh[] = {
		I(BPF_LDX | BPF_B | BPF_MSH, 0, 0, 14),
		I(BPF_LD | BPF_B | BPF_IND, 0, 0, 14),
		I(BPF_JMP | BPF_JSET | BPF_X, 0, 1, 0),
		I(BPF_RET | BPF_A, 0, 0, 0), I(BPF_RET | BPF_K, 0, 0, 77),
	};
	const struct { const char *name; const struct sock_filter *f; size_t n; }
	cases[] = {
#define C(x) { #x, x, sizeof(x) / sizeof(x[0]) }
		C(divx), C(modx), C(divok), C(shx), C(wrap), C(mem),
		C(far), C(ind_end), C(msh),
	};

	struct bpf_insn *insns;
	size_t ni;
	char err[256];
	int fd, got;

	need_bpf();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(check_prog(h, cases[i].name, cases[i].f,
					    cases[i].n), 0);
	/* libpcap's interpreter traps on a constant division by zero (its
	 * validator refuses it); the kernel's returns 0, and so do we */
	assert_int_equal(ps_cbpf_to_ebpf(divk, 3, h == XDP ? PS_CBPF_XDP :
					 PS_CBPF_TC, NULL, &insns, &ni, err,
					 sizeof(err)), 0);
	fd = load(h, insns, ni, vlog, sizeof(vlog));
	free(insns);
	assert_true(fd >= 0);
	assert_int_equal(test_run(fd, frames[0].buf, frames[0].len, 1, &got), 0);
	assert_int_equal(got, 0);
	close(fd);
}

static void t_refused(void **state)
{
	const struct sock_filter nofinal[] = {
		I(BPF_LD | BPF_IMM, 0, 0, 5),
	}, jout[] = {
		I(BPF_JMP | BPF_JEQ | BPF_K, 5, 0, 0), I(BPF_RET | BPF_K, 0, 0, 0),
	}, memout[] = {
		I(BPF_ST, 0, 0, 16), I(BPF_RET | BPF_K, 0, 0, 0),
	}, badop[] = {
		I(0x07 | 0xf0, 0, 0, 0), I(BPF_RET | BPF_K, 0, 0, 0),
	}, shk[] = {
		I(BPF_ALU | BPF_LSH | BPF_K, 0, 0, 32), I(BPF_RET | BPF_A, 0, 0, 0),
	};
	const struct { const struct sock_filter *f; size_t n; const char *why; }
	bad[] = {
		{ nofinal, 1, "does not return" }, { jout, 2, "leaves" },
		{ memout, 2, "scratch memory" }, { badop, 2, "opcode" },
		{ shk, 2, "shifts by 32" }, { nofinal, 0, "empty" },
	};
	struct bpf_insn *insns;
	size_t n;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct sock_filter *f;

		assert_int_equal(oracle_compile(refused[i], &f, &n, err,
						sizeof(err)), 0);
		for (int h = 0; h < 2; h++) {
			err[0] = 0;
			assert_int_equal(ps_cbpf_to_ebpf(f, n, h, NULL, &insns, &n,
							 err, sizeof(err)), -1);
			print_message("# refused '%s': %s\n", refused[i], err);
			assert_non_null(strstr(err, "ancillary"));
		}
		free(f);
	}
	for (size_t i = 0; i < sizeof(loops) / sizeof(loops[0]); i++) {
		assert_int_equal(ps_expr_compile(loops[i], PS_CBPF_XDP, NULL, &insns,
						 &n, err, sizeof(err)), -1);
		print_message("# refused '%s': %s\n", loops[i], err);
		assert_non_null(strstr(err, "backward jump"));
	}
	for (size_t i = 0; i < sizeof(pcap_refused) / sizeof(pcap_refused[0]); i++) {
		err[0] = 0;
		assert_int_equal(ps_expr_compile(pcap_refused[i], PS_CBPF_XDP,
						 NULL, &insns, &n, err, sizeof(err)), -1);
		print_message("# refused '%s': %s\n", pcap_refused[i], err);
		assert_true(strlen(err) > 5);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(ps_cbpf_to_ebpf(bad[i].f, bad[i].n, PS_CBPF_TC,
						 NULL, &insns, &n, err, sizeof(err)), -1);
		if (!strstr(err, bad[i].why))
			fail_msg("case %zu: '%s' does not say '%s'", i, err,
				 bad[i].why);
	}
	/* and one that is fine, through the same entry point */
	assert_int_equal(ps_expr_compile("tcp dst port 443 and src net 10.0.0.0/8",
					 PS_CBPF_TC, NULL, &insns, &n, err,
					 sizeof(err)), 0);
	free(insns);
}

static int group_setup(void **state)
{
	(void)state;
	build_frames();
	build_corpus();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	for (int i = 0; i < ncorpus; i++)
		free(corpus[i]);
	return 0;
}

int main(void)
{
	static enum hook xdp = XDP, tc = TC;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate(t_agreement, &xdp),
		cmocka_unit_test_prestate(t_agreement, &tc),
		cmocka_unit_test_prestate(t_edges, &xdp),
		cmocka_unit_test_prestate(t_edges, &tc),
		cmocka_unit_test(t_refused),
	};

	harness_setup();
	if (harness_skip_all(group_teardown))
		return 0;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
