/* The general allocation call: sizes, zeroing, nodes and the NUMA fallback policy. These
 * run with one node and, booted or started with two, check the policy between nodes. */
#include <mm/phys.h>
#include <mmtest/test.h>

#include <lib/string.h>

#include "fixtures.h"
#include "helpers.h"
#include "pmm/pmm_internal.h"

static unsigned local_node(void)
{
	return arch_cpu_node(arch_cpu_id());
}

TEST_F(leak_checked, pmm_policy, alloc_rejects_bad_input)
{
	uint64_t before = free_frames();
	EXPECT_EQ(mm_phys_alloc(0, MM_NODE_LOCAL, 0), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(mm_phys_alloc(1, MM_NODE_LOCAL, MM_FLG_WR), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(mm_phys_alloc(1, arch_node_count(), 0), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(mm_phys_alloc((size_t)1 << 30, MM_NODE_LOCAL, MM_FLG_PS), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_ENOMEM);
	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(mm_phys_node_of(0), MM_NODE_LOCAL);
	EXPECT_EQ(mm_phys_get_node_stats(arch_node_count(), NULL), MM_EINVAL);
}

TEST_F(leak_checked, pmm_policy, zeroed_pages_are_zero)
{
	/* A dirty frame, freed, comes straight back from this CPU's cache: zeroing must be
	 * what makes it clean. */
	uintptr_t p = mm_phys_alloc_page();
	ASSERT_NE(p, MM_NADDR);
	memset(MM_VIRTUALIZE(p), 0x5A, MM_PAGE_SIZE);
	EXPECT_EQ(mm_phys_free_page(p), MM_OK);
	uintptr_t q = mm_phys_alloc(1, MM_NODE_LOCAL, MM_FLG_ZERO);
	ASSERT_NE(q, MM_NADDR);
	const uint64_t *words = MM_VIRTUALIZE(q);
	uint64_t any = 0;
	for (size_t i = 0; i < MM_PAGE_SIZE / 8; i++)
		any |= words[i];
	EXPECT_EQ(any, 0);
	EXPECT_EQ(mm_phys_free_page(q), MM_OK);

	uintptr_t big = mm_phys_alloc(1, MM_NODE_LOCAL, MM_FLG_PS | MM_FLG_ZERO);
	ASSERT_NE(big, MM_NADDR);
	words = MM_VIRTUALIZE(big + MM_LARGE_PAGE_SIZE - MM_PAGE_SIZE);
	any = 0;
	for (size_t i = 0; i < MM_PAGE_SIZE / 8; i++)
		any |= words[i];
	EXPECT_EQ(any, 0);
	EXPECT_EQ(mm_free_physical_page(big, MM_FLG_PS), MM_OK);
}

TEST_F(leak_checked, pmm_policy, runs_of_large_pages_free_one_by_one)
{
	uint64_t before = free_frames();
	uintptr_t run = mm_phys_alloc(3, MM_NODE_LOCAL, MM_FLG_PS);
	ASSERT_NE(run, MM_NADDR);
	EXPECT_EQ(run & (MM_LARGE_PAGE_SIZE - 1), 0);
	EXPECT_EQ(before - free_frames(), 3 * 512);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(mm_free_physical_page(run + i * MM_LARGE_PAGE_SIZE, MM_FLG_PS), MM_OK);
	EXPECT_EQ(free_frames(), before);
}

TEST_F(leak_checked, pmm_policy, large_pages_come_back_from_the_cpu_cache)
{
	uintptr_t a = mm_alloc_physical_page(MM_FLG_PS);
	ASSERT_NE(a, MM_NADDR);
	EXPECT_EQ(mm_free_physical_page(a, MM_FLG_PS), MM_OK);
	struct mm_phys_stats s;
	mm_phys_get_stats(&s);
	EXPECT_GE(s.cached_frames, 512); /* the block waits in this CPU's 2 MiB cache */
	uintptr_t b = mm_alloc_physical_page(MM_FLG_PS);
	EXPECT_EQ(b, a); /* and is reused first: cache-hot */
	EXPECT_EQ(mm_free_physical_page(b, MM_FLG_PS), MM_OK);
}

TEST_F(leak_checked, pmm_policy, every_node_serves_strict_requests)
{
	for (unsigned node = 0; node < arch_node_count(); node++) {
		struct mm_phys_node_stats before, after;
		ASSERT_EQ(mm_phys_get_node_stats(node, &before), MM_OK);
		if (before.free_frames < 64)
			continue;
		uintptr_t p = mm_phys_alloc(16, node, MM_FLG_NODE_STRICT);
		ASSERT_NE(p, MM_NADDR);
		EXPECT_EQ(mm_phys_node_of(p), node);
		EXPECT_EQ(mm_phys_node_of(p + 15 * MM_PAGE_SIZE), node);
		ASSERT_EQ(mm_phys_get_node_stats(node, &after), MM_OK);
		EXPECT_EQ(before.free_frames - after.free_frames, 16);
		for (int i = 0; i < 16; i++)
			EXPECT_EQ(mm_phys_free_page(p + i * MM_PAGE_SIZE), MM_OK);
	}
}

TEST_F(leak_checked, pmm_policy, local_node_first)
{
	unsigned local = local_node();
	for (int i = 0; i < 100; i++) {
		uintptr_t p = mm_phys_alloc_page();
		ASSERT_NE(p, MM_NADDR);
		EXPECT_EQ(mm_phys_node_of(p), local);
		mm_phys_free_page(p);
	}
	uintptr_t run = mm_phys_alloc_contiguous(1000);
	ASSERT_NE(run, MM_NADDR);
	EXPECT_EQ(mm_phys_node_of(run), local);
	for (int i = 0; i < 1000; i++)
		mm_phys_free_page(run + i * MM_PAGE_SIZE);
}

/* Takes every free frame of `node` in 2 MiB blocks and single frames (strict), each chained
 * through its first word, so that no count is assumed: frames other tests keep allocated (a
 * slab, a kept table) leave the node's free memory in as many single frames as they break
 * 2 MiB blocks. post: the chains' heads in *blocks and *singles. */
static void exhaust_node(unsigned node, uintptr_t *blocks, uintptr_t *singles)
{
	uintptr_t p;
	*blocks = 0;
	while ((p = mm_phys_alloc(1, node, MM_FLG_PS | MM_FLG_NODE_STRICT)) != MM_NADDR) {
		*(uintptr_t *)MM_VIRTUALIZE(p) = *blocks;
		*blocks = p;
	}
	*singles = 0;
	while ((p = mm_phys_alloc(1, node, MM_FLG_NODE_STRICT)) != MM_NADDR) {
		*(uintptr_t *)MM_VIRTUALIZE(p) = *singles;
		*singles = p;
	}
}

TEST_F(leak_checked, pmm_policy, falls_back_to_the_nearest_node_when_local_is_empty)
{
	unsigned nodes = arch_node_count();
	unsigned local = local_node();
	if (nodes < 2) {
		/* One node: strict and local are the same request. */
		uintptr_t p = mm_phys_alloc(1, 0, MM_FLG_NODE_STRICT);
		ASSERT_NE(p, MM_NADDR);
		EXPECT_EQ(mm_phys_node_of(p), 0);
		mm_phys_free_page(p);
		return;
	}
	uint64_t before = free_frames();
	uintptr_t blocks, singles;
	exhaust_node(local, &blocks, &singles);
	/* Nothing left here: strict fails, the default goes to the nearest other node. */
	EXPECT_EQ(mm_phys_alloc(1, local, MM_FLG_NODE_STRICT), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_ENOMEM);
	uintptr_t p = mm_phys_alloc_page();
	ASSERT_NE(p, MM_NADDR);
	unsigned got = mm_phys_node_of(p);
	EXPECT_NE(got, local);
	for (unsigned n = 0; n < nodes; n++)
		if (n != local)
			EXPECT_GE(arch_node_distance(local, n), arch_node_distance(local, got));
	mm_phys_free_page(p);
	while (singles) {
		uintptr_t next = *(uintptr_t *)MM_VIRTUALIZE(singles);
		EXPECT_EQ(mm_phys_free_page(singles), MM_OK);
		singles = next;
	}
	while (blocks) {
		uintptr_t next = *(uintptr_t *)MM_VIRTUALIZE(blocks);
		EXPECT_EQ(mm_free_physical_page(blocks, MM_FLG_PS), MM_OK);
		blocks = next;
	}
	EXPECT_EQ(free_frames(), before);
}

TEST_F(leak_checked, pmm_policy, node_stats_add_up)
{
	struct mm_phys_stats all;
	mm_phys_get_stats(&all);
	uint64_t total = 0, free = 0;
	for (unsigned node = 0; node < arch_node_count(); node++) {
		struct mm_phys_node_stats s;
		ASSERT_EQ(mm_phys_get_node_stats(node, &s), MM_OK);
		total += s.total_frames;
		free += s.free_frames;
		uint64_t in_blocks = 0;
		for (unsigned k = 0; k < 19; k++)
			in_blocks += s.free_blocks[k] << k;
		EXPECT_EQ(in_blocks + s.cached_frames, s.free_frames);
	}
	EXPECT_EQ(total, all.total_frames);
	EXPECT_EQ(free, all.free_frames);
}

TEST_F(leak_checked, pmm_policy, coalesces_back_after_churn_to_ninety_percent)
{
	/* Random runs of 1..64 frames until 90% of memory is taken, freed in a scrambled order:
	 * afterwards every zone must hold exactly the blocks it held before, up to 1 GiB. */
	mm_phys_drain_caches();
	struct mm_phys_node_stats before[ARCH_MAX_NODES];
	uint64_t free_before = 0;
	for (unsigned n = 0; n < arch_node_count(); n++) {
		mm_phys_get_node_stats(n, &before[n]);
		free_before += before[n].free_frames;
	}
	/* The run records live in memory of their own: a contiguous table of (addr, count). */
	size_t max_runs = (size_t)(free_before / 8);
	size_t table_frames = (max_runs * 2 * sizeof(uintptr_t) + MM_PAGE_SIZE - 1) / MM_PAGE_SIZE;
	uintptr_t table_phys = mm_phys_alloc_contiguous(table_frames);
	ASSERT_NE(table_phys, MM_NADDR);
	uintptr_t *runs = MM_VIRTUALIZE(table_phys);
	uint64_t target = free_before / 10 * 9, taken = table_frames, seed = 0x9E3779B97F4A7C15ull;
	size_t n = 0;
	while (taken < target && n < max_runs) {
		size_t count = 1 + test_random(&seed) % 64;
		uintptr_t p = mm_phys_alloc_contiguous(count);
		if (p == MM_NADDR) {
			/* Fragmented past what a run needs: go on with single frames. */
			count = 1;
			p = mm_phys_alloc_page();
			if (p == MM_NADDR)
				break;
		}
		runs[2 * n] = p;
		runs[2 * n + 1] = count;
		n++;
		taken += count;
	}
	EXPECT_GE(taken, target);
	/* Scramble, then free. */
	for (size_t i = n; i > 1; i--) {
		size_t j = test_random(&seed) % i;
		uintptr_t a = runs[2 * (i - 1)], c = runs[2 * (i - 1) + 1];
		runs[2 * (i - 1)] = runs[2 * j];
		runs[2 * (i - 1) + 1] = runs[2 * j + 1];
		runs[2 * j] = a;
		runs[2 * j + 1] = c;
	}
	for (size_t i = 0; i < n; i++)
		for (uintptr_t k = 0; k < runs[2 * i + 1]; k++)
			EXPECT_EQ(mm_phys_free_page(runs[2 * i] + k * MM_PAGE_SIZE), MM_OK);
	for (size_t k = 0; k < table_frames; k++)
		mm_phys_free_page(table_phys + k * MM_PAGE_SIZE);
	mm_phys_drain_caches();
	for (unsigned node = 0; node < arch_node_count(); node++) {
		struct mm_phys_node_stats after;
		mm_phys_get_node_stats(node, &after);
		EXPECT_EQ(after.free_frames, before[node].free_frames);
		for (unsigned k = 0; k < 19; k++)
			EXPECT_EQ(after.free_blocks[k], before[node].free_blocks[k]);
	}
}

TEST_F(leak_checked, pmm_policy, large_page_cache_refills_keep_invariants)
{
	/* Refills of the 2 MiB cache split larger blocks: the heads they hand over must say
	 * order 9 (a fuzzer found them keeping the larger order). pmm_check panics otherwise. */
	mm_phys_drain_caches();
	uintptr_t pages[12];
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 12; i++) {
			pages[i] = mm_alloc_physical_page(MM_FLG_PS);
			ASSERT_NE(pages[i], MM_NADDR);
		}
		for (int i = 0; i < 12; i++)
			EXPECT_EQ(mm_free_physical_page(pages[i], MM_FLG_PS), MM_OK);
		pmm_check();
	}
}
