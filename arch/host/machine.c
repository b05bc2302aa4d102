/* The host's simulated machine: the arena that plays physical memory, and its topology. */
#include <arch/arch.h>
#include <arch/host/machine.h>

#include <stdio.h>
#include <sys/mman.h>
#include <time.h>

#include "host_internal.h"

uintptr_t host_arena_base;

static struct host_machine_config machine;
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

int host_machine_init(const struct host_machine_config *config)
{
	if (!config || config->nodes == 0 || config->nodes > ARCH_MAX_NODES || config->cpus == 0 ||
	    config->cpus > ARCH_MAX_CPUS || config->memory_bytes < (4ull << 20) * config->nodes) {
		fprintf(stderr, "host_machine_init: bad configuration\n");
		return -1;
	}
	if (host_arena_base) {
		fprintf(stderr, "host_machine_init: called twice\n");
		return -1;
	}
	uint64_t bytes = HOST_LOW_RESERVED + config->memory_bytes;
	/* NORESERVE: the arena costs only what is touched, as physical memory would. Aligned
	 * to 2 MiB and backed by transparent huge pages where the host allows, so that first
	 * touches and the host's own TLB cost little beside what is being measured. */
	const uint64_t align = 2ull << 20;
	void *arena = mmap(NULL, bytes + align, PROT_READ | PROT_WRITE,
	                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (arena == MAP_FAILED) {
		perror("host_machine_init: mmap");
		return -1;
	}
	uintptr_t base = ((uintptr_t)arena + align - 1) & ~(uintptr_t)(align - 1);
	madvise((void *)base, bytes, MADV_HUGEPAGE);
	host_arena_base = base;
	machine = *config;
	cycles_per_second = calibrate_tsc();
	return 0;
}

size_t host_machine_ram(struct host_ram_range *out, size_t max)
{
	uint64_t per_node = (machine.memory_bytes / machine.nodes) & ~0xFFFull;
	size_t n = 0;
	for (unsigned node = 0; node < machine.nodes && n < max; node++, n++) {
		out[n].base = HOST_LOW_RESERVED + node * per_node;
		out[n].size = per_node;
		out[n].node = node;
	}
	return n;
}

unsigned arch_cpu_count(void)
{
	return machine.cpus ? machine.cpus : 1;
}

unsigned arch_node_count(void)
{
	return machine.nodes ? machine.nodes : 1;
}

unsigned arch_cpu_node(unsigned cpu)
{
	return cpu * arch_node_count() / arch_cpu_count();
}

uint64_t arch_cycles(void)
{
	return __builtin_ia32_rdtsc();
}

uint64_t arch_cycles_per_second(void)
{
	return cycles_per_second;
}

unsigned arch_node_distance(unsigned a, unsigned b)
{
	return a == b ? 10 : 20;
}
