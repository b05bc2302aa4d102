/* Small helpers shared by the suites. */
#ifndef TESTS_SUITES_HELPERS_H
#define TESTS_SUITES_HELPERS_H

#include <mm/phys.h>

/* Free frames now, per-CPU caches included: what every error test checks is unchanged. */
static inline uint64_t free_frames(void)
{
	struct mm_phys_stats s;
	mm_phys_get_stats(&s);
	return s.free_frames;
}

#endif /* TESTS_SUITES_HELPERS_H */
