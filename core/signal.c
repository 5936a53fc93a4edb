// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Stop requests: the signals that ask a running command to stop. */
#include <signal.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
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
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void ps_stop_reset(void)
{
	stop_requested = 0;
}

void ps_stop_request(void)
{
	stop_requested = 1;
}

bool ps_should_stop(void)
{
	return stop_requested;
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
