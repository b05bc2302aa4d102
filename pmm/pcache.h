/*
 * Per-CPU caches of free frames in front of the buddy zones: one stack of 4 KiB frames, one
 * of 2 MiB blocks, and one of 4 KiB frames known to hold only zeros per CPU.
 *
 * The zeroed stack is filled only by pcache_free_zeroed, with frames whose contents the
 * freeing code knows to be zero (page tables an unmap emptied: every entry was cleared), and
 * never refilled from the zones, so a page table taken from it needs no zeroing. It keeps
 * what the map/unmap cycle frees and re-creates (docs/design.md, "Page tables kept").
 *
 * Invariant of the cache of CPU c (checked by pcache_check() in debug builds):
 *   small[0 .. count[PCACHE_4K]) are distinct frame numbers, each in state CACHED, order 0,
 *   on node arch_cpu_node(c); large[0 .. count[PCACHE_2M]) likewise, order 9 (the other 511
 *   frames of each block INNER); zeroed[0 .. count[PCACHE_ZEROED]) like small, and every
 *   byte of each frame zero; no frame in two stacks; count[k] <= its capacity. Only CPU c touches its cache,
 *   with interrupts off, so the fast paths take no lock and no atomic read-modify-write.
 * A zone lock is taken once per batch moved in or out.
 */
#ifndef PMM_PCACHE_H
#define PMM_PCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

enum pcache_size { PCACHE_4K = 0, PCACHE_2M = 1, PCACHE_ZEROED = 2, PCACHE_SIZES };

#define PCACHE_CAPACITY 256     /* 4 KiB frames: what one CPU may hoard (1 MiB) */
#define PCACHE_BATCH 64         /* 4 KiB frames per refill or drain */
#define PCACHE_BATCH_ORDER 6    /* PCACHE_BATCH == 1 << PCACHE_BATCH_ORDER */
#define PCACHE_LARGE_CAPACITY 8 /* 2 MiB blocks (16 MiB) */
#define PCACHE_LARGE_BATCH 2
#define PCACHE_LARGE_ORDER 9
#define PCACHE_ZEROED_CAPACITY 32 /* zeroed 4 KiB frames (128 KiB) */
#define PCACHE_ZEROED_BATCH 16

struct pcache {
	uint32_t count[PCACHE_SIZES];
	uint32_t node_plus_one; /* the CPU's node + 1, learnt on first use (0: not yet) */
	uint32_t home_zone;     /* its node's zone it starts in (pmm/buddy.h), learnt with it */
	uint64_t reserve_head;  /* pmm_reserve's frames, chained through list.next */
	uint64_t reserved;
	uint32_t small[PCACHE_CAPACITY]; /* stacks: the last freed (cache-hot) is reused first */
	uint32_t large[PCACHE_LARGE_CAPACITY];
	uint32_t zeroed[PCACHE_ZEROED_CAPACITY];
	uint64_t allocs, frees, hits, refills, drains;
} __attribute__((aligned(64)));

extern struct pcache pcaches[ARCH_MAX_CPUS];

/* When false, every request goes straight to the buddy zones (benchmarks compare). */
extern int pcache_enabled;

/* Frames that may still be handed out before allocations fail (fault injection); -1: no
 * limit. post: how many of n may be granted now (and they are taken from the budget). */
extern long pmm_fail_budget;
size_t pmm_budget_take(size_t n);

/* Takes up to n 4 KiB frames, the calling CPU's node first, then the others by distance,
 * draining every CPU's cache before giving up; marks them ALLOCATED with one reference.
 * post: how many were written to pfns (fewer only when memory is gone). */
size_t pcache_alloc_batch(uint64_t *pfns, size_t n);

/* One 4 KiB frame, as pcache_alloc_batch(&pfn, 1) but with the frame number in a register
 * rather than through memory (a store and a load the CPU may wrongly think depend on another
 * access 4 KiB away). post: the frame, ALLOCATED with one reference, or FRAME_NIL. */
uint64_t pcache_alloc_one(void);

/* Gives one 4 KiB frame whose last reference was dropped back, as pcache_free_batch(&pfn, 1).
 * pre: its refcount is 0. */
void pcache_free_one(uint64_t pfn);

/* Up to n frames from the calling CPU's zeroed stack (never refilled: what is there),
 * ALLOCATED with one reference, their contents zero. post: how many. */
size_t pcache_alloc_zeroed(uint64_t *pfns, size_t n);

/* Gives 4 KiB frames whose last reference was dropped back (to this CPU's cache when
 * local). pre: each frame's refcount is 0. */
void pcache_free_batch(const uint64_t *pfns, size_t n);

/* Gives back a 4 KiB frame whose last reference was dropped and whose every byte is zero:
 * to this CPU's zeroed stack when local (its coldest batch goes to the zone when full), as
 * pcache_free_batch otherwise. pre: refcount 0; the contents are zero (checked in debug
 * builds). */
void pcache_free_zeroed(uint64_t pfn);

/* A 2 MiB block of the calling CPU's node from its cache (refilled in batches), or
 * FRAME_NIL; the caller falls back to the zones. post: its head is not yet marked. */
uint64_t pcache_alloc_large(void);

/* Gives a free 2 MiB block back (to this CPU's cache when local). */
void pcache_free_large(uint64_t pfn);

/* The zone of node the calling CPU starts in: its home zone on its own node, a zone picked
 * by its number on another. */
unsigned pcache_start_zone(unsigned node);

/* Takes up to n free blocks of 2^order frames from node's zones, the calling CPU's start
 * zone first, in one lock acquisition (of the first zone that has any); marks their heads
 * state. post: how many (0 when no zone of the node has one). */
size_t pcache_node_take(unsigned node, unsigned order, uint32_t *out, size_t n,
                        enum frame_state state);

/* Empties the calling CPU's caches. */
void pcache_drain_local(void);

/* Memory pressure: every online CPU empties its caches (one cross-CPU call).
 * pre: interrupts off, no zone lock held. post: false when nothing was cached anywhere. */
bool pcache_reclaim_all(void);

/* Debug: panics unless every cache satisfies the invariant above. */
void pcache_check(void);

#endif /* PMM_PCACHE_H */
