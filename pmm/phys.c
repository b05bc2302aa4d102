/* The public frame allocator calls over the per-CPU caches and buddy zones. */
#include <mm/phys.h>

#include "buddy.h"
#include "node_order.h"
#include "pcache.h"
#include "pmm_internal.h"

/* ---- References ----------------------------------------------------------------------- */

/* A page of another size than 4 KiB and 2 MiB (a 1 GiB page) back to its zone; out of line,
 * so that frame_put's common cases stay short. */
static __attribute__((noinline)) void release_block(struct frame *f, uint64_t pfn, unsigned order)
{
	struct buddy_zone *zone = buddy_zone_of(pfn);
	frame_set_state(f, FRAME_INNER);
	arch_irq_state_t irq = spin_lock_irqsave(&zone->lock);
	buddy_free_locked(zone, pfn, order);
	spin_unlock_irqrestore(&zone->lock, irq);
}

static void release(uint64_t pfn)
{
	struct frame *f = pfn_frame(pfn);
	if (frame_state(f) == FRAME_HEAD) {
		unsigned order = frame_order(f);
		if (order == PCACHE_LARGE_ORDER)
			pcache_free_large(pfn);
		else
			release_block(f, pfn, order);
		return;
	}
	pcache_free_one(pfn);
}

bool frame_put(struct frame *f)
{
	/* In every build: a reference dropped that nobody held (a frame freed while a mapping
	 * still used it) means the frame table is corrupt; going on would hand the frame out
	 * twice. */
	MM_CHECK(f->refcount > 0);
	/* The sole owner needs no atomic: nobody else may take a reference without holding one. */
	if (__atomic_load_n(&f->refcount, __ATOMIC_ACQUIRE) == 1 ||
	    __atomic_sub_fetch(&f->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
		f->refcount = 0;
		release(frame_pfn(f));
		return true;
	}
	return false;
}

void frame_get(struct frame *f)
{
	MM_CHECK(f->refcount > 0);
	__atomic_add_fetch(&f->refcount, 1, __ATOMIC_RELAXED);
}

/* The descriptor of an allocated 4 KiB frame at addr, or NULL with the error recorded. */
static struct frame *allocated_frame(uintptr_t addr, int *error)
{
	if (addr & (MM_PAGE_SIZE - 1)) {
		*error = MM_EINVAL;
		return NULL;
	}
	struct frame *f = frame_lookup(addr);
	if (!f) {
		*error = MM_EINVAL;
		return NULL;
	}
	if (frame_state(f) != FRAME_ALLOCATED) {
		*error = MM_ENOTALLOC;
		return NULL;
	}
	return f;
}

int mm_phys_ref(uintptr_t addr)
{
	int error;
	struct frame *f = allocated_frame(addr, &error);
	if (!f)
		return mm_set_error(error);
	frame_get(f);
	return MM_OK;
}

int mm_phys_is_managed(uintptr_t addr)
{
	return frame_lookup(addr) != NULL;
}

unsigned mm_phys_node_of(uintptr_t addr)
{
	const struct frame *f = frame_lookup(addr);
	return f ? f->node : MM_NODE_LOCAL;
}

/* ---- The general allocation ------------------------------------------------------------ */

#define ALLOC_FLAGS (MM_FLG_PS | MM_FLG_PS1G | MM_FLG_NODE_STRICT | MM_FLG_ZERO)

static unsigned order_for(uint64_t frames)
{
	unsigned order = 0;
	while ((1ull << order) < frames)
		order++;
	return order;
}

/* A 2^order block from one of node's zones (the calling CPU's start zone first); the
 * frames past `keep` go back at once. */
static uint64_t take_block_from(unsigned node, unsigned order, uint64_t keep)
{
	uint32_t head;
	if (pcache_node_take(node, order, &head, 1, FRAME_INNER) == 0)
		return FRAME_NIL;
	uint64_t pfn = head;
	if (keep < (1ull << order)) {
		struct buddy_zone *zone = buddy_zone_of(pfn);
		arch_irq_state_t irq = spin_lock_irqsave(&zone->lock);
		buddy_free_run_locked(zone, pfn + keep, (1ull << order) - keep);
		spin_unlock_irqrestore(&zone->lock, irq);
	}
	return pfn;
}

/* A block from `node` (or, unless strict, the nearest node that has one); under memory
 * pressure every CPU's cache is drained and the zones tried once more. */
static uint64_t take_block(unsigned node, bool strict, unsigned order, uint64_t keep)
{
	if (pmm_budget_take(keep) < keep)
		return FRAME_NIL;
	const uint8_t *order_of_nodes = node_order_of(node);
	unsigned tries = strict ? 1 : arch_node_count();
	for (int round = 0; round < 2; round++) {
		for (unsigned i = 0; i < tries; i++) {
			uint64_t pfn = take_block_from(order_of_nodes[i], order, keep);
			if (pfn != FRAME_NIL)
				return pfn;
		}
		arch_irq_state_t irq = arch_irq_save();
		bool drained = pcache_reclaim_all();
		arch_irq_restore(irq);
		if (!drained)
			break;
	}
	return FRAME_NIL;
}

static void zero_frames(uint64_t pfn, uint64_t frames)
{
	/* Page by page: the fill method is chosen (and measured) for page-sized runs. */
	for (uint64_t i = 0; i < frames; i++)
		arch_zero(MM_VIRTUALIZE(pfn_to_phys(pfn + i)), MM_PAGE_SIZE);
}

uintptr_t mm_phys_alloc(size_t count, unsigned node, uint32_t flags)
{
	if (count == 0 || (flags & ~ALLOC_FLAGS) ||
	    (node != MM_NODE_LOCAL && node >= arch_node_count())) {
		mm_set_error(MM_EINVAL);
		return MM_NADDR;
	}
	unsigned page_order = size_flags_order(flags);
	uint64_t frames = (uint64_t)count << page_order;
	if (count > (1ull << BUDDY_MAX_ORDER) || frames > (1ull << BUDDY_MAX_ORDER)) {
		mm_set_error(MM_ENOMEM);
		return MM_NADDR;
	}
	unsigned local = arch_cpu_node(arch_cpu_id());
	bool strict = (flags & MM_FLG_NODE_STRICT) != 0;
	if (node == MM_NODE_LOCAL)
		node = local;

	uint64_t pfn = FRAME_NIL;
	/* The per-CPU caches hold single pages of the CPU's own node; everything else (runs,
	 * 1 GiB pages, another node, no fallback allowed) goes to the zones. */
	bool cacheable = count == 1 && node == local && !strict;
	if (cacheable && page_order == 0) {
		if ((pfn = pcache_alloc_one()) == FRAME_NIL) {
			mm_set_error(MM_ENOMEM);
			return MM_NADDR;
		}
		if (flags & MM_FLG_ZERO)
			zero_frames(pfn, 1);
		return pfn_to_phys(pfn); /* already ALLOCATED, one reference */
	}
	if (cacheable && page_order == PCACHE_LARGE_ORDER && pmm_budget_take(frames) == frames)
		pfn = pcache_alloc_large();
	if (pfn == FRAME_NIL)
		pfn = take_block(node, strict, order_for(frames), frames);
	if (pfn == FRAME_NIL) {
		mm_set_error(MM_ENOMEM);
		return MM_NADDR;
	}
	/* Every page is its own allocation: a contiguous run is freed page by page. */
	for (uint64_t i = 0; i < frames; i += 1ull << page_order) {
		struct frame *f = pfn_frame(pfn + i);
		frame_set_state(f, page_order ? FRAME_HEAD : FRAME_ALLOCATED);
		frame_set_order(f, page_order);
		f->refcount = 1;
	}
	if (flags & MM_FLG_ZERO)
		zero_frames(pfn, (uint64_t)count << page_order);
	return pfn_to_phys(pfn);
}

/* ---- The seeds' calls ------------------------------------------------------------------ */

uintptr_t mm_phys_alloc_page(void)
{
	uint64_t pfn = pcache_alloc_one();
	if (pfn == FRAME_NIL) {
		mm_set_error(MM_ENOMEM);
		return MM_NADDR;
	}
	return pfn_to_phys(pfn);
}

int mm_phys_free_page(uintptr_t addr)
{
	int error;
	struct frame *f = allocated_frame(addr, &error);
	if (!f)
		return mm_set_error(error);
	/* The sole owner's free, frame_put's common case, without its call. */
	if (__atomic_load_n(&f->refcount, __ATOMIC_ACQUIRE) == 1) {
		f->refcount = 0;
		pcache_free_one(phys_to_pfn(addr));
		return MM_OK;
	}
	frame_put(f);
	return MM_OK;
}

uintptr_t mm_phys_alloc_contiguous(size_t count)
{
	return mm_phys_alloc(count, MM_NODE_LOCAL, 0);
}

uintptr_t mm_alloc_physical_page(uint32_t flags)
{
	if (flags & ~(MM_FLG_PS | MM_FLG_PS1G)) {
		mm_set_error(MM_EINVAL);
		return MM_NADDR;
	}
	return mm_phys_alloc(1, MM_NODE_LOCAL, flags);
}

struct frame *large_page_head(uintptr_t page, unsigned order, int *error)
{
	if (page & ((MM_PAGE_SIZE << order) - 1)) {
		*error = MM_EINVAL;
		return NULL;
	}
	struct frame *f = frame_lookup(page);
	if (!f) {
		*error = MM_EINVAL;
		return NULL;
	}
	if (frame_state(f) != FRAME_HEAD || frame_order(f) != order) {
		*error = MM_ENOTALLOC;
		return NULL;
	}
	return f;
}

int mm_free_physical_page(uintptr_t page, uint32_t flags)
{
	if (flags & ~(MM_FLG_PS | MM_FLG_PS1G))
		return mm_set_error(MM_EINVAL);
	if (flags == 0)
		return mm_phys_free_page(page);
	int error;
	struct frame *head = large_page_head(page, size_flags_order(flags), &error);
	if (!head)
		return mm_set_error(error);
	frame_put(head);
	return MM_OK;
}

/* ---- Batches for the address-space code ----------------------------------------------- */

size_t pmm_alloc_frames(uint64_t *pfns, size_t n)
{
	return pcache_alloc_batch(pfns, n);
}

void pmm_free_frames(const uint64_t *pfns, size_t n)
{
	pcache_free_batch(pfns, n);
}

size_t pmm_alloc_zeroed_frames(uint64_t *pfns, size_t n)
{
	size_t zeroed = pcache_alloc_zeroed(pfns, n);
	size_t got = zeroed + pmm_alloc_frames(pfns + zeroed, n - zeroed);
	for (size_t i = zeroed; i < got; i++)
		arch_zero(MM_VIRTUALIZE(pfn_to_phys(pfns[i])), MM_PAGE_SIZE);
	return got;
}

void pmm_free_zeroed_frame(uint64_t pfn)
{
	struct frame *f = pfn_frame(pfn);
	MM_CHECK(f->refcount == 1);
	f->refcount = 0;
	pcache_free_zeroed(pfn);
}

/* ---- Statistics ----------------------------------------------------------------------- */

static uint64_t cached_frames_of(const struct pcache *c)
{
	return __atomic_load_n(&c->count[PCACHE_4K], __ATOMIC_RELAXED) +
	       __atomic_load_n(&c->count[PCACHE_ZEROED], __ATOMIC_RELAXED) +
	       ((uint64_t)__atomic_load_n(&c->count[PCACHE_2M], __ATOMIC_RELAXED)
	        << PCACHE_LARGE_ORDER);
}

void mm_phys_get_stats(struct mm_phys_stats *out)
{
	*out = (struct mm_phys_stats){0};
	for (unsigned node = 0; node < arch_node_count(); node++) {
		for (unsigned j = 0; j < buddy_nodes[node].count; j++) {
			const struct buddy_zone *zone = buddy_zone_at(node, j);
			out->total_frames += zone->total_frames;
			out->free_frames += __atomic_load_n(&zone->free_frames, __ATOMIC_RELAXED);
		}
	}
	for (unsigned cpu = 0; cpu < ARCH_MAX_CPUS; cpu++) {
		const struct pcache *c = &pcaches[cpu];
		out->cached_frames += cached_frames_of(c);
		out->zeroed_frames += __atomic_load_n(&c->count[PCACHE_ZEROED], __ATOMIC_RELAXED);
		out->allocs += c->allocs;
		out->frees += c->frees;
		out->cache_hits += c->hits;
		out->cache_refills += c->refills;
		out->cache_drains += c->drains;
	}
	out->free_frames += out->cached_frames;
	out->frame_table_bytes = frame_table_count * sizeof(struct frame);
}

int mm_phys_get_node_stats(unsigned node, struct mm_phys_node_stats *out)
{
	if (!out || node >= arch_node_count())
		return mm_set_error(MM_EINVAL);
	*out = (struct mm_phys_node_stats){0};
	for (unsigned j = 0; j < buddy_nodes[node].count; j++) {
		const struct buddy_zone *zone = buddy_zone_at(node, j);
		out->total_frames += zone->total_frames;
		out->free_frames += __atomic_load_n(&zone->free_frames, __ATOMIC_RELAXED);
		for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++)
			out->free_blocks[k] += __atomic_load_n(&zone->count[k], __ATOMIC_RELAXED);
	}
	for (unsigned cpu = 0; cpu < ARCH_MAX_CPUS; cpu++)
		if (cpu < arch_cpu_count() && arch_cpu_node(cpu) == node)
			out->cached_frames += cached_frames_of(&pcaches[cpu]);
	out->free_frames += out->cached_frames;
	return MM_OK;
}

void mm_phys_fail_after(long frames)
{
	__atomic_store_n(&pmm_fail_budget, frames < 0 ? -1 : frames, __ATOMIC_RELAXED);
}

void mm_phys_set_caching(int enabled)
{
	__atomic_store_n(&pcache_enabled, enabled ? 1 : 0, __ATOMIC_RELAXED);
	if (!enabled)
		pcache_drain_local();
}

void pmm_cpu_offline(void)
{
	pcache_drain_local();
}

void mm_phys_drain_caches(void)
{
	arch_irq_state_t irq = arch_irq_save();
	pcache_reclaim_all();
	arch_irq_restore(irq);
}

void pmm_check(void)
{
	pcache_check();
	for (unsigned node = 0; node < arch_node_count(); node++) {
		for (unsigned j = 0; j < buddy_nodes[node].count; j++) {
			struct buddy_zone *zone = buddy_zone_at(node, j);
			arch_irq_state_t irq = spin_lock_irqsave(&zone->lock);
			buddy_check_zone(zone);
			spin_unlock_irqrestore(&zone->lock, irq);
		}
	}
}
