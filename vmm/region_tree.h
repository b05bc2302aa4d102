/*
 * Regions inside the memory manager: the structure, the per-space tree, and the operations
 * the map, unmap, fault and fork code share.
 *
 * Invariants of a space's region tree (checked by region_check() in debug builds and by
 * vmm_check_space()):
 *   - regions are page-aligned, non-empty, and do not overlap; the tree is ordered by start;
 *   - gap_before of a region = its start - the previous region's end (0 for the first:
 *     start itself), and max_gap of a node = the largest gap_before in its subtree;
 *   - every present leaf entry of the user half and hardware window lies in a region.
 * Locks (vmm/space.h): the tree and every region's fields belong to the tables' owner (the
 * kernel space for kernel regions). A reader holds the owner's region lock (space->lock) or
 * every shard; a writer holds the region lock and the shards of the pages that join or
 * leave a region (region.c asserts both in debug builds, clang checks the region lock).
 * `seq` changes whenever a region is removed, shrunk or re-protected, so a fault that
 * dropped its shard can tell its region is stale.
 */
#ifndef VMM_REGION_TREE_H
#define VMM_REGION_TREE_H

#include <lib/avl.h>
#include <mm/region.h>

#include "args.h"
#include "mapping.h"
#include "space.h"

enum region_kind {
	REGION_ANON,   /* private anonymous memory: demand-zero, copy-on-write at fork */
	REGION_OBJECT, /* pages from a pager: private (copy-on-write) or MM_REGION_SHARED */
	REGION_PAGES,  /* given physical pages (mm_map_range_pages, device memory): shared at fork */
	REGION_GUARD,  /* never mapped: any access is an error (a stack's guard page) */
};

struct mm_region {
	struct avl_node node;
	uintptr_t start, end;
	uint32_t flags; /* MM_FLG_WR/EXEC/US/DMA + MM_REGION_SHARED */
	enum mm_section section;
	enum region_kind kind;
	struct mm_pager *pager; /* REGION_OBJECT: one reference held */
	uint64_t offset;        /* of start in the pager's object */
	uint64_t serial;        /* which insertion made it (unique in its space); the pieces
	                            that cuts leave keep it: "what that call made" */
	uintptr_t gap_before;
	uintptr_t max_gap;
};

/* Private memory (anonymous, or a private mapping of an object): copy-on-write at fork and
 * on a write to a page others share; shared, given and guard regions are not. */
static inline bool region_is_private(const struct mm_region *r)
{
	return r->kind == REGION_ANON || (r->kind == REGION_OBJECT && !(r->flags & MM_REGION_SHARED));
}

/* An internal access bit: map the page (a frame of its own for anonymous memory, even when
 * read-only) without checking the region's permissions: MM_REGION_POPULATE. */
#define VMM_FAULT_POPULATE (1u << 31)

int vmm_fault(struct mm_space *space, uintptr_t addr, uint32_t access);
int vmm_populate_page(struct mm_space *space, uintptr_t va);

/* The region containing va, or NULL. */
struct mm_region *region_find(struct mm_space *space, uintptr_t va);

/* The first region ending above va (the one containing va, or the next), or NULL. */
struct mm_region *region_first_after(struct mm_space *space, uintptr_t va);

struct mm_region *region_next(struct mm_region *r);

/* A new region (not in any tree), or NULL (out of memory). Takes a pager reference. */
struct mm_region *region_new(uintptr_t start, uintptr_t end, uint32_t flags,
                             enum mm_section section, enum region_kind kind, struct mm_pager *pager,
                             uint64_t offset);
void region_free(struct mm_region *r);

/*
 * Inserts r as it is, with a new serial. Regions are never merged: each is what one call
 * made (or what is left of it after unmaps and permission changes cut it), so that
 * mm_region_unmap removes what its caller made and nothing a neighbouring call made.
 * pre: nothing overlaps r.
 */
void region_insert(struct mm_space *space, struct mm_region *r) TA_REQUIRES(space->lock);

/* Moves r's end up to `end` (the heap growing, mm_brk). pre: nothing overlaps the growth. */
void region_extend(struct mm_space *space, struct mm_region *r, uintptr_t end)
    TA_REQUIRES(space->lock);

/*
 * Removes [start, end) from the space's regions: regions inside go, regions across an end
 * are cut. `spare` is a preallocated region used if one region must be split in two (the
 * caller frees it if unused). Increments seq.
 */
void region_remove_range(struct mm_space *space, uintptr_t start, uintptr_t end,
                         struct mm_region **spare) TA_REQUIRES(space->lock);

/* True when some region intersects [start, end). */
bool region_overlaps(struct mm_space *space, uintptr_t start, uintptr_t end);

/* The lowest aligned address in [from, to) where length bytes meet no region. */
uintptr_t region_find_gap(struct mm_space *space, uintptr_t from, uintptr_t to, uintptr_t length,
                          uintptr_t align);

/* After head was cut short to end where tail (a copy of it, not yet in the tree) begins:
 * inserts tail without merging the two back. */
void region_insert_split(struct mm_space *space, struct mm_region *head, struct mm_region *tail)
    TA_REQUIRES(space->lock);

/* Removes and frees every region (destroy). */
void region_remove_all(struct mm_space *space);

/* Debug: tree shape, order, no overlap, gaps and summaries. */
bool region_check(struct mm_space *space);

#endif /* VMM_REGION_TREE_H */
