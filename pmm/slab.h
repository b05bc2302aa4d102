/*
 * Slabs: the kernel heap's size classes and the runs of frames their objects are cut from.
 *
 * A slab is 1, 2, 4 or 8 contiguous frames from mm_phys_alloc_contiguous(). Every frame of
 * it is in state FRAME_SLAB, naming the slab's first frame and the class (frame.h), so any
 * address inside finds its slab through the frame table. The first SLAB_HEADER_SIZE bytes
 * of the first frame hold the header (struct slab); the objects follow from `first`, which
 * is a multiple of the largest power of two dividing the class size, so each object is
 * aligned to it.
 *
 * Each object of a slab is in exactly one of three places: the slab's free pool (its bit
 * in pool[]), one per-CPU cache (kmalloc.c), or handed out to a caller (its bit in
 * allocated[]). The allocated bitmap is exact at all times: kmalloc sets the bit and kfree
 * clears it with one atomic read-modify-write each, and a kfree that finds the bit clear is
 * a double free, wherever the first free put the object. That is the price of reliable
 * detection: a locked instruction on each call, and the header's cache line shared by the
 * CPUs that use objects of one slab.
 */
#ifndef PMM_SLAB_H
#define PMM_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lib/spinlock.h>
#include <mm/kmalloc.h>

#include "frame.h"

#define SLAB_HEADER_SIZE 128
#define SLAB_MAP_WORDS 4 /* bitmap words: at most 256 objects per slab */
#define SLAB_MAX_OBJECTS (SLAB_MAP_WORDS * 64)
#define SLAB_MAX_FRAMES 8

/* The fixed shape of one size class. */
struct slab_geom {
	uint16_t size;      /* object size, a multiple of 16 */
	uint16_t frames;    /* frames per slab */
	uint16_t first;     /* offset of object 0 from the slab's start */
	uint16_t objects;   /* objects per slab */
	uint16_t cache_cap; /* per-CPU cache capacity (objects) */
	uint16_t batch;     /* objects moved per refill or drain: cache_cap / 2 */
	uint16_t slot_base; /* where the class's cache starts in a CPU's slot array */
	uint32_t recip;     /* ceil(2^32 / size): offset / size as a multiply (see slab.c) */
};

extern const struct slab_geom slab_geom[MM_KMALLOC_CLASSES];

/* The per-CPU slot arrays hold this many pointers: the sum of the cache capacities. */
#define SLAB_CACHE_SLOTS 864

/* The class of a size in [0, MM_KMALLOC_MAX_SMALL], indexed by ceil(size / 16). */
extern const uint8_t slab_size_class[MM_KMALLOC_MAX_SMALL / 16 + 1];

static inline unsigned slab_class_of(size_t size)
{
	return slab_size_class[(size + 15) >> 4];
}

/*
 * The slab header, at the start of the slab's first frame.
 *
 * Invariant (the class's lock held):
 *   - pool[] has exactly `pooled` bits set, all below the class's objects count;
 *     allocated[] has no bit below objects that pool[] has, and none above;
 *   - list names the one place the slab is: SLAB_PARTIAL (0 < pooled < objects, on the
 *     class's partial list), SLAB_FULL (pooled == 0, on the full list) or SLAB_SPARE
 *     (pooled == objects, the class's one spare);
 *   - a slab with pooled == objects is the spare: the rest go back to the frame allocator.
 * With no CPU allocating (the checker): popcount(pool) + popcount(allocated) + the entries
 * of per-CPU caches in this slab == objects.
 */
enum slab_list { SLAB_PARTIAL = 1, SLAB_FULL, SLAB_SPARE };

struct slab {
	/* First cache line: only under the class's lock. */
	struct slab *next, *prev; /* neighbours on the partial or full list */
	uint16_t cls;
	uint16_t pooled; /* objects in the free pool */
	uint8_t list;    /* enum slab_list */
	uint8_t unused[3];
	uint64_t pool[SLAB_MAP_WORDS];
	uint64_t unused2;
	/* Second cache line: allocated[] by any CPU with atomics; mark[] by the checker. */
	uint64_t allocated[SLAB_MAP_WORDS];
	uint64_t mark[SLAB_MAP_WORDS];
};

_Static_assert(sizeof(struct slab) == SLAB_HEADER_SIZE, "the header fills 128 bytes");

/*
 * One size class.
 *
 * Invariant (under lock): partial and full are doubly linked lists of the class's slabs
 * in states SLAB_PARTIAL and SLAB_FULL (prev of the first is NULL); spare is NULL or a slab
 * in state SLAB_SPARE; slabs counts the three together. The counters are updated with
 * atomics, outside the lock.
 */
struct slab_class {
	spinlock_t lock;
	struct slab *partial, *full, *spare;
	uint64_t slabs;
	uint64_t double_frees, invalid_frees;
} __attribute__((aligned(64)));

extern struct slab_class slab_classes[MM_KMALLOC_CLASSES];

/* The start of object idx of slab s. */
static inline void *slab_object(const struct slab *s, unsigned idx)
{
	const struct slab_geom *g = &slab_geom[s->cls];
	return (char *)s + g->first + (size_t)idx * g->size;
}

/* The header of the slab whose frame descriptor is f (state FRAME_SLAB). */
static inline struct slab *slab_of_frame(const struct frame *f)
{
	return (struct slab *)MM_VIRTUALIZE(pfn_to_phys(f->slab.head));
}

/*
 * Where phys (inside the slab whose frame is f) lies.
 * post: true with *idx when phys is the start of an object; false when it is inside the
 *       header, inside an object, or past the last object.
 */
static inline bool slab_index(const struct frame *f, uintptr_t phys, unsigned *idx)
{
	const struct slab_geom *g = &slab_geom[f->slab.cls];
	uintptr_t offset = phys - pfn_to_phys(f->slab.head);
	if (offset < g->first)
		return false;
	offset -= g->first;
	/* offset < 2^15 and size < 2^16, so the multiply gives the exact quotient. */
	uint32_t i = (uint32_t)(((uint64_t)offset * g->recip) >> 32);
	if ((uintptr_t)i * g->size != offset || i >= g->objects)
		return false;
	*idx = i;
	return true;
}

/* Sets or clears object idx's allocated bit. post: the bit's previous value. */
static inline bool slab_set_allocated(struct slab *s, unsigned idx)
{
	uint64_t bit = 1ull << (idx % 64);
	return (__atomic_fetch_or(&s->allocated[idx / 64], bit, __ATOMIC_RELAXED) & bit) != 0;
}

static inline bool slab_clear_allocated(struct slab *s, unsigned idx)
{
	uint64_t bit = 1ull << (idx % 64);
	return (__atomic_fetch_and(&s->allocated[idx / 64], ~bit, __ATOMIC_RELAXED) & bit) != 0;
}

/*
 * Takes free objects of class cls for a per-CPU cache: from the partial slabs, then the
 * spare, then a new slab; a slab's whole pool when it fits in room, so n or more.
 * pre: interrupts off; n <= room. post: how many were written to out (at most room; fewer
 * than n only when no frame is left for a new slab); their allocated bits are clear.
 */
size_t slab_take(unsigned cls, void **out, size_t n, size_t room);

/*
 * Gives n objects of class cls back to their slabs' pools. A slab that becomes empty is
 * kept as the spare if the class has none, else returned to the frame allocator.
 * pre: interrupts off; each object came from slab_take and its allocated bit is clear.
 */
void slab_give(unsigned cls, void *const *objs, size_t n);

/* Returns the class's spare slab, if any, to the frame allocator. */
void slab_release_spare(unsigned cls);

/* Counts a bad free against the class. */
static inline void slab_count(uint64_t *counter)
{
	__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

/*
 * Checks class cls's geometry, lists and slabs (under its lock) and, through visit, lets
 * the caller account for the objects held elsewhere: visit is called with the class locked
 * and marks every cached object with slab_mark(). Then every slab's pool, allocated and
 * marked objects must add up to its objects. pre: no CPU allocates or frees meanwhile.
 * post: NULL, or the name of the first broken invariant.
 */
const char *slab_check_class(unsigned cls, const char *(*visit)(unsigned cls));

/* For visit: marks a cached object. post: NULL, or why it cannot be in a per-CPU cache. */
const char *slab_mark(unsigned cls, const void *obj);

#endif /* PMM_SLAB_H */
