/*
 * The gather: what an unmap frees (frames, page tables) is held back until one shootdown
 * has invalidated the whole range on every CPU that may cache it, then freed (space.h).
 */
#include "pt.h"
#include "share.h"
#include "tlb.h"

/* Entries are pfn << 2 | kind. An extra batch frame keeps the link to the previous full one
 * in entry 0. */
enum gather_kind { GATHER_LEAF = 0, GATHER_TABLE = 1, GATHER_UNSHARED = 2 };
#define GATHER_FRAME_ENTRIES (MM_PAGE_SIZE / sizeof(uint64_t))

void tlb_gather_init(struct tlb_gather *g, struct mm_space *space, uintptr_t start, uintptr_t end)
{
	g->space = space;
	g->start = start;
	g->end = end;
	g->n = 0;
	g->batch = g->inline_batch;
	g->capacity = GATHER_INLINE;
	g->tables = false;
	g->changed = false;
}

static void release(uint64_t entry)
{
	uint64_t pfn = entry >> 2;
	/* Most of what an unmap frees is pages. */
	if (__builtin_expect((entry & 3) == GATHER_LEAF, 1))
		frame_put(pfn_frame(pfn));
	else if ((entry & 3) == GATHER_TABLE)
		pt_free_empty_table(pfn_to_phys(pfn)); /* emptied by an unmap: a zeroed frame */
	else
		pt_drop_sharer(pfn_to_phys(pfn));
}

static void release_batch(const uint64_t *batch, size_t first, size_t n)
{
	for (size_t i = first; i < n; i++)
		release(batch[i]);
}

/* Frees everything gathered so far: the invalidation must already have happened. */
static void release_all(struct tlb_gather *g)
{
	if (g->batch == g->inline_batch) {
		release_batch(g->batch, 0, g->n);
	} else {
		uintptr_t frame = MM_PHYS(g->batch);
		size_t n = g->n;
		while (frame) {
			uint64_t *entries = MM_VIRTUALIZE(frame);
			uintptr_t prev = (uintptr_t)entries[0];
			release_batch(entries, 1, n);
			mm_phys_free_page(frame);
			frame = prev;
			n = GATHER_FRAME_ENTRIES;
		}
	}
	g->batch = g->inline_batch;
	g->capacity = GATHER_INLINE;
	g->n = 0;
}

/* Moves on to a fresh frame-sized batch: the inline entries are copied into it, a full
 * frame is chained behind it. post: false when no frame could be had. */
static bool grow(struct tlb_gather *g)
{
	uintptr_t frame = mm_phys_alloc_page();
	if (frame == MM_NADDR)
		return false;
	uint64_t *entries = MM_VIRTUALIZE(frame);
	if (g->batch == g->inline_batch) {
		entries[0] = 0;
		for (size_t i = 0; i < g->n; i++)
			entries[1 + i] = g->batch[i];
		g->n += 1;
	} else {
		entries[0] = MM_PHYS(g->batch);
		g->n = 1;
	}
	g->batch = entries;
	g->capacity = GATHER_FRAME_ENTRIES;
	return true;
}

static void push(struct tlb_gather *g, uint64_t entry)
{
	g->changed = true;
	if (g->n == g->capacity && !grow(g)) {
		/* No memory for a longer list: invalidate now and free what is held. */
		tlb_shootdown(g->space, g->start, g->end, g->tables ? TLB_TABLES_FREED : 0);
		release_all(g);
	}
	g->batch[g->n++] = entry;
}

void tlb_gather_leaf(struct tlb_gather *g, uint64_t pfn)
{
	push(g, pfn << 2 | GATHER_LEAF);
}

void tlb_gather_table(struct tlb_gather *g, uintptr_t table)
{
	g->tables = true;
	push(g, phys_to_pfn(table) << 2 | GATHER_TABLE);
}

void tlb_gather_unshared(struct tlb_gather *g, uintptr_t table)
{
	/* Paging-structure caches may hold the page-directory entry: flushed as for a table
	 * freed. */
	g->tables = true;
	push(g, phys_to_pfn(table) << 2 | GATHER_UNSHARED);
}

void tlb_gather_finish(struct tlb_gather *g)
{
	if (!g->changed)
		return;
	tlb_shootdown(g->space, g->start, g->end, g->tables ? TLB_TABLES_FREED : 0);
	release_all(g);
	g->changed = false;
}
