/*
 * Address spaces on x86_64 4-level page tables.
 *
 * Every space shares the kernel half (MM_KERNEL_BASE and above): its top-level entries
 * point to the same tables in every space, so a kernel mapping made in one is seen in all.
 * Ranges are byte ranges [start, start + count): start is aligned down and the end up to
 * the page size.
 *
 * Rules every call keeps (docs/api.md lists each call's):
 *   - A failed call changes nothing: no mapping, region, split large page, page table or
 *     frame is left behind or taken away. (One exception, invisible to programs: an empty
 *     PDPT a failed map created stays while another CPU holds a shard of the same 512 GiB;
 *     a later unmap there, or the space's end, frees it.)
 *   - Space kinds: the kernel space (mm_kernel_space()) holds the kernel half only; a call
 *     on it at a user-half or hardware-window address is refused with MM_EPERM. A program
 *     space holds its user half and hardware window, and reaches the shared kernel mapping
 *     area (whose tables are the kernel space's).
 *   - W^X: no call makes a mapping both writable and executable (MM_EPERM).
 */
#ifndef MM_VMM_H
#define MM_VMM_H

#include <mm/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_space *mm_space_t;

/*
 * Sets the virtual memory manager up. kernel_root is the PML4 the CPU runs on (kernel),
 * or MM_NADDR to build a fresh one (host). The tables of the kernel half are made present
 * here so that every later space can share them.
 * pre:  mm_phys_init() succeeded. post: 0 or MM_ENOMEM.
 */
int mm_vm_init(uintptr_t kernel_root);

/* The space holding the kernel half alone, the one mm_vm_init() adopted or built. */
mm_space_t mm_kernel_space(void);

/* A new space with an empty user half and the shared kernel half; *phys (if not NULL)
 * gets the physical address of its PML4. NULL on MM_ENOMEM. */
mm_space_t mm_create_space(uintptr_t *phys);

/* Frees every frame the space's mappings own, every page table of its user half and
 * hardware window, and the space. NULL and the kernel space are refused (nothing happens).
 * pre: no CPU runs the space (each switched to another with mm_set first, the caller
 * included); the kernel stops with a panic otherwise, since tables still in use by a CPU
 * cannot be freed. */
void mm_destroy_space(mm_space_t space);

/* A number no other space has had since start-up. 0 for NULL. */
uint64_t mm_space_id(mm_space_t space);

/* The physical address of the space's PML4, or MM_NADDR for NULL. */
uintptr_t mm_space_root(mm_space_t space);

/* Make space the calling CPU's current address space. NULL is ignored. */
void mm_set(mm_space_t space);

/*
 * Map [start, start + count) to freshly allocated, zeroed frames: 4 KiB pages, or with
 * MM_FLG_PS (MM_FLG_PS1G) 2 MiB (1 GiB) pages where the range is aligned for them and such
 * a page is free, 4 KiB pages elsewhere.
 * flags: MM_FLG_WR, MM_FLG_US, MM_FLG_EXEC, MM_FLG_DMA (uncached), MM_FLG_PS or MM_FLG_PS1G,
 * MM_FLG_REPLACE (what is mapped in the range is unmapped first, and stays if the call
 * fails). WR with EXEC: MM_EPERM (W^X).
 * The range must lie in user space, or in the kernel mapping area for kernel mappings
 * (MM_FLG_US refused there); the hardware window, the direct map, and the kernel space's
 * user half are refused (MM_EPERM). Nothing of the range may be mapped already (MM_EEXIST)
 * unless MM_FLG_REPLACE.
 * Returns start aligned down, or MM_NADDR (mm_last_error()) with nothing changed.
 */
uintptr_t mm_map_range(mm_space_t space, uintptr_t start, size_t count, uint32_t flags);

/*
 * Map count pages at start to the physical pages in pages[]. The page size is 4 KiB,
 * or 2 MiB with MM_FLG_PS, or 1 GiB with MM_FLG_PS1G; start and every page must be aligned
 * to it. flags also: MM_FLG_WR, MM_FLG_US, MM_FLG_EXEC, MM_FLG_DMA (device memory: uncached),
 * MM_FLG_REPLACE; WR with EXEC: MM_EPERM (W^X).
 * Allowed in user space, the kernel mapping area and the hardware window (the kernel space:
 * the kernel mapping area only).
 * Each RAM page gains a reference held by the mapping (the caller keeps its own); other
 * physical addresses (devices) are mapped without one.
 * Returns 0, or an error with nothing changed.
 */
int mm_map_range_pages(mm_space_t space, uintptr_t start, const uintptr_t *pages, size_t count,
                       uint32_t flags);

/*
 * Unmap whatever is mapped in [start, start + count); holes are fine. Each RAM page's
 * mapping reference is dropped (frames freed at zero) unless MM_FLG_NOPHYS, which hands it
 * to the caller. A 2 MiB or 1 GiB page the range cuts is split first, down to the size the
 * cut needs; a large page others hold references to (a fork's child, the caller's own page
 * given to mm_map_range_pages) cannot be split: MM_ESIZE, with nothing split or unmapped.
 * One TLB invalidation covers the whole range; frames and emptied page tables are freed
 * after it. Returns 0 or an error (MM_EINVAL, MM_EPERM, MM_ESIZE, MM_ENOMEM) with nothing
 * changed.
 */
int mm_umap_range(mm_space_t space, uintptr_t start, size_t count, uint32_t flags);

/*
 * The physical address vaddr translates to in space, or MM_NADDR (MM_ENOENT when not
 * mapped, MM_EINVAL for NULL or a non-canonical address). *rflags (if not NULL) gets
 * MM_FLG_WR, MM_FLG_US, MM_FLG_EXEC, MM_FLG_DMA, MM_FLG_PS for every page larger than 4 KiB
 * (the flag means "not 4 KiB") and MM_FLG_PS1G as well for a 1 GiB page. Those size flags
 * may be passed back as they are: every call that takes a page size reads MM_FLG_PS1G with
 * or without MM_FLG_PS as 1 GiB.
 */
uintptr_t mm_translate(mm_space_t space, uintptr_t vaddr, uint32_t *rflags);

/* ---- Cloning and forking --------------------------------------------------------------
 * flags: MM_FLG_CLONE_USER, MM_FLG_CLONE_HW, MM_FLG_CLONE_KERNEL (the kernel half is shared
 * by every space already: accepted, nothing to do).
 */

/* Makes dst map what src maps in the parts named, sharing the frames (each mapping takes a
 * reference) and copying the regions. pre: the parts named are empty in dst.
 * 0, MM_EINVAL (NULL, the kernel space, same space, unknown flag, no flag at all),
 * MM_EEXIST (dst not empty there), MM_ENOMEM. */
int mm_space_clone(mm_space_t dst, const mm_space_t src, uint32_t flags);

/* As clone, but private memory of the user half becomes copy-on-write in both spaces (a
 * software bit in the entry and the frame's reference count); shared, device and given-page
 * regions stay shared. The parent's entries made read-only are invalidated once at the end.
 * On failure dst is left empty in the parts named. */
int mm_space_fork(mm_space_t dst, const mm_space_t src, uint32_t flags);

/* ---- Single pages ------------------------------------------------------------------- */

/* Maps the 4 KiB page virt to phys (MM_PAGE_USER / WRITE / EXEC; WRITE with EXEC is
 * MM_EPERM). 0 or an error as mm_map_range_pages. */
int mm_map_single(mm_space_t space, uintptr_t virt, uintptr_t phys, uint64_t flags);

/* The physical page virt maps to (not the byte: a 2 MiB or 1 GiB page's first byte), its
 * permissions in *flags (MM_PAGE_*, and MM_FLG_PS / MM_FLG_PS1G / MM_FLG_DMA as mm_translate
 * reports them); MM_NADDR when not mapped (MM_ENOENT) or on MM_EINVAL. */
uintptr_t mm_map_get(mm_space_t space, uintptr_t virt, uint64_t *flags);

/* Unmaps the page at virt without freeing it and returns its physical address (the mapping's
 * frame reference passes to the caller). size 0: any page size (a large page goes whole and
 * its first byte's address is returned); 1: only a 4 KiB page (MM_NADDR with MM_ESIZE if a
 * larger page is there). Where the shared zero page was mapped the caller gets a zeroed
 * frame of its own; a device page comes back with no reference. MM_NADDR with MM_EINVAL,
 * MM_EPERM (not a mappable area), MM_ENOENT or MM_ENOMEM otherwise, nothing changed. */
uintptr_t mm_umap_single(mm_space_t space, uintptr_t virt, uint32_t size);

/* ---- Virtual ranges ----------------------------------------------------------------- */

/* The lowest free range of npages 4 KiB pages in [from, to) (page-aligned, one area; a window
 * from below MM_USER_BASE starts there), or MM_NADDR: MM_EINVAL, MM_EPERM (the window
 * crosses areas or lies where nothing is mapped), MM_ENOMEM (no room). Changes nothing. */
uintptr_t vmfind(const mm_space_t space, uintptr_t from, uintptr_t to, size_t npages);

/* vmfind + mm_map_range with flags (MM_PAGE_*; WRITE with EXEC is MM_EPERM). MM_NADDR on
 * failure, with nothing left behind. */
uintptr_t vmalloc(mm_space_t space, uintptr_t from, uintptr_t to, size_t npages, uint64_t flags);

/* Unmaps and frees what vmalloc returned. 0 or an error as mm_umap_range. */
int vmfree(mm_space_t space, uintptr_t addr, size_t npages);

/* ---- TLB statistics ---------------------------------------------------------------------- */

/* Summed over every CPU since start-up (a snapshot: each CPU updates its own). */
struct mm_tlb_stats {
	uint64_t switches; /* mm_set loads of another space */
	uint64_t
	    switches_kept;    /* ... that kept the space's cached entries (PCID, generation current) */
	uint64_t shootdowns;  /* invalidations started (one IPI round each at most) */
	uint64_t flush_pages; /* flushes page by page (INVLPG) on some CPU */
	uint64_t flush_pcid;  /* flushes of a whole PCID */
	uint64_t flush_all;   /* flushes of everything, global entries included */
	uint64_t flush_lazy;  /* targets that had switched away: flushed at their next load */
	uint64_t flush_skipped; /* targets already flushed past the change */
	bool pcid;              /* the CPU tags entries with PCIDs */
	unsigned pcid_slots;    /* spaces each CPU keeps tagged at once */
};
void mm_tlb_get_stats(struct mm_tlb_stats *out);

/* ---- Debugging ---------------------------------------------------------------------- */

/* Memory manager statistics on the console; level 0: one summary, 1: per node and per CPU,
 * 2: every heap size class and the kernel space's regions as well. */
void mm_dump_stats(int level);

/* The mappings of space on the console, coalesced into ranges with flags spelled out, page
 * sizes and region names; level 0: regions only, 1: mapped ranges too, 2: every table. */
void mm_dump_map(int level, mm_space_t space);

#ifdef __cplusplus
}
#endif

#endif /* MM_VMM_H */
