/* The in-kernel benchmark runner: times each case, sorts the samples, prints JSON. */
#include <mmbench/kbench.h>

#include <arch/arch.h>
#include <lib/print.h>
#include <lib/string.h>

extern const struct kbench_case __start_mm_benches[];
extern const struct kbench_case __stop_mm_benches[];

static struct kbench_state state; /* large: not on the kernel stack */

static void sort(uint64_t *v, unsigned n)
{
	/* Shell sort: no recursion, no allocation, fine for a thousand samples. */
	for (unsigned gap = n / 2; gap > 0; gap /= 2)
		for (unsigned i = gap; i < n; i++)
			for (unsigned j = i; j >= gap && v[j - gap] > v[j]; j -= gap) {
				uint64_t t = v[j];
				v[j] = v[j - gap];
				v[j - gap] = t;
			}
}

static uint64_t percentile(const uint64_t *sorted, unsigned n, unsigned pct)
{
	return sorted[(uint64_t)(n - 1) * pct / 100];
}

/* ns with three decimals, as integer parts: Google Benchmark reads plain JSON numbers. */
static void print_ns(const char *key, uint64_t cycles, uint64_t hz, const char *sep)
{
	uint64_t ps = hz ? cycles * 1000000ull / (hz / 1000000ull ? hz / 1000000ull : 1) : 0;
	lib_printf("\"%s\": %llu.%03llu%s", key, (unsigned long long)(ps / 1000),
	           (unsigned long long)(ps % 1000), sep);
}

unsigned mm_kbench_run_all(const char *filter)
{
	uint64_t hz = arch_cycles_per_second();
	unsigned failed = 0, first = 1;
	lib_printf("==MM-BENCH-JSON-BEGIN==\n");
	lib_printf("{\"context\": {\"executable\": \"mmkernel\", \"num_cpus\": %u, "
	           "\"mhz_per_cpu\": %llu, \"cpu_scaling_enabled\": false, "
	           "\"library_build_type\": \"release\", \"timer\": \"tsc\", \"pcid\": %s},\n",
	           arch_cpu_count(), (unsigned long long)(hz / 1000000),
	           arch_has_pcid() ? "true" : "false");
	lib_printf("\"benchmarks\": [\n");
	for (const struct kbench_case *c = __start_mm_benches; c < __stop_mm_benches; c++) {
		char name[96];
		lib_snprintf(name, sizeof(name), "%s:%llu", c->name, (unsigned long long)c->arg);
		if (filter && *filter && !lib_str_contains(name, filter))
			continue;
		memset(&state, 0, sizeof(state));
		state.arg = c->arg;
		state.iterations = c->iterations < KBENCH_MAX_SAMPLES ? c->iterations : KBENCH_MAX_SAMPLES;
		c->fn(&state);
		if (state.skip)
			continue; /* this machine cannot run it (one CPU): left out, not failed */
		lib_printf("%s  {\"name\": \"%s\", \"run_name\": \"%s\", \"run_type\": \"iteration\", "
		           "\"repetitions\": 1, \"repetition_index\": 0, \"threads\": 1, ",
		           first ? "" : ",\n", name, name);
		first = 0;
		if (state.error || state.samples == 0) {
			failed++;
			lib_printf("\"error_occurred\": true, \"error_message\": \"%s\"}",
			           state.error ? state.error : "no samples");
			continue;
		}
		sort(state.cycles, state.samples);
		uint64_t p50 = percentile(state.cycles, state.samples, 50);
		uint64_t p99 = percentile(state.cycles, state.samples, 99);
		lib_printf("\"iterations\": %u, ", state.samples);
		print_ns("real_time", p50, hz, ", ");
		print_ns("cpu_time", p50, hz, ", ");
		lib_printf("\"time_unit\": \"ns\", ");
		print_ns("p50_ns", p50, hz, ", ");
		print_ns("p99_ns", p99, hz, ", ");
		lib_printf("\"p50_cycles\": %llu, \"p99_cycles\": %llu, \"min_cycles\": %llu, "
		           "\"max_cycles\": %llu}",
		           (unsigned long long)p50, (unsigned long long)p99,
		           (unsigned long long)state.cycles[0],
		           (unsigned long long)state.cycles[state.samples - 1]);
	}
	lib_printf("\n]}\n==MM-BENCH-JSON-END==\n");
	return failed;
}
