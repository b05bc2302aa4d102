/*
 * The exact reference check (vmm_check_references): after fork, shared memory and given
 * pages, each frame has exactly its mappings' references plus its holders'; a reference
 * nobody accounts for, or one too few, is found.
 */
#include <mm/region.h>
#include <mmtest/test.h>

#include "helpers.h"
#include "user_access.h"
#include "vmm/vmm_internal.h"

#define VA ((uintptr_t)0x0000510000000000ull)
#define PAGE MM_PAGE_SIZE

TEST(references, every_reference_is_accounted_for)
{
	mm_space_t a = mm_create_space(NULL), b = mm_create_space(NULL);
	struct mm_pager *shm = mm_shm_create(2 * PAGE);
	uintptr_t given = mm_phys_alloc_page();
	ASSERT_NE((uintptr_t)a, 0);
	ASSERT_NE((uintptr_t)b, 0);
	ASSERT_NE((uintptr_t)shm, 0);
	ASSERT_NE(given, MM_NADDR);
	/* Private pages (shared copy-on-write after the fork), a shared object page mapped in
	 * both, and a page the caller gave and still holds. */
	ASSERT_EQ(mm_map_range(a, VA, 4 * PAGE, MM_FLG_WR | MM_FLG_US), VA);
	struct mm_region_spec spec = {VA + 16 * PAGE, 2 * PAGE,
	                              MM_FLG_WR | MM_REGION_SHARED | MM_REGION_FIXED, MM_SECTION_MMAP,
	                              shm, 0};
	ASSERT_EQ(mm_region_map(a, &spec), VA + 16 * PAGE);
	ASSERT_EQ(user_write64(a, VA + 16 * PAGE, 7), MM_OK);
	ASSERT_EQ(mm_map_range_pages(a, VA + 32 * PAGE, &given, 1, MM_FLG_WR), MM_OK);
	ASSERT_EQ(mm_space_fork(b, a, MM_FLG_CLONE_USER), MM_OK);
	struct mm_space *both[2] = {a, b};
	const struct vmm_held_ref mine = {given, 1};
	EXPECT_EQ(vmm_check_references(both, 2, &mine, 1), MM_OK);
	/* Leaving the child out, or the caller's own reference: the counts no longer add up. */
	EXPECT_EQ(vmm_check_references(both, 1, &mine, 1), MM_EINVAL);
	EXPECT_EQ(vmm_check_references(both, 2, NULL, 0), MM_EINVAL);
	/* A reference taken behind the checker's back is found too. */
	uintptr_t private_page = mm_translate(a, VA + PAGE, NULL);
	ASSERT_NE(private_page, MM_NADDR);
	ASSERT_EQ(mm_phys_ref(private_page), MM_OK);
	EXPECT_EQ(vmm_check_references(both, 2, &mine, 1), MM_EINVAL);
	const struct vmm_held_ref with_extra[2] = {{given, 1}, {private_page, 1}};
	EXPECT_EQ(vmm_check_references(both, 2, with_extra, 2), MM_OK);
	EXPECT_EQ(mm_phys_free_page(private_page), MM_OK);
	/* A copy-on-write break moves one reference to a fresh frame: still exact. */
	ASSERT_EQ(user_write64(b, VA + PAGE, 9), MM_OK);
	EXPECT_EQ(vmm_check_references(both, 2, &mine, 1), MM_OK);
	mm_destroy_space(b);
	mm_destroy_space(a);
	mm_pager_put(shm);
	EXPECT_EQ(mm_phys_free_page(given), MM_OK);
}
