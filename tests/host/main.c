/*
 * The host test program: runs every registered test (or those whose name contains FILTER)
 * on the host's simulated machine.
 *   host_tests [--topology=SPEC] [--memory=SIZE] [FILTER]
 * The topology defaults to $MM_HOST_TOPOLOGY, else one synthetic node with 8 CPUs, so that
 * results do not depend on the machine the tests run on.
 */
#include <mmtest/test.h>

#include <stdio.h>
#include <string.h>

#include "env.h"

int main(int argc, char **argv)
{
	/* 3 GiB: split over one or two nodes, some node still holds a free, aligned 1 GiB block
	 * (the 1 GiB page tests want one). The arena costs only what is touched. */
	struct host_env_options opt = {3ull << 30, "nodes=1,cpus=8", true};
	const struct host_env_options defaults = opt;
	if (host_env_take_options(&argc, argv, &opt) != 0)
		return 2;
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: %s [--topology=SPEC] [--memory=SIZE] [--pcid=on|off] [[--] FILTER]\n"
		       "Runs the tests FILTER selects (all without one): comma-separated substrings\n"
		       "of suite.name, '-' before a term to leave its tests out (after --, since a\n"
		       "filter may then start with '-').\n",
		       argv[0]);
		host_env_print_usage(&defaults);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--") == 0) {
		argv[1] = argv[2];
		argc--;
	} else if (argc == 2 && argv[1][0] == '-') {
		argc = 3; /* an option this program does not know */
	}
	if (argc > 2) {
		fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", argv[0], argv[argc - 1]);
		return 2;
	}
	if (host_env_init(&opt) != 0)
		return 2;
	char machine[256];
	host_env_describe(machine, sizeof machine);
	/* Before the harness, which writes with arch_print, not stdio. */
	printf("machine: %s\n", machine);
	fflush(stdout);
	return mm_test_run_all(argc > 1 ? argv[1] : 0) == 0 ? 0 : 1;
}
