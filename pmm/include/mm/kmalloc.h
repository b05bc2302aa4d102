/*
 * The kernel heap: kmalloc / kfree with malloc(3) / free(3) semantics, over frames
 * reached through the direct map. The same code runs in the kernel and on the host.
 *
 * Sizes up to MM_KMALLOC_MAX_SMALL bytes come from slabs of 14 size classes (16, 32, 48,
 * 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048) behind per-CPU caches; larger
 * sizes are whole frames.
 *
 * Alignment: every pointer is aligned to 16 bytes at least. An object of class size s is
 * aligned to the largest power of two that divides s, so a request of a power-of-two size
 * n <= 4096 is aligned to n; allocations above MM_KMALLOC_MAX_SMALL are page-aligned.
 *
 * kmalloc(0) returns a unique pointer (a 16-byte object) that kfree accepts, as glibc's
 * malloc(0) does; kfree(NULL) does nothing.
 *
 * Bad frees are caught, not obeyed: kfree of a pointer kmalloc did not return (outside the
 * direct map of RAM, a frame that is not the heap's, an address inside an object) or of one
 * already freed prints one line naming the pointer and the reason, counts it in the
 * statistics, and returns without freeing anything. A double free is always caught, also
 * when the first free went into a per-CPU cache; a double free racing with the release of
 * the same slab (its last objects being freed on another CPU) cannot be.
 */
#ifndef MM_KMALLOC_H
#define MM_KMALLOC_H

#include <mm/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MM_KMALLOC_CLASSES 14
#define MM_KMALLOC_MAX_SMALL 2048 /* the largest size class */

/* Size bytes, not zeroed, or NULL (mm_last_error(): MM_ENOMEM). */
void *kmalloc(size_t size);

/* Frees what kmalloc/kcalloc returned; NULL is a no-op; anything else is reported. */
void kfree(void *ptr);

/* n * size bytes, zeroed, or NULL when memory is gone or n * size overflows (MM_ENOMEM). */
void *kcalloc(size_t n, size_t size);

/* The bytes usable at ptr (its class size, or its whole frames): at least what was asked.
 * 0 for NULL and for anything that is not a live kmalloc allocation (nothing is reported). */
size_t kmalloc_usable_size(const void *ptr);

/* Counters of one size class. in_use, cached and the call counts are sums of per-CPU
 * counters: exact when no CPU is allocating, a snapshot otherwise. */
struct mm_kmalloc_class_stats {
	size_t size;            /* object size of the class */
	uint64_t in_use;        /* objects handed out and not freed */
	uint64_t cached;        /* free objects held in per-CPU caches */
	uint64_t slabs;         /* slabs the class holds (its spare empty slab included) */
	uint64_t frames;        /* frames those slabs take */
	uint64_t allocs, frees; /* successful calls since start-up */
	uint64_t double_frees;  /* kfree of an object that was not allocated */
	uint64_t invalid_frees; /* kfree of an address in a slab that is not an object's start */
};

struct mm_kmalloc_stats {
	struct mm_kmalloc_class_stats classes[MM_KMALLOC_CLASSES];
	uint64_t large_in_use; /* whole-frame allocations handed out and not freed */
	uint64_t large_frames; /* frames they take */
	uint64_t large_allocs, large_frees;
	uint64_t large_invalid_frees; /* kfree of an address inside one that is not its start */
	/* kfree of an address in no heap frame: outside the direct map, not RAM, a free frame
	 * or one used otherwise. A large allocation freed twice lands here (its frames went back
	 * to the frame allocator at the first free), as does an object freed twice whose slab
	 * was emptied and released in between. */
	uint64_t invalid_frees;
};

void mm_kmalloc_get_stats(struct mm_kmalloc_stats *out);

/* Returns every object in every per-CPU cache to its slab, and every empty slab (spares
 * included) to the frame allocator.
 * pre: no other CPU calls kmalloc or kfree meanwhile (tests, quiescent systems). */
void mm_kmalloc_drain_caches(void);

/* The same for the calling CPU's caches only; safe at any time. */
void mm_kmalloc_drain_local(void);

/*
 * The invariant checker: the class geometry, every slab of every class (its frames, lists
 * and bitmaps), every per-CPU cache entry, and that each object is in exactly one place
 * (its slab's free pool, one per-CPU cache, or handed out). Prints the first broken
 * invariant. pre: as mm_kmalloc_drain_caches. post: MM_OK, or MM_EINVAL.
 */
int mm_kmalloc_check(void);

#ifdef __cplusplus
}
#endif

#endif /* MM_KMALLOC_H */
