/*
 * Page-fault latency from ring 3: a user program (x86_uprog_time_write / _time_read) reads
 * the TSC before and after its first access to each page, so every sample is one real
 * user-mode fault, entry and iretq included, and nothing else. Cases: a demand-zero write,
 * a read of never-written memory (the shared zero page), a copy-on-write break after
 * mm_space_fork (frame shared with the parent: copied), the same in the parent once the
 * child is gone (sole owner: reused), and an access to a page already mapped (no fault:
 * what the timing itself costs).
 */
#include <mmbench/kbench.h>

#include <arch/arch.h>
#include <mm/region.h>

#include "kernel/ring3/user_run.h"

/* The pages faulted on: 2 MiB aligned, away from the environment's own regions. */
#define BENCH_VA 0x0000000040000000ull
/* In the environment's argument pages: struct x86_uprog_args, then the samples. */
#define OUT_OFFSET MM_PAGE_SIZE

_Static_assert(OUT_OFFSET + KBENCH_MAX_SAMPLES * sizeof(uint64_t) <= X86_USER_ARGS_SIZE,
               "the samples fit in the argument pages");

enum fault_case { DEMAND_ZERO_WRITE, ZERO_PAGE_READ, COW_COPY, COW_REUSE, NO_FAULT };

static uintptr_t bench_region(mm_space_t space, size_t pages, uint32_t flags)
{
	struct mm_region_spec spec = {
	    .start = BENCH_VA,
	    .length = pages * MM_PAGE_SIZE,
	    .flags = flags | MM_FLG_WR | MM_FLG_US | MM_REGION_FIXED,
	    .section = MM_SECTION_DATA,
	};
	return mm_region_map(space, &spec);
}

/* Runs prog over `pages` pages from BENCH_VA in env's space and records each access. The
 * samples array is written by the kernel first, so it is the space's own memory (not
 * copy-on-write) and the program's stores to it never fault. */
static const char *time_pages(struct kbench_state *s, const struct x86_user_env *env,
                              const char *prog, size_t pages)
{
	static uint64_t samples[KBENCH_MAX_SAMPLES];
	uintptr_t out = env->args + OUT_OFFSET;
	struct x86_uprog_args a = {BENCH_VA, pages, out};
	if (x86_user_poke(env->space, env->args, &a, sizeof a) != MM_OK ||
	    x86_user_poke(env->space, out, samples, pages * sizeof(uint64_t)) != MM_OK)
		return "cannot write the program's arguments";
	struct x86_user_result r;
	int status = x86_user_env_run(env, prog, env->args, &r);
	if (status != X86_USER_EXITED || r.value != pages)
		return "the timing program did not finish";
	if (x86_user_peek(env->space, samples, out, pages * sizeof(uint64_t)) != MM_OK)
		return "cannot read the samples back";
	for (size_t i = 0; i < pages; i++)
		kbench_record(s, samples[i]);
	return NULL;
}

/* space with env and a region of pages from BENCH_VA (populate: region flags); NULL or
 * what went wrong. */
static const char *user_region(struct x86_user_env *env, mm_space_t space, size_t pages,
                               uint32_t populate)
{
	if (x86_user_env_init(env, space) != MM_OK)
		return "cannot set up a user space";
	if (bench_region(space, pages, populate) != BENCH_VA)
		return "mm_region_map failed";
	return NULL;
}

/* user_region, then every page written from ring 3: a parent with frames of its own, as
 * before a fork. */
static const char *written_parent(struct x86_user_env *env, mm_space_t space, size_t pages,
                                  uint32_t populate)
{
	const char *error = user_region(env, space, pages, populate);
	if (error)
		return error;
	struct x86_uprog_args a = {BENCH_VA, pages, 0};
	struct x86_user_result r;
	if (x86_user_poke(space, env->args, &a, sizeof a) != MM_OK ||
	    x86_user_env_run(env, x86_uprog_touch, env->args, &r) != X86_USER_EXITED)
		return "cannot write the pages before the fork";
	return NULL;
}

/* Sets the case up in space (and *child, for copy-on-write) and takes the samples; NULL or
 * what went wrong. */
static const char *measure(struct kbench_state *s, enum fault_case which, mm_space_t space,
                           mm_space_t *child)
{
	size_t pages = s->iterations;
	struct x86_user_env env;
	const char *prog = which == ZERO_PAGE_READ ? x86_uprog_time_read : x86_uprog_time_write;
	if (which != COW_COPY && which != COW_REUSE) {
		uint32_t populate = which == NO_FAULT ? MM_REGION_POPULATE : 0;
		const char *error = user_region(&env, space, pages, populate);
		return error ? error : time_pages(s, &env, prog, pages);
	}
	/* The parent's own frames, written (by demand-zero faults) before the fork. */
	const char *error = written_parent(&env, space, pages, 0);
	if (error)
		return error;
	*child = mm_create_space(NULL);
	if (!*child || mm_space_fork(*child, space, MM_FLG_CLONE_USER) != MM_OK)
		return "mm_space_fork failed";
	if (which == COW_COPY) {
		/* The child writes: every frame is shared with the parent, so it is copied. */
		struct x86_user_env child_env = env;
		child_env.space = *child;
		return time_pages(s, &child_env, prog, pages);
	}
	/* The child goes: the parent's pages are still copy-on-write, but it holds the only
	 * reference, so the fault just makes each one writable again. */
	mm_destroy_space(*child);
	*child = NULL;
	return time_pages(s, &env, prog, pages);
}

static void user_fault(struct kbench_state *s, enum fault_case which)
{
	mm_space_t space = mm_create_space(NULL), child = NULL;
	s->error = space ? measure(s, which, space, &child) : "mm_create_space failed";
	if (child)
		mm_destroy_space(child);
	if (space)
		mm_destroy_space(space);
}

static void demand_zero_write(struct kbench_state *s)
{
	user_fault(s, DEMAND_ZERO_WRITE);
}

static void zero_page_read(struct kbench_state *s)
{
	user_fault(s, ZERO_PAGE_READ);
}

static void cow_copy(struct kbench_state *s)
{
	user_fault(s, COW_COPY);
}

static void cow_reuse(struct kbench_state *s)
{
	user_fault(s, COW_REUSE);
}

static void no_fault(struct kbench_state *s)
{
	user_fault(s, NO_FAULT);
}

/* ---- Fork, then writes from ring 3 -------------------------------------------------------
 * The parent's region of arg pages is written first (its own frames), then each iteration
 * forks a child (MM_FLG_CLONE_USER | variant) and the child writes from ring 3. */

#define FORK_TABLE_PAGES 512 /* one whole leaf table: its span */

/* The child's first write after an on-demand fork: the fault copies the span's leaf table
 * (512 entries, a reference each) and then the page. One sample per fork. */
static const char *first_write(struct kbench_state *s, mm_space_t space)
{
	struct x86_user_env env;
	const char *error = written_parent(&env, space, FORK_TABLE_PAGES, MM_REGION_POPULATE);
	for (unsigned i = 0; !error && i < s->iterations; i++) {
		mm_space_t child = mm_create_space(NULL);
		if (!child || mm_space_fork(child, space, MM_FLG_CLONE_USER) != MM_OK) {
			mm_destroy_space(child);
			return "mm_space_fork failed";
		}
		struct x86_user_env child_env = env;
		child_env.space = child;
		/* time_pages reads the samples back for one page; its sample array is written
		 * first, which unshares the argument pages' table, not the region's. */
		error = time_pages(s, &child_env, x86_uprog_time_write, 1);
		mm_destroy_space(child);
	}
	return error;
}

/* Runs measure in a fresh space, destroyed afterwards; its verdict is the case's error. */
static void in_fresh_space(struct kbench_state *s,
                           const char *(*measure)(struct kbench_state *, mm_space_t))
{
	mm_space_t space = mm_create_space(NULL);
	s->error = space ? measure(s, space) : "mm_create_space failed";
	if (space)
		mm_destroy_space(space);
}

static void cow_first_write(struct kbench_state *s)
{
	in_fresh_space(s, first_write);
}

/* Fork, then the child writes every one of arg pages from ring 3 (x86_uprog_touch): the
 * whole cost, timed together, of a fork whose child changes all its memory. */
static const char *fork_then_write(struct kbench_state *s, mm_space_t space)
{
	struct x86_user_env env;
	const char *error = written_parent(&env, space, s->arg, MM_REGION_POPULATE);
	uint32_t flags = MM_FLG_CLONE_USER | (uint32_t)s->variant;
	for (unsigned i = 0; !error && i <= s->iterations; i++) {
		mm_space_t child = mm_create_space(NULL);
		if (!child)
			return "mm_create_space failed";
		struct x86_user_env child_env = env;
		child_env.space = child;
		/* The program's arguments {BENCH_VA, arg} are in the argument pages the child
		 * got from the parent (written_parent put them there). */
		struct x86_user_result r;
		uint64_t t0 = arch_cycles();
		int forked = mm_space_fork(child, space, flags);
		int status = forked == MM_OK
		                 ? x86_user_env_run(&child_env, x86_uprog_touch, child_env.args, &r)
		                 : -1;
		uint64_t t1 = arch_cycles();
		mm_destroy_space(child);
		if (forked != MM_OK)
			return "mm_space_fork failed";
		if (status != X86_USER_EXITED || r.value != s->arg)
			return "the child's writes failed";
		if (i > 0)
			kbench_record(s, t1 - t0);
	}
	return error;
}

static void fork_write_all(struct kbench_state *s)
{
	in_fresh_space(s, fork_then_write);
}

KBENCH("BM_user_fault/cow_first_write_after_fork", cow_first_write, 1, 100);
KBENCH_VARIANT("BM_fork_then_write_all/pages", fork_write_all, 4096, 10, 0);
KBENCH_VARIANT("BM_fork_eager_then_write_all/pages", fork_write_all, 4096, 10, MM_FLG_CLONE_EAGER);

/* The argument is the number of faults (pages), which is also the number of samples. */
KBENCH("BM_user_fault/demand_zero_write", demand_zero_write, 1000, 1000);
KBENCH("BM_user_fault/zero_page_read", zero_page_read, 1000, 1000);
KBENCH("BM_user_fault/cow_write_copy", cow_copy, 1000, 1000);
KBENCH("BM_user_fault/cow_write_sole_owner", cow_reuse, 1000, 1000);
KBENCH("BM_user_fault/mapped_write_no_fault", no_fault, 1000, 1000);
