/*
 * A tiny test harness that runs the same test sources as a host process and inside the
 * kernel. Each TEST() puts a descriptor in the "mm_tests" linker section; the runner walks
 * the section (the linker provides __start_mm_tests / __stop_mm_tests).
 *
 * EXPECT_* record a failure and go on; ASSERT_* record it and return from the test.
 *
 * A test may defer work to its end (mm_test_defer): the runner runs it however the test
 * returned, an ASSERT_* included, so what a test made is never left behind. A fixture
 * (TEST_F) wraps a test: set_up runs before it, tear_down after its deferred work, and both
 * may record failures, which is how one fixture checks that every test under it leaves
 * memory as it found it.
 */
#ifndef MMTEST_TEST_H
#define MMTEST_TEST_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MM_TEST_MAX_DEFERRED 8

struct mm_test_deferred {
	void (*fn)(void *arg);
	void *arg;
};

struct mm_test_ctx {
	const char *suite;
	const char *name;
	unsigned failures;
	/* Run last-in first-out when the test returns; see mm_test_defer. */
	struct mm_test_deferred deferred[MM_TEST_MAX_DEFERRED];
	unsigned n_deferred;
	/* The fixture's own state, kept from set_up to tear_down. */
	uint64_t fixture_state[4];
};

struct mm_test_fixture {
	void (*set_up)(struct mm_test_ctx *t);
	void (*tear_down)(struct mm_test_ctx *t);
};

struct mm_test_case {
	const char *suite;
	const char *name;
	void (*fn)(struct mm_test_ctx *t);
	const struct mm_test_fixture *fixture; /* NULL: none */
};

#define MMT_REGISTER(fixture, suite, name)                                                         \
	static void suite##__##name(struct mm_test_ctx *t);                                            \
	static const struct mm_test_case suite##__##name##__case                                       \
	    __attribute__((used, section("mm_tests"), aligned(sizeof(void *)))) = {                    \
	        #suite, #name, suite##__##name, fixture};                                              \
	static void suite##__##name(struct mm_test_ctx *t)

#define TEST(suite, name) MMT_REGISTER(NULL, suite, name)
#define TEST_F(fixture, suite, name) MMT_REGISTER(&(fixture), suite, name)

/*
 * fn(arg) runs when the test returns, after the work deferred later than it. Deferring more
 * than MM_TEST_MAX_DEFERRED calls runs fn at once and records a failure.
 */
void mm_test_defer(struct mm_test_ctx *t, void (*fn)(void *arg), void *arg);

/* Runs one case as the runner does (fixture, test, deferred work) into *t; returns t->failures. */
unsigned mm_test_run_case(const struct mm_test_case *c, struct mm_test_ctx *t);

void mm_test_fail(struct mm_test_ctx *t, const char *file, int line, const char *expr, uint64_t a,
                  uint64_t b);

#define MMT_CMP(a, op, b, on_fail)                                                                 \
	do {                                                                                           \
		uint64_t mmt_a = (uint64_t)(a), mmt_b = (uint64_t)(b);                                     \
		if (!(mmt_a op mmt_b)) {                                                                   \
			mm_test_fail(t, __FILE__, __LINE__, #a " " #op " " #b, mmt_a, mmt_b);                  \
			on_fail;                                                                               \
		}                                                                                          \
	} while (0)

#define EXPECT_EQ(a, b) MMT_CMP(a, ==, b, (void)0)
#define EXPECT_NE(a, b) MMT_CMP(a, !=, b, (void)0)
#define EXPECT_LT(a, b) MMT_CMP(a, <, b, (void)0)
#define EXPECT_LE(a, b) MMT_CMP(a, <=, b, (void)0)
#define EXPECT_GE(a, b) MMT_CMP(a, >=, b, (void)0)
#define EXPECT_TRUE(c) MMT_CMP(!!(c), ==, 1, (void)0)
#define EXPECT_FALSE(c) MMT_CMP(!!(c), ==, 0, (void)0)
/* Kept by hand: clang-format would put a space before the ")" after "return". */
/* clang-format off */
#define ASSERT_EQ(a, b) MMT_CMP(a, ==, b, return)
#define ASSERT_NE(a, b) MMT_CMP(a, !=, b, return)
#define ASSERT_GE(a, b) MMT_CMP(a, >=, b, return)
#define ASSERT_TRUE(c) MMT_CMP(!!(c), ==, 1, return)
#define ASSERT_FALSE(c) MMT_CMP(!!(c), ==, 0, return)
/* clang-format on */

/*
 * Runs the registered tests the filter selects, printing one line per test and a final
 * "N passed, N failed" line. Returns the number failed. The filter (lib/filter.h) is matched
 * against "suite.name"; NULL or "": every test. Example: "smp,vmm.,-vmm.map_until".
 */
unsigned mm_test_run_all(const char *filter);

#ifdef __cplusplus
}
#endif

#endif /* MMTEST_TEST_H */
