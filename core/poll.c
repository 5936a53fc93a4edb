// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The interval poller of the watch commands: wait an interval, then say
 * how long it really was on the monotonic clock, so that a rate is a
 * delta over the time that passed (a late wake-up does not inflate it).
 */
#include <time.h>

#include "internal.h"

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void ps_poll_start(struct ps_poll *p)
{
	p->round = 0;
	p->secs = 0;
	p->mono_ns = ps_mono_ns();
	p->wall_ns = wall_ns();
}

bool ps_poll_next(struct ps_poll *p)
{
	uint64_t now;

	if (p->count && p->round >= p->count)
		return false;
	if (p->wait ? !p->wait(p->interval_ns, p->data) :
		      !ps_sleep(p->interval_ns))
		return false;
	now = ps_mono_ns();
	/* never 0: a rate divides by it */
	p->secs = (double)(now > p->mono_ns ? now - p->mono_ns : 1) / 1e9;
	p->mono_ns = now;
	p->wall_ns = wall_ns();
	p->round++;
	return true;
}

double ps_rate(uint64_t now, uint64_t then, double secs)
{
	/* a counter that went back was reset: what it holds came since */
	uint64_t d = now >= then ? now - then : now;

	return secs > 0 ? (double)d / secs : 0;
}
