/* The figures of one benchmark's samples, printed the same way by both runners. */
#include <mmbench/samples.h>

#include <lib/sort.h>

static uint64_t percentile(const uint64_t *sorted, unsigned n, unsigned pct)
{
	return sorted[(uint64_t)(n - 1) * pct / 100];
}

/* ns with three decimals through the integer MHz, as integer parts: Google Benchmark reads
 * plain JSON numbers, and neither runner may use floating point (the kernel has no FPU
 * state to spare). */
static void print_ns(bench_out_fn out, const char *key, uint64_t cycles, uint64_t hz,
                     const char *sep)
{
	uint64_t mhz = hz / 1000000ull ? hz / 1000000ull : 1;
	uint64_t ps = hz ? cycles * 1000000ull / mhz : 0;
	out("\"%s\": %llu.%03llu%s", key, (unsigned long long)(ps / 1000),
	    (unsigned long long)(ps % 1000), sep);
}

void bench_print_samples(bench_out_fn out, uint64_t *cycles, unsigned n, uint64_t hz)
{
	sort_u64(cycles, n);
	uint64_t p50 = percentile(cycles, n, 50);
	uint64_t p99 = percentile(cycles, n, 99);
	out("\"iterations\": %u, ", n);
	print_ns(out, "real_time", p50, hz, ", ");
	print_ns(out, "cpu_time", p50, hz, ", ");
	out("\"time_unit\": \"ns\", ");
	print_ns(out, "p50_ns", p50, hz, ", ");
	print_ns(out, "p99_ns", p99, hz, ", ");
	out("\"p50_cycles\": %llu, \"p99_cycles\": %llu, \"min_cycles\": %llu, \"max_cycles\": %llu}",
	    (unsigned long long)p50, (unsigned long long)p99, (unsigned long long)cycles[0],
	    (unsigned long long)cycles[n - 1]);
}
