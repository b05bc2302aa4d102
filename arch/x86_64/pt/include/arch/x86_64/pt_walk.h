/*
 * Walking 4-level page tables that live in memory reached through the direct map
 * (arch_phys_to_virt). Pure C, used by both builds.
 */
#ifndef ARCH_X86_64_PT_WALK_H
#define ARCH_X86_64_PT_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include <arch/x86_64/pte.h>

/* The table at physical address phys, as an array of 512 entries. */
pte_t *pt_table(uint64_t phys);

/*
 * Finds the leaf entry translating va under the PML4 at root_phys.
 * post: returns a pointer to the leaf entry and its level (1, 2 or 3) in *level, or NULL
 *       when some level is not present (then *level is the level of the missing entry).
 */
pte_t *pt_walk_leaf(uint64_t root_phys, uint64_t va, int *level);

/*
 * The walk a fault takes: the entry for va at the deepest level there is, present (a leaf,
 * at *level 1, 2 or 3) or not (the empty slot at *level: at level 1 the page table exists
 * and the slot is where the page's entry goes). Never NULL.
 */
pte_t *pt_walk_slot(uint64_t root_phys, uint64_t va, int *level);

/* pt_walk_slot, and *path_writable says whether every entry above the slot allows writes
 * (the MMU ANDs W over the levels). */
pte_t *pt_walk_slot_writable(uint64_t root_phys, uint64_t va, int *level, bool *path_writable);

#endif /* ARCH_X86_64_PT_WALK_H */
