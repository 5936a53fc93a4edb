// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The reader slots (core/slots.c): a slot is taken when free or when its
 * owner died, never from a live owner, and freed only by its owner.  The
 * owners are real processes: this one, a child that has exited (dead),
 * and a child that is still running (a live other).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <pktscope/plugin.h>

/* as a plugin's: the owner word first, then what the slot carries */
struct slot {
	uint64_t owner;
	uint64_t beat_ns;
	uint64_t missed;
};

#define N 4

static pid_t running;	/* a child that sleeps until the test ends */

/* the owner word of a process that lived and is gone */
static uint64_t dead_owner(void)
{
	int fds[2];
	uint64_t o = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		o = ps_owner_self();
		_exit(write(fds[1], &o, sizeof(o)) == sizeof(o) ? 0 : 1);
	}
	assert_int_equal(read(fds[0], &o, sizeof(o)), (ssize_t)sizeof(o));
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	close(fds[0]);
	close(fds[1]);
	return o;
}

static uint64_t live_owner(void)
{
	int fds[2];
	uint64_t o = 0;

	assert_int_equal(pipe(fds), 0);
	running = fork();
	assert_true(running >= 0);
	if (!running) {
		/* a failed assertion ends the test: this goes with it */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		o = ps_owner_self();
		if (write(fds[1], &o, sizeof(o)) != sizeof(o))
			_exit(1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(fds[0], &o, sizeof(o)), (ssize_t)sizeof(o));
	close(fds[0]);
	close(fds[1]);
	return o;
}

static void test_claim(void **state)
{
	struct slot s[N];
	uint64_t dead = dead_owner(), other = live_owner(), owners[N];
	int idx[N];
	char list[64], want[64];

	(void)state;
	assert_false(ps_owner_alive(dead));
	assert_true(ps_owner_alive(other));
	memset(s, 0, sizeof(s));
	s[0].owner = other;
	s[1].owner = dead;
	/* the first that is free or dead: 1, not the live 0 */
	assert_int_equal(ps_slot_claim(s, sizeof(s[0]), N), 1);
	assert_int_equal(s[1].owner, ps_owner_self());
	assert_int_equal(ps_slot_claim(s, sizeof(s[0]), N), 2);
	assert_int_equal(ps_slot_claim(s, sizeof(s[0]), N), 3);
	/* all four live: none */
	assert_int_equal(ps_slot_claim(s, sizeof(s[0]), N), -1);
	assert_int_equal(ps_slot_owners(s, sizeof(s[0]), N, owners, idx), 4);
	assert_int_equal(idx[0], 0);
	assert_int_equal(owners[0], other);
	ps_owner_pids_str(owners, 2, list, sizeof(list));
	snprintf(want, sizeof(want), "%u, %u", PS_OWNER_PID(other),
		 (unsigned)getpid());
	assert_string_equal(list, want);
	/* another's slot is not this process's to free */
	assert_false(ps_slot_free(s, sizeof(s[0]), 0));
	assert_int_equal(s[0].owner, other);
	assert_true(ps_slot_free(s, sizeof(s[0]), 2));
	assert_int_equal(s[2].owner, 0);
	assert_int_equal(ps_slot_owners(s, sizeof(s[0]), N, owners, idx), 3);
	assert_int_equal(idx[2], 3);
	/* the other dies: its slot is the first free again */
	kill(running, SIGKILL);
	assert_int_equal(waitpid(running, NULL, 0), running);
	assert_false(ps_owner_alive(other));
	assert_int_equal(ps_slot_claim(s, sizeof(s[0]), N), 0);
	assert_int_equal(ps_slot_owners(s, sizeof(s[0]), N, owners, NULL), 3);
}

static void test_owner_facts(void **state)
{
	uint64_t me = ps_owner_self(), dead = dead_owner();
	char cmd[256], small[4];

	(void)state;
	ps_owner_cmdline(me, cmd, sizeof(cmd));
	/* argv[0] and its words, spaces between */
	assert_non_null(strstr(cmd, "test_slots"));
	ps_owner_cmdline(me, small, sizeof(small));
	assert_int_equal(strlen(small), 3);
	assert_true(ps_owner_age_ns(me) > 0);
	/* a dead owner has neither, even if its pid is reused */
	ps_owner_cmdline(dead, cmd, sizeof(cmd));
	assert_string_equal(cmd, "");
	assert_int_equal(ps_owner_age_ns(dead), 0);
	ps_owner_pids_str(NULL, 0, cmd, sizeof(cmd));
	assert_string_equal(cmd, "");
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim),
		cmocka_unit_test(test_owner_facts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
