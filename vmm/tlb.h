/* TLB invalidation (vmm/tlb.c, vmm/tlb_gather.c): the gather that holds back what an
 * unmap frees until one shootdown covers its range, and the shootdown itself. */
#ifndef VMM_TLB_H
#define VMM_TLB_H

#include "space.h"

/*
 * Gathers what an unmap frees, so that it is freed only after one TLB invalidation covers
 * the whole range (another CPU may use a stale translation until then).
 */
#define GATHER_INLINE 64
struct tlb_gather {
	struct mm_space *space;
	uintptr_t start, end; /* the range invalidated */
	size_t n;             /* entries in the current batch */
	uint64_t *batch;      /* inline_batch, or a frame whose entry 0 links the previous full one */
	size_t capacity;
	bool tables;  /* a page table was queued */
	bool changed; /* an entry in the range was cleared or replaced */
	uint64_t inline_batch[GATHER_INLINE];
};

void tlb_gather_init(struct tlb_gather *g, struct mm_space *space, uintptr_t start, uintptr_t end);
/* Queues a frame reference to drop (leaf) or a page table to free: an emptied one, every
 * entry cleared (it is freed as a zeroed frame, pt_free_empty_table). */
void tlb_gather_leaf(struct tlb_gather *g, uint64_t pfn);
void tlb_gather_table(struct tlb_gather *g, uintptr_t table);
/* Queues a leaf table other spaces share, which this space's page directory no longer
 * points at: its sharer count drops after the invalidation (pt_drop_sharer), since until
 * then a CPU of this space may still walk it, and once it drops the last sharer may change
 * it in place. */
void tlb_gather_unshared(struct tlb_gather *g, uintptr_t table);
/* Records that an entry of the range was cleared or replaced with nothing to free (frames
 * kept by the caller, the zero page, device memory, a large page split): the invalidation
 * is still owed, since other CPUs may hold the old translation. */
static inline void tlb_gather_changed(struct tlb_gather *g)
{
	g->changed = true;
}
/* Invalidates [start, end) on every CPU that may cache it when anything changed, then frees
 * everything queued. */
void tlb_gather_finish(struct tlb_gather *g);

/* Invalidates [start, end) of space on every CPU that may hold it (one IPI round; the
 * protocol is in vmm/tlb.c). flags: TLB_TABLES_FREED when page tables under the range will
 * be freed after it. pre: the entries are already written; no region lock held. */
#define TLB_TABLES_FREED 1u
void tlb_shootdown(struct mm_space *space, uintptr_t start, uintptr_t end, unsigned flags);

/* Invalidation above this many pages flushes the whole PCID instead of page by page. */
#define TLB_FLUSH_CEILING 32

#endif /* VMM_TLB_H */
