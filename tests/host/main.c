/* The host test program: runs every registered test (or those matching argv[1]) on the
 * host's simulated machine. */
#include <mmtest/test.h>

#include "env.h"

int main(int argc, char **argv)
{
	/* 2.5 GiB: enough for a free, aligned 1 GiB block. The arena costs only what is touched. */
	if (host_env_init(5ull << 29, 1, 8) != 0)
		return 2;
	return mm_test_run_all(argc > 1 ? argv[1] : 0) == 0 ? 0 : 1;
}
