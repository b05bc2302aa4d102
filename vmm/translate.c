/* Queries: what a virtual address translates to, with its attributes. */
#include "space.h"

#include <arch/x86_64/pt_walk.h>

uintptr_t mm_translate(mm_space_t space, uintptr_t vaddr, uint32_t *rflags)
{
	if (!space || !va_is_canonical(vaddr)) {
		mm_set_error(MM_EINVAL);
		return MM_NADDR;
	}
	int level;
	bool path_writable;
	/* Under the shard of the tables' owner: an unmap there frees tables, and this walk is
	 * not in any TLB shootdown that would hold the free back. */
	struct mm_space *owner = vaddr >= MM_KERNEL_BASE ? mm_kernel_space() : space;
	vmm_range_lock_t held = vmm_lock_va(owner, vaddr);
	const pte_t *slot = pt_walk_slot_writable(space->root, vaddr, &level, &path_writable);
	pte_t e = __atomic_load_n(slot, __ATOMIC_RELAXED);
	vmm_unlock_va(owner, held);
	if (!pte_present(e)) {
		mm_set_error(MM_ENOENT);
		return MM_NADDR;
	}
	uint64_t phys = pte_leaf_addr(e, level) + (vaddr & (pt_span(level) - 1));
	/* What the MMU allows: W in every level (a leaf table a fork shares is behind a
	 * page-directory entry without it). */
	if (!path_writable)
		e &= ~(pte_t)PTE_W;
	if (rflags) {
		uint32_t f = 0;
		if (e & PTE_W)
			f |= MM_FLG_WR;
		if (e & PTE_U)
			f |= MM_FLG_US;
		if (!(e & PTE_NX))
			f |= MM_FLG_EXEC;
		if (e & PTE_PCD)
			f |= MM_FLG_DMA;
		/* MM_FLG_PS says "not 4 KiB", so a 1 GiB page has both. */
		*rflags = f | size_flags_of_order(pt_order(level));
	}
	return (uintptr_t)phys;
}
