/*
 * On-demand fork (vmm/share.h): a fork shares the parent's leaf tables of private memory
 * instead of copying them, and each space gets its own copy of a table the first time it
 * changes something in its span or writes through it. What is checked: what a fork and each
 * first change cost in frames, against eager fork (MM_FLG_CLONE_EAGER); that every change in
 * a shared span keeps both spaces apart; chains of forks destroyed in any order; a span that
 * holds shared memory is never shared; and running out of memory while unsharing changes
 * nothing.
 */
#include <mm/region.h>
#include <mmtest/test.h>

#include "fixtures.h"
#include "helpers.h"
#include "user_access.h"
#include "vmm/invariants.h"

/* A 2 MiB-aligned span: the leaf table covers it and nothing else. */
#define OD_VA ((uintptr_t)0x0000500000000000ull)
#define OD_PAGES 16
#define OD_SPAN ((uintptr_t)2 << 20)

static bool data_region(mm_space_t s, uint64_t tag)
{
	struct mm_region_spec spec = {
	    OD_VA, OD_PAGES * MM_PAGE_SIZE, MM_FLG_WR | MM_REGION_FIXED, MM_SECTION_DATA, NULL, 0};
	if (mm_region_map(s, &spec) != OD_VA)
		return false;
	for (int i = 0; i < OD_PAGES; i++)
		if (user_write64(s, OD_VA + (uintptr_t)i * MM_PAGE_SIZE, tag + (uint64_t)i) != MM_OK)
			return false;
	return true;
}

static uint64_t page_value(mm_space_t s, int page)
{
	int error;
	uint64_t v = user_read64(s, OD_VA + (uintptr_t)page * MM_PAGE_SIZE, &error);
	return error == MM_OK ? v : ~0ull;
}

/* Every page holds tag + its index, but those listed in `except` (ended by -1). */
static bool holds(mm_space_t s, uint64_t tag, const int *except)
{
	for (int i = 0; i < OD_PAGES; i++) {
		bool skip = false;
		for (const int *e = except; e && *e >= 0; e++)
			skip |= *e == i;
		if (!skip && page_value(s, i) != tag + (uint64_t)i)
			return false;
	}
	return true;
}

/* The exact reference check over these spaces (NULL ones left out), and each space's own
 * check. */
static int check_all(mm_space_t *spaces, size_t n)
{
	mm_space_t live[8];
	size_t k = 0;
	for (size_t i = 0; i < n && k < 8; i++) {
		if (!spaces[i])
			continue;
		if (vmm_check_space(spaces[i]) != MM_OK)
			return MM_EINVAL;
		live[k++] = spaces[i];
	}
	struct vmm_ref_scope scope = {live, k, NULL, 0, NULL, 0};
	return vmm_check_references(&scope);
}

TEST_F(leak_checked, ondemand_fork, shares_the_leaf_table_where_eager_fork_copies_it)
{
	mm_space_t parent = test_space(t), child = test_space(t), eager = test_space(t);
	ASSERT_TRUE(parent && child && eager);
	ASSERT_TRUE(data_region(parent, 10));
	uint64_t before = free_frames();
	ASSERT_EQ(mm_space_fork(eager, parent, MM_FLG_CLONE_USER | MM_FLG_CLONE_EAGER), MM_OK);
	EXPECT_EQ(before - free_frames(), 3); /* the child's PDPT, page directory and leaf table */
	before = free_frames();
	ASSERT_EQ(mm_space_fork(child, parent, MM_FLG_CLONE_USER), MM_OK);
	EXPECT_EQ(before - free_frames(), 2); /* its leaf table is the parent's */
	EXPECT_TRUE(holds(child, 10, NULL));
	EXPECT_TRUE(holds(eager, 10, NULL));
	for (int i = 0; i < OD_PAGES; i++) {
		uintptr_t va = OD_VA + (uintptr_t)i * MM_PAGE_SIZE;
		uint32_t flags = 0;
		EXPECT_EQ(mm_translate(child, va, &flags), mm_translate(parent, va, NULL));
		EXPECT_EQ(flags & MM_FLG_WR, 0); /* as the MMU sees it: through the shared table */
		EXPECT_EQ(mm_translate(eager, va, NULL), mm_translate(parent, va, NULL));
	}
	mm_space_t all[] = {parent, child, eager};
	EXPECT_EQ(check_all(all, 3), MM_OK);
	/* An eager fork of a parent that shares the table copies its entries as they are,
	 * copy-on-write, and the parent keeps sharing it. */
	mm_space_t second = test_space(t);
	ASSERT_TRUE(second);
	before = free_frames();
	ASSERT_EQ(mm_space_fork(second, parent, MM_FLG_CLONE_USER | MM_FLG_CLONE_EAGER), MM_OK);
	EXPECT_EQ(before - free_frames(), 3);
	EXPECT_EQ(user_write64(second, OD_VA, 11), MM_OK);
	EXPECT_EQ(page_value(parent, 0), 10);
	EXPECT_EQ(page_value(child, 0), 10);
	const int first_page[] = {0, -1};
	EXPECT_TRUE(holds(second, 10, first_page));
	EXPECT_TRUE(holds(child, 10, NULL));
	mm_space_t four[] = {parent, child, eager, second};
	EXPECT_EQ(check_all(four, 4), MM_OK);
}

TEST_F(leak_checked, ondemand_fork, the_first_write_copies_the_table_then_only_pages)
{
	mm_space_t parent = test_space(t), child = test_space(t);
	ASSERT_TRUE(parent && child);
	ASSERT_TRUE(data_region(parent, 20));
	ASSERT_EQ(mm_space_fork(child, parent, MM_FLG_CLONE_USER), MM_OK);
	uint64_t before = free_frames();
	EXPECT_EQ(user_write64(child, OD_VA, 1000), MM_OK);
	EXPECT_EQ(before - free_frames(), 2); /* the child's table and the page */
	before = free_frames();
	EXPECT_EQ(user_write64(child, OD_VA + MM_PAGE_SIZE, 1001), MM_OK);
	EXPECT_EQ(before - free_frames(), 1); /* the page only */
	/* The parent is the table's last sharer: its first write takes the table back without
	 * a copy, and copies the page, which the child's table still maps. */
	before = free_frames();
	EXPECT_EQ(user_write64(parent, OD_VA + 5 * MM_PAGE_SIZE, 2005), MM_OK);
	EXPECT_EQ(before - free_frames(), 1);
	const int child_changed[] = {0, 1, -1}, parent_changed[] = {5, -1};
	EXPECT_TRUE(holds(child, 20, child_changed));
	EXPECT_TRUE(holds(parent, 20, parent_changed));
	EXPECT_EQ(page_value(child, 0), 1000);
	EXPECT_EQ(page_value(child, 5), 25);
	EXPECT_EQ(page_value(parent, 0), 20);
	EXPECT_EQ(page_value(parent, 5), 2005);
	mm_space_t all[] = {parent, child};
	EXPECT_EQ(check_all(all, 2), MM_OK);
}

/* The changes a space may make in a span it shares: each keeps the other space whole. */
enum span_change { MAP_BESIDE, UNMAP_ONE, PROTECT_ONE, READ_FAULT_BESIDE, CHANGES };

TEST_F(leak_checked, ondemand_fork, every_change_in_a_shared_span_keeps_the_spaces_apart)
{
	for (int which = 0; which < CHANGES; which++) {
		/* The child goes first, by hand: the parent is checked without it. */
		mm_space_t parent = test_space(t), child = mm_create_space(NULL);
		ASSERT_TRUE(parent && child);
		ASSERT_TRUE(data_region(parent, 30));
		/* A reserve-only region beside the data, in the same span: its pages come by
		 * faults, which change the shared table. */
		struct mm_region_spec lazy = {OD_VA + 64 * MM_PAGE_SIZE,
		                              4 * MM_PAGE_SIZE,
		                              MM_FLG_WR | MM_REGION_FIXED,
		                              MM_SECTION_DATA,
		                              NULL,
		                              0};
		ASSERT_EQ(mm_region_map(parent, &lazy), lazy.start);
		ASSERT_EQ(mm_space_fork(child, parent, MM_FLG_CLONE_USER), MM_OK);
		uintptr_t page3 = OD_VA + 3 * MM_PAGE_SIZE;
		const int none[] = {-1}, third[] = {3, -1};
		const int *gone = none;
		switch ((enum span_change)which) {
		case MAP_BESIDE:
			EXPECT_EQ(mm_map_range(child, OD_VA + 128 * MM_PAGE_SIZE, MM_PAGE_SIZE,
			                       MM_FLG_WR | MM_FLG_US),
			          OD_VA + 128 * MM_PAGE_SIZE);
			EXPECT_EQ(mm_translate(parent, OD_VA + 128 * MM_PAGE_SIZE, NULL), MM_NADDR);
			break;
		case UNMAP_ONE:
			EXPECT_EQ(mm_umap_range(child, page3, MM_PAGE_SIZE, 0), MM_OK);
			EXPECT_EQ(mm_translate(child, page3, NULL), MM_NADDR);
			gone = third;
			break;
		case PROTECT_ONE: {
			EXPECT_EQ(mm_region_protect(child, page3, MM_PAGE_SIZE, 0), MM_OK);
			void *where;
			EXPECT_EQ(user_access(child, page3, true, &where), MM_EPERM);
			EXPECT_EQ(user_write64(parent, page3, 33), MM_OK);
			EXPECT_EQ(page_value(child, 3), 33);
			EXPECT_EQ(user_write64(parent, page3, 30 + 3), MM_OK);
			break;
		}
		case READ_FAULT_BESIDE: {
			int error;
			EXPECT_EQ(user_read64(child, lazy.start, &error), 0);
			EXPECT_EQ(error, MM_OK);
			EXPECT_EQ(mm_translate(parent, lazy.start, NULL), MM_NADDR);
			break;
		}
		case CHANGES:
			break;
		}
		EXPECT_TRUE(holds(parent, 30, NULL));
		EXPECT_TRUE(holds(child, 30, gone));
		/* And each side's writes stay its own. */
		EXPECT_EQ(user_write64(parent, OD_VA, 7), MM_OK);
		EXPECT_EQ(page_value(child, 0), 30);
		mm_space_t all[] = {parent, child};
		EXPECT_EQ(check_all(all, 2), MM_OK);
		mm_destroy_space(child);
		EXPECT_EQ(page_value(parent, 1), 31);
	}
}

TEST_F(leak_checked, ondemand_fork, unmapping_every_entry_lets_go_without_a_copy)
{
	mm_space_t parent = test_space(t), child = test_space(t);
	ASSERT_TRUE(parent && child);
	ASSERT_TRUE(data_region(parent, 40));
	ASSERT_EQ(mm_space_fork(child, parent, MM_FLG_CLONE_USER), MM_OK);
	uint64_t before = free_frames();
	/* The region alone, not the whole span: but every entry of the table is in it. */
	ASSERT_EQ(mm_umap_range(child, OD_VA, OD_PAGES * MM_PAGE_SIZE, 0), MM_OK);
	/* The child's emptied page directory and PDPT go; the table and the pages stay, the
	 * parent's. */
	EXPECT_EQ(free_frames() - before, 2);
	EXPECT_EQ(mm_translate(child, OD_VA, NULL), MM_NADDR);
	EXPECT_TRUE(holds(parent, 40, NULL));
	/* The parent, the table's only sharer now, writes in place (the page is its own). */
	before = free_frames();
	EXPECT_EQ(user_write64(parent, OD_VA, 4000), MM_OK);
	EXPECT_EQ(before - free_frames(), 0);
	mm_space_t all[] = {parent, child};
	EXPECT_EQ(check_all(all, 2), MM_OK);
}

TEST_F(leak_checked, ondemand_fork, chains_die_in_any_order)
{
	/* Four spaces on one table: gen1 and gen3 forked from gen0, gen2 from gen1. Each
	 * order of destruction keeps the others whole. */
	static const int orders[][4] = {{1, 3, 0, 2}, {0, 1, 2, 3}, {2, 0, 3, 1}};
	for (unsigned o = 0; o < sizeof orders / sizeof orders[0]; o++) {
		mm_space_t gen[4] = {mm_create_space(NULL), mm_create_space(NULL), mm_create_space(NULL),
		                     mm_create_space(NULL)};
		for (int g = 0; g < 4; g++)
			ASSERT_TRUE(gen[g]);
		ASSERT_TRUE(data_region(gen[0], 50));
		ASSERT_EQ(mm_space_fork(gen[1], gen[0], MM_FLG_CLONE_USER), MM_OK);
		ASSERT_EQ(mm_space_fork(gen[2], gen[1], MM_FLG_CLONE_USER), MM_OK);
		ASSERT_EQ(mm_space_fork(gen[3], gen[0], MM_FLG_CLONE_USER), MM_OK);
		/* gen g writes its page g. */
		for (int g = 0; g < 4; g++)
			EXPECT_EQ(user_write64(gen[g], OD_VA + (uintptr_t)g * MM_PAGE_SIZE, 500 + g), MM_OK);
		bool alive[4] = {true, true, true, true};
		for (int step = 0; step < 4; step++) {
			for (int g = 0; g < 4; g++) {
				if (!alive[g])
					continue;
				for (int p = 0; p < 4; p++)
					EXPECT_EQ(page_value(gen[g], p), p == g ? 500 + (uint64_t)p : 50 + (uint64_t)p);
			}
			EXPECT_EQ(check_all(gen, 4), MM_OK);
			int victim = orders[o][step];
			mm_destroy_space(gen[victim]);
			alive[victim] = false;
			gen[victim] = NULL;
		}
	}
}

TEST_F(leak_checked, ondemand_fork, a_span_with_shared_memory_is_never_shared)
{
	mm_space_t parent = test_space(t), child = test_space(t);
	ASSERT_TRUE(parent && child);
	ASSERT_TRUE(data_region(parent, 60));
	struct mm_pager *shm = mm_shm_create(MM_PAGE_SIZE);
	ASSERT_TRUE(shm);
	uintptr_t shm_va = OD_VA + 32 * MM_PAGE_SIZE; /* the same 2 MiB span */
	struct mm_region_spec spec = {
	    shm_va,          MM_PAGE_SIZE, MM_FLG_WR | MM_REGION_SHARED | MM_REGION_FIXED,
	    MM_SECTION_MMAP, shm,          0};
	ASSERT_EQ(mm_region_map(parent, &spec), shm_va);
	mm_pager_put(shm);
	EXPECT_EQ(user_write64(parent, shm_va, 1), MM_OK);
	uint64_t before = free_frames();
	ASSERT_EQ(mm_space_fork(child, parent, MM_FLG_CLONE_USER), MM_OK);
	EXPECT_EQ(before - free_frames(), 3); /* the leaf table too: copied */
	EXPECT_EQ(user_write64(child, shm_va, 2), MM_OK);
	int error;
	EXPECT_EQ(user_read64(parent, shm_va, &error), 2); /* shared memory stays shared */
	EXPECT_TRUE(holds(child, 60, NULL));
	mm_space_t all[] = {parent, child};
	EXPECT_EQ(check_all(all, 2), MM_OK);
}

TEST_F(leak_checked, ondemand_fork, no_memory_to_unshare_changes_nothing)
{
	mm_space_t parent = test_space(t), child = test_space(t);
	ASSERT_TRUE(parent && child);
	ASSERT_TRUE(data_region(parent, 70));
	ASSERT_EQ(mm_space_fork(child, parent, MM_FLG_CLONE_USER), MM_OK);
	uint64_t before = free_frames();
	uint64_t child_digest = vmm_space_digest(child), parent_digest = vmm_space_digest(parent);
	mm_phys_fail_after(0);
	void *where;
	EXPECT_EQ(user_access(child, OD_VA, true, &where), MM_ENOMEM);
	EXPECT_EQ(mm_region_protect(child, OD_VA, MM_PAGE_SIZE, 0), MM_ENOMEM);
	EXPECT_EQ(mm_umap_range(child, OD_VA + MM_PAGE_SIZE, MM_PAGE_SIZE, 0), MM_ENOMEM);
	mm_phys_fail_after(-1);
	EXPECT_EQ(vmm_space_digest(child), child_digest);
	EXPECT_EQ(vmm_space_digest(parent), parent_digest);
	EXPECT_EQ(free_frames(), before);
	EXPECT_TRUE(holds(child, 70, NULL));
	EXPECT_TRUE(holds(parent, 70, NULL));
	struct mm_region_info info;
	ASSERT_EQ(mm_region_query(child, OD_VA, &info), MM_OK);
	EXPECT_TRUE(info.flags & MM_FLG_WR);
	EXPECT_EQ(user_write64(child, OD_VA, 7), MM_OK);
	EXPECT_TRUE(holds(parent, 70, NULL));
	mm_space_t all[] = {parent, child};
	EXPECT_EQ(check_all(all, 2), MM_OK);
}
