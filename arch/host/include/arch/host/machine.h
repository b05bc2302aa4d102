/*
 * Setting up the simulated machine of the host build: its physical memory (an arena split
 * into NUMA nodes), its CPUs (threads) and the counters that stand in for TLB hardware.
 * Used by host test and benchmark mains, never by generic code.
 */
#ifndef ARCH_HOST_MACHINE_H
#define ARCH_HOST_MACHINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct host_machine_config {
	uint64_t memory_bytes; /* size of the arena, split evenly between nodes */
	unsigned nodes;        /* NUMA nodes, 1..ARCH_MAX_NODES */
	unsigned cpus;         /* CPUs, 1..ARCH_MAX_CPUS; CPU i is on node i * nodes / cpus */
};

/* A usable RAM range of the arena, in the arena's physical addresses. */
struct host_ram_range {
	uint64_t base, size;
	unsigned node;
};

/*
 * Maps the arena (reserved without backing until touched) and records the topology.
 * Physical address 0..1 MiB is kept out of the usable ranges, as on a PC, so that
 * address 0 is never a valid frame.
 * post: 0, or -1 with a message on stderr (bad config, mmap failed). Called once.
 */
int host_machine_init(const struct host_machine_config *config);

/* post: the usable RAM ranges (one per node), at most max written; returns how many. */
size_t host_machine_ram(struct host_ram_range *out, size_t max);

/* The calling thread stops being a CPU; its index may be given to a later thread. */
void host_cpu_unregister(void);

/* What the TLB hooks were asked to do, summed over every CPU since start-up. */
struct host_tlb_counters {
	uint64_t flush_page, flush_pcid, flush_all, space_loads, ipis_sent, ipis_handled;
};
void host_tlb_counters(struct host_tlb_counters *out);

#ifdef __cplusplus
}
#endif

#endif /* ARCH_HOST_MACHINE_H */
