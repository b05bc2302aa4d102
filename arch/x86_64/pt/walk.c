/* Walking x86_64 4-level page tables through the direct map. */
#include <arch/x86_64/pt_walk.h>

#include <stddef.h>

#include <arch/arch.h>

pte_t *pt_table(uint64_t phys)
{
	return (pte_t *)arch_phys_to_virt((uintptr_t)phys);
}

pte_t *pt_walk_leaf(uint64_t root_phys, uint64_t va, int *level)
{
	uint64_t table = root_phys;
	for (int l = PT_LEVELS;; l--) {
		pte_t *entry = &pt_table(table)[pt_index(va, l)];
		/* The MMU may set A/D bits concurrently: read the entry once. */
		pte_t e = __atomic_load_n(entry, __ATOMIC_RELAXED);
		*level = l;
		if (!pte_present(e))
			return NULL;
		if (pte_is_leaf(e, l))
			return entry;
		table = pte_addr(e);
	}
}

/* pt_walk_slot and pt_walk_slot_writable: one walk, W gathered when path_writable is given
 * (the compiler drops it from the walk that does not ask). */
static inline pte_t *walk_slot(uint64_t root_phys, uint64_t va, int *level, bool *path_writable)
{
	uint64_t table = root_phys;
	pte_t path = PTE_W;
	for (int l = PT_LEVELS;; l--) {
		pte_t *entry = &pt_table(table)[pt_index(va, l)];
		pte_t e = __atomic_load_n(entry, __ATOMIC_RELAXED);
		if (!pte_present(e) || pte_is_leaf(e, l) || l == 1) {
			*level = l;
			if (path_writable)
				*path_writable = path != 0;
			return entry;
		}
		path &= e;
		table = pte_addr(e);
	}
}

pte_t *pt_walk_slot(uint64_t root_phys, uint64_t va, int *level)
{
	return walk_slot(root_phys, va, level, NULL);
}

pte_t *pt_walk_slot_writable(uint64_t root_phys, uint64_t va, int *level, bool *path_writable)
{
	return walk_slot(root_phys, va, level, path_writable);
}
