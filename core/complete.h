/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Completion: the REPL's Tab and `pktscope __complete` for the shells. */
#ifndef PKTSCOPE_COMPLETE_H
#define PKTSCOPE_COMPLETE_H

struct ps_ctx;

/* the candidates for cur after nwords words, each through emit */
int ps_complete(struct ps_ctx *ctx, int nwords, char **words, const char *cur,
		void (*emit)(void *data, const char *cand), void *data);
/* completions/ as built into the binary (completion-scripts.c) */
extern const char ps_bash_completion[], ps_zsh_completion[];

#endif
