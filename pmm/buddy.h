/*
 * Buddy allocator, orders 0..BUDDY_MAX_ORDER, in zones: each NUMA node's frames are split
 * into up to BUDDY_ZONES_PER_NODE zones of whole 1 GiB chunks (aligned 2^BUDDY_MAX_ORDER
 * frames), each with its own lock and lists, so that CPUs working in different zones never
 * meet at one lock. No buddy block crosses a chunk, so splitting a node this way loses no
 * block and the merge needs no zone check beyond the node's. Each CPU starts in its own
 * home zone of its node (pmm/pcache.c) and moves on to the node's other zones only when
 * that one has nothing of the order it needs.
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

#define BUDDY_ZONES_PER_NODE 16
#define BUDDY_CHUNK_ORDER BUDDY_MAX_ORDER /* a zone is made of whole chunks of 2^this frames */

struct buddy_zone {
	spinlock_t lock;
	unsigned node;
	uint32_t free_head[BUDDY_MAX_ORDER + 1];
	uint64_t count[BUDDY_MAX_ORDER + 1]; /* blocks on each list */
	uint64_t free_frames;
	uint64_t total_frames;
} __attribute__((aligned(64)));

/* Zone i * BUDDY_ZONES_PER_NODE + j is zone j of node i. */
extern struct buddy_zone buddy_zones[ARCH_MAX_NODES * BUDDY_ZONES_PER_NODE];

/* A node's zones: zone j holds the chunks first_chunk + (j << shift) onwards, 2^shift of
 * them (the last zone may hold fewer). Set once at start-up, read-only after. */
struct buddy_node {
	unsigned count;       /* zones in use, 1..BUDDY_ZONES_PER_NODE */
	unsigned shift;       /* log2 of the chunks per zone */
	uint64_t first_chunk; /* pfn >> BUDDY_CHUNK_ORDER of the node's lowest frame */
};
extern struct buddy_node buddy_nodes[ARCH_MAX_NODES];

static inline struct buddy_zone *buddy_zone_at(unsigned node, unsigned j)
{
	return &buddy_zones[node * BUDDY_ZONES_PER_NODE + j];
}

/* The zone of a frame of RAM. */
static inline struct buddy_zone *buddy_zone_of(uint64_t pfn)
{
	unsigned node = pfn_frame(pfn)->node;
	const struct buddy_node *n = &buddy_nodes[node];
	return buddy_zone_at(node,
	                     (unsigned)(((pfn >> BUDDY_CHUNK_ORDER) - n->first_chunk) >> n->shift));
}

/* Lays node's zones over its frames [lo, hi) (holes allowed). */
void buddy_node_init(unsigned node, uint64_t lo, uint64_t hi);

/* The first frame past the zone of pfn (where its chunks end). */
uint64_t buddy_zone_end(uint64_t pfn);

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
