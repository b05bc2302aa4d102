/*
 * The system-call benchmarks: workloads written once (workloads.c) and compiled twice, as a
 * ring-3 program for our kernel and into the Linux benchmark program, each time over a
 * small shim of the calls below (sys_mmkernel.c, sys_linux.c) that issues the platform's own
 * system call. Both sides time the same code, through a real `syscall` instruction, with
 * the same TSC reads, and print the same rows (tools/mmtool/side_by_side.py: "system calls").
 *
 * Our kernel has no processes: fork copies the calling program's space and does not run
 * the copy, and wait destroys it. On Linux the child is a process that exits at once, and
 * wait reaps it. That difference is the row's subject, and the report says so.
 */
#ifndef MMBENCH_SYS_WORKLOADS_H
#define MMBENCH_SYS_WORKLOADS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MMB_SYS_MAX_SAMPLES 1024
#define MMB_SYS_PAGE 4096u

/* What a workload does; the row's argument says how much. */
enum mmb_sys_kind {
	/* Not a workload: our kernel's runner starts the program with this kind on a second
	 * CPU to keep it in the space (struct mmb_sys_run's spinning and stop). */
	MMB_SYS_KEEP_CPU = 0,
	MMB_SYS_NULL_CALL,    /* a call that does nothing: the round trip */
	MMB_SYS_MAP_POPULATE, /* mmap of arg pages, populated, then munmap */
	MMB_SYS_PROTECT,      /* mprotect of a populated mapping of arg pages, RO then RW */
	MMB_SYS_FORK_WAIT,    /* fork with arg MiB of written memory, then wait */
	/* munmap of arg populated pages while another CPU runs the space (the runner starts
	 * it there): the shootdown. */
	MMB_SYS_UNMAP_ACTIVE,
};

/*
 * The rows: X(name, kind, argument, timed iterations, CPUs needed). The name gets
 * ":argument" as the other benchmarks' names do. Every side runs every row its CPU count
 * allows, in this order.
 */
#define MMB_SYS_WORKLOADS(X)                                                                       \
	X("BM_sys_null", MMB_SYS_NULL_CALL, 0, 1000, 1)                                                \
	X("BM_sys_mmap_populate_munmap/pages", MMB_SYS_MAP_POPULATE, 1, 1000, 1)                       \
	X("BM_sys_mmap_populate_munmap/pages", MMB_SYS_MAP_POPULATE, 16, 300, 1)                       \
	X("BM_sys_mmap_populate_munmap/pages", MMB_SYS_MAP_POPULATE, 256, 50, 1)                       \
	X("BM_sys_mmap_populate_munmap/pages", MMB_SYS_MAP_POPULATE, 4096, 10, 1)                      \
	X("BM_sys_mprotect/pages", MMB_SYS_PROTECT, 1, 1000, 1)                                        \
	X("BM_sys_mprotect/pages", MMB_SYS_PROTECT, 256, 300, 1)                                       \
	X("BM_sys_fork_wait/MiB", MMB_SYS_FORK_WAIT, 0, 100, 1)                                        \
	X("BM_sys_fork_wait/MiB", MMB_SYS_FORK_WAIT, 16, 20, 1)                                        \
	X("BM_sys_fork_wait/MiB", MMB_SYS_FORK_WAIT, 256, 5, 1)                                        \
	X("BM_sys_munmap_active2/pages", MMB_SYS_UNMAP_ACTIVE, 1, 300, 2)                              \
	X("BM_sys_munmap_active2/pages", MMB_SYS_UNMAP_ACTIVE, 512, 30, 2)

/* A row's kind and CPU count in one number, for the runners' case tables (their "variant"). */
#define MMB_SYS_VARIANT(kind, cpus) ((uint64_t)(kind) | ((uint64_t)(cpus) << 8))
#define MMB_SYS_VARIANT_KIND(variant) ((uint32_t)((variant)&0xff))
#define MMB_SYS_VARIANT_CPUS(variant) ((unsigned)((variant) >> 8))

/* One run of one row: filled by the runner, then by the workload. Lives in memory the
 * program can write (our kernel: its argument pages). */
struct mmb_sys_run {
	uint32_t kind;       /* in: enum mmb_sys_kind */
	uint32_t iterations; /* in: timed iterations, at most MMB_SYS_MAX_SAMPLES */
	uint64_t arg;        /* in: pages or MiB */
	uint32_t samples;    /* out: cycles[0, samples) */
	/* A second program in the same space that keeps a CPU in it (our kernel's runner for
	 * MMB_SYS_UNMAP_ACTIVE): it sets `spinning` once it runs and ends when `stop` is set. */
	uint32_t spinning;
	uint32_t stop;
	char error[100]; /* out: what failed, or "" */
	uint64_t cycles[MMB_SYS_MAX_SAMPLES];
};

/* Runs run->kind; 0, or -1 with run->error set. One untimed round first, as every
 * benchmark here. */
int mmb_sys_run(struct mmb_sys_run *run);

/* The TSC, read as both kernels' benchmark runners read it: a plain RDTSC, no fence. */
static inline uint64_t mmb_sys_cycles(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* ---- The shim: each platform's system calls (a few lines each) ---------------------------- */

/* A call that does nothing in the kernel. */
void mmb_sys_null(void);
/* Anonymous private read-write memory of `bytes` (a multiple of pages) where the kernel
 * chooses, every page mapped now when populate; NULL when refused. */
void *mmb_sys_mmap(size_t bytes, bool populate);
/* Unmaps what mmb_sys_mmap returned, whole. 0 or -1. */
int mmb_sys_munmap(void *addr, size_t bytes);
/* Makes [addr, addr + bytes) read-only or read-write. 0 or -1. */
int mmb_sys_mprotect(void *addr, size_t bytes, bool writable);
/* Forks the calling program: the parent's side only (on Linux the child exits at once).
 * A handle > 0 for mmb_sys_wait, or -1. */
long mmb_sys_fork(void);
/* Waits for the child of handle and frees it. 0 or -1. */
int mmb_sys_wait(long handle);

#endif /* MMBENCH_SYS_WORKLOADS_H */
