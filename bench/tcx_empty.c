// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tcx_empty: attach the empty TC program of bench/bench_e2e.sh's baseline
 * at tcx ingress and pin its link, for the tcx row of that bench (bpftool
 * 7.1 and iproute2 cannot attach a tcx program).  Removing the pin
 * detaches it.
 *
 *	tcx_empty OBJ IFNAME PIN
 *
 * libbpf 1.1 does not know BPF_TCX_INGRESS: its value is passed as is,
 * as the core does (DESIGN.md).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define TCX_INGRESS 46

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	unsigned int ifindex;
	int link;

	if (argc != 4) {
		fprintf(stderr, "usage: %s OBJ IFNAME PIN\n", argv[0]);
		return 2;
	}
	ifindex = if_nametoindex(argv[2]);
	if (!ifindex) {
		fprintf(stderr, "Error: no interface %s\n", argv[2]);
		return 1;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	prog = obj ? bpf_object__find_program_by_name(obj, "empty_tc") : NULL;
	if (!prog) {
		fprintf(stderr, "Error: no program empty_tc in %s\n", argv[1]);
		return 1;
	}
	bpf_program__set_expected_attach_type(prog, TCX_INGRESS);
	if (bpf_object__load(obj)) {
		fprintf(stderr, "Error: loading %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	link = bpf_link_create(bpf_program__fd(prog), (int)ifindex,
			       TCX_INGRESS, NULL);
	if (link < 0 || bpf_obj_pin(link, argv[3])) {
		fprintf(stderr, "Error: attaching at tcx ingress of %s: %s\n",
			argv[2], strerror(errno));
		return 1;
	}
	close(link);
	bpf_object__close(obj);
	return 0;
}
