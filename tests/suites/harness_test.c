/* The harness's own promises: deferred work runs however a test returns, and the
 * leak_checked fixture fails a test that leaves a frame, an object or a space behind. */
#include <mm/kmalloc.h>
#include <mm/phys.h>
#include <mm/vmm.h>
#include <mmtest/test.h>

#include <lib/filter.h>
#include <lib/print.h>
#include <lib/string.h>

#include "fixtures.h"
#include "helpers.h"

/* What the inner cases leave for the outer test to inspect and clean up. */
static uintptr_t leaked_frame = MM_NADDR;
static void *leaked_object;
static mm_space_t made_space;
static unsigned order[3], n_order;

static void leaks_a_frame(struct mm_test_ctx *t)
{
	(void)t;
	leaked_frame = mm_phys_alloc_page();
}

static void leaks_an_object(struct mm_test_ctx *t)
{
	(void)t;
	leaked_object = kmalloc(48);
}

static void asserts_early_with_a_space(struct mm_test_ctx *t)
{
	made_space = test_space(t);
	ASSERT_NE((uintptr_t)made_space, 0);
	ASSERT_EQ(mm_map_range(made_space, 0x100000000000ull, 8 * MM_PAGE_SIZE, MM_FLG_WR),
	          0x100000000000ull);
	ASSERT_TRUE(false); /* ends here: the space and its 8 pages must still go */
	made_space = NULL;
}

static void record(void *which)
{
	order[n_order++] = (unsigned)(uintptr_t)which;
}

static void defers_three(struct mm_test_ctx *t)
{
	for (uintptr_t i = 0; i < 3; i++)
		mm_test_defer(t, record, (void *)i);
}

/* Runs fn under leak_checked with its printing captured into printed. */
static unsigned run_inner(void (*fn)(struct mm_test_ctx *), char *printed, size_t size)
{
	const struct mm_test_case inner = {"inner", "case", fn, &leak_checked};
	struct mm_test_ctx t;
	lib_print_capture(printed, size);
	unsigned failures = mm_test_run_case(&inner, &t);
	lib_print_capture_end();
	return failures;
}

TEST(harness, leak_checked_fails_a_test_that_keeps_a_frame)
{
	char printed[512];
	EXPECT_EQ(run_inner(leaks_a_frame, printed, sizeof printed), 1);
	EXPECT_TRUE(lib_str_contains(printed, "free frames at the end == free frames at the start"));
	ASSERT_NE(leaked_frame, MM_NADDR);
	EXPECT_EQ(mm_phys_free_page(leaked_frame), MM_OK);
}

TEST(harness, leak_checked_fails_a_test_that_keeps_an_object)
{
	char printed[512];
	EXPECT_EQ(run_inner(leaks_an_object, printed, sizeof printed), 1);
	EXPECT_TRUE(lib_str_contains(printed, "heap objects at the end == heap objects at the start"));
	ASSERT_NE((uintptr_t)leaked_object, 0);
	kfree(leaked_object);
}

TEST_F(leak_checked, harness, a_test_space_goes_when_an_assert_ends_the_test)
{
	char printed[512];
	/* The one failure is the inner test's own ASSERT_TRUE(false): nothing leaked. */
	EXPECT_EQ(run_inner(asserts_early_with_a_space, printed, sizeof printed), 1);
	EXPECT_FALSE(lib_str_contains(printed, "at the end =="));
	EXPECT_NE((uintptr_t)made_space, 0);
}

TEST(harness, deferred_work_runs_last_in_first_out)
{
	const struct mm_test_case inner = {"inner", "case", defers_three, NULL};
	struct mm_test_ctx inner_ctx;
	n_order = 0;
	EXPECT_EQ(mm_test_run_case(&inner, &inner_ctx), 0);
	ASSERT_EQ(n_order, 3);
	EXPECT_EQ(order[0], 2);
	EXPECT_EQ(order[1], 1);
	EXPECT_EQ(order[2], 0);
}

TEST(harness, filters_select_by_substrings_and_leave_out_by_dash)
{
	EXPECT_TRUE(lib_filter_selects(NULL, "vmm.map"));
	EXPECT_TRUE(lib_filter_selects("", "vmm.map"));
	EXPECT_TRUE(lib_filter_selects("vmm.", "vmm.map"));
	EXPECT_FALSE(lib_filter_selects("smp", "vmm.map"));
	EXPECT_TRUE(lib_filter_selects("smp,vmm.", "vmm.map"));   /* any plain term */
	EXPECT_FALSE(lib_filter_selects("vmm.,-map", "vmm.map")); /* but no dashed one */
	EXPECT_TRUE(lib_filter_selects("-smp", "vmm.map"));       /* only dashed: all but those */
	EXPECT_FALSE(lib_filter_selects("-smp", "smp.switch"));
	EXPECT_TRUE(lib_filter_selects(",,vmm.,", "vmm.map")); /* empty terms mean nothing */
	EXPECT_TRUE(lib_filter_selects("-", "vmm.map"));       /* nor does a lone dash */
}
