/*
 * Hostile input: every refusal leaves everything as it was (page tables, regions, frame and
 * heap counts), and no call takes away what another call made. Each test is a defect that
 * once got through: a region unmap that removed its neighbour, refused unmaps and permission
 * changes that still split a large page, user mappings in the kernel space, an object
 * offset that wrapped, writable + executable mappings, and empty fork requests.
 */
#include <mm/region.h>
#include <mmtest/test.h>

#include "fixtures.h"
#include "helpers.h"
#include "user_access.h"
#include "vmm/invariants.h"

#define VA ((uintptr_t)0x0000500000000000ull) /* 1 GiB aligned */
#define PAGE MM_PAGE_SIZE
#define LARGE MM_LARGE_PAGE_SIZE

/* What a failed call must leave as it was. */
struct state {
	uint64_t frames, objects, space, kernel;
};

static struct state state_of(mm_space_t s)
{
	return (struct state){free_frames(), heap_objects(), s ? vmm_space_digest(s) : 0,
	                      vmm_space_digest(mm_kernel_space())};
}

#define EXPECT_UNCHANGED(before, s)                                                                \
	do {                                                                                           \
		struct state now_ = state_of(s);                                                           \
		EXPECT_EQ(now_.frames, (before).frames);                                                   \
		EXPECT_EQ(now_.objects, (before).objects);                                                 \
		EXPECT_EQ(now_.space, (before).space);                                                     \
		EXPECT_EQ(now_.kernel, (before).kernel);                                                   \
	} while (0)

static uintptr_t region_at(mm_space_t s, uintptr_t start, size_t length, uint32_t flags)
{
	struct mm_region_spec spec = {start, length, flags | MM_REGION_FIXED, MM_SECTION_MMAP, NULL, 0};
	return mm_region_map(s, &spec);
}

TEST_F(leak_checked, refusal, region_unmap_takes_only_the_callers_region)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	const uint32_t flags = MM_FLG_WR | MM_REGION_POPULATE;
	ASSERT_EQ(region_at(s, VA, 4 * PAGE, flags), VA);                   /* A */
	ASSERT_EQ(region_at(s, VA + 4 * PAGE, PAGE, flags), VA + 4 * PAGE); /* B, same properties */
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(user_write64(s, VA + (uintptr_t)i * PAGE, 0xA000u + (unsigned)i), MM_OK);
	struct mm_region_info info;
	ASSERT_EQ(mm_region_query(s, VA, &info), MM_OK);
	EXPECT_EQ(info.end, VA + 4 * PAGE); /* two calls, two regions */
	uint64_t before = free_frames();
	EXPECT_EQ(mm_region_unmap(s, VA + 4 * PAGE), MM_OK);
	EXPECT_EQ(free_frames(), before + 1); /* B's frame alone: A's tables stay */
	int error;
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(user_read64(s, VA + (uintptr_t)i * PAGE, &error), 0xA000u + (unsigned)i);
	EXPECT_EQ(mm_translate(s, VA + 4 * PAGE, NULL), MM_NADDR);
	/* The same for mm_map_range's regions, and in a fork's child, whose regions are the
	 * parent's one for one. */
	ASSERT_EQ(mm_map_range(s, VA + 4 * PAGE, PAGE, MM_FLG_WR | MM_FLG_US), VA + 4 * PAGE);
	ASSERT_EQ(mm_map_range(s, VA + 5 * PAGE, PAGE, MM_FLG_WR | MM_FLG_US), VA + 5 * PAGE);
	mm_space_t child = test_space(t);
	ASSERT_NE((uintptr_t)child, 0);
	ASSERT_EQ(mm_space_fork(child, s, MM_FLG_CLONE_USER), MM_OK);
	EXPECT_EQ(mm_region_unmap(child, VA + 5 * PAGE), MM_OK);
	EXPECT_NE(mm_translate(child, VA + 4 * PAGE, NULL), MM_NADDR);
	EXPECT_EQ(user_read64(child, VA + 3 * PAGE, &error), 0xA003u);
	EXPECT_EQ(mm_region_unmap(s, VA + 4 * PAGE), MM_OK);
	EXPECT_NE(mm_translate(s, VA + 5 * PAGE, NULL), MM_NADDR);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
	EXPECT_EQ(vmm_check_space(child), MM_OK);
}

TEST_F(leak_checked, refusal, the_heap_is_one_region_that_grows)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_EQ(mm_heap_init(s, VA), MM_OK);
	ASSERT_EQ(mm_brk(s, VA + 3 * PAGE), VA + 3 * PAGE);
	ASSERT_EQ(mm_brk(s, VA + 5 * PAGE + 100), VA + 5 * PAGE + 100);
	struct mm_region_info info;
	ASSERT_EQ(mm_region_query(s, VA, &info), MM_OK);
	EXPECT_EQ(info.start, VA);
	EXPECT_EQ(info.end, VA + 6 * PAGE); /* both growths in one region */
	/* A permission change of its top makes the next growth a region of its own. */
	ASSERT_EQ(mm_region_protect(s, VA + 5 * PAGE, PAGE, 0), MM_OK);
	ASSERT_EQ(mm_brk(s, VA + 8 * PAGE), VA + 8 * PAGE);
	ASSERT_EQ(mm_region_query(s, VA + 7 * PAGE, &info), MM_OK);
	EXPECT_EQ(info.start, VA + 6 * PAGE);
	EXPECT_EQ(info.flags & MM_FLG_WR, MM_FLG_WR);
	EXPECT_EQ(mm_region_unmap(s, VA), MM_OK);
	EXPECT_EQ(mm_region_query(s, VA + 5 * PAGE, &info), MM_OK); /* the other heap regions stay */
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

/* True when va is mapped by a writable 2 MiB leaf. */
static bool large_and_writable(mm_space_t s, uintptr_t va)
{
	uint32_t f = 0;
	return mm_translate(s, va, &f) != MM_NADDR &&
	       (f & (MM_FLG_PS | MM_FLG_WR)) == (MM_FLG_PS | MM_FLG_WR);
}

TEST_F(leak_checked, refusal, failed_protect_keeps_a_large_page_whole)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_EQ(mm_map_range(s, VA, LARGE, MM_FLG_WR | MM_FLG_US | MM_FLG_PS), VA);
	ASSERT_TRUE(large_and_writable(s, VA));
	/* The range runs past the region: refused, and the page is not split on the way. */
	struct state before = state_of(s);
	EXPECT_EQ(mm_region_protect(s, VA + PAGE, LARGE, 0), MM_ENOENT);
	EXPECT_UNCHANGED(before, s);
	/* Out of memory for the split's table: refused whole as well. */
	mm_phys_fail_after(0);
	EXPECT_EQ(mm_region_protect(s, VA + PAGE, PAGE, 0), MM_ENOMEM);
	mm_phys_fail_after(-1);
	EXPECT_UNCHANGED(before, s);
	EXPECT_TRUE(large_and_writable(s, VA + PAGE));
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, refusal, failed_unmap_keeps_large_pages_whole)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	/* An anonymous 2 MiB page, and right after it the caller's own 2 MiB page, which the
	 * caller still holds: that one cannot be split. */
	ASSERT_EQ(mm_map_range(s, VA, LARGE, MM_FLG_WR | MM_FLG_PS), VA);
	uintptr_t own = mm_alloc_physical_page(MM_FLG_PS);
	ASSERT_NE(own, MM_NADDR);
	ASSERT_EQ(mm_map_range_pages(s, VA + LARGE, &own, 1, MM_FLG_WR | MM_FLG_PS), MM_OK);
	ASSERT_TRUE(large_and_writable(s, VA));
	struct state before = state_of(s);
	/* The start cut could be made, the end cut cannot: nothing may be split. */
	EXPECT_EQ(mm_umap_range(s, VA + PAGE, LARGE, 0), MM_ESIZE);
	EXPECT_UNCHANGED(before, s);
	mm_phys_fail_after(0);
	EXPECT_EQ(mm_umap_range(s, VA + PAGE, PAGE, 0), MM_ENOMEM);
	mm_phys_fail_after(-1);
	EXPECT_UNCHANGED(before, s);
	EXPECT_TRUE(large_and_writable(s, VA + PAGE));
	EXPECT_TRUE(large_and_writable(s, VA + LARGE + PAGE));
	EXPECT_EQ(vmm_check_space(s), MM_OK);
	EXPECT_EQ(mm_umap_range(s, VA, 2 * LARGE, 0), MM_OK);
	EXPECT_EQ(mm_free_physical_page(own, MM_FLG_PS), MM_OK);
}

TEST_F(leak_checked, refusal, the_kernel_space_has_no_user_half)
{
	mm_space_t k = mm_kernel_space();
	uintptr_t frame = mm_phys_alloc_page();
	ASSERT_NE(frame, MM_NADDR);
	struct state before = state_of(NULL);
	const uintptr_t places[] = {VA, MM_USER_BASE, MM_HW_BASE};
	for (unsigned i = 0; i < sizeof places / sizeof places[0]; i++) {
		uintptr_t va = places[i];
		EXPECT_EQ(mm_map_range(k, va, PAGE, MM_FLG_WR), MM_NADDR);
		EXPECT_EQ(mm_last_error(), MM_EPERM);
		EXPECT_EQ(mm_map_range_pages(k, va, &frame, 1, MM_FLG_WR), MM_EPERM);
		EXPECT_EQ(mm_map_single(k, va, frame, MM_PAGE_WRITE), MM_EPERM);
		EXPECT_EQ(vmalloc(k, va, va + 16 * PAGE, 1, MM_PAGE_WRITE), MM_NADDR);
		EXPECT_EQ(mm_last_error(), MM_EPERM);
		EXPECT_EQ(vmfind(k, va, va + 16 * PAGE, 1), MM_NADDR);
		EXPECT_EQ(mm_last_error(), MM_EPERM);
		EXPECT_EQ(mm_umap_range(k, va, PAGE, 0), MM_EPERM);
		EXPECT_EQ(mm_umap_single(k, va, 0), MM_NADDR);
		EXPECT_EQ(mm_last_error(), MM_EPERM);
		EXPECT_EQ(mm_region_protect(k, va, PAGE, 0), MM_EPERM);
		EXPECT_EQ(mm_translate(k, va, NULL), MM_NADDR);
	}
	/* Nor does its kernel half take user access, whichever call asks. */
	struct mm_region_spec spec = {
	    0, PAGE, MM_FLG_WR | MM_FLG_US | MM_REGION_POPULATE, MM_SECTION_KERNEL, NULL, 0};
	EXPECT_EQ(mm_region_map(k, &spec), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EPERM);
	EXPECT_EQ(mm_map_range(k, MM_KERNEL_MAP_BASE, PAGE, MM_FLG_WR | MM_FLG_US), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EPERM);
	EXPECT_UNCHANGED(before, NULL);
	EXPECT_EQ(vmm_check_space(k), MM_OK);
	EXPECT_EQ(mm_phys_free_page(frame), MM_OK);
}

TEST_F(leak_checked, refusal, an_object_mapping_stays_inside_its_object)
{
	mm_space_t s = mm_create_space(NULL);
	struct mm_pager *shm = mm_shm_create(2 * PAGE);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_NE((uintptr_t)shm, 0);
	struct mm_region_spec spec = {
	    VA, 2 * PAGE, MM_FLG_WR | MM_REGION_SHARED | MM_REGION_FIXED, MM_SECTION_MMAP, shm, 0};
	struct state before = state_of(s);
	const uint64_t bad_offsets[] = {0xFFFFFFFFFFFFF000ull, PAGE, 2 * PAGE, 1ull << 63};
	for (unsigned i = 0; i < sizeof bad_offsets / sizeof bad_offsets[0]; i++) {
		spec.offset = bad_offsets[i];
		EXPECT_EQ(mm_region_map(s, &spec), MM_NADDR);
		EXPECT_EQ(mm_last_error(), MM_EINVAL);
	}
	spec.offset = 0;
	spec.length = 3 * PAGE; /* longer than the object */
	EXPECT_EQ(mm_region_map(s, &spec), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_UNCHANGED(before, s);
	/* What fits is mapped, and each page is the object's own. */
	spec.offset = PAGE;
	spec.length = PAGE;
	ASSERT_EQ(mm_region_map(s, &spec), VA);
	spec.start = VA + PAGE;
	spec.offset = 0;
	ASSERT_EQ(mm_region_map(s, &spec), VA + PAGE);
	ASSERT_EQ(user_write64(s, VA, 0x1111), MM_OK);
	int error;
	EXPECT_EQ(user_read64(s, VA + PAGE, &error), 0); /* object page 0: not what VA wrote */
	/* An object whose size is not a page multiple: its last page maps whole. */
	struct mm_pager *odd = mm_shm_create(PAGE + 1);
	ASSERT_NE((uintptr_t)odd, 0);
	struct mm_region_spec tail = {VA + 8 * PAGE,   2 * PAGE, MM_REGION_SHARED | MM_REGION_FIXED,
	                              MM_SECTION_MMAP, odd,      0};
	EXPECT_EQ(mm_region_map(s, &tail), VA + 8 * PAGE);
	tail.start = VA + 16 * PAGE;
	tail.offset = PAGE;
	EXPECT_EQ(mm_region_map(s, &tail), MM_NADDR);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
	mm_destroy_space(s);
	mm_pager_put(odd);
	mm_pager_put(shm);
}

TEST_F(leak_checked, refusal, no_mapping_is_writable_and_executable)
{
	mm_space_t s = mm_create_space(NULL);
	ASSERT_NE((uintptr_t)s, 0);
	uintptr_t frame = mm_phys_alloc_page();
	ASSERT_NE(frame, MM_NADDR);
	struct state before = state_of(s);
	const uint32_t wx = MM_FLG_WR | MM_FLG_EXEC;
	EXPECT_EQ(mm_map_range(s, VA, PAGE, wx | MM_FLG_US), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EPERM);
	EXPECT_EQ(mm_map_range_pages(s, VA, &frame, 1, wx), MM_EPERM);
	EXPECT_EQ(mm_map_single(s, VA, frame, MM_PAGE_WRITE | MM_PAGE_EXEC), MM_EPERM);
	EXPECT_EQ(vmalloc(s, VA, VA + 16 * PAGE, 1, MM_PAGE_WRITE | MM_PAGE_EXEC), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EPERM);
	EXPECT_EQ(vmalloc(mm_kernel_space(), MM_KERNEL_MAP_BASE, MM_KERNEL_MAP_END, 1,
	                  MM_PAGE_WRITE | MM_PAGE_EXEC),
	          MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EPERM);
	struct mm_region_spec spec = {VA, PAGE, wx | MM_REGION_FIXED, MM_SECTION_CODE, NULL, 0};
	EXPECT_EQ(mm_region_map(s, &spec), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EPERM);
	EXPECT_UNCHANGED(before, s);
	/* Executable or writable, one at a time, is fine. */
	EXPECT_EQ(mm_map_single(s, VA, frame, MM_PAGE_EXEC), MM_OK);
	EXPECT_EQ(mm_region_protect(s, VA, PAGE, wx), MM_EPERM);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
	mm_destroy_space(s);
	EXPECT_EQ(mm_phys_free_page(frame), MM_OK);
}

TEST_F(leak_checked, refusal, fork_and_clone_need_a_part_to_copy)
{
	mm_space_t a = test_space(t), b = test_space(t);
	ASSERT_NE((uintptr_t)a, 0);
	ASSERT_NE((uintptr_t)b, 0);
	ASSERT_EQ(mm_map_range(a, VA, PAGE, MM_FLG_WR | MM_FLG_US), VA);
	struct state before = state_of(b);
	EXPECT_EQ(mm_space_fork(b, a, 0), MM_EINVAL);
	EXPECT_EQ(mm_space_clone(b, a, 0), MM_EINVAL);
	EXPECT_EQ(mm_space_fork(b, mm_kernel_space(), MM_FLG_CLONE_USER), MM_EINVAL);
	EXPECT_EQ(mm_space_fork(mm_kernel_space(), a, MM_FLG_CLONE_USER), MM_EINVAL);
	EXPECT_EQ(mm_space_fork(a, a, MM_FLG_CLONE_USER), MM_EINVAL);
	EXPECT_UNCHANGED(before, b);
	/* The kernel half alone is a real request with nothing to do: every space shares it. */
	EXPECT_EQ(mm_space_fork(b, a, MM_FLG_CLONE_KERNEL), MM_OK);
	EXPECT_UNCHANGED(before, b);
}

TEST_F(leak_checked, refusal, a_fault_that_runs_out_of_memory_leaves_no_table)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_EQ(region_at(s, VA, PAGE, MM_FLG_WR), VA); /* reserve-only: no table yet */
	/* The page, then the PDPT, PD and PT it needs: fail each allocation in turn. */
	int failures = 0;
	for (long budget = 0; budget < 8; budget++) {
		struct state before = state_of(s);
		mm_phys_fail_after(budget);
		int error = mm_fault(s, VA, MM_FAULT_WRITE | MM_FAULT_USER);
		mm_phys_fail_after(-1);
		if (error == MM_OK)
			break;
		failures++;
		EXPECT_EQ(error, MM_ENOMEM);
		EXPECT_UNCHANGED(before, s);
	}
	EXPECT_EQ(failures, 4);
	EXPECT_NE(mm_translate(s, VA, NULL), MM_NADDR);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, refusal, a_fork_that_runs_out_of_memory_leaves_the_parent_as_it_was)
{
	mm_space_t parent = test_space(t);
	ASSERT_NE((uintptr_t)parent, 0);
	/* Two regions under different root entries, so that the child's tables for the second
	 * are allocated after the first region's pages were shared. */
	const uintptr_t far = VA + ((uintptr_t)1 << 39);
	ASSERT_EQ(mm_map_range(parent, VA, 4 * PAGE, MM_FLG_WR | MM_FLG_US), VA);
	ASSERT_EQ(mm_map_range(parent, far, 4 * PAGE, MM_FLG_WR | MM_FLG_US), far);
	int failures = 0;
	for (long budget = 0; budget < 16; budget++) {
		mm_space_t child = mm_create_space(NULL);
		ASSERT_NE((uintptr_t)child, 0);
		struct state before = state_of(parent), child_before = state_of(child);
		mm_phys_fail_after(budget);
		int error = mm_space_fork(child, parent, MM_FLG_CLONE_USER);
		mm_phys_fail_after(-1);
		if (error == MM_OK) {
			mm_destroy_space(child);
			break;
		}
		failures++;
		EXPECT_EQ(error, MM_ENOMEM);
		EXPECT_UNCHANGED(before, parent); /* still writable, not copy-on-write */
		EXPECT_EQ(vmm_space_digest(child), child_before.space); /* and the child empty */
		uint32_t f = 0;
		EXPECT_NE(mm_translate(parent, VA, &f), MM_NADDR);
		EXPECT_EQ(f & MM_FLG_WR, MM_FLG_WR);
		mm_destroy_space(child);
	}
	EXPECT_GE(failures, 3);
	EXPECT_EQ(vmm_check_space(parent), MM_OK);
}

TEST_F(leak_checked, refusal, brk_never_grows_a_region_another_call_made)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_EQ(mm_heap_init(s, VA), MM_OK);
	ASSERT_EQ(mm_brk(s, VA + 2 * PAGE), VA + 2 * PAGE);
	/* The program takes the heap's top page back and maps a region of its own there, with
	 * the heap's properties and section. */
	ASSERT_EQ(mm_umap_range(s, VA + PAGE, PAGE, 0), MM_OK);
	struct mm_region_spec spec = {VA + PAGE,       PAGE, MM_FLG_WR | MM_REGION_FIXED,
	                              MM_SECTION_HEAP, NULL, 0};
	ASSERT_EQ(mm_region_map(s, &spec), VA + PAGE);
	ASSERT_EQ(mm_brk(s, VA + 4 * PAGE), VA + 4 * PAGE);
	struct mm_region_info info;
	ASSERT_EQ(mm_region_query(s, VA + PAGE, &info), MM_OK);
	EXPECT_EQ(info.start, VA + PAGE);
	EXPECT_EQ(info.end, VA + 2 * PAGE); /* the program's region, as it made it */
	ASSERT_EQ(mm_region_query(s, VA + 3 * PAGE, &info), MM_OK);
	EXPECT_EQ(info.start, VA + 2 * PAGE);
	/* Removing the heap's growth leaves the program's region alone. */
	EXPECT_EQ(mm_region_unmap(s, VA + 3 * PAGE), MM_OK);
	EXPECT_EQ(mm_region_query(s, VA + PAGE, &info), MM_OK);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}
