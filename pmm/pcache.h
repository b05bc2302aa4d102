/*
 * Per-CPU caches of order-0 frames in front of the buddy zones.
 *
 * Invariant of the cache of CPU c (checked by pcache_check() in debug builds):
 *   frames[0 .. count) are distinct frame numbers, each in state CACHED and on node
 *   arch_cpu_node(c); 0 <= count <= PCACHE_CAPACITY. Only CPU c touches its cache, with
 *   interrupts off, so the fast path needs no lock and no atomic read-modify-write.
 * The buddy zone's lock is taken once per PCACHE_BATCH frames moved in or out.
 */
#ifndef PMM_PCACHE_H
#define PMM_PCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define PCACHE_CAPACITY 256 /* high watermark: what one CPU may hoard */
#define PCACHE_BATCH 64     /* frames per refill or drain */

struct pcache {
	uint32_t count;
	uint32_t frames[PCACHE_CAPACITY]; /* a stack: the last freed (cache-hot) is reused first */
	uint64_t allocs, frees, hits, refills, drains;
} __attribute__((aligned(64)));

extern struct pcache pcaches[ARCH_MAX_CPUS];

/* When false, every order-0 request goes straight to the buddy zones (benchmarks compare). */
extern int pcache_enabled;

/* Frames that may still be handed out before allocations fail (fault injection); -1: no
 * limit. post: how many of n may be granted now (and they are taken from the budget). */
extern long pmm_fail_budget;
size_t pmm_budget_take(size_t n);

/* Takes up to n order-0 frames, local node first, and marks them ALLOCATED with one
 * reference. post: how many were written to pfns (fewer only when memory is gone). */
size_t pcache_alloc_batch(uint64_t *pfns, size_t n);

/* Gives frames whose last reference was dropped back (to this CPU's cache when local).
 * pre: each frame is ALLOCATED or PAGETABLE with refcount 0. */
void pcache_free_batch(const uint64_t *pfns, size_t n);

/* Empties the calling CPU's cache, or (quiescent system only) every CPU's. */
void pcache_drain_local(void);
void pcache_drain_all(void);

/* Debug: panics unless every cache satisfies the invariant above. */
void pcache_check(void);

#endif /* PMM_PCACHE_H */
