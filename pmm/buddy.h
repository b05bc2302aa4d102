/*
 * Buddy allocator, one zone per NUMA node, orders 0..BUDDY_MAX_ORDER.
 *
 * Invariants of a zone (checked by buddy_check_zone() in debug builds):
 *   - free_head[k] lists exactly the frames in state FREE with order k on this node, each
 *     the first frame of a naturally aligned block of 2^k frames, all of whose frames are
 *     this node's RAM; the other frames of such a block are INNER.
 *   - free_frames == sum over k of count[k] << k.
 *   - no two free blocks of order k are buddies (they would have been merged).
 * Functions ending in _locked need zone->lock held.
 */
#ifndef PMM_BUDDY_H
#define PMM_BUDDY_H

#include <stdbool.h>
#include <stdint.h>

#include <lib/spinlock.h>

#include "frame.h"

struct buddy_zone {
	spinlock_t lock;
	unsigned node;
	uint32_t free_head[BUDDY_MAX_ORDER + 1];
	uint64_t count[BUDDY_MAX_ORDER + 1]; /* blocks on each list */
	uint64_t free_frames;
	uint64_t total_frames;
} __attribute__((aligned(64)));

extern struct buddy_zone buddy_zones[ARCH_MAX_NODES];

void buddy_zone_init(struct buddy_zone *zone, unsigned node);

/* Takes a free block of exactly 2^order frames, splitting a larger one if needed.
 * post: the pfn of its first frame (state not yet set by the caller: it is removed from
 *       the lists, its frames FREE/INNER as left) or FRAME_NIL when none is large enough. */
uint64_t buddy_alloc_locked(struct buddy_zone *zone, unsigned order) TA_REQUIRES(zone->lock);

/* Gives back the block of 2^order frames at pfn, merging it with free buddies.
 * pre: the block's frames belong to this zone and are not on any list or cache. */
void buddy_free_locked(struct buddy_zone *zone, uint64_t pfn, unsigned order)
    TA_REQUIRES(zone->lock);

/* Frees an arbitrary run of frames as the largest aligned blocks it contains. */
void buddy_free_run_locked(struct buddy_zone *zone, uint64_t pfn, uint64_t count)
    TA_REQUIRES(zone->lock);

/* Debug: walks the lists and panics if an invariant above does not hold. */
void buddy_check_zone(struct buddy_zone *zone);

#endif /* PMM_BUDDY_H */
