/*
 * Physical memory: the frame allocator's public interface.
 *
 * Frames are reference counted. An allocation returns a frame holding one reference;
 * mm_phys_free_page() drops one, and the frame returns to the allocator when none is left.
 * Frames are not zeroed unless the call says so.
 */
#ifndef MM_PHYS_H
#define MM_PHYS_H

#include <mm/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A range of usable RAM handed to the allocator at start-up. */
struct mm_phys_range {
	uintptr_t base; /* physical, any alignment (rounded inwards to frames) */
	uintptr_t size;
	unsigned node; /* NUMA node, < ARCH_MAX_NODES */
};

/*
 * Sets the allocator up over the given RAM. The frame table is carved out of that RAM.
 * pre:  every range is reachable through the direct map; called once, before any other call.
 * post: 0, or MM_EINVAL (no range, overlapping ranges, node out of range) / MM_ENOMEM (the
 *       frame table does not fit).
 */
int mm_phys_init(const struct mm_phys_range *ranges, size_t count);

/* The calling CPU's node first, then the others nearest first (mm_phys_alloc's node). */
#define MM_NODE_LOCAL (~0u)

/*
 * The general allocation: count pages of the size in flags (4 KiB; 2 MiB with MM_FLG_PS;
 * 1 GiB with MM_FLG_PS1G), physically contiguous and aligned to the page size, from `node`
 * (or MM_NODE_LOCAL), falling back to the nearest other nodes unless MM_FLG_NODE_STRICT.
 * MM_FLG_ZERO zeroes them. Each page is an allocation of its own (one reference): free it
 * with mm_phys_free_page (4 KiB) or mm_free_physical_page (with its size flag).
 * Before failing, every CPU's cache is drained and the zones tried again.
 * Returns the first page's address, or MM_NADDR with MM_EINVAL (count 0, unknown flag,
 * both size flags, node out of range) or MM_ENOMEM.
 */
uintptr_t mm_phys_alloc(size_t count, unsigned node, uint32_t flags);

/* The node of a managed frame, or MM_NODE_LOCAL for an address the allocator does not
 * manage. */
unsigned mm_phys_node_of(uintptr_t addr);

/* One 4 KiB frame, or MM_NADDR (mm_last_error(): MM_ENOMEM). */
uintptr_t mm_phys_alloc_page(void);

/* Count physically contiguous 4 KiB frames, any count; each frame can be freed on its
 * own with mm_phys_free_page(). MM_NADDR on MM_EINVAL (count 0) or MM_ENOMEM. */
uintptr_t mm_phys_alloc_contiguous(size_t count);

/* Drop one reference on the 4 KiB frame at addr (freeing it at zero).
 * Returns 0, MM_EINVAL (unaligned, not a frame this allocator manages) or MM_ENOTALLOC
 * (already free: a double free; or the frame belongs to a 2 MiB / 1 GiB page). */
int mm_phys_free_page(uintptr_t addr);

/* One page; flags 0 (4 KiB), MM_FLG_PS (2 MiB) or MM_FLG_PS1G (1 GiB), each aligned to
 * its size. MM_NADDR on MM_EINVAL (unknown flag) or MM_ENOMEM. */
uintptr_t mm_alloc_physical_page(uint32_t flags);

/* Free a page from mm_alloc_physical_page() with the same size flags.
 * Returns 0, MM_EINVAL (unaligned, unknown flag, not managed) or MM_ENOTALLOC (not
 * allocated, or allocated with another size). */
int mm_free_physical_page(uintptr_t page, uint32_t flags);

/* Take one more reference on an allocated 4 KiB frame (shared mappings, COW).
 * Returns 0, MM_EINVAL or MM_ENOTALLOC. */
int mm_phys_ref(uintptr_t addr);

/* True when addr lies in a frame this allocator manages (RAM), allocated or not. */
int mm_phys_is_managed(uintptr_t addr);

/* Counters for tests and mm_dump_stats(). */
struct mm_phys_stats {
	uint64_t total_frames;  /* frames the allocator manages */
	uint64_t free_frames;   /* in the buddy lists and the per-CPU caches */
	uint64_t cached_frames; /* of which in per-CPU caches */
	uint64_t zeroed_frames; /* of which kept zeroed there (emptied page tables) */
	uint64_t frame_table_bytes;
	uint64_t allocs, frees; /* calls served since start-up */
	uint64_t cache_hits, cache_refills, cache_drains;
};
void mm_phys_get_stats(struct mm_phys_stats *out);

struct mm_phys_node_stats {
	uint64_t total_frames, free_frames, cached_frames;
	uint64_t free_blocks[19]; /* free buddy blocks of each order, 4 KiB .. 1 GiB */
};
/* Per-node counters. Returns 0, or MM_EINVAL (NULL, node out of range). */
int mm_phys_get_node_stats(unsigned node, struct mm_phys_node_stats *out);

/* Every online CPU returns its cached frames to the buddy zones (one cross-CPU call), as
 * memory pressure does. pre: interrupts on. */
void mm_phys_drain_caches(void);

/* Fault injection for tests of callers' error paths: after `frames` more frames have been
 * handed out, every allocation fails with MM_ENOMEM; a negative value turns it off. */
void mm_phys_fail_after(long frames);

/* Turns the per-CPU caches on (default) or off, so benchmarks can show what they gain.
 * Turning them off drains the calling CPU's cache; other CPUs' drain as they free. */
void mm_phys_set_caching(int enabled);

#ifdef __cplusplus
}
#endif

#endif /* MM_PHYS_H */
