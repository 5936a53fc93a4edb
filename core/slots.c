// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Slots that processes claim in memory the BPF side shares: src-log's
 * readers and anomaly's watches, each with a ring of its own.  A slot
 * begins with its owner word (ps_owner_self()); nothing but this file
 * takes or frees one, so that every plugin claims alike.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <pktscope/plugin.h>

static uint64_t *slot_owner(void *slots, size_t stride, int i)
{
	return (uint64_t *)((char *)slots + (size_t)i * stride);
}

int ps_slot_claim(void *slots, size_t stride, int n)
{
	uint64_t mine = ps_owner_self();

	for (int i = 0; i < n; i++) {
		uint64_t *o = slot_owner(slots, stride, i);
		uint64_t cur = __atomic_load_n(o, __ATOMIC_ACQUIRE);

		/* a failed swap: another process took it meanwhile */
		if (!ps_owner_alive(cur) &&
		    __atomic_compare_exchange_n(o, &cur, mine, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return i;
	}
	return -1;
}

bool ps_slot_free(void *slots, size_t stride, int i)
{
	uint64_t mine = ps_owner_self();

	/* a slot taken over after this process was thought dead stays */
	return __atomic_compare_exchange_n(slot_owner(slots, stride, i), &mine,
					   0, false, __ATOMIC_ACQ_REL,
					   __ATOMIC_ACQUIRE);
}

int ps_slot_owners(const void *slots, size_t stride, int n,
		   uint64_t *owners, int *idx)
{
	int k = 0;

	for (int i = 0; i < n; i++) {
		uint64_t o = __atomic_load_n(slot_owner((void *)slots, stride,
							i), __ATOMIC_ACQUIRE);

		if (!ps_owner_alive(o))
			continue;
		if (idx)
			idx[k] = i;
		owners[k++] = o;
	}
	return k;
}

void ps_owner_pids_str(const uint64_t *owners, int n, char *buf, size_t len)
{
	size_t off = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (int i = 0; i < n && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%u", i ? ", " : "",
				 PS_OWNER_PID(owners[i]));

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

void ps_owner_cmdline(uint64_t owner, char *buf, size_t len)
{
	char path[32];
	size_t n;
	FILE *f;

	if (!len)
		return;
	buf[0] = '\0';
	/* the pid may have been reused since: then it is not this owner */
	if (!ps_owner_alive(owner))
		return;
	snprintf(path, sizeof(path), "/proc/%u/cmdline", PS_OWNER_PID(owner));
	f = fopen(path, "re");
	if (!f)
		return;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	while (n && buf[n - 1] == '\0')
		n--;
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
}

uint64_t ps_owner_age_ns(uint64_t owner)
{
	uint64_t start = ps_process_start(PS_OWNER_PID(owner)), at, now;
	long tck = sysconf(_SC_CLK_TCK);
	struct timespec up;

	if (!start || (uint32_t)start != (uint32_t)owner || tck <= 0 ||
	    clock_gettime(CLOCK_BOOTTIME, &up))
		return 0;
	at = start * (1000000000ULL / (uint64_t)tck);
	now = (uint64_t)up.tv_sec * 1000000000ULL + (uint64_t)up.tv_nsec;
	return now > at ? now - at : 0;
}
