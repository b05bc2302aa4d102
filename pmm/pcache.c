/* Per-CPU order-0 frame caches: lock-free pops and pushes, batched refill and drain. */
#include "pcache.h"

#include "buddy.h"

struct pcache pcaches[ARCH_MAX_CPUS];
int pcache_enabled = 1;
long pmm_fail_budget = -1;

size_t pmm_budget_take(size_t n)
{
	long budget = __atomic_load_n(&pmm_fail_budget, __ATOMIC_RELAXED);
	if (__builtin_expect(budget < 0, 1))
		return n;
	size_t granted = (size_t)budget < n ? (size_t)budget : n;
	__atomic_sub_fetch(&pmm_fail_budget, (long)granted, __ATOMIC_RELAXED);
	return granted;
}

static void mark_allocated(uint64_t pfn)
{
	struct frame *f = pfn_frame(pfn);
	f->state = FRAME_ALLOCATED;
	f->refcount = 1;
}

/* Takes up to n frames from one zone under one lock acquisition. */
static size_t zone_take(unsigned node, uint32_t *out, size_t n, enum frame_state state)
{
	struct buddy_zone *zone = &buddy_zones[node];
	size_t got = 0;
	arch_irq_state_t irq = spin_lock_irqsave(&zone->lock);
	while (got < n) {
		uint64_t pfn = buddy_alloc_locked(zone, 0);
		if (pfn == FRAME_NIL)
			break;
		pfn_frame(pfn)->state = (uint8_t)state;
		out[got++] = (uint32_t)pfn;
	}
	spin_unlock_irqrestore(&zone->lock, irq);
	return got;
}

static void zone_give(unsigned node, const uint32_t *pfns, size_t n)
{
	struct buddy_zone *zone = &buddy_zones[node];
	arch_irq_state_t irq = spin_lock_irqsave(&zone->lock);
	for (size_t i = 0; i < n; i++)
		buddy_free_locked(zone, pfns[i], 0);
	spin_unlock_irqrestore(&zone->lock, irq);
}

/* Refills the cache with one batch from the local zone. pre: interrupts off, count == 0. */
static void refill(struct pcache *c, unsigned node)
{
	c->count = (uint32_t)zone_take(node, c->frames, PCACHE_BATCH, FRAME_CACHED);
	c->refills++;
}

/* Moves the PCACHE_BATCH coldest frames (the bottom of the stack) to the zone. */
static void drain_batch(struct pcache *c, unsigned node)
{
	size_t n = c->count < PCACHE_BATCH ? c->count : PCACHE_BATCH;
	zone_give(node, c->frames, n);
	for (size_t i = n; i < c->count; i++)
		c->frames[i - n] = c->frames[i];
	c->count -= (uint32_t)n;
	c->drains++;
}

/* Slow path: straight from the zones, local node first, then the others in order. */
static size_t take_from_zones(unsigned local, uint64_t *pfns, size_t n)
{
	size_t got = 0;
	unsigned nodes = arch_node_count();
	for (unsigned i = 0; i < nodes && got < n; i++) {
		uint32_t chunk[PCACHE_BATCH];
		unsigned node = (local + i) % nodes;
		size_t want = n - got;
		while (want) {
			size_t ask = want < PCACHE_BATCH ? want : PCACHE_BATCH;
			size_t k = zone_take(node, chunk, ask, FRAME_ALLOCATED);
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

size_t pcache_alloc_batch(uint64_t *pfns, size_t n)
{
	n = pmm_budget_take(n);
	arch_irq_state_t irq = arch_irq_save();
	unsigned cpu = arch_cpu_id();
	unsigned node = arch_cpu_node(cpu);
	struct pcache *c = &pcaches[cpu];
	size_t got = 0;
	if (pcache_enabled) {
		while (got < n) {
			if (c->count == 0) {
				refill(c, node);
				if (c->count == 0)
					break;
			} else {
				c->hits++;
			}
			uint32_t take = c->count < n - got ? c->count : (uint32_t)(n - got);
			for (uint32_t i = 0; i < take; i++) {
				uint64_t pfn = c->frames[--c->count];
				mark_allocated(pfn);
				pfns[got++] = pfn;
			}
		}
	}
	if (got < n)
		got += take_from_zones(node, pfns + got, n - got);
	c->allocs += got;
	arch_irq_restore(irq);
	return got;
}

void pcache_free_batch(const uint64_t *pfns, size_t n)
{
	arch_irq_state_t irq = arch_irq_save();
	unsigned cpu = arch_cpu_id();
	unsigned node = arch_cpu_node(cpu);
	struct pcache *c = &pcaches[cpu];
	for (size_t i = 0; i < n; i++) {
		struct frame *f = pfn_frame(pfns[i]);
		MM_ASSERT(f->refcount == 0);
		if (!pcache_enabled || f->node != node) {
			/* Remote frames go home at once: a cache holds local frames only. */
			uint32_t pfn = (uint32_t)pfns[i];
			f->state = FRAME_INNER;
			zone_give(f->node, &pfn, 1);
			continue;
		}
		if (c->count == PCACHE_CAPACITY)
			drain_batch(c, node);
		f->state = FRAME_CACHED;
		c->frames[c->count++] = (uint32_t)pfns[i];
	}
	c->frees += n;
	arch_irq_restore(irq);
}

static void drain_cpu(unsigned cpu)
{
	struct pcache *c = &pcaches[cpu];
	while (c->count)
		drain_batch(c, arch_cpu_node(cpu));
}

void pcache_drain_local(void)
{
	arch_irq_state_t irq = arch_irq_save();
	drain_cpu(arch_cpu_id());
	arch_irq_restore(irq);
}

void pcache_drain_all(void)
{
	for (unsigned cpu = 0; cpu < ARCH_MAX_CPUS; cpu++)
		drain_cpu(cpu);
}

void pcache_check(void)
{
	for (unsigned cpu = 0; cpu < ARCH_MAX_CPUS; cpu++) {
		const struct pcache *c = &pcaches[cpu];
		MM_CHECK(c->count <= PCACHE_CAPACITY);
		for (uint32_t i = 0; i < c->count; i++) {
			const struct frame *f = pfn_frame(c->frames[i]);
			MM_CHECK(f->state == FRAME_CACHED);
			MM_CHECK(cpu >= arch_cpu_count() || f->node == arch_cpu_node(cpu));
		}
	}
}
