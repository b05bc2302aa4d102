/* Single pages: mm_map_single / mm_map_get / mm_umap_single round trips with their
 * frame references, large pages (refused by size 1, unmapped whole by size 0), the zero
 * page, regions split by a single unmap, and bad input that changes nothing. */
#include <mm/phys.h>
#include <mm/region.h>
#include <mm/vmm.h>
#include <mmtest/test.h>

#include "fixtures.h"
#include "helpers.h"
#include "user_access.h"
#include "vmm/invariants.h"

#define S_VA ((uintptr_t)0x0000700000000000ull)

TEST_F(leak_checked, single, map_get_umap_round_trip)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uintptr_t phys = mm_phys_alloc_page();
	ASSERT_NE(phys, MM_NADDR);
	EXPECT_EQ(mm_map_single(s, S_VA, phys, MM_PAGE_USER | MM_PAGE_WRITE), MM_OK);
	uint64_t flags = 0;
	EXPECT_EQ(mm_map_get(s, S_VA, &flags), phys);
	EXPECT_EQ(flags, MM_PAGE_USER | MM_PAGE_WRITE);
	EXPECT_EQ(mm_map_get(s, S_VA + 123, NULL), phys); /* the page, not the byte */
	EXPECT_EQ(user_write64(s, S_VA + 8, 77), MM_OK);
	/* The caller lets its own reference go: the mapping holds the page alone. */
	EXPECT_EQ(mm_phys_free_page(phys), MM_OK);
	EXPECT_EQ(mm_umap_single(s, S_VA, 1), phys);
	EXPECT_EQ(mm_map_get(s, S_VA, &flags), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_ENOENT);
	EXPECT_EQ(*(uint64_t *)MM_VIRTUALIZE(phys + 8), 77); /* handed over, not freed */
	/* The mapping's reference is the caller's now: one free works, a second does not. */
	EXPECT_EQ(mm_phys_free_page(phys), MM_OK);
	EXPECT_EQ(mm_phys_free_page(phys), MM_ENOTALLOC);
	EXPECT_EQ(mm_umap_single(s, S_VA, 0), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_ENOENT);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, single, references_when_the_caller_keeps_its_own)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uintptr_t phys = mm_phys_alloc_page();
	ASSERT_NE(phys, MM_NADDR);
	/* The same frame at two addresses, executable at one: three references. */
	EXPECT_EQ(mm_map_single(s, S_VA, phys, MM_PAGE_USER | MM_PAGE_EXEC), MM_OK);
	EXPECT_EQ(mm_map_single(s, S_VA + MM_PAGE_SIZE, phys, MM_PAGE_USER), MM_OK);
	uint64_t flags;
	EXPECT_EQ(mm_map_get(s, S_VA, &flags), phys);
	EXPECT_EQ(flags, MM_PAGE_USER | MM_PAGE_EXEC);
	EXPECT_EQ(mm_map_get(s, S_VA + MM_PAGE_SIZE, &flags), phys);
	EXPECT_EQ(flags, MM_PAGE_USER);
	EXPECT_EQ(mm_umap_single(s, S_VA + MM_PAGE_SIZE + 5, 1), phys);
	EXPECT_EQ(mm_phys_free_page(phys), MM_OK);  /* what umap handed over */
	EXPECT_EQ(mm_map_get(s, S_VA, NULL), phys); /* the other mapping is untouched */
	EXPECT_EQ(mm_umap_single(s, S_VA, 0), phys);
	EXPECT_EQ(mm_phys_free_page(phys), MM_OK);
	EXPECT_EQ(mm_phys_free_page(phys), MM_OK); /* the allocation's own */
	EXPECT_EQ(mm_phys_free_page(phys), MM_ENOTALLOC);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, single, rejects_bad_input)
{
	mm_space_t s = mm_create_space(NULL);
	ASSERT_NE((uintptr_t)s, 0);
	uintptr_t phys = mm_phys_alloc_page();
	ASSERT_NE(phys, MM_NADDR);
	ASSERT_EQ(mm_map_single(s, S_VA, phys, MM_PAGE_WRITE), MM_OK);
	uint64_t before = free_frames(), objects = heap_objects();
	EXPECT_EQ(mm_map_single(NULL, S_VA + MM_PAGE_SIZE, phys, 0), MM_EINVAL);
	EXPECT_EQ(mm_map_single(s, S_VA + MM_PAGE_SIZE + 8, phys, 0), MM_EINVAL); /* unaligned virt */
	EXPECT_EQ(mm_map_single(s, S_VA + MM_PAGE_SIZE, phys + 8, 0), MM_EINVAL); /* unaligned phys */
	EXPECT_EQ(mm_map_single(s, S_VA + MM_PAGE_SIZE, phys, MM_FLG_PS), MM_EINVAL);
	EXPECT_EQ(mm_map_single(s, S_VA + MM_PAGE_SIZE, phys, 1ull << 40), MM_EINVAL);
	EXPECT_EQ(mm_map_single(s, S_VA, phys, 0), MM_EEXIST);
	EXPECT_EQ(mm_map_single(s, MM_KERNEL_MAP_BASE, phys, MM_PAGE_USER), MM_EPERM);
	EXPECT_EQ(mm_map_single(s, MM_DIRECT_MAP_BASE, phys, 0), MM_EPERM);
	EXPECT_EQ(mm_map_single(s, 0, phys, MM_PAGE_USER), MM_EPERM); /* page 0 */

	EXPECT_EQ(mm_map_get(NULL, S_VA, NULL), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(mm_map_get(s, 0x0000900000000000ull, NULL), MM_NADDR); /* not canonical */
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(mm_map_get(s, S_VA + MM_PAGE_SIZE, NULL), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_ENOENT);

	EXPECT_EQ(mm_umap_single(NULL, S_VA, 0), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(mm_umap_single(s, S_VA, 2), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(mm_umap_single(s, 0x0000900000000000ull, 0), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(mm_umap_single(s, MM_DIRECT_MAP_BASE, 0), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EPERM);
	EXPECT_EQ(mm_umap_single(s, UINTPTR_MAX, 0), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EPERM);
	EXPECT_EQ(mm_umap_single(s, 0, 0), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EPERM);
	EXPECT_EQ(mm_umap_single(s, S_VA + MM_PAGE_SIZE, 0), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_ENOENT);
	EXPECT_EQ(mm_map_get(s, S_VA, NULL), phys); /* still there */
	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(heap_objects(), objects);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
	mm_destroy_space(s);
	EXPECT_EQ(mm_phys_free_page(phys), MM_OK);
}

TEST_F(leak_checked, single, large_pages_by_size)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uintptr_t page = mm_alloc_physical_page(MM_FLG_PS);
	ASSERT_NE(page, MM_NADDR);
	uintptr_t va = S_VA + MM_LARGE_PAGE_SIZE;
	ASSERT_EQ(mm_map_range_pages(s, va, &page, 1, MM_FLG_PS | MM_FLG_WR | MM_FLG_US), MM_OK);
	uint64_t flags;
	EXPECT_EQ(mm_map_get(s, va + 5 * MM_PAGE_SIZE + 3, &flags), page); /* the large page's head */
	EXPECT_EQ(flags, MM_PAGE_USER | MM_PAGE_WRITE | MM_FLG_PS);
	/* Size 1 wants a 4 KiB page: refused, nothing changed. */
	EXPECT_EQ(mm_umap_single(s, va + 5 * MM_PAGE_SIZE, 1), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_ESIZE);
	EXPECT_EQ(mm_translate(s, va + 5 * MM_PAGE_SIZE, NULL), page + 5 * MM_PAGE_SIZE);
	/* Size 0: the whole page goes, its head comes back with the mapping's reference. */
	EXPECT_EQ(mm_umap_single(s, va + 5 * MM_PAGE_SIZE, 0), page);
	EXPECT_EQ(mm_translate(s, va, NULL), MM_NADDR);
	EXPECT_EQ(mm_translate(s, va + MM_LARGE_PAGE_SIZE - 1, NULL), MM_NADDR);
	struct mm_region_info info;
	EXPECT_EQ(mm_region_query(s, va, &info), MM_ENOENT);
	EXPECT_EQ(mm_free_physical_page(page, MM_FLG_PS), MM_OK);
	EXPECT_EQ(mm_free_physical_page(page, MM_FLG_PS), MM_OK);
	EXPECT_EQ(mm_free_physical_page(page, MM_FLG_PS), MM_ENOTALLOC);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, single, umap_in_a_region_splits_it)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_EQ(mm_map_range(s, S_VA, 3 * MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US), S_VA);
	EXPECT_EQ(user_write64(s, S_VA + MM_PAGE_SIZE, 0xC0FFEE), MM_OK);
	uintptr_t middle = mm_map_get(s, S_VA + MM_PAGE_SIZE, NULL);
	EXPECT_EQ(mm_umap_single(s, S_VA + MM_PAGE_SIZE, 1), middle);
	EXPECT_EQ(*(uint64_t *)MM_VIRTUALIZE(middle), 0xC0FFEE);
	struct mm_region_info a, b;
	ASSERT_EQ(mm_region_query(s, S_VA, &a), MM_OK);
	ASSERT_EQ(mm_region_query(s, S_VA + 2 * MM_PAGE_SIZE, &b), MM_OK);
	EXPECT_EQ(a.end, S_VA + MM_PAGE_SIZE);
	EXPECT_EQ(b.start, S_VA + 2 * MM_PAGE_SIZE);
	EXPECT_EQ(mm_region_query(s, S_VA + MM_PAGE_SIZE, &a), MM_ENOENT);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
	EXPECT_EQ(mm_phys_free_page(middle), MM_OK);
	EXPECT_EQ(mm_phys_free_page(middle), MM_ENOTALLOC);
}

TEST_F(leak_checked, single, umap_of_the_zero_page_gives_a_frame_of_its_own)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	struct mm_region_spec spec = {
	    S_VA, 2 * MM_PAGE_SIZE, MM_FLG_WR | MM_REGION_FIXED, MM_SECTION_DATA, NULL, 0};
	ASSERT_EQ(mm_region_map(s, &spec), S_VA);
	int error;
	EXPECT_EQ(user_read64(s, S_VA, &error), 0);
	EXPECT_EQ(user_read64(s, S_VA + MM_PAGE_SIZE, &error), 0);
	uintptr_t zero = mm_map_get(s, S_VA, NULL);
	ASSERT_NE(zero, MM_NADDR);
	uintptr_t page = mm_umap_single(s, S_VA, 1);
	ASSERT_NE(page, MM_NADDR);
	EXPECT_NE(page, zero);
	const uint64_t *words = MM_VIRTUALIZE(page);
	for (unsigned i = 0; i < MM_PAGE_SIZE / 8; i++)
		if (words[i] != 0)
			EXPECT_EQ(words[i], 0);
	EXPECT_EQ(mm_phys_free_page(page), MM_OK);
	EXPECT_EQ(mm_phys_free_page(page), MM_ENOTALLOC);
	/* The zero page is still everyone's, still zero. */
	EXPECT_EQ(mm_map_get(s, S_VA + MM_PAGE_SIZE, NULL), zero);
	EXPECT_EQ(user_read64(s, S_VA + MM_PAGE_SIZE, &error), 0);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, single, kernel_pages)
{
	mm_space_t k = mm_kernel_space();
	uintptr_t phys = mm_phys_alloc_page();
	ASSERT_NE(phys, MM_NADDR);
	uintptr_t va = vmfind(k, MM_KERNEL_MAP_BASE, MM_KERNEL_MAP_END, 1);
	ASSERT_NE(va, MM_NADDR);
	EXPECT_EQ(mm_map_single(k, va, phys, MM_PAGE_WRITE), MM_OK);
	uint64_t flags;
	EXPECT_EQ(mm_map_get(k, va, &flags), phys);
	EXPECT_EQ(flags, MM_PAGE_WRITE);
	/* Any space sees the kernel half. */
	mm_space_t s = mm_create_space(NULL);
	ASSERT_NE((uintptr_t)s, 0);
	EXPECT_EQ(mm_map_get(s, va, NULL), phys);
	EXPECT_EQ(mm_umap_single(s, va, 1), phys);
	EXPECT_EQ(mm_map_get(k, va, NULL), MM_NADDR);
	mm_destroy_space(s);
	EXPECT_EQ(mm_phys_free_page(phys), MM_OK);
	EXPECT_EQ(mm_phys_free_page(phys), MM_OK);
}
