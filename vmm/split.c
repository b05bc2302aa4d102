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
 *
 * A call that fails changes nothing, splits included: every cut is checked and every table
 * it needs is allocated before the first split, after which nothing can fail.
 */
#include "region_tree.h"

#include <arch/x86_64/pt_walk.h>

/* Makes every 2^(9 (level - 2)) ... piece of the head's block an allocation of its own. */
static void split_allocation(struct frame *head, int level)
{
	uint64_t pfn = frame_pfn(head);
	unsigned piece_order = pt_order(level - 1);
	uint64_t step = 1ull << piece_order;
	for (uint64_t i = 0; i < 512; i++) {
		struct frame *f = pfn_frame(pfn + i * step);
		f->refcount = 1;
		frame_set_order(f, piece_order);
		frame_set_state(f, piece_order ? FRAME_HEAD : FRAME_ALLOCATED);
	}
}

/* Turns the large leaf *entry (at `level`, holding va) into a table of the next size down,
 * the given zeroed table, widening g's range to cover the old leaf. */
static void split_leaf(struct mm_space *owner, pte_t *entry, int level, uintptr_t va,
                       uintptr_t table, struct tlb_gather *g)
{
	pte_t e = *entry;
	uintptr_t phys = pte_leaf_addr(e, level);
	struct frame *head = (e & PTE_SW_MANAGED) ? frame_lookup(phys) : NULL;
	MM_ASSERT(!head || head->refcount == 1);
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
}

/* The large leaf that a cut at va falls inside (not on its first byte), or NULL. */
static pte_t *leaf_cut_at(struct mm_space *owner, uintptr_t va, int *level)
{
	/* A cut on a 1 GiB boundary is inside no leaf: no walk, which could otherwise read a
	 * chunk whose shard the caller does not hold (the end of a range). */
	if (va & (MM_PAGE_SIZE - 1) || (va & (MM_HUGE_PAGE_SIZE - 1)) == 0 ||
	    va >= MM_NADDR - MM_PAGE_SIZE)
		return NULL;
	pte_t *entry = pt_walk_leaf(owner->root, va, level);
	if (!entry || *level == 1 || (va & (pt_span(*level) - 1)) == 0)
		return NULL;
	return entry;
}

/* Whether the cut at va can be made, and how many tables it takes (a 1 GiB page cut off a
 * 2 MiB boundary is split twice). MM_OK or MM_ESIZE. */
static int plan_cut(struct mm_space *owner, uintptr_t va, unsigned *tables)
{
	int level;
	pte_t *entry = leaf_cut_at(owner, va, &level);
	if (!entry)
		return MM_OK;
	pte_t e = *entry;
	struct frame *head = (e & PTE_SW_MANAGED) ? frame_lookup(pte_leaf_addr(e, level)) : NULL;
	/* Another reference comes only from a mapping of this leaf (fork, under the same shard)
	 * or from a holder who has one already, so a count of 1 stays 1 under the shard. (A
	 * user copy's temporary reference can drop without the shard: a split refused then
	 * is only cautious.) */
	if (head && __atomic_load_n(&head->refcount, __ATOMIC_ACQUIRE) != 1)
		return MM_ESIZE;
	*tables += level == 3 && (va & (MM_LARGE_PAGE_SIZE - 1)) ? 2 : 1;
	return MM_OK;
}

#define SPLIT_TABLES_MAX 4 /* two cuts, each through a 1 GiB and a 2 MiB page */

int vmm_split_ends(struct mm_space *owner, uintptr_t start, uintptr_t end, struct tlb_gather *g)
{
	vmm_assert_shards_held(owner, start, end);
	const uintptr_t cuts[2] = {start, end};
	unsigned needed = 0;
	for (int i = 0; i < 2; i++) {
		int error = plan_cut(owner, cuts[i], &needed);
		if (error != MM_OK)
			return error;
	}
	if (needed == 0)
		return MM_OK;
	/* Two cuts in one leaf need fewer tables than planned: the rest go back unused. */
	uintptr_t tables[SPLIT_TABLES_MAX];
	int have = (int)needed;
	if (pt_alloc_tables(tables, have) != MM_OK)
		return MM_ENOMEM;
	for (int i = 0; i < 2; i++) {
		int level;
		pte_t *entry;
		while ((entry = leaf_cut_at(owner, cuts[i], &level)) != NULL) {
			MM_ASSERT(have > 0);
			split_leaf(owner, entry, level, cuts[i], tables[--have], g);
		}
	}
	pt_free_tables(tables, have);
	return MM_OK;
}
