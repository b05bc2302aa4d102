/*
 * Splitting a large page into the next size down, so that an unmap (or a permission change)
 * can take part of it: a 1 GiB leaf becomes a table of 512 2 MiB leaves, a 2 MiB leaf a table
 * of 512 4 KiB leaves, with the same physical addresses and attributes.
 *
 * A page this mapping owns alone (its frame's only reference) is also split as an
 * allocation: each smaller piece becomes a frame (or 2 MiB page) of its own, so the part
 * unmapped can be freed while the rest stays. Device memory (no frame) splits freely. A
 * large page others hold references to (a fork's copy, the caller's own 2 MiB page given to
 * mm_map_range_pages) cannot be split: MM_ESIZE.
 */
#include "region.h"

#include <arch/x86_64/pt_walk.h>

/* Makes every 2^(9 (level - 2)) ... piece of the head's block an allocation of its own. */
static void split_allocation(struct frame *head, int level)
{
	uint64_t pfn = frame_pfn(head);
	unsigned piece_order = level == 3 ? 9 : 0;
	uint64_t step = 1ull << piece_order;
	for (uint64_t i = 0; i < 512; i++) {
		struct frame *f = pfn_frame(pfn + i * step);
		f->refcount = 1;
		frame_set_order(f, piece_order);
		frame_set_state(f, piece_order ? FRAME_HEAD : FRAME_ALLOCATED);
	}
}

int pt_split_large(struct mm_space *owner, uintptr_t va, struct tlb_gather *g)
{
	int level;
	pte_t *entry = pt_walk_leaf(owner->root, va, &level);
	if (!entry || level == 1)
		return MM_OK;
	pte_t e = *entry;
	uintptr_t phys = pte_leaf_addr(e, level);
	struct frame *head = (e & PTE_SW_MANAGED) ? frame_lookup(phys) : NULL;
	if (head && __atomic_load_n(&head->refcount, __ATOMIC_ACQUIRE) != 1)
		return MM_ESIZE;
	uintptr_t table = pt_alloc_table();
	if (table == MM_NADDR)
		return MM_ENOMEM;
	int child_level = level - 1;
	/* The pieces keep every attribute; PS marks a 2 MiB piece, and a 4 KiB entry has PAT
	 * where a large one has PS, so it is cleared. */
	pte_t attrs = pte_flags(e) & ~(PTE_PS | PTE_ADDR_MASK);
	uint64_t span = pt_span(child_level);
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		uintptr_t piece = phys + i * span;
		pt_set(table, i, child_level == 1 ? pte_make(piece, attrs) : pte_make_large(piece, attrs));
	}
	if (head)
		split_allocation(head, level);
	__atomic_add_fetch(&owner->table_pages, 1, __ATOMIC_RELAXED);
	/* Swap the leaf for the table in one store: a walker sees the old or the new whole. */
	__atomic_store_n(entry, pte_make_table(table, va < MM_USER_END), __ATOMIC_RELEASE);
	/* The old large TLB entry still maps the same memory with the same attributes; the
	 * caller's invalidation is widened to cover it all, so no CPU keeps it afterwards. */
	uintptr_t base = va & ~(pt_span(level) - 1);
	tlb_gather_changed(g);
	if (base < g->start)
		g->start = base;
	if (base + pt_span(level) > g->end)
		g->end = base + pt_span(level);
	return MM_OK;
}

/* Splits the large pages that the range's ends cut, down to the size the cut needs. Each
 * split keeps the mapping as it was, so stopping half-way (MM_ENOMEM, MM_ESIZE) changes
 * nothing a program could see. */
int vmm_split_ends(struct mm_space *owner, uintptr_t start, uintptr_t end, struct tlb_gather *g)
{
	const uintptr_t cuts[2] = {start, end};
	for (int i = 0; i < 2; i++) {
		if (cuts[i] & (MM_PAGE_SIZE - 1) || cuts[i] >= MM_NADDR - MM_PAGE_SIZE)
			continue;
		/* The leaf holding the page at the cut, when the cut is inside it. */
		for (;;) {
			int level;
			pte_t *entry = pt_walk_leaf(owner->root, cuts[i], &level);
			if (!entry || level == 1 || (cuts[i] & (pt_span(level) - 1)) == 0)
				break;
			int error = pt_split_large(owner, cuts[i], g);
			if (error != MM_OK)
				return error;
		}
	}
	return MM_OK;
}
