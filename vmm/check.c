/* The invariant checker: page tables, present-entry counts and frame references agree. */
#include "space.h"

#include <arch/x86_64/pt_walk.h>

#include "vmm_internal.h"

static int check_table(uintptr_t table, int level, uint64_t *pages)
{
	const struct frame *tf = pt_frame(table);
	if (frame_state(tf) != FRAME_PAGETABLE)
		return MM_EINVAL;
	const pte_t *entries = pt_table(table);
	uint32_t present = 0;
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		pte_t e = entries[i];
		if (!pte_present(e))
			continue;
		present++;
		if (pte_is_leaf(e, level)) {
			*pages += pt_span(level) >> MM_PAGE_SHIFT;
			if (e & PTE_SW_MANAGED) {
				const struct frame *f = frame_lookup(pte_leaf_addr(e, level));
				if (!f || f->refcount == 0)
					return MM_EINVAL;
				if (level == 1 && frame_state(f) != FRAME_ALLOCATED)
					return MM_EINVAL;
				if (level > 1 && (frame_state(f) != FRAME_HEAD || frame_order(f) != 9u * (unsigned)(level - 1)))
					return MM_EINVAL;
			}
		} else {
			int error = check_table(pte_addr(e), level - 1, pages);
			if (error)
				return error;
		}
	}
	return present == tf->table.pt_used ? MM_OK : MM_EINVAL;
}

int vmm_check_space(struct mm_space *space)
{
	if (!space)
		return MM_EINVAL;
	struct mm_space *kernel = mm_kernel_space();
	const pte_t *root = pt_table(space->root);
	const pte_t *kroot = pt_table(kernel->root);
	for (unsigned i = KERNEL_PML4_FIRST; i < PT_ENTRIES; i++)
		if (root[i] != kroot[i])
			return MM_EINVAL;
	uint64_t pages = 0;
	arch_irq_state_t irq = spin_lock_irqsave(&space->lock);
	int error = MM_OK;
	uint32_t present = 0;
	if (!space->is_kernel) {
		for (unsigned i = 0; i < KERNEL_PML4_FIRST && error == MM_OK; i++) {
			if (!pte_present(root[i]))
				continue;
			present++;
			error = check_table(pte_addr(root[i]), PT_LEVELS - 1, &pages);
		}
		if (error == MM_OK && (present != pt_frame(space->root)->table.pt_used ||
		                       pages != space->mapped_pages))
			error = MM_EINVAL;
	}
	spin_unlock_irqrestore(&space->lock, irq);
	return error;
}
