/*
 * Making mappings: mm_map_range (frames allocated and zeroed here) and mm_map_range_pages
 * (given physical pages). Each records a region; the region tree answers "is anything
 * mapped there" in O(log n) before anything changes, then each leaf table is filled in one
 * tight loop. If memory runs out half-way, what was mapped is taken down again, so a failed
 * call leaves the space as it found it. With MM_FLG_REPLACE, what was there is unmapped
 * first (its frames freed after the one TLB invalidation).
 */
#include "region_tree.h"

#include <arch/x86_64/pt_walk.h>

#define MAP_FLAGS_ALLOWED (MM_FLG_WR | MM_FLG_US | MM_FLG_EXEC | MM_FLG_DMA | MM_FLG_REPLACE)

pte_t vmm_leaf_bits(uint32_t flags, enum va_area area)
{
	pte_t bits = PTE_P;
	if (flags & MM_FLG_WR)
		bits |= PTE_W;
	if (flags & MM_FLG_US)
		bits |= PTE_U;
	if (!(flags & MM_FLG_EXEC))
		bits |= PTE_NX;
	if (flags & MM_FLG_DMA)
		bits |= PTE_PCD | PTE_PWT;
	/* Kernel mappings are the same in every space: global, so a switch keeps them. */
	if (area == AREA_KERNEL)
		bits |= PTE_G;
	return bits;
}

/* The common checks of both calls (vmm/args.h). post: MM_OK with the area and page-aligned
 * range. */
static int validate(struct mm_space *space, uintptr_t start, size_t count, uint32_t flags,
                    uintptr_t page_size, uintptr_t *first, uintptr_t *end, enum va_area *area)
{
	if (!space)
		return MM_EINVAL;
	int error = vmm_check_flags(flags, MAP_FLAGS_ALLOWED | MM_FLG_PS | MM_FLG_PS1G);
	if (error == MM_OK)
		error = page_range(start, count, page_size, first, end);
	if (error == MM_OK)
		error = vmm_check_area(space, *first, *end, area);
	/* User mappings only in the user half; user-half mappings may be kernel-only. */
	if (error == MM_OK && (flags & MM_FLG_US) && *area != AREA_USER)
		error = MM_EPERM;
	return error;
}

/* The region a map call records, and the spare a REPLACE may need to split one. */
struct map_prep {
	struct mm_region *region, *spare;
	bool reserved; /* pmm_reserve is in force for this call */
};

static int prepare(struct map_prep *p, uintptr_t first, uintptr_t end, uint32_t flags,
                   enum va_area area, enum region_kind kind)
{
	enum mm_section section = area == AREA_KERNEL    ? MM_SECTION_KERNEL
	                          : (flags & MM_FLG_DMA) ? MM_SECTION_DEVICE
	                                                 : MM_SECTION_MMAP;
	uint32_t region_flags = flags & (MM_FLG_WR | MM_FLG_US | MM_FLG_EXEC | MM_FLG_DMA);
	p->region = region_new(first, end, region_flags, section, kind, NULL, 0);
	p->spare = (flags & MM_FLG_REPLACE) ? region_new(0, 0, 0, 0, REGION_ANON, NULL, 0) : NULL;
	if (!p->region || ((flags & MM_FLG_REPLACE) && !p->spare)) {
		if (p->region)
			region_free(p->region);
		if (p->spare)
			region_free(p->spare);
		return MM_ENOMEM;
	}
	return MM_OK;
}

/* Chunks of `size` bytes that [start, end) touches. */
static uintptr_t chunks(uintptr_t start, uintptr_t end, uintptr_t size)
{
	return ((end - 1) / size) - (start / size) + 1;
}

/*
 * Under the range's shards: make room (REPLACE) or refuse (something is there). The region
 * tree is the whole truth: every present leaf lies in a region. A replacement first sets
 * aside every frame the new mapping may need (its pages, and a table per 2 MiB, 1 GiB and
 * 512 GiB it touches), so that once the old mapping is gone nothing can fail: a failed call
 * must leave the old mapping in place.
 */
static int make_room(struct mm_space *owner, struct map_prep *p, uintptr_t first, uintptr_t end,
                     uint32_t flags, uintptr_t data_frames, struct tlb_gather *replaced)
{
	vmm_lock_regions(owner);
	bool taken = region_overlaps(owner, first, end);
	vmm_unlock_regions(owner);
	if (!taken)
		return MM_OK;
	if (!(flags & MM_FLG_REPLACE))
		return MM_EEXIST;
	uintptr_t tables = chunks(first, end, MM_LARGE_PAGE_SIZE) +
	                   chunks(first, end, MM_HUGE_PAGE_SIZE) +
	                   chunks(first, end, pt_span(PT_LEVELS));
	/* The unmap's gather may chain frames for what it takes down: room for those too. */
	uintptr_t gather = (data_frames + tables) / 511 + 2;
	if (!pmm_reserve(data_frames + tables + gather))
		return MM_ENOMEM;
	p->reserved = true;
	return vmm_unmap_range_locked(owner, first, end, false, replaced, &p->spare);
}

/* Records the region once the mapping is whole. pre: the range's shards held. */
static void commit_region(struct mm_space *owner, struct map_prep *p)
{
	vmm_lock_regions(owner);
	region_insert(owner, p->region);
	vmm_unlock_regions(owner);
}

/*
 * The end of both map calls: on success the region is recorded; on failure what was made of
 * [first, va] (the page being worked on included: its tables may be new) is taken down
 * again. Then the locks go, replaced and undone mappings are invalidated and freed, and the
 * unused preparations are released. Returns error.
 */
static int finish_map(struct mm_space *owner, struct map_prep *p, vmm_range_lock_t *held,
                      struct tlb_gather *replaced, int error, bool changed, uintptr_t first,
                      uintptr_t va, uintptr_t end, uintptr_t step)
{
	struct tlb_gather undo;
	tlb_gather_init(&undo, owner, first, end);
	if (error != MM_OK && changed) {
		uintptr_t undo_end = va < end ? va + step : end;
		vmm_unmap_ptes_locked(owner, first, undo_end, false, &undo);
		vmm_prune_pdpts(owner, first, undo_end, held, &undo);
	}
	if (error == MM_OK)
		commit_region(owner, p);
	if (p->reserved)
		pmm_unreserve();
	vmm_unlock_range(owner, *held);
	tlb_gather_finish(replaced);
	tlb_gather_finish(&undo);
	if (error != MM_OK)
		region_free(p->region);
	if (p->spare)
		region_free(p->spare);
	return error;
}


/*
 * Maps one large page at va (level 2: 2 MiB, 3: 1 GiB) when the range, the alignment and
 * memory allow. post: true when mapped; false to fall back to smaller pages (no large frame
 * free: fragmentation is no reason to fail), with *error set only for a real failure.
 */
static bool map_large(struct mm_space *owner, uintptr_t va, uintptr_t end, int level, pte_t bits,
                      enum va_area area, int *error)
{
	uintptr_t size = pt_span(level);
	if ((va & (size - 1)) || end - va < size)
		return false;
	uint32_t size_flags = size_flags_of_order(pt_order(level));
	uintptr_t frame = mm_phys_alloc(1, MM_NODE_LOCAL, size_flags);
	if (frame == MM_NADDR)
		return false;
	uintptr_t table = pt_get_or_create(owner, va, level, error);
	if (table == MM_NADDR) {
		mm_free_physical_page(frame, size_flags);
		return false;
	}
	arch_zero(MM_VIRTUALIZE(frame), size);
	pt_set(table, pt_index(va, level), pte_make_large(frame, bits));
	if (area != AREA_KERNEL)
		space_count_pages(owner, (int64_t)(size >> MM_PAGE_SHIFT));
	return true;
}

/* Fills [va, limit) with 4 KiB pages, one leaf table at a time. post: where it stopped. */
static uintptr_t map_small(struct mm_space *owner, uintptr_t va, uintptr_t limit, pte_t bits,
                           enum va_area area, int *error)
{
	while (*error == MM_OK && va < limit) {
		uintptr_t pt = pt_get_or_create(owner, va, 1, error);
		if (pt == MM_NADDR)
			break;
		/* Fill this leaf table up to its end or the range's. */
		unsigned index = pt_index(va, 1);
		size_t n = PT_ENTRIES - index;
		if ((limit - va) >> MM_PAGE_SHIFT < n)
			n = (limit - va) >> MM_PAGE_SHIFT;
		uint64_t pfns[PT_ENTRIES];
		size_t got = pmm_alloc_frames(pfns, n);
		pte_t *entries = pt_table(pt);
		for (size_t i = 0; i < got; i++) {
			uintptr_t phys = pfn_to_phys(pfns[i]);
			/* Handed to a user: never leak what the frame held before. */
			arch_zero(MM_VIRTUALIZE(phys), MM_PAGE_SIZE);
			MM_ASSERT(!pte_present(entries[index + i]));
			__atomic_store_n(&entries[index + i], pte_make(phys, bits), __ATOMIC_RELEASE);
		}
		pt_add_used(pt, (int)got); /* one count update for the whole batch */
		va += got << MM_PAGE_SHIFT;
		if (area != AREA_KERNEL)
			space_count_pages(owner, (int64_t)got);
		if (got < n)
			*error = MM_ENOMEM;
	}
	return va;
}

uintptr_t mm_map_range(mm_space_t space, uintptr_t start, size_t count, uint32_t flags)
{
	uintptr_t first, end;
	enum va_area area;
	int error = validate(space, start, count, flags & ~(MM_FLG_PS | MM_FLG_PS1G), MM_PAGE_SIZE,
	                     &first, &end, &area);
	/* No mappings of fresh frames in the hardware space: it is for devices. */
	if (error == MM_OK && area == AREA_HW)
		error = MM_EPERM;
	struct map_prep prep = {0};
	if (error == MM_OK)
		error = prepare(&prep, first, end, flags, area, REGION_ANON);
	if (error != MM_OK) {
		mm_set_error(error);
		return MM_NADDR;
	}

	struct mm_space *owner = area_owner(space, area);
	struct tlb_gather replaced;
	tlb_gather_init(&replaced, owner, first, end);
	vmm_range_lock_t held = vmm_lock_range(owner, first, end);
	error = make_room(owner, &prep, first, end, flags, (end - first) >> MM_PAGE_SHIFT, &replaced);
	/* Past the check, a failure must undo what was made, page tables included: the undo
	 * covers the page being worked on too, whose tables may have been created. */
	bool changed = error == MM_OK;
	pte_t bits = vmm_leaf_bits(flags, area) | PTE_SW_MANAGED;
	uintptr_t va = first;
	while (error == MM_OK && va < end) {
		/* MM_FLG_PS / MM_FLG_PS1G: large pages where the range is aligned for them. */
		if ((flags & MM_FLG_PS1G) && map_large(owner, va, end, 3, bits, area, &error)) {
			va += MM_HUGE_PAGE_SIZE;
			continue;
		}
		if ((flags & (MM_FLG_PS | MM_FLG_PS1G)) && error == MM_OK &&
		    map_large(owner, va, end, 2, bits, area, &error)) {
			va += MM_LARGE_PAGE_SIZE;
			continue;
		}
		if (error != MM_OK)
			break;
		uintptr_t limit = end;
		if (flags & (MM_FLG_PS | MM_FLG_PS1G)) {
			/* Small pages only up to the next 2 MiB boundary, where a large one may fit. */
			uintptr_t next = (va & ~(MM_LARGE_PAGE_SIZE - 1)) + MM_LARGE_PAGE_SIZE;
			if (next < limit)
				limit = next;
		}
		va = map_small(owner, va, limit, bits, area, &error);
	}
	error =
	    finish_map(owner, &prep, &held, &replaced, error, changed, first, va, end, MM_PAGE_SIZE);
	if (error != MM_OK) {
		mm_set_error(error);
		return MM_NADDR;
	}
	return first;
}

static void page_size_of(uint32_t flags, uintptr_t *page_size, int *level)
{
	*level = 1 + (int)size_flags_order(flags) / 9;
	*page_size = (uintptr_t)pt_span(*level);
}

/* The frame whose reference a mapping of `phys` at this page size takes, or NULL for
 * memory the allocator does not manage (devices). *error on a RAM page that is not
 * allocated with that size. */
static struct frame *page_owner(uintptr_t phys, int level, int *error)
{
	struct frame *f = frame_lookup(phys);
	if (!f)
		return NULL;
	if (level == 1) {
		if (frame_state(f) != FRAME_ALLOCATED)
			*error = MM_ENOTALLOC;
		return f;
	}
	return large_page_head(phys, pt_order(level), error);
}

int mm_map_range_pages(mm_space_t space, uintptr_t start, const uintptr_t *pages, size_t count,
                       uint32_t flags)
{
	uintptr_t page_size;
	int level;
	page_size_of(flags, &page_size, &level);
	if (!space || !pages || count == 0)
		return mm_set_error(MM_EINVAL);
	if (start & (page_size - 1))
		return mm_set_error(MM_EINVAL);
	if (count > (SIZE_MAX >> pt_shift(level)))
		return mm_set_error(MM_EINVAL);
	uintptr_t first, end;
	enum va_area area;
	int error =
	    validate(space, start, count << pt_shift(level), flags, page_size, &first, &end, &area);
	for (size_t i = 0; error == MM_OK && i < count; i++) {
		if ((pages[i] & (page_size - 1)) || pages[i] >= (1ull << 52))
			error = MM_EINVAL;
		else
			page_owner(pages[i], level, &error);
	}
	struct map_prep prep = {0};
	if (error == MM_OK)
		error = prepare(&prep, first, end, flags, area, REGION_PAGES);
	if (error != MM_OK)
		return mm_set_error(error);

	pte_t bits = vmm_leaf_bits(flags, area);
	struct mm_space *owner = area_owner(space, area);
	struct tlb_gather replaced;
	tlb_gather_init(&replaced, owner, first, end);
	vmm_range_lock_t held = vmm_lock_range(owner, first, end);
	error = make_room(owner, &prep, first, end, flags, 0, &replaced);
	bool changed = error == MM_OK;
	uintptr_t va = first;
	for (size_t i = 0; error == MM_OK && i < count; i++, va += page_size) {
		uintptr_t table = pt_get_or_create(owner, va, level, &error);
		if (table == MM_NADDR)
			break;
		int ignored = MM_OK;
		struct frame *f = page_owner(pages[i], level, &ignored);
		pte_t e = level == 1 ? pte_make(pages[i], bits) : pte_make_large(pages[i], bits);
		if (f) {
			frame_get(f);
			e |= PTE_SW_MANAGED;
		}
		pt_set(table, pt_index(va, level), e);
		if (area != AREA_KERNEL)
			space_count_pages(owner, (int64_t)(page_size >> MM_PAGE_SHIFT));
	}
	error = finish_map(owner, &prep, &held, &replaced, error, changed, first, va, end, page_size);
	return error == MM_OK ? MM_OK : mm_set_error(error);
}
