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
	spinlock_t lock; /* the region tree (see above) */
	uintptr_t root;  /* physical address of the PML4 */
	uint64_t id;     /* unique since start-up */
	bool is_kernel;
	arch_cpumask_t active; /* CPUs running this space now (CR3): the shootdown targets */
	uint64_t tlb_gen;      /* raised by every shootdown, after the entries changed (atomic) */
	uint64_t mapped_pages; /* 4 KiB pages mapped in the user half and hardware window (atomic) */
	uint64_t table_pages;  /* page tables owned, root included (atomic) */
	/* A fork shared a leaf table of this space's (as parent or child: vmm/share.h); set with
	 * every shard held, never cleared. Spaces without it skip the sharing checks. */
	bool shares_tables;
	struct avl_tree regions;       /* struct mm_region by start (vmm/region_tree.h) */
	uint64_t seq;                  /* bumped when a region goes, shrinks or changes permissions */
	uintptr_t heap_base, heap_end; /* mm_brk; heap_base 0 until mm_heap_init */
	uint64_t region_serial;        /* the last serial a region got (region lock) */
	uint64_t heap_serial; /* the serial of the heap's growing region, 0: none (region lock) */
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
/* Lets go what vmm_lock_va took: one shard, without vmm_unlock_range's walk over all of
 * them (the fault path's unlock). */
void vmm_unlock_va(struct mm_space *space, vmm_range_lock_t held);

/* Debug builds (MM_DEBUG): stops unless the calling CPU holds every shard of [start, end)
 * of space, which it must to change the tables (or regions) there. Nothing otherwise. */
#if MM_DEBUG_ENABLED
void vmm_assert_shards_held(struct mm_space *space, uintptr_t start, uintptr_t end);
#else
static inline void vmm_assert_shards_held(struct mm_space *space, uintptr_t start, uintptr_t end)
{
	(void)space, (void)start, (void)end;
}
#endif

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

/* The first PML4 entry of the kernel half (the user/kernel boundary). */
#define KERNEL_PML4_FIRST 510u

/* Where a range lies; decides which calls may touch it and which lock guards it. */
enum va_area {
	AREA_NONE = 0, /* out of bounds, crossing areas, direct map, kernel image */
	AREA_USER,
	AREA_HW,
	AREA_KERNEL,
};

/* The area of [start, end), end exclusive and > start. */
enum va_area va_area_of(uintptr_t start, uintptr_t end);

/* The space whose lock guards page tables of the given area. */
struct mm_space *area_owner(struct mm_space *space, enum va_area area);

#endif /* VMM_SPACE_H */
