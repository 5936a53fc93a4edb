// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Classic BPF to eBPF for XDP and TC.  No library in Debian does this (the
 * kernel's converter is for socket filters and reads the skb through
 * helpers), so it is written here.
 *
 * Registers: r6 ctx, r7 A, r8 X, r2 data, r3 data_end, r9 the wire length,
 * r0 r1 r5 scratch; M[] is 16 words at the top of the stack.  No helper is
 * called after the prologue, so r1-r5 keep their values.  A and X stay
 * 32-bit: every ALU operation is ALU32, every compare JMP32.
 *
 * Every packet load checks its end against data_end (for the verifier and
 * for cBPF's rule: a load past the packet returns 0, no match).  A
 * variable offset is first clamped below 64 KiB so that the verifier can
 * bound it; no frame at these hooks is longer.
 *
 * VLAN: libpcap reads the outer tag at bytes 12-15 of the frame.  At XDP
 * it is there.  At TC the kernel has moved it into skb->vlan_tci (the
 * receive path strips it before tc ingress), so the TC program is emitted
 * twice: once for frames without an offloaded tag (loads as at XDP) and
 * once for frames with one, where the loads see the frame as it was on the
 * wire: bytes 12-15 come from vlan_proto/vlan_tci and later bytes from
 * four bytes earlier in data; the wire length counts the tag.
 *
 * Divisions and modulos by zero return 0 (no match), as libpcap's and the
 * kernel's classic interpreters do; a shift by X of 32 or more gives 0, as
 * libpcap's does (a constant one is refused, as pcap_compile and the
 * kernel's checker refuse it).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pktscope/cbpf.h>

#define R0 BPF_REG_0
#define R1 BPF_REG_1
#define R2 BPF_REG_2	/* data */
#define R3 BPF_REG_3	/* data_end */
#define R4 BPF_REG_4	/* TC: the offloaded tag, proto << 16 | tci */
#define R5 BPF_REG_5
#define R6 BPF_REG_6	/* ctx */
#define RA BPF_REG_7
#define RX BPF_REG_8
#define RLEN BPF_REG_9
#define FP BPF_REG_10

#define CBPF_MEMWORDS	16
#define MAX_OFF		0xfff0	/* larger offsets fail (and bound the verifier) */
#define MAX_EBPF	32000	/* jump offsets are 16 bits */

#define LABEL_RET0	(-1)	/* jump target: return 0 */
#define LABEL_EPI	(-2)	/* jump target: the tail call on r0 */

struct emit {
	struct bpf_insn *insns;
	size_t n, cap;
	bool fail;
	/* pending jumps to resolve */
	struct fixup {
		size_t at;
		long target;	/* cBPF index, LABEL_RET0, or an eBPF index (~x) */
		bool ebpf;
	} *fix;
	size_t nfix, capfix;
	bool tail;		/* returns go to the tail-call epilogue */
};

static void put(struct emit *e, struct bpf_insn i)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 256;
		struct bpf_insn *p = realloc(e->insns, cap * sizeof(*p));

		if (!p) {
			e->fail = true;
			return;
		}
		e->insns = p;
		e->cap = cap;
	}
	e->insns[e->n++] = i;
}

static struct bpf_insn mk(uint8_t code, uint8_t dst, uint8_t src, int16_t off,
			  int32_t imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src,
				  .off = off, .imm = imm };
}

#define ALU32_IMM(op, d, k)  put(e, mk(BPF_ALU | (op) | BPF_K, d, 0, 0, k))
#define ALU32_REG(op, d, s)  put(e, mk(BPF_ALU | (op) | BPF_X, d, s, 0, 0))
#define ALU64_IMM(op, d, k)  put(e, mk(BPF_ALU64 | (op) | BPF_K, d, 0, 0, k))
#define ALU64_REG(op, d, s)  put(e, mk(BPF_ALU64 | (op) | BPF_X, d, s, 0, 0))
#define MOV64(d, s)          ALU64_REG(BPF_MOV, d, s)
#define LDX(sz, d, s, o)     put(e, mk(BPF_LDX | (sz) | BPF_MEM, d, s, o, 0))
#define STX(sz, d, s, o)     put(e, mk(BPF_STX | (sz) | BPF_MEM, d, s, o, 0))
#define ST_IMM(sz, d, o, k)  put(e, mk(BPF_ST | (sz) | BPF_MEM, d, 0, o, k))
#define BSWAP(d, bits)       put(e, mk(BPF_ALU | BPF_END | BPF_TO_BE, d, 0, 0, bits))
#define EXIT()               put(e, mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0))
#define CALL(id)             put(e, mk(BPF_JMP | BPF_CALL, 0, 0, 0, id))

/* a jump to a label resolved at the end */
static void jump(struct emit *e, uint8_t code, uint8_t dst, uint8_t src,
		 int32_t imm, long target, bool ebpf)
{
	if (e->nfix == e->capfix) {
		size_t cap = e->capfix ? 2 * e->capfix : 64;
		struct fixup *p = realloc(e->fix, cap * sizeof(*p));

		if (!p) {
			e->fail = true;
			return;
		}
		e->fix = p;
		e->capfix = cap;
	}
	e->fix[e->nfix++] = (struct fixup){ .at = e->n, .target = target,
					    .ebpf = ebpf };
	put(e, mk(code, dst, src, 0, imm));
}

/* local forward jumps inside one instruction's code: patched by hand */
static size_t jfwd(struct emit *e, uint8_t code, uint8_t dst, uint8_t src,
		   int32_t imm)
{
	put(e, mk(code, dst, src, 0, imm));
	return e->n - 1;
}

static void here(struct emit *e, size_t at)
{
	if (!e->fail)
		e->insns[at].off = (int16_t)(e->n - at - 1);
}

#define RET0(code, d, s, k) jump(e, code, d, s, k, LABEL_RET0, false)

/* dst = big-endian sz bytes at data + r5; r5 already points there */
static void load_at_r5(struct emit *e, int sz, uint8_t dst)
{
	int len = sz == BPF_W ? 4 : sz == BPF_H ? 2 : 1;

	MOV64(R1, R5);
	ALU64_IMM(BPF_ADD, R1, len);
	RET0(BPF_JMP | BPF_JGT | BPF_X, R1, R3, 0);
	LDX(sz, dst, R5, 0);
	if (len > 1)
		BSWAP(dst, len * 8);
}

/* dst = sz bytes at constant data offset k */
static void load_const(struct emit *e, int sz, uint8_t dst, uint32_t k)
{
	MOV64(R5, R2);
	if (k)
		ALU64_IMM(BPF_ADD, R5, (int32_t)k);
	load_at_r5(e, sz, dst);
}

/* dst = sz bytes at data + r0 (r0 bounded) */
static void load_r0(struct emit *e, int sz, uint8_t dst)
{
	MOV64(R5, R2);
	ALU64_REG(BPF_ADD, R5, R0);
	load_at_r5(e, sz, dst);
}

/* acc = acc << 8 | the wire byte v of a frame whose tag is in r4 (v const) */
static void tag_byte_const(struct emit *e, uint8_t acc, uint32_t v)
{
	ALU32_IMM(BPF_LSH, acc, 8);
	if (v < 12) {
		load_const(e, BPF_B, R0, v);
	} else if (v < 16) {
		MOV64(R0, R4);
		if (15 - v)
			ALU64_IMM(BPF_RSH, R0, (int32_t)(8 * (15 - v)));
		ALU32_IMM(BPF_AND, R0, 0xff);
	} else {
		load_const(e, BPF_B, R0, v - 4);
	}
	ALU32_REG(BPF_OR, acc, R0);
}

/*
 * Wire offset k (constant), tag offloaded: bytes before 12 are in data,
 * 12-15 are the tag, later ones are 4 bytes earlier in data.
 */
static void load_tagged_const(struct emit *e, int sz, uint8_t dst, uint32_t k)
{
	uint32_t len = sz == BPF_W ? 4 : sz == BPF_H ? 2 : 1;

	if (k + len <= 12) {
		load_const(e, sz, dst, k);
	} else if (k >= 16) {
		load_const(e, sz, dst, k - 4);
	} else if (k >= 12 && k + len <= 16) {
		MOV64(dst, R4);
		if (16 - k - len)
			ALU64_IMM(BPF_RSH, dst, (int32_t)(8 * (16 - k - len)));
		ALU32_IMM(BPF_AND, dst, len == 4 ? -1 :
				       (int32_t)((1U << (8 * len)) - 1));
	} else {
		/* straddles the tag: byte by byte */
		ALU32_IMM(BPF_MOV, dst, 0);
		for (uint32_t i = 0; i < len; i++)
			tag_byte_const(e, dst, k + i);
	}
}

/*
 * Wire offset in r0 (bounded, variable), tag offloaded.  The usual cases
 * are one compare away; a load that straddles the tag goes byte by byte.
 */
static void load_tagged_r0(struct emit *e, int sz, uint8_t dst)
{
	int len = sz == BPF_W ? 4 : sz == BPF_H ? 2 : 1;
	size_t lt16, tail, direct, done;

	lt16 = jfwd(e, BPF_JMP | BPF_JLT | BPF_K, R0, 0, 16);
	ALU64_IMM(BPF_SUB, R0, 4);
	direct = jfwd(e, BPF_JMP | BPF_JA, 0, 0, 0);
	here(e, lt16);
	MOV64(R1, R0);
	ALU64_IMM(BPF_ADD, R1, len);
	tail = jfwd(e, BPF_JMP | BPF_JGT | BPF_K, R1, 0, 12);
	/* before the tag */
	size_t d2 = jfwd(e, BPF_JMP | BPF_JA, 0, 0, 0);
	here(e, tail);
	/* straddles or inside the tag: r0 < 16, byte by byte into dst */
	ALU32_IMM(BPF_MOV, dst, 0);
	for (int i = 0; i < len; i++) {
		size_t not_data, not_tag, have;

		/* r1 = wire index of this byte */
		MOV64(R1, R0);
		if (i)
			ALU64_IMM(BPF_ADD, R1, i);
		ALU32_IMM(BPF_LSH, dst, 8);
		not_data = jfwd(e, BPF_JMP | BPF_JGE | BPF_K, R1, 0, 12);
		MOV64(R5, R2);
		ALU64_REG(BPF_ADD, R5, R1);
		size_t ld = jfwd(e, BPF_JMP | BPF_JA, 0, 0, 0);
		here(e, not_data);
		not_tag = jfwd(e, BPF_JMP | BPF_JGE | BPF_K, R1, 0, 16);
		/* r1 = (r4 >> 8 * (15 - r1)) & 0xff */
		ALU64_IMM(BPF_MOV, R5, 15);
		ALU64_REG(BPF_SUB, R5, R1);
		ALU64_IMM(BPF_LSH, R5, 3);
		MOV64(R1, R4);
		ALU64_REG(BPF_RSH, R1, R5);
		ALU32_IMM(BPF_AND, R1, 0xff);
		have = jfwd(e, BPF_JMP | BPF_JA, 0, 0, 0);
		here(e, not_tag);
		ALU64_IMM(BPF_SUB, R1, 4);
		MOV64(R5, R2);
		ALU64_REG(BPF_ADD, R5, R1);
		here(e, ld);
		MOV64(R1, R5);
		ALU64_IMM(BPF_ADD, R1, 1);
		RET0(BPF_JMP | BPF_JGT | BPF_X, R1, R3, 0);
		LDX(BPF_B, R1, R5, 0);
		here(e, have);
		ALU32_REG(BPF_OR, dst, R1);
	}
	done = jfwd(e, BPF_JMP | BPF_JA, 0, 0, 0);
	here(e, direct);
	here(e, d2);
	load_r0(e, sz, dst);
	here(e, done);
}

/* one classic load of A (or X for MSH) at ABS k or IND X + k */
static void emit_load(struct emit *e, bool tagged, int sz, int mode,
		      uint8_t dst, uint32_t k)
{
	if (mode == BPF_ABS || mode == BPF_MSH) {
		if (k > MAX_OFF) {
			jump(e, BPF_JMP | BPF_JA, 0, 0, 0, LABEL_RET0, false);
			return;
		}
		if (tagged)
			load_tagged_const(e, sz, dst, k);
		else
			load_const(e, sz, dst, k);
		return;
	}
	/* IND: X + k in 64 bits: a sum past 32 bits fails, as in libpcap */
	ALU32_IMM(BPF_MOV, R0, (int32_t)k);
	ALU64_REG(BPF_ADD, R0, RX);
	RET0(BPF_JMP | BPF_JGT | BPF_K, R0, 0, MAX_OFF);
	if (tagged)
		load_tagged_r0(e, sz, dst);
	else
		load_r0(e, sz, dst);
}

static int refuse(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int mem_slot(uint32_t k)
{
	return -4 * (CBPF_MEMWORDS - (int)k);
}

/* what the classic program needs, and whether it is one we can take */
static int check(const struct sock_filter *f, size_t n, bool *reach,
		 bool *uses_len, bool *uses_mem, char *err, size_t errlen)
{
	if (!n)
		return refuse(err, errlen, "empty program");
	if (n > BPF_MAXINSNS)
		return refuse(err, errlen, "%zu instructions (at most %d)", n,
			      BPF_MAXINSNS);
	memset(reach, 0, n);
	reach[0] = true;
	uint16_t c = 0;

	for (size_t pc = 0; pc < n; pc++) {
		uint32_t k = f[pc].k;

		c = f[pc].code;
		if (!reach[pc])
			continue;
		switch (BPF_CLASS(c)) {
		case BPF_RET:
			if (BPF_RVAL(c) != BPF_K && BPF_RVAL(c) != BPF_A)
				goto bad;
			continue;
		case BPF_JMP:
			if (BPF_OP(c) == BPF_JA) {
				/* libpcap's interpreter lets k wrap: a loop */
				if (k >= 0x80000000u)
					goto back;
				if (k >= n - pc - 1)
					goto range;
				reach[pc + 1 + k] = true;
				continue;
			}
			if (BPF_OP(c) != BPF_JEQ && BPF_OP(c) != BPF_JGT &&
			    BPF_OP(c) != BPF_JGE && BPF_OP(c) != BPF_JSET)
				goto bad;
			if ((size_t)f[pc].jt >= n - pc - 1 ||
			    (size_t)f[pc].jf >= n - pc - 1)
				goto range;
			reach[pc + 1 + f[pc].jt] = true;
			reach[pc + 1 + f[pc].jf] = true;
			continue;
		case BPF_LD:
		case BPF_LDX:
			switch (BPF_MODE(c)) {
			case BPF_ABS:
			case BPF_IND:
			case BPF_MSH:
				if ((BPF_MODE(c) == BPF_MSH) !=
				    (BPF_CLASS(c) == BPF_LDX) ||
				    (BPF_MODE(c) == BPF_MSH && BPF_SIZE(c) != BPF_B) ||
				    (BPF_MODE(c) != BPF_MSH && BPF_CLASS(c) == BPF_LDX))
					goto bad;
				if (BPF_SIZE(c) != BPF_W && BPF_SIZE(c) != BPF_H &&
				    BPF_SIZE(c) != BPF_B)
					goto bad;
				if (BPF_MODE(c) != BPF_IND && k >= (uint32_t)SKF_AD_OFF)
					return refuse(err, errlen,
						"instruction %zu reads Linux ancillary data (offset %d): not available at XDP or TC",
						pc, (int32_t)k);
				/* beyond any frame: always returns 0 */
				if (BPF_MODE(c) != BPF_IND && k > MAX_OFF)
					continue;
				break;
			case BPF_MEM:
				if (k >= CBPF_MEMWORDS)
					goto mem;
				*uses_mem = true;
				break;
			case BPF_LEN:
				*uses_len = true;
				break;
			case BPF_IMM:
				break;
			default:
				goto bad;
			}
			break;
		case BPF_ST:
		case BPF_STX:
			if (k >= CBPF_MEMWORDS)
				goto mem;
			*uses_mem = true;
			break;
		case BPF_ALU:
			if ((BPF_OP(c) == BPF_LSH || BPF_OP(c) == BPF_RSH) &&
			    BPF_SRC(c) == BPF_K && k >= 32)
				return refuse(err, errlen,
					      "instruction %zu shifts by %u (at most 31)",
					      pc, k);
			/* a constant division by zero always returns 0 */
			if ((BPF_OP(c) == BPF_DIV || BPF_OP(c) == BPF_MOD) &&
			    BPF_SRC(c) == BPF_K && !k)
				continue;
			switch (BPF_OP(c)) {
			case BPF_ADD: case BPF_SUB: case BPF_MUL: case BPF_DIV:
			case BPF_OR: case BPF_AND: case BPF_LSH: case BPF_RSH:
			case BPF_NEG: case BPF_MOD: case BPF_XOR:
				break;
			default:
				goto bad;
			}
			break;
		case BPF_MISC:
			if (BPF_MISCOP(c) != BPF_TAX && BPF_MISCOP(c) != BPF_TXA)
				goto bad;
			break;
		default:
			goto bad;
		}
		if (pc + 1 == n)
			return refuse(err, errlen,
				      "instruction %zu is the last and does not return",
				      pc);
		reach[pc + 1] = true;
	}
	return 0;
bad:
	return refuse(err, errlen, "unknown classic BPF opcode 0x%04x", c);
range:
	return refuse(err, errlen, "a jump leaves the program");
back:
	return refuse(err, errlen,
		      "a backward jump (a loop, as 'protochain' makes): the converter takes forward jumps only");
mem:
	return refuse(err, errlen, "scratch memory index out of range (0-15)");
}

static void emit_alu(struct emit *e, uint16_t c, uint32_t k)
{
	int op = BPF_OP(c);
	bool x = BPF_SRC(c) == BPF_X;

	if (op == BPF_NEG) {
		ALU32_IMM(BPF_NEG, RA, 0);
		return;
	}
	if (op == BPF_DIV || op == BPF_MOD) {
		if (x)
			RET0(BPF_JMP32 | BPF_JEQ | BPF_K, RX, 0, 0);
		else if (!k) {
			jump(e, BPF_JMP | BPF_JA, 0, 0, 0, LABEL_RET0, false);
			return;
		}
	}
	if (op == BPF_LSH || op == BPF_RSH) {
		if (!x) {
			ALU32_IMM(op, RA, (int32_t)k);
			return;
		}
		/* eBPF masks the count to 5 bits; libpcap gives 0 */
		size_t big = jfwd(e, BPF_JMP32 | BPF_JGE | BPF_K, RX, 0, 32);
		ALU32_REG(op, RA, RX);
		size_t done = jfwd(e, BPF_JMP | BPF_JA, 0, 0, 0);
		here(e, big);
		ALU32_IMM(BPF_MOV, RA, 0);
		here(e, done);
		return;
	}
	if (x)
		ALU32_REG(op, RA, RX);
	else
		ALU32_IMM(op, RA, (int32_t)k);
}

/* the body of the classic program, for one kind of frame */
static void emit_body(struct emit *e, const struct sock_filter *f, size_t n,
		      const bool *reach, bool tagged, long *start, long base)
{
	for (size_t pc = 0; pc < n; pc++) {
		uint16_t c = f[pc].code;
		uint32_t k = f[pc].k;

		start[pc] = (long)e->n;
		if (!reach[pc])
			continue;
		switch (BPF_CLASS(c)) {
		case BPF_RET:
			if (BPF_RVAL(c) == BPF_K)
				ALU32_IMM(BPF_MOV, R0, (int32_t)k);
			else
				ALU32_REG(BPF_MOV, R0, RA);
			if (e->tail)
				jump(e, BPF_JMP | BPF_JA, 0, 0, 0, LABEL_EPI,
				     false);
			else
				EXIT();
			break;
		case BPF_JMP:
			if (BPF_OP(c) == BPF_JA) {
				jump(e, BPF_JMP | BPF_JA, 0, 0, 0,
				     base + (long)(pc + 1 + k), false);
				break;
			}
			if (BPF_SRC(c) == BPF_X)
				jump(e, BPF_JMP32 | BPF_OP(c) | BPF_X, RA, RX, 0,
				     base + (long)(pc + 1 + f[pc].jt), false);
			else
				jump(e, BPF_JMP32 | BPF_OP(c) | BPF_K, RA, 0,
				     (int32_t)k,
				     base + (long)(pc + 1 + f[pc].jt), false);
			if (f[pc].jf)
				jump(e, BPF_JMP | BPF_JA, 0, 0, 0,
				     base + (long)(pc + 1 + f[pc].jf), false);
			break;
		case BPF_LD:
			switch (BPF_MODE(c)) {
			case BPF_IMM:
				ALU32_IMM(BPF_MOV, RA, (int32_t)k);
				break;
			case BPF_MEM:
				LDX(BPF_W, RA, FP, mem_slot(k));
				break;
			case BPF_LEN:
				ALU32_REG(BPF_MOV, RA, RLEN);
				break;
			default:
				emit_load(e, tagged, BPF_SIZE(c), BPF_MODE(c),
					  RA, k);
			}
			break;
		case BPF_LDX:
			switch (BPF_MODE(c)) {
			case BPF_IMM:
				ALU32_IMM(BPF_MOV, RX, (int32_t)k);
				break;
			case BPF_MEM:
				LDX(BPF_W, RX, FP, mem_slot(k));
				break;
			case BPF_LEN:
				ALU32_REG(BPF_MOV, RX, RLEN);
				break;
			default:	/* MSH: X = 4 * (P[k] & 0xf) */
				emit_load(e, tagged, BPF_B, BPF_MSH, RX, k);
				ALU32_IMM(BPF_AND, RX, 0xf);
				ALU32_IMM(BPF_LSH, RX, 2);
			}
			break;
		case BPF_ST:
			STX(BPF_W, FP, RA, mem_slot(k));
			break;
		case BPF_STX:
			STX(BPF_W, FP, RX, mem_slot(k));
			break;
		case BPF_ALU:
			emit_alu(e, c, k);
			break;
		case BPF_MISC:
			if (BPF_MISCOP(c) == BPF_TAX)
				ALU32_REG(BPF_MOV, RX, RA);
			else
				ALU32_REG(BPF_MOV, RA, RX);
			break;
		}
	}
}

int ps_cbpf_to_ebpf(const struct sock_filter *f, size_t n,
		    enum ps_cbpf_hook hook, const struct ps_cbpf_tail *tail,
		    struct bpf_insn **out, size_t *n_out, char *err,
		    size_t errlen)
{
	struct emit em = { .tail = tail != NULL }, *e = &em;
	bool uses_len = false, uses_mem = false, *reach = NULL;
	long *start = NULL;
	size_t ret0 = 0, epi = 0;
	int r = -1;

	reach = calloc(n ? n : 1, sizeof(*reach));
	start = calloc(2 * (n ? n : 1), sizeof(*start));
	if (!reach || !start) {
		refuse(err, errlen, "%s", strerror(ENOMEM));
		goto out;
	}
	if (check(f, n, reach, &uses_len, &uses_mem, err, errlen))
		goto out;

	/* prologue */
	MOV64(R6, BPF_REG_1);
	if (hook == PS_CBPF_XDP) {
		if (uses_len) {
			/* the frame with its fragments, as libpcap's wirelen */
			CALL(BPF_FUNC_xdp_get_buff_len);
			MOV64(RLEN, R0);
		}
		LDX(BPF_W, R2, R6, offsetof(struct xdp_md, data));
		LDX(BPF_W, R3, R6, offsetof(struct xdp_md, data_end));
	} else {
		LDX(BPF_W, RLEN, R6, offsetof(struct __sk_buff, len));
		LDX(BPF_W, R2, R6, offsetof(struct __sk_buff, data));
		LDX(BPF_W, R3, R6, offsetof(struct __sk_buff, data_end));
		LDX(BPF_W, R4, R6, offsetof(struct __sk_buff, vlan_present));
	}
	ALU32_IMM(BPF_MOV, RA, 0);
	ALU32_IMM(BPF_MOV, RX, 0);
	if (uses_mem)
		for (int i = 0; i < CBPF_MEMWORDS; i += 2)
			ST_IMM(BPF_DW, FP, mem_slot(i), 0);
	if (hook == PS_CBPF_TC) {
		/* r4: 0 without an offloaded tag, else the tag's 4 bytes */
		size_t tagged = jfwd(e, BPF_JMP | BPF_JNE | BPF_K, R4, 0, 0);
		emit_body(e, f, n, reach, false, start, 0);
		here(e, tagged);
		LDX(BPF_W, R4, R6, offsetof(struct __sk_buff, vlan_proto));
		BSWAP(R4, 16);
		ALU64_IMM(BPF_LSH, R4, 16);
		LDX(BPF_W, R0, R6, offsetof(struct __sk_buff, vlan_tci));
		ALU64_REG(BPF_OR, R4, R0);
		ALU32_IMM(BPF_ADD, RLEN, 4);
		emit_body(e, f, n, reach, true, start + n, (long)n);
	} else {
		emit_body(e, f, n, reach, false, start, 0);
	}
	/* the shared "return 0" of failed loads, if one needs it (the
	 * verifier refuses unreachable code) */
	ret0 = e->n;
	for (size_t i = 0; i < e->nfix; i++) {
		if (e->fix[i].target == LABEL_RET0) {
			ALU32_IMM(BPF_MOV, R0, 0);
			if (!tail)
				EXIT();
			break;
		}
	}
	epi = e->n;
	if (tail) {
		/* a match goes on in one program, the rest in another */
		ALU64_IMM(BPF_MOV, R3, (int32_t)tail->match_slot);
		put(e, mk(BPF_JMP32 | BPF_JNE | BPF_K, R0, 0, 1, 0));
		ALU64_IMM(BPF_MOV, R3, (int32_t)tail->nomatch_slot);
		MOV64(BPF_REG_1, R6);
		put(e, mk(BPF_LD | BPF_DW | BPF_IMM, R2, BPF_PSEUDO_MAP_FD, 0,
			  tail->map_fd));
		put(e, mk(0, 0, 0, 0, 0));
		CALL(BPF_FUNC_tail_call);
		/* an empty slot: let the packet go on */
		ALU64_IMM(BPF_MOV, R0, tail->fallback);
		EXIT();
	}
	if (e->fail) {
		refuse(err, errlen, "%s", strerror(ENOMEM));
		goto out;
	}
	if (e->n > MAX_EBPF) {
		refuse(err, errlen,
		       "the program needs %zu eBPF instructions (at most %d)",
		       e->n, MAX_EBPF);
		goto out;
	}
	for (size_t i = 0; i < e->nfix; i++) {
		long t = e->fix[i].target == LABEL_RET0 ? (long)ret0 :
			 e->fix[i].target == LABEL_EPI ? (long)epi :
			 start[e->fix[i].target];

		e->insns[e->fix[i].at].off = (int16_t)(t - (long)e->fix[i].at - 1);
	}
	*out = e->insns;
	*n_out = e->n;
	e->insns = NULL;
	r = 0;
out:
	free(e->insns);
	free(e->fix);
	free(reach);
	free(start);
	return r;
}
