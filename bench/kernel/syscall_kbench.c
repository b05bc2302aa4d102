/*
 * The system-call benchmarks on our kernel: every row of MMB_SYS_WORKLOADS runs the
 * ring-3 program mmbench_sys.elf (bench/syscall/: the same workload source the Linux
 * program is built from) in a fresh space, which times its own system calls with the TSC
 * and leaves the samples in its argument pages. The rows that need the space active on a
 * second CPU start the same program there first, spinning in ring 3 until told to stop.
 */
#include <mmbench/kbench.h>

#include <lib/string.h>
#include <mm/region.h>
#include <mmbench/sys_workloads.h>
#include <mmtest/smp.h>

#include "kernel/ring3/user_run.h"

extern const char mmbench_sys_elf[], mmbench_sys_elf_end[];

/* Where the second CPU's program keeps its run and its stack: in the argument pages after
 * the workload's run, and a stack region of its own below the main one. */
#define KEEP_CPU_RUN_OFFSET 0x8000ull
#define KEEP_CPU_STACK_TOP (X86_USER_STACK_TOP - 0x100000ull)
/* A CPU that has not started spinning after this many polls is reported, not waited for. */
#define JOIN_POLL_LIMIT 100000000ull

_Static_assert(sizeof(struct mmb_sys_run) <= KEEP_CPU_RUN_OFFSET &&
                   KEEP_CPU_RUN_OFFSET + sizeof(struct mmb_sys_run) <= X86_USER_ARGS_SIZE,
               "both runs fit in the argument pages");

/* Large: not on the kernel stack. */
static struct mmb_sys_run run;

struct sys_case {
	struct kbench_state *s;
	struct x86_user_env env;
	const char *error;
};

/* Runs the program with the run at args; NULL or what went wrong. */
static const char *run_program(const struct x86_user_env *env, uintptr_t args, uintptr_t stack_top)
{
	struct x86_user_result r;
	int status = x86_user_run(env->space, env->entry, stack_top, args, &r);
	if (status != X86_USER_EXITED)
		return "the program faulted";
	return r.value == 0 ? NULL : "the workload failed";
}

/* The run at args, read back. */
static bool read_run(const struct x86_user_env *env, uintptr_t args)
{
	return x86_user_peek(env->space, &run, args, sizeof run) == MM_OK;
}

/* Index 0 runs the workload once index 1 spins in the space; then stops index 1. */
static void on_cpu(unsigned index, void *arg)
{
	struct sys_case *c = arg;
	uintptr_t keep_args = c->env.args + KEEP_CPU_RUN_OFFSET;
	if (index == 1) {
		const char *error = run_program(&c->env, keep_args, KEEP_CPU_STACK_TOP);
		if (error)
			c->error = error;
		return;
	}
	uint32_t spinning = 0;
	for (uint64_t polls = 0; !spinning; polls++) {
		if (polls == JOIN_POLL_LIMIT ||
		    x86_user_peek(c->env.space, &spinning,
		                  keep_args + offsetof(struct mmb_sys_run, spinning),
		                  sizeof spinning) != MM_OK) {
			c->error = "the second CPU did not start spinning";
			break;
		}
	}
	if (!c->error)
		c->error = run_program(&c->env, c->env.args, c->env.stack_top);
	uint32_t stop = 1;
	if (x86_user_poke(c->env.space, keep_args + offsetof(struct mmb_sys_run, stop), &stop,
	                  sizeof stop) != MM_OK)
		c->error = "cannot stop the second CPU";
}

/* Sets the row up in c->env's space and runs it; NULL or what went wrong. */
static const char *measure(struct sys_case *c, mm_space_t space, uint32_t kind, unsigned cpus)
{
	size_t size = (size_t)(mmbench_sys_elf_end - mmbench_sys_elf);
	if (x86_user_env_load_elf(&c->env, space, mmbench_sys_elf, size) != MM_OK)
		return "cannot load mmbench_sys.elf";
	memset(&run, 0, sizeof run);
	run.kind = kind;
	run.iterations = c->s->iterations;
	run.arg = c->s->arg;
	if (x86_user_poke(space, c->env.args, &run, sizeof run) != MM_OK)
		return "cannot write the run";
	if (cpus == 1) {
		c->error = run_program(&c->env, c->env.args, c->env.stack_top);
	} else {
		struct mm_region_spec stack = {
		    .start = KEEP_CPU_STACK_TOP - X86_USER_STACK_SIZE,
		    .length = X86_USER_STACK_SIZE,
		    .flags = MM_FLG_US | MM_FLG_WR | MM_REGION_FIXED | MM_REGION_POPULATE,
		    .section = MM_SECTION_STACK,
		};
		memset(&run, 0, sizeof run);
		run.kind = MMB_SYS_KEEP_CPU;
		if (mm_region_map(space, &stack) != stack.start ||
		    x86_user_poke(space, c->env.args + KEEP_CPU_RUN_OFFSET, &run, sizeof run) != MM_OK)
			return "cannot set the second CPU up";
		mm_test_on_cpus(2, on_cpu, c);
	}
	/* The run says what failed inside the workload; the runner's own reason otherwise. */
	if (!read_run(&c->env, c->env.args))
		return "cannot read the samples back";
	if (run.error[0]) {
		run.error[sizeof run.error - 1] = 0;
		return c->error ? run.error : "the workload failed without a reason";
	}
	if (c->error)
		return c->error;
	for (unsigned i = 0; i < run.samples && i < MMB_SYS_MAX_SAMPLES; i++)
		kbench_record(c->s, run.cycles[i]);
	return NULL;
}

static void sys_workload(struct kbench_state *s)
{
	uint32_t kind = MMB_SYS_VARIANT_KIND(s->variant);
	unsigned cpus = MMB_SYS_VARIANT_CPUS(s->variant);
	if (cpus > mm_test_cpu_count()) {
		s->skip = "not enough CPUs";
		return;
	}
	struct sys_case c = {.s = s};
	mm_space_t space = mm_create_space(NULL);
	s->error = space ? measure(&c, space, kind, cpus) : "mm_create_space failed";
	if (space)
		mm_destroy_space(space);
}

#define SYS_ROW(name, kind, arg, iterations, cpus)                                                 \
	KBENCH_VARIANT(name, sys_workload, arg, iterations, MMB_SYS_VARIANT(kind, cpus));
MMB_SYS_WORKLOADS(SYS_ROW)
