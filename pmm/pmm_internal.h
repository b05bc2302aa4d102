/*
 * What the rest of the memory manager (vmm/) may use of the frame allocator beyond its
 * public calls: frame descriptors, references and batches.
 */
#ifndef PMM_INTERNAL_H
#define PMM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mm/types.h>

#include "frame.h"

/*
 * The page order the size flags ask for: 18 (1 GiB) with MM_FLG_PS1G, MM_FLG_PS beside it or
 * not (the queries report both for a 1 GiB page, since MM_FLG_PS means "not 4 KiB", and what
 * they report may be passed back); 9 (2 MiB) with MM_FLG_PS alone; 0 (4 KiB) with neither.
 */
static inline unsigned size_flags_order(uint32_t flags)
{
	return (flags & MM_FLG_PS1G) ? 18 : (flags & MM_FLG_PS) ? 9 : 0;
}

/* The other way: the size flags of a page of 2^order frames, as the queries report them
 * (MM_FLG_PS for every page larger than 4 KiB, MM_FLG_PS1G as well for 1 GiB), which
 * size_flags_order reads back as order. */
static inline uint32_t size_flags_of_order(unsigned order)
{
	return (order >= 9 ? MM_FLG_PS : 0) | (order >= 18 ? MM_FLG_PS1G : 0);
}

/* Takes one more reference. pre: the caller holds one. */
void frame_get(struct frame *f);

/* Drops one reference; at zero the frame (or 2 MiB / 1 GiB page) is freed.
 * post: true when it was the last reference. */
bool frame_put(struct frame *f);

/* The head descriptor of an allocated 2^order-frame page at page, or NULL with *error. */
struct frame *large_page_head(uintptr_t page, unsigned order, int *error);

/* Up to n order-0 frames, ALLOCATED with one reference each (not zeroed).
 * post: how many (fewer only when memory is gone). */
size_t pmm_alloc_frames(uint64_t *pfns, size_t n);

/* Frees frames whose reference count the caller has brought to 0. */
void pmm_free_frames(const uint64_t *pfns, size_t n);

/* Up to n order-0 frames, ALLOCATED with one reference each and zeroed: those the calling
 * CPU keeps zeroed first (no zeroing), the rest allocated and zeroed here.
 * post: how many (fewer only when memory is gone). */
size_t pmm_alloc_zeroed_frames(uint64_t *pfns, size_t n);

/* Drops the only reference to a frame whose every byte is zero, keeping it zeroed for
 * pmm_alloc_zeroed_frames (page tables an unmap emptied). pre: refcount 1, no mapping or
 * TLB entry reaches it any more. */
void pmm_free_zeroed_frame(uint64_t pfn);

/*
 * Sets n frames aside for the calling CPU, all or none: until pmm_unreserve, its frame
 * allocations are served from them first, so an operation that reserved what it may need
 * cannot fail half-way (a mapping that replaces another must not lose the old one).
 * pre: interrupts off from before the call until pmm_unreserve (the reserve is per CPU).
 * post: true when all n were set aside.
 */
bool pmm_reserve(size_t n);
void pmm_unreserve(void); /* gives back what was not used */

/* The calling CPU stops for good: its per-CPU caches go back to the zones. */
void pmm_cpu_offline(void);

/* Debug: panics unless every zone and cache satisfies its invariant. */
void pmm_check(void);

#endif /* PMM_INTERNAL_H */
