// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The interactive shell.  readline's callback interface keeps the loop
 * ours: Ctrl-C at the prompt clears the line, Ctrl-C in a running command
 * (a watch) stops that command, and neither ends the shell.  Lines run
 * through ps_run_line(), the same path as argv and batch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <limits.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>
#include <readline/history.h>
#include <readline/readline.h>

#include "internal.h"
#include "cmd.h"
#include "complete.h"
#include "loader.h"
#include "repl.h"

static struct ps_ctx *repl_ctx;
static char *pending;
static bool eof;
static char prompt[64];

static void on_line(char *line)
{
	/* else readline redraws the prompt before the command's output */
	rl_callback_handler_remove();
	if (!line) {
		eof = true;
		return;
	}
	pending = line;
}

/* ---- Tab completion, from the same grammar ---- */

struct cands {
	char **v;
	size_t n, cap;
	bool files;
};

static void collect(void *data, const char *cand)
{
	struct cands *c = data;

	if (!strcmp(cand, "@file") || !strcmp(cand, "@dir")) {
		c->files = true;
		return;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		char **p = realloc(c->v, cap * sizeof(*p));

		if (!p)
			return;
		c->v = p;
		c->cap = cap;
	}
	c->v[c->n] = strdup(cand);
	if (c->v[c->n])
		c->n++;
}

static struct cands cur_cands;
static size_t cur_idx;

static char *generator(const char *text, int state)
{
	(void)text;
	if (!state)
		cur_idx = 0;
	if (cur_idx < cur_cands.n)
		return strdup(cur_cands.v[cur_idx++]);
	return NULL;
}

static char **complete(const char *text, int start, int end)
{
	char *head, err[64];
	char **words;
	int nwords;

	(void)end;
	rl_attempted_completion_over = 1;
	for (size_t i = 0; i < cur_cands.n; i++)
		free(cur_cands.v[i]);
	free(cur_cands.v);
	memset(&cur_cands, 0, sizeof(cur_cands));

	head = strndup(rl_line_buffer, (size_t)start);
	if (!head)
		return NULL;
	if (ps_tokenize(head, &nwords, &words, err, sizeof(err))) {
		free(head);
		return NULL;
	}
	free(head);
	ps_complete(repl_ctx, nwords, words, text, collect, &cur_cands);
	ps_free_tokens(nwords, words);
	if (cur_cands.files && !cur_cands.n) {
		rl_attempted_completion_over = 0;	/* file names */
		return NULL;
	}
	return rl_completion_matches(text, generator);
}

/*
 * Root never writes through a path another user controls: HOME may be the
 * caller's (sudo -E), so the folder must pass the loader's trust rule and
 * the file must be a plain file of ours, never a symbolic link.  Checked
 * before every write, since readline opens the file by name.
 */
static bool history_safe(struct ps_ctx *ctx, const char *path, bool say)
{
	struct stat st;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return true;
		if (say)
			ps_warn(ctx, "history %s: %s; not kept", path,
				strerror(errno));
		return false;
	}
	if (S_ISREG(st.st_mode) && st.st_uid == geteuid() && st.st_nlink == 1)
		return true;
	if (say)
		ps_warn(ctx, "history %s is %s; not kept", path,
			S_ISLNK(st.st_mode) ? "a symbolic link" :
			!S_ISREG(st.st_mode) ? "not a regular file" :
			st.st_uid != geteuid() ? "another user's file" :
						 "a hard link");
	return false;
}

static char *history_path(struct ps_ctx *ctx)
{
	const char *home = getenv("HOME");
	char why[PATH_MAX + 64];
	char *p;

	if (!home || !*home)
		return NULL;
	if (geteuid() == 0 && ps_dir_trusted(home, (uid_t)-1, why, sizeof(why))) {
		ps_warn(ctx, "history not kept in %s: %s", home, why);
		return NULL;
	}
	if (asprintf(&p, "%s/.pktscope_history", home) < 0)
		return NULL;
	if (!history_safe(ctx, p, true)) {
		free(p);
		return NULL;
	}
	return p;
}

static void history_save(struct ps_ctx *ctx, const char *hist)
{
	if (!hist || !history_safe(ctx, hist, false))
		return;
	if (!append_history(1, hist))
		history_truncate_file(hist, 1000);
	else
		write_history(hist);
}

static bool is_quit(const char *s)
{
	return !strcmp(s, "quit") || !strcmp(s, "exit") || !strcmp(s, "q");
}

int ps_repl(struct ps_ctx *ctx)
{
	char *hist = history_path(ctx);
	int status = PS_OK;

	repl_ctx = ctx;
	ctx->interactive = true;
	snprintf(prompt, sizeof(prompt), "%s> ", ctx->progname);
	rl_readline_name = "pktscope";
	rl_catch_signals = 0;
	rl_attempted_completion_function = complete;
	using_history();
	if (hist)
		read_history(hist);
	if (!ctx->quiet)
		printf("%s interactive shell: 'help' lists objects, Tab completes, 'quit' or Ctrl-D leaves.\n",
		       ctx->progname);
	rl_callback_handler_install(prompt, on_line);

	/*
	 * SIGINT stays blocked except inside pselect() and while a command
	 * runs, so a Ctrl-C between two waits is not lost.
	 */
	sigset_t block, orig;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &orig);
	while (!eof) {
		fd_set fds;
		int r;

		FD_ZERO(&fds);
		FD_SET(STDIN_FILENO, &fds);
		r = pselect(STDIN_FILENO + 1, &fds, NULL, NULL, NULL, &orig);
		if (r < 0) {
			if (errno != EINTR)
				break;
			if (ps_should_stop()) {
				/* Ctrl-C at the prompt: drop the line */
				ps_stop_reset();
				rl_replace_line("", 0);
				rl_crlf();
				rl_on_new_line();
				rl_redisplay();
			}
			continue;
		}
		rl_callback_read_char();
		if (!pending)
			continue;

		char *line = pending;
		char *s = line;

		pending = NULL;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s) {
			add_history(s);
			history_save(ctx, hist);
		}
		if (is_quit(s)) {
			free(line);
			break;
		}
		if (*s) {
			sigprocmask(SIG_SETMASK, &orig, NULL);
			status = ps_run_line(ctx, s);
			sigprocmask(SIG_BLOCK, &block, NULL);
		}
		ps_stop_reset();
		free(line);
		rl_callback_handler_install(prompt, on_line);
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);
	rl_callback_handler_remove();
	if (eof)
		putchar('\n');
	free(hist);
	for (size_t i = 0; i < cur_cands.n; i++)
		free(cur_cands.v[i]);
	free(cur_cands.v);
	(void)status;
	return PS_OK;
}
