/*
 * The frame table: one 16-byte descriptor per 4 KiB physical frame, indexed by frame
 * number (pfn = phys >> 12), from frame 0 to the highest frame of RAM (holes included).
 *
 * A frame is always in exactly one state:
 *   RESERVED   not RAM handed to the allocator (holes, the frame table itself, firmware)
 *   FREE       the first frame of a free buddy block of 2^order frames, on its zone's list
 *   INNER      a frame inside a free or allocated block that is not its first frame
 *   CACHED     an order-0 frame in some CPU's cache (free, but not in the buddy lists)
 *   ALLOCATED  an allocated 4 KiB frame; refcount >= 1
 *   HEAD       the first frame of an allocated 2 MiB / 1 GiB page (order 9 / 18);
 *              refcount >= 1, the other frames of the page are INNER
 *   PAGETABLE  an allocated frame used as a page table; pt_used counts its present entries
 *   SLAB       a frame of a kmalloc slab (pmm/slab.h); slab.head is the slab's first frame,
 *              which holds the slab header, slab.cls its size class; refcount 1
 *   LARGE      a frame of a kmalloc allocation above the largest size class, made of whole
 *              frames; large.head is its first frame (the address kmalloc returned),
 *              large.frames its length in frames; refcount 1
 */
#ifndef PMM_FRAME_H
#define PMM_FRAME_H

#include <stdint.h>

#include <lib/assert.h>
#include <mm/types.h>

enum frame_state {
	FRAME_RESERVED = 0,
	FRAME_FREE,
	FRAME_INNER,
	FRAME_CACHED,
	FRAME_ALLOCATED,
	FRAME_HEAD,
	FRAME_PAGETABLE,
	FRAME_SLAB,
	FRAME_LARGE,
};

#define FRAME_NIL UINT32_MAX
#define BUDDY_MAX_ORDER 18 /* 2^18 frames = 1 GiB */

struct frame {
	union {
		struct { /* FREE: links of the zone's free list (frame numbers) */
			uint32_t next;
			uint32_t prev;
		} list;
		struct {              /* PAGETABLE */
			uint32_t pt_used; /* present entries in the table */
			/* Page-directory entries pointing at this table: 1 for a table of one space; a
			 * leaf table a fork shares has one per space (vmm/share.c). */
			uint32_t sharers;
		} table;
		struct {           /* SLAB: every frame of the slab */
			uint32_t head; /* frame number of the slab's first frame */
			uint16_t cls;  /* size class index */
			uint16_t unused;
		} slab;
		struct {             /* LARGE: every frame of the allocation */
			uint32_t head;   /* frame number of the allocation's first frame */
			uint32_t frames; /* frames in the allocation */
		} large;
	};
	uint32_t refcount; /* ALLOCATED, HEAD, PAGETABLE: owners; SLAB, LARGE: 1 */
	uint8_t order;     /* FREE, HEAD: log2 of the block's size in frames */
	uint8_t state;     /* enum frame_state */
	uint8_t node;      /* NUMA node the frame belongs to */
	uint8_t reserved_pad;
};

_Static_assert(sizeof(struct frame) == 16, "the frame table costs 16 bytes per frame");

/*
 * A frame's state and order are read without the zone lock by the buddy merge (a neighbour's
 * descriptor) while the frame's owner may be changing them: both sides use relaxed atomic
 * byte accesses, so the race is defined and the reader sees either value, never a torn one.
 * The merge only acts on FREE, which changes only under the zone lock.
 */
static inline enum frame_state frame_state(const struct frame *f)
{
	return (enum frame_state)__atomic_load_n(&f->state, __ATOMIC_RELAXED);
}

static inline void frame_set_state(struct frame *f, enum frame_state state)
{
	__atomic_store_n(&f->state, (uint8_t)state, __ATOMIC_RELAXED);
}

static inline unsigned frame_order(const struct frame *f)
{
	return __atomic_load_n(&f->order, __ATOMIC_RELAXED);
}

static inline void frame_set_order(struct frame *f, unsigned order)
{
	__atomic_store_n(&f->order, (uint8_t)order, __ATOMIC_RELAXED);
}

extern struct frame *frame_table;
extern uint64_t frame_table_count; /* descriptors in the table: highest RAM pfn + 1 */

static inline uint64_t phys_to_pfn(uintptr_t phys)
{
	return phys >> MM_PAGE_SHIFT;
}

static inline uintptr_t pfn_to_phys(uint64_t pfn)
{
	return (uintptr_t)pfn << MM_PAGE_SHIFT;
}

static inline struct frame *pfn_frame(uint64_t pfn)
{
	MM_ASSERT(pfn < frame_table_count);
	return &frame_table[pfn];
}

/* The descriptor of a managed frame at phys, or NULL when phys is outside the table or not
 * RAM. phys need not be aligned. */
static inline struct frame *frame_lookup(uintptr_t phys)
{
	uint64_t pfn = phys_to_pfn(phys);
	if (pfn >= frame_table_count || frame_table[pfn].state == FRAME_RESERVED)
		return 0;
	return &frame_table[pfn];
}

static inline uint64_t frame_pfn(const struct frame *f)
{
	return (uint64_t)(f - frame_table);
}

/* Records the error for mm_last_error() and returns it (pmm/error.c). */
int mm_set_error(int error);

#endif /* PMM_FRAME_H */
