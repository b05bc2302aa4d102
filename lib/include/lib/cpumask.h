/*
 * Sets of CPUs (arch_cpumask_t) with atomic updates: a CPU joins or leaves a set while
 * another snapshots it.
 */
#ifndef LIB_CPUMASK_H
#define LIB_CPUMASK_H

#include <stdbool.h>

#include <arch/arch.h>

#define CPUMASK_WORDS (sizeof(((arch_cpumask_t *)0)->bits) / sizeof(uint64_t))

static inline void cpumask_set(arch_cpumask_t *m, unsigned cpu)
{
	__atomic_fetch_or(&m->bits[cpu / 64], 1ull << (cpu % 64), __ATOMIC_SEQ_CST);
}

static inline void cpumask_clear(arch_cpumask_t *m, unsigned cpu)
{
	__atomic_fetch_and(&m->bits[cpu / 64], ~(1ull << (cpu % 64)), __ATOMIC_SEQ_CST);
}

static inline bool cpumask_test(const arch_cpumask_t *m, unsigned cpu)
{
	return (__atomic_load_n(&m->bits[cpu / 64], __ATOMIC_RELAXED) >> (cpu % 64)) & 1;
}

static inline bool cpumask_is_empty(const arch_cpumask_t *m)
{
	for (unsigned w = 0; w < CPUMASK_WORDS; w++)
		if (__atomic_load_n(&m->bits[w], __ATOMIC_ACQUIRE))
			return false;
	return true;
}

/* A consistent-enough copy: each word is read once, atomically. */
static inline void cpumask_snapshot(arch_cpumask_t *dst, const arch_cpumask_t *src)
{
	for (unsigned w = 0; w < CPUMASK_WORDS; w++)
		dst->bits[w] = __atomic_load_n(&src->bits[w], __ATOMIC_SEQ_CST);
}

#endif /* LIB_CPUMASK_H */
