/* Address-space tests: create/destroy, map/unmap/translate, their bad inputs, and proof
 * that a failed call changes nothing and loses no frame. */
#include <mm/phys.h>
#include <mm/region.h>
#include <mm/vmm.h>
#include <mmtest/test.h>

#include <lib/string.h>

#include "fixtures.h"
#include "helpers.h"

#include "vmm/invariants.h"

#define USER_VA ((uintptr_t)0x0000100000000000ull) /* well inside the user half */


TEST_F(leak_checked, vmm, create_and_destroy_balance)
{
	uintptr_t root = 0;
	mm_space_t a = mm_create_space(&root);
	ASSERT_NE((uintptr_t)a, 0);
	EXPECT_EQ(root, mm_space_root(a));
	EXPECT_EQ(root & (MM_PAGE_SIZE - 1), 0);
	mm_space_t b = mm_create_space(NULL);
	ASSERT_NE((uintptr_t)b, 0);
	EXPECT_NE(mm_space_id(a), mm_space_id(b));
	EXPECT_NE(mm_space_id(a), 0);
	EXPECT_EQ(mm_space_id(NULL), 0);
	EXPECT_EQ(mm_space_root(NULL), MM_NADDR);
	EXPECT_EQ(vmm_check_space(a), MM_OK);
	mm_destroy_space(a);
	mm_destroy_space(b);
	mm_destroy_space(NULL);              /* ignored */
	mm_destroy_space(mm_kernel_space()); /* refused: the kernel space stays */
}

TEST_F(leak_checked, vmm, map_range_maps_zeroed_frames)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uint64_t before = free_frames();
	/* Start is aligned down, the byte range rounded out to pages. */
	uintptr_t got = mm_map_range(s, USER_VA + 123, 3 * MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US);
	EXPECT_EQ(got, USER_VA);
	EXPECT_EQ(before - free_frames(), 4 + 3); /* 4 pages (123 bytes spill over) + PDPT, PD, PT */
	for (int i = 0; i < 4; i++) {
		uint32_t flags = 0;
		uintptr_t phys = mm_translate(s, USER_VA + i * MM_PAGE_SIZE + 5, &flags);
		ASSERT_NE(phys, MM_NADDR);
		EXPECT_EQ(phys & (MM_PAGE_SIZE - 1), 5);
		EXPECT_EQ(flags, MM_FLG_WR | MM_FLG_US);
		const uint64_t *words = MM_VIRTUALIZE(phys - 5);
		uint64_t any = 0;
		for (size_t w = 0; w < MM_PAGE_SIZE / 8; w++)
			any |= words[w];
		EXPECT_EQ(any, 0);
	}
	EXPECT_EQ(mm_translate(s, USER_VA + 4 * MM_PAGE_SIZE, NULL), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_ENOENT);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
	EXPECT_EQ(mm_umap_range(s, USER_VA, 4 * MM_PAGE_SIZE, 0), MM_OK);
	/* Frames and the emptied tables are back. */
	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

static uint64_t zeroed_frames(void)
{
	struct mm_phys_stats s;
	mm_phys_get_stats(&s);
	return s.zeroed_frames;
}

TEST_F(leak_checked, vmm, emptied_tables_are_kept_zeroed_for_the_next_map)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	/* Whatever other tests left cached goes first: the counts below are this test's. */
	mm_phys_drain_caches();
	uint64_t free_before = free_frames();
	ASSERT_EQ(mm_map_range(s, USER_VA, MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US), USER_VA);
	EXPECT_EQ(zeroed_frames(), 0);
	ASSERT_EQ(mm_umap_range(s, USER_VA, MM_PAGE_SIZE, 0), MM_OK);
	/* The PDPT, PD and PT the unmap emptied are kept zeroed; all count as free. */
	EXPECT_EQ(zeroed_frames(), 3);
	EXPECT_EQ(free_frames(), free_before);
	/* The next map takes them instead of zeroing three frames, and they are zero: only
	 * the new entries are in them. */
	ASSERT_EQ(mm_map_range(s, USER_VA + MM_PAGE_SIZE, MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US),
	          USER_VA + MM_PAGE_SIZE);
	EXPECT_EQ(zeroed_frames(), 0);
	EXPECT_EQ(mm_translate(s, USER_VA, NULL), MM_NADDR);
	EXPECT_NE(mm_translate(s, USER_VA + MM_PAGE_SIZE, NULL), MM_NADDR);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
	ASSERT_EQ(mm_umap_range(s, USER_VA + MM_PAGE_SIZE, MM_PAGE_SIZE, 0), MM_OK);
	/* Memory pressure gives them back to the zones with every other cached frame. */
	EXPECT_EQ(zeroed_frames(), 3);
	mm_phys_drain_caches();
	EXPECT_EQ(zeroed_frames(), 0);
	EXPECT_EQ(free_frames(), free_before);
}

TEST_F(leak_checked, vmm, map_range_flags)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uint32_t f = 0;
	ASSERT_EQ(mm_map_range(s, USER_VA, MM_PAGE_SIZE, 0), USER_VA);
	ASSERT_NE(mm_translate(s, USER_VA, &f), MM_NADDR);
	EXPECT_EQ(f, 0); /* read-only, kernel-only, no-execute */
	ASSERT_EQ(mm_map_range(s, USER_VA + MM_PAGE_SIZE, 1, MM_FLG_EXEC | MM_FLG_US),
	          USER_VA + MM_PAGE_SIZE);
	ASSERT_NE(mm_translate(s, USER_VA + MM_PAGE_SIZE, &f), MM_NADDR);
	EXPECT_EQ(f, MM_FLG_EXEC | MM_FLG_US);
	ASSERT_EQ(mm_map_range(s, USER_VA + 2 * MM_PAGE_SIZE, 1, MM_FLG_DMA | MM_FLG_WR),
	          USER_VA + 2 * MM_PAGE_SIZE);
	ASSERT_NE(mm_translate(s, USER_VA + 2 * MM_PAGE_SIZE, &f), MM_NADDR);
	EXPECT_EQ(f, MM_FLG_DMA | MM_FLG_WR);
}

TEST_F(leak_checked, vmm, map_range_rejects_bad_input)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uint64_t before = free_frames();
	struct {
		uintptr_t start;
		size_t count;
		uint32_t flags;
		int error;
	} cases[] = {
	    {USER_VA, 0, 0, MM_EINVAL},                                  /* empty */
	    {MM_NADDR - 100, 200, 0, MM_EINVAL},                         /* wraps */
	    {USER_VA, MM_PAGE_SIZE, 1u << 20, MM_EINVAL},                /* unknown flag */
	    {USER_VA, MM_PAGE_SIZE, MM_FLG_NOPHYS, MM_EINVAL},           /* not a map flag */
	    {0, MM_PAGE_SIZE, 0, MM_EPERM},                              /* page 0 */
	    {MM_USER_END - MM_PAGE_SIZE, 2 * MM_PAGE_SIZE, 0, MM_EPERM}, /* crosses the user end */
	    {0x0000900000000000ull, MM_PAGE_SIZE, 0, MM_EPERM},          /* non-canonical */
	    {MM_HW_BASE, MM_PAGE_SIZE, 0, MM_EPERM},           /* the hardware window: devices only */
	    {MM_DIRECT_MAP_BASE, MM_PAGE_SIZE, 0, MM_EPERM},   /* the direct map */
	    {MM_KERNEL_IMAGE_BASE, MM_PAGE_SIZE, 0, MM_EPERM}, /* the kernel image */
	    {MM_KERNEL_MAP_BASE, MM_PAGE_SIZE, MM_FLG_US, MM_EPERM}, /* user page in the kernel */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EXPECT_EQ(mm_map_range(s, cases[i].start, cases[i].count, cases[i].flags), MM_NADDR);
		EXPECT_EQ(mm_last_error(), cases[i].error);
	}
	EXPECT_EQ(mm_map_range(NULL, USER_VA, MM_PAGE_SIZE, 0), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, vmm, map_over_a_mapping_is_refused_whole)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_EQ(mm_map_range(s, USER_VA + 10 * MM_PAGE_SIZE, MM_PAGE_SIZE, MM_FLG_WR),
	          USER_VA + 10 * MM_PAGE_SIZE);
	uint64_t before = free_frames();
	EXPECT_EQ(mm_map_range(s, USER_VA, 20 * MM_PAGE_SIZE, MM_FLG_WR), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EEXIST);
	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(mm_translate(s, USER_VA, NULL), MM_NADDR); /* no half-made mapping */
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, vmm, map_range_out_of_memory_changes_nothing)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	/* Memory runs out at every point of a 1000-page map that crosses leaf-table
	 * boundaries: before the first table, between tables, inside a leaf table's batch. */
	const long budgets[] = {0, 1, 2, 3, 4, 200, 514, 515, 999, 1002};
	for (size_t i = 0; i < sizeof(budgets) / sizeof(budgets[0]); i++) {
		uint64_t before = free_frames();
		mm_phys_fail_after(budgets[i]);
		uintptr_t got =
		    mm_map_range(s, USER_VA + 300 * MM_PAGE_SIZE, 1000 * MM_PAGE_SIZE, MM_FLG_WR);
		int error = mm_last_error();
		mm_phys_fail_after(-1);
		EXPECT_EQ(got, MM_NADDR);
		EXPECT_EQ(error, MM_ENOMEM);
		EXPECT_EQ(free_frames(), before);
		EXPECT_EQ(mm_translate(s, USER_VA + 300 * MM_PAGE_SIZE, NULL), MM_NADDR);
		EXPECT_EQ(vmm_check_space(s), MM_OK);
	}
	/* With the page tables already there, the same. */
	ASSERT_EQ(mm_map_range(s, USER_VA, MM_PAGE_SIZE, 0), USER_VA);
	uint64_t before = free_frames();
	mm_phys_fail_after(10);
	EXPECT_EQ(mm_map_range(s, USER_VA + MM_PAGE_SIZE, 50 * MM_PAGE_SIZE, 0), MM_NADDR);
	mm_phys_fail_after(-1);
	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
	/* And memory is usable afterwards. */
	EXPECT_EQ(mm_map_range(s, USER_VA + MM_PAGE_SIZE, 50 * MM_PAGE_SIZE, 0),
	          USER_VA + MM_PAGE_SIZE);
}

TEST_F(leak_checked, vmm, create_space_out_of_memory)
{
	/* Memory runs out at each step of making a space until it succeeds: every failure
	 * says MM_ENOMEM and leaves no frame and no object behind. */
	uint64_t before = free_frames(), objects = heap_objects();
	mm_space_t s = NULL;
	long budget = 0;
	for (; budget < 16 && !s; budget++) {
		mm_phys_fail_after(budget);
		s = mm_create_space(NULL);
		int error = mm_last_error();
		mm_phys_fail_after(-1);
		if (!s) {
			EXPECT_EQ(error, MM_ENOMEM);
			EXPECT_EQ(free_frames(), before);
			EXPECT_EQ(heap_objects(), objects);
		}
	}
	ASSERT_NE((uintptr_t)s, 0);
	EXPECT_GE(budget, 2); /* at least the attempt with no frame at all failed */
	mm_destroy_space(s);
	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(heap_objects(), objects);
}

TEST_F(leak_checked, vmm, unmap_keeps_frames_with_nophys)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uint64_t before = free_frames();
	ASSERT_EQ(mm_map_range(s, USER_VA, 2 * MM_PAGE_SIZE, MM_FLG_WR), USER_VA);
	uintptr_t p0 = mm_translate(s, USER_VA, NULL);
	uintptr_t p1 = mm_translate(s, USER_VA + MM_PAGE_SIZE, NULL);
	*(uint64_t *)MM_VIRTUALIZE(p0) = 0x1234;
	EXPECT_EQ(mm_umap_range(s, USER_VA, 2 * MM_PAGE_SIZE, MM_FLG_NOPHYS), MM_OK);
	EXPECT_EQ(mm_translate(s, USER_VA, NULL), MM_NADDR);
	/* The frames are the caller's now: still allocated, contents intact. */
	EXPECT_EQ(*(uint64_t *)MM_VIRTUALIZE(p0), 0x1234);
	EXPECT_EQ(before - free_frames(), 2);
	EXPECT_EQ(mm_phys_free_page(p0), MM_OK);
	EXPECT_EQ(mm_phys_free_page(p1), MM_OK);
	EXPECT_EQ(free_frames(), before);
}

TEST_F(leak_checked, vmm, unmap_holes_and_bad_input)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uint64_t before = free_frames();
	EXPECT_EQ(mm_umap_range(s, USER_VA, 100 * MM_PAGE_SIZE, 0), MM_OK); /* nothing there */
	ASSERT_EQ(mm_map_range(s, USER_VA + 5 * MM_PAGE_SIZE, MM_PAGE_SIZE, 0),
	          USER_VA + 5 * MM_PAGE_SIZE);
	EXPECT_EQ(mm_umap_range(NULL, USER_VA, MM_PAGE_SIZE, 0), MM_EINVAL);
	EXPECT_EQ(mm_umap_range(s, USER_VA, 0, 0), MM_EINVAL);
	EXPECT_EQ(mm_umap_range(s, MM_NADDR - 10, 100, 0), MM_EINVAL);
	EXPECT_EQ(mm_umap_range(s, USER_VA, MM_PAGE_SIZE, MM_FLG_WR), MM_EINVAL);
	EXPECT_EQ(mm_umap_range(s, MM_DIRECT_MAP_BASE, MM_PAGE_SIZE, 0), MM_EPERM);
	EXPECT_EQ(mm_umap_range(s, 0, MM_PAGE_SIZE, 0), MM_EPERM);
	EXPECT_NE(mm_translate(s, USER_VA + 5 * MM_PAGE_SIZE, NULL), MM_NADDR); /* untouched */
	EXPECT_EQ(mm_umap_range(s, USER_VA, 100 * MM_PAGE_SIZE, 0), MM_OK);
	EXPECT_EQ(free_frames(), before);
}

TEST_F(leak_checked, vmm, map_given_pages_takes_a_reference)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uint64_t before = free_frames();
	uintptr_t pages[3];
	for (int i = 0; i < 3; i++)
		pages[i] = mm_phys_alloc_page();
	EXPECT_EQ(mm_map_range_pages(s, USER_VA, pages, 3, MM_FLG_WR | MM_FLG_US), MM_OK);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(mm_translate(s, USER_VA + i * MM_PAGE_SIZE, NULL), pages[i]);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
	/* Unmapping drops the mapping's reference; the caller's own one remains. */
	EXPECT_EQ(mm_umap_range(s, USER_VA, 3 * MM_PAGE_SIZE, 0), MM_OK);
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(mm_phys_free_page(pages[i]), MM_OK);
		EXPECT_EQ(mm_phys_free_page(pages[i]), MM_ENOTALLOC);
	}
	EXPECT_EQ(free_frames(), before);
}

TEST_F(leak_checked, vmm, map_given_pages_rejects_bad_input)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uintptr_t p = mm_phys_alloc_page();
	ASSERT_NE(p, MM_NADDR);
	uintptr_t freed = mm_phys_alloc_page();
	ASSERT_NE(freed, MM_NADDR);
	mm_phys_free_page(freed);
	uintptr_t unaligned = p + 1;
	uint64_t before = free_frames();
	EXPECT_EQ(mm_map_range_pages(NULL, USER_VA, &p, 1, 0), MM_EINVAL);
	EXPECT_EQ(mm_map_range_pages(s, USER_VA, NULL, 1, 0), MM_EINVAL);
	EXPECT_EQ(mm_map_range_pages(s, USER_VA, &p, 0, 0), MM_EINVAL);
	EXPECT_EQ(mm_map_range_pages(s, USER_VA + 1, &p, 1, 0), MM_EINVAL);
	EXPECT_EQ(mm_map_range_pages(s, USER_VA, &unaligned, 1, 0), MM_EINVAL);
	EXPECT_EQ(mm_map_range_pages(s, USER_VA, &p, 1, 1u << 25), MM_EINVAL);
	EXPECT_EQ(mm_map_range_pages(s, USER_VA, &p, 1, MM_FLG_PS | MM_FLG_PS1G),
	          MM_EINVAL); /* p is 4 KiB */
	EXPECT_EQ(mm_map_range_pages(s, USER_VA, &p, (size_t)1 << 60, 0), MM_EINVAL);
	EXPECT_EQ(mm_map_range_pages(s, USER_VA, &freed, 1, 0), MM_ENOTALLOC); /* a free frame */
	EXPECT_EQ(mm_map_range_pages(s, MM_DIRECT_MAP_BASE, &p, 1, 0), MM_EPERM);
	EXPECT_EQ(mm_map_range_pages(s, MM_HW_BASE, &p, 1, MM_FLG_US), MM_EPERM);
	/* A 4 KiB frame is not a 2 MiB page: refused for its alignment, or, where it happens
	 * to be 2 MiB aligned, because no 2 MiB page is allocated there. */
	EXPECT_EQ(mm_map_range_pages(s, USER_VA, &p, 1, MM_FLG_PS),
	          (p & (MM_LARGE_PAGE_SIZE - 1)) ? MM_EINVAL : MM_ENOTALLOC);
	ASSERT_EQ(mm_map_range_pages(s, USER_VA, &p, 1, 0), MM_OK);
	EXPECT_EQ(mm_map_range_pages(s, USER_VA, &p, 1, 0), MM_EEXIST);
	EXPECT_EQ(mm_umap_range(s, USER_VA, MM_PAGE_SIZE, 0), MM_OK);
	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(mm_phys_free_page(p), MM_OK);
}

TEST_F(leak_checked, vmm, large_pages_map_translate_unmap)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uintptr_t big = mm_alloc_physical_page(MM_FLG_PS);
	ASSERT_NE(big, MM_NADDR);
	uint64_t before = free_frames();
	uintptr_t va = USER_VA + MM_LARGE_PAGE_SIZE;
	EXPECT_EQ(mm_map_range_pages(s, va + MM_PAGE_SIZE, &big, 1, MM_FLG_PS), MM_EINVAL);
	ASSERT_EQ(mm_map_range_pages(s, va, &big, 1, MM_FLG_PS | MM_FLG_WR), MM_OK);
	uint32_t f = 0;
	EXPECT_EQ(mm_translate(s, va + 0x12345, &f), big + 0x12345);
	EXPECT_EQ(f, MM_FLG_PS | MM_FLG_WR);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
	/* Part of a large page cannot be unmapped (no split yet): refused, nothing changed. */
	EXPECT_EQ(mm_umap_range(s, va, MM_PAGE_SIZE, 0), MM_ESIZE);
	EXPECT_EQ(mm_translate(s, va, NULL), big);
	/* 4 KiB mappings cannot go where a large page is. */
	EXPECT_EQ(mm_map_range(s, va + MM_PAGE_SIZE, MM_PAGE_SIZE, 0), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EEXIST);
	EXPECT_EQ(mm_umap_range(s, va, MM_LARGE_PAGE_SIZE, 0), MM_OK);
	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(mm_free_physical_page(big, MM_FLG_PS), MM_OK);
}

TEST_F(leak_checked, vmm, device_memory_in_the_hardware_window)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uint64_t before = free_frames();
	/* An address no RAM occupies (64 TiB): mapped without a reference, uncached. */
	uintptr_t device = (uintptr_t)1 << 46;
	ASSERT_FALSE(mm_phys_is_managed(device));
	ASSERT_EQ(mm_map_range_pages(s, MM_HW_BASE, &device, 1, MM_FLG_WR | MM_FLG_DMA), MM_OK);
	uint32_t f = 0;
	EXPECT_EQ(mm_translate(s, MM_HW_BASE, &f), device);
	EXPECT_EQ(f, MM_FLG_WR | MM_FLG_DMA);
	EXPECT_EQ(mm_umap_range(s, MM_HW_BASE, MM_PAGE_SIZE, 0), MM_OK);
	EXPECT_EQ(free_frames(), before);
}

TEST_F(leak_checked, vmm, kernel_half_is_shared)
{
	mm_space_t a = test_space(t);
	ASSERT_NE((uintptr_t)a, 0);
	uintptr_t kva = MM_KERNEL_MAP_BASE + 0x40000000;
	ASSERT_EQ(mm_map_range(mm_kernel_space(), kva, MM_PAGE_SIZE, MM_FLG_WR), kva);
	mm_space_t b = test_space(t);
	ASSERT_NE((uintptr_t)b, 0);
	uintptr_t phys = mm_translate(mm_kernel_space(), kva, NULL);
	ASSERT_NE(phys, MM_NADDR);
	/* Made before a was created and after: both see it. */
	EXPECT_EQ(mm_translate(a, kva, NULL), phys);
	EXPECT_EQ(mm_translate(b, kva, NULL), phys);
	/* And it can be taken down through any space. */
	EXPECT_EQ(mm_umap_range(b, kva, MM_PAGE_SIZE, 0), MM_OK);
	EXPECT_EQ(mm_translate(a, kva, NULL), MM_NADDR);
	EXPECT_EQ(vmm_check_space(a), MM_OK);
}

TEST_F(leak_checked, vmm, translate_rejects_bad_input)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	EXPECT_EQ(mm_translate(NULL, USER_VA, NULL), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(mm_translate(s, 0x0000900000000000ull, NULL), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(mm_translate(s, USER_VA, NULL), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_ENOENT);
}

TEST_F(leak_checked, vmm, big_range_unmaps_with_one_shootdown_and_frees_everything)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uint64_t before = free_frames();
	/* 4096 pages spanning two leaf tables' boundaries and more than one gather batch. */
	uintptr_t va = USER_VA + MM_LARGE_PAGE_SIZE - 8 * MM_PAGE_SIZE;
	ASSERT_EQ(mm_map_range(s, va, 4096 * MM_PAGE_SIZE, MM_FLG_WR), va);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
	for (int i = 0; i < 4096; i += 511) {
		uintptr_t p = mm_translate(s, va + (uintptr_t)i * MM_PAGE_SIZE, NULL);
		ASSERT_NE(p, MM_NADDR);
		*(uint32_t *)MM_VIRTUALIZE(p) = (uint32_t)i;
	}
	struct mm_tlb_stats t0, t1;
	mm_tlb_get_stats(&t0);
	EXPECT_EQ(mm_umap_range(s, va, 4096 * MM_PAGE_SIZE, 0), MM_OK);
	mm_tlb_get_stats(&t1);
	EXPECT_EQ(t1.shootdowns - t0.shootdowns, 1); /* one invalidation for the whole range */
	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, vmm, destroy_frees_what_is_still_mapped)
{
	mm_space_t s = mm_create_space(NULL);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_EQ(mm_map_range(s, USER_VA, 64 * MM_PAGE_SIZE, MM_FLG_WR), USER_VA);
	ASSERT_EQ(mm_map_range(s, 0x1000, MM_PAGE_SIZE, 0), 0x1000);
	uintptr_t p = mm_phys_alloc_page();
	ASSERT_NE(p, MM_NADDR);
	ASSERT_EQ(mm_map_range_pages(s, 0x7FFFFFFFF000ull, &p, 1, 0), MM_OK);
	mm_destroy_space(s);
	EXPECT_EQ(mm_phys_free_page(p), MM_OK); /* the caller's reference survived */
}

TEST_F(leak_checked, vmm, map_until_memory_is_really_gone)
{
	/* No injection: every free frame is taken, and the last one is missing. (Last in the
	 * file: it leaves every frame touched, which costs the host arena its first-touch
	 * faults once.) */
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uint64_t before = free_frames();
	size_t bytes = (size_t)(before + 1) * MM_PAGE_SIZE;
	EXPECT_EQ(mm_map_range(s, USER_VA, bytes, MM_FLG_WR), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_ENOMEM);
	EXPECT_EQ(free_frames(), before);
}

TEST_F(leak_checked, vmm, map_range_uses_large_pages_where_aligned)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uint64_t before = free_frames();
	/* 4 KiB before the first 2 MiB boundary, two 2 MiB pages, 8 KiB after. */
	uintptr_t va = USER_VA + MM_LARGE_PAGE_SIZE - MM_PAGE_SIZE;
	size_t bytes = MM_PAGE_SIZE + 2 * MM_LARGE_PAGE_SIZE + 2 * MM_PAGE_SIZE;
	ASSERT_EQ(mm_map_range(s, va, bytes, MM_FLG_WR | MM_FLG_PS), va);
	uint32_t f = 0;
	ASSERT_NE(mm_translate(s, va, &f), MM_NADDR);
	EXPECT_EQ(f & MM_FLG_PS, 0);
	uintptr_t big = mm_translate(s, va + MM_PAGE_SIZE + 12345, &f);
	ASSERT_NE(big, MM_NADDR);
	EXPECT_EQ(f & MM_FLG_PS, MM_FLG_PS);
	EXPECT_EQ((big - 12345) & (MM_LARGE_PAGE_SIZE - 1), 0);
	EXPECT_EQ(*(uint64_t *)MM_VIRTUALIZE(big - 12345 + MM_LARGE_PAGE_SIZE - 8), 0); /* zeroed */
	ASSERT_NE(mm_translate(s, va + bytes - 1, &f), MM_NADDR);
	EXPECT_EQ(f & MM_FLG_PS, 0);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
	EXPECT_EQ(mm_umap_range(s, va, bytes, 0), MM_OK);
	EXPECT_EQ(free_frames(), before);
}

TEST_F(leak_checked, vmm, unmapping_part_of_a_large_page_splits_it)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uintptr_t va = USER_VA; /* 2 MiB aligned */
	ASSERT_EQ(mm_map_range(s, va, MM_LARGE_PAGE_SIZE, MM_FLG_WR | MM_FLG_PS), va);
	uintptr_t base = mm_translate(s, va, NULL);
	*(uint64_t *)MM_VIRTUALIZE(base + 100 * MM_PAGE_SIZE) = 0x5151;
	uint64_t mapped = free_frames();
	/* Take three pages out of the middle: the page is split, those three frames freed. */
	EXPECT_EQ(mm_umap_range(s, va + 10 * MM_PAGE_SIZE, 3 * MM_PAGE_SIZE, 0), MM_OK);
	EXPECT_EQ(mm_translate(s, va + 11 * MM_PAGE_SIZE, NULL), MM_NADDR);
	uint32_t f = 0;
	EXPECT_EQ(mm_translate(s, va + 100 * MM_PAGE_SIZE, &f), base + 100 * MM_PAGE_SIZE);
	EXPECT_EQ(f & MM_FLG_PS, 0);
	EXPECT_EQ(*(uint64_t *)MM_VIRTUALIZE(base + 100 * MM_PAGE_SIZE), 0x5151); /* contents kept */
	/* One table made for the split, three frames back. */
	EXPECT_EQ(free_frames(), mapped + 3 - 1);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, vmm, fork_copies_private_large_pages)
{
	mm_space_t parent = test_space(t), child = test_space(t);
	ASSERT_NE((uintptr_t)parent, 0);
	ASSERT_NE((uintptr_t)child, 0);
	ASSERT_EQ(mm_map_range(parent, USER_VA, MM_LARGE_PAGE_SIZE, MM_FLG_WR | MM_FLG_US | MM_FLG_PS),
	          USER_VA);
	uintptr_t p = mm_translate(parent, USER_VA, NULL);
	*(uint64_t *)MM_VIRTUALIZE(p + 8) = 77;
	ASSERT_EQ(mm_space_fork(child, parent, MM_FLG_CLONE_USER), MM_OK);
	uint32_t f = 0;
	uintptr_t c = mm_translate(child, USER_VA, &f);
	ASSERT_NE(c, MM_NADDR);
	EXPECT_NE(c, p); /* a physical copy: large pages are not shared copy-on-write */
	EXPECT_EQ(f & (MM_FLG_PS | MM_FLG_WR), MM_FLG_PS | MM_FLG_WR);
	EXPECT_EQ(*(uint64_t *)MM_VIRTUALIZE(c + 8), 77);
	EXPECT_EQ(vmm_check_space(child), MM_OK);
}

TEST_F(leak_checked, vmm, failed_replace_keeps_the_old_mapping)
{
	/* A replacement that runs out of memory must leave what was there (a fuzzer found the
	 * old mapping lost): everything it needs is set aside before anything is taken down. */
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_EQ(mm_map_range(s, USER_VA, 8 * MM_PAGE_SIZE, MM_FLG_WR), USER_VA);
	uintptr_t p = mm_translate(s, USER_VA + 3 * MM_PAGE_SIZE, NULL);
	*(uint64_t *)MM_VIRTUALIZE(p) = 0xD00D;
	uint64_t before = free_frames();
	for (long budget = 0; budget < 12; budget++) {
		mm_phys_fail_after(budget);
		uintptr_t got = mm_map_range(s, USER_VA, 8 * MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_REPLACE);
		mm_phys_fail_after(-1);
		if (got != MM_NADDR)
			break;
		EXPECT_EQ(mm_last_error(), MM_ENOMEM);
		EXPECT_EQ(mm_translate(s, USER_VA + 3 * MM_PAGE_SIZE, NULL), p);
		EXPECT_EQ(*(uint64_t *)MM_VIRTUALIZE(p), 0xD00D);
		EXPECT_EQ(free_frames(), before);
		EXPECT_EQ(vmm_check_space(s), MM_OK);
	}
	/* With memory, the replacement happens: fresh zeroed pages. */
	ASSERT_EQ(mm_map_range(s, USER_VA, 8 * MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_REPLACE), USER_VA);
	uintptr_t q = mm_translate(s, USER_VA + 3 * MM_PAGE_SIZE, NULL);
	EXPECT_EQ(*(uint64_t *)MM_VIRTUALIZE(q), 0);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, vmm, protecting_part_of_a_large_page_splits_it)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_EQ(mm_map_range(s, USER_VA, MM_LARGE_PAGE_SIZE, MM_FLG_WR | MM_FLG_PS), USER_VA);
	EXPECT_EQ(mm_region_protect(s, USER_VA + 4 * MM_PAGE_SIZE, MM_PAGE_SIZE, 0), MM_OK);
	uint32_t f = 0;
	ASSERT_NE(mm_translate(s, USER_VA + 4 * MM_PAGE_SIZE, &f), MM_NADDR);
	EXPECT_EQ(f & (MM_FLG_WR | MM_FLG_PS), 0); /* that page: read-only, 4 KiB */
	ASSERT_NE(mm_translate(s, USER_VA + 5 * MM_PAGE_SIZE, &f), MM_NADDR);
	EXPECT_EQ(f & (MM_FLG_WR | MM_FLG_PS), MM_FLG_WR); /* its neighbour: still writable */
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, vmm, a_range_across_shards_maps_and_unmaps_whole)
{
	/* Two 1 GiB chunks, two shard locks: both are taken, and both pages go. */
	const uintptr_t boundary = (uintptr_t)0x0000300000000000ull + MM_HUGE_PAGE_SIZE;
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uint64_t before = free_frames();
	ASSERT_EQ(mm_map_range(s, boundary - MM_PAGE_SIZE, 2 * MM_PAGE_SIZE, MM_FLG_WR),
	          boundary - MM_PAGE_SIZE);
	EXPECT_NE(mm_translate(s, boundary, NULL), MM_NADDR);
	ASSERT_EQ(mm_region_protect(s, boundary - MM_PAGE_SIZE, 2 * MM_PAGE_SIZE, 0), MM_OK);
	EXPECT_EQ(mm_umap_range(s, boundary - MM_PAGE_SIZE, 2 * MM_PAGE_SIZE, 0), MM_OK);
	EXPECT_EQ(mm_translate(s, boundary - MM_PAGE_SIZE, NULL), MM_NADDR);
	EXPECT_EQ(mm_translate(s, boundary, NULL), MM_NADDR);
	EXPECT_EQ(free_frames(), before); /* pages and their tables, PDPT included */
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}
