/* The debugging dumps run to the end at every level on an empty space, on a space with
 * every kind of region and mapping, on a forked child, and on the kernel space, and change
 * nothing; what they print says what is there (checked through lib_print_capture). */
#include <mm/phys.h>
#include <mm/region.h>
#include <mm/vmm.h>
#include <mmtest/test.h>

#include <lib/print.h>
#include <lib/string.h>

#include "fixtures.h"
#include "helpers.h"
#include "user_access.h"
#include "vmm/invariants.h"

static char printed[32768];

/* What mm_dump_map prints at a level. */
static const char *dump_text(int level, mm_space_t s)
{
	lib_print_capture(printed, sizeof printed);
	mm_dump_map(level, s);
	lib_print_capture_end();
	return printed;
}

#define EXPECT_PRINTED(text, needle) EXPECT_TRUE(lib_str_contains((text), (needle)))

#define D_VA ((uintptr_t)0x0000380000000000ull)

static void dump_all_levels(mm_space_t s)
{
	for (int level = 0; level <= 2; level++)
		mm_dump_map(level, s);
}

TEST_F(leak_checked, dump, empty_space_and_no_space)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	uint64_t before = free_frames(), objects = heap_objects();
	dump_all_levels(s);
	mm_dump_map(1, NULL);
	mm_dump_map(-1, s);
	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(heap_objects(), objects);
}

TEST_F(leak_checked, dump, every_kind_of_region)
{
	mm_space_t s = mm_create_space(NULL), child = mm_create_space(NULL);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_NE((uintptr_t)child, 0);
	uintptr_t va = D_VA;
	/* Anonymous, populated (mm_map_range): 20 contiguous frames if the allocator says so. */
	ASSERT_EQ(mm_map_range(s, va, 20 * MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US), va);
	/* Anonymous, reserve-only: one page read (the zero page), one written, the rest not. */
	struct mm_region_spec anon = {va + MM_LARGE_PAGE_SIZE,
	                              8 * MM_PAGE_SIZE,
	                              MM_FLG_WR | MM_REGION_FIXED,
	                              MM_SECTION_HEAP,
	                              NULL,
	                              0};
	ASSERT_NE(mm_region_map(s, &anon), MM_NADDR);
	int error;
	user_read64(s, anon.start, &error);
	user_read64(s, anon.start + MM_PAGE_SIZE, &error);
	EXPECT_EQ(user_write64(s, anon.start + 3 * MM_PAGE_SIZE, 1), MM_OK);
	/* Code: read + execute. */
	struct mm_region_spec code = {va + 2 * MM_LARGE_PAGE_SIZE,
	                              2 * MM_PAGE_SIZE,
	                              MM_FLG_EXEC | MM_REGION_FIXED | MM_REGION_POPULATE,
	                              MM_SECTION_CODE,
	                              NULL,
	                              0};
	ASSERT_NE(mm_region_map(s, &code), MM_NADDR);
	/* Objects: shared and private. */
	struct mm_pager *shm = mm_shm_create(4 * MM_PAGE_SIZE);
	ASSERT_NE((uintptr_t)shm, 0);
	struct mm_region_spec shared = {va + 3 * MM_LARGE_PAGE_SIZE,
	                                4 * MM_PAGE_SIZE,
	                                MM_FLG_WR | MM_REGION_SHARED | MM_REGION_FIXED |
	                                    MM_REGION_POPULATE,
	                                MM_SECTION_MMAP,
	                                shm,
	                                0};
	ASSERT_NE(mm_region_map(s, &shared), MM_NADDR);
	struct mm_region_spec priv = {va + 4 * MM_LARGE_PAGE_SIZE,
	                              2 * MM_PAGE_SIZE,
	                              MM_FLG_WR | MM_REGION_FIXED,
	                              MM_SECTION_DATA,
	                              shm,
	                              MM_PAGE_SIZE};
	ASSERT_NE(mm_region_map(s, &priv), MM_NADDR);
	user_read64(s, priv.start, &error);
	/* Given pages: a 2 MiB page, and device memory. */
	uintptr_t large = mm_alloc_physical_page(MM_FLG_PS);
	ASSERT_NE(large, MM_NADDR);
	ASSERT_EQ(mm_map_range_pages(s, va + 6 * MM_LARGE_PAGE_SIZE, &large, 1,
	                             MM_FLG_PS | MM_FLG_WR | MM_FLG_US),
	          MM_OK);
	uintptr_t device = (uintptr_t)1 << 45;
	ASSERT_EQ(
	    mm_map_range_pages(s, va + 8 * MM_LARGE_PAGE_SIZE, &device, 1, MM_FLG_WR | MM_FLG_DMA),
	    MM_OK);
	/* A stack and its guard page. */
	ASSERT_NE(mm_stack_create(s, va + 10 * MM_LARGE_PAGE_SIZE, 4 * MM_PAGE_SIZE), MM_NADDR);
	EXPECT_EQ(user_write64(s, va + 10 * MM_LARGE_PAGE_SIZE - 8, 2), MM_OK);
	/* The hardware window. */
	uintptr_t hw_page = (uintptr_t)1 << 44;
	ASSERT_EQ(mm_map_range_pages(s, MM_HW_BASE, &hw_page, 1, MM_FLG_WR | MM_FLG_DMA), MM_OK);
	/* A forked child: its private pages copy-on-write. */
	ASSERT_EQ(mm_space_fork(child, s, MM_FLG_CLONE_USER | MM_FLG_CLONE_HW), MM_OK);

	uint64_t before = free_frames(), objects = heap_objects();
	dump_all_levels(s);
	dump_all_levels(child);
	/* Level 1: the header's counts, each region with its size, access, section, kind and
	 * residency, and the mappings coalesced with their page size and what they share. */
	const char *text = dump_text(1, s);
	char header[96];
	lib_snprintf(header, sizeof header, "space %llu, root %016lx: 545 pages mapped",
	             (unsigned long long)mm_space_id(s), (unsigned long)mm_space_root(s));
	EXPECT_PRINTED(text, header);
	EXPECT_PRINTED(text, "80 KiB  rw- user     mmap   anon   20 resident");
	EXPECT_PRINTED(text, "32 KiB  rw- user     heap   anon   3 resident");
	EXPECT_PRINTED(text, "8 KiB  r-x user     code   anon   2 resident");
	EXPECT_PRINTED(text, "mmap   object 4 resident, offset 0x0, shared");
	EXPECT_PRINTED(text, "data   object 1 resident, offset 0x1000, private");
	EXPECT_PRINTED(text, "2 MiB  rw- user     mmap   pages  512 resident");
	EXPECT_PRINTED(text, "rw- dma      device pages  1 resident");
	EXPECT_PRINTED(text, "stack  guard  0 resident");
	EXPECT_PRINTED(text, "-> zero page");
	EXPECT_PRINTED(text, "r-- user cow"); /* the fork made the parent's pages copy-on-write */
	EXPECT_PRINTED(text, "2M x1 rw- user");
	EXPECT_PRINTED(text, "4K x1 rw- dma unmanaged");
	EXPECT_PRINTED(text, "rw- user shared");
	EXPECT_FALSE(lib_str_contains(text, "page tables:")); /* level 2 only */
	EXPECT_PRINTED(dump_text(2, s), "page tables:");
	EXPECT_FALSE(lib_str_contains(dump_text(0, s), "mappings (va -> pa"));
	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(heap_objects(), objects);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
	EXPECT_EQ(vmm_check_space(child), MM_OK);
	mm_destroy_space(child);
	mm_destroy_space(s);
	mm_pager_put(shm);
	EXPECT_EQ(mm_free_physical_page(large, MM_FLG_PS), MM_OK);
}

TEST_F(leak_checked, dump, kernel_space_and_stats)
{
	mm_space_t k = mm_kernel_space();
	uintptr_t va = vmalloc(k, MM_KERNEL_MAP_BASE, MM_KERNEL_MAP_END, 2, MM_PAGE_WRITE);
	ASSERT_NE(va, MM_NADDR);
	uint64_t mapped = free_frames();
	dump_all_levels(k);
	/* The kernel space's header, and the vmalloc'd range among its regions. */
	char range[64];
	lib_snprintf(range, sizeof range, "%016lx-%016lx      8 KiB  rw-", (unsigned long)va,
	             (unsigned long)(va + 2 * MM_PAGE_SIZE));
	const char *text = dump_text(1, k);
	EXPECT_PRINTED(text, "kernel space");
	EXPECT_PRINTED(text, range);
	for (int level = 0; level <= 2; level++) {
		lib_print_capture(printed, sizeof printed);
		mm_dump_stats(level);
		lib_print_capture_end();
		EXPECT_PRINTED(printed, "---- memory manager statistics ----");
		EXPECT_PRINTED(printed, "zero page:");
	}
	EXPECT_EQ(free_frames(), mapped);
	EXPECT_EQ(vmfree(k, va, 2), MM_OK);
}
