/*
 * TLB shootdown: after a change that takes a translation away (unmap, protect, copy-on-write
 * break, fork's write-protect), invalidate it on exactly the CPUs that may still use it,
 * with one cross-CPU call (lib/smp_call.h) per operation.
 *
 * The protocol, with the generations of vmm/pcid.c:
 *   1. The caller has already written the page-table entries.
 *   2. The space's tlb_gen is raised (a locked read-modify-write: a full barrier), and the
 *      CPUs running the space (space->active) are read after it.
 *   3. One IPI round asks those CPUs to flush; the initiator flushes its own TLB while they
 *      work, and waits for every acknowledgement.
 *   4. Only then may the caller free frames and page tables (vmm/tlb_gather.c).
 * A CPU that holds the space's translations under a PCID without running it gets no IPI:
 * its slot's generation is now older than tlb_gen, so it flushes that PCID before it next
 * loads the space. A CPU that joins the space concurrently sets its bit in space->active
 * (also a locked RMW) before it reads tlb_gen: either the initiator's read of the mask sees
 * the bit (and the CPU gets the IPI), or the CPU's read of tlb_gen sees the new value (and
 * it flushes on its way in). This is the store-buffer pattern; both sides' full barriers
 * rule out the outcome where each misses the other.
 */
#include "pcid.h"
#include "tlb.h"

#include <lib/cpumask.h>
#include <lib/smp_call.h>

struct flush_request {
	struct mm_space *space;
	uintptr_t start, end;
	uint64_t gen;      /* the space's tlb_gen this change raised it to */
	bool global;       /* kernel-space range: global entries, cached by every CPU */
	bool tables_freed; /* page tables under the range will be freed */
};

static bool within_ceiling(const struct flush_request *r)
{
	return ((r->end - r->start) >> MM_PAGE_SHIFT) <= TLB_FLUSH_CEILING;
}

static void flush_pages(const struct flush_request *r)
{
	for (uintptr_t va = r->start; va < r->end; va += MM_PAGE_SIZE)
		arch_tlb_flush_page(va);
}

/*
 * The kernel window's entries are global: every CPU may hold them, whichever space it
 * runs, and INVLPG drops a global entry whatever the current PCID. Paging-structure caches
 * are not global but per PCID, so when kernel page tables are freed every PCID must go.
 * post: true when everything, every PCID included, was flushed.
 */
static bool flush_global(const struct flush_request *r, struct tlb_cpu *cpu)
{
	if (within_ceiling(r) && !r->tables_freed) {
		flush_pages(r);
		cpu->flush_pages++;
		return false;
	}
	arch_tlb_flush_all();
	cpu->flush_all++;
	return true;
}

/* Runs on every target, and on the initiator when it runs the space, interrupts off. */
static void flush_on_this_cpu(void *arg)
{
	const struct flush_request *r = arg;
	struct tlb_cpu *cpu = tlb_this_cpu();
	bool running = cpu->current == r->space;
	/* Read before flushing: a flush covers the changes whose entries were written before
	 * it began, and a change raises tlb_gen only after writing its entries. */
	uint64_t latest = running ? __atomic_load_n(&r->space->tlb_gen, __ATOMIC_ACQUIRE) : 0;
	bool flushed_all = r->global && flush_global(r, cpu);
	if (!running) {
		/* It switched away after the mask was read: its slot is stale now, and the next
		 * load of the space flushes it (vmm/pcid.c). */
		cpu->flush_lazy++;
		return;
	}
	struct tlb_pcid_slot *slot = &cpu->slot[cpu->current_slot];
	if (r->gen <= slot->gen) {
		/* A flush that began after this change's entries were written already ran here
		 * (a full flush for a later change, or the switch into the space). */
		cpu->flush_skipped++;
		return;
	}
	if (flushed_all) {
		slot->gen = latest;
	} else if (r->gen == slot->gen + 1 && r->gen == latest && within_ceiling(r)) {
		/* This change is the only one not yet flushed here: its pages are enough (the
		 * global path above already dropped them for a kernel range). */
		if (!r->global) {
			flush_pages(r);
			cpu->flush_pages++;
		}
		slot->gen = r->gen;
	} else {
		/* Other changes are pending too (their IPIs may still be on the way), or the range
		 * is large: drop the space's whole PCID, which covers every change up to latest. */
		arch_tlb_flush_pcid(tlb_slot_pcid(cpu->current_slot));
		cpu->flush_pcid++;
		slot->gen = latest;
	}
}

void tlb_shootdown(struct mm_space *space, uintptr_t start, uintptr_t end, unsigned flags)
{
	struct flush_request request = {
	    .space = space,
	    .start = start,
	    .end = end,
	    .global = space->is_kernel,
	    .tables_freed = (flags & TLB_TABLES_FREED) != 0,
	};
	arch_irq_state_t irq = arch_irq_save();
	unsigned self = arch_cpu_id();
	/* A full barrier between the entries written before and the mask read after. */
	request.gen = __atomic_add_fetch(&space->tlb_gen, 1, __ATOMIC_SEQ_CST);
	arch_cpumask_t targets;
	cpumask_snapshot(&targets, request.global ? &tlb_kernel_cpus : &space->active);
	bool local = cpumask_test(&targets, self);
	tlb_this_cpu()->shootdowns++;
	smp_call_start(&targets, flush_on_this_cpu, &request);
	if (local)
		flush_on_this_cpu(&request);
	smp_call_finish();
	arch_irq_restore(irq);
}
