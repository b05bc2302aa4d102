/* Frame allocator tests: the public calls, their bad inputs, and frame accounting. */
#include <mm/phys.h>
#include <mmtest/test.h>

#include <lib/string.h>

#include "fixtures.h"
#include "helpers.h"


TEST_F(leak_checked, pmm, alloc_page_is_aligned_managed_and_writable)
{
	uint64_t before = free_frames();
	uintptr_t p = mm_phys_alloc_page();
	ASSERT_NE(p, MM_NADDR);
	EXPECT_EQ(p & (MM_PAGE_SIZE - 1), 0);
	EXPECT_TRUE(mm_phys_is_managed(p));
	EXPECT_EQ(free_frames(), before - 1);
	memset(MM_VIRTUALIZE(p), 0xA5, MM_PAGE_SIZE);
	EXPECT_EQ(((unsigned char *)MM_VIRTUALIZE(p))[MM_PAGE_SIZE - 1], 0xA5);
	EXPECT_EQ(MM_PHYS(MM_VIRTUALIZE(p)), p);
	EXPECT_EQ(mm_phys_free_page(p), MM_OK);
	EXPECT_EQ(free_frames(), before);
}

TEST_F(leak_checked, pmm, pages_are_distinct)
{
	enum { N = 300 }; /* more than one per-CPU cache batch */
	uintptr_t pages[N];
	for (int i = 0; i < N; i++) {
		pages[i] = mm_phys_alloc_page();
		ASSERT_NE(pages[i], MM_NADDR);
		*(uint64_t *)MM_VIRTUALIZE(pages[i]) = (uint64_t)i;
	}
	for (int i = 0; i < N; i++)
		EXPECT_EQ(*(uint64_t *)MM_VIRTUALIZE(pages[i]), (uint64_t)i);
	for (int i = 0; i < N; i++)
		EXPECT_EQ(mm_phys_free_page(pages[i]), MM_OK);
}

TEST_F(leak_checked, pmm, free_rejects_bad_frames)
{
	uintptr_t p = mm_phys_alloc_page();
	ASSERT_NE(p, MM_NADDR);
	EXPECT_EQ(mm_phys_free_page(p + 8), MM_EINVAL); /* unaligned */
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(mm_phys_free_page(0), MM_EINVAL);                  /* never RAM of ours */
	EXPECT_EQ(mm_phys_free_page((uintptr_t)1 << 51), MM_EINVAL); /* past the frame table */
	EXPECT_EQ(mm_phys_free_page(MM_NADDR), MM_EINVAL);
	EXPECT_EQ(mm_phys_free_page(p), MM_OK);
	EXPECT_EQ(mm_phys_free_page(p), MM_ENOTALLOC); /* double free */
	EXPECT_EQ(mm_last_error(), MM_ENOTALLOC);
}

TEST_F(leak_checked, pmm, references_keep_a_frame_alive)
{
	uint64_t before = free_frames();
	uintptr_t p = mm_phys_alloc_page();
	ASSERT_NE(p, MM_NADDR);
	EXPECT_EQ(mm_phys_ref(p), MM_OK);
	EXPECT_EQ(mm_phys_free_page(p), MM_OK);
	EXPECT_EQ(free_frames(), before - 1); /* one reference left */
	EXPECT_EQ(mm_phys_free_page(p), MM_OK);
	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(mm_phys_ref(p), MM_ENOTALLOC);
	EXPECT_EQ(mm_phys_ref(p + 1), MM_EINVAL);
}

TEST_F(leak_checked, pmm, contiguous_runs_of_any_count)
{
	uint64_t before = free_frames();
	const size_t counts[] = {2, 3, 17, 100, 513};
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		size_t n = counts[c];
		uintptr_t base = mm_phys_alloc_contiguous(n);
		ASSERT_NE(base, MM_NADDR);
		EXPECT_EQ(base & (MM_PAGE_SIZE - 1), 0);
		/* The tail past n went back: exactly n frames are taken. */
		EXPECT_EQ(free_frames(), before - n);
		for (size_t i = 0; i < n; i++)
			*(volatile uint64_t *)MM_VIRTUALIZE(base + i * MM_PAGE_SIZE) = i;
		/* A run is freed one page at a time. */
		for (size_t i = 0; i < n; i++)
			EXPECT_EQ(mm_phys_free_page(base + i * MM_PAGE_SIZE), MM_OK);
		EXPECT_EQ(free_frames(), before);
	}
}

TEST_F(leak_checked, pmm, contiguous_rejects_bad_counts)
{
	EXPECT_EQ(mm_phys_alloc_contiguous(0), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(mm_phys_alloc_contiguous((size_t)1 << 40), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_ENOMEM);
}

TEST_F(leak_checked, pmm, large_pages_2m)
{
	uint64_t before = free_frames();
	uintptr_t p = mm_alloc_physical_page(MM_FLG_PS);
	ASSERT_NE(p, MM_NADDR);
	EXPECT_EQ(p & (MM_LARGE_PAGE_SIZE - 1), 0);
	EXPECT_EQ(free_frames(), before - 512);
	/* Freed with the wrong size, or a frame inside it: refused, nothing lost. */
	EXPECT_EQ(mm_free_physical_page(p, 0), MM_ENOTALLOC);
	EXPECT_EQ(mm_phys_free_page(p + MM_PAGE_SIZE), MM_ENOTALLOC);
	EXPECT_NE(mm_free_physical_page(p, MM_FLG_PS1G), MM_OK); /* not a 1 GiB page */
	EXPECT_EQ(mm_free_physical_page(p + MM_PAGE_SIZE, MM_FLG_PS), MM_EINVAL);
	EXPECT_EQ(mm_free_physical_page(p, MM_FLG_PS), MM_OK);
	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(mm_free_physical_page(p, MM_FLG_PS), MM_ENOTALLOC);
}

TEST_F(leak_checked, pmm, large_pages_1g_when_memory_allows)
{
	/* Whether a free, aligned 1 GiB block exists is the zones' business: ask them. */
	uint64_t free_gib_blocks = 0;
	for (unsigned node = 0; node < arch_node_count(); node++) {
		struct mm_phys_node_stats s;
		ASSERT_EQ(mm_phys_get_node_stats(node, &s), MM_OK);
		free_gib_blocks += s.free_blocks[18];
	}
	uintptr_t p = mm_alloc_physical_page(MM_FLG_PS1G);
	if (free_gib_blocks > 0) {
		ASSERT_NE(p, MM_NADDR);
		EXPECT_EQ(p & (MM_HUGE_PAGE_SIZE - 1), 0);
		EXPECT_EQ(mm_free_physical_page(p, MM_FLG_PS), MM_ENOTALLOC); /* not a 2 MiB page */
		/* The size flags the queries report for a 1 GiB page (MM_FLG_PS is "not 4 KiB")
		 * free it as MM_FLG_PS1G alone does. */
		EXPECT_EQ(mm_free_physical_page(p, MM_FLG_PS | MM_FLG_PS1G), MM_OK);
		p = mm_alloc_physical_page(MM_FLG_PS | MM_FLG_PS1G);
		ASSERT_NE(p, MM_NADDR);
		EXPECT_EQ(p & (MM_HUGE_PAGE_SIZE - 1), 0);
		EXPECT_EQ(mm_free_physical_page(p, MM_FLG_PS1G), MM_OK);
	} else {
		EXPECT_EQ(p, MM_NADDR);
		EXPECT_EQ(mm_last_error(), MM_ENOMEM);
	}
}

TEST_F(leak_checked, pmm, alloc_physical_page_rejects_unknown_flags)
{
	EXPECT_EQ(mm_alloc_physical_page(MM_FLG_WR), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(mm_free_physical_page(0x200000, 1u << 30), MM_EINVAL);
	uintptr_t p = mm_alloc_physical_page(0);
	ASSERT_NE(p, MM_NADDR);
	EXPECT_EQ(mm_free_physical_page(p, 0), MM_OK);
}

TEST_F(leak_checked, pmm, init_twice_is_refused)
{
	struct mm_phys_range r = {0x100000, 0x100000, 0};
	EXPECT_EQ(mm_phys_init(&r, 1), MM_EINVAL);
	EXPECT_EQ(mm_phys_init(0, 0), MM_EINVAL);
}

TEST_F(leak_checked, pmm, buddy_coalesces_after_churn)
{
	/* Drain the caches so every free frame sits in the buddy lists, then take and give
	 * back frames in a scattered order: a 2 MiB page must still be available afterwards
	 * at the same count of free frames. */
	mm_phys_drain_caches();
	uint64_t before = free_frames();
	enum { N = 2048 };
	static uintptr_t pages[N];
	for (int i = 0; i < N; i++) {
		pages[i] = mm_phys_alloc_page();
		ASSERT_NE(pages[i], MM_NADDR);
	}
	for (int i = 0; i < N; i += 2)
		EXPECT_EQ(mm_phys_free_page(pages[i]), MM_OK);
	for (int i = 1; i < N; i += 2)
		EXPECT_EQ(mm_phys_free_page(pages[i]), MM_OK);
	mm_phys_drain_caches();
	EXPECT_EQ(free_frames(), before);
	struct mm_phys_stats s;
	mm_phys_get_stats(&s);
	EXPECT_EQ(s.cached_frames, 0);
	uintptr_t big = mm_alloc_physical_page(MM_FLG_PS);
	ASSERT_NE(big, MM_NADDR);
	EXPECT_EQ(mm_free_physical_page(big, MM_FLG_PS), MM_OK);
}

TEST_F(leak_checked, pmm, errors_have_names)
{
	EXPECT_EQ(memcmp(mm_strerror(MM_EINVAL), "MM_EINVAL", 9), 0);
	EXPECT_EQ(memcmp(mm_strerror(MM_ENOTALLOC), "MM_ENOTALLOC", 12), 0);
	EXPECT_EQ(memcmp(mm_strerror(12345), "unknown", 7), 0);
}
