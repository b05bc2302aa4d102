/*
 * The fault handler: demand paging inside regions, copy-on-write, and the verdict for
 * everything else.
 *
 * A fault looks its region up and walks the tables once, holding the page's shard lock.
 * What needs no new frame is settled there and then: a present page (copy-on-write break,
 * a spurious fault), a read that maps the shared zero page. A fault that needs a frame
 * drops the lock to get it (zeroing or a pager's read is the slow part, and faults on other
 * pages of the chunk must not wait for it), then takes it again and installs the entry only
 * if no region changed meanwhile (space->seq) and no other CPU installed one: two CPUs
 * faulting on one page both return MM_OK with one frame mapped.
 */
#include "region_tree.h"
#include "share.h"

#include <arch/x86_64/pt_walk.h>
#include <lib/string.h>

#define FAULT_ACCESS_ALL (MM_FAULT_WRITE | MM_FAULT_EXEC | MM_FAULT_USER | MM_FAULT_PRESENT)

/* What the region allows, against what the access wants. */
static int check_access(const struct mm_region *r, uint32_t access)
{
	if ((access & MM_FAULT_WRITE) && !(r->flags & MM_FLG_WR))
		return MM_EPERM;
	if ((access & MM_FAULT_EXEC) && !(r->flags & MM_FLG_EXEC))
		return MM_EPERM;
	if ((access & MM_FAULT_USER) && !(r->flags & MM_FLG_US))
		return MM_EPERM;
	return MM_OK;
}

/* The entry bits of region r's pages in area (no address, no software bits). */
static pte_t region_bits(const struct mm_region *r, enum va_area area)
{
	return vmm_leaf_bits(r->flags & (MM_FLG_WR | MM_FLG_US | MM_FLG_EXEC | MM_FLG_DMA), area);
}

/* A read of anonymous memory never written maps the shared zero page, read-only, copied on
 * the first write. It holds no reference (not managed). */
static pte_t zero_page_entry(const struct mm_region *r, enum va_area area)
{
	bool cow = region_is_private(r) && (r->flags & MM_FLG_WR);
	return pte_make(vmm_zero_page, (region_bits(r, area) & ~PTE_W) | (cow ? PTE_SW_COW : 0));
}

/* What a fault on a not-present page maps, decided with the lock dropped. */
struct new_page {
	uintptr_t frame; /* MM_NADDR: none */
	pte_t bits;      /* flags of the entry (no address) */
};

/* Whether a fault with this access on a not-present page of r maps the zero page. Populating
 * gives every page a frame of its own, read-only regions too: a loader may fill them through
 * the direct map, which must never reach the zero page. */
static bool maps_zero_page(const struct mm_region *r, uint32_t access)
{
	return r->kind == REGION_ANON && !(access & (MM_FAULT_WRITE | VMM_FAULT_POPULATE));
}

/* The page for a fault that does not map the zero page. */
static int get_page(const struct mm_region *r, uintptr_t va, uint32_t access, enum va_area area,
                    struct new_page *out)
{
	pte_t bits = region_bits(r, area);
	bool write = (access & MM_FAULT_WRITE) != 0;
	bool cow = region_is_private(r) && (r->flags & MM_FLG_WR);
	if (r->kind == REGION_ANON) {
		/* A zeroed frame of this CPU's node: one a table left zeroed needs no zeroing. */
		uint64_t pfn;
		out->frame = pmm_alloc_zeroed_frames(&pfn, 1) ? pfn_to_phys(pfn) : MM_NADDR;
		out->bits = bits | PTE_SW_MANAGED;
		return out->frame == MM_NADDR ? MM_ENOMEM : MM_OK;
	}
	/* REGION_OBJECT */
	int error = MM_OK;
	uintptr_t page = r->pager->ops->get_page(r->pager, r->offset + (va - r->start), &error);
	if (page == MM_NADDR)
		return error;
	if (r->flags & MM_REGION_SHARED) {
		out->frame = page;
		out->bits = bits | PTE_SW_MANAGED | PTE_SW_SHARED;
		return MM_OK;
	}
	if (write) {
		/* A private write: our own copy at once, the object's page stays as it is. */
		uintptr_t copy = mm_phys_alloc_page();
		if (copy != MM_NADDR)
			memcpy(MM_VIRTUALIZE(copy), MM_VIRTUALIZE(page), MM_PAGE_SIZE);
		mm_phys_free_page(page);
		out->frame = copy;
		out->bits = bits | PTE_SW_MANAGED;
		return copy == MM_NADDR ? MM_ENOMEM : MM_OK;
	}
	out->frame = page;
	out->bits = (bits & ~PTE_W) | PTE_SW_MANAGED | (cow ? PTE_SW_COW : 0);
	return MM_OK;
}

static void drop_page(struct new_page *p)
{
	if (p->frame != MM_NADDR && (p->bits & PTE_SW_MANAGED))
		mm_phys_free_page(p->frame);
}

/*
 * A write to a copy-on-write page. pre: lock held, *entry present with PTE_SW_COW.
 * The frame is reused when this mapping holds its only reference; otherwise it is copied,
 * and the old translation is invalidated on every CPU of the space before the old frame's
 * reference goes (a CPU reading through a stale entry would see the old contents).
 */
static int break_cow(struct mm_space *owner, pte_t *entry, uintptr_t va)
{
	pte_t e = *entry;
	uintptr_t old = pte_addr(e);
	pte_t bits = (pte_flags(e) & ~PTE_SW_COW) | PTE_W;
	if (e & PTE_SW_MANAGED) {
		struct frame *f = frame_lookup(old);
		if (__atomic_load_n(&f->refcount, __ATOMIC_ACQUIRE) == 1) {
			/* Sole owner: make it writable in place. A stale read-only entry elsewhere
			 * only causes a spurious fault, which finds the page writable. */
			__atomic_store_n(entry, pte_make(old, bits), __ATOMIC_RELEASE);
			return MM_OK;
		}
	}
	uintptr_t copy = mm_phys_alloc_page();
	if (copy == MM_NADDR)
		return MM_ENOMEM;
	if (old == vmm_zero_page)
		arch_zero(MM_VIRTUALIZE(copy), MM_PAGE_SIZE);
	else
		memcpy(MM_VIRTUALIZE(copy), MM_VIRTUALIZE(old), MM_PAGE_SIZE);
	__atomic_store_n(entry, pte_make(copy, bits | PTE_SW_MANAGED), __ATOMIC_RELEASE);
	tlb_shootdown(owner, va, va + MM_PAGE_SIZE, 0);
	if (e & PTE_SW_MANAGED)
		frame_put(frame_lookup(old));
	return MM_OK;
}

/* Under the lock: settle a fault on a present page. */
static int fault_present(struct mm_space *owner, pte_t *entry, int level, uintptr_t va,
                         uint32_t access)
{
	pte_t e = *entry;
	if ((access & MM_FAULT_WRITE) && !(e & PTE_W)) {
		if (level == 1 && (e & PTE_SW_COW))
			return break_cow(owner, entry, va);
		return MM_EPERM;
	}
	if ((access & MM_FAULT_EXEC) && (e & PTE_NX))
		return MM_EPERM;
	/* A write to a writable entry faulted: a stale TLB entry, or a leaf table this space
	 * took over from a fork that still sits behind its write-protected directory entry
	 * (vmm/share.h): the space takes it back. */
	if ((access & MM_FAULT_WRITE) && level == 1 && owner->shares_tables) {
		pte_t *pde = vmm_pde_of(owner, va);
		if (pde && pde_needs_unshare(*pde))
			return vmm_unshare_pt(owner, pde, va);
	}
	/* Already what the access needs: another CPU resolved it, or a stale TLB entry. */
	return MM_OK;
}

int mm_fault(mm_space_t space, uintptr_t addr, uint32_t access)
{
	if (access & VMM_FAULT_POPULATE)
		return mm_set_error(MM_EINVAL); /* internal only: vmm_populate_page */
	return vmm_fault(space, addr, access);
}

int vmm_populate_page(struct mm_space *space, uintptr_t va)
{
	return vmm_fault(space, va, VMM_FAULT_POPULATE);
}

/* Under the page's shard: writes value as va's entry into the slot the walk ended at
 * (level 1: the page table is there) or into a page table made for it. post: MM_OK, or the
 * error of making the tables (nothing changed). */
static int install(struct mm_space *owner, uintptr_t va, pte_t *slot, int level, pte_t value,
                   enum va_area area)
{
	int error = MM_OK;
	uintptr_t pt = level == 1 ? pt_table_of_entry(slot) : pt_get_or_create(owner, va, 1, &error);
	if (pt == MM_NADDR)
		return error;
	pt_set(pt, pt_index(va, 1), value);
	if (area != AREA_KERNEL)
		space_count_pages(owner, 1);
	return MM_OK;
}

/*
 * The walk to va's entry under the page's shard, for a fault with this access. A leaf table
 * other spaces share (on-demand fork: vmm/share.h) is first made the space's own when the
 * fault will change it or write through it; a read of a present page needs neither. Spaces
 * that never shared a table take the plain walk alone. post: the slot (pt_walk_slot), or
 * NULL with *error (MM_ENOMEM).
 */
static inline pte_t *walk_for_fault(struct mm_space *owner, uintptr_t va, uint32_t access,
                                    int *level, int *error)
{
	pte_t *slot = pt_walk_slot(owner->root, va, level);
	if (__builtin_expect(!owner->shares_tables, 1) || *level != 1)
		return slot;
	uintptr_t table = pt_table_of_entry(slot);
	if (!pt_is_shared(table) ||
	    (!(access & MM_FAULT_WRITE) && pte_present(__atomic_load_n(slot, __ATOMIC_RELAXED))))
		return slot;
	*error = vmm_unshare_pt(owner, vmm_pde_of(owner, va), va);
	return *error == MM_OK ? pt_walk_slot(owner->root, va, level) : NULL;
}

/*
 * Under the page's shard, with r the page's region, which allows the access: settles what
 * needs no new frame (a present page; a hole in given pages; a read that maps the zero
 * page, which needs nothing allocated or zeroed, so the shard is kept) with its result in
 * *error. false when a frame must be got.
 */
static bool settle_locked(struct mm_space *owner, const struct mm_region *r, uintptr_t va,
                          uint32_t access, enum va_area area, int *error)
{
	int level;
	pte_t *slot = walk_for_fault(owner, va, access, &level, error);
	if (!slot)
		return true;
	if (pte_present(__atomic_load_n(slot, __ATOMIC_RELAXED)))
		*error = fault_present(owner, slot, level, va, access);
	else if (r->kind == REGION_PAGES)
		*error = MM_EFAULT; /* given pages are all mapped when made: the owner cut it */
	else if (maps_zero_page(r, access))
		*error = install(owner, va, slot, level, zero_page_entry(r, area), area);
	else
		return false;
	return true;
}

int vmm_fault(struct mm_space *space, uintptr_t addr, uint32_t access)
{
	if (!space || (access & ~(FAULT_ACCESS_ALL | VMM_FAULT_POPULATE)))
		return mm_set_error(MM_EINVAL);
	uintptr_t va = addr & ~(MM_PAGE_SIZE - 1);
	enum va_area area = va_is_canonical(addr) ? va_area_of(va, va + MM_PAGE_SIZE) : AREA_NONE;
	if (area == AREA_NONE || ((access & MM_FAULT_USER) && area != AREA_USER))
		return mm_set_error(MM_EFAULT);
	struct mm_space *owner = area_owner(space, area);

	for (;;) {
		/* The page's shard: its tables, and its region, which cannot change or go while
		 * the shard is held (regions change only with every shard of their range held),
		 * so r is used as it is until the shard is let go. The region tree itself is read
		 * under the region lock. */
		vmm_range_lock_t held = vmm_lock_va(owner, va);
		vmm_lock_regions(owner);
		struct mm_region *r = region_find(owner, va);
		vmm_unlock_regions(owner);
		int error = !r || r->kind == REGION_GUARD ? MM_EFAULT : check_access(r, access);
		if (error != MM_OK || settle_locked(owner, r, va, access, area, &error)) {
			vmm_unlock_va(owner, held);
			return error == MM_OK ? MM_OK : mm_set_error(error);
		}

		/* A frame to get: without the lock (zeroing or a pager's read is the slow part).
		 * The region is copied and its pager held, so that the region going meanwhile
		 * cannot free it under us. */
		struct mm_region snapshot = *r;
		uint64_t seq = __atomic_load_n(&owner->seq, __ATOMIC_RELAXED);
		if (snapshot.pager)
			mm_pager_get(snapshot.pager);
		vmm_unlock_va(owner, held);

		struct new_page page = {MM_NADDR, 0};
		error = get_page(&snapshot, va, access, area, &page);
		if (snapshot.pager)
			mm_pager_put(snapshot.pager);
		if (error != MM_OK)
			return mm_set_error(error);

		held = vmm_lock_va(owner, va);
		/* A region goes or changes only under its shard, and bumps seq while holding it:
		 * an unchanged seq now means the snapshot still stands. */
		if (__atomic_load_n(&owner->seq, __ATOMIC_RELAXED) != seq) {
			vmm_unlock_va(owner, held);
			drop_page(&page);
			continue;
		}
		int level;
		pte_t *slot = walk_for_fault(owner, va, access | MM_FAULT_WRITE, &level, &error);
		if (!slot) {
			/* No memory to unshare the table: the page goes back. */
		} else if (pte_present(__atomic_load_n(slot, __ATOMIC_RELAXED))) {
			/* Another CPU mapped it first: theirs stays. */
			error = fault_present(owner, slot, level, va, access);
		} else {
			error = install(owner, va, slot, level, pte_make(page.frame, page.bits), area);
			if (error == MM_OK)
				page.frame = MM_NADDR; /* mapped: not ours to drop */
		}
		vmm_unlock_va(owner, held);
		drop_page(&page);
		return error == MM_OK ? MM_OK : mm_set_error(error);
	}
}
