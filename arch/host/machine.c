/*
 * The host's simulated machine: the topology it runs, the arena that plays physical memory
 * (split between the nodes, and bound to the real nodes when the topology is the real one),
 * and the contract's topology and time hooks.
 */
#include <arch/arch.h>
#include <arch/host/machine.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "host_internal.h"

uintptr_t host_arena_base;

static struct host_topology topology;
static struct host_ram_range ram[ARCH_MAX_NODES];
/* The topology is this machine's with several nodes: memory bound, CPU threads pinned. */
static bool bound;
static uint64_t cycles_per_second;

/* The first MiB of the arena stays unused, like a PC's real-mode area: frame 0 never
 * exists, so a zero physical address is always a bug. */
#define HOST_LOW_RESERVED (1ull << 20)

static uint64_t calibrate_tsc(void)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t c0 = arch_cycles();
	do {
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while ((t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec) < 20000000ll);
	uint64_t c1 = arch_cycles();
	int64_t ns = (t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec);
	return (uint64_t)((double)(c1 - c0) * 1e9 / (double)ns);
}

/* Node parts are multiples of this, so that a transparent huge page or a memory binding
 * never straddles two nodes.
 *
 * The parts are equal even when hwloc reports nodes of different sizes: the arena is a
 * small model whose size the user picks, and equal parts give a run the same layout on
 * every host and under a synthetic topology of the same shape, so that results compare.
 * A real node too small for its part is refused (check_parts_fit), not shrunk silently. */
#define HOST_NODE_ALIGN (2ull << 20)

size_t host_arena_split(uint64_t memory_bytes, unsigned nodes,
                        struct host_ram_range out[ARCH_MAX_NODES])
{
	if (nodes < 1 || nodes > ARCH_MAX_NODES)
		return 0;
	uint64_t part = (memory_bytes / nodes) & ~(HOST_NODE_ALIGN - 1);
	if (part < HOST_MIN_NODE_BYTES)
		return 0;
	for (unsigned node = 0; node < nodes; node++) {
		uint64_t base = node == 0 ? HOST_LOW_RESERVED : node * part;
		out[node] = (struct host_ram_range){base, (node + 1) * part - base, node};
	}
	return nodes;
}

/* Binding pays only where there is more than one node to keep apart; on one node it would
 * only take the scheduler's freedom away (and fail where mbind is not allowed). */
static bool should_bind(const struct host_topology *t)
{
	return t->hwloc && t->this_system && t->nodes > 1;
}

/* A bound node's part must fit in the node: pages past its memory would fail at first
 * touch (the kernel kills rather than fall back under MPOL_BIND). */
static int check_parts_fit(const struct host_topology *t, const struct host_ram_range *parts)
{
	for (unsigned node = 0; node < t->nodes; node++) {
		if (t->node_memory[node] == 0 || parts[node].size <= t->node_memory[node])
			continue;
		fprintf(stderr,
		        "host_machine_init: node %u's part of the arena (%llu MiB) is larger than "
		        "the node's memory (%llu MiB): give less memory\n",
		        node, (unsigned long long)(parts[node].size >> 20),
		        (unsigned long long)(t->node_memory[node] >> 20));
		return -1;
	}
	return 0;
}

/* Binds each node's part; node 0's with the unused first MiB, so that it is one range. */
static int bind_parts(const struct host_topology *t, uintptr_t base,
                      const struct host_ram_range *parts)
{
	for (unsigned node = 0; node < t->nodes; node++) {
		uint64_t start = node == 0 ? 0 : parts[node].base;
		uint64_t end = parts[node].base + parts[node].size;
		char err[160];
		void *at = (void *)(base + start);
		if (host_topology_bind_area(t, node, at, end - start, err, sizeof err) != 0) {
			/* The way out: a synthetic topology of the same shape is never bound. */
			fprintf(stderr, "host_machine_init: %s (try a synthetic --topology)\n", err);
			return -1;
		}
	}
	return 0;
}

int host_machine_init(const struct host_machine_config *config)
{
	if (!config || !config->topology) {
		fprintf(stderr, "host_machine_init: no configuration or no topology\n");
		return -1;
	}
	if (host_arena_base) {
		fprintf(stderr, "host_machine_init: called twice\n");
		return -1;
	}
	struct host_topology t;
	char err[256];
	if (host_topology_parse(config->topology, &t, err, sizeof err) != 0) {
		fprintf(stderr, "host_machine_init: topology '%s': %s\n", config->topology, err);
		return -1;
	}
	struct host_ram_range parts[ARCH_MAX_NODES];
	if (host_arena_split(config->memory_bytes, t.nodes, parts) == 0) {
		fprintf(stderr,
		        "host_machine_init: %llu bytes of memory do not give each of %u node%s "
		        "the %llu MiB it needs\n",
		        (unsigned long long)config->memory_bytes, t.nodes, t.nodes == 1 ? "" : "s",
		        HOST_MIN_NODE_BYTES >> 20);
		host_topology_release(&t);
		return -1;
	}
	bool bind = should_bind(&t);
	if (bind && check_parts_fit(&t, parts) != 0) {
		host_topology_release(&t);
		return -1;
	}

	uint64_t bytes = parts[t.nodes - 1].base + parts[t.nodes - 1].size;
	/* NORESERVE: the arena costs only what is touched, as physical memory would. Aligned
	 * to 2 MiB and backed by transparent huge pages where the host allows, so that first
	 * touches and the host's own TLB cost little beside what is being measured. */
	const uint64_t align = HOST_NODE_ALIGN;
	void *arena = mmap(NULL, bytes + align, PROT_READ | PROT_WRITE,
	                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (arena == MAP_FAILED) {
		perror("host_machine_init: mmap");
		host_topology_release(&t);
		return -1;
	}
	uintptr_t base = ((uintptr_t)arena + align - 1) & ~(uintptr_t)(align - 1);
	/* Bound before anything touches the arena: a page is placed at its first touch. */
	if (bind && bind_parts(&t, base, parts) != 0) {
		munmap(arena, bytes + align);
		host_topology_release(&t);
		return -1;
	}
	madvise((void *)base, bytes, MADV_HUGEPAGE);
	topology = t;
	for (unsigned node = 0; node < t.nodes; node++)
		ram[node] = parts[node];
	bound = bind;
	host_arena_base = base;
	cycles_per_second = calibrate_tsc();
	return 0;
}

size_t host_machine_ram(struct host_ram_range *out, size_t max)
{
	size_t n = 0;
	for (; n < topology.nodes && n < max; n++)
		out[n] = ram[n];
	return n;
}

const struct host_topology *host_machine_topology(void)
{
	return &topology;
}

void host_machine_cpu_online(unsigned cpu)
{
	if (!bound)
		return;
	char err[160];
	if (host_topology_pin_thread(&topology, cpu, err, sizeof err) != 0) {
		/* Going on would run this CPU's work on the wrong node without a word. */
		fprintf(stderr, "host: %s\n", err);
		abort();
	}
}

unsigned arch_cpu_count(void)
{
	return topology.cpus ? topology.cpus : 1;
}

unsigned arch_node_count(void)
{
	return topology.nodes ? topology.nodes : 1;
}

unsigned arch_cpu_node(unsigned cpu)
{
	return cpu < topology.cpus ? topology.cpu_node[cpu] : 0;
}

unsigned arch_node_distance(unsigned a, unsigned b)
{
	/* Outside the contract (or before host_machine_init): the platform knows nothing. */
	if (a >= topology.nodes || b >= topology.nodes)
		return a == b ? HOST_DISTANCE_LOCAL : 20;
	return topology.distance[a][b];
}

uint64_t arch_cycles(void)
{
	return __builtin_ia32_rdtsc();
}

uint64_t arch_cycles_per_second(void)
{
	return cycles_per_second;
}
