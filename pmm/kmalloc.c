/* kmalloc / kfree: per-CPU object caches in front of the slabs, whole frames above the
 * largest class, and the detection of bad frees. */
#include <mm/kmalloc.h>

#include <lib/print.h>
#include <lib/string.h>

#include "kmalloc_internal.h"

struct kcache kcaches[ARCH_MAX_CPUS];
uint64_t kmalloc_invalid_frees;

/* A per-CPU counter: written only by its CPU, read by the statistics from any CPU. */
static inline void stat_inc(uint64_t *counter)
{
	__atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

/* A cache's count: written only by its CPU, read by the statistics from any CPU. */
static inline void set_count(struct kcache *kc, unsigned cls, unsigned count)
{
	__atomic_store_n(&kc->count[cls], (uint16_t)count, __ATOMIC_RELAXED);
}

/* Sets the allocated bit of an object just taken from a per-CPU cache. */
static void mark_allocated(void *obj)
{
	uintptr_t phys = MM_PHYS(obj);
	const struct frame *f = pfn_frame(phys_to_pfn(phys));
	unsigned idx = 0;
	MM_ASSERT(frame_state(f) == FRAME_SLAB);
	bool is_object = slab_index(f, phys, &idx);
	MM_ASSERT(is_object);
	(void)is_object;
	bool was_allocated = slab_set_allocated(slab_of_frame(f), idx);
	MM_ASSERT(!was_allocated);
	(void)was_allocated;
}

void *kmalloc(size_t size)
{
	if (size > MM_KMALLOC_MAX_SMALL)
		return kmalloc_large(size);
	unsigned cls = slab_class_of(size);
	const struct slab_geom *g = &slab_geom[cls];
	arch_irq_state_t irq = arch_irq_save();
	struct kcache *kc = &kcaches[arch_cpu_id()];
	void **slots = kc->slots + g->slot_base;
	unsigned count = kc->count[cls];
	MM_ASSERT(count <= g->cache_cap);
	if (__builtin_expect(count == 0, 0)) {
		count = (unsigned)slab_take(cls, slots, g->batch, g->cache_cap);
		if (count == 0) {
			arch_irq_restore(irq);
			mm_set_error(MM_ENOMEM);
			return NULL;
		}
	}
	void *obj = slots[--count];
	set_count(kc, cls, count);
	stat_inc(&kc->allocs[cls]);
	arch_irq_restore(irq);
	/* Outside the critical section: the object is ours alone now. A stale kfree of it that
	 * comes before the bit is set is still caught as a double free. */
	mark_allocated(obj);
	return obj;
}

void *kcalloc(size_t n, size_t size)
{
	size_t bytes;
	if (__builtin_mul_overflow(n, size, &bytes)) {
		mm_set_error(MM_ENOMEM);
		return NULL;
	}
	void *p = kmalloc(bytes);
	if (p)
		memset(p, 0, bytes);
	return p;
}

void kmalloc_report_bad_free(const void *ptr, const char *why, unsigned size, uint64_t *counter)
{
	__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
	if (size)
		lib_printf("kfree(%p): %s (%u-byte class); not freed\n", ptr, why, size);
	else
		lib_printf("kfree(%p): %s; not freed\n", ptr, why);
}

/* Why a frame in state `state` cannot hold a kmalloc allocation. */
static const char *foreign_frame(uint8_t state)
{
	switch (state) {
	case FRAME_RESERVED:
		return "not RAM the frame allocator manages";
	case FRAME_FREE:
	case FRAME_CACHED:
		return "in a free frame (freed twice, or never allocated)";
	default:
		return "in a frame that is not the heap's";
	}
}

/* Puts a freed object on this CPU's cache, first draining the oldest half when it is full. */
static void cache_push(unsigned cls, void *obj)
{
	const struct slab_geom *g = &slab_geom[cls];
	arch_irq_state_t irq = arch_irq_save();
	struct kcache *kc = &kcaches[arch_cpu_id()];
	void **slots = kc->slots + g->slot_base;
	unsigned count = kc->count[cls];
	MM_ASSERT(count <= g->cache_cap);
	if (count == g->cache_cap) {
		/* The bottom of the stack is the coldest: it goes back, the hot top stays. */
		slab_give(cls, slots, g->batch);
		memmove(slots, slots + g->batch, (count - g->batch) * sizeof(void *));
		count -= g->batch;
	}
	slots[count++] = obj;
	set_count(kc, cls, count);
	stat_inc(&kc->frees[cls]);
	arch_irq_restore(irq);
}

void kfree(void *ptr)
{
	if (!ptr)
		return;
	/* Any pointer maps to some "physical" value; outside the direct map of RAM it lands
	 * past the frame table (a pointer below the map wraps around to a huge value). */
	uintptr_t phys = MM_PHYS(ptr);
	if (phys_to_pfn(phys) >= frame_table_count) {
		kmalloc_report_bad_free(ptr, "outside the direct map of RAM", 0, &kmalloc_invalid_frees);
		return;
	}
	struct frame *f = pfn_frame(phys_to_pfn(phys));
	uint8_t state = frame_state(f);
	if (state == FRAME_LARGE) {
		kfree_large(ptr, f, phys);
		return;
	}
	if (state != FRAME_SLAB) {
		kmalloc_report_bad_free(ptr, foreign_frame(state), 0, &kmalloc_invalid_frees);
		return;
	}
	unsigned cls = f->slab.cls, idx;
	struct slab_class *c = &slab_classes[cls];
	if (!slab_index(f, phys, &idx)) {
		kmalloc_report_bad_free(ptr, "not the start of an object", slab_geom[cls].size,
		                        &c->invalid_frees);
		return;
	}
	/* The one atomic that makes double frees visible wherever the first free put it. */
	if (!slab_clear_allocated(slab_of_frame(f), idx)) {
		kmalloc_report_bad_free(ptr, "double free: the object is not allocated",
		                        slab_geom[cls].size, &c->double_frees);
		return;
	}
	cache_push(cls, ptr);
}

size_t kmalloc_usable_size(const void *ptr)
{
	if (!ptr)
		return 0;
	uintptr_t phys = MM_PHYS(ptr);
	if (phys_to_pfn(phys) >= frame_table_count)
		return 0;
	const struct frame *f = pfn_frame(phys_to_pfn(phys));
	if (frame_state(f) == FRAME_LARGE)
		return large_usable_size(f, phys);
	unsigned idx;
	if (frame_state(f) != FRAME_SLAB || !slab_index(f, phys, &idx))
		return 0;
	const struct slab *s = slab_of_frame(f);
	uint64_t bit = 1ull << (idx % 64);
	if (!(__atomic_load_n(&s->allocated[idx / 64], __ATOMIC_RELAXED) & bit))
		return 0;
	return slab_geom[f->slab.cls].size;
}

/* ---- Draining --------------------------------------------------------------------------- */

static void drain_cpu(unsigned cpu)
{
	struct kcache *kc = &kcaches[cpu];
	for (unsigned cls = 0; cls < MM_KMALLOC_CLASSES; cls++) {
		if (kc->count[cls]) {
			slab_give(cls, kc->slots + slab_geom[cls].slot_base, kc->count[cls]);
			set_count(kc, cls, 0);
		}
	}
}

static void release_spares(void)
{
	for (unsigned cls = 0; cls < MM_KMALLOC_CLASSES; cls++)
		slab_release_spare(cls);
}

void mm_kmalloc_drain_local(void)
{
	arch_irq_state_t irq = arch_irq_save();
	drain_cpu(arch_cpu_id());
	arch_irq_restore(irq);
	release_spares();
}

void mm_kmalloc_drain_caches(void)
{
	arch_irq_state_t irq = arch_irq_save();
	for (unsigned cpu = 0; cpu < ARCH_MAX_CPUS; cpu++)
		drain_cpu(cpu);
	arch_irq_restore(irq);
	release_spares();
}
