/* The software TLB's per-CPU state and the operations the host's hooks build on. */
#ifndef ARCH_HOST_SOFT_TLB_INTERNAL_H
#define ARCH_HOST_SOFT_TLB_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <arch/arch.h>
#include <arch/host/soft_tlb.h>

/*
 * One CPU's TLB. Only the thread playing the CPU touches the entries, and only with its
 * IPIs held off (arch_irq_save), so that an IPI handler (a signal on that same thread)
 * never finds them half-changed. Other threads read only the counters, which have a
 * single writer and are read and written with relaxed atomics.
 * Invariants: every valid entry obeys struct host_tlb_entry's rules; while !pcide every
 * valid entry is tagged 0; cursor < HOST_TLB_ENTRIES.
 */
struct soft_tlb {
	struct host_tlb_entry entry[HOST_TLB_ENTRIES];
	unsigned cursor; /* the next victim when every entry is valid */
	bool pcide;      /* the machine's PCID mode as this CPU last took it */
	struct host_tlb_stats stats;
};

struct host_cpu;

/* PCIDs are 12 bits (CR3 bits 11:0). */
#define SOFT_TLB_PCID_MAX 4095u

/* Which entries an invalidation drops: an entry goes when its page covers va (or any
 * page, without one_va) and, for a non-global entry, it is tagged pcid (or any PCID,
 * without one_pcid); a global entry goes only with globals, whatever its tag. */
struct soft_tlb_scope {
	bool one_va;
	uintptr_t va;
	bool one_pcid;
	uint16_t pcid;
	bool globals;
};

/* pre: interrupts in any state. post: *irq holds their state and they are off; returns
 * the calling CPU, which has taken the machine's PCID mode. Every TLB operation starts
 * here, and ends with arch_irq_restore(*irq). */
struct host_cpu *soft_tlb_enter(arch_irq_state_t *irq);

/* The calls below run on the thread playing `cpu`, with its IPIs held off. */

/* post: the entries in scope are invalid; returns how many were valid, counted as `why`. */
unsigned soft_tlb_drop(struct host_cpu *cpu, const struct soft_tlb_scope *scope,
                       enum host_tlb_drop_kind why);

/* Every entry dropped, the cursor rewound, PCID 0 current, CR3 0 (no space loaded). */
void soft_tlb_reset(struct host_cpu *cpu);

/* The entry the CPU would use for va in its current PCID, or NULL. */
struct host_tlb_entry *soft_tlb_lookup(struct host_cpu *cpu, uintptr_t va);

/* pre: e is valid and tagged with the current PCID. post: cached (possibly evicting). */
void soft_tlb_fill(struct host_cpu *cpu, const struct host_tlb_entry *e);

/* The instructions, as the SDM defines them (see <arch/host/soft_tlb.h>). */
void soft_tlb_invlpg(struct host_cpu *cpu, uintptr_t va);
/* post: false (nothing dropped) where INVPCID raises #GP. */
bool soft_tlb_invpcid(struct host_cpu *cpu, unsigned type, uint64_t pcid, uintptr_t va);
/* A CR3 write. pre: root is 4 KiB-aligned; pcid < 4096 when PCID is on. */
void soft_tlb_write_cr3(struct host_cpu *cpu, uintptr_t root, uint16_t pcid, bool keep_tlb);

/* Adds n to one of the calling CPU's counters (single writer, readable from anywhere). */
static inline void soft_tlb_count(uint64_t *counter, uint64_t n)
{
	__atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

#endif /* ARCH_HOST_SOFT_TLB_INTERNAL_H */
