/* Virtual ranges: vmfind finds the lowest fit around existing regions, vmalloc maps
 * it (zeroed, with the flags asked for) or leaves nothing behind, vmfree gives everything
 * back; bad input of every kind. */
#include <mm/phys.h>
#include <mm/region.h>
#include <mm/vmm.h>
#include <mmtest/test.h>

#include "fixtures.h"
#include "helpers.h"
#include "user_access.h"
#include "vmm/invariants.h"

#define V_VA ((uintptr_t)0x0000200000000000ull)
#define V_END (V_VA + MM_HUGE_PAGE_SIZE)

TEST_F(leak_checked, vrange, vmfind_finds_the_lowest_fit)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	EXPECT_EQ(vmfind(s, V_VA, V_END, 1), V_VA);
	EXPECT_EQ(vmfind(s, V_VA, V_END, MM_HUGE_PAGE_SIZE / MM_PAGE_SIZE),
	          V_VA);                                       /* the whole window */
	EXPECT_EQ(vmfind(s, 0, MM_USER_END, 4), MM_USER_BASE); /* page 0 is never handed out */
	/* Regions at pages [0, 2), [3, 4) and [6, 10): holes of 1, 2 and then the rest. */
	ASSERT_EQ(mm_map_range(s, V_VA, 2 * MM_PAGE_SIZE, MM_FLG_WR), V_VA);
	struct mm_region_spec spec = {
	    V_VA + 3 * MM_PAGE_SIZE, MM_PAGE_SIZE, MM_FLG_WR | MM_REGION_FIXED,
	    MM_SECTION_DATA,         NULL,         0};
	ASSERT_EQ(mm_region_map(s, &spec), V_VA + 3 * MM_PAGE_SIZE);
	ASSERT_NE(mm_stack_create(s, V_VA + 10 * MM_PAGE_SIZE, 3 * MM_PAGE_SIZE),
	          MM_NADDR); /* guard at 6 */
	EXPECT_EQ(vmfind(s, V_VA, V_END, 1), V_VA + 2 * MM_PAGE_SIZE);
	EXPECT_EQ(vmfind(s, V_VA, V_END, 2), V_VA + 4 * MM_PAGE_SIZE);
	EXPECT_EQ(vmfind(s, V_VA, V_END, 3), V_VA + 10 * MM_PAGE_SIZE);
	EXPECT_EQ(vmfind(s, V_VA + 5 * MM_PAGE_SIZE, V_END, 1), V_VA + 5 * MM_PAGE_SIZE);
	/* A window that is all taken, or too small. */
	EXPECT_EQ(vmfind(s, V_VA, V_VA + 2 * MM_PAGE_SIZE, 1), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_ENOMEM);
	EXPECT_EQ(vmfind(s, V_VA + 4 * MM_PAGE_SIZE, V_VA + 6 * MM_PAGE_SIZE, 3), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_ENOMEM);
	/* vmfind changes nothing: asked twice, the same answer. */
	EXPECT_EQ(vmfind(s, V_VA, V_END, 1), V_VA + 2 * MM_PAGE_SIZE);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, vrange, rejects_bad_input)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uint64_t before = free_frames(), objects = heap_objects();
	EXPECT_EQ(vmfind(NULL, V_VA, V_END, 1), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(vmfind(s, V_VA, V_END, 0), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(vmfind(s, V_END, V_VA, 1), MM_NADDR); /* from >= to */
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(vmfind(s, V_VA, V_VA, 1), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(vmfind(s, V_VA + 8, V_END, 1), MM_NADDR); /* unaligned */
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(vmfind(s, V_VA, V_END - 8, 1), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(vmfind(s, V_VA, V_END, SIZE_MAX), MM_NADDR); /* the size overflows */
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(vmfind(s, V_VA, V_END, (SIZE_MAX >> MM_PAGE_SHIFT) + 1), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(vmfind(s, V_VA, MM_KERNEL_MAP_BASE + MM_PAGE_SIZE, 1), MM_NADDR); /* two halves */
	EXPECT_EQ(mm_last_error(), MM_EPERM);
	EXPECT_EQ(vmfind(s, MM_DIRECT_MAP_BASE, MM_DIRECT_MAP_END, 1), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EPERM);

	EXPECT_EQ(vmalloc(NULL, V_VA, V_END, 1, MM_PAGE_WRITE), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(vmalloc(s, V_VA, V_END, 1, MM_FLG_PS), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(vmalloc(s, V_VA, V_END, 1, 1ull << 40), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(vmalloc(s, V_VA, V_END, 0, MM_PAGE_WRITE), MM_NADDR);
	EXPECT_EQ(vmalloc(s, V_VA + 1, V_END, 1, MM_PAGE_WRITE), MM_NADDR);
	EXPECT_EQ(vmalloc(s, MM_HW_BASE, MM_HW_END, 1, MM_PAGE_WRITE),
	          MM_NADDR); /* no fresh frames in the hardware window */
	EXPECT_EQ(mm_last_error(), MM_EPERM);
	EXPECT_EQ(vmalloc(s, MM_KERNEL_MAP_BASE, MM_KERNEL_MAP_END, 1, MM_PAGE_USER), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EPERM);

	EXPECT_EQ(vmfree(NULL, V_VA, 1), MM_EINVAL);
	EXPECT_EQ(vmfree(s, V_VA + 8, 1), MM_EINVAL);
	EXPECT_EQ(vmfree(s, V_VA, 0), MM_EINVAL);
	EXPECT_EQ(vmfree(s, V_VA, SIZE_MAX), MM_EINVAL);
	EXPECT_EQ(vmfree(s, UINTPTR_MAX & ~(MM_PAGE_SIZE - 1), 2), MM_EINVAL); /* wraps */
	EXPECT_EQ(vmfree(s, MM_DIRECT_MAP_BASE, 1), MM_EPERM);
	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(heap_objects(), objects);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, vrange, vmalloc_maps_and_vmfree_gives_back)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_EQ(mm_map_range(s, V_VA, MM_PAGE_SIZE, MM_FLG_WR), V_VA);
	uintptr_t a = vmalloc(s, V_VA, V_END, 4, MM_PAGE_USER | MM_PAGE_WRITE);
	EXPECT_EQ(a, V_VA + MM_PAGE_SIZE);
	uintptr_t b = vmalloc(s, V_VA, V_END, 2, MM_PAGE_USER);
	EXPECT_EQ(b, V_VA + 5 * MM_PAGE_SIZE);
	/* Mapped now, zeroed, with the permissions asked for. */
	for (int i = 0; i < 4; i++) {
		uint32_t flags;
		EXPECT_NE(mm_translate(s, a + (uintptr_t)i * MM_PAGE_SIZE, &flags), MM_NADDR);
		EXPECT_EQ(flags, MM_FLG_US | MM_FLG_WR);
	}
	int error;
	EXPECT_EQ(user_read64(s, a + 3 * MM_PAGE_SIZE + 8, &error), 0);
	EXPECT_EQ(user_write64(s, a + 3 * MM_PAGE_SIZE + 8, 5), MM_OK);
	EXPECT_EQ(user_write64(s, b, 5), MM_EPERM); /* read-only */
	EXPECT_EQ(user_read64(s, b, &error), 0);
	struct mm_region_info info;
	ASSERT_EQ(mm_region_query(s, a, &info), MM_OK);
	EXPECT_EQ(info.resident_pages, 4);
	/* Freed: the hole is found again, the frames are back. */
	uint64_t mapped = free_frames();
	EXPECT_EQ(vmfree(s, a, 4), MM_OK);
	EXPECT_EQ(free_frames() - mapped, 4);
	EXPECT_EQ(mm_translate(s, a, NULL), MM_NADDR);
	EXPECT_EQ(vmfind(s, V_VA, V_END, 4), a);
	EXPECT_EQ(vmfree(s, b, 2), MM_OK);
	EXPECT_EQ(vmfree(s, b, 2), MM_OK); /* nothing there any more: holes are fine */
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, vrange, vmalloc_failure_leaves_nothing_behind)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	/* The tables exist already, so the only allocations left are the frames. */
	ASSERT_EQ(mm_map_range(s, V_VA, MM_PAGE_SIZE, MM_FLG_WR), V_VA);
	uint64_t before = free_frames(), objects = heap_objects();
	mm_phys_fail_after(3);
	EXPECT_EQ(vmalloc(s, V_VA, V_END, 8, MM_PAGE_WRITE), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_ENOMEM);
	mm_phys_fail_after(-1);
	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(heap_objects(), objects);
	EXPECT_EQ(vmfind(s, V_VA, V_END, 8), V_VA + MM_PAGE_SIZE);
	struct mm_region_info info;
	EXPECT_EQ(mm_region_query(s, V_VA + MM_PAGE_SIZE, &info), MM_ENOENT);
	/* A window with no room. */
	EXPECT_EQ(vmalloc(s, V_VA, V_VA + 4 * MM_PAGE_SIZE, 4, MM_PAGE_WRITE), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_ENOMEM);
	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(heap_objects(), objects);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, vrange, kernel_ranges)
{
	mm_space_t k = mm_kernel_space();
	uintptr_t va = vmalloc(k, MM_KERNEL_MAP_BASE, MM_KERNEL_MAP_END, 3, MM_PAGE_WRITE);
	ASSERT_NE(va, MM_NADDR);
	EXPECT_EQ(vmfind(k, va, va + 3 * MM_PAGE_SIZE, 1), MM_NADDR); /* taken */
	/* Seen from every space: the kernel half is shared. */
	mm_space_t s = mm_create_space(NULL);
	ASSERT_NE((uintptr_t)s, 0);
	uint32_t flags;
	EXPECT_EQ(mm_translate(s, va + 2 * MM_PAGE_SIZE, &flags),
	          mm_translate(k, va + 2 * MM_PAGE_SIZE, NULL));
	EXPECT_EQ(flags, MM_FLG_WR);
	mm_destroy_space(s);
	EXPECT_EQ(vmfree(k, va, 3), MM_OK);
	EXPECT_EQ(vmfind(k, va, va + 3 * MM_PAGE_SIZE, 3), va);
}
