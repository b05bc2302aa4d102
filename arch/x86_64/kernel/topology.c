/* The stored CPU and NUMA topology, and the contract's node queries answered from it. */
#include <arch/x86_64/topology.h>

#include <arch/x86_64/cpu.h>
#include <arch/x86_64/features.h>
#include <arch/x86_64/percpu.h>
#include <lib/assert.h>

#define LOCAL_DISTANCE 10
#define REMOTE_DISTANCE 20

static struct x86_cpu_list cpus;
static struct x86_numa_topology numa = {.node_count = 1, .distance = {{LOCAL_DISTANCE}}};

static bool numa_valid(const struct x86_numa_topology *t)
{
	if (t->node_count < 1 || t->node_count > ARCH_MAX_NODES)
		return false;
	for (unsigned a = 0; a < t->node_count; a++)
		for (unsigned b = 0; b < t->node_count; b++)
			if (a == b ? t->distance[a][b] != LOCAL_DISTANCE : t->distance[a][b] < LOCAL_DISTANCE)
				return false;
	return true;
}

static bool cpus_valid(const struct x86_cpu_list *l, unsigned node_count)
{
	if (l->count > ARCH_MAX_CPUS || l->bsp >= l->count || !l->cpu[l->bsp].enabled)
		return false;
	for (unsigned i = 0; i < l->count; i++) {
		if (l->cpu[i].node >= node_count)
			return false;
		for (unsigned j = 0; j < i; j++)
			if (l->cpu[i].apic_id == l->cpu[j].apic_id)
				return false;
	}
	return true;
}

void x86_topology_set(const struct x86_cpu_list *c, const struct x86_numa_topology *n)
{
	MM_CHECK(numa_valid(n));
	MM_CHECK(cpus_valid(c, n->node_count));
	numa = *n;
	cpus = *c;
	x86_this_cpu()->node = cpus.cpu[cpus.bsp].node;
}

const struct x86_cpu_list *x86_topology_cpus(void)
{
	return &cpus;
}

unsigned x86_topology_node_of_apic(uint32_t apic_id)
{
	for (unsigned i = 0; i < cpus.count; i++)
		if (cpus.cpu[i].apic_id == apic_id)
			return cpus.cpu[i].node;
	return 0;
}

uint32_t x86_cpuid_apic_id(void)
{
	/* Leaf 0xB reports the full 32-bit x2APIC ID in EDX; a zero EBX means the leaf is not
	 * really implemented. Leaf 1 has only the low 8 bits. */
	if (x86_features.max_leaf >= 0xB) {
		struct x86_cpuid r = x86_cpuid(0xB, 0);
		if (r.ebx & 0xFFFF)
			return r.edx;
	}
	return x86_cpuid(1, 0).ebx >> 24;
}

unsigned arch_cpu_node(unsigned cpu)
{
	return x86_percpu[cpu].node;
}

unsigned arch_node_count(void)
{
	return numa.node_count;
}

unsigned arch_node_distance(unsigned a, unsigned b)
{
	MM_ASSERT(a < numa.node_count && b < numa.node_count);
	if (a >= ARCH_MAX_NODES || b >= ARCH_MAX_NODES)
		return a == b ? LOCAL_DISTANCE : REMOTE_DISTANCE;
	return numa.distance[a][b];
}
