/* The in-kernel benchmark runner: times each case, sorts the samples, prints JSON. */
#include <mmbench/kbench.h>

#include <arch/arch.h>
#include <lib/filter.h>
#include <lib/print.h>
#include <lib/string.h>
#include <mmbench/samples.h>

extern const struct kbench_case __start_mm_benches[];
extern const struct kbench_case __stop_mm_benches[];

static struct kbench_state state; /* large: not on the kernel stack */

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
		if (!lib_filter_selects(filter, name))
			continue;
		memset(&state, 0, sizeof(state));
		state.arg = c->arg;
		state.variant = c->variant;
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
		bench_print_samples(lib_printf, state.cycles, state.samples, hz);
	}
	lib_printf("\n]}\n==MM-BENCH-JSON-END==\n");
	return failed;
}
