/* Page-table pages: allocation, entry updates with present-entry counts, creation of
 * missing levels, and freeing whole subtrees. */
#include "pt.h"
#include "share.h"

#include <arch/x86_64/pt_walk.h>

/* A frame of pfn made a page table of one space, with no entry counted. */
static uintptr_t as_table(uint64_t pfn)
{
	struct frame *f = pfn_frame(pfn);
	frame_set_state(f, FRAME_PAGETABLE);
	f->table.pt_used = 0;
	f->table.sharers = 1;
	return pfn_to_phys(pfn);
}

uintptr_t pt_alloc_table(void)
{
	/* A table an unmap emptied comes back zeroed from the CPU's cache: no zeroing. */
	uint64_t pfn;
	return pmm_alloc_zeroed_frames(&pfn, 1) ? as_table(pfn) : MM_NADDR;
}

uintptr_t pt_alloc_table_to_fill(void)
{
	uint64_t pfn;
	return pmm_alloc_frames(&pfn, 1) ? as_table(pfn) : MM_NADDR;
}

void pt_free_table(uintptr_t table)
{
	struct frame *f = pt_frame(table);
	MM_ASSERT(frame_state(f) == FRAME_PAGETABLE && f->refcount == 1);
	frame_set_state(f, FRAME_ALLOCATED);
	frame_put(f);
}

void pt_free_empty_table(uintptr_t table)
{
	struct frame *f = pt_frame(table);
	MM_ASSERT(frame_state(f) == FRAME_PAGETABLE && f->refcount == 1 && f->table.pt_used == 0);
	frame_set_state(f, FRAME_ALLOCATED);
	pmm_free_zeroed_frame(phys_to_pfn(table));
}

/* Present-entry counts change atomically: a PDPT's entries belong to different shards. */
void pt_add_used(uintptr_t table, int delta)
{
	__atomic_add_fetch(&pt_frame(table)->table.pt_used, (uint32_t)delta, __ATOMIC_RELAXED);
}

/* Debug: no entry of a table other spaces share changes (vmm/share.h). */
static inline void assert_not_shared(uintptr_t table)
{
	MM_ASSERT(frame_state(pt_frame(table)) != FRAME_PAGETABLE || !pt_is_shared(table));
}

void pt_set(uintptr_t table, unsigned index, pte_t value)
{
	pte_t *entry = &pt_table(table)[index];
	MM_ASSERT(!pte_present(*entry));
	assert_not_shared(table);
	/* A single aligned 8-byte store: the MMU of another CPU never sees a torn entry. */
	__atomic_store_n(entry, value, __ATOMIC_RELEASE);
	pt_add_used(table, 1);
}

void pt_clear(uintptr_t table, unsigned index)
{
	pte_t *entry = &pt_table(table)[index];
	MM_ASSERT(pte_present(*entry));
	assert_not_shared(table);
	__atomic_store_n(entry, 0, __ATOMIC_RELAXED);
	MM_ASSERT(pt_frame(table)->table.pt_used > 0);
	pt_add_used(table, -1);
}

/* The number of tables missing on the way from the root to the table at `level` covering
 * va, or -1 when a large leaf is in the way. post: *table is the deepest table there is on
 * the way, at level *at (the one wanted when nothing is missing), and *link the entry that
 * points at it (NULL for the root). */
static int tables_missing(const struct mm_space *space, uintptr_t va, int level, uintptr_t *table,
                          int *at, pte_t **link)
{
	uintptr_t t = space->root;
	*link = NULL;
	for (int l = PT_LEVELS; l > level; l--) {
		pte_t *slot = &pt_table(t)[pt_index(va, l)];
		pte_t e = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
		if (!pte_present(e)) {
			*table = t;
			*at = l;
			return l - level;
		}
		if (pte_is_leaf(e, l))
			return -1;
		t = pte_addr(e);
		*link = slot;
	}
	*table = t;
	*at = level;
	return 0;
}

/* share.h's lookup, here beside the walk it is. */
pte_t *vmm_pde_of(struct mm_space *space, uintptr_t va)
{
	uintptr_t table;
	int at;
	pte_t *link;
	/* Every table down to the leaf one there: link is the entry that points at it. */
	return tables_missing(space, va, 1, &table, &at, &link) == 0 ? link : NULL;
}

int pt_alloc_tables(uintptr_t *tables, int n)
{
	for (int i = 0; i < n; i++) {
		tables[i] = pt_alloc_table();
		if (tables[i] == MM_NADDR) {
			pt_free_tables(tables, i);
			return MM_ENOMEM;
		}
	}
	return MM_OK;
}

void pt_free_tables(const uintptr_t *tables, int n)
{
	while (n > 0)
		pt_free_empty_table(tables[--n]);
}

/* pt_get_or_create's slow path: `missing` tables from the table at level `at` down to
 * `level`. Apart, so that the walk every fault takes stays short. */
static __attribute__((noinline)) uintptr_t create_tables(struct mm_space *space, uintptr_t va,
                                                         int level, uintptr_t table, int at,
                                                         int missing, int *error)
{
	/* Every missing table is allocated before the first is linked in: running out of
	 * memory half-way would leave empty tables behind, and a failed call changes nothing. */
	uintptr_t spare[PT_LEVELS];
	int have = missing;
	if (pt_alloc_tables(spare, missing) != MM_OK) {
		*error = MM_ENOMEM;
		return MM_NADDR;
	}
	/* On from the deepest table found: what is above it cannot go while the caller holds
	 * its shard (a PD or PT goes only under it, a PDPT only with every shard). */
	bool user = va < MM_USER_END;
	for (int l = at; l > level; l--) {
		pte_t *slot = &pt_table(table)[pt_index(va, l)];
		pte_t e = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
		if (pte_present(e)) {
			MM_ASSERT(!pte_is_leaf(e, l)); /* below the root, only this shard changes it */
			table = pte_addr(e);
			continue;
		}
		/* A root entry covers 512 GiB, every shard's: two CPUs may race to fill it. The
		 * loser keeps its table for later (or frees it) and takes the winner's. Below the
		 * root, the caller's shard lock makes the entry its own. */
		MM_ASSERT(have > 0);
		uintptr_t child = spare[--have];
		pte_t expected = 0;
		if (!__atomic_compare_exchange_n(slot, &expected, pte_make_table(child, user), false,
		                                 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			spare[have++] = child;
			table = pte_addr(expected);
			continue;
		}
		pt_add_used(table, 1);
		__atomic_add_fetch(&space->table_pages, 1, __ATOMIC_RELAXED);
		table = child;
	}
	pt_free_tables(spare, have);
	return table;
}

uintptr_t pt_get_or_create(struct mm_space *space, uintptr_t va, int level, int *error)
{
	vmm_assert_shards_held(space, va, va + 1);
	uintptr_t table;
	int at;
	pte_t *link;
	int missing = tables_missing(space, va, level, &table, &at, &link);
	if (missing > 0)
		return create_tables(space, va, level, table, at, missing, error);
	if (missing < 0) {
		*error = MM_EEXIST;
		return MM_NADDR;
	}
	/* The common case, every table there: one walk. A leaf table a fork shares is made
	 * this space's own first: the caller is about to change it. */
	if (level == 1 && pde_needs_unshare(*link)) {
		int unshared = vmm_unshare_pt(space, link, va);
		if (unshared != MM_OK) {
			*error = unshared;
			return MM_NADDR;
		}
		table = pte_addr(__atomic_load_n(link, __ATOMIC_ACQUIRE));
	}
	return table;
}

static void put_leaf(pte_t e, int level)
{
	if (!(e & PTE_SW_MANAGED))
		return;
	frame_put(pfn_frame(phys_to_pfn(pte_leaf_addr(e, level))));
}

void pt_free_subtree(uintptr_t table, int level)
{
	const pte_t *entries = pt_table(table);
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		pte_t e = entries[i];
		if (!pte_present(e))
			continue;
		if (pte_is_leaf(e, level))
			put_leaf(e, level);
		else if (level == 2)
			pt_drop_sharer(pte_addr(e)); /* a leaf table: freed by its last sharer */
		else
			pt_free_subtree(pte_addr(e), level - 1);
	}
	pt_free_table(table);
}

void pt_free_tree(uintptr_t root, unsigned first, unsigned last)
{
	pte_t *pml4 = pt_table(root);
	for (unsigned i = first; i <= last; i++) {
		if (!pte_present(pml4[i]))
			continue;
		pt_free_subtree(pte_addr(pml4[i]), PT_LEVELS - 1);
		pt_clear(root, i);
	}
}

int pt_visit_leaves(uintptr_t table, int level, uintptr_t start, uintptr_t end,
                    pt_leaf_visitor visit, void *ctx)
{
	/* An empty table has nothing to visit. (A root's count leaves out the kernel half's
	 * entries, so roots are always walked.) */
	if (level < PT_LEVELS && pt_frame(table)->table.pt_used == 0)
		return MM_OK;
	pte_t *entries = pt_table(table);
	for (uintptr_t va = start, next; va < end; va = next) {
		next = pt_step_end(va, end, level);
		pte_t *entry = &entries[pt_index(va, level)];
		pte_t e = *entry;
		if (!pte_present(e))
			continue;
		int error = pte_is_leaf(e, level)
		                ? visit(entry, level, va, ctx)
		                : pt_visit_leaves(pte_addr(e), level - 1, va, next, visit, ctx);
		if (error)
			return error;
	}
	return MM_OK;
}
