/* Fork and clone: copy-on-write on both sides, chains of forks, shared regions staying
 * shared, reference counts, nothing leaked, and failures that leave the child empty. */
#include <mm/region.h>
#include <mmtest/test.h>

#include "fixtures.h"
#include "helpers.h"
#include "user_access.h"
#include "vmm/invariants.h"

#define F_VA ((uintptr_t)0x0000500000000000ull)
#define F_PAGES 16

static mm_space_t space_with_data(uint64_t tag)
{
	mm_space_t s = mm_create_space(NULL);
	if (!s)
		return NULL;
	struct mm_region_spec spec = {
	    F_VA, F_PAGES * MM_PAGE_SIZE, MM_FLG_WR | MM_REGION_FIXED, MM_SECTION_DATA, NULL, 0};
	if (mm_region_map(s, &spec) != F_VA)
		return NULL;
	for (int i = 0; i < F_PAGES; i++)
		user_write64(s, F_VA + (uintptr_t)i * MM_PAGE_SIZE, tag + (uint64_t)i);
	return s;
}

static bool holds(mm_space_t s, uint64_t tag)
{
	for (int i = 0; i < F_PAGES; i++) {
		int error;
		if (user_read64(s, F_VA + (uintptr_t)i * MM_PAGE_SIZE, &error) != tag + (uint64_t)i)
			return false;
	}
	return true;
}

static void rewrite(mm_space_t s, uint64_t tag)
{
	for (int i = 0; i < F_PAGES; i++)
		user_write64(s, F_VA + (uintptr_t)i * MM_PAGE_SIZE, tag + (uint64_t)i);
}

TEST_F(leak_checked, fork, copy_on_write_both_ways)
{
	mm_space_t parent = space_with_data(100);
	ASSERT_NE((uintptr_t)parent, 0);
	mm_space_t child = test_space(t);
	ASSERT_NE((uintptr_t)child, 0);
	uint64_t before_fork = free_frames();
	ASSERT_EQ(mm_space_fork(child, parent, MM_FLG_CLONE_USER), MM_OK);
	/* Only page tables were made: the frames are shared. */
	EXPECT_LE(before_fork - free_frames(), 4);
	EXPECT_EQ(mm_translate(child, F_VA, NULL), mm_translate(parent, F_VA, NULL));
	uint32_t flags;
	mm_translate(parent, F_VA, &flags);
	EXPECT_EQ(flags & MM_FLG_WR, 0); /* the parent's pages turned read-only too */
	EXPECT_TRUE(holds(child, 100));
	rewrite(child, 200);
	EXPECT_TRUE(holds(child, 200));
	EXPECT_TRUE(holds(parent, 100));
	EXPECT_NE(mm_translate(child, F_VA, NULL), mm_translate(parent, F_VA, NULL));
	/* The parent is now the only holder of its frames: its write reuses them. */
	uintptr_t frame = mm_translate(parent, F_VA, NULL);
	rewrite(parent, 300);
	EXPECT_EQ(mm_translate(parent, F_VA, NULL), frame);
	EXPECT_TRUE(holds(parent, 300));
	EXPECT_TRUE(holds(child, 200));
	EXPECT_EQ(vmm_check_space(parent), MM_OK);
	EXPECT_EQ(vmm_check_space(child), MM_OK);
	mm_destroy_space(parent);
}

TEST_F(leak_checked, fork, chains_keep_every_generation_apart)
{
	enum { DEPTH = 5 };
	mm_space_t gen[DEPTH];
	gen[0] = space_with_data(1000);
	ASSERT_NE((uintptr_t)gen[0], 0);
	for (int g = 1; g < DEPTH; g++) {
		gen[g] = mm_create_space(NULL);
		ASSERT_NE((uintptr_t)gen[g], 0);
		ASSERT_EQ(mm_space_fork(gen[g], gen[g - 1], MM_FLG_CLONE_USER), MM_OK);
		/* Both sides write at each level. */
		rewrite(gen[g], 1000 * (uint64_t)(g + 1));
		rewrite(gen[g - 1], 1000 * (uint64_t)(g + 1) + 500);
	}
	for (int g = 0; g < DEPTH - 1; g++)
		EXPECT_TRUE(holds(gen[g], 1000 * (uint64_t)(g + 2) + 500));
	EXPECT_TRUE(holds(gen[DEPTH - 1], 1000 * (uint64_t)DEPTH));
	for (int g = 0; g < DEPTH; g++)
		EXPECT_EQ(vmm_check_space(gen[g]), MM_OK);
	/* Destroyed out of order: references keep what others still map. */
	mm_destroy_space(gen[1]);
	EXPECT_TRUE(holds(gen[2], 4500));
	mm_destroy_space(gen[0]);
	mm_destroy_space(gen[3]);
	EXPECT_TRUE(holds(gen[4], 5000));
	mm_destroy_space(gen[4]);
	mm_destroy_space(gen[2]);
}

TEST_F(leak_checked, fork, untouched_pages_stay_shared_until_written)
{
	mm_space_t parent = space_with_data(7);
	ASSERT_NE((uintptr_t)parent, 0);
	mm_space_t child = test_space(t);
	ASSERT_NE((uintptr_t)child, 0);
	ASSERT_EQ(mm_space_fork(child, parent, MM_FLG_CLONE_USER), MM_OK);
	uint64_t shared = free_frames();
	EXPECT_EQ(user_write64(child, F_VA, 1), MM_OK);
	/* The leaf table the fork shared is copied for the child, and one page: the other
	 * fifteen pages are still shared. */
	EXPECT_EQ(shared - free_frames(), 2);
	for (int i = 1; i < F_PAGES; i++)
		EXPECT_EQ(mm_translate(child, F_VA + (uintptr_t)i * MM_PAGE_SIZE, NULL),
		          mm_translate(parent, F_VA + (uintptr_t)i * MM_PAGE_SIZE, NULL));
	mm_destroy_space(parent);
}

TEST_F(leak_checked, fork, shared_and_device_regions_stay_shared)
{
	mm_space_t parent = test_space(t), child = test_space(t);
	ASSERT_NE((uintptr_t)parent, 0);
	ASSERT_NE((uintptr_t)child, 0);
	struct mm_pager *shm = mm_shm_create(MM_PAGE_SIZE);
	ASSERT_NE((uintptr_t)shm, 0);
	struct mm_region_spec spec = {
	    F_VA, MM_PAGE_SIZE, MM_FLG_WR | MM_REGION_SHARED | MM_REGION_FIXED, MM_SECTION_MMAP, shm,
	    0};
	ASSERT_EQ(mm_region_map(parent, &spec), F_VA);
	mm_pager_put(shm);
	EXPECT_EQ(user_write64(parent, F_VA, 1), MM_OK);
	uintptr_t device = (uintptr_t)1 << 46;
	ASSERT_EQ(mm_map_range_pages(parent, MM_HW_BASE, &device, 1, MM_FLG_WR | MM_FLG_DMA), MM_OK);
	ASSERT_EQ(mm_space_fork(child, parent, MM_FLG_CLONE_USER | MM_FLG_CLONE_HW), MM_OK);
	EXPECT_EQ(user_write64(child, F_VA, 2), MM_OK);
	int error;
	EXPECT_EQ(user_read64(parent, F_VA, &error), 2); /* shared: the parent sees it */
	uint32_t flags;
	EXPECT_EQ(mm_translate(child, MM_HW_BASE, &flags), device);
	EXPECT_EQ(flags, MM_FLG_WR | MM_FLG_DMA);
	EXPECT_EQ(vmm_check_space(child), MM_OK);
}

TEST_F(leak_checked, fork, clone_shares_frames_without_copy_on_write)
{
	mm_space_t src = space_with_data(40);
	ASSERT_NE((uintptr_t)src, 0);
	mm_space_t dst = test_space(t);
	ASSERT_NE((uintptr_t)dst, 0);
	ASSERT_EQ(mm_space_clone(dst, src, MM_FLG_CLONE_USER | MM_FLG_CLONE_KERNEL), MM_OK);
	EXPECT_EQ(user_write64(dst, F_VA, 99), MM_OK);
	int error;
	EXPECT_EQ(user_read64(src, F_VA, &error), 99);
	EXPECT_EQ(mm_translate(dst, F_VA, NULL), mm_translate(src, F_VA, NULL));
	mm_destroy_space(src);
	EXPECT_EQ(user_read64(dst, F_VA, &error), 99); /* the clone's reference keeps the frame */
}

TEST_F(leak_checked, fork, rejects_bad_input)
{
	mm_space_t a = space_with_data(1), b = mm_create_space(NULL);
	ASSERT_NE((uintptr_t)a, 0);
	ASSERT_NE((uintptr_t)b, 0);
	EXPECT_EQ(mm_space_fork(NULL, a, MM_FLG_CLONE_USER), MM_EINVAL);
	EXPECT_EQ(mm_space_fork(b, NULL, MM_FLG_CLONE_USER), MM_EINVAL);
	EXPECT_EQ(mm_space_fork(a, a, MM_FLG_CLONE_USER), MM_EINVAL);
	EXPECT_EQ(mm_space_fork(b, a, MM_FLG_WR), MM_EINVAL);
	EXPECT_EQ(mm_space_fork(b, mm_kernel_space(), MM_FLG_CLONE_USER), MM_EINVAL);
	EXPECT_EQ(mm_space_clone(b, a, 1u << 20), MM_EINVAL);
	ASSERT_EQ(mm_space_fork(b, a, MM_FLG_CLONE_USER), MM_OK);
	EXPECT_EQ(mm_space_fork(b, a, MM_FLG_CLONE_USER), MM_EEXIST); /* b is not empty */
	EXPECT_EQ(vmm_check_space(b), MM_OK);
	mm_destroy_space(b);
	mm_destroy_space(a);
}

TEST_F(leak_checked, fork, out_of_memory_leaves_the_child_empty)
{
	mm_space_t parent = test_owns_space(t, space_with_data(5));
	ASSERT_NE((uintptr_t)parent, 0);
	for (long budget = 0; budget < 4; budget++) {
		mm_space_t child = mm_create_space(NULL);
		ASSERT_NE((uintptr_t)child, 0);
		uint64_t before = free_frames();
		mm_phys_fail_after(budget);
		int error = mm_space_fork(child, parent, MM_FLG_CLONE_USER);
		mm_phys_fail_after(-1);
		if (error == MM_OK) {
			mm_destroy_space(child);
			continue;
		}
		EXPECT_EQ(error, MM_ENOMEM);
		EXPECT_EQ(free_frames(), before);
		struct mm_region_info info;
		EXPECT_EQ(mm_region_query(child, F_VA, &info), MM_ENOENT);
		EXPECT_EQ(vmm_check_space(child), MM_OK);
		mm_destroy_space(child);
	}
	EXPECT_TRUE(holds(parent, 5)); /* the parent is whole */
	EXPECT_EQ(vmm_check_space(parent), MM_OK);
}

TEST_F(leak_checked, fork, making_shared_read_only_pages_writable_keeps_them_apart)
{
	/* A fuzzer found that protect made a read-only page writable in place: a page a fork
	 * shares, or the zero page, was then written for everyone. */
	mm_space_t parent = test_space(t), child = test_space(t);
	ASSERT_NE((uintptr_t)parent, 0);
	ASSERT_NE((uintptr_t)child, 0);
	struct mm_region_spec spec = {
	    F_VA, 2 * MM_PAGE_SIZE, MM_REGION_FIXED | MM_REGION_POPULATE, MM_SECTION_DATA, NULL, 0};
	ASSERT_EQ(mm_region_map(parent, &spec), F_VA);
	int error;
	EXPECT_EQ(user_read64(parent, F_VA + MM_PAGE_SIZE, &error), 0);
	ASSERT_EQ(mm_space_fork(child, parent, MM_FLG_CLONE_USER), MM_OK);
	ASSERT_EQ(mm_region_protect(child, F_VA, 2 * MM_PAGE_SIZE, MM_FLG_WR), MM_OK);
	EXPECT_EQ(user_write64(child, F_VA, 9), MM_OK);
	EXPECT_EQ(user_read64(parent, F_VA, &error), 0); /* the parent's page is untouched */
	EXPECT_EQ(vmm_check_space(child), MM_OK);
}
