/*
 * Taking mappings down: entries are cleared first, the frames and emptied page tables are
 * gathered, one TLB invalidation covers the whole range, and only then is anything freed.
 */
#include "region_tree.h"
#include "share.h"

#include <arch/x86_64/pt_walk.h>


/* Whether the leaf table has a present entry outside [lo, hi) (a part of its span). */
static bool entries_outside(uintptr_t table, uintptr_t lo, uintptr_t hi)
{
	const pte_t *entries = pt_table(table);
	unsigned first = pt_index(lo, 1), last = pt_index(hi - 1, 1);
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		if ((i < first || i > last) && pte_present(__atomic_load_n(&entries[i], __ATOMIC_RELAXED)))
			return true;
	return false;
}

/* A leaf table other spaces share that [lo, hi) covers in part is made the space's own
 * first when entries outside the cut are to stay; with none there, the unmap lets go of the
 * whole table as of one it covers whole (unmap_level). */
static int unshare_cut(struct mm_space *owner, uintptr_t lo, uintptr_t hi)
{
	pte_t *pde = vmm_pde_of(owner, lo);
	if (!pde || !pde_needs_unshare(*pde) || !entries_outside(pte_addr(*pde), lo, hi))
		return MM_OK;
	return vmm_unshare_pt(owner, pde, lo);
}

/* The leaf tables [start, end) covers in part (at most two: at its ends) are unshared before
 * entries in them go; those it covers whole are let go of as they are (unmap_level). */
static int unshare_cut_tables(struct mm_space *owner, uintptr_t start, uintptr_t end)
{
	const uintptr_t mask = MM_LARGE_PAGE_SIZE - 1;
	uintptr_t first = start & ~mask, last = (end - 1) & ~mask;
	uintptr_t first_end = first + MM_LARGE_PAGE_SIZE;
	int error = MM_OK;
	if ((start & mask) || end < first_end)
		error = unshare_cut(owner, start, end < first_end ? end : first_end);
	if (error == MM_OK && last != first && (end & mask))
		error = unshare_cut(owner, last, end);
	return error;
}

/* One more reference to each managed page the leaf table maps. */
static void ref_managed_entries(uintptr_t table)
{
	const pte_t *entries = pt_table(table);
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		pte_t e = __atomic_load_n(&entries[i], __ATOMIC_RELAXED);
		if (pte_present(e) && (e & PTE_SW_MANAGED))
			frame_get(frame_lookup(pte_addr(e)));
	}
}

static uint64_t unmap_level(struct tlb_gather *g, uintptr_t table, int level, uintptr_t start,
                            uintptr_t end, bool keep_frames)
{
	uint64_t pages = 0;
	const pte_t *entries = pt_table(table);
	uint64_t span = pt_span(level);
	for (uintptr_t va = start;
	     va < end && (level == PT_LEVELS || pt_frame(table)->table.pt_used);) {
		uintptr_t next = pt_step_end(va, end, level);
		unsigned index = pt_index(va, level);
		pte_t e = entries[index];
		if (pte_present(e)) {
			if (pte_is_leaf(e, level)) {
				pt_clear(table, index);
				pages += span >> MM_PAGE_SHIFT;
				/* Owed even when nothing is freed here (frames kept by the caller, the
				 * zero page, device memory): other CPUs may still hold the entry. */
				tlb_gather_changed(g);
				if ((e & PTE_SW_MANAGED) && !keep_frames)
					tlb_gather_leaf(g, phys_to_pfn(pte_leaf_addr(e, level)));
			} else if (level == 2 && g->space->shares_tables && pt_is_shared(pte_addr(e))) {
				/* A leaf table other spaces share, whose entries all lie in the range
				 * (one with entries outside it was unshared first, unshare_cut_tables):
				 * this space lets go of it, its entries stay the others'. */
				MM_ASSERT(next - va == span || !entries_outside(pte_addr(e), va, next));
				uintptr_t child = pte_addr(e);
				pages += pt_frame(child)->table.pt_used;
				/* Frames kept: the caller gets a reference of its own to each page this
				 * space stops mapping, as from a table of its own. */
				if (keep_frames)
					ref_managed_entries(child);
				pt_clear(table, index);
				__atomic_sub_fetch(&g->space->table_pages, 1, __ATOMIC_RELAXED);
				tlb_gather_unshared(g, child);
			} else {
				uintptr_t child = pte_addr(e);
				pages += unmap_level(g, child, level - 1, va, next, keep_frames);
				/* PDPTs stay until the space goes: a root entry is every shard's, and the
				 * kernel half's are shared by every space. A PD or PT belongs to the
				 * chunk whose shard the caller holds. */
				bool shared = level == PT_LEVELS;
				if (!shared && pt_frame(child)->table.pt_used == 0) {
					pt_clear(table, index);
					__atomic_sub_fetch(&g->space->table_pages, 1, __ATOMIC_RELAXED);
					tlb_gather_table(g, child);
				}
			}
		}
		va = next;
	}
	return pages;
}

int vmm_unmap_ptes_locked(struct mm_space *owner, uintptr_t start, uintptr_t end, bool keep_frames,
                          struct tlb_gather *g)
{
	vmm_assert_shards_held(owner, start, end);
	int error = vmm_split_ends(owner, start, end, g);
	if (error == MM_OK && owner->shares_tables)
		error = unshare_cut_tables(owner, start, end);
	if (error != MM_OK)
		return error;
	uint64_t pages = unmap_level(g, owner->root, PT_LEVELS, start, end, keep_frames);
	if (!owner->is_kernel)
		space_count_pages(owner, -(int64_t)pages);
	return MM_OK;
}

int vmm_unmap_range_locked(struct mm_space *owner, uintptr_t start, uintptr_t end, bool keep_frames,
                           struct tlb_gather *g, struct mm_region **spare)
{
	int error = vmm_unmap_ptes_locked(owner, start, end, keep_frames, g);
	if (error == MM_OK) {
		vmm_lock_regions(owner);
		region_remove_range(owner, start, end, spare);
		vmm_unlock_regions(owner);
	}
	return error;
}

void vmm_prune_pdpts(struct mm_space *owner, uintptr_t start, uintptr_t end, vmm_range_lock_t *held,
                     struct tlb_gather *g)
{
	if (owner->is_kernel)
		return; /* the kernel half's PDPTs are shared by every space */
	unsigned first = pt_index(start, PT_LEVELS), last = pt_index(end - 1, PT_LEVELS);
	pte_t *root = pt_table(owner->root);
	bool any = false;
	for (unsigned i = first; i <= last && i < KERNEL_PML4_FIRST; i++)
		any |= pte_present(root[i]) && pt_frame(pte_addr(root[i]))->table.pt_used == 0;
	if (!any)
		return;
	uint32_t token = vmm_try_lock_rest(owner, held);
	if (!token)
		return;
	MM_ASSERT(vmm_holds_all_shards(owner)); /* a root entry is every shard's */
	for (unsigned i = first; i <= last && i < KERNEL_PML4_FIRST; i++) {
		if (!pte_present(root[i]))
			continue;
		uintptr_t pdpt = pte_addr(root[i]);
		if (pt_frame(pdpt)->table.pt_used != 0)
			continue;
		pt_clear(owner->root, i);
		__atomic_sub_fetch(&owner->table_pages, 1, __ATOMIC_RELAXED);
		tlb_gather_table(g, pdpt);
	}
	vmm_unlock_some(owner, held, token);
}

int mm_umap_range(mm_space_t space, uintptr_t start, size_t count, uint32_t flags)
{
	uintptr_t first, end;
	enum va_area area;
	int error = space ? vmm_check_flags(flags, MM_FLG_NOPHYS) : MM_EINVAL;
	if (error == MM_OK)
		error = page_range(start, count, MM_PAGE_SIZE, &first, &end);
	if (error == MM_OK)
		error = vmm_check_area(space, first, end, &area);
	if (error != MM_OK)
		return mm_set_error(error);
	/* Cutting a hole in a region splits it in two: the second half needs a structure,
	 * taken before anything changes so that running out of memory changes nothing. */
	struct mm_region *spare = region_new(0, 0, 0, 0, REGION_ANON, NULL, 0);
	if (!spare)
		return mm_set_error(MM_ENOMEM);

	struct mm_space *owner = area_owner(space, area);
	struct tlb_gather g;
	tlb_gather_init(&g, owner, first, end);
	vmm_range_lock_t held = vmm_lock_range(owner, first, end);
	error = vmm_unmap_range_locked(owner, first, end, (flags & MM_FLG_NOPHYS) != 0, &g, &spare);
	if (error == MM_OK)
		vmm_prune_pdpts(owner, first, end, &held, &g);
	vmm_unlock_range(owner, held);
	/* The entries are gone from the tables; stale TLB entries may still reach the frames
	 * until this invalidation, so the frames are freed only inside it, afterwards. */
	tlb_gather_finish(&g);
	if (spare)
		region_free(spare);
	return error == MM_OK ? MM_OK : mm_set_error(error);
}
