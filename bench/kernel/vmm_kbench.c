/* In-kernel address-space benchmarks: map (frames allocated and zeroed) + unmap of N pages,
 * and the zeroing of one page on its own, the cost that should dominate mapping. */
#include <mmbench/kbench.h>

#include <mm/phys.h>
#include <mm/vmm.h>

#define BENCH_VA ((uintptr_t)0x0000200000000000ull)

/* map+unmap of arg pages of page_size bytes; one untimed round first, so every case starts
 * with warm page tables and caches. */
static void time_map_unmap(struct kbench_state *s, uintptr_t page_size, uint32_t flags)
{
	mm_space_t space = mm_create_space(0);
	if (!space) {
		s->error = "mm_create_space failed";
		return;
	}
	size_t bytes = (size_t)s->arg * page_size;
	for (unsigned i = 0; i <= s->iterations; i++) {
		uint64_t t0 = arch_cycles();
		uintptr_t va = mm_map_range(space, BENCH_VA, bytes, MM_FLG_WR | MM_FLG_US | flags);
		int error = mm_umap_range(space, BENCH_VA, bytes, 0);
		uint64_t t1 = arch_cycles();
		if (va != BENCH_VA || error != MM_OK) {
			s->error = "map or unmap failed";
			break;
		}
		if (i > 0)
			kbench_record(s, t1 - t0);
	}
	mm_destroy_space(space);
}

static void map_unmap(struct kbench_state *s)
{
	time_map_unmap(s, MM_PAGE_SIZE, 0);
}

KBENCH("BM_vmm_map_unmap/pages", map_unmap, 1, 1000);
KBENCH("BM_vmm_map_unmap/pages", map_unmap, 16, 1000);
KBENCH("BM_vmm_map_unmap/pages", map_unmap, 256, 200);
KBENCH("BM_vmm_map_unmap/pages", map_unmap, 4096, 50);

static void zero_page(struct kbench_state *s)
{
	uintptr_t page = mm_phys_alloc_page();
	if (page == MM_NADDR) {
		s->error = "no frame";
		return;
	}
	for (unsigned i = 0; i <= s->iterations; i++) {
		uint64_t t0 = arch_cycles();
		arch_zero(MM_VIRTUALIZE(page), MM_PAGE_SIZE * s->arg);
		uint64_t t1 = arch_cycles();
		if (i > 0)
			kbench_record(s, t1 - t0);
	}
	mm_phys_free_page(page);
}

KBENCH("BM_zero_page/pages", zero_page, 1, 1000);

/* map+unmap of N 2 MiB pages (MM_FLG_PS). */
static void map_unmap_2m(struct kbench_state *s)
{
	time_map_unmap(s, MM_LARGE_PAGE_SIZE, MM_FLG_PS);
}

KBENCH("BM_vmm_map_unmap_2m/pages", map_unmap_2m, 1, 20);
KBENCH("BM_vmm_map_unmap_2m/pages", map_unmap_2m, 16, 5);

/* fork (copy-on-write) of a space holding arg MiB of written memory; the child's
 * destruction is not timed. variant: 0 (on-demand: leaf tables shared) or
 * MM_FLG_CLONE_EAGER (every entry copied). */
static void fork_space(struct kbench_state *s)
{
	mm_space_t parent = mm_create_space(0);
	if (!parent) {
		s->error = "mm_create_space failed";
		return;
	}
	size_t bytes = (size_t)s->arg << 20;
	if (bytes && mm_map_range(parent, BENCH_VA, bytes, MM_FLG_WR | MM_FLG_US) != BENCH_VA) {
		s->error = "no memory for the parent";
		mm_destroy_space(parent);
		return;
	}
	uint32_t flags = MM_FLG_CLONE_USER | (uint32_t)s->variant;
	for (unsigned i = 0; i <= s->iterations; i++) {
		mm_space_t child = mm_create_space(0);
		if (!child) {
			s->error = "mm_create_space failed";
			break;
		}
		uint64_t t0 = arch_cycles();
		int error = mm_space_fork(child, parent, flags);
		uint64_t t1 = arch_cycles();
		mm_destroy_space(child);
		if (error != MM_OK) {
			s->error = "fork failed";
			break;
		}
		if (i > 0)
			kbench_record(s, t1 - t0);
	}
	mm_destroy_space(parent);
}

KBENCH_VARIANT("BM_fork/MiB", fork_space, 0, 100, 0);
KBENCH_VARIANT("BM_fork/MiB", fork_space, 16, 20, 0);
KBENCH_VARIANT("BM_fork/MiB", fork_space, 256, 5, 0);
KBENCH_VARIANT("BM_fork_eager/MiB", fork_space, 0, 100, MM_FLG_CLONE_EAGER);
KBENCH_VARIANT("BM_fork_eager/MiB", fork_space, 16, 20, MM_FLG_CLONE_EAGER);
KBENCH_VARIANT("BM_fork_eager/MiB", fork_space, 256, 5, MM_FLG_CLONE_EAGER);
