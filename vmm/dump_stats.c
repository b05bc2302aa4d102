/*
 * mm_dump_stats: the memory manager's counters on the console, for a person to read.
 * Level 0: one summary line per subsystem (frames, heap, spaces, the zero page); 1: each
 * node and each CPU's frame cache too; 2: each heap size class and the kernel's regions.
 * Counters other CPUs change are read as they are: a snapshot, exact when nothing runs.
 */
#include "dump.h"

#include <lib/print.h>
#include <mm/kmalloc.h>

#include "pmm/pcache.h"
#include "region_tree.h"
#include "space_stats.h"

static unsigned long long ull(uint64_t v)
{
	return (unsigned long long)v;
}

static void dump_frames(int level)
{
	struct mm_phys_stats s;
	mm_phys_get_stats(&s);
	char total[24], table[24];
	dump_format_size(total, sizeof(total), s.total_frames << MM_PAGE_SHIFT);
	dump_format_size(table, sizeof(table), s.frame_table_bytes);
	lib_printf("frames: %llu total (%s), %llu free (%llu in CPU caches); frame table %s\n",
	           ull(s.total_frames), total, ull(s.free_frames), ull(s.cached_frames), table);
	if (level < 1)
		return;
	lib_printf("  calls: %llu allocs, %llu frees; cache %llu hits, %llu refills, %llu drains\n",
	           ull(s.allocs), ull(s.frees), ull(s.cache_hits), ull(s.cache_refills),
	           ull(s.cache_drains));
	for (unsigned node = 0; node < arch_node_count(); node++) {
		struct mm_phys_node_stats ns;
		if (mm_phys_get_node_stats(node, &ns) != MM_OK)
			continue;
		lib_printf("  node %u: %llu total, %llu free, %llu cached\n", node, ull(ns.total_frames),
		           ull(ns.free_frames), ull(ns.cached_frames));
		char line[256];
		size_t used = 0;
		for (unsigned order = 0; order < sizeof(ns.free_blocks) / sizeof(ns.free_blocks[0]);
		     order++) {
			if (!ns.free_blocks[order] || used >= sizeof(line))
				continue;
			char size[24];
			dump_format_size(size, sizeof(size), (uint64_t)MM_PAGE_SIZE << order);
			used += (size_t)lib_snprintf(line + used, sizeof(line) - used, " %s:%llu", size,
			                             ull(ns.free_blocks[order]));
		}
		lib_printf("    free blocks:%s\n", used ? line : " none");
	}
	for (unsigned cpu = 0; cpu < arch_cpu_count(); cpu++) {
		const struct pcache *c = &pcaches[cpu];
		uint32_t small = __atomic_load_n(&c->count[PCACHE_4K], __ATOMIC_RELAXED);
		uint32_t large = __atomic_load_n(&c->count[PCACHE_2M], __ATOMIC_RELAXED);
		if (!arch_cpu_online(cpu) && small == 0 && large == 0)
			continue;
		lib_printf("  cpu %u%s: %u of %u frames, %u of %u 2 MiB blocks cached\n", cpu,
		           arch_cpu_online(cpu) ? "" : " (offline)", small, PCACHE_CAPACITY, large,
		           PCACHE_LARGE_CAPACITY);
	}
}

static void dump_heap(int level)
{
	struct mm_kmalloc_stats k;
	mm_kmalloc_get_stats(&k);
	uint64_t objects = 0, cached = 0, frames = 0, bad = k.invalid_frees + k.large_invalid_frees;
	for (int i = 0; i < MM_KMALLOC_CLASSES; i++) {
		objects += k.classes[i].in_use;
		cached += k.classes[i].cached;
		frames += k.classes[i].frames;
		bad += k.classes[i].double_frees + k.classes[i].invalid_frees;
	}
	lib_printf("heap: %llu objects in use (%llu cached, %llu slab frames), ", ull(objects),
	           ull(cached), ull(frames));
	lib_printf("%llu large (%llu frames); %llu bad frees\n", ull(k.large_in_use),
	           ull(k.large_frames), ull(bad));
	if (level < 2)
		return;
	for (int i = 0; i < MM_KMALLOC_CLASSES; i++) {
		const struct mm_kmalloc_class_stats *c = &k.classes[i];
		if (c->allocs == 0 && c->slabs == 0)
			continue; /* never used */
		lib_printf("  class %4zu: %llu in use, %llu cached, %llu slabs (%llu frames), "
		           "%llu allocations, %llu frees, %llu double frees, %llu invalid frees\n",
		           c->size, ull(c->in_use), ull(c->cached), ull(c->slabs), ull(c->frames),
		           ull(c->allocs), ull(c->frees), ull(c->double_frees), ull(c->invalid_frees));
	}
	lib_printf("  large: %llu allocations, %llu frees, %llu invalid frees\n", ull(k.large_allocs),
	           ull(k.large_frees), ull(k.large_invalid_frees));
}

static uint64_t count_regions(struct mm_space *space)
{
	uint64_t n = 0;
	arch_irq_state_t irq = spin_lock_irqsave(&space->lock);
	for (struct mm_region *r = region_first_after(space, 0); r; r = region_next(r))
		n++;
	spin_unlock_irqrestore(&space->lock, irq);
	return n;
}

static void dump_spaces(int level)
{
	struct vmm_space_counts counts;
	vmm_space_counts(&counts);
	lib_printf("spaces: %llu created, %llu destroyed, %llu live, and the kernel space\n",
	           ull(counts.created), ull(counts.destroyed), ull(counts.created - counts.destroyed));
	struct mm_space *kernel = mm_kernel_space();
	if (!kernel)
		return;
	lib_printf("zero page: %016lx (behind every anonymous page read before written)\n",
	           (unsigned long)vmm_zero_page);
	lib_printf("kernel space %llu: root %016lx, %llu regions\n", ull(kernel->id),
	           (unsigned long)kernel->root, ull(count_regions(kernel)));
	if (level >= 2)
		dump_regions(kernel);
}

void mm_dump_stats(int level)
{
	lib_printf("---- memory manager statistics ----\n");
	dump_frames(level);
	dump_heap(level);
	dump_spaces(level);
}
