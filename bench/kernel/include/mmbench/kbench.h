/*
 * In-kernel benchmarks: each KBENCH() case puts a descriptor in the "mm_benches" linker
 * section; the runner times every iteration with the TSC and prints one Google Benchmark
 * JSON document (median and p99 per case, in ns and cycles) between the lines
 * ==MM-BENCH-JSON-BEGIN== and ==MM-BENCH-JSON-END==.
 */
#ifndef MMBENCH_KBENCH_H
#define MMBENCH_KBENCH_H

#include <stddef.h>
#include <stdint.h>

#define KBENCH_MAX_SAMPLES 1024

struct kbench_state {
	uint64_t arg;        /* the case's argument (pages, bytes, ...) */
	unsigned iterations; /* how many timed iterations to run */
	unsigned samples;    /* filled by kbench_record */
	const char *error;   /* set by the case when it failed: reported as an error */
	const char *skip;    /* set by the case when this machine cannot run it (one CPU) */
	uint64_t variant;    /* the case's variant (KBENCH_VARIANT), for a function several share */
	uint64_t cycles[KBENCH_MAX_SAMPLES];
};

struct kbench_case {
	const char *name;
	void (*fn)(struct kbench_state *s);
	uint64_t arg;
	unsigned iterations;
	uint64_t variant;
};

#define KBENCH_CAT2(a, b) a##b
#define KBENCH_CAT(a, b) KBENCH_CAT2(a, b)

/* Registers fn under "name:arg" with the given number of timed iterations; fn finds
 * variant in its state (one function serving several kinds of case). */
#define KBENCH_VARIANT(name_str, fn, arg_value, iters, variant_value)                              \
	static const struct kbench_case KBENCH_CAT(kbench_case_, __COUNTER__)                          \
	    __attribute__((used, section("mm_benches"), aligned(sizeof(void *)))) = {                  \
	        name_str, fn, arg_value, iters, variant_value}

/* Registers fn under "name:arg" with the given number of timed iterations. */
#define KBENCH(name_str, fn, arg_value, iters) KBENCH_VARIANT(name_str, fn, arg_value, iters, 0)

/* Records one timed iteration of `cycles`. */
static inline void kbench_record(struct kbench_state *s, uint64_t cycles)
{
	if (s->samples < KBENCH_MAX_SAMPLES)
		s->cycles[s->samples++] = cycles;
}

/* Runs every case whose "name:arg" the filter selects (lib/filter.h; NULL or "" = all). post: the number of cases
 * that failed (reported as errors in the JSON). */
unsigned mm_kbench_run_all(const char *filter);

#endif /* MMBENCH_KBENCH_H */
