/* The kernel's side of <mmtest/smp.h>: the application processors run the work (through
 * the runner, <arch/x86_64/smp.h>), and probes go through the real MMU. */
#include <mmtest/smp.h>

#include <arch/arch.h>
#include <arch/x86_64/cpu.h>
#include <arch/x86_64/features.h>
#include <arch/x86_64/probe.h>
#include <arch/x86_64/smp.h>
#include <arch/x86_64/user.h>
#include <lib/print.h>

unsigned mm_test_cpu_count(void)
{
	return arch_cpu_count();
}

struct on_cpu_job {
	mm_test_cpu_fn fn;
	void *arg;
	unsigned index;
	unsigned cpu;
};

static void on_cpu_entry(void *p)
{
	const struct on_cpu_job *job = p;
	job->fn(job->index, job->arg);
}

void mm_test_on_cpus(unsigned n, mm_test_cpu_fn fn, void *arg)
{
	/* On the caller's stack: every job outlives the waits below. */
	struct on_cpu_job jobs[ARCH_MAX_CPUS];
	unsigned count = arch_cpu_count(), self = arch_cpu_id(), started = 0;
	if (n < 1 || n > count) {
		lib_printf("mm_test_on_cpus: %u CPUs asked for, %u online\n", n, count);
		arch_panic("mm_test_on_cpus: bad CPU count");
	}
	for (unsigned cpu = 0; cpu < count && started + 1 < n; cpu++) {
		if (cpu == self)
			continue;
		struct on_cpu_job *job = &jobs[started];
		*job = (struct on_cpu_job){fn, arg, started + 1, cpu};
		if (x86_cpu_run(cpu, on_cpu_entry, job))
			started++;
	}
	if (started + 1 < n) {
		for (unsigned i = 0; i < started; i++)
			x86_cpu_wait(jobs[i].cpu);
		lib_printf("mm_test_on_cpus: only %u of the %u CPUs asked for were idle\n", started + 1, n);
		arch_panic("mm_test_on_cpus: CPUs busy");
	}
	fn(0, arg);
	for (unsigned i = 0; i < started; i++)
		x86_cpu_wait(jobs[i].cpu);
}

/* SMAP forbids ring 0 the user half unless EFLAGS.AC is set: lifted for the one access. */
static bool probe(uintptr_t va, bool write, uint64_t *value)
{
	bool lift = va < X86_USER_END && x86_features.smap_on;
	if (lift)
		x86_stac();
	bool ok = write ? x86_probe_write64(va, *value) : x86_probe_read64(va, value);
	if (lift)
		x86_clac();
	return ok;
}

bool mm_test_probe_read(uintptr_t va, uint64_t *value)
{
	return probe(va, false, value);
}

bool mm_test_probe_write(uintptr_t va, uint64_t value)
{
	return probe(va, true, &value);
}
