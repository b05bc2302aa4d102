/* The kernel heap's statistics and its invariant checker. */
#include <mm/kmalloc.h>

#include <lib/print.h>

#include "kmalloc_internal.h"

static uint64_t load(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

void mm_kmalloc_get_stats(struct mm_kmalloc_stats *out)
{
	*out = (struct mm_kmalloc_stats){0};
	for (unsigned cls = 0; cls < MM_KMALLOC_CLASSES; cls++) {
		struct mm_kmalloc_class_stats *o = &out->classes[cls];
		struct slab_class *c = &slab_classes[cls];
		o->size = slab_geom[cls].size;
		for (unsigned cpu = 0; cpu < ARCH_MAX_CPUS; cpu++) {
			const struct kcache *kc = &kcaches[cpu];
			o->allocs += load(&kc->allocs[cls]);
			o->frees += load(&kc->frees[cls]);
			o->cached += __atomic_load_n(&kc->count[cls], __ATOMIC_RELAXED);
		}
		/* Frees counted on one CPU may be read before the allocation counted on another. */
		o->in_use = o->allocs > o->frees ? o->allocs - o->frees : 0;
		o->slabs = load(&c->slabs);
		o->frames = o->slabs * slab_geom[cls].frames;
		o->double_frees = load(&c->double_frees);
		o->invalid_frees = load(&c->invalid_frees);
	}
	out->large_in_use = load(&large_stats.in_use);
	out->large_frames = load(&large_stats.frames);
	out->large_allocs = load(&large_stats.allocs);
	out->large_frees = load(&large_stats.frees);
	out->large_invalid_frees = load(&large_stats.invalid_frees);
	out->invalid_frees = load(&kmalloc_invalid_frees);
}

/* Marks every object of class cls held in a per-CPU cache (slab_check_class's visit). */
static const char *visit_caches(unsigned cls)
{
	const struct slab_geom *g = &slab_geom[cls];
	for (unsigned cpu = 0; cpu < ARCH_MAX_CPUS; cpu++) {
		const struct kcache *kc = &kcaches[cpu];
		if (kc->count[cls] > g->cache_cap)
			return "a per-CPU cache is over its capacity";
		for (unsigned i = 0; i < kc->count[cls]; i++) {
			const char *why = slab_mark(cls, kc->slots[g->slot_base + i]);
			if (why)
				return why;
		}
	}
	return NULL;
}

int mm_kmalloc_check(void)
{
	for (unsigned cls = 0; cls < MM_KMALLOC_CLASSES; cls++) {
		const char *why = slab_check_class(cls, visit_caches);
		if (why) {
			lib_printf("kmalloc check: %u-byte class: %s\n", slab_geom[cls].size, why);
			return MM_EINVAL;
		}
	}
	return MM_OK;
}
