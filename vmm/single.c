/*
 * Single pages: mm_map_single, mm_map_get and mm_umap_single, thin calls over the
 * range API. A page is the mapping at an address, whatever its size: mm_map_get and
 * mm_umap_single agree on the address they return (a large page's first byte), and
 * mm_map_get's flags say the size (MM_FLG_PS, MM_FLG_PS1G).
 */
#include "region_tree.h"

#include <arch/x86_64/pt_walk.h>

#define SINGLE_FLAGS (MM_PAGE_USER | MM_PAGE_WRITE | MM_PAGE_EXEC)

int mm_map_single(mm_space_t space, uintptr_t virt, uintptr_t phys, uint64_t flags)
{
	int error = vmm_check_flags(flags, SINGLE_FLAGS);
	if (error != MM_OK)
		return mm_set_error(error);
	const uintptr_t pages[1] = {phys};
	return mm_map_range_pages(space, virt, pages, 1, (uint32_t)flags);
}

uintptr_t mm_map_get(mm_space_t space, uintptr_t virt, uint64_t *flags)
{
	uint32_t rflags = 0;
	uintptr_t phys = mm_translate(space, virt, &rflags);
	if (phys == MM_NADDR)
		return MM_NADDR;
	uintptr_t size = (uintptr_t)MM_PAGE_SIZE << size_flags_order(rflags);
	if (flags)
		*flags = rflags;
	return phys & ~(size - 1);
}

/*
 * Looks the leaf up and unmaps it in one hold of its shard, so that the address returned
 * is the one whose reference the caller receives, even if another CPU changes the page.
 */
uintptr_t mm_umap_single(mm_space_t space, uintptr_t virt, uint32_t size)
{
	if (!space || size > 1 || !va_is_canonical(virt)) {
		mm_set_error(MM_EINVAL);
		return MM_NADDR;
	}
	uintptr_t page = virt & ~(MM_PAGE_SIZE - 1);
	enum va_area area;
	/* The top page of the address space is the kernel image's: its end would wrap. */
	int error = page + MM_PAGE_SIZE == 0 ? MM_EPERM
	                                     : vmm_check_area(space, page, page + MM_PAGE_SIZE, &area);
	if (error != MM_OK) {
		mm_set_error(error);
		return MM_NADDR;
	}
	/* Taking part of a region away may split it: the spare is made before anything
	 * changes. */
	struct mm_region *spare = region_new(0, 0, 0, 0, REGION_ANON, NULL, 0);
	if (!spare) {
		mm_set_error(MM_ENOMEM);
		return MM_NADDR;
	}
	/* The zero page is shared by every space: the caller gets a zeroed frame of its own in
	 * its place, allocated with the lock dropped (an allocation may wait for other CPUs),
	 * after which the page is looked at again. */
	uintptr_t own_zero = MM_NADDR;
	struct mm_space *owner = area_owner(space, area);
	uintptr_t result = MM_NADDR;
	for (;;) {
		/* A leaf never spans two 1 GiB chunks: this shard guards the whole leaf. */
		vmm_range_lock_t held = vmm_lock_va(owner, page);
		int level;
		const pte_t *entry = pt_walk_leaf(owner->root, page, &level);
		pte_t e = entry ? __atomic_load_n(entry, __ATOMIC_RELAXED) : 0;
		uintptr_t base = entry ? pte_leaf_addr(e, level) : MM_NADDR;
		bool zero = entry && !(e & PTE_SW_MANAGED) && base == vmm_zero_page;
		if (!entry) {
			error = MM_ENOENT;
		} else if (size == 1 && level > 1) {
			error = MM_ESIZE;
		} else if (zero && own_zero == MM_NADDR) {
			vmm_unlock_range(owner, held);
			own_zero = mm_phys_alloc(1, MM_NODE_LOCAL, MM_FLG_ZERO);
			if (own_zero == MM_NADDR) {
				error = MM_ENOMEM;
				break;
			}
			continue;
		} else {
			uintptr_t span = pt_span(level);
			uintptr_t start = page & ~(span - 1);
			struct tlb_gather g;
			tlb_gather_init(&g, owner, start, start + span);
			/* keep_frames: the reference passes to the caller, as MM_FLG_NOPHYS. */
			error = vmm_unmap_range_locked(owner, start, start + span, true, &g, &spare);
			if (error == MM_OK)
				vmm_prune_pdpts(owner, start, start + span, &held, &g);
			vmm_unlock_range(owner, held);
			tlb_gather_finish(&g);
			if (error == MM_OK && zero) {
				result = own_zero;
				own_zero = MM_NADDR;
			} else if (error == MM_OK) {
				result = base;
			}
			break;
		}
		vmm_unlock_range(owner, held);
		break;
	}
	if (own_zero != MM_NADDR)
		mm_phys_free_page(own_zero);
	if (spare)
		region_free(spare);
	if (error != MM_OK) {
		mm_set_error(error);
		return MM_NADDR;
	}
	return result;
}
