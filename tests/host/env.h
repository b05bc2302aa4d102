/*
 * Starting the memory manager on the host's simulated machine, and the command-line options
 * that shape that machine: shared by the host test program and the host benchmarks.
 */
#ifndef TESTS_HOST_ENV_H
#define TESTS_HOST_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the simulated machine is made of. */
struct host_env_options {
	uint64_t memory_bytes; /* the arena, split evenly between the nodes */
	const char *topology;  /* "hwloc" or a synthetic spec such as "nodes=2,cpus=8" */
	bool pcid;             /* the simulated CPUs tag TLB entries with PCIDs (--pcid=off) */
};

/* The environment variable that gives the topology when the command line does not. */
#define HOST_ENV_TOPOLOGY_VAR "MM_HOST_TOPOLOGY"

/*
 * Starts from the defaults in *opt, takes the topology from MM_HOST_TOPOLOGY when it is set
 * and not empty, then takes --topology=SPEC, --memory=SIZE and --pcid=on|off (or each with
 * its value as the next word) out of argv, leaving every other argument in order for the
 * caller.
 * post: 0, or -1 with a message on stderr (a bad size, a missing value).
 */
int host_env_take_options(int *argc, char **argv, struct host_env_options *opt);

/* Lines that explain the options, for a program's --help; defaults as given. */
void host_env_print_usage(const struct host_env_options *defaults);

/* A size in bytes: digits with an optional K, M, G or T (powers of 1024), such as 2560M.
 * post: 0, or -1 for anything else, zero or more than 2^63. */
int host_env_parse_size(const char *text, uint64_t *out);

/* Sets up the simulated machine (host_machine_init) with the options' arena, topology and
 * PCID setting, then runs mm_phys_init() and mm_vm_init(). post: 0, or non-zero with a
 * message on stderr. */
int host_env_init(const struct host_env_options *opt);

/* One line that says what the machine runs, such as "synthetic: 2 nodes, 4 CPUs, distance 21,
 * 3072 MiB". pre: host_env_init succeeded. */
void host_env_describe(char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* TESTS_HOST_ENV_H */
