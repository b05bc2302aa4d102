/* Regions: placement, reserve-only memory faulted in on access, the zero page, permission
 * changes, stacks with guard pages, the brk heap, shared memory and object mappings, and
 * the free-range search against a brute-force answer. */
#include <mm/region.h>
#include <mmtest/test.h>

#include "fixtures.h"
#include "helpers.h"
#include "user_access.h"
#include "vmm/invariants.h"

#define R_VA ((uintptr_t)0x0000400000000000ull)

static uintptr_t map(mm_space_t s, uintptr_t start, size_t length, uint32_t flags)
{
	struct mm_region_spec spec = {start, length, flags, MM_SECTION_MMAP, NULL, 0};
	return mm_region_map(s, &spec);
}

TEST_F(leak_checked, region, rejects_bad_input)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uint64_t before = free_frames(), objects = heap_objects();
	struct mm_region_spec spec = {R_VA, MM_PAGE_SIZE, MM_FLG_WR, MM_SECTION_DATA, NULL, 0};
	EXPECT_EQ(mm_region_map(NULL, &spec), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(mm_region_map(s, NULL), MM_NADDR);
	struct mm_region_spec bad = spec;
	bad.length = 0;
	EXPECT_EQ(mm_region_map(s, &bad), MM_NADDR);
	bad = spec;
	bad.flags |= 1u << 30;
	EXPECT_EQ(mm_region_map(s, &bad), MM_NADDR);
	bad = spec;
	bad.flags = MM_FLG_WR | MM_FLG_EXEC; /* W^X */
	EXPECT_EQ(mm_region_map(s, &bad), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EPERM);
	bad = spec;
	bad.flags |= MM_REGION_SHARED; /* shared needs an object */
	EXPECT_EQ(mm_region_map(s, &bad), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	bad = spec;
	bad.section = MM_SECTION_COUNT;
	EXPECT_EQ(mm_region_map(s, &bad), MM_NADDR);
	bad = spec;
	bad.flags |= MM_REGION_FIXED;
	bad.start = MM_KERNEL_MAP_BASE; /* not this space's half */
	EXPECT_EQ(mm_region_map(s, &bad), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EPERM);
	bad.start = R_VA + 12; /* unaligned fixed start */
	EXPECT_EQ(mm_region_map(s, &bad), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(mm_region_unmap(s, R_VA), MM_ENOENT);
	EXPECT_EQ(mm_region_query(s, R_VA, NULL), MM_EINVAL);
	EXPECT_EQ(mm_region_protect(s, R_VA, MM_PAGE_SIZE, MM_FLG_WR), MM_ENOENT);
	EXPECT_EQ(mm_region_find_free(s, R_VA, R_VA, MM_PAGE_SIZE, MM_PAGE_SIZE), MM_NADDR);
	EXPECT_EQ(
	    mm_region_find_free(s, R_VA, R_VA + MM_LARGE_PAGE_SIZE, MM_PAGE_SIZE, 3 * MM_PAGE_SIZE),
	    MM_NADDR);
	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(heap_objects(), objects);
}

TEST_F(leak_checked, region, placed_by_size_on_4k_2m_1g_boundaries)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uintptr_t small = map(s, 0, 3 * MM_PAGE_SIZE, MM_FLG_WR);
	uintptr_t medium = map(s, 0, 3 * MM_LARGE_PAGE_SIZE, MM_FLG_WR);
	uintptr_t large = map(s, 0, MM_HUGE_PAGE_SIZE + MM_PAGE_SIZE, MM_FLG_WR);
	ASSERT_NE(small, MM_NADDR);
	ASSERT_NE(medium, MM_NADDR);
	ASSERT_NE(large, MM_NADDR);
	EXPECT_EQ(small, MM_USER_BASE); /* the lowest free address */
	EXPECT_EQ(medium & (MM_LARGE_PAGE_SIZE - 1), 0);
	EXPECT_EQ(large & (MM_HUGE_PAGE_SIZE - 1), 0);
	struct mm_region_info info;
	ASSERT_EQ(mm_region_query(s, medium + 5, &info), MM_OK);
	EXPECT_EQ(info.start, medium);
	EXPECT_EQ(info.end, medium + 3 * MM_LARGE_PAGE_SIZE);
	EXPECT_EQ(info.flags & (MM_FLG_WR | MM_FLG_US), MM_FLG_WR | MM_FLG_US);
	EXPECT_EQ(info.resident_pages, 0); /* reserve-only: nothing mapped yet */
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, region, reserve_only_memory_faults_in_on_access)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uint64_t before = free_frames();
	uintptr_t va = map(s, R_VA, 64 * MM_PAGE_SIZE, MM_FLG_WR | MM_REGION_FIXED);
	ASSERT_EQ(va, R_VA);
	EXPECT_EQ(free_frames(), before); /* reserve-only: no frame yet */
	EXPECT_EQ(mm_translate(s, va, NULL), MM_NADDR);
	EXPECT_EQ(user_write64(s, va + 8 * MM_PAGE_SIZE + 16, 0xFEEDull), MM_OK);
	/* One frame for the page, three for its tables (PDPT, PD, PT). */
	EXPECT_EQ(before - free_frames(), 4);
	int error;
	EXPECT_EQ(user_read64(s, va + 8 * MM_PAGE_SIZE + 16, &error), 0xFEEDull);
	struct mm_region_info info;
	ASSERT_EQ(mm_region_query(s, va, &info), MM_OK);
	EXPECT_EQ(info.resident_pages, 1);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, region, reads_share_the_zero_page_until_written)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uintptr_t va = map(s, R_VA, 4 * MM_PAGE_SIZE, MM_FLG_WR | MM_REGION_FIXED);
	ASSERT_EQ(va, R_VA);
	int error;
	EXPECT_EQ(user_read64(s, va, &error), 0);
	EXPECT_EQ(user_read64(s, va + MM_PAGE_SIZE, &error), 0);
	uint64_t after_reads = free_frames();
	uintptr_t z0 = mm_translate(s, va, NULL), z1 = mm_translate(s, va + MM_PAGE_SIZE, NULL);
	EXPECT_EQ(z0, z1); /* one zero page behind both */
	uint32_t flags;
	mm_translate(s, va, &flags);
	EXPECT_EQ(flags & MM_FLG_WR, 0); /* read-only until written */
	EXPECT_EQ(user_write64(s, va, 7), MM_OK);
	EXPECT_NE(mm_translate(s, va, NULL), z0);
	EXPECT_EQ(after_reads - free_frames(), 1); /* the write took a frame of its own */
	EXPECT_EQ(user_read64(s, va, &error), 7);
	EXPECT_EQ(user_read64(s, va + MM_PAGE_SIZE, &error), 0); /* the other page is untouched */
	EXPECT_EQ(*(uint64_t *)MM_VIRTUALIZE(z0), 0);            /* and the zero page still zero */
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, region, protect_splits_and_enforces)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uintptr_t va = map(s, R_VA, 8 * MM_PAGE_SIZE, MM_FLG_WR | MM_REGION_FIXED | MM_REGION_POPULATE);
	ASSERT_EQ(va, R_VA);
	EXPECT_EQ(user_write64(s, va + 3 * MM_PAGE_SIZE, 1), MM_OK);
	/* Pages 2..4 read-only: the region splits in three. */
	EXPECT_EQ(mm_region_protect(s, va + 2 * MM_PAGE_SIZE, 3 * MM_PAGE_SIZE, 0), MM_OK);
	struct mm_region_info info;
	ASSERT_EQ(mm_region_query(s, va + 3 * MM_PAGE_SIZE, &info), MM_OK);
	EXPECT_EQ(info.start, va + 2 * MM_PAGE_SIZE);
	EXPECT_EQ(info.end, va + 5 * MM_PAGE_SIZE);
	EXPECT_EQ(info.flags & MM_FLG_WR, 0);
	ASSERT_EQ(mm_region_query(s, va, &info), MM_OK);
	EXPECT_EQ(info.end, va + 2 * MM_PAGE_SIZE);
	EXPECT_EQ(user_write64(s, va + 3 * MM_PAGE_SIZE, 2), MM_EPERM);
	int error;
	EXPECT_EQ(user_read64(s, va + 3 * MM_PAGE_SIZE, &error), 1); /* reads still work */
	EXPECT_EQ(user_write64(s, va + 6 * MM_PAGE_SIZE, 3), MM_OK); /* outside: still writable */
	EXPECT_EQ(mm_region_protect(s, va, 8 * MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_EXEC), MM_EPERM);
	EXPECT_EQ(mm_region_protect(s, va + 2 * MM_PAGE_SIZE, 3 * MM_PAGE_SIZE, MM_FLG_WR), MM_OK);
	EXPECT_EQ(user_write64(s, va + 3 * MM_PAGE_SIZE, 2), MM_OK);
	EXPECT_EQ(mm_region_protect(s, va, 16 * MM_PAGE_SIZE, 0), MM_ENOENT); /* past the region */
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, region, stack_has_a_guard_page)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uintptr_t end = R_VA + 64 * MM_PAGE_SIZE;
	uintptr_t base = mm_stack_create(s, end, 16 * MM_PAGE_SIZE);
	ASSERT_EQ(base, end - 16 * MM_PAGE_SIZE);
	EXPECT_EQ(user_write64(s, end - 8, 42), MM_OK);      /* the top of the stack */
	EXPECT_EQ(user_write64(s, base, 43), MM_OK);         /* its lowest page */
	EXPECT_EQ(user_write64(s, base - 8, 44), MM_EFAULT); /* the guard page */
	struct mm_region_info info;
	ASSERT_EQ(mm_region_query(s, base, &info), MM_OK);
	EXPECT_EQ(info.section, MM_SECTION_STACK);
	EXPECT_EQ(mm_stack_create(s, end, 4 * MM_PAGE_SIZE), MM_NADDR); /* overlaps */
	EXPECT_EQ(mm_last_error(), MM_EEXIST);
	EXPECT_EQ(mm_stack_create(s, end + 1, MM_PAGE_SIZE), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, region, brk_grows_and_shrinks_the_heap)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	EXPECT_EQ(mm_brk(s, 0), MM_NADDR); /* no heap yet */
	ASSERT_EQ(mm_heap_init(s, R_VA), MM_OK);
	EXPECT_EQ(mm_heap_init(s, R_VA), MM_EEXIST);
	EXPECT_EQ(mm_brk(s, 0), R_VA);
	EXPECT_EQ(mm_brk(s, R_VA + 10000), R_VA + 10000);
	EXPECT_EQ(user_write64(s, R_VA + 9000, 5), MM_OK);
	EXPECT_EQ(user_write64(s, R_VA + 3 * MM_PAGE_SIZE, 5), MM_EFAULT); /* past the break's page */
	uint64_t before = free_frames();
	EXPECT_EQ(mm_brk(s, R_VA + 64 * MM_PAGE_SIZE), R_VA + 64 * MM_PAGE_SIZE);
	for (int i = 0; i < 64; i++)
		EXPECT_EQ(user_write64(s, R_VA + (uintptr_t)i * MM_PAGE_SIZE, (uint64_t)i), MM_OK);
	EXPECT_EQ(mm_brk(s, R_VA + MM_PAGE_SIZE), R_VA + MM_PAGE_SIZE); /* shrink: frames return */
	EXPECT_LE(before - free_frames(), 1);
	int error;
	EXPECT_EQ(user_read64(s, R_VA + 2 * MM_PAGE_SIZE, &error), ~0ull);
	EXPECT_EQ(error, MM_EFAULT);
	EXPECT_EQ(mm_brk(s, R_VA - MM_PAGE_SIZE), MM_NADDR); /* below the heap's start */
	struct mm_region_info info;
	ASSERT_EQ(mm_region_query(s, R_VA, &info), MM_OK);
	EXPECT_EQ(info.section, MM_SECTION_HEAP);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, region, shared_memory_between_spaces)
{
	mm_space_t a = mm_create_space(NULL), b = mm_create_space(NULL);
	ASSERT_NE((uintptr_t)a, 0);
	ASSERT_NE((uintptr_t)b, 0);
	struct mm_pager *shm = mm_shm_create(4 * MM_PAGE_SIZE);
	ASSERT_NE((uintptr_t)shm, 0);
	struct mm_region_spec spec = {R_VA,
	                              4 * MM_PAGE_SIZE,
	                              MM_FLG_WR | MM_REGION_SHARED | MM_REGION_FIXED,
	                              MM_SECTION_MMAP,
	                              shm,
	                              0};
	ASSERT_EQ(mm_region_map(a, &spec), R_VA);
	spec.start = R_VA + MM_HUGE_PAGE_SIZE; /* another address in the other space */
	ASSERT_EQ(mm_region_map(b, &spec), R_VA + MM_HUGE_PAGE_SIZE);
	EXPECT_EQ(user_write64(a, R_VA + MM_PAGE_SIZE, 0xABCD), MM_OK);
	int error;
	EXPECT_EQ(user_read64(b, R_VA + MM_HUGE_PAGE_SIZE + MM_PAGE_SIZE, &error), 0xABCD);
	EXPECT_EQ(mm_translate(a, R_VA + MM_PAGE_SIZE, NULL),
	          mm_translate(b, R_VA + MM_HUGE_PAGE_SIZE + MM_PAGE_SIZE, NULL));
	EXPECT_EQ(user_write64(b, R_VA + MM_HUGE_PAGE_SIZE + 3 * MM_PAGE_SIZE, 9), MM_OK);
	EXPECT_EQ(user_read64(a, R_VA + 3 * MM_PAGE_SIZE, &error), 9);
	EXPECT_EQ(vmm_check_space(a), MM_OK);
	mm_pager_put(shm); /* the regions keep it alive */
	mm_destroy_space(a);
	EXPECT_EQ(user_read64(b, R_VA + MM_HUGE_PAGE_SIZE + MM_PAGE_SIZE, &error), 0xABCD);
	mm_destroy_space(b);
}

TEST_F(leak_checked, region, private_object_mapping_copies_on_write)
{
	mm_space_t s = test_space(t), writer = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_NE((uintptr_t)writer, 0);
	struct mm_pager *obj = mm_shm_create(2 * MM_PAGE_SIZE);
	ASSERT_NE((uintptr_t)obj, 0);
	/* The object's content, written through a shared mapping elsewhere. */
	struct mm_region_spec shared = {R_VA,
	                                2 * MM_PAGE_SIZE,
	                                MM_FLG_WR | MM_REGION_SHARED | MM_REGION_FIXED,
	                                MM_SECTION_MMAP,
	                                obj,
	                                0};
	ASSERT_EQ(mm_region_map(writer, &shared), R_VA);
	EXPECT_EQ(user_write64(writer, R_VA + MM_PAGE_SIZE, 111), MM_OK);
	/* A private object mapping at an offset: page 1 of the object at R_VA. */
	struct mm_region_spec priv = {R_VA, MM_PAGE_SIZE, MM_FLG_WR | MM_REGION_FIXED, MM_SECTION_DATA,
	                              obj,  MM_PAGE_SIZE};
	ASSERT_EQ(mm_region_map(s, &priv), R_VA);
	int error;
	EXPECT_EQ(user_read64(s, R_VA, &error), 111);
	EXPECT_EQ(user_write64(s, R_VA, 222), MM_OK); /* a private copy now */
	EXPECT_EQ(user_read64(s, R_VA, &error), 222);
	EXPECT_EQ(user_read64(writer, R_VA + MM_PAGE_SIZE, &error), 111); /* the object is unchanged */
	EXPECT_EQ(user_read64(s, R_VA + MM_PAGE_SIZE, &error), ~0ull);    /* past the region */
	EXPECT_EQ(vmm_check_space(s), MM_OK);
	mm_pager_put(obj);
}

TEST_F(leak_checked, region, unmap_in_the_middle_splits)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_EQ(map(s, R_VA, 10 * MM_PAGE_SIZE, MM_FLG_WR | MM_REGION_FIXED), R_VA);
	EXPECT_EQ(mm_umap_range(s, R_VA + 4 * MM_PAGE_SIZE, 2 * MM_PAGE_SIZE, 0), MM_OK);
	struct mm_region_info a, b;
	ASSERT_EQ(mm_region_query(s, R_VA, &a), MM_OK);
	ASSERT_EQ(mm_region_query(s, R_VA + 9 * MM_PAGE_SIZE, &b), MM_OK);
	EXPECT_EQ(a.end, R_VA + 4 * MM_PAGE_SIZE);
	EXPECT_EQ(b.start, R_VA + 6 * MM_PAGE_SIZE);
	EXPECT_EQ(mm_region_query(s, R_VA + 5 * MM_PAGE_SIZE, &a), MM_ENOENT);
	EXPECT_EQ(user_write64(s, R_VA + 5 * MM_PAGE_SIZE, 1), MM_EFAULT);
	EXPECT_EQ(mm_region_unmap(s, R_VA + 7 * MM_PAGE_SIZE), MM_OK);
	EXPECT_EQ(mm_region_query(s, R_VA + 9 * MM_PAGE_SIZE, &b), MM_ENOENT);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, region, free_range_search_matches_brute_force)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	/* 200 regions of 1..8 pages with 0..8-page holes, then queries of every size and
	 * alignment checked against a walk over the region list. */
	uint64_t seed = 77;
	uintptr_t va = R_VA;
	for (int i = 0; i < 200; i++) {
		va += (test_random(&seed) % 9) * MM_PAGE_SIZE;
		size_t len = (1 + test_random(&seed) % 8) * MM_PAGE_SIZE;
		ASSERT_EQ(map(s, va, len, MM_FLG_WR | MM_REGION_FIXED), va);
		va += len;
	}
	uintptr_t top = va + 64 * MM_PAGE_SIZE;
	for (int q = 0; q < 300; q++) {
		size_t len = (1 + test_random(&seed) % 12) * MM_PAGE_SIZE;
		uintptr_t align = MM_PAGE_SIZE << (test_random(&seed) % 4);
		uintptr_t from = R_VA + (test_random(&seed) % 512) * MM_PAGE_SIZE;
		uintptr_t expect = MM_NADDR;
		for (uintptr_t a = (from + align - 1) & ~(align - 1); a + len <= top; a += align) {
			struct mm_region_info info;
			bool clear = true;
			for (uintptr_t p = a; p < a + len && clear; p += MM_PAGE_SIZE)
				clear = mm_region_query(s, p, &info) == MM_ENOENT;
			if (clear) {
				expect = a;
				break;
			}
		}
		EXPECT_EQ(mm_region_find_free(s, from, top, len, align), expect);
	}
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}
