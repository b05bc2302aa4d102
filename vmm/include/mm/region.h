/*
 * Regions, faults and the objects that back them.
 *
 * Every mapping made through the mm_ API lives in a region: a page-aligned range of one
 * space with its permissions, a section tag, and what backs it. mm_map_range makes an
 * anonymous populated region, mm_map_range_pages a region of given pages; the calls below
 * make the others. A region's pages may be mapped now (populated) or on first access
 * (mm_fault).
 *
 * Fork (mm_space_fork) copies private regions copy-on-write and shares shared ones, device
 * and given-page regions included.
 *
 * A region is what one call made: regions are never merged, even when two calls made
 * neighbours with the same properties, so that a call that removes a region removes what its
 * caller made and nothing else. An unmap or a permission change of part of a region cuts
 * it. The heap (mm_brk) grows its own region in place; after a permission change or an
 * unmap of its top, the next growth starts a new heap region.
 */
#ifndef MM_REGION_H
#define MM_REGION_H

#include <mm/vmm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Sections: what a region is for. */
enum mm_section {
	MM_SECTION_NONE = 0,
	MM_SECTION_STACK,  /* a stack (grows down, a guard page below) */
	MM_SECTION_CODE,   /* program code: read + execute */
	MM_SECTION_DATA,   /* static data */
	MM_SECTION_HEAP,   /* grown by mm_brk */
	MM_SECTION_MMAP,   /* mapped at run time */
	MM_SECTION_KERNEL, /* kernel-internal data */
	MM_SECTION_DEVICE, /* device memory (mm_map_range_pages with MM_FLG_DMA) */
	MM_SECTION_COUNT
};

/* Region kind flags, beside the permission flags MM_FLG_WR / MM_FLG_EXEC / MM_FLG_US. */
/* Map every page now instead of on first access; anonymous pages get frames of their own,
 * read-only ones too. */
#define MM_REGION_POPULATE (1u << 16)
/* With a pager: every space maps the object's own frames; fork shares the region instead of
 * copying it. */
#define MM_REGION_SHARED (1u << 17)
#define MM_REGION_FIXED (1u << 18) /* start is required, not a hint */

/* ---- Pagers: what backs an object region -------------------------------------------- */

struct mm_pager;

struct mm_pager_ops {
	/*
	 * The frame holding the object's page at `offset` (page-aligned), with one reference for
	 * the caller, or MM_NADDR with an error in *error (MM_EFAULT past the object's end,
	 * MM_ENOMEM). A private mapping maps it read-only and copies it on the first write; a
	 * shared mapping maps it as the region's permissions say.
	 */
	uintptr_t (*get_page)(struct mm_pager *pager, uint64_t offset, int *error);
	/* The last reference to the pager went: free what it holds. May be NULL. */
	void (*release)(struct mm_pager *pager);
	/* Calls visit for each frame the object holds a reference on (its page cache), so that
	 * the invariant checker can account for every reference exactly. May be NULL: the
	 * checker then only requires at least the mappings' references on its pages. */
	void (*for_each_page)(struct mm_pager *pager, void (*visit)(uintptr_t phys, void *ctx),
	                      void *ctx);
};

struct mm_pager {
	const struct mm_pager_ops *ops;
	uint64_t size; /* bytes in the object */
	uint32_t refs; /* regions and holders; mm_pager_get / mm_pager_put */
	void *private_data;
};

void mm_pager_get(struct mm_pager *pager);
void mm_pager_put(struct mm_pager *pager);

/*
 * Shared memory: an anonymous object of `bytes` whose pages are allocated (zeroed) on first
 * access and kept until the object goes; every space that maps it with MM_REGION_SHARED
 * sees the same frames. Returns a pager with one reference, or NULL (MM_EINVAL, MM_ENOMEM).
 */
struct mm_pager *mm_shm_create(size_t bytes);

/* ---- Regions ----------------------------------------------------------------------------- */

struct mm_region_spec {
	uintptr_t start; /* where (a hint unless MM_REGION_FIXED); 0: anywhere */
	size_t length;   /* bytes, rounded up to pages */
	uint32_t flags;  /* MM_FLG_WR/EXEC/US/DMA + MM_REGION_* */
	enum mm_section section;
	struct mm_pager *pager; /* NULL: anonymous zero-filled memory */
	uint64_t offset;        /* into the pager's object, page-aligned */
};

/*
 * Makes a region. Without MM_REGION_FIXED and with start 0 the region goes at the lowest
 * free address of the space's user half, aligned by its size (4 KiB, 2 MiB or 1 GiB
 * boundaries for regions of at least 2 MiB / 1 GiB). Without MM_REGION_POPULATE nothing is
 * mapped until accessed (reserve-only). Takes a pager reference.
 * With a pager, [offset, offset + length) must lie in the object (its size rounded up to a
 * page) and must not wrap: MM_EINVAL otherwise.
 * Returns the region's start, or MM_NADDR with MM_EINVAL, MM_EPERM (wrong half, hardware
 * window, writable + executable), MM_EEXIST (MM_REGION_FIXED over another region), MM_ENOMEM,
 * or with MM_REGION_POPULATE the error a page's population met (MM_EFAULT).
 */
uintptr_t mm_region_map(mm_space_t space, const struct mm_region_spec *spec);

/* Removes the region containing addr, whole: what one call made, not its
 * neighbours. 0, MM_EINVAL, MM_ENOENT, or MM_ESIZE / MM_ENOMEM as mm_umap_range (a large
 * page the region's end cuts), with nothing changed. */
int mm_region_unmap(mm_space_t space, uintptr_t addr);

/* Changes the permissions (MM_FLG_WR/EXEC) of [start, start + length), splitting regions at
 * the ends; mappings are updated and one TLB invalidation covers the range. Refused with
 * MM_EPERM for writable + executable (W^X) and MM_ENOENT where no region is; MM_ESIZE or
 * MM_ENOMEM when a large page an end cuts cannot be split. A refusal changes nothing. */
int mm_region_protect(mm_space_t space, uintptr_t start, size_t length, uint32_t flags);

struct mm_region_info {
	uintptr_t start, end;
	uint32_t flags;
	enum mm_section section;
	struct mm_pager *pager; /* not referenced */
	uint64_t offset;
	uint64_t resident_pages;
};

/* The region containing addr. 0, MM_ENOENT or MM_EINVAL. */
int mm_region_query(mm_space_t space, uintptr_t addr, struct mm_region_info *out);

/*
 * The lowest address in [from, to) where `length` bytes aligned to `align` (a power of two,
 * at least 4 KiB) meet no region, found in O(log n) of the space's regions; MM_NADDR
 * (MM_ENOMEM when none, MM_EINVAL) otherwise. Kernel addresses search the kernel space.
 */
uintptr_t mm_region_find_free(mm_space_t space, uintptr_t from, uintptr_t to, size_t length,
                              uintptr_t align);

/* A stack of `size` bytes ending at stack_end, with an unmapped guard page below it.
 * Returns the lowest usable address, or MM_NADDR. */
uintptr_t mm_stack_create(mm_space_t space, uintptr_t stack_end, size_t size);

/* The heap (brk): mm_heap_init sets where it starts (once); mm_brk moves its end, growing or
 * shrinking the heap region (growth extends the region the heap last grew, when it still
 * ends at the old top with the heap's permissions; never a region another call made);
 * mm_brk(space, 0) returns the current end. MM_NADDR on failure. Program spaces only
 * (MM_EINVAL for the kernel space). */
int mm_heap_init(mm_space_t space, uintptr_t base);
uintptr_t mm_brk(mm_space_t space, uintptr_t new_end);

/* ---- Faults ------------------------------------------------------------------------------ */

#define MM_FAULT_WRITE (1u << 0)   /* the access was a write */
#define MM_FAULT_EXEC (1u << 1)    /* an instruction fetch */
#define MM_FAULT_USER (1u << 2)    /* from user mode */
#define MM_FAULT_PRESENT (1u << 3) /* the page was present: a protection fault */

/*
 * The one fault handler. Resolves a not-present access inside a region (demand-zero, a read
 * of anonymous memory may map the shared zero page, an object page from its pager) and a
 * write to a copy-on-write page (the frame is reused when this mapping holds its only
 * reference, copied otherwise). Two CPUs faulting on one page both succeed with one frame.
 * Returns MM_OK when the access may be retried, or the error to deliver to the program:
 * MM_EFAULT (no region there, or the guard page), MM_EPERM (the region does not allow the
 * access), MM_ENOMEM.
 */
int mm_fault(mm_space_t space, uintptr_t addr, uint32_t access);

#ifdef __cplusplus
}
#endif

#endif /* MM_REGION_H */
