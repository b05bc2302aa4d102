/*
 * 1 GiB pages end to end: map, translate and mm_map_get, the dump, a split by a partial
 * unmap and by a partial protect, fork, and unmap.
 *
 * A 1 GiB page needs a free, aligned 1 GiB block of frames. Where the machine has none (a
 * kernel booted with too little RAM), each test checks what the call must do instead (fall
 * back to 2 MiB pages, or refuse a fork with MM_ENOMEM and change nothing) and prints that
 * the 1 GiB paths did not run, so that a log shows it.
 */
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

#define GIB MM_HUGE_PAGE_SIZE
#define H_VA ((uintptr_t)0x0000200000000000ull) /* 1 GiB aligned, well inside the user half */

/* Free 1 GiB blocks over every node. */
static uint64_t free_gib_blocks(void)
{
	uint64_t n = 0;
	for (unsigned node = 0; node < arch_node_count(); node++) {
		struct mm_phys_node_stats s;
		if (mm_phys_get_node_stats(node, &s) == MM_OK)
			n += s.free_blocks[18];
	}
	return n;
}

static bool have_gib_blocks(struct mm_test_ctx *t, uint64_t needed)
{
	/* Frames freed one by one wait in the CPUs' caches and keep their buddies from
	 * merging back into a 1 GiB block: bring them home first, as memory pressure would. */
	mm_phys_drain_caches();
	uint64_t free = free_gib_blocks();
	if (free >= needed)
		return true;
	lib_printf("    %s.%s: %llu free 1 GiB block(s), %llu needed: 1 GiB pages not tested here\n",
	           t->suite, t->name, (unsigned long long)free, (unsigned long long)needed);
	return false;
}

/* Maps one fresh, zeroed 1 GiB page at H_VA in s; its physical base, or MM_NADDR. */
static uintptr_t map_gib(mm_space_t s, uint32_t flags)
{
	if (mm_map_range(s, H_VA, GIB, flags | MM_FLG_PS1G) != H_VA)
		return MM_NADDR;
	return mm_translate(s, H_VA, NULL);
}

/*
 * The same without zeroing 1 GiB (seconds under an emulator): a page allocated here, given
 * to mm_map_range_pages, and this reference dropped, so that the mapping holds it alone as
 * it would hold a fresh one (and may split it). Its base, or MM_NADDR.
 */
static uintptr_t map_gib_held_alone(mm_space_t s, uint32_t flags)
{
	uintptr_t page = mm_alloc_physical_page(MM_FLG_PS1G);
	if (page == MM_NADDR)
		return MM_NADDR;
	int error = mm_map_range_pages(s, H_VA, &page, 1, flags | MM_FLG_PS1G);
	mm_free_physical_page(page, MM_FLG_PS1G);
	return error == MM_OK ? page : MM_NADDR;
}

TEST_F(leak_checked, huge, map_translate_get_and_unmap_one_gib_page)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	if (!have_gib_blocks(t, 1)) {
		/* No 1 GiB frame: 2 MiB pages instead where memory allows, never a failure for
		 * want of a large frame alone. */
		if (free_frames() < 2 * (GIB / MM_PAGE_SIZE))
			return; /* nor room for 1 GiB of 2 MiB pages */
		ASSERT_EQ(mm_map_range(s, H_VA, GIB, MM_FLG_WR | MM_FLG_PS1G), H_VA);
		uint32_t f = 0;
		ASSERT_NE(mm_translate(s, H_VA, &f), MM_NADDR);
		EXPECT_EQ(f & (MM_FLG_PS | MM_FLG_PS1G), MM_FLG_PS);
		return;
	}
	uint64_t before = free_frames();
	uintptr_t base = map_gib(s, MM_FLG_WR | MM_FLG_US);
	ASSERT_NE(base, MM_NADDR);
	EXPECT_EQ(base & (GIB - 1), 0);
	/* The page and one PDPT: the 1 GiB leaf sits in the PDPT itself. */
	EXPECT_EQ(before - free_frames(), GIB / MM_PAGE_SIZE + 1);
	EXPECT_EQ(*(uint64_t *)MM_VIRTUALIZE(base + GIB - 8), 0); /* zeroed to its last word */

	/* MM_FLG_PS means "not 4 KiB": a caller testing it sees a 1 GiB page too. */
	uint32_t f = 0;
	uintptr_t inside = H_VA + 300 * MM_LARGE_PAGE_SIZE + 5 * MM_PAGE_SIZE + 7;
	EXPECT_EQ(mm_translate(s, inside, &f), base + (inside - H_VA));
	EXPECT_EQ(f, MM_FLG_WR | MM_FLG_US | MM_FLG_PS | MM_FLG_PS1G);
	uint64_t got = 0;
	EXPECT_EQ(mm_map_get(s, inside, &got), base); /* the page's base */
	EXPECT_EQ(got & MM_FLG_PS, MM_FLG_PS);
	EXPECT_EQ(got & MM_FLG_PS1G, MM_FLG_PS1G);
	struct mm_region_info info;
	ASSERT_EQ(mm_region_query(s, H_VA, &info), MM_OK);
	EXPECT_EQ(info.resident_pages, GIB / MM_PAGE_SIZE);
	EXPECT_EQ(vmm_check_space(s), MM_OK);

	/* Program access through the fault path reaches the same frame. */
	EXPECT_EQ(user_write64(s, inside - 7, 0x1A1A), MM_OK);
	EXPECT_EQ(*(uint64_t *)MM_VIRTUALIZE(base + (inside - 7 - H_VA)), 0x1A1A);

	/* A map over it is refused whole; then the whole page goes in one unmap. */
	EXPECT_EQ(mm_map_range(s, H_VA + GIB - MM_PAGE_SIZE, 2 * MM_PAGE_SIZE, MM_FLG_WR), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_EEXIST);
	EXPECT_EQ(mm_umap_range(s, H_VA, GIB, 0), MM_OK);
	EXPECT_EQ(mm_translate(s, inside, NULL), MM_NADDR);
	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, huge, given_gib_pages_map_and_free_with_the_reported_flags)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	if (!have_gib_blocks(t, 1))
		return;
	uintptr_t page = mm_alloc_physical_page(MM_FLG_PS1G);
	ASSERT_NE(page, MM_NADDR);
	EXPECT_EQ(mm_map_range_pages(s, H_VA + MM_LARGE_PAGE_SIZE, &page, 1, MM_FLG_PS1G), MM_EINVAL);
	ASSERT_EQ(mm_map_range_pages(s, H_VA, &page, 1, MM_FLG_PS1G | MM_FLG_WR), MM_OK);
	uint64_t flags = 0;
	EXPECT_EQ(mm_map_get(s, H_VA + 12345, &flags), page);
	EXPECT_EQ(mm_umap_single(s, H_VA, 1), MM_NADDR); /* not a 4 KiB page */
	EXPECT_EQ(mm_last_error(), MM_ESIZE);
	/* The whole page comes back, and the size flags mm_map_get reported free it. */
	EXPECT_EQ(mm_umap_single(s, H_VA + 12345, 0), page);
	EXPECT_EQ(mm_translate(s, H_VA, NULL), MM_NADDR);
	/* Two references to drop: the one the unmap handed over, and the allocation's. */
	EXPECT_EQ(mm_free_physical_page(page, (uint32_t)(flags & (MM_FLG_PS | MM_FLG_PS1G))), MM_OK);
	EXPECT_EQ(mm_free_physical_page(page, MM_FLG_PS1G), MM_OK);
}

TEST_F(leak_checked, huge, partial_unmap_splits_to_2m_and_4k)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	if (!have_gib_blocks(t, 1))
		return;
	uintptr_t base = map_gib_held_alone(s, MM_FLG_WR);
	ASSERT_NE(base, MM_NADDR);
	const uintptr_t far = 700 * MM_LARGE_PAGE_SIZE / 2 + 3 * MM_PAGE_SIZE;
	*(uint64_t *)MM_VIRTUALIZE(base + far) = 0xB16;
	uint64_t mapped = free_frames();

	/* Three pages out of the 2 MiB at 10 MiB: the 1 GiB page becomes 511 2 MiB pages and
	 * one table of 4 KiB pages; the frames keep their places and contents. */
	uintptr_t hole = H_VA + 5 * MM_LARGE_PAGE_SIZE + 10 * MM_PAGE_SIZE;
	EXPECT_EQ(mm_umap_range(s, hole, 3 * MM_PAGE_SIZE, 0), MM_OK);
	EXPECT_EQ(mm_translate(s, hole + MM_PAGE_SIZE, NULL), MM_NADDR);
	uint32_t f = 0;
	EXPECT_EQ(mm_translate(s, hole - MM_PAGE_SIZE, &f), base + (hole - MM_PAGE_SIZE - H_VA));
	EXPECT_EQ(f & (MM_FLG_PS | MM_FLG_PS1G), 0);
	EXPECT_EQ(mm_translate(s, H_VA + far, &f), base + far);
	EXPECT_EQ(f & (MM_FLG_PS | MM_FLG_PS1G), MM_FLG_PS);
	EXPECT_EQ(*(uint64_t *)MM_VIRTUALIZE(base + far), 0xB16);
	/* Two tables made (a PD, a PT), three frames back. */
	EXPECT_EQ(free_frames(), mapped + 3 - 2);
	struct mm_region_info info;
	ASSERT_EQ(mm_region_query(s, H_VA, &info), MM_OK);
	EXPECT_EQ(info.resident_pages, (hole - H_VA) / MM_PAGE_SIZE); /* the region before the hole */
	ASSERT_EQ(mm_region_query(s, hole + 3 * MM_PAGE_SIZE, &info), MM_OK);
	EXPECT_EQ(info.resident_pages, (H_VA + GIB - hole) / MM_PAGE_SIZE - 3);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, huge, partial_protect_splits_and_the_rest_stays_writable)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	if (!have_gib_blocks(t, 1))
		return;
	uintptr_t base = map_gib_held_alone(s, MM_FLG_WR | MM_FLG_US);
	ASSERT_NE(base, MM_NADDR);
	uintptr_t ro = H_VA + GIB - MM_PAGE_SIZE; /* the very last page */
	EXPECT_EQ(mm_region_protect(s, ro, MM_PAGE_SIZE, 0), MM_OK);
	uint32_t f = 0;
	EXPECT_EQ(mm_translate(s, ro, &f), base + GIB - MM_PAGE_SIZE);
	EXPECT_EQ(f & (MM_FLG_WR | MM_FLG_PS | MM_FLG_PS1G), 0); /* read-only, 4 KiB */
	EXPECT_EQ(mm_translate(s, ro - MM_PAGE_SIZE, &f), base + GIB - 2 * MM_PAGE_SIZE);
	EXPECT_EQ(f & (MM_FLG_WR | MM_FLG_PS), MM_FLG_WR); /* its neighbour: writable, 4 KiB */
	EXPECT_EQ(mm_translate(s, H_VA, &f), base);
	EXPECT_EQ(f & (MM_FLG_WR | MM_FLG_PS | MM_FLG_PS1G), MM_FLG_WR | MM_FLG_PS); /* 2 MiB */
	/* A program's write to the protected page faults; to its neighbour it lands. */
	EXPECT_EQ(user_write64(s, ro, 1), MM_EPERM);
	EXPECT_EQ(user_write64(s, ro - 8, 2), MM_OK);
	EXPECT_EQ(*(uint64_t *)MM_VIRTUALIZE(base + GIB - MM_PAGE_SIZE - 8), 2);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, huge, fork_copies_a_private_gib_page_or_changes_nothing)
{
	mm_space_t parent = test_space(t), child = test_space(t);
	ASSERT_NE((uintptr_t)parent, 0);
	ASSERT_NE((uintptr_t)child, 0);
	if (!have_gib_blocks(t, 1))
		return;
	uintptr_t base = map_gib(parent, MM_FLG_WR | MM_FLG_US);
	ASSERT_NE(base, MM_NADDR);
	*(uint64_t *)MM_VIRTUALIZE(base + GIB / 2) = 0xF0F0;
	uint64_t before = free_frames();
	int error = mm_space_fork(child, parent, MM_FLG_CLONE_USER);
	if (free_gib_blocks() == 0 && error == MM_ENOMEM) {
		/* No second 1 GiB frame for the copy: refused, and nothing changed. */
		EXPECT_EQ(free_frames(), before);
		EXPECT_EQ(mm_translate(child, H_VA, NULL), MM_NADDR);
		EXPECT_EQ(mm_translate(parent, H_VA, NULL), base);
		lib_printf("    huge.fork: one 1 GiB block only: the refusal was tested, not the copy\n");
		return;
	}
	ASSERT_EQ(error, MM_OK);
	uint32_t f = 0;
	uintptr_t copy = mm_translate(child, H_VA, &f);
	ASSERT_NE(copy, MM_NADDR);
	EXPECT_NE(copy, base); /* a physical copy: a private large page is not shared */
	EXPECT_EQ(f & (MM_FLG_PS1G | MM_FLG_WR), MM_FLG_PS1G | MM_FLG_WR);
	EXPECT_EQ(*(uint64_t *)MM_VIRTUALIZE(copy + GIB / 2), 0xF0F0);
	/* The two are independent from now on. */
	EXPECT_EQ(user_write64(child, H_VA + GIB / 2, 0xC41D), MM_OK);
	int read_error;
	EXPECT_EQ(user_read64(parent, H_VA + GIB / 2, &read_error), 0xF0F0);
	EXPECT_EQ(vmm_check_space(parent), MM_OK);
	EXPECT_EQ(vmm_check_space(child), MM_OK);
}

TEST_F(leak_checked, huge, the_dump_shows_a_gib_page)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	if (!have_gib_blocks(t, 1))
		return;
	ASSERT_NE(map_gib_held_alone(s, MM_FLG_WR | MM_FLG_US), MM_NADDR);
	static char printed[8192];
	lib_print_capture(printed, sizeof printed);
	mm_dump_map(1, s);
	lib_print_capture_end();
	EXPECT_TRUE(lib_str_contains(printed, "1G x1 rw- user"));
	EXPECT_TRUE(lib_str_contains(printed, "262144 pages mapped"));
}
