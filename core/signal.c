// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Signals: the ones that ask a running command to stop, and the requests
 * (reopen, counters) a long-running command may take over.
 */
#include <signal.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t signals_accepted;	/* PS_SIG_* */
static volatile sig_atomic_t signals_pending;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_request_signal(int sig)
{
	unsigned int req = sig == SIGHUP ? PS_SIG_REOPEN : PS_SIG_COUNTERS;

	if (signals_accepted & req)
		signals_pending |= req;
	else if (sig == SIGHUP)
		stop_requested = 1;
	/* an unaccepted SIGUSR1 is ignored: it must not kill a reader */
}

void ps_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a blocking poll() must return to see the request */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_request_signal;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void ps_stop_reset(void)
{
	stop_requested = 0;
	signals_accepted = 0;
	signals_pending = 0;
}

void ps_stop_request(void)
{
	stop_requested = 1;
}

bool ps_should_stop(void)
{
	return stop_requested;
}

void ps_signals_accept(unsigned int which)
{
	signals_accepted = (sig_atomic_t)(which & (PS_SIG_REOPEN | PS_SIG_COUNTERS));
}

unsigned int ps_signals_take(void)
{
	sigset_t set, old;
	unsigned int got;

	/* read and clear as one step against the handler */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	got = (unsigned int)signals_pending;
	signals_pending = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return got;
}

bool ps_sleep(uint64_t ns)
{
	struct timespec end, now;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)(ns / 1000000000ULL);
	end.tv_nsec += (long)(ns % 1000000000ULL);
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	while (!stop_requested) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec ||
		    (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			return true;
		/* short naps keep Ctrl-C prompt even if a signal is missed */
		struct timespec nap = { 0, 50 * 1000000L };
		nanosleep(&nap, NULL);
	}
	return false;
}
