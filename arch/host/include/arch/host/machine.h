/*
 * Setting up the simulated machine of the host build: its topology (NUMA nodes, CPUs,
 * distances: the real machine's through hwloc, or a synthetic one), its physical memory (an
 * arena split between the nodes), its CPUs (threads) and the counters that stand in for TLB
 * hardware. Used by host test and benchmark mains and host-only tests, never by generic code.
 */
#ifndef ARCH_HOST_MACHINE_H
#define ARCH_HOST_MACHINE_H

#include <arch/arch.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* hwloc's handles (hwloc_topology_t, hwloc_bitmap_t), named without <hwloc.h> so that users
 * of this header need not see hwloc. */
struct hwloc_topology;
struct hwloc_bitmap_s;

/* ---- Topology ------------------------------------------------------------------------ */

/* The smallest and the largest distance a topology may give (ACPI SLIT: 10 is local). */
#define HOST_DISTANCE_LOCAL 10u
#define HOST_DISTANCE_MAX 255u

/*
 * The shape of the simulated machine. CPU indexes are dense and grouped by node (the CPUs of
 * node 0 first). A topology read through hwloc also keeps what binding needs; a synthetic
 * one has hwloc == NULL and is never bound to anything.
 */
struct host_topology {
	unsigned nodes;                                    /* 1..ARCH_MAX_NODES */
	unsigned cpus;                                     /* 1..ARCH_MAX_CPUS */
	unsigned cpu_node[ARCH_MAX_CPUS];                  /* node of each CPU */
	unsigned distance[ARCH_MAX_NODES][ARCH_MAX_NODES]; /* SLIT-style, 10 on the diagonal */

	/* Read through hwloc only: */
	struct hwloc_topology *hwloc;
	bool this_system;                               /* hwloc read this machine, not a text */
	struct hwloc_bitmap_s *nodeset[ARCH_MAX_NODES]; /* the node's memory */
	struct hwloc_bitmap_s *cpuset[ARCH_MAX_NODES];  /* every PU of the node */
	uint64_t node_memory[ARCH_MAX_NODES];           /* bytes the node has */
	unsigned cpu_pu[ARCH_MAX_CPUS];                 /* OS index of each CPU's PU */
};

/*
 * Builds a topology from a spec: "hwloc" (this machine, read through hwloc) or a synthetic
 * list of key=value pairs separated by commas, in any order, each optional:
 *   nodes=N     NUMA nodes, 1..ARCH_MAX_NODES (default 1)
 *   cpus=N      CPUs, nodes..ARCH_MAX_CPUS, spread evenly in node order (default 8)
 *   distance=D  the distance between any two different nodes, 10..255 (default 20)
 * post: 0 with *out filled (release it with host_topology_release), or -1 with a sentence
 * in err (out is then left with nothing to release).
 */
int host_topology_parse(const char *spec, struct host_topology *out, char *err, size_t errlen);

/*
 * Reads a topology through hwloc: this machine when description is NULL, otherwise an hwloc
 * XML export (text starting with '<') or an hwloc synthetic description ("node:2 pu:4"),
 * which let tests build multi-node hwloc topologies on any host. Only this machine's
 * topology is ever bound (this_system). More PUs than ARCH_MAX_CPUS are taken round-robin
 * over the nodes, so that every node keeps CPUs. Distances come from the OS's latency
 * matrix when it has one and it reads as a SLIT (10 on the diagonal), else 10 and 20.
 * post: as host_topology_parse.
 */
int host_topology_load_hwloc(const char *description, struct host_topology *out, char *err,
                             size_t errlen);

/* Frees what the topology holds (the hwloc handles); synthetic ones hold nothing. */
void host_topology_release(struct host_topology *t);

/* One line for reports, such as "synthetic: 2 nodes, 8 CPUs, distance 21" or
 * "hwloc: 1 node, 2 CPUs". */
void host_topology_describe(const struct host_topology *t, char *buf, size_t len);

/* ---- Binding to the real machine (topologies with this_system only) ------------------ */

/* Binds [addr, addr + len) (page-aligned) to the memory of node `node`.
 * post: 0, or -1 with a sentence in err. */
int host_topology_bind_area(const struct host_topology *t, unsigned node, void *addr, size_t len,
                            char *err, size_t errlen);

/* Pins the calling thread to the PU of CPU `cpu`. post: 0, or -1 with a sentence in err. */
int host_topology_pin_thread(const struct host_topology *t, unsigned cpu, char *err, size_t errlen);

/* ---- The machine --------------------------------------------------------------------- */

struct host_machine_config {
	uint64_t memory_bytes; /* size of the arena, split evenly between the nodes */
	const char *topology;  /* a spec for host_topology_parse: "hwloc", "nodes=2,cpus=8" */
};

/* A usable RAM range of the arena, in the arena's physical addresses. */
struct host_ram_range {
	uint64_t base, size;
	unsigned node;
};

/* Each node's part of the arena must be at least this large. */
#define HOST_MIN_NODE_BYTES (4ull << 20)

/*
 * How an arena of memory_bytes is split between `nodes`: equal parts of a multiple of
 * 2 MiB (so that no huge page and no memory binding straddles two nodes), node k's at
 * k * part; node 0's starts after the first MiB, which is never RAM (frame 0 must not
 * exist, as on a PC). What does not divide evenly is left out.
 * post: the number of ranges written to out (one per node), or 0 when a part would be
 * smaller than HOST_MIN_NODE_BYTES or nodes is outside 1..ARCH_MAX_NODES.
 */
size_t host_arena_split(uint64_t memory_bytes, unsigned nodes,
                        struct host_ram_range out[ARCH_MAX_NODES]);

/*
 * Builds the topology, maps the arena (reserved without backing until touched) and splits
 * it between the nodes. When the topology is this machine's and has several nodes, each
 * node's part is bound to that node's memory, and every thread that becomes a CPU is
 * pinned to its CPU's PU, so that the simulated nodes are the real ones.
 * post: 0, or -1 with a message on stderr (bad config or topology, mmap or binding failed).
 * Called once.
 */
int host_machine_init(const struct host_machine_config *config);

/* post: the usable RAM ranges (one per node), at most max written; returns how many. */
size_t host_machine_ram(struct host_ram_range *out, size_t max);

/* pre: host_machine_init succeeded. post: the topology the machine runs. */
const struct host_topology *host_machine_topology(void);

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
