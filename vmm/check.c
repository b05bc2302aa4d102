/* The invariant checker: page tables, present-entry counts and frame references agree. */
#include "region_tree.h"
#include "share.h"

#include <arch/x86_64/pt_walk.h>

#include "invariants.h"

/* Every present leaf lies in a region of the space (or of the kernel space). */
static int check_table(struct mm_space *space, uintptr_t table, int level, uintptr_t base,
                       uint64_t *pages, uint64_t *tables, bool shared)
{
	++*tables;
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
		uintptr_t va = base + (uintptr_t)i * pt_span(level);
		if (pte_is_leaf(e, level)) {
			*pages += pt_span(level) >> MM_PAGE_SHIFT;
			struct mm_region *r = region_find(space, va);
			if (!r || r->kind == REGION_GUARD || va + pt_span(level) > r->end)
				return MM_EINVAL;
			/* Copy-on-write entries are read-only; only private regions have them, and
			 * a table a fork shares maps private memory alone. */
			if ((e & PTE_SW_COW) && ((e & PTE_W) || !region_is_private(r)))
				return MM_EINVAL;
			if (shared && !region_is_private(r))
				return MM_EINVAL;
			if (e & PTE_SW_MANAGED) {
				const struct frame *f = frame_lookup(pte_leaf_addr(e, level));
				if (!f || f->refcount == 0)
					return MM_EINVAL;
				if (level == 1 && frame_state(f) != FRAME_ALLOCATED)
					return MM_EINVAL;
				if (level > 1 &&
				    (frame_state(f) != FRAME_HEAD || frame_order(f) != pt_order(level)))
					return MM_EINVAL;
			}
		} else {
			/* A leaf table a fork shares: no space writes through it (vmm/share.h). */
			bool child_shared = level == 2 && pt_is_shared(pte_addr(e));
			if (child_shared && (e & PTE_W))
				return MM_EINVAL;
			int error = check_table(space, pte_addr(e), level - 1, va, pages, tables, child_shared);
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
	uint64_t pages = 0, tables = 1; /* the root */
	vmm_range_lock_t held = vmm_lock_all(space);
	vmm_lock_regions(space);
	int error = MM_OK;
	uint32_t present = 0;
	if (space->is_kernel) {
		/* The kernel space has the kernel half alone (vmm_check_area refuses the rest): its
		 * user half and hardware window hold no table at all. */
		for (unsigned i = 0; i < KERNEL_PML4_FIRST && error == MM_OK; i++)
			if (pte_present(root[i]))
				error = MM_EINVAL;
		const struct mm_region *lowest = region_first_after(space, 0);
		if (error == MM_OK && lowest && lowest->start < MM_KERNEL_MAP_BASE)
			error = MM_EINVAL;
	} else {
		for (unsigned i = 0; i < KERNEL_PML4_FIRST && error == MM_OK; i++) {
			if (!pte_present(root[i]))
				continue;
			present++;
			uintptr_t base = (uintptr_t)i << 39;
			if (i >= 256)
				base |= 0xFFFF000000000000ull; /* sign-extended: the upper half */
			error =
			    check_table(space, pte_addr(root[i]), PT_LEVELS - 1, base, &pages, &tables, false);
		}
		if (error == MM_OK && (present != pt_frame(space->root)->table.pt_used ||
		                       pages != space->mapped_pages || tables != space->table_pages))
			error = MM_EINVAL;
		if (error == MM_OK && !region_check(space))
			error = MM_EINVAL;
	}
	vmm_unlock_regions(space);
	vmm_unlock_range(space, held);
	return error;
}
