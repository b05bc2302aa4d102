/*
 * The machine's topology at boot: ACPI tables (acpi.h) to the CPU list (madt.h) and the
 * NUMA nodes (numa.h), installed in the backend (<arch/x86_64/topology.h>); the RAM for
 * the frame allocator split by node; the boot banner's lines about both.
 */
#ifndef KERNEL_BOOT_TOPOLOGY_H
#define KERNEL_BOOT_TOPOLOGY_H

#include <stddef.h>

#include <mm/phys.h>

#include "kernel/memmap.h"
#include "kernel/multiboot.h"
#include "kernel/numa.h"

/* Pieces of RAM the frame allocator may get: the map's ranges, each cut at up to two
 * boundaries per SRAT memory entry. */
#define TOPOLOGY_RANGES_MAX (RANGE_LIST_MAX + 2 * NUMA_MEM_MAX)

/*
 * Reads the MADT, SRAT and SLIT (whatever of them the machine has) and installs the result
 * with x86_topology_set(), which also gives the bootstrap CPU its node. Broken tables are
 * warned about and replaced by the defaults: one node, distance 10, the bootstrap CPU only.
 * pre: the direct map is built and bootmem is open (table pages get mapped); before
 *      mm_phys_init().
 */
void topology_init(const struct boot_info *bi);

/* What topology_init learned from the SRAT and SLIT (one node before it). */
const struct numa_info *topology_numa(void);

/*
 * Splits ram by node (numa_split) into the ranges for mm_phys_init(), kept for later
 * checks (topology_phys_ranges). Panics when there are more than TOPOLOGY_RANGES_MAX.
 */
const struct mm_phys_range *topology_split_ram(const struct range_list *ram, size_t *count);

/* The last topology_split_ram() result. */
const struct mm_phys_range *topology_phys_ranges(size_t *count);

/* The banner: where the tables are, then one line per node (usable RAM of ram on it, its
 * enabled CPUs) and the distance matrix. */
void topology_print(const struct range_list *ram);

#endif /* KERNEL_BOOT_TOPOLOGY_H */
