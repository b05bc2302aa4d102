/*
 * The exact reference check (vmm_check_references): after fork, shared memory and given
 * pages, each frame has exactly its mappings' references plus its holders'; a reference
 * nobody accounts for, or one too few, is found.
 */
#include <mm/region.h>
#include <mmtest/test.h>

#include "fixtures.h"
#include "helpers.h"
#include "user_access.h"
#include "vmm/invariants.h"

#define VA ((uintptr_t)0x0000510000000000ull)
#define PAGE MM_PAGE_SIZE

TEST_F(leak_checked, references, every_reference_is_accounted_for)
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
	struct mm_region_spec spec = {
	    VA + 16 * PAGE,  2 * PAGE, MM_FLG_WR | MM_REGION_SHARED | MM_REGION_FIXED,
	    MM_SECTION_MMAP, shm,      0};
	ASSERT_EQ(mm_region_map(a, &spec), VA + 16 * PAGE);
	ASSERT_EQ(user_write64(a, VA + 16 * PAGE, 7), MM_OK);
	ASSERT_EQ(mm_map_range_pages(a, VA + 32 * PAGE, &given, 1, MM_FLG_WR), MM_OK);
	ASSERT_EQ(mm_space_fork(b, a, MM_FLG_CLONE_USER), MM_OK);
	struct mm_space *both[2] = {a, b};
	const struct vmm_held_ref mine = {given, 1};
	struct vmm_ref_scope scope = {both, 2, NULL, 0, &mine, 1};
	EXPECT_EQ(vmm_check_references(&scope), MM_OK);
	/* Leaving the child out, or the caller's own reference: the counts no longer add up. */
	scope.n_spaces = 1;
	EXPECT_EQ(vmm_check_references(&scope), MM_EINVAL);
	scope.n_spaces = 2;
	scope.n_held = 0;
	EXPECT_EQ(vmm_check_references(&scope), MM_EINVAL);
	scope.n_held = 1;
	/* A reference taken behind the checker's back is found too. */
	uintptr_t private_page = mm_translate(a, VA + PAGE, NULL);
	ASSERT_NE(private_page, MM_NADDR);
	ASSERT_EQ(mm_phys_ref(private_page), MM_OK);
	EXPECT_EQ(vmm_check_references(&scope), MM_EINVAL);
	const struct vmm_held_ref with_extra[2] = {{given, 1}, {private_page, 1}};
	struct vmm_ref_scope extra = {both, 2, NULL, 0, with_extra, 2};
	EXPECT_EQ(vmm_check_references(&extra), MM_OK);
	EXPECT_EQ(mm_phys_free_page(private_page), MM_OK);
	/* A copy-on-write break moves one reference to a fresh frame: still exact. */
	ASSERT_EQ(user_write64(b, VA + PAGE, 9), MM_OK);
	EXPECT_EQ(vmm_check_references(&scope), MM_OK);
	/* An object page handed out by an unmap: its cache's reference is found through the
	 * object the caller names, no region being left to lead there. */
	uintptr_t object_page = mm_translate(a, VA + 16 * PAGE, NULL);
	ASSERT_NE(object_page, MM_NADDR);
	mm_destroy_space(b);
	ASSERT_EQ(mm_umap_range(a, VA + 16 * PAGE, 2 * PAGE, MM_FLG_NOPHYS), MM_OK);
	const struct vmm_held_ref handed[2] = {{given, 1}, {object_page, 1}};
	struct mm_pager *objects[1] = {shm};
	struct vmm_ref_scope after = {both, 1, objects, 1, handed, 2};
	EXPECT_EQ(vmm_check_references(&after), MM_OK);
	after.n_pagers = 0;
	EXPECT_EQ(vmm_check_references(&after), MM_EINVAL);
	EXPECT_EQ(mm_phys_free_page(object_page), MM_OK);
	mm_destroy_space(a);
	mm_pager_put(shm);
	EXPECT_EQ(mm_phys_free_page(given), MM_OK);
}
