/* Page tables of a space (vmm/pt.c, vmm/split.c): table frames, entries with present-entry
 * counts, the walk that creates missing levels, large-page splits, and freeing whole trees. */
#ifndef VMM_PT_H
#define VMM_PT_H

#include "space.h"

/* A zeroed page-table frame (state PAGETABLE, pt_used 0), or MM_NADDR. An emptied table
 * freed on this CPU comes back without being zeroed again (pt_free_empty_table). */
uintptr_t pt_alloc_table(void);

/* A page-table frame as pt_alloc_table makes it, but not zeroed: for a caller that writes
 * all its entries before it links it in (an unshared table's copy). MM_NADDR when out of
 * memory. */
uintptr_t pt_alloc_table_to_fill(void);

/* Frees a page-table frame. pre: no entry anywhere points to it any more (after the TLB
 * invalidation that made it unreachable). */
void pt_free_table(uintptr_t table);

/*
 * Frees a table with no entry left (pt_used 0: every entry was cleared to zero, or none was
 * ever written), which makes it a zeroed frame: the CPU's cache keeps it for the next
 * pt_alloc_table, so the map/unmap cycle stops zeroing the tables it frees and re-creates.
 * Memory pressure and a drain give it back to the zones like any cached frame.
 * pre: as pt_free_table.
 */
void pt_free_empty_table(uintptr_t table);

/* n tables at once, all or none (MM_ENOMEM): a call allocates what it will link in before
 * it changes anything. pt_free_tables gives back the ones never linked in (still empty). */
int pt_alloc_tables(uintptr_t *tables, int n);
void pt_free_tables(const uintptr_t *tables, int n);

/* The descriptor of a page-table frame. */
static inline struct frame *pt_frame(uintptr_t table)
{
	return pfn_frame(phys_to_pfn(table));
}

/* Adds delta to a table's present-entry count (entries written directly, in a batch). */
void pt_add_used(uintptr_t table, int delta);

/* Writes entry index of table (a present-entry count kept in the table's frame). */
void pt_set(uintptr_t table, unsigned index, pte_t value);
void pt_clear(uintptr_t table, unsigned index);

/* The table at `level` (3 = PDPT, 2 = PD, 1 = PT) covering va, created if missing.
 * post: its physical address, or MM_NADDR when a table could not be allocated or a large
 *       leaf is in the way (*error says which), with no table created. */
uintptr_t pt_get_or_create(struct mm_space *space, uintptr_t va, int level, int *error);

/* Calls visit for each present leaf entry in [start, end) under the table at `level` (the
 * visitor may rewrite the entry, never clear it), skipping empty tables; stops at the first
 * non-zero return and returns it. pre: the owner's shards of the range held. */
typedef int (*pt_leaf_visitor)(pte_t *entry, int level, uintptr_t va, void *ctx);
int pt_visit_leaves(uintptr_t table, int level, uintptr_t start, uintptr_t end,
                    pt_leaf_visitor visit, void *ctx);

struct tlb_gather;

/* Splits the large pages that start or end cut, down to the size the cut needs (unmap and
 * permission changes of part of a large page). Every cut is checked and its tables
 * allocated before the first split: MM_ESIZE (a page others hold) or MM_ENOMEM leave the
 * tables exactly as they were. pre: owner's shards of the range held. */
int vmm_split_ends(struct mm_space *owner, uintptr_t start, uintptr_t end, struct tlb_gather *g);

/* The page table that holds entry (its physical address). */
static inline uintptr_t pt_table_of_entry(const pte_t *entry)
{
	return MM_PHYS((uintptr_t)entry & ~(uintptr_t)(MM_PAGE_SIZE - 1));
}

/* Frees the table at `level` and every table under it, and drops the reference of each
 * managed leaf they hold; a leaf table under it is freed only by its last sharer
 * (pt_drop_sharer). pre: as pt_free_table, for all of them. */
void pt_free_subtree(uintptr_t table, int level);

/* Frees every table under the entries [first, last] of the PML4 at root, and the frames of
 * managed leaves (one reference each). Used by mm_destroy_space. */
void pt_free_tree(uintptr_t root, unsigned first, unsigned last);

#endif /* VMM_PT_H */
