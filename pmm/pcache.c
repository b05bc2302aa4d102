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
static __attribute__((noinline)) void learn_node(struct pcache *c, unsigned cpu)
{
	unsigned node = arch_cpu_node(cpu);
	/* The CPUs of a node share its zones out in order: of n CPUs, the r-th starts in zone
	 * r * zones / n, so that as many CPUs as there are zones each have one to themselves. */
	unsigned rank = 0, n = 0;
	for (unsigned other = 0; other < arch_cpu_count(); other++) {
		if (arch_cpu_node(other) != node)
			continue;
		rank += other < cpu;
		n++;
	}
	c->home_zone = n ? rank * buddy_nodes[node].count / n : 0;
	c->node_plus_one = node + 1;
}

static inline unsigned cache_node(struct pcache *c, unsigned cpu)
{
	if (__builtin_expect(c->node_plus_one == 0, 0))
		learn_node(c, cpu);
	return c->node_plus_one - 1;
}

/* The zone of node that CPU cpu (on node local) starts in: its home zone on its own node,
 * one picked by its number on another. */
static unsigned start_zone(const struct pcache *c, unsigned cpu, unsigned node, unsigned local)
{
	return node == local ? c->home_zone : cpu % buddy_nodes[node].count;
}

unsigned pcache_start_zone(unsigned node)
{
	unsigned cpu = arch_cpu_id();
	struct pcache *c = &pcaches[cpu];
	return start_zone(c, cpu, node, cache_node(c, cpu));
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

static size_t zone_take(struct buddy_zone *zone, unsigned order, uint32_t *out, size_t n,
                        enum frame_state state)
{
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

/* The zones are tried from start round the node; a zone after the first that has fewer free
 * frames than one block (read without its lock: at worst a zone is tried or skipped wrongly)
 * costs no lock acquisition. */
static size_t zones_take(unsigned node, unsigned start, unsigned order, uint32_t *out, size_t n,
                         enum frame_state state)
{
	unsigned zones = buddy_nodes[node].count;
	for (unsigned i = 0, j = start; i < zones; i++, j = j + 1 < zones ? j + 1 : 0) {
		struct buddy_zone *zone = buddy_zone_at(node, j);
		if (i && __atomic_load_n(&zone->free_frames, __ATOMIC_RELAXED) < (1ull << order))
			continue;
		size_t got = zone_take(zone, order, out, n, state);
		if (got)
			return got;
	}
	return 0;
}

size_t pcache_node_take(unsigned node, unsigned order, uint32_t *out, size_t n,
                        enum frame_state state)
{
	unsigned start = pcache_start_zone(node);
	/* A block larger than a 2 MiB page (a 1 GiB page) is often missing from the start zone,
	 * which may have lost part of its chunk to the frame table or a hole: glance at it too. */
	if (order > PCACHE_LARGE_ORDER && __atomic_load_n(&buddy_zone_at(node, start)->free_frames,
	                                                  __ATOMIC_RELAXED) < (1ull << order))
		start = start + 1 < buddy_nodes[node].count ? start + 1 : 0;
	return zones_take(node, start, order, out, n, state);
}

/* Gives blocks back to their zones, one lock acquisition for each run of blocks of one
 * zone (a cache's batch is almost always of one zone: its home). */
static void zone_give(unsigned order, const uint32_t *pfns, size_t n)
{
	for (size_t i = 0; i < n;) {
		struct buddy_zone *zone = buddy_zone_of(pfns[i]);
		arch_irq_state_t irq = spin_lock_irqsave(&zone->lock);
		do
			buddy_free_locked(zone, pfns[i], order);
		while (++i < n && buddy_zone_of(pfns[i]) == zone);
		spin_unlock_irqrestore(&zone->lock, irq);
	}
}

static void zone_give_one(unsigned order, uint64_t pfn)
{
	struct buddy_zone *zone = buddy_zone_of(pfn);
	arch_irq_state_t irq = spin_lock_irqsave(&zone->lock);
	buddy_free_locked(zone, pfn, order);
	spin_unlock_irqrestore(&zone->lock, irq);
}

/* pre: interrupts off, the cache of size k is empty, node is the CPU's (learnt). */
static void refill(struct pcache *c, enum pcache_size k, unsigned node)
{
	c->count[k] = (uint32_t)zones_take(node, c->home_zone, sizes[k].order, stack_of(c, k),
	                                   sizes[k].batch, FRAME_CACHED);
	c->refills++;
}

/* Moves the coldest batch (the bottom of the stack) to the zone. pre: interrupts off. */
static void drain_batch(struct pcache *c, enum pcache_size k)
{
	uint32_t *stack = stack_of(c, k);
	uint32_t n = c->count[k] < sizes[k].batch ? c->count[k] : sizes[k].batch;
	zone_give(sizes[k].order, stack, n);
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
static size_t take_from_zones(const struct pcache *c, unsigned cpu, unsigned local, uint64_t *pfns,
                              size_t n)
{
	size_t got = 0;
	const uint8_t *order = node_order_of(local);
	for (unsigned i = 0; i < arch_node_count() && got < n; i++) {
		uint32_t chunk[PCACHE_BATCH];
		unsigned start = start_zone(c, cpu, order[i], local);
		for (size_t want = n - got; want;) {
			size_t ask = want < PCACHE_BATCH ? want : PCACHE_BATCH;
			size_t k = zones_take(order[i], start, 0, chunk, ask, FRAME_ALLOCATED);
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
		got += take_from_zones(c, cpu, node, pfns + got, n - got);
	/* Frames may sit in other CPUs' caches: an allocation fails only when memory is
	 * really gone. */
	if (got < n && pcache_reclaim_all())
		got += take_from_zones(c, cpu, node, pfns + got, n - got);
	c->allocs += got;
	arch_irq_restore(irq);
	return reserved + got;
}

/* The slow paths of pcache_alloc_one and pcache_free_one, out of line: the fast paths keep
 * the frame number in a register and need few of them. */
static __attribute__((noinline)) uint64_t alloc_one_slow(struct pcache *c, unsigned cpu,
                                                         arch_irq_state_t irq)
{
	/* Caches off (and no reserve, no fault injection): straight from the home zone. */
	if (!pcache_enabled && !c->reserved &&
	    __atomic_load_n(&pmm_fail_budget, __ATOMIC_RELAXED) < 0) {
		uint32_t pfn;
		if (zones_take(cache_node(c, cpu), c->home_zone, 0, &pfn, 1, FRAME_ALLOCATED)) {
			mark_allocated(pfn);
			c->allocs++;
			arch_irq_restore(irq);
			return pfn;
		}
	}
	arch_irq_restore(irq);
	uint64_t pfn;
	return pcache_alloc_batch(&pfn, 1) ? pfn : FRAME_NIL;
}

static __attribute__((noinline)) void free_one_slow(struct pcache *c, unsigned cpu, struct frame *f,
                                                    uint64_t pfn, arch_irq_state_t irq)
{
	/* Caches off, or a frame of another node: it goes to its zone at once. */
	if (!pcache_enabled || f->node != cache_node(c, cpu)) {
		frame_set_state(f, FRAME_INNER);
		zone_give_one(0, pfn);
		c->frees++;
		arch_irq_restore(irq);
		return;
	}
	arch_irq_restore(irq);
	pcache_free_batch(&pfn, 1); /* the stack is full: its coldest batch goes first */
}

uint64_t pcache_alloc_one(void)
{
	arch_irq_state_t irq = arch_irq_save();
	unsigned cpu = arch_cpu_id();
	struct pcache *c = &pcaches[cpu];
	uint32_t count = c->count[PCACHE_4K];
	if (__builtin_expect(pcache_enabled && count && !c->reserved &&
	                         __atomic_load_n(&pmm_fail_budget, __ATOMIC_RELAXED) < 0,
	                     1)) {
		uint64_t pfn = c->small[count - 1];
		c->count[PCACHE_4K] = count - 1;
		mark_allocated(pfn);
		c->hits++;
		c->allocs++;
		arch_irq_restore(irq);
		return pfn;
	}
	return alloc_one_slow(c, cpu, irq);
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
		drain_batch(c, PCACHE_ZEROED);
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
			zone_give_one(0, pfn);
			continue;
		}
		if (c->count[PCACHE_4K] == PCACHE_CAPACITY)
			drain_batch(c, PCACHE_4K);
		frame_set_state(f, FRAME_CACHED);
		c->small[c->count[PCACHE_4K]++] = pfn;
	}
	c->frees += n;
	arch_irq_restore(irq);
}

void pcache_free_one(uint64_t pfn)
{
	arch_irq_state_t irq = arch_irq_save();
	unsigned cpu = arch_cpu_id();
	struct pcache *c = &pcaches[cpu];
	struct frame *f = pfn_frame(pfn);
	MM_ASSERT(f->refcount == 0);
	uint32_t count = c->count[PCACHE_4K];
	/* A CPU that never learnt its node (node_plus_one 0) takes the slow path, which does. */
	if (__builtin_expect(
	        pcache_enabled && count < PCACHE_CAPACITY && f->node + 1u == c->node_plus_one, 1)) {
		frame_set_state(f, FRAME_CACHED);
		c->small[count] = (uint32_t)pfn;
		c->count[PCACHE_4K] = count + 1;
		c->frees++;
		arch_irq_restore(irq);
		return;
	}
	free_one_slow(c, cpu, f, pfn, irq);
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
		frame_set_state(f, FRAME_INNER);
		zone_give_one(PCACHE_LARGE_ORDER, pfn);
	} else {
		if (c->count[PCACHE_2M] == PCACHE_LARGE_CAPACITY)
			drain_batch(c, PCACHE_2M);
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
			drain_batch(c, k);
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
