/*
 * TLB coherence: which CPUs may cache a space's translations, the shootdown that
 * invalidates a range on exactly those CPUs (one cross-CPU call, lib/smp_call.h), and the
 * gather that holds frames back until the shootdown is done.
 *
 * Order of events in a shootdown: the caller has already cleared the page-table entries;
 * the targets are snapshotted; one IPI round asks them to flush; the initiator flushes its
 * own TLB while they work; when every target has acknowledged, nothing can reach the old
 * translations and the caller may free frames and tables.
 */
#include "space.h"

#include <lib/cpumask.h>
#include <lib/smp_call.h>

/* CPUs that have ever loaded a space: the ones that may cache kernel-half (global) entries. */
static arch_cpumask_t kernel_cpus;

struct flush_request {
	uintptr_t start, end;
	bool global; /* kernel-half range: global entries */
};

static void flush_local(void *arg)
{
	const struct flush_request *r = arg;
	uint64_t pages = (r->end - r->start) >> MM_PAGE_SHIFT;
	if (pages <= TLB_FLUSH_CEILING) {
		for (uintptr_t va = r->start; va < r->end; va += MM_PAGE_SIZE)
			arch_tlb_flush_page(va);
	} else if (r->global) {
		arch_tlb_flush_all();
	} else {
		arch_tlb_flush_pcid(0);
	}
}

void tlb_shootdown(struct mm_space *space, uintptr_t start, uintptr_t end)
{
	struct flush_request request = {start, end, space->is_kernel};
	arch_irq_state_t irq = arch_irq_save();
	unsigned self = arch_cpu_id();
	arch_cpumask_t targets;
	cpumask_snapshot(&targets, request.global ? &kernel_cpus : &space->active);
	bool local = request.global || cpumask_test(&targets, self);
	smp_call_start(&targets, flush_local, &request);
	if (local)
		flush_local(&request);
	smp_call_finish();
	arch_irq_restore(irq);
}

void tlb_switch(struct mm_space *from, struct mm_space *to)
{
	unsigned cpu = arch_cpu_id();
	/* Join the new space before loading it: a shootdown that misses this CPU must find the
	 * page-table entries already cleared when this CPU walks them. */
	cpumask_set(&kernel_cpus, cpu);
	if (to && !to->is_kernel)
		cpumask_set(&to->active, cpu);
	if (from && !from->is_kernel)
		cpumask_clear(&from->active, cpu);
}

void mm_cpu_offline(void)
{
	arch_irq_state_t irq = arch_irq_save();
	unsigned cpu = arch_cpu_id();
	struct mm_space *current = cpu_current_space[cpu];
	if (current && !current->is_kernel)
		cpumask_clear(&current->active, cpu);
	cpu_current_space[cpu] = NULL;
	cpumask_clear(&kernel_cpus, cpu);
	/* Its cached frames would be stranded while nobody plays this CPU. */
	pmm_cpu_offline();
	smp_call_quiesce();
	arch_irq_restore(irq);
}

/* ---- Gather -------------------------------------------------------------------------- */

/* Entries are pfn << 1 | is_table. An extra batch frame keeps the link to the previous
 * full one in entry 0. */
#define GATHER_FRAME_ENTRIES (MM_PAGE_SIZE / sizeof(uint64_t))

void tlb_gather_init(struct tlb_gather *g, struct mm_space *space, uintptr_t start, uintptr_t end)
{
	g->space = space;
	g->start = start;
	g->end = end;
	g->n = 0;
	g->batch = g->inline_batch;
	g->capacity = GATHER_INLINE;
}

static void release(uint64_t entry)
{
	uint64_t pfn = entry >> 1;
	if (entry & 1)
		pt_free_table(pfn_to_phys(pfn));
	else
		frame_put(pfn_frame(pfn));
}

static void release_batch(const uint64_t *batch, size_t first, size_t n)
{
	for (size_t i = first; i < n; i++)
		release(batch[i]);
}

/* Frees everything gathered so far: the invalidation must already have happened. */
static void release_all(struct tlb_gather *g)
{
	if (g->batch == g->inline_batch) {
		release_batch(g->batch, 0, g->n);
	} else {
		uintptr_t frame = MM_PHYS(g->batch);
		size_t n = g->n;
		while (frame) {
			uint64_t *entries = MM_VIRTUALIZE(frame);
			uintptr_t prev = (uintptr_t)entries[0];
			release_batch(entries, 1, n);
			mm_phys_free_page(frame);
			frame = prev;
			n = GATHER_FRAME_ENTRIES;
		}
	}
	g->batch = g->inline_batch;
	g->capacity = GATHER_INLINE;
	g->n = 0;
}

/* Moves on to a fresh frame-sized batch: the inline entries are copied into it, a full
 * frame is chained behind it. post: false when no frame could be had. */
static bool grow(struct tlb_gather *g)
{
	uintptr_t frame = mm_phys_alloc_page();
	if (frame == MM_NADDR)
		return false;
	uint64_t *entries = MM_VIRTUALIZE(frame);
	if (g->batch == g->inline_batch) {
		entries[0] = 0;
		for (size_t i = 0; i < g->n; i++)
			entries[1 + i] = g->batch[i];
		g->n += 1;
	} else {
		entries[0] = MM_PHYS(g->batch);
		g->n = 1;
	}
	g->batch = entries;
	g->capacity = GATHER_FRAME_ENTRIES;
	return true;
}

static void push(struct tlb_gather *g, uint64_t entry)
{
	if (g->n == g->capacity && !grow(g)) {
		/* No memory for a longer list: invalidate now and free what is held. */
		tlb_shootdown(g->space, g->start, g->end);
		release_all(g);
	}
	g->batch[g->n++] = entry;
}

void tlb_gather_leaf(struct tlb_gather *g, uint64_t pfn)
{
	push(g, pfn << 1);
}

void tlb_gather_table(struct tlb_gather *g, uintptr_t table)
{
	push(g, (phys_to_pfn(table) << 1) | 1);
}

void tlb_gather_finish(struct tlb_gather *g)
{
	if (g->n == 0)
		return;
	tlb_shootdown(g->space, g->start, g->end);
	release_all(g);
}
