/*
 * One benchmark's figures as both in-kernel runners print them (ours in the kernel, and the
 * Linux program that runs the same workloads as /init): the timed iterations' cycle counts,
 * sorted, give p50 and p99 as sorted[(n - 1) * pct / 100], and the JSON fields of Google
 * Benchmark's schema plus ours (p50/p99 in ns and cycles, min and max cycles). One source
 * for both, so that the two sides of a comparison are computed the same way.
 */
#ifndef MMBENCH_SAMPLES_H
#define MMBENCH_SAMPLES_H

#include <stdint.h>

/* The runner's formatted output: lib_printf in the kernel, a buffered printf on Linux. */
typedef int (*bench_out_fn)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sorts cycles[0..n) and prints, through out, the fields from "iterations" to the record's
 * closing brace. hz: the cycle counter's frequency. pre: n > 0. */
void bench_print_samples(bench_out_fn out, uint64_t *cycles, unsigned n, uint64_t hz);

#endif /* MMBENCH_SAMPLES_H */
