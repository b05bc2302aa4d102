/*
 * Fixtures the suites share.
 *
 * leak_checked: a TEST_F(leak_checked, ...) test must end with as many free frames
 * (per-CPU caches and the small-object heap's slabs counted as free) and as many live
 * kmalloc objects as it started with. The check runs after the test's deferred work, so a
 * space made by test_space is gone by then, even when an ASSERT_* ended the test early.
 */
#ifndef TESTS_SUITES_FIXTURES_H
#define TESTS_SUITES_FIXTURES_H

#include <mm/vmm.h>
#include <mmtest/test.h>

extern const struct mm_test_fixture leak_checked;

/* The test owns space: it is destroyed when the test returns. Returns space (NULL passes). */
mm_space_t test_owns_space(struct mm_test_ctx *t, mm_space_t space);

/* A new space the test owns; NULL (and a recorded failure) if it cannot be made. */
mm_space_t test_space(struct mm_test_ctx *t);

#endif /* TESTS_SUITES_FIXTURES_H */
