/* Runs the TEST() cases registered in the mm_tests section, on the host or in the kernel. */
#include <mmtest/test.h>

#include <stdbool.h>

#include <lib/filter.h>
#include <lib/print.h>
#include <lib/string.h>

extern const struct mm_test_case __start_mm_tests[];
extern const struct mm_test_case __stop_mm_tests[];

void mm_test_fail(struct mm_test_ctx *t, const char *file, int line, const char *expr, uint64_t a,
                  uint64_t b)
{
	t->failures++;
	lib_printf("    %s:%d: expected %s (left 0x%llx = %lld, right 0x%llx = %lld)\n", file, line,
	           expr, (unsigned long long)a, (long long)a, (unsigned long long)b, (long long)b);
}

void mm_test_defer(struct mm_test_ctx *t, void (*fn)(void *arg), void *arg)
{
	if (t->n_deferred == MM_TEST_MAX_DEFERRED) {
		mm_test_fail(t, __FILE__, __LINE__, "n_deferred < MM_TEST_MAX_DEFERRED", t->n_deferred,
		             MM_TEST_MAX_DEFERRED);
		fn(arg);
		return;
	}
	t->deferred[t->n_deferred++] = (struct mm_test_deferred){fn, arg};
}

unsigned mm_test_run_case(const struct mm_test_case *c, struct mm_test_ctx *t)
{
	*t = (struct mm_test_ctx){.suite = c->suite, .name = c->name};
	if (c->fixture && c->fixture->set_up)
		c->fixture->set_up(t);
	c->fn(t);
	while (t->n_deferred) {
		struct mm_test_deferred d = t->deferred[--t->n_deferred];
		d.fn(d.arg);
	}
	if (c->fixture && c->fixture->tear_down)
		c->fixture->tear_down(t);
	return t->failures;
}

static bool matches(const struct mm_test_case *c, const char *filter)
{
	char full[128];
	lib_snprintf(full, sizeof(full), "%s.%s", c->suite, c->name);
	return lib_filter_selects(filter, full);
}

unsigned mm_test_run_all(const char *filter)
{
	unsigned passed = 0, failed = 0;
	for (const struct mm_test_case *c = __start_mm_tests; c < __stop_mm_tests; c++) {
		if (!matches(c, filter))
			continue;
		struct mm_test_ctx t;
		lib_printf("[ RUN  ] %s.%s\n", c->suite, c->name);
		if (mm_test_run_case(c, &t)) {
			failed++;
			lib_printf("[ FAIL ] %s.%s\n", c->suite, c->name);
		} else {
			passed++;
			lib_printf("[  OK  ] %s.%s\n", c->suite, c->name);
		}
	}
	lib_printf("%u passed, %u failed\n", passed, failed);
	return failed;
}
