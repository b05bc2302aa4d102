/*
 * TLB coherence: which CPUs may cache a space's translations, the shootdown that
 * invalidates a range on exactly those CPUs, and the gather that holds frames back until
 * the shootdown is done.
 *
 * Protocol (one initiator at a time, under shootdown_lock):
 *   1. the initiator has already cleared the page-table entries;
 *   2. it snapshots the target CPUs, writes the request, sets each target's mailbox and
 *      the ack count, then sends one IPI round;
 *   3. it flushes its own TLB while the targets work;
 *   4. each target flushes, then clears its mailbox and decrements the count (release);
 *   5. the initiator waits for the count to reach zero (acquire) and only then may the
 *      caller free frames and tables.
 * A CPU waiting for shootdown_lock keeps serving its own mailbox, so two CPUs that
 * shoot at each other cannot deadlock with interrupts off.
 */
#include "space.h"

static spinlock_t shootdown_lock = SPINLOCK_INIT;
static struct {
	uintptr_t start, end;
	bool global; /* kernel-half range: global entries */
} request;
static uint32_t mailbox[ARCH_MAX_CPUS];
static uint32_t acks_pending;

/* CPUs that have ever loaded a space: the ones that may cache kernel-half (global) entries. */
static arch_cpumask_t kernel_cpus;

static inline void mask_set(arch_cpumask_t *m, unsigned cpu)
{
	__atomic_fetch_or(&m->bits[cpu / 64], 1ull << (cpu % 64), __ATOMIC_SEQ_CST);
}

static inline void mask_clear(arch_cpumask_t *m, unsigned cpu)
{
	__atomic_fetch_and(&m->bits[cpu / 64], ~(1ull << (cpu % 64)), __ATOMIC_SEQ_CST);
}

static inline bool mask_test(const arch_cpumask_t *m, unsigned cpu)
{
	return (__atomic_load_n(&m->bits[cpu / 64], __ATOMIC_RELAXED) >> (cpu % 64)) & 1;
}

static void flush_local(uintptr_t start, uintptr_t end, bool global)
{
	uint64_t pages = (end - start) >> MM_PAGE_SHIFT;
	if (pages <= TLB_FLUSH_CEILING) {
		for (uintptr_t va = start; va < end; va += MM_PAGE_SIZE)
			arch_tlb_flush_page(va);
	} else if (global) {
		arch_tlb_flush_all();
	} else {
		arch_tlb_flush_pcid(0);
	}
}

static void serve_mailbox(void)
{
	unsigned cpu = arch_cpu_id();
	if (!__atomic_load_n(&mailbox[cpu], __ATOMIC_ACQUIRE))
		return;
	flush_local(request.start, request.end, request.global);
	__atomic_store_n(&mailbox[cpu], 0, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&acks_pending, 1, __ATOMIC_RELEASE);
}

void mm_ipi_handler(enum arch_ipi_vector vector)
{
	if (vector == ARCH_IPI_TLB)
		serve_mailbox();
}

static void lock_shootdown(void)
{
	while (!spin_trylock(&shootdown_lock)) {
		serve_mailbox();
		arch_cpu_relax();
	}
}

void tlb_shootdown(struct mm_space *space, uintptr_t start, uintptr_t end)
{
	bool global = space->is_kernel;
	arch_irq_state_t irq = arch_irq_save();
	lock_shootdown();
	unsigned self = arch_cpu_id();
	arch_cpumask_t targets;
	const arch_cpumask_t *holders = global ? &kernel_cpus : &space->active;
	unsigned count = 0;
	for (unsigned w = 0; w < sizeof(targets.bits) / sizeof(targets.bits[0]); w++)
		targets.bits[w] = __atomic_load_n(&holders->bits[w], __ATOMIC_SEQ_CST);
	bool local = mask_test(&targets, self) || global;
	targets.bits[self / 64] &= ~(1ull << (self % 64));
	request.start = start;
	request.end = end;
	request.global = global;
	for (unsigned cpu = 0; cpu < ARCH_MAX_CPUS; cpu++) {
		if (mask_test(&targets, cpu)) {
			count++;
			__atomic_store_n(&mailbox[cpu], 1, __ATOMIC_RELAXED);
		}
	}
	if (count) {
		__atomic_store_n(&acks_pending, count, __ATOMIC_RELEASE);
		arch_ipi_send(&targets, ARCH_IPI_TLB);
	}
	if (local)
		flush_local(start, end, global);
	while (__atomic_load_n(&acks_pending, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
	spin_unlock(&shootdown_lock);
	arch_irq_restore(irq);
}

void tlb_switch(struct mm_space *from, struct mm_space *to)
{
	unsigned cpu = arch_cpu_id();
	/* Join the new space before loading it: a shootdown that misses this CPU must find the
	 * page-table entries already cleared when this CPU walks them. */
	mask_set(&kernel_cpus, cpu);
	if (to && !to->is_kernel)
		mask_set(&to->active, cpu);
	if (from && !from->is_kernel)
		mask_clear(&from->active, cpu);
}

void mm_cpu_offline(void)
{
	arch_irq_state_t irq = arch_irq_save();
	unsigned cpu = arch_cpu_id();
	struct mm_space *current = cpu_current_space[cpu];
	if (current && !current->is_kernel)
		mask_clear(&current->active, cpu);
	cpu_current_space[cpu] = NULL;
	mask_clear(&kernel_cpus, cpu);
	/* Wait out a shootdown that may already count on this CPU, serving it meanwhile. */
	lock_shootdown();
	spin_unlock(&shootdown_lock);
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
