/* kmalloc above the largest size class: whole contiguous frames, their length kept in the
 * frame descriptors (state FRAME_LARGE). */
#include <mm/phys.h>

#include "kmalloc_internal.h"

struct large_stats large_stats;

/* mm_phys_alloc_contiguous's limit: one largest buddy block. */
#define LARGE_MAX_BYTES ((size_t)MM_PAGE_SIZE << BUDDY_MAX_ORDER)

static void add(uint64_t *counter, uint64_t n)
{
	__atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
}

void *kmalloc_large(size_t size)
{
	if (size > LARGE_MAX_BYTES) {
		mm_set_error(MM_ENOMEM);
		return NULL;
	}
	uint64_t frames = (size + MM_PAGE_SIZE - 1) >> MM_PAGE_SHIFT;
	uintptr_t phys = mm_phys_alloc_contiguous(frames);
	if (phys == MM_NADDR) {
		mm_set_error(MM_ENOMEM);
		return NULL;
	}
	uint64_t pfn = phys_to_pfn(phys);
	for (uint64_t i = 0; i < frames; i++) {
		struct frame *f = pfn_frame(pfn + i);
		MM_ASSERT(frame_state(f) == FRAME_ALLOCATED && f->refcount == 1);
		f->large.head = (uint32_t)pfn;
		f->large.frames = (uint32_t)frames;
		frame_set_state(f, FRAME_LARGE);
	}
	add(&large_stats.in_use, 1);
	add(&large_stats.frames, frames);
	add(&large_stats.allocs, 1);
	return MM_VIRTUALIZE(phys);
}

static bool is_start(const struct frame *f, uintptr_t phys)
{
	return (phys & (MM_PAGE_SIZE - 1)) == 0 && f->large.head == phys_to_pfn(phys);
}

void kfree_large(const void *ptr, struct frame *f, uintptr_t phys)
{
	if (!is_start(f, phys)) {
		kmalloc_report_bad_free(ptr, "inside a large allocation, not its start", 0,
		                        &large_stats.invalid_frees);
		return;
	}
	uint32_t frames = f->large.frames;
	/* Claim the allocation: of two CPUs freeing it at once, one wins, the other sees a
	 * frame that is no longer the heap's. */
	uint8_t expected = FRAME_LARGE;
	if (!__atomic_compare_exchange_n(&f->state, &expected, (uint8_t)FRAME_ALLOCATED, false,
	                                 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
		kmalloc_report_bad_free(ptr, "not allocated (freed twice at once?)", 0,
		                        &kmalloc_invalid_frees);
		return;
	}
	/* Plain allocated frames again (refcount is still the allocation's 1), each freed on its
	 * own, as a contiguous run is. */
	for (uint32_t i = 1; i < frames; i++) {
		struct frame *tail = f + i;
		MM_ASSERT(frame_state(tail) == FRAME_LARGE && tail->large.head == phys_to_pfn(phys));
		frame_set_state(tail, FRAME_ALLOCATED);
	}
	for (uint32_t i = 0; i < frames; i++) {
		int error = mm_phys_free_page(phys + (uintptr_t)i * MM_PAGE_SIZE);
		MM_ASSERT(error == MM_OK);
		(void)error;
	}
	__atomic_sub_fetch(&large_stats.in_use, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&large_stats.frames, frames, __ATOMIC_RELAXED);
	add(&large_stats.frees, 1);
}

size_t large_usable_size(const struct frame *f, uintptr_t phys)
{
	return is_start(f, phys) ? (size_t)f->large.frames << MM_PAGE_SHIFT : 0;
}
