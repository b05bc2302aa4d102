/* In-kernel frame allocator benchmarks: the same cases as bench/host/pmm_bench.cc. */
#include <mmbench/kbench.h>

#include <mm/phys.h>

/* One frame in and out: the per-CPU cache's fast path (arg 1) or the buddy zone (arg 0). */
static void alloc_free_page(struct kbench_state *s)
{
	mm_phys_set_caching((int)s->arg);
	for (unsigned i = 0; i <= s->iterations; i++) {
		uint64_t t0 = arch_cycles();
		uintptr_t p = mm_phys_alloc_page();
		int error = mm_phys_free_page(p);
		uint64_t t1 = arch_cycles();
		if (p == MM_NADDR || error != MM_OK) {
			s->error = "alloc or free failed";
			break;
		}
		if (i > 0)
			kbench_record(s, t1 - t0);
	}
	mm_phys_set_caching(1);
}

KBENCH("BM_pmm_alloc_free_page/cache", alloc_free_page, 1, 1000);
KBENCH("BM_pmm_alloc_free_page/cache", alloc_free_page, 0, 1000);

/* arg frames out, then all back; the sample is per frame. */
static void bulk(struct kbench_state *s)
{
	size_t n = (size_t)s->arg;
	uintptr_t table =
	    mm_phys_alloc_contiguous((n * sizeof(uintptr_t) + MM_PAGE_SIZE - 1) / MM_PAGE_SIZE);
	if (table == MM_NADDR) {
		s->error = "no memory for the frame table";
		return;
	}
	uintptr_t *pages = MM_VIRTUALIZE(table);
	for (unsigned i = 0; i <= s->iterations && !s->error; i++) {
		uint64_t t0 = arch_cycles();
		for (size_t k = 0; k < n; k++)
			pages[k] = mm_phys_alloc_page();
		for (size_t k = 0; k < n; k++)
			if (mm_phys_free_page(pages[k]) != MM_OK)
				s->error = "alloc or free failed";
		uint64_t t1 = arch_cycles();
		if (i > 0)
			kbench_record(s, (t1 - t0) / n);
	}
	for (size_t k = 0; k < (n * sizeof(uintptr_t) + MM_PAGE_SIZE - 1) / MM_PAGE_SIZE; k++)
		mm_phys_free_page(table + k * MM_PAGE_SIZE);
}

KBENCH("BM_pmm_bulk_alloc_then_free/frames", bulk, 1024, 50);
KBENCH("BM_pmm_bulk_alloc_then_free/frames", bulk, 65536, 5);

/* A 2 MiB page in and out (the per-CPU 2 MiB cache). */
static void large_page(struct kbench_state *s)
{
	for (unsigned i = 0; i <= s->iterations; i++) {
		uint64_t t0 = arch_cycles();
		uintptr_t p = mm_alloc_physical_page(MM_FLG_PS);
		int error = mm_free_physical_page(p, MM_FLG_PS);
		uint64_t t1 = arch_cycles();
		if (p == MM_NADDR || error != MM_OK) {
			s->error = "alloc or free failed";
			break;
		}
		if (i > 0)
			kbench_record(s, t1 - t0);
	}
}

KBENCH("BM_pmm_alloc_free_2m", large_page, 1, 1000);

/* A contiguous run of arg frames, freed page by page; the sample is the whole run. */
static void contiguous(struct kbench_state *s)
{
	for (unsigned i = 0; i <= s->iterations; i++) {
		uint64_t t0 = arch_cycles();
		uintptr_t p = mm_phys_alloc_contiguous((size_t)s->arg);
		if (p == MM_NADDR) {
			s->error = "alloc failed";
			break;
		}
		for (uint64_t k = 0; k < s->arg; k++)
			mm_phys_free_page(p + k * MM_PAGE_SIZE);
		uint64_t t1 = arch_cycles();
		if (i > 0)
			kbench_record(s, t1 - t0);
	}
}

KBENCH("BM_pmm_contiguous/frames", contiguous, 8, 500);
KBENCH("BM_pmm_contiguous/frames", contiguous, 512, 100);
