/*
 * What the kernel heap's files share: the per-CPU object caches, the whole-frame
 * allocations above the largest class, and the report of a bad free.
 */
#ifndef PMM_KMALLOC_INTERNAL_H
#define PMM_KMALLOC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <mm/kmalloc.h>

#include "frame.h"
#include "slab.h"

/*
 * One CPU's caches of free objects, one stack per class in slots[slot_base .. +cache_cap).
 *
 * Invariant of CPU c's caches (checked by mm_kmalloc_check):
 *   count[k] <= slab_geom[k].cache_cap, and slots[slot_base(k) .. + count[k]) are distinct
 *   starts of objects of class k whose allocated and pool bits are both clear. Only CPU c
 *   touches them, with interrupts off, so kmalloc and kfree take no lock and no atomic on
 *   the cache; the class lock is taken once per batch moved in or out.
 * allocs and frees count the calls served on this CPU (an object may be freed on another
 * CPU than the one that allocated it: only the sums over CPUs balance).
 */
struct kcache {
	uint16_t count[MM_KMALLOC_CLASSES];
	uint64_t allocs[MM_KMALLOC_CLASSES];
	uint64_t frees[MM_KMALLOC_CLASSES];
	void *slots[SLAB_CACHE_SLOTS];
} __attribute__((aligned(64)));

extern struct kcache kcaches[ARCH_MAX_CPUS];

/* Counters of the whole-frame allocations, updated with relaxed atomics. */
struct large_stats {
	uint64_t in_use, frames, allocs, frees, invalid_frees;
};
extern struct large_stats large_stats;

/* Frees not attributable to a class or a large allocation (relaxed atomics). */
extern uint64_t kmalloc_invalid_frees;

/* size (> MM_KMALLOC_MAX_SMALL) bytes as whole frames, or NULL with MM_ENOMEM. */
void *kmalloc_large(size_t size);

/* kfree of ptr, whose frame f (at phys) is in state FRAME_LARGE. */
void kfree_large(const void *ptr, struct frame *f, uintptr_t phys);

/* Bytes usable at ptr (frame f, state FRAME_LARGE): 0 unless ptr is an allocation's start. */
size_t large_usable_size(const struct frame *f, uintptr_t phys);

/* Prints "kfree(ptr): why" (with the class size when size != 0) and counts it. */
void kmalloc_report_bad_free(const void *ptr, const char *why, unsigned size, uint64_t *counter);

#endif /* PMM_KMALLOC_INTERNAL_H */
