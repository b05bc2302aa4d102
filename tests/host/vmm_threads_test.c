/*
 * Host-only: one address space used by several threads playing CPUs at once. Faults on one
 * page race and must all succeed with one frame; map, unmap, fault, protect and translate
 * run together on overlapping and disjoint ranges, and afterwards the invariant checker
 * passes and every frame and heap object comes back.
 */
#include <mm/region.h>
#include <mmtest/test.h>

#include <pthread.h>

#include "tests/suites/fixtures.h"
#include "tests/suites/helpers.h"
#include "tests/suites/user_access.h"
#include "vmm/invariants.h"

#define T_VA ((uintptr_t)0x0000600000000000ull)
#define T_MAX_THREADS 4

static unsigned worker_count(void)
{
	unsigned n = arch_cpu_count() - 1;
	return n > T_MAX_THREADS ? T_MAX_THREADS : n;
}

struct race {
	mm_space_t space;
	uintptr_t va;
	volatile int go;
	int results[T_MAX_THREADS];
};

static struct race race;

static void *fault_same_page(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;
	while (!__atomic_load_n(&race.go, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
	race.results[me] = mm_fault(race.space, race.va, MM_FAULT_WRITE | MM_FAULT_USER);
	return NULL;
}

TEST_F(leak_checked, host_vmm, concurrent_faults_on_one_page_install_one_frame)
{
	unsigned n = worker_count();
	ASSERT_GE(n, 1);
	for (int round = 0; round < 50; round++) {
		race.space = mm_create_space(NULL);
		ASSERT_NE((uintptr_t)race.space, 0);
		struct mm_region_spec spec = {
		    T_VA, 16 * MM_PAGE_SIZE, MM_FLG_WR | MM_REGION_FIXED, MM_SECTION_DATA, NULL, 0};
		ASSERT_EQ(mm_region_map(race.space, &spec), T_VA);
		race.va = T_VA + (uintptr_t)(round % 16) * MM_PAGE_SIZE;
		race.go = 0;
		pthread_t threads[T_MAX_THREADS];
		for (uintptr_t i = 0; i < n; i++)
			ASSERT_EQ(pthread_create(&threads[i], NULL, fault_same_page, (void *)i), 0);
		__atomic_store_n(&race.go, 1, __ATOMIC_RELEASE);
		for (unsigned i = 0; i < n; i++)
			pthread_join(threads[i], NULL);
		for (unsigned i = 0; i < n; i++)
			EXPECT_EQ(race.results[i], MM_OK);
		struct mm_region_info info;
		ASSERT_EQ(mm_region_query(race.space, T_VA, &info), MM_OK);
		EXPECT_EQ(info.resident_pages, 1); /* one frame, whoever won */
		EXPECT_EQ(vmm_check_space(race.space), MM_OK);
		mm_destroy_space(race.space);
	}
}

struct churn {
	mm_space_t space;
	unsigned me;
	int failures;
};

/* Each thread owns a 1 GiB window of its own (its own shard) and also hammers a window
 * shared by every thread, with every kind of operation. */
static void *churn(void *arg)
{
	struct churn *c = arg;
	uint64_t seed = 0xC0FFEEull + c->me;
	uintptr_t own = T_VA + (uintptr_t)(c->me + 1) * MM_HUGE_PAGE_SIZE;
	uintptr_t shared = T_VA;
	for (int i = 0; i < 3000; i++) {
		uint64_t r = test_random(&seed);
		uintptr_t base = (r & 1) ? own : shared;
		uintptr_t va = base + ((r >> 8) % 64) * MM_PAGE_SIZE;
		size_t pages = 1 + (r >> 20) % 8;
		switch ((r >> 4) % 6) {
		case 0:
			mm_map_range(c->space, va, pages * MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US);
			break;
		case 1:
			if (mm_umap_range(c->space, va, pages * MM_PAGE_SIZE, 0) != MM_OK)
				c->failures++;
			break;
		case 2: {
			struct mm_region_spec spec = {
			    va, pages * MM_PAGE_SIZE, MM_FLG_WR | MM_REGION_FIXED, MM_SECTION_MMAP, NULL, 0};
			mm_region_map(c->space, &spec);
			break;
		}
		case 3:
			/* A program access: succeeds, or is refused cleanly where nothing is mapped. */
			user_write64(c->space, va, r);
			break;
		case 4:
			mm_region_protect(c->space, va, MM_PAGE_SIZE, (r & 0x100) ? MM_FLG_WR : 0);
			break;
		default:
			mm_translate(c->space, va, NULL);
			break;
		}
	}
	return NULL;
}

TEST_F(leak_checked, host_vmm, map_unmap_fault_from_every_cpu_keeps_invariants)
{
	unsigned n = worker_count();
	ASSERT_GE(n, 1);
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	struct churn work[T_MAX_THREADS];
	pthread_t threads[T_MAX_THREADS];
	for (unsigned i = 0; i < n; i++) {
		work[i] = (struct churn){s, i, 0};
		ASSERT_EQ(pthread_create(&threads[i], NULL, churn, &work[i]), 0);
	}
	for (unsigned i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	for (unsigned i = 0; i < n; i++)
		EXPECT_EQ(work[i].failures, 0); /* unmapping never fails, whatever is there */
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}
