// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* blast IFACE PCAP SECONDS [PPS]: send the first frame of PCAP on IFACE as
 * fast as sendmmsg allows (or at most PPS a second) for SECONDS; print
 * {"frames","duration_s","pps","send_errors"} like sendpkts.py. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned char frame[2048], hdr[24], rec[16];
	struct mmsghdr msgs[BATCH];
	struct iovec iov;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	unsigned long long sent = 0, errors = 0;
	unsigned int len;
	double t0, t1, dur, rate = 0;
	int fd, one = 1;
	FILE *f;

	if (argc != 4 && argc != 5)
		return fprintf(stderr, "usage: blast IFACE PCAP SECONDS [PPS]\n"), 2;
	dur = atof(argv[3]);
	if (argc == 5)
		rate = atof(argv[4]);
	f = fopen(argv[2], "rb");
	if (!f || fread(hdr, 1, 24, f) != 24 || fread(rec, 1, 16, f) != 16)
		return perror(argv[2]), 1;
	memcpy(&len, rec + 8, 4);		/* incl_len, little endian */
	if (len > sizeof(frame) || fread(frame, 1, len, f) != len)
		return fprintf(stderr, "%s: bad record\n", argv[2]), 1;
	fclose(f);
	fd = socket(AF_PACKET, SOCK_RAW, 0);	/* protocol 0: receives nothing */
	if (fd < 0)
		return perror("socket"), 1;
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		return perror(argv[1]), 1;
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	iov.iov_base = frame;
	iov.iov_len = len;
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = now();
	do {
		int n = sendmmsg(fd, msgs, BATCH, 0);

		if (n < 0) {
			if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
				return perror("sendmmsg"), 1;
			errors++;
			continue;
		}
		sent += (unsigned)n;
		while (rate > 0 && sent > rate * (now() - t0) && now() - t0 < dur)
			usleep(50);
	} while ((t1 = now()) - t0 < dur);
	printf("{\"frames\":%llu,\"duration_s\":%.6f,\"pps\":%.1f,\"send_errors\":%llu}\n",
	       sent, t1 - t0, sent / (t1 - t0), errors);
	return 0;
}
