/* Per-CPU frame caches: lock-free pops and pushes, batched refill and drain, and a drain of
 * every CPU when memory runs short. */
#include "pcache.h"

#include <lib/smp_call.h>

#include "buddy.h"
#include "node_order.h"
#include "pmm_internal.h"

struct pcache pcaches[ARCH_MAX_CPUS];
int pcache_enabled = 1;
long pmm_fail_budget = -1;

static const struct {
	unsigned order, capacity, batch;
} sizes[PCACHE_SIZES] = {
    [PCACHE_4K] = {0, PCACHE_CAPACITY, PCACHE_BATCH},
    [PCACHE_2M] = {PCACHE_LARGE_ORDER, PCACHE_LARGE_CAPACITY, PCACHE_LARGE_BATCH},
    [PCACHE_ZEROED] = {0, PCACHE_ZEROED_CAPACITY, PCACHE_ZEROED_BATCH},
};

/* A CPU's node never changes once it allocates: keep it beside the cache instead of asking
 * the platform on every call. */
static inline unsigned cache_node(struct pcache *c, unsigned cpu)
{
	if (__builtin_expect(c->node_plus_one == 0, 0))
		c->node_plus_one = arch_cpu_node(cpu) + 1;
	return c->node_plus_one - 1;
}

static uint32_t *stack_of(struct pcache *c, enum pcache_size k)
{
	return k == PCACHE_4K ? c->small : k == PCACHE_2M ? c->large : c->zeroed;
}

/* Whether every byte of the frame is zero (debug checks). */
static bool frame_is_zero(uint64_t pfn)
{
	const uint64_t *words = MM_VIRTUALIZE(pfn_to_phys(pfn));
	for (size_t i = 0; i < MM_PAGE_SIZE / sizeof *words; i++)
		if (words[i])
			return false;
	return true;
}

size_t pmm_budget_take(size_t n)
{
	long budget = __atomic_load_n(&pmm_fail_budget, __ATOMIC_RELAXED);
	if (__builtin_expect(budget < 0, 1))
		return n;
	size_t granted = (size_t)budget < n ? (size_t)budget : n;
	__atomic_sub_fetch(&pmm_fail_budget, (long)granted, __ATOMIC_RELAXED);
	return granted;
}

/* ---- Moving batches between a cache and a zone (one lock acquisition each) ---------- */

static size_t zone_take(unsigned node, unsigned order, uint32_t *out, size_t n,
                        enum frame_state state)
{
	struct buddy_zone *zone = &buddy_zones[node];
	size_t got = 0;
	arch_irq_state_t irq = spin_lock_irqsave(&zone->lock);
	/* A whole batch of single frames as one aligned block when the zone has no loose frames
	 * to use up: one list operation instead of n, and descriptors on n / 4 cache lines. The
	 * stack is filled top-down so frames are popped in ascending order. */
	if (order == 0 && n == PCACHE_BATCH && zone->count[0] < n) {
		uint64_t block = buddy_alloc_locked(zone, PCACHE_BATCH_ORDER);
		if (block != FRAME_NIL) {
			for (size_t i = 0; i < n; i++) {
				frame_set_state(pfn_frame(block + i), state);
				out[n - 1 - i] = (uint32_t)(block + i);
			}
			got = n;
		}
	}
	while (got < n) {
		uint64_t pfn = buddy_alloc_locked(zone, order);
		if (pfn == FRAME_NIL)
			break;
		/* A block split off a larger one keeps the larger order in its head until set. */
		frame_set_order(pfn_frame(pfn), order);
		frame_set_state(pfn_frame(pfn), state);
		out[got++] = (uint32_t)pfn;
	}
	spin_unlock_irqrestore(&zone->lock, irq);
	return got;
}

static void zone_give(unsigned node, unsigned order, const uint32_t *pfns, size_t n)
{
	struct buddy_zone *zone = &buddy_zones[node];
	arch_irq_state_t irq = spin_lock_irqsave(&zone->lock);
	for (size_t i = 0; i < n; i++)
		buddy_free_locked(zone, pfns[i], order);
	spin_unlock_irqrestore(&zone->lock, irq);
}

/* pre: interrupts off, the cache of size k is empty. */
static void refill(struct pcache *c, enum pcache_size k, unsigned node)
{
	c->count[k] =
	    (uint32_t)zone_take(node, sizes[k].order, stack_of(c, k), sizes[k].batch, FRAME_CACHED);
	c->refills++;
}

/* Moves the coldest batch (the bottom of the stack) to the zone. pre: interrupts off. */
static void drain_batch(struct pcache *c, enum pcache_size k, unsigned node)
{
	uint32_t *stack = stack_of(c, k);
	uint32_t n = c->count[k] < sizes[k].batch ? c->count[k] : sizes[k].batch;
	zone_give(node, sizes[k].order, stack, n);
	for (uint32_t i = n; i < c->count[k]; i++)
		stack[i - n] = stack[i];
	c->count[k] -= n;
	c->drains++;
}

/* ---- 4 KiB frames ------------------------------------------------------------------ */

static void mark_allocated(uint64_t pfn)
{
	struct frame *f = pfn_frame(pfn);
	frame_set_state(f, FRAME_ALLOCATED);
	f->refcount = 1;
}

/* Slow path: straight from the zones, local node first, then the others by distance. */
static size_t take_from_zones(unsigned local, uint64_t *pfns, size_t n)
{
	size_t got = 0;
	const uint8_t *order = node_order_of(local);
	for (unsigned i = 0; i < arch_node_count() && got < n; i++) {
		uint32_t chunk[PCACHE_BATCH];
		for (size_t want = n - got; want;) {
			size_t ask = want < PCACHE_BATCH ? want : PCACHE_BATCH;
			size_t k = zone_take(order[i], 0, chunk, ask, FRAME_ALLOCATED);
			for (size_t j = 0; j < k; j++) {
				mark_allocated(chunk[j]);
				pfns[got++] = chunk[j];
			}
			want -= k;
			if (k < ask)
				break;
		}
	}
	return got;
}

static size_t pop_small(struct pcache *c, unsigned node, uint64_t *pfns, size_t n)
{
	size_t got = 0;
	while (got < n) {
		if (c->count[PCACHE_4K] == 0) {
			refill(c, PCACHE_4K, node);
			if (c->count[PCACHE_4K] == 0)
				break;
		} else {
			c->hits++;
		}
		uint32_t take = c->count[PCACHE_4K];
		if (take > n - got)
			take = (uint32_t)(n - got);
		for (uint32_t i = 0; i < take; i++) {
			uint64_t pfn = c->small[--c->count[PCACHE_4K]];
			mark_allocated(pfn);
			pfns[got++] = pfn;
		}
	}
	return got;
}

/* Frames set aside by pmm_reserve: already ALLOCATED, chained through their list.next. */
static size_t take_reserved(struct pcache *c, uint64_t *pfns, size_t n)
{
	size_t got = 0;
	while (got < n && c->reserved) {
		uint64_t pfn = c->reserve_head;
		c->reserve_head = pfn_frame(pfn)->list.next;
		c->reserved--;
		pfns[got++] = pfn;
	}
	return got;
}

/* pcache_alloc_batch's common case, in a few instructions: no reserve, no fault injection,
 * and the cache holds them all (a fault's one frame). false (nothing taken) otherwise.
 * pre: interrupts off. */
static inline bool pop_fast(struct pcache *c, uint64_t *pfns, size_t n)
{
	if (c->count[PCACHE_4K] < n || c->reserved ||
	    __atomic_load_n(&pmm_fail_budget, __ATOMIC_RELAXED) >= 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint64_t pfn = c->small[--c->count[PCACHE_4K]];
		mark_allocated(pfn);
		pfns[i] = pfn;
	}
	c->hits++;
	c->allocs += n;
	return true;
}

size_t pcache_alloc_batch(uint64_t *pfns, size_t n)
{
	arch_irq_state_t irq = arch_irq_save();
	unsigned cpu = arch_cpu_id();
	struct pcache *c = &pcaches[cpu];
	if (__builtin_expect(pcache_enabled, 1) && pop_fast(c, pfns, n)) {
		arch_irq_restore(irq);
		return n;
	}
	size_t reserved = take_reserved(c, pfns, n);
	pfns += reserved;
	n = pmm_budget_take(n - reserved);
	unsigned node = cache_node(c, cpu);
	size_t got = pcache_enabled ? pop_small(c, node, pfns, n) : 0;
	if (got < n)
		got += take_from_zones(node, pfns + got, n - got);
	/* Frames may sit in other CPUs' caches: an allocation fails only when memory is
	 * really gone. */
	if (got < n && pcache_reclaim_all())
		got += take_from_zones(node, pfns + got, n - got);
	c->allocs += got;
	arch_irq_restore(irq);
	return reserved + got;
}

size_t pcache_alloc_zeroed(uint64_t *pfns, size_t n)
{
	/* Most tables are made where none was freed: an empty stack costs a glance, without
	 * interrupts turned off (a CPU change in between only makes the glance wrong, and the
	 * count is read again below). */
	if (__atomic_load_n(&pcaches[arch_cpu_id()].count[PCACHE_ZEROED], __ATOMIC_RELAXED) == 0)
		return 0;
	arch_irq_state_t irq = arch_irq_save();
	struct pcache *c = &pcaches[arch_cpu_id()];
	size_t got = 0;
	if (pcache_enabled) {
		n = pmm_budget_take(n < c->count[PCACHE_ZEROED] ? n : c->count[PCACHE_ZEROED]);
		for (; got < n; got++) {
			uint64_t pfn = c->zeroed[--c->count[PCACHE_ZEROED]];
			mark_allocated(pfn);
			pfns[got] = pfn;
		}
		c->hits += got;
		c->allocs += got;
	}
	arch_irq_restore(irq);
	return got;
}

void pcache_free_zeroed(uint64_t pfn)
{
	MM_ASSERT(frame_is_zero(pfn));
	arch_irq_state_t irq = arch_irq_save();
	unsigned cpu = arch_cpu_id();
	struct pcache *c = &pcaches[cpu];
	struct frame *f = pfn_frame(pfn);
	MM_ASSERT(f->refcount == 0);
	if (!pcache_enabled || f->node != cache_node(c, cpu)) {
		arch_irq_restore(irq);
		pcache_free_batch(&pfn, 1);
		return;
	}
	if (c->count[PCACHE_ZEROED] == PCACHE_ZEROED_CAPACITY)
		drain_batch(c, PCACHE_ZEROED, cache_node(c, cpu));
	frame_set_state(f, FRAME_CACHED);
	c->zeroed[c->count[PCACHE_ZEROED]++] = (uint32_t)pfn;
	c->frees++;
	arch_irq_restore(irq);
}

bool pmm_reserve(size_t n)
{
	arch_irq_state_t irq = arch_irq_save();
	struct pcache *c = &pcaches[arch_cpu_id()];
	MM_ASSERT(c->reserved == 0);
	bool ok = true;
	uint64_t chunk[PCACHE_BATCH];
	for (size_t left = n; left && ok;) {
		size_t ask = left < PCACHE_BATCH ? left : PCACHE_BATCH;
		/* Filled into a local chain first: the reserve must not serve its own filling. */
		size_t got = pcache_alloc_batch(chunk, ask);
		for (size_t i = 0; i < got; i++) {
			pfn_frame(chunk[i])->list.next = (uint32_t)c->reserve_head;
			c->reserve_head = chunk[i];
			c->reserved++;
		}
		ok = got == ask;
		left -= got;
	}
	if (!ok)
		pmm_unreserve();
	arch_irq_restore(irq);
	return ok;
}

void pmm_unreserve(void)
{
	arch_irq_state_t irq = arch_irq_save();
	struct pcache *c = &pcaches[arch_cpu_id()];
	while (c->reserved) {
		uint64_t pfn;
		take_reserved(c, &pfn, 1);
		struct frame *f = pfn_frame(pfn);
		f->refcount = 0;
		pcache_free_batch(&pfn, 1);
	}
	arch_irq_restore(irq);
}

void pcache_free_batch(const uint64_t *pfns, size_t n)
{
	arch_irq_state_t irq = arch_irq_save();
	unsigned cpu = arch_cpu_id();
	struct pcache *c = &pcaches[cpu];
	unsigned node = cache_node(c, cpu);
	for (size_t i = 0; i < n; i++) {
		struct frame *f = pfn_frame(pfns[i]);
		MM_ASSERT(f->refcount == 0);
		uint32_t pfn = (uint32_t)pfns[i];
		if (!pcache_enabled || f->node != node) {
			/* Remote frames go home at once: a cache holds local frames only. */
			frame_set_state(f, FRAME_INNER);
			zone_give(f->node, 0, &pfn, 1);
			continue;
		}
		if (c->count[PCACHE_4K] == PCACHE_CAPACITY)
			drain_batch(c, PCACHE_4K, node);
		frame_set_state(f, FRAME_CACHED);
		c->small[c->count[PCACHE_4K]++] = pfn;
	}
	c->frees += n;
	arch_irq_restore(irq);
}

/* ---- 2 MiB blocks ------------------------------------------------------------------ */

uint64_t pcache_alloc_large(void)
{
	if (!pcache_enabled)
		return FRAME_NIL;
	arch_irq_state_t irq = arch_irq_save();
	unsigned cpu = arch_cpu_id();
	struct pcache *c = &pcaches[cpu];
	uint64_t pfn = FRAME_NIL;
	if (c->count[PCACHE_2M] == 0)
		refill(c, PCACHE_2M, cache_node(c, cpu));
	else
		c->hits++;
	if (c->count[PCACHE_2M]) {
		pfn = c->large[--c->count[PCACHE_2M]];
		c->allocs++;
	}
	arch_irq_restore(irq);
	return pfn;
}

void pcache_free_large(uint64_t pfn)
{
	arch_irq_state_t irq = arch_irq_save();
	unsigned cpu = arch_cpu_id();
	struct pcache *c = &pcaches[cpu];
	unsigned node = cache_node(c, cpu);
	struct frame *f = pfn_frame(pfn);
	if (!pcache_enabled || f->node != node) {
		uint32_t one = (uint32_t)pfn;
		frame_set_state(f, FRAME_INNER);
		zone_give(f->node, PCACHE_LARGE_ORDER, &one, 1);
	} else {
		if (c->count[PCACHE_2M] == PCACHE_LARGE_CAPACITY)
			drain_batch(c, PCACHE_2M, node);
		frame_set_state(f, FRAME_CACHED);
		frame_set_order(f, PCACHE_LARGE_ORDER);
		c->large[c->count[PCACHE_2M]++] = (uint32_t)pfn;
	}
	c->frees++;
	arch_irq_restore(irq);
}

/* ---- Draining ---------------------------------------------------------------------- */

void pcache_drain_local(void)
{
	arch_irq_state_t irq = arch_irq_save();
	unsigned cpu = arch_cpu_id();
	struct pcache *c = &pcaches[cpu];
	for (enum pcache_size k = 0; k < PCACHE_SIZES; k++)
		while (c->count[k])
			drain_batch(c, k, cache_node(c, cpu));
	arch_irq_restore(irq);
}

static void drain_on_this_cpu(void *unused)
{
	pcache_drain_local();
}

bool pcache_reclaim_all(void)
{
	uint64_t cached = 0;
	for (unsigned cpu = 0; cpu < ARCH_MAX_CPUS; cpu++)
		for (enum pcache_size k = 0; k < PCACHE_SIZES; k++)
			cached += __atomic_load_n(&pcaches[cpu].count[k], __ATOMIC_RELAXED);
	if (cached == 0)
		return false;
	smp_call_all(drain_on_this_cpu, NULL);
	return true;
}

void pcache_check(void)
{
	for (unsigned cpu = 0; cpu < ARCH_MAX_CPUS; cpu++) {
		struct pcache *c = &pcaches[cpu];
		for (enum pcache_size k = 0; k < PCACHE_SIZES; k++) {
			MM_CHECK(c->count[k] <= sizes[k].capacity);
			const uint32_t *stack = stack_of(c, k);
			for (uint32_t i = 0; i < c->count[k]; i++) {
				const struct frame *f = pfn_frame(stack[i]);
				MM_CHECK(frame_state(f) == FRAME_CACHED);
				MM_CHECK(k != PCACHE_2M || frame_order(f) == PCACHE_LARGE_ORDER);
				MM_CHECK(k != PCACHE_ZEROED || frame_is_zero(stack[i]));
				MM_CHECK(cpu >= arch_cpu_count() || f->node == arch_cpu_node(cpu));
			}
		}
	}
}
