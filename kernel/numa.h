/*
 * NUMA topology from the ACPI SRAT (which memory and which CPUs belong to which proximity
 * domain) and SLIT (distances between domains), turned into dense node numbers
 * 0..node_count-1, and the usable RAM split by node for the frame allocator.
 *
 * Proximity domains are numbered by firmware, sparsely; nodes are dense: the domains in
 * increasing order get nodes 0, 1, ... Past ARCH_MAX_NODES domains, domain number i (in
 * that order) folds onto node i % ARCH_MAX_NODES, with a warning; a folded node's distances
 * are those of the first domain it stands for. Without an SRAT (or with a broken one) the
 * machine is one node. RAM no SRAT entry covers belongs to node 0.
 */
#ifndef KERNEL_NUMA_H
#define KERNEL_NUMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <arch/x86_64/topology.h>
#include <mm/phys.h>

#include "kernel/acpi_tables.h"
#include "kernel/fw_warn.h"
#include "kernel/memmap.h"

#define NUMA_MEM_MAX 64            /* SRAT memory entries kept */
#define NUMA_CPU_MAX ARCH_MAX_CPUS /* SRAT processor entries kept */
#define NUMA_DOMAIN_MAX 64         /* distinct proximity domains told apart */
#define NUMA_LOCAL_DISTANCE 10
#define NUMA_REMOTE_DISTANCE 20

/* An enabled, non-empty SRAT memory range [base, end) (the hot-pluggable flag is ignored). */
struct numa_mem {
	uint64_t base, end;
	uint32_t domain;
	unsigned node;
};

/* An enabled SRAT processor entry (Local APIC or Local x2APIC affinity). */
struct numa_cpu {
	uint32_t apic_id;
	uint32_t domain;
	unsigned node;
};

/*
 * Invariants: 1 <= node_count <= ARCH_MAX_NODES; every mem[].node and cpu[].node is below
 * node_count; domain[0..domain_count) is strictly increasing; distance[a][a] == 10 and
 * distance[a][b] >= 10 below node_count. mem[] keeps the table's order: where two entries
 * overlap, the first one's node wins (numa_node_of_addr).
 */
struct numa_info {
	bool from_srat; /* nodes, memory and CPUs come from an SRAT */
	bool from_slit; /* distances come from a SLIT (else 10 / 20) */
	bool folded;    /* more domains than ARCH_MAX_NODES */
	unsigned node_count;
	uint32_t node_domain[ARCH_MAX_NODES]; /* the first domain each node stands for */
	size_t domain_count;
	uint32_t domain[NUMA_DOMAIN_MAX];
	size_t mem_count;
	struct numa_mem mem[NUMA_MEM_MAX];
	size_t cpu_count;
	struct numa_cpu cpu[NUMA_CPU_MAX];
	uint8_t distance[ARCH_MAX_NODES][ARCH_MAX_NODES];
};

/* One node (domain 0), no ranges, no CPUs, distance 10. */
void numa_single(struct numa_info *info);

/*
 * Reads the SRAT srat (a checked table) into info: processor affinity (both structure
 * types, enabled ones only), memory affinity (enabled, non-empty), domains to nodes;
 * distances 10 / 20 until numa_parse_slit. Before SRAT revision 2 only the low 8 bits of a
 * domain count, as the specification says.
 * post: true; or false, with a warning and info describing one node, when the table is
 * malformed or names no domain.
 */
bool numa_parse_srat(const struct acpi_header *srat, struct numa_info *info, struct fw_warnings *w);

/*
 * Sets info's distances from the SLIT slit (a checked table, or NULL): distance[a][b] is
 * the SLIT's entry for the domains nodes a and b stand for.
 * pre: info came from numa_parse_srat or numa_single.
 * post: true when the SLIT was used. false, with distances 10 on the diagonal and 20
 *       elsewhere, when there is no SLIT, info is a single node, or (with a warning) the
 *       SLIT is malformed: a diagonal entry other than 10, an entry below 10, or too few
 *       localities for info's domains.
 */
bool numa_parse_slit(const struct acpi_header *slit, struct numa_info *info, struct fw_warnings *w);

/* The node the memory at addr belongs to: the first SRAT range holding it, else 0. */
unsigned numa_node_of_addr(const struct numa_info *info, uint64_t addr);

/* The node of the CPU with this APIC ID: its SRAT processor entry, else 0. */
unsigned numa_node_of_apic(const struct numa_info *info, uint32_t apic_id);

/* Sets every CPU's node in l (numa_node_of_apic). */
void numa_assign_cpus(const struct numa_info *info, struct x86_cpu_list *l);

/* The view the contract gives: node count and distances. */
void numa_topology(const struct numa_info *info, struct x86_numa_topology *out);

/*
 * Cuts every range of ram where the node changes (numa_node_of_addr) and writes the pieces
 * to out[0..*count), in address order, neighbours of the same node within one range of ram
 * merged. post: false when more than cap pieces would be needed (out then holds the
 * first cap).
 */
bool numa_split(const struct numa_info *info, const struct range_list *ram,
                struct mm_phys_range *out, size_t cap, size_t *count);

#endif /* KERNEL_NUMA_H */
