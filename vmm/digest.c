/*
 * A fingerprint of a space's state, for tests that prove a failed call changed nothing: every
 * page-table entry it owns, its regions, and its counters, hashed in address order.
 */
#include "region_tree.h"

#include <arch/x86_64/pt_walk.h>

#include "invariants.h"

/* FNV-1a over 64-bit words: cheap, order-sensitive, and the same on every platform. */
static uint64_t mix(uint64_t hash, uint64_t word)
{
	for (int i = 0; i < 8; i++) {
		hash ^= (word >> (8 * i)) & 0xFF;
		hash *= 0x100000001B3ull;
	}
	return hash;
}

/* Accessed and dirty bits are the CPU's to set on any access (even a failed call's read):
 * they are left out, everything else of an entry counts. */
#define DIGEST_IGNORED (PTE_A | PTE_D)

static uint64_t digest_table(uint64_t hash, uintptr_t table, int level, unsigned first,
                             unsigned last)
{
	const pte_t *entries = pt_table(table);
	for (unsigned i = first; i <= last; i++) {
		pte_t e = entries[i];
		if (!pte_present(e))
			continue;
		hash = mix(mix(hash, ((uint64_t)level << 16) | i), e & ~DIGEST_IGNORED);
		if (!pte_is_leaf(e, level))
			hash = digest_table(hash, pte_addr(e), level - 1, 0, PT_ENTRIES - 1);
	}
	return hash;
}

uint64_t vmm_space_digest(struct mm_space *space)
{
	uint64_t hash = 0xCBF29CE484222325ull;
	vmm_range_lock_t held = vmm_lock_all(space);
	if (space->is_kernel) {
		/* The kernel mapping area: the top PML4 entry's PDPT, below the kernel image. The
		 * PML4 entries themselves never change after mm_vm_init. */
		const pte_t *root = pt_table(space->root);
		unsigned top = pt_index(MM_KERNEL_MAP_BASE, PT_LEVELS);
		unsigned first = pt_index(MM_KERNEL_MAP_BASE, PT_LEVELS - 1);
		unsigned last = pt_index(MM_KERNEL_MAP_END - 1, PT_LEVELS - 1);
		hash = digest_table(hash, pte_addr(root[top]), PT_LEVELS - 1, first, last);
		/* And the rest, which must stay empty. */
		hash = digest_table(hash, space->root, PT_LEVELS, 0, KERNEL_PML4_FIRST - 1);
	} else {
		hash = digest_table(hash, space->root, PT_LEVELS, 0, KERNEL_PML4_FIRST - 1);
	}
	vmm_lock_regions(space);
	for (struct mm_region *r = region_first_after(space, 0); r; r = region_next(r)) {
		hash = mix(mix(mix(hash, r->start), r->end), r->offset);
		hash = mix(mix(hash, ((uint64_t)r->flags << 32) | ((uint64_t)r->section << 8) | r->kind),
		           (uintptr_t)r->pager);
	}
	hash = mix(mix(hash, space->heap_base), space->heap_end);
	vmm_unlock_regions(space);
	hash = mix(hash, __atomic_load_n(&space->mapped_pages, __ATOMIC_RELAXED));
	hash = mix(hash, __atomic_load_n(&space->table_pages, __ATOMIC_RELAXED));
	vmm_unlock_range(space, held);
	return hash;
}
