/*
 * Starting the memory manager on the host's simulated machine: shared by the host test
 * program and the host benchmarks.
 */
#ifndef TESTS_HOST_ENV_H
#define TESTS_HOST_ENV_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Sets up an arena of memory_bytes split over `nodes`, with `cpus` CPUs, then runs
 * mm_phys_init() and mm_vm_init(). post: 0, or non-zero with a message on stderr. */
int host_env_init(uint64_t memory_bytes, unsigned nodes, unsigned cpus);

#ifdef __cplusplus
}
#endif

#endif /* TESTS_HOST_ENV_H */
