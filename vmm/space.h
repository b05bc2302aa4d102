/*
 * The address-space object and the helpers its files share.
 *
 * Locks. A space's page tables are guarded by VMM_SHARDS shard locks, one per 1 GiB chunk of
 * address space (chunk number modulo VMM_SHARDS): an operation takes the shards its range
 * touches, so operations on disjoint ranges, and faults beside them, run in parallel. The
 * region tree has one short lock, `lock`.
 *   - Lock order: shard locks in ascending index (vmm_lock_range), then `lock`, then the
 *     frame allocator's and heap's own locks. Two spaces (fork): the lower id's first.
 *   - A region is added, removed or changed only with the shards of its range held and
 *     `lock` held; so holding every shard (vmm_lock_all) keeps the whole tree still, and a
 *     fault holding its page's shard knows its region cannot go meanwhile.
 *   - Cross-CPU calls (TLB shootdowns, cache drains) may be made with shards held (their
 *     waiters take interrupts while spinning) but never with `lock` held, and nothing
 *     under `lock` allocates (an allocation may drain other CPUs' caches).
 * Page tables below the PDPT level (PD, PT) belong to one chunk and change only under its
 * shard; a PML4 entry (512 GiB) is shared by every shard and is installed with a
 * compare-and-swap; an empty PDPT is freed only when every shard can be taken at once
 * (vmm_prune_pdpts), otherwise by a later unmap or when the space is destroyed.
 * The kernel half's tables are the kernel space's, under its shards and lock.
 *
 * Invariants of a space (checked by vmm_check_space() in debug builds and tests):
 *   - root is a PAGETABLE frame; entries 510..511 of every root are identical (the shared
 *     kernel half) and never change after mm_vm_init();
 *   - every table frame's pt_used equals its number of present entries, and table_pages
 *     the number of tables under the root (root included);
 *   - every leaf with PTE_SW_MANAGED points to RAM whose refcount counts this mapping;
 *     across spaces, a frame's refcount is exactly its mappings, the page caches of the
 *     objects that keep it, and its other holders (vmm_check_references);
 *   - every present leaf lies in a region (vmm/region_tree.h).
 */
#ifndef VMM_SPACE_H
#define VMM_SPACE_H

#include <stdbool.h>
#include <stdint.h>

#include <arch/x86_64/pte.h>
#include <lib/avl.h>
#include <lib/spinlock.h>
#include <mm/phys.h>
#include <mm/vmm.h>

#include "pmm/pmm_internal.h"

#define VMM_SHARDS 16
#define VMM_SHARD_SHIFT 30 /* 1 GiB chunks: a PD table never spans two */

struct vmm_shard {
	spinlock_t lock;
} __attribute__((aligned(64)));

struct mm_space {
	spinlock_t lock;        /* the region tree (see above) */
	uintptr_t root;         /* physical address of the PML4 */
	uint64_t id;            /* unique since start-up (004) */
	bool is_kernel;
	arch_cpumask_t active;  /* CPUs running this space now (CR3): the shootdown targets */
	uint64_t tlb_gen;       /* raised by every shootdown, after the entries changed (atomic) */
	uint64_t mapped_pages;  /* 4 KiB pages mapped in the user half and hardware window (atomic) */
	uint64_t table_pages;   /* page tables owned, root included (atomic) */
	struct avl_tree regions; /* struct mm_region by start (vmm/region_tree.h) */
	uint64_t seq;           /* bumped when a region goes, shrinks or changes permissions */
	uintptr_t heap_base, heap_end; /* mm_brk; heap_base 0 until mm_heap_init */
	uint64_t region_serial; /* the last serial a region got (region lock) */
	uint64_t heap_serial;   /* the serial of the heap's growing region, 0: none (region lock) */
	struct vmm_shard shards[VMM_SHARDS];
};

/* The shard locks an operation holds, and the interrupt state to restore. */
typedef struct {
	arch_irq_state_t irq;
	uint32_t mask; /* bit i: shard i held */
} vmm_range_lock_t;

/* Takes the shards of [start, end) (end > start), lowest index first, taking interrupts
 * while waiting if the caller had them on. */
vmm_range_lock_t vmm_lock_range(struct mm_space *space, uintptr_t start, uintptr_t end);
vmm_range_lock_t vmm_lock_va(struct mm_space *space, uintptr_t va); /* the shard of one address */
vmm_range_lock_t vmm_lock_all(struct mm_space *space);
void vmm_unlock_range(struct mm_space *space, vmm_range_lock_t held);

/* Debug builds (MM_DEBUG): stops unless the calling CPU holds every shard of [start, end)
 * of space, which it must to change the tables (or regions) there. No-op otherwise. */
void vmm_assert_shards_held(struct mm_space *space, uintptr_t start, uintptr_t end);

/* For assertions: the calling CPU holds every shard (the whole tree and all tables stand
 * still). Exact in debug builds only (spin_held). */
bool vmm_holds_all_shards(struct mm_space *space);

/* Tries, without waiting, to take every shard held does not hold. post: 0 when one was
 * busy (nothing more held), else a token for vmm_unlock_some, and held->mask is all. */
uint32_t vmm_try_lock_rest(struct mm_space *space, vmm_range_lock_t *held);
void vmm_unlock_some(struct mm_space *space, vmm_range_lock_t *held, uint32_t token);

/* The region lock, taken inside shard locks (interrupts are already off there). Writers hold
 * it and the shards of the range they change; readers hold it or every shard. */
static inline void vmm_lock_regions(struct mm_space *space) TA_ACQUIRE(space->lock)
{
	spin_lock(&space->lock);
}

static inline void vmm_unlock_regions(struct mm_space *space) TA_RELEASE(space->lock)
{
	spin_unlock(&space->lock);
}

static inline void space_count_pages(struct mm_space *space, int64_t pages)
{
	__atomic_add_fetch(&space->mapped_pages, (uint64_t)pages, __ATOMIC_RELAXED);
}

/* The shared zero page: read faults on anonymous memory map it (read-only, copy-on-write)
 * instead of a fresh frame. Allocated once at mm_vm_init, never freed; mappings of it hold
 * no reference (they are not PTE_SW_MANAGED). */
extern uintptr_t vmm_zero_page;

void space_regions_init(struct mm_space *space);

/* The first PML4 entry of the kernel half (003's boundary). */
#define KERNEL_PML4_FIRST 510u

/* Where a range lies; decides which calls may touch it and which lock guards it. */
enum va_area {
	AREA_NONE = 0,    /* out of bounds, crossing areas, direct map, kernel image */
	AREA_USER,
	AREA_HW,
	AREA_KERNEL,
};

/* The area of [start, end), end exclusive and > start. */
enum va_area va_area_of(uintptr_t start, uintptr_t end);

/* The space whose lock guards page tables of the given area. */
struct mm_space *area_owner(struct mm_space *space, enum va_area area);

/* ---- Page tables (vmm/pt.c) ---------------------------------------------------------- */

/* A zeroed page-table frame (state PAGETABLE, pt_used 0), or MM_NADDR. */
uintptr_t pt_alloc_table(void);

/* Frees a page-table frame. pre: no entry anywhere points to it any more (after the TLB
 * invalidation that made it unreachable). */
void pt_free_table(uintptr_t table);

/* n tables at once, all or none (MM_ENOMEM): a call allocates what it will link in before
 * it changes anything. pt_free_tables gives back the ones never linked in. */
int pt_alloc_tables(uintptr_t *tables, int n);
void pt_free_tables(const uintptr_t *tables, int n);

/* The descriptor of a page-table frame. */
static inline struct frame *pt_frame(uintptr_t table)
{
	return pfn_frame(phys_to_pfn(table));
}

/* Adds delta to a table's present-entry count (entries written directly, in a batch). */
void pt_add_used(uintptr_t table, int delta);

/* Writes entry index of table (a present-entry count kept in the table's frame). */
void pt_set(uintptr_t table, unsigned index, pte_t value);
void pt_clear(uintptr_t table, unsigned index);

/* The table at `level` (3 = PDPT, 2 = PD, 1 = PT) covering va, created if missing.
 * post: its physical address, or MM_NADDR when a table could not be allocated or a large
 *       leaf is in the way (*error says which), with no table created. */
uintptr_t pt_get_or_create(struct mm_space *space, uintptr_t va, int level, int *error);

/* Calls visit for each present leaf in [start, end) under the table at `level`, with the
 * part [va, next) of the range that the leaf covers; stops at the first non-zero return and
 * returns it. pre: the owner's lock is held. */
typedef int (*pt_leaf_visitor)(pte_t e, int level, uintptr_t va, uintptr_t next);
int pt_visit_leaves(uintptr_t table, int level, uintptr_t start, uintptr_t end,
                    pt_leaf_visitor visit);

struct tlb_gather;

/* Splits the large pages that start or end cut, down to the size the cut needs (unmap and
 * permission changes of part of a large page). Every cut is checked and its tables
 * allocated before the first split: MM_ESIZE (a page others hold) or MM_ENOMEM leave the
 * tables exactly as they were. pre: owner's shards of the range held. */
int vmm_split_ends(struct mm_space *owner, uintptr_t start, uintptr_t end, struct tlb_gather *g);

/* Frees every table under the entries [first, last] of the PML4 at root, and the frames of
 * managed leaves (one reference each). Used by mm_destroy_space. */
void pt_free_tree(uintptr_t root, unsigned first, unsigned last);

/* ---- TLB (vmm/tlb.c, vmm/tlb_gather.c) ---------------------------------------------------------------- */

/*
 * Gathers what an unmap frees, so that it is freed only after one TLB invalidation covers
 * the whole range (another CPU may use a stale translation until then).
 */
#define GATHER_INLINE 64
struct tlb_gather {
	struct mm_space *space;
	uintptr_t start, end;       /* the range invalidated */
	size_t n;                   /* entries in the current batch */
	uint64_t *batch;            /* inline_batch, or a frame whose entry 0 links the previous full one */
	size_t capacity;
	bool tables;                /* a page table was queued */
	bool changed;               /* an entry in the range was cleared or replaced */
	uint64_t inline_batch[GATHER_INLINE];
};

void tlb_gather_init(struct tlb_gather *g, struct mm_space *space, uintptr_t start, uintptr_t end);
/* Queues a frame reference to drop (leaf) or a page table to free. */
void tlb_gather_leaf(struct tlb_gather *g, uint64_t pfn);
void tlb_gather_table(struct tlb_gather *g, uintptr_t table);
/* Records that an entry of the range was cleared or replaced with nothing to free (frames
 * kept by the caller, the zero page, device memory, a large page split): the invalidation
 * is still owed, since other CPUs may hold the old translation. */
static inline void tlb_gather_changed(struct tlb_gather *g)
{
	g->changed = true;
}
/* Invalidates [start, end) on every CPU that may cache it when anything changed, then frees
 * everything queued. */
void tlb_gather_finish(struct tlb_gather *g);

/* Invalidates [start, end) of space on every CPU that may hold it (one IPI round; the
 * protocol is in vmm/tlb.c). flags: TLB_TABLES_FREED when page tables under the range will
 * be freed after it. pre: the entries are already written; no region lock held. */
#define TLB_TABLES_FREED 1u
void tlb_shootdown(struct mm_space *space, uintptr_t start, uintptr_t end, unsigned flags);

/* ---- Per-CPU TLB state and PCIDs (vmm/pcid.c) ------------------------------------------ */

#define TLB_PCID_SLOTS 8

struct tlb_pcid_slot {
	uint64_t space_id; /* the space whose translations PCID (slot + 1) tags; 0: none */
	uint64_t gen;      /* that space's tlb_gen up to which this CPU flushed the PCID */
};

/*
 * What one CPU's TLB may hold, as far as the generic code knows. Touched only by its own
 * CPU with interrupts off (the IPI handler included), so plain fields suffice.
 * Invariants (interrupts off on the CPU):
 *   - current is the space CR3 points at (NULL before mm_cpu_online), and this CPU's bit
 *     is set in current->active;
 *   - slot[current_slot].space_id == current->id;
 *   - for each slot s, no entry tagged with its PCID reflects a change of space s.space_id
 *     whose generation is <= s.gen: changes up to s.gen have been flushed here.
 */
struct tlb_cpu {
	struct mm_space *current;
	unsigned current_slot;
	unsigned next_victim;
	struct tlb_pcid_slot slot[TLB_PCID_SLOTS];
	/* Counters for mm_tlb_get_stats. */
	uint64_t switches, switches_kept, shootdowns;
	uint64_t flush_pages, flush_pcid, flush_all, flush_lazy, flush_skipped;
} __attribute__((aligned(64)));

extern struct tlb_cpu tlb_cpus[ARCH_MAX_CPUS];
/* CPUs that may cache kernel-window (global) entries: every CPU that is online. */
extern arch_cpumask_t tlb_kernel_cpus;

static inline struct tlb_cpu *tlb_this_cpu(void)
{
	return &tlb_cpus[arch_cpu_id()];
}

static inline uint16_t tlb_slot_pcid(unsigned slot)
{
	return (uint16_t)(slot + 1);
}

/* Makes the calling CPU translate through `to`, keeping its PCID's entries when they are
 * still valid. pre: interrupts off. */
void tlb_load_space(struct mm_space *to);

/* ---- Mapping internals (vmm/map.c, vmm/unmap.c) ---------------------------------------- */

/* The leaf entry bits (present, W, U, NX, cache, global) for mm flags in an area. */
pte_t vmm_leaf_bits(uint32_t flags, enum va_area area);

struct mm_region;

/* Clears the leaf entries of [start, end) into g (frames' references dropped when g
 * finishes, unless keep_frames), pruning emptied tables. MM_ESIZE (nothing changed) if a
 * large page is covered in part. pre: owner's lock held. */
int vmm_unmap_ptes_locked(struct mm_space *owner, uintptr_t start, uintptr_t end,
                          bool keep_frames, struct tlb_gather *g);

/* The same, and the regions of [start, end) removed (one may be split: *spare). */
int vmm_unmap_range_locked(struct mm_space *owner, uintptr_t start, uintptr_t end,
                           bool keep_frames, struct tlb_gather *g, struct mm_region **spare);

/* Frees the PDPTs of [start, end) that the unmap left empty, when every shard can be taken
 * at once without waiting (a PDPT is every shard's); otherwise they stay until a later
 * unmap or the space's end. They go into g, freed after its invalidation. */
void vmm_prune_pdpts(struct mm_space *owner, uintptr_t start, uintptr_t end,
                     vmm_range_lock_t *held, struct tlb_gather *g);

/* Invalidation above this many pages flushes the whole PCID instead of page by page. */
#define TLB_FLUSH_CEILING 32

#endif /* VMM_SPACE_H */
