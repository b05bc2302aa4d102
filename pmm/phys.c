/* The public frame allocator calls (002, 003) over the per-CPU caches and buddy zones. */
#include <mm/phys.h>

#include "buddy.h"
#include "pcache.h"
#include "pmm_internal.h"

/* ---- References ----------------------------------------------------------------------- */

static void release(uint64_t pfn)
{
	struct frame *f = pfn_frame(pfn);
	if (f->state == FRAME_HEAD) {
		struct buddy_zone *zone = &buddy_zones[f->node];
		unsigned order = f->order;
		f->state = FRAME_INNER;
		arch_irq_state_t irq = spin_lock_irqsave(&zone->lock);
		buddy_free_locked(zone, pfn, order);
		spin_unlock_irqrestore(&zone->lock, irq);
		return;
	}
	pcache_free_batch(&pfn, 1);
}

bool frame_put(struct frame *f)
{
	MM_ASSERT(f->refcount > 0);
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
	MM_ASSERT(f->refcount > 0);
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
	if (f->state != FRAME_ALLOCATED) {
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

/* ---- 4 KiB frames --------------------------------------------------------------------- */

uintptr_t mm_phys_alloc_page(void)
{
	uint64_t pfn;
	if (pcache_alloc_batch(&pfn, 1) == 0) {
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
	frame_put(f);
	return MM_OK;
}

/* ---- Blocks --------------------------------------------------------------------------- */

static unsigned order_for(uint64_t frames)
{
	unsigned order = 0;
	while ((1ull << order) < frames)
		order++;
	return order;
}

/* Takes a 2^order block, the calling CPU's node first. post: its pfn or FRAME_NIL; the
 * frames past `keep` are given back at once. */
static uint64_t take_block(unsigned order, uint64_t keep)
{
	if (pmm_budget_take(keep) < keep)
		return FRAME_NIL;
	unsigned nodes = arch_node_count();
	unsigned local = arch_cpu_node(arch_cpu_id());
	for (unsigned i = 0; i < nodes; i++) {
		struct buddy_zone *zone = &buddy_zones[(local + i) % nodes];
		arch_irq_state_t irq = spin_lock_irqsave(&zone->lock);
		uint64_t pfn = buddy_alloc_locked(zone, order);
		if (pfn != FRAME_NIL && keep < (1ull << order))
			buddy_free_run_locked(zone, pfn + keep, (1ull << order) - keep);
		spin_unlock_irqrestore(&zone->lock, irq);
		if (pfn != FRAME_NIL)
			return pfn;
	}
	return FRAME_NIL;
}

uintptr_t mm_phys_alloc_contiguous(size_t count)
{
	if (count == 0 || count > (1ull << BUDDY_MAX_ORDER)) {
		mm_set_error(count == 0 ? MM_EINVAL : MM_ENOMEM);
		return MM_NADDR;
	}
	if (count == 1)
		return mm_phys_alloc_page();
	uint64_t pfn = take_block(order_for(count), count);
	if (pfn == FRAME_NIL) {
		mm_set_error(MM_ENOMEM);
		return MM_NADDR;
	}
	/* 003 frees a contiguous run one page at a time: every frame is its own allocation. */
	for (uint64_t i = 0; i < count; i++) {
		struct frame *f = pfn_frame(pfn + i);
		f->state = FRAME_ALLOCATED;
		f->refcount = 1;
	}
	return pfn_to_phys(pfn);
}

static int size_order(uint32_t flags, unsigned *order)
{
	if (flags == 0)
		*order = 0;
	else if (flags == MM_FLG_PS)
		*order = 21 - MM_PAGE_SHIFT;
	else if (flags == MM_FLG_PS1G)
		*order = 30 - MM_PAGE_SHIFT;
	else
		return MM_EINVAL;
	return MM_OK;
}

uintptr_t mm_alloc_physical_page(uint32_t flags)
{
	unsigned order;
	if (size_order(flags, &order) != MM_OK) {
		mm_set_error(MM_EINVAL);
		return MM_NADDR;
	}
	if (order == 0)
		return mm_phys_alloc_page();
	uint64_t pfn = take_block(order, 1ull << order);
	if (pfn == FRAME_NIL) {
		mm_set_error(MM_ENOMEM);
		return MM_NADDR;
	}
	struct frame *head = pfn_frame(pfn);
	head->state = FRAME_HEAD;
	head->order = (uint8_t)order;
	head->refcount = 1;
	return pfn_to_phys(pfn);
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
	if (f->state != FRAME_HEAD || f->order != order) {
		*error = MM_ENOTALLOC;
		return NULL;
	}
	return f;
}

int mm_free_physical_page(uintptr_t page, uint32_t flags)
{
	unsigned order;
	if (size_order(flags, &order) != MM_OK)
		return mm_set_error(MM_EINVAL);
	if (order == 0)
		return mm_phys_free_page(page);
	int error;
	struct frame *head = large_page_head(page, order, &error);
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

/* ---- Statistics ----------------------------------------------------------------------- */

void mm_phys_get_stats(struct mm_phys_stats *out)
{
	*out = (struct mm_phys_stats){0};
	for (unsigned node = 0; node < arch_node_count(); node++) {
		out->total_frames += buddy_zones[node].total_frames;
		out->free_frames += __atomic_load_n(&buddy_zones[node].free_frames, __ATOMIC_RELAXED);
	}
	for (unsigned cpu = 0; cpu < ARCH_MAX_CPUS; cpu++) {
		const struct pcache *c = &pcaches[cpu];
		out->cached_frames += __atomic_load_n(&c->count, __ATOMIC_RELAXED);
		out->allocs += c->allocs;
		out->frees += c->frees;
		out->cache_hits += c->hits;
		out->cache_refills += c->refills;
		out->cache_drains += c->drains;
	}
	out->free_frames += out->cached_frames;
	out->frame_table_bytes = frame_table_count * sizeof(struct frame);
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

void mm_phys_drain_caches(void)
{
	pcache_drain_all();
}

void pmm_check(void)
{
	pcache_check();
	for (unsigned node = 0; node < arch_node_count(); node++) {
		struct buddy_zone *zone = &buddy_zones[node];
		arch_irq_state_t irq = spin_lock_irqsave(&zone->lock);
		buddy_check_zone(zone);
		spin_unlock_irqrestore(&zone->lock, irq);
	}
}
