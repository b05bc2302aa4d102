/*
 * The public region calls: making and removing regions, changing their permissions,
 * queries, free-range search, stacks with guard pages, and the brk heap.
 */
#include "region_tree.h"
#include "share.h"

#include <arch/x86_64/pt_walk.h>

#define SPEC_FLAGS                                                                                 \
	(MM_FLG_WR | MM_FLG_EXEC | MM_FLG_US | MM_FLG_DMA | MM_REGION_POPULATE | MM_REGION_SHARED |    \
	 MM_REGION_FIXED)

/* Regions are placed on 4 KiB, 2 MiB or 1 GiB boundaries by their size. */
static uintptr_t placement_alignment(uintptr_t length)
{
	if (length >= MM_HUGE_PAGE_SIZE)
		return MM_HUGE_PAGE_SIZE;
	if (length >= MM_LARGE_PAGE_SIZE)
		return MM_LARGE_PAGE_SIZE;
	return MM_PAGE_SIZE;
}

/* The area's bounds for placing a region of a space. */
static void area_bounds(struct mm_space *space, uintptr_t *lo, uintptr_t *hi)
{
	if (space->is_kernel) {
		*lo = MM_KERNEL_MAP_BASE;
		*hi = MM_KERNEL_MAP_END;
	} else {
		*lo = MM_USER_BASE;
		*hi = MM_USER_END;
	}
}

/*
 * Takes back what a failed MM_REGION_POPULATE made: the pieces of the region with this
 * serial still in [start, end), with their pages. Another CPU may have cut the region or
 * mapped something of its own in a hole meanwhile (the region was visible while being
 * populated): only what this call made goes, and nothing here can fail (each piece is a
 * whole region, so no region structure is needed).
 */
static void undo_region(struct mm_space *space, uintptr_t start, uintptr_t end, uint64_t serial)
{
	struct tlb_gather g;
	tlb_gather_init(&g, space, start, end);
	vmm_range_lock_t held = vmm_lock_range(space, start, end);
	for (;;) {
		vmm_lock_regions(space);
		struct mm_region *r = region_first_after(space, start);
		while (r && r->start < end && r->serial != serial)
			r = region_next(r);
		bool found = r && r->start < end;
		uintptr_t lo = found ? r->start : 0, hi = found ? r->end : 0;
		vmm_unlock_regions(space);
		if (!found)
			break;
		struct mm_region *no_spare = NULL;
		/* A piece is whole and leaves lie inside regions: nothing to split, no error. */
		MM_CHECK(vmm_unmap_range_locked(space, lo, hi, false, &g, &no_spare) == MM_OK);
	}
	vmm_prune_pdpts(space, start, end, &held, &g);
	vmm_unlock_range(space, held);
	tlb_gather_finish(&g);
}

/* Maps every page of [start, end) now, each anonymous page with a frame of its own. */
static int populate(struct mm_space *space, uintptr_t start, uintptr_t end)
{
	for (uintptr_t va = start; va < end; va += MM_PAGE_SIZE) {
		int error = vmm_populate_page(space, va);
		if (error != MM_OK)
			return error;
	}
	return MM_OK;
}

uintptr_t mm_region_map(mm_space_t space, const struct mm_region_spec *spec)
{
	uintptr_t length = 0;
	int error = space && spec ? vmm_check_flags(spec->flags, SPEC_FLAGS) : MM_EINVAL;
	if (error == MM_OK)
		error = page_range(0, spec->length, MM_PAGE_SIZE, &(uintptr_t){0}, &length);
	if (error == MM_OK)
		error = vmm_check_object_span(spec->pager, spec->offset, length);
	/* Kernel regions are the kernel's: user access only in the user half (as map_range). */
	if (error == MM_OK && space->is_kernel && (spec->flags & MM_FLG_US))
		error = MM_EPERM;
	if (error == MM_OK &&
	    (spec->section >= MM_SECTION_COUNT || ((spec->flags & MM_REGION_SHARED) && !spec->pager) ||
	     ((spec->flags & MM_REGION_FIXED) && (spec->start & (MM_PAGE_SIZE - 1)))))
		error = MM_EINVAL;
	if (error != MM_OK) {
		mm_set_error(error);
		return MM_NADDR;
	}
	uint32_t flags = spec->flags & ~(MM_REGION_POPULATE | MM_REGION_FIXED);
	if (!space->is_kernel)
		flags |= MM_FLG_US; /* user-half regions are the program's */
	enum region_kind kind = spec->pager ? REGION_OBJECT : REGION_ANON;
	struct mm_region *r = region_new(0, 0, flags, spec->section, kind, spec->pager, spec->offset);
	if (!r) {
		mm_set_error(MM_ENOMEM);
		return MM_NADDR;
	}

	uintptr_t lo, hi;
	area_bounds(space, &lo, &hi);
	uintptr_t start = spec->start & ~(MM_PAGE_SIZE - 1);
	/* A fixed region needs only its range's shards; one placed anywhere may land in any. */
	bool fixed_range =
	    (spec->flags & MM_REGION_FIXED) && start >= lo && start < hi && hi - start >= length;
	vmm_range_lock_t held =
	    fixed_range ? vmm_lock_range(space, start, start + length) : vmm_lock_all(space);
	vmm_lock_regions(space);
	bool fits = start >= lo && start < hi && hi - start >= length;
	if (spec->flags & MM_REGION_FIXED) {
		if (!fits)
			error = MM_EPERM;
		else if (region_overlaps(space, start, start + length))
			error = MM_EEXIST;
	} else if (!fits || region_overlaps(space, start, start + length)) {
		start = region_find_gap(space, lo, hi, length, placement_alignment(length));
		if (start == MM_NADDR)
			error = MM_ENOMEM;
	}
	uint64_t serial = 0;
	if (error == MM_OK) {
		r->start = start;
		r->end = start + length;
		region_insert(space, r);
		serial = r->serial;
	}
	vmm_unlock_regions(space);
	vmm_unlock_range(space, held);
	if (error != MM_OK) {
		region_free(r);
		mm_set_error(error);
		return MM_NADDR;
	}
	if (spec->flags & MM_REGION_POPULATE) {
		error = populate(space, start, start + length);
		if (error != MM_OK) {
			undo_region(space, start, start + length, serial);
			mm_set_error(error);
			return MM_NADDR;
		}
	}
	return start;
}

int mm_region_unmap(mm_space_t space, uintptr_t addr)
{
	if (!space)
		return mm_set_error(MM_EINVAL);
	arch_irq_state_t irq = spin_lock_irqsave(&space->lock);
	struct mm_region *r = region_find(space, addr);
	uintptr_t start = r ? r->start : 0, end = r ? r->end : 0;
	spin_unlock_irqrestore(&space->lock, irq);
	if (!r)
		return mm_set_error(MM_ENOENT);
	return mm_umap_range(space, start, end - start, 0);
}

int mm_region_query(mm_space_t space, uintptr_t addr, struct mm_region_info *out)
{
	if (!space || !out)
		return mm_set_error(MM_EINVAL);
	arch_irq_state_t irq = spin_lock_irqsave(&space->lock);
	struct mm_region *r = region_find(space, addr);
	if (r)
		*out =
		    (struct mm_region_info){r->start, r->end, r->flags, r->section, r->pager, r->offset, 0};
	spin_unlock_irqrestore(&space->lock, irq);
	if (!r)
		return mm_set_error(MM_ENOENT);
	/* Resident pages: a walk of the tables under the range's shards. */
	vmm_range_lock_t held = vmm_lock_range(space, out->start, out->end);
	for (uintptr_t va = out->start; va < out->end;) {
		int level;
		if (pt_walk_leaf(space->root, va, &level))
			out->resident_pages += pt_span(level) >> MM_PAGE_SHIFT;
		/* On to the next leaf, or past the whole missing table. */
		va = (va & ~(pt_span(level) - 1)) + pt_span(level);
	}
	vmm_unlock_range(space, held);
	return MM_OK;
}

uintptr_t mm_region_find_free(mm_space_t space, uintptr_t from, uintptr_t to, size_t length,
                              uintptr_t align)
{
	if (!space || length == 0 || align < MM_PAGE_SIZE || (align & (align - 1)) || from >= to ||
	    length > to - from) {
		mm_set_error(MM_EINVAL);
		return MM_NADDR;
	}
	enum va_area area;
	int error = vmm_check_area(space, from, to, &area);
	if (error != MM_OK) {
		mm_set_error(error);
		return MM_NADDR;
	}
	struct mm_space *owner = area_owner(space, area);
	length = (length + MM_PAGE_SIZE - 1) & ~(MM_PAGE_SIZE - 1);
	arch_irq_state_t irq = spin_lock_irqsave(&owner->lock);
	uintptr_t found = region_find_gap(owner, from, to, length, align);
	spin_unlock_irqrestore(&owner->lock, irq);
	if (found == MM_NADDR)
		mm_set_error(MM_ENOMEM);
	return found;
}

/* ---- Permissions ------------------------------------------------------------------- */

/* Splits the region containing va (strictly inside it) at va, using *spare. */
static void split_at(struct mm_space *space, uintptr_t va, struct mm_region **spare)
    TA_REQUIRES(space->lock)
{
	struct mm_region *r = region_find(space, va);
	if (!r || r->start == va)
		return;
	struct mm_region *tail = *spare;
	*spare = NULL;
	uintptr_t end = r->end;
	/* Cutting r short and inserting the rest as its own region: region_remove_range would
	 * drop the pages' regions, so the tail is rebuilt from r's properties. */
	*tail = *r;
	if (tail->pager)
		mm_pager_get(tail->pager);
	tail->start = va;
	if (tail->kind == REGION_OBJECT)
		tail->offset += va - r->start;
	tail->end = end;
	r->end = va;
	region_insert_split(space, r, tail);
}

struct reprotection {
	uint32_t flags;      /* the new MM_FLG_WR / MM_FLG_EXEC */
	bool private_region; /* anonymous or a private object mapping */
};

/* Rewrites one leaf's permission bits. */
static int reprotect(pte_t *entry, int level, uintptr_t va, void *ctx)
{
	const struct reprotection *p = ctx;
	pte_t e = *entry;
	bool was_writable = (e & PTE_W) != 0;
	e &= ~(PTE_W | PTE_NX);
	/*
	 * A read-only page of private memory may be the zero page, a frame a fork shares, or an
	 * object's page: made writable, it becomes copy-on-write, and its first write copies it
	 * (or reuses it when this mapping is its only owner). Shared memory is written in place.
	 */
	if ((p->flags & MM_FLG_WR) && p->private_region && level == 1 && !was_writable)
		e |= PTE_SW_COW;
	else if ((p->flags & MM_FLG_WR) && !(e & PTE_SW_COW) && pte_addr(e) != vmm_zero_page)
		e |= PTE_W;
	if (!(p->flags & MM_FLG_EXEC))
		e |= PTE_NX;
	__atomic_store_n(entry, e, __ATOMIC_RELAXED);
	return 0;
}

/* MM_OK when every page of [start, end) is in a region whose permissions can change (not a
 * guard), else MM_ENOENT. pre: the region lock held. */
static int protectable(struct mm_space *space, uintptr_t start, uintptr_t end)
{
	uintptr_t covered = start;
	for (struct mm_region *r = region_first_after(space, start); r && r->start < end;
	     r = region_next(r)) {
		if (r->start > covered || r->kind == REGION_GUARD)
			return MM_ENOENT;
		covered = r->end;
	}
	return covered < end ? MM_ENOENT : MM_OK;
}

int mm_region_protect(mm_space_t space, uintptr_t start, size_t length, uint32_t flags)
{
	uintptr_t first, end;
	enum va_area area;
	int error = space ? vmm_check_flags(flags, MM_FLG_WR | MM_FLG_EXEC) : MM_EINVAL;
	if (error == MM_OK && (start & (MM_PAGE_SIZE - 1)))
		error = MM_EINVAL;
	if (error == MM_OK)
		error = page_range(start, length, MM_PAGE_SIZE, &first, &end);
	if (error == MM_OK)
		error = vmm_check_area(space, first, end, &area);
	if (error != MM_OK)
		return mm_set_error(error);
	struct mm_space *owner = area_owner(space, area);
	struct mm_region *spares[2] = {region_new(0, 0, 0, 0, REGION_ANON, NULL, 0),
	                               region_new(0, 0, 0, 0, REGION_ANON, NULL, 0)};
	error = spares[0] && spares[1] ? MM_OK : MM_ENOMEM;
	vmm_range_lock_t held = vmm_lock_range(owner, first, end);
	/* Every check before the first change: the regions (which stand still while the
	 * range's shards are held), then the large-page splits, which check all they need
	 * before splitting anything. */
	if (error == MM_OK) {
		vmm_lock_regions(owner);
		error = protectable(owner, first, end);
		vmm_unlock_regions(owner);
	}
	/* A large page the range cuts is split, so only the range changes permissions; the
	 * invalidation below widens to the split pages (g's range). */
	struct tlb_gather g;
	tlb_gather_init(&g, owner, first, end);
	/* Leaf tables a fork shares are made this space's own before their entries change
	 * (an unshared table is no visible change, so a refusal after it still changes
	 * nothing). */
	if (error == MM_OK)
		error = vmm_unshare_range(owner, first, end);
	if (error == MM_OK)
		error = vmm_split_ends(owner, first, end, &g);
	vmm_lock_regions(owner);
	if (error == MM_OK) {
		split_at(owner, first, &spares[0]);
		split_at(owner, end, &spares[1]);
		/* Entries are rewritten region by region (private memory needs copy-on-write),
		 * under the region lock: nothing here allocates or calls other CPUs. */
		for (struct mm_region *r = region_find(owner, first); r && r->start < end;
		     r = region_next(r)) {
			r->flags = (r->flags & ~(MM_FLG_WR | MM_FLG_EXEC)) | flags;
			struct reprotection p = {flags, region_is_private(r)};
			uintptr_t lo = r->start > first ? r->start : first, hi = r->end < end ? r->end : end;
			pt_visit_leaves(owner->root, PT_LEVELS, lo, hi, reprotect, &p);
		}
		owner->seq++;
	}
	vmm_unlock_regions(owner);
	if (error == MM_OK) {
		/* Permissions may have shrunk: no CPU may keep using the old ones. */
		tlb_shootdown(owner, g.start, g.end, 0);
	}
	vmm_unlock_range(owner, held);
	for (int i = 0; i < 2; i++)
		if (spares[i])
			region_free(spares[i]);
	return error == MM_OK ? MM_OK : mm_set_error(error);
}

/* ---- Stacks and the heap ------------------------------------------------------------ */

uintptr_t mm_stack_create(mm_space_t space, uintptr_t stack_end, size_t size)
{
	if (vmm_check_user_space(space) != MM_OK || size == 0 || (stack_end & (MM_PAGE_SIZE - 1)) ||
	    size > stack_end || stack_end - size < MM_USER_BASE + MM_PAGE_SIZE ||
	    stack_end > MM_USER_END) {
		mm_set_error(MM_EINVAL);
		return MM_NADDR;
	}
	uintptr_t base = (stack_end - size) & ~(MM_PAGE_SIZE - 1);
	struct mm_region *stack =
	    region_new(base, stack_end, MM_FLG_WR | MM_FLG_US, MM_SECTION_STACK, REGION_ANON, NULL, 0);
	struct mm_region *guard =
	    region_new(base - MM_PAGE_SIZE, base, 0, MM_SECTION_STACK, REGION_GUARD, NULL, 0);
	int error = stack && guard ? MM_OK : MM_ENOMEM;
	vmm_range_lock_t held = vmm_lock_range(space, base - MM_PAGE_SIZE, stack_end);
	vmm_lock_regions(space);
	if (error == MM_OK && region_overlaps(space, base - MM_PAGE_SIZE, stack_end))
		error = MM_EEXIST;
	if (error == MM_OK) {
		region_insert(space, guard);
		region_insert(space, stack);
	}
	vmm_unlock_regions(space);
	vmm_unlock_range(space, held);
	if (error != MM_OK) {
		if (stack)
			region_free(stack);
		if (guard)
			region_free(guard);
		mm_set_error(error);
		return MM_NADDR;
	}
	return base;
}

int mm_heap_init(mm_space_t space, uintptr_t base)
{
	if (vmm_check_user_space(space) != MM_OK || (base & (MM_PAGE_SIZE - 1)) ||
	    base < MM_USER_BASE || base >= MM_USER_END)
		return mm_set_error(MM_EINVAL);
	arch_irq_state_t irq = spin_lock_irqsave(&space->lock);
	int error = space->heap_base ? MM_EEXIST : MM_OK;
	if (error == MM_OK)
		space->heap_base = space->heap_end = base;
	spin_unlock_irqrestore(&space->lock, irq);
	return error == MM_OK ? MM_OK : mm_set_error(error);
}

/*
 * Grows the heap from old_top to new_top: the heap's region grows when it ends at old_top
 * with the heap's own permissions (one region for the whole heap, so that mm_region_unmap
 * of it takes it whole); otherwise (the first growth, or after a permission change or an
 * unmap of the heap's top) a new heap region starts there and becomes the heap's.
 */
static int heap_grow(struct mm_space *space, uintptr_t old_top, uintptr_t new_top)
{
	const uint32_t heap_flags = MM_FLG_WR | MM_FLG_US;
	struct mm_region *fresh =
	    region_new(old_top, new_top, heap_flags, MM_SECTION_HEAP, REGION_ANON, NULL, 0);
	if (!fresh)
		return MM_ENOMEM;
	/* The shards of the pages that join a region: the growth. */
	vmm_range_lock_t held = vmm_lock_range(space, old_top, new_top);
	vmm_lock_regions(space);
	int error = region_overlaps(space, old_top, new_top) ? MM_EEXIST : MM_OK;
	if (error == MM_OK) {
		/* The heap's own region, known by its serial: a region another call made there,
		 * even one tagged MM_SECTION_HEAP, is never extended. */
		struct mm_region *last =
		    old_top > space->heap_base ? region_find(space, old_top - 1) : NULL;
		if (last && last->serial == space->heap_serial && last->end == old_top &&
		    last->flags == heap_flags) {
			region_extend(space, last, new_top);
		} else {
			region_insert(space, fresh);
			space->heap_serial = fresh->serial;
			fresh = NULL;
		}
	}
	vmm_unlock_regions(space);
	vmm_unlock_range(space, held);
	if (fresh)
		region_free(fresh);
	return error;
}

uintptr_t mm_brk(mm_space_t space, uintptr_t new_end)
{
	if (vmm_check_user_space(space) != MM_OK || !space->heap_base) {
		mm_set_error(MM_EINVAL);
		return MM_NADDR;
	}
	if (new_end == 0)
		return space->heap_end;
	if (new_end < space->heap_base || new_end > MM_USER_END) {
		mm_set_error(MM_EINVAL);
		return MM_NADDR;
	}
	uintptr_t old_top = (space->heap_end + MM_PAGE_SIZE - 1) & ~(MM_PAGE_SIZE - 1);
	uintptr_t new_top = (new_end + MM_PAGE_SIZE - 1) & ~(MM_PAGE_SIZE - 1);
	int error = MM_OK;
	if (new_top > old_top)
		error = heap_grow(space, old_top, new_top); /* MM_EEXIST: something is in the way */
	else if (new_top < old_top)
		error = mm_umap_range(space, new_top, old_top - new_top, 0);
	if (error != MM_OK) {
		mm_set_error(error);
		return MM_NADDR;
	}
	space->heap_end = new_end;
	return new_end;
}
