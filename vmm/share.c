/* Leaf tables shared between spaces by on-demand fork: the sharer count, and unsharing
 * (vmm/share.h has the rules). */
#include "share.h"

#include <arch/x86_64/pt_walk.h>

#include "pt.h"
#include "tlb.h"

void pt_add_sharer(uintptr_t table)
{
	__atomic_add_fetch(&pt_frame(table)->table.sharers, 1, __ATOMIC_ACQ_REL);
}

void pt_drop_sharer(uintptr_t table)
{
	struct frame *f = pt_frame(table);
	MM_ASSERT(__atomic_load_n(&f->table.sharers, __ATOMIC_RELAXED) > 0);
	/* Acquire: the last one out frees what the others may have read until their drop. */
	if (__atomic_sub_fetch(&f->table.sharers, 1, __ATOMIC_ACQ_REL) == 0)
		pt_free_subtree(table, 1);
}

/* A writable entry made copy-on-write (W clear, PTE_SW_COW) in one atomic step, so that no
 * accessed bit a page walker of this space sets meanwhile is lost. */
static void mark_cow(pte_t *entry)
{
	pte_t e = __atomic_load_n(entry, __ATOMIC_RELAXED);
	while ((e & PTE_W) && !__atomic_compare_exchange_n(entry, &e, (e & ~PTE_W) | PTE_SW_COW, false,
	                                                   __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/*
 * The last sharer takes its table back: a writable entry whose page another table maps too
 * (a copy an unsharing space made, an eager fork's or a clone's child) becomes copy-on-write
 * first, since W on the page-directory entry is about to let writes through. An entry whose
 * page only this table maps stays writable: nobody else can see the write. pre: sharers 1,
 * the space's shard held, so nothing adds a mapping of these pages meanwhile.
 */
static void take_back(pte_t *entries)
{
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		pte_t e = __atomic_load_n(&entries[i], __ATOMIC_RELAXED);
		if ((e & (PTE_P | PTE_W | PTE_SW_MANAGED)) != (PTE_P | PTE_W | PTE_SW_MANAGED))
			continue;
		if (__atomic_load_n(&frame_lookup(pte_addr(e))->refcount, __ATOMIC_ACQUIRE) > 1)
			mark_cow(&entries[i]);
	}
}

int vmm_unshare_pt(struct mm_space *space, pte_t *pde, uintptr_t va)
{
	vmm_assert_shards_held(space, va, va + 1);
	MM_ASSERT(!spin_held(&space->lock));
	pte_t d = __atomic_load_n(pde, __ATOMIC_ACQUIRE);
	if (!pde_needs_unshare(d))
		return MM_OK;
	uintptr_t table = pte_addr(d);
	if (!pt_is_shared(table)) {
		/* The others have gone: the table is this space's alone again. A permission
		 * raised needs no invalidation (a stale read-only entry only faults once more). */
		take_back(pt_table(table));
		__atomic_store_n(pde, d | PTE_W, __ATOMIC_RELEASE);
		return MM_OK;
	}
	uintptr_t copy = pt_alloc_table_to_fill();
	if (copy == MM_NADDR)
		return MM_ENOMEM;
	/* The copy is this space's: its writable pages become copy-on-write (a shared table
	 * maps private memory only: fork shares no other), each with a reference of its own.
	 * Every entry of the copy is written, so it needs no zeroing first. The shared table is
	 * left as it is: its sharers cannot write through it, and the last one marks what it
	 * must when it takes it back (take_back). */
	const pte_t *src = pt_table(table);
	pte_t *dst = pt_table(copy);
	struct frame *frames = pfn_frame(0);
	_Static_assert(PTE_SW_COW == PTE_W << 9, "W moves to the copy-on-write bit by a shift");
	/* Unrolled: the loop's own compare and jumps are a fifth of each step. */
#pragma clang loop unroll_count(4)
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		/* A plain read: the entries do not change while the table is shared, but for
		 * accessed bits, which do not matter here. An absent entry is 0 and stays 0. The
		 * loop is the whole cost of a first write after fork: W becomes PTE_SW_COW by a
		 * shift, without a branch. */
		pte_t e = src[i];
		dst[i] = (e & ~(pte_t)PTE_W) | ((e & PTE_W) << 9);
		/* The shared table's entry holds a reference, so the count is at least 1 and the
		 * frame allocated: one more, without frame_get's check. */
		if (e & PTE_SW_MANAGED)
			__atomic_add_fetch(&frames[phys_to_pfn(pte_addr(e))].refcount, 1, __ATOMIC_RELAXED);
	}
	/* The same entries are present. */
	pt_add_used(copy, (int)pt_frame(table)->table.pt_used);
	__atomic_store_n(pde, pte_make_table(copy, va < MM_USER_END), __ATOMIC_RELEASE);
	/* This space's CPUs may hold the old page-directory entry in their paging-structure
	 * caches: they must stop walking the old table before this space's share of it goes,
	 * since the last sharer then changes it in place. */
	uintptr_t span = va & ~(uintptr_t)(MM_LARGE_PAGE_SIZE - 1);
	tlb_shootdown(space, span, span + MM_LARGE_PAGE_SIZE, TLB_TABLES_FREED);
	pt_drop_sharer(table);
	return MM_OK;
}

/* vmm_unshare_range under the table at `level` (3: a PDPT, 2: a PD), skipping what is not
 * there. */
static int unshare_under(struct mm_space *space, uintptr_t table, int level, uintptr_t start,
                         uintptr_t end)
{
	if (pt_frame(table)->table.pt_used == 0)
		return MM_OK;
	pte_t *entries = pt_table(table);
	for (uintptr_t va = start, next; va < end; va = next) {
		next = pt_step_end(va, end, level);
		pte_t *slot = &entries[pt_index(va, level)];
		pte_t e = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
		if (!pte_present(e) || pte_is_leaf(e, level))
			continue;
		int error = level == 2 ? (pde_needs_unshare(e) ? vmm_unshare_pt(space, slot, va) : MM_OK)
		                       : unshare_under(space, pte_addr(e), level - 1, va, next);
		if (error != MM_OK)
			return error;
	}
	return MM_OK;
}

int vmm_unshare_tables(struct mm_space *space, uintptr_t start, uintptr_t end)
{
	const pte_t *root = pt_table(space->root);
	for (uintptr_t va = start, next; va < end; va = next) {
		next = pt_step_end(va, end, PT_LEVELS);
		pte_t e = __atomic_load_n(&root[pt_index(va, PT_LEVELS)], __ATOMIC_ACQUIRE);
		if (!pte_present(e))
			continue;
		int error = unshare_under(space, pte_addr(e), PT_LEVELS - 1, va, next);
		if (error != MM_OK)
			return error;
	}
	return MM_OK;
}
