/* What each CPU's TLB may hold and the PCIDs it tags spaces with (vmm/pcid.c). */
#ifndef VMM_PCID_H
#define VMM_PCID_H

#include "space.h"

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

#endif /* VMM_PCID_H */
