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

/* A small deterministic generator (xorshift64*): the same sequence on every platform. */
static inline uint64_t test_random(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

#endif /* TESTS_SUITES_HELPERS_H */
