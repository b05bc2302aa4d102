/*
 * The machine's CPUs and NUMA nodes, as the kernel learned them from firmware (the ACPI
 * MADT, SRAT and SLIT, read by kernel/). The backend only stores them: it answers the
 * contract's arch_node_count(), arch_node_distance() and arch_cpu_node() from here, and the
 * SMP bring-up finds in x86_topology_cpus() which local APIC IDs to start.
 *
 * Until x86_topology_set() runs the machine is one node (distance 10) with no CPU list.
 */
#ifndef ARCH_X86_64_TOPOLOGY_H
#define ARCH_X86_64_TOPOLOGY_H

#include <stdbool.h>
#include <stdint.h>

#include <arch/arch.h>

/* One processor the MADT lists (a Local APIC or Local x2APIC structure). */
struct x86_cpu_desc {
	uint32_t apic_id;    /* local APIC ID; the x2APIC ID for x2APIC structures */
	uint32_t acpi_uid;   /* ACPI processor UID */
	uint8_t node;        /* dense NUMA node, < the node count */
	bool enabled;        /* usable now: the ones to start */
	bool online_capable; /* disabled, but firmware says it may be enabled later */
	bool x2apic_entry;   /* listed by an x2APIC structure */
};

/*
 * The CPU list for the SMP bring-up.
 * Invariants: count <= ARCH_MAX_CPUS; apic IDs are distinct; bsp < count and cpu[bsp] is
 * the CPU that booted (enabled). Without a MADT the list holds the bootstrap CPU only.
 */
struct x86_cpu_list {
	unsigned count;
	unsigned bsp;
	uint64_t lapic_phys; /* local APIC registers per the MADT (0 without one) */
	bool from_madt;
	struct x86_cpu_desc cpu[ARCH_MAX_CPUS];
};

/*
 * The NUMA view the contract gives the memory manager.
 * Invariants: 1 <= node_count <= ARCH_MAX_NODES; distance[a][a] == 10 and
 * distance[a][b] >= 10 for a, b < node_count.
 */
struct x86_numa_topology {
	unsigned node_count;
	uint8_t distance[ARCH_MAX_NODES][ARCH_MAX_NODES];
};

/*
 * Installs what firmware said (both structures are copied) and gives the bootstrap CPU its
 * node: cpus->cpu[cpus->bsp].node.
 * pre: called once, on the bootstrap CPU, before mm_phys_init(): the frame allocator sizes
 *      its zones by arch_node_count() and fills the per-CPU caches by arch_cpu_node(), so
 *      neither may change afterwards. Both structures keep their invariants (checked: a
 *      broken one panics).
 */
void x86_topology_set(const struct x86_cpu_list *cpus, const struct x86_numa_topology *numa);

/* The CPU list (empty, count 0, before x86_topology_set). */
const struct x86_cpu_list *x86_topology_cpus(void);

/* The node of the CPU with this local APIC ID; 0 for an ID the list does not hold.
 * The SMP bring-up stores it in an AP's per-CPU data before the AP allocates memory. */
unsigned x86_topology_node_of_apic(uint32_t apic_id);

/* The calling CPU's initial APIC ID from CPUID (leaf 0xB where present, else leaf 1):
 * usable before its local APIC is set up. */
uint32_t x86_cpuid_apic_id(void);

#endif /* ARCH_X86_64_TOPOLOGY_H */
