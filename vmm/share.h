/*
 * Leaf tables shared between spaces: on-demand fork (vmm/share.c, vmm/fork.c).
 *
 * A fork need not copy a leaf table (a page table: 512 entries, 2 MiB) whose span lies in
 * private regions only: the child's page directory points at the parent's table, and the
 * table's frame counts the page-directory entries that point at it (frame.table.sharers).
 *
 * Invariants, under the shard locks of each sharer's span:
 *   - Every page-directory entry pointing at a table with sharers > 1 has W clear, so no
 *     space writes through a shared table; one with sharers == 1 may still have W clear
 *     (the others left), and the first write fault there sets it again.
 *   - A shared table's entries do not change: a space that changes something in the span
 *     or writes through it first gets a copy of its own (vmm_unshare_pt), whose writable
 *     entries are copy-on-write, each with a reference of its own. pt_set and pt_clear
 *     assert this in debug builds. The shared table's entries stay writable behind the
 *     write-protected directory entries; the last sharer, taking the table back, makes
 *     copy-on-write those whose page another table maps too, before W returns.
 *   - Each table holds one reference per managed entry, however many spaces share it: a
 *     frame's reference count is still the number of table entries that map it.
 *   - A space lets go of a shared table (unshare, unmap of the whole span, destroy) only
 *     after its CPUs can no longer walk it: the sharer count drops after that space's
 *     shootdown, and the space that drops it to 0 frees the table and its references.
 */
#ifndef VMM_SHARE_H
#define VMM_SHARE_H

#include "space.h"

/* Whether other spaces' page directories point at this leaf table too. */
static inline bool pt_is_shared(uintptr_t table)
{
	return __atomic_load_n(&pfn_frame(phys_to_pfn(table))->table.sharers, __ATOMIC_ACQUIRE) > 1;
}

/* One more page-directory entry points at the table (a fork shares it). */
void pt_add_sharer(uintptr_t table);

/* One fewer points at it; the last one's drop frees the table and the references of its
 * managed entries. pre: no CPU of the space that let go can walk it any more. */
void pt_drop_sharer(uintptr_t table);

/* The page-directory entry covering va in space when it points at a leaf table, or NULL. */
pte_t *vmm_pde_of(struct mm_space *space, uintptr_t va);

/*
 * Makes the leaf table under *pde (space's page-directory entry covering va) the space's
 * own and writable: when others still share it, a copy (its writable entries copy-on-write
 * in both) replaces it for this space after the space's CPUs stop walking the old one;
 * when they have all gone, W is set again. No-op for a table that is already the space's
 * own. pre: the space's shard of va held, no region lock held (it may call other CPUs).
 * post: MM_OK, or MM_ENOMEM with nothing changed.
 */
int vmm_unshare_pt(struct mm_space *space, pte_t *pde, uintptr_t va);

/* vmm_unshare_pt for every leaf table of [start, end). pre: as vmm_unshare_pt, for the
 * whole range. post: MM_OK, or MM_ENOMEM with the tables before the failure unshared (an
 * unshared table is no visible change). */
int vmm_unshare_tables(struct mm_space *space, uintptr_t start, uintptr_t end);

/* vmm_unshare_tables where the space ever shared a table: a check of one flag for the
 * others. */
static inline int vmm_unshare_range(struct mm_space *space, uintptr_t start, uintptr_t end)
{
	return __builtin_expect(!space->shares_tables, 1) ? MM_OK
	                                                  : vmm_unshare_tables(space, start, end);
}

/* Whether the page-directory entry pde points at a leaf table that its space may not write
 * through yet (shared, or left write-protected by a fork). */
static inline bool pde_needs_unshare(pte_t pde)
{
	return pte_present(pde) && !(pde & PTE_PS) && !(pde & PTE_W);
}

#endif /* VMM_SHARE_H */
