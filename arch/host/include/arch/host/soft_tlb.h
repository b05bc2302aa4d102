/*
 * The software TLB of the host's simulated CPUs: the MMU that host tests translate
 * through, so that they can prove the PCID and shootdown scheme (QEMU TCG has no PCID).
 *
 * Each CPU caches up to HOST_TLB_ENTRIES translations, tagged as x86 tags them (Intel SDM
 * vol. 3A, 4.10): an entry filled while PCID p was current is used only while p is current,
 * unless it is global. The arch TLB hooks of <arch/arch.h> act on it as their instructions
 * do on a real CPU:
 *   arch_tlb_flush_page(va)   INVLPG: va's entries of the current PCID, and global ones
 *   arch_tlb_flush_pcid(p)    INVPCID type 1: non-global entries of p (PCID off: every
 *                             non-global entry, as the kernel's CR3 rewrite)
 *   arch_tlb_flush_all()      INVPCID type 2 / CR4.PGE toggle: everything
 *   arch_space_load(r, p, k)  MOV CR3: PCID on, k keeps everything, otherwise the non-global
 *                             entries of p go; PCID off, every non-global entry goes and
 *                             the current PCID stays 0, whatever p and k say.
 * A page fault drops the entries it would have used (SDM 4.10.4.1), so a stale read-only
 * entry faults once, then the access walks again.
 *
 * What the model leaves out: accessed and dirty bits (never written), the paging-structure
 * caches (a miss always walks from CR3), execute permission, SMAP (supervisor accesses may
 * touch user pages; CR0.WP is on: supervisor writes obey W), reserved bits other than PS in
 * a PML4 entry, and memory types.
 *
 * Every call acts on the calling CPU only (a thread that is not yet a CPU becomes one).
 */
#ifndef ARCH_HOST_SOFT_TLB_H
#define ARCH_HOST_SOFT_TLB_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Entries per CPU: fully associative. A fill takes the first invalid entry; when there is
 * none it replaces the entry at a round-robin cursor. A flush that leaves the TLB empty
 * rewinds the cursor to 0, so that a TLB filled up from empty evicts its oldest entries
 * first. */
#define HOST_TLB_ENTRIES 64u

/* Page sizes, as the shift of the page size. */
#define HOST_TLB_SHIFT_4K 12u
#define HOST_TLB_SHIFT_2M 21u
#define HOST_TLB_SHIFT_1G 30u

/*
 * One cached translation. When valid: page_shift is one of the three above, the page is
 * [vpn << page_shift, (vpn + 1) << page_shift) (a canonical address), frame is aligned to
 * the page size, writable and user are the AND of W and U over every level of the walk,
 * global is the leaf's G bit, and pcid is the PCID current at the fill (0 with PCID off).
 */
struct host_tlb_entry {
	uint64_t vpn;
	uint64_t frame;
	uint16_t pcid;
	uint8_t page_shift;
	bool valid, writable, user, global;
};

/*
 * One load or store at va through the calling CPU's MMU: the TLB, and on a miss a walk of
 * the tables under the CPU's CR3 (through the direct map) whose present leaf is cached.
 * Behaves as one instruction with respect to IPIs: none is taken during the lookup, walk
 * and fill; one that arrived meanwhile runs before the call returns (when interrupts were
 * on). Lock-free.
 * post: true with *phys (may be NULL) set to the physical address; or false for a fault
 *       (not present, write to a read-only page, user access to a supervisor page, a
 *       non-canonical va, no space loaded), which caches nothing.
 */
bool host_mmu_access(uintptr_t va, bool write, bool user, uintptr_t *phys);

/* INVPCID (SDM vol. 2A), on the calling CPU. */
enum host_invpcid_type {
	HOST_INVPCID_ADDRESS = 0,        /* the non-global entries of pcid that cover va */
	HOST_INVPCID_SINGLE = 1,         /* every non-global entry of pcid */
	HOST_INVPCID_ALL = 2,            /* every entry, global included */
	HOST_INVPCID_ALL_NON_GLOBAL = 3, /* every non-global entry, of every PCID */
};

/* post: false, dropping nothing, where the instruction raises #GP: type > 3, pcid > 4095,
 *       type 0 with a non-canonical va, or PCID off and a pcid other than 0 for type 0 or
 *       1. Otherwise true, with the entries of the type's scope dropped. */
bool host_invpcid(unsigned type, uint64_t pcid, uintptr_t va);

/* Turns PCID (CR4.PCIDE) on or off for the whole simulated machine; arch_has_pcid() returns
 * the setting (on at start-up). Each CPU takes the change at its next TLB operation, as its
 * own CR4 write: turning PCID off drops every entry and makes PCID 0 current; turning it on
 * keeps the entries (all tagged 0, and PCID 0 is current).
 * pre: no CPU runs a user space (each runs the kernel space, or none). */
void host_set_pcid(bool on);

/* The translation the calling CPU's TLB would use for va now (an entry tagged with the
 * current PCID, or global), without walking, counting or checking permissions.
 * post: true with *out (may be NULL) set, or false when the TLB holds none. */
bool host_tlb_probe(uintptr_t va, struct host_tlb_entry *out);

/* post: the calling CPU's valid entries copied to out in slot order; returns how many. */
unsigned host_tlb_snapshot(struct host_tlb_entry out[HOST_TLB_ENTRIES]);

/* Why entries were dropped. */
enum host_tlb_drop_kind {
	HOST_TLB_DROP_INVLPG,             /* arch_tlb_flush_page */
	HOST_TLB_DROP_INVPCID_ADDRESS,    /* INVPCID type 0 */
	HOST_TLB_DROP_INVPCID_SINGLE,     /* INVPCID type 1, arch_tlb_flush_pcid */
	HOST_TLB_DROP_INVPCID_ALL,        /* INVPCID type 2, arch_tlb_flush_all */
	HOST_TLB_DROP_INVPCID_NON_GLOBAL, /* INVPCID type 3 */
	HOST_TLB_DROP_CR3,                /* arch_space_load */
	HOST_TLB_DROP_FAULT,              /* a page fault on a cached translation */
	HOST_TLB_DROP_EVICT,              /* a fill into a full TLB */
	HOST_TLB_DROP_RESET,              /* a thread took or gave back the CPU; PCID on/off */
	HOST_TLB_DROP_KINDS
};

/* Counters of one CPU (or of all), since start-up. */
struct host_tlb_stats {
	uint64_t hits;   /* accesses served by a cached translation */
	uint64_t misses; /* accesses that walked and cached a translation (refills) */
	uint64_t faults; /* accesses that faulted, with or without a cached translation */
	uint64_t dropped[HOST_TLB_DROP_KINDS]; /* valid entries invalidated, by cause */
};

/* pre: cpu < ARCH_MAX_CPUS. post: *out holds that CPU's counters; safe from any thread
 * (each counter is read atomically, not the set as a whole). */
void host_tlb_stats(unsigned cpu, struct host_tlb_stats *out);

/* post: *out holds the sums over every CPU. */
void host_tlb_stats_total(struct host_tlb_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* ARCH_HOST_SOFT_TLB_H */
