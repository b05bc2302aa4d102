/*
 * The system-call workloads (mmbench/sys_workloads.h), written once for our kernel and for
 * Linux: only the shim below mmb_sys_* differs. Each sample is the TSC around the calls of
 * one iteration, read in ring 3; the setup of a row (the memory a fork copies, the mapping
 * mprotect changes) is outside the timed region.
 */
#include <mmbench/sys_workloads.h>

/* run->error = what (no C library on our kernel's side: copied by hand). */
static int fail(struct mmb_sys_run *run, const char *what)
{
	size_t i = 0;
	for (; what[i] && i + 1 < sizeof run->error; i++)
		run->error[i] = what[i];
	run->error[i] = 0;
	return -1;
}

static void record(struct mmb_sys_run *run, unsigned iteration, uint64_t t0, uint64_t t1)
{
	/* Iteration 0 is the untimed first round. */
	if (iteration > 0 && run->samples < MMB_SYS_MAX_SAMPLES)
		run->cycles[run->samples++] = t1 - t0;
}

static int null_call(struct mmb_sys_run *run)
{
	for (unsigned i = 0; i <= run->iterations; i++) {
		uint64_t t0 = mmb_sys_cycles();
		mmb_sys_null();
		uint64_t t1 = mmb_sys_cycles();
		record(run, i, t0, t1);
	}
	return 0;
}

static int map_populate(struct mmb_sys_run *run)
{
	size_t bytes = (size_t)run->arg * MMB_SYS_PAGE;
	for (unsigned i = 0; i <= run->iterations; i++) {
		uint64_t t0 = mmb_sys_cycles();
		void *p = mmb_sys_mmap(bytes, true);
		int error = p ? mmb_sys_munmap(p, bytes) : -1;
		uint64_t t1 = mmb_sys_cycles();
		if (error)
			return fail(run, p ? "munmap failed" : "mmap failed");
		record(run, i, t0, t1);
	}
	return 0;
}

/* Each iteration changes the permissions: read-only on even ones, read-write on odd. */
static int protect(struct mmb_sys_run *run)
{
	size_t bytes = (size_t)run->arg * MMB_SYS_PAGE;
	void *p = mmb_sys_mmap(bytes, true);
	if (!p)
		return fail(run, "mmap failed");
	int error = 0;
	for (unsigned i = 0; i <= run->iterations && !error; i++) {
		uint64_t t0 = mmb_sys_cycles();
		error = mmb_sys_mprotect(p, bytes, i & 1);
		uint64_t t1 = mmb_sys_cycles();
		record(run, i, t0, t1);
	}
	mmb_sys_munmap(p, bytes);
	return error ? fail(run, "mprotect failed") : 0;
}

/* The memory is written once before the first fork, so that it is the program's own
 * (not the zero page) and every fork copies arg MiB of mapped pages. */
static int fork_wait(struct mmb_sys_run *run)
{
	size_t bytes = (size_t)run->arg << 20;
	char *p = bytes ? mmb_sys_mmap(bytes, true) : NULL;
	if (bytes && !p)
		return fail(run, "mmap failed");
	for (size_t off = 0; off < bytes; off += MMB_SYS_PAGE)
		p[off] = 1;
	int error = 0;
	for (unsigned i = 0; i <= run->iterations && !error; i++) {
		uint64_t t0 = mmb_sys_cycles();
		long child = mmb_sys_fork();
		error = child > 0 ? mmb_sys_wait(child) : -1;
		uint64_t t1 = mmb_sys_cycles();
		record(run, i, t0, t1);
	}
	if (bytes)
		mmb_sys_munmap(p, bytes);
	return error ? fail(run, "fork or wait failed") : 0;
}

static int unmap_active(struct mmb_sys_run *run)
{
	size_t bytes = (size_t)run->arg * MMB_SYS_PAGE;
	for (unsigned i = 0; i <= run->iterations; i++) {
		void *p = mmb_sys_mmap(bytes, true);
		if (!p)
			return fail(run, "mmap failed");
		uint64_t t0 = mmb_sys_cycles();
		int error = mmb_sys_munmap(p, bytes);
		uint64_t t1 = mmb_sys_cycles();
		if (error)
			return fail(run, "munmap failed");
		record(run, i, t0, t1);
	}
	return 0;
}

int mmb_sys_run(struct mmb_sys_run *run)
{
	run->samples = 0;
	run->error[0] = 0;
	if (run->iterations > MMB_SYS_MAX_SAMPLES)
		run->iterations = MMB_SYS_MAX_SAMPLES;
	switch (run->kind) {
	case MMB_SYS_NULL_CALL:
		return null_call(run);
	case MMB_SYS_MAP_POPULATE:
		return map_populate(run);
	case MMB_SYS_PROTECT:
		return protect(run);
	case MMB_SYS_FORK_WAIT:
		return fork_wait(run);
	case MMB_SYS_UNMAP_ACTIVE:
		return unmap_active(run);
	}
	return fail(run, "no such workload");
}
