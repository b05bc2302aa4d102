/*
 * mmbench_linux: the workloads of the in-kernel benchmarks (bench/kernel/), measured under
 * Linux, so that `tools/mm bench` can show Linux and our kernel side by side under exactly
 * the same QEMU settings. It runs as /init of an initramfs (tools/mmtool/linux.py builds
 * it), prints one Google Benchmark JSON document between the same markers as the kernel's
 * runner, and leaves QEMU.
 *
 * Every figure is taken and reported the way bench/kernel/runner.c does it: the TSC around
 * each iteration, the samples sorted, p50 and p99 as sorted[(n - 1) * pct / 100], min and
 * max, cycles turned into ns with the TSC frequency measured against the 8254 PIT (the
 * kernel's x86_tsc_calibrate, done here through ioperm) and the same integer arithmetic.
 * Under QEMU's -icount shift=0 the TSC counts guest instructions, one per ns.
 *
 * Names are the kernel's where the workload is the same; tools/mmtool/side_by_side.py holds
 * the pairing and what differs in each pair.
 *
 * Kernel command line: `mmbench=FILTER` (Linux hands unknown name=value words to init as
 * environment variables) runs only the cases FILTER selects (lib/filter.h: comma-separated
 * substrings, '-' to leave out). Started by hand
 * (not as process 1) it measures the machine it runs on, leaves the PIT alone (the TSC
 * frequency then comes from CLOCK_MONOTONIC_RAW) and just exits: a quick check of the
 * program itself, docs/benchmarks.md has the rest.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* the host config defines it; a by-hand build may not */
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <arch/x86_64/pit_tsc.h>
#include <lib/filter.h>
#include <mmbench/samples.h>
#include <mmbench/sys_workloads.h>

#define MAX_SAMPLES 1024 /* KBENCH_MAX_SAMPLES */
#define PAGE 4096ul
/* The kernel benchmarks' addresses: map+unmap and fork at 32 TiB, faults at 1 GiB. */
#define MAP_VA 0x0000200000000000ul
#define FAULT_VA 0x0000000040000000ul

#define BEGIN_MARKER "==MM-BENCH-JSON-BEGIN=="
#define END_MARKER "==MM-BENCH-JSON-END=="
#define DONE_LINE "mmbench-linux: done"

/* isa-debug-exit (qemu.py adds it to every machine): QEMU exits with (v << 1) | 1. */
#define DEBUG_EXIT_PORT 0xf4
#define DEBUG_EXIT_PASS 0x10
#define DEBUG_EXIT_FAIL 0x11

struct state {
	uint64_t arg;
	uint64_t variant; /* the case's, for a function several cases share */
	unsigned iterations;
	unsigned samples;
	const char *error;
	uint64_t cycles[MAX_SAMPLES];
};

struct bench_case {
	const char *name;
	void (*fn)(struct state *s);
	uint64_t arg;
	unsigned iterations;
	unsigned min_cpus; /* skipped (left out, listed in the context) on fewer CPUs */
	uint64_t variant;  /* handed to fn in its state */
};

static struct state state; /* large: not on the stack */

/* The kernel's x86_rdtsc: a plain RDTSC, no fence. */
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static void record(struct state *s, uint64_t cycles)
{
	if (s->samples < MAX_SAMPLES)
		s->cycles[s->samples++] = cycles;
}

/* ---- Output ------------------------------------------------------------------------------
 * Serial output leaves the tty layer asynchronously, by interrupts: every write is followed
 * by tcdrain so that no transmit interrupt lands in the next timed region, and so that
 * everything is out before QEMU exits. */

static char outbuf[1 << 16];
static size_t outlen;

static void flush_out(void)
{
	size_t done = 0;
	while (done < outlen) {
		ssize_t n = write(STDOUT_FILENO, outbuf + done, outlen - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	outlen = 0;
	tcdrain(STDOUT_FILENO);
}

__attribute__((format(printf, 1, 2))) static int out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(outbuf + outlen, sizeof(outbuf) - outlen, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(outbuf) - outlen) {
		outlen += (size_t)n;
	} else {
		/* Did not fit: send what is there and format again into the empty buffer. */
		flush_out();
		va_start(ap, fmt);
		n = vsnprintf(outbuf, sizeof(outbuf), fmt, ap);
		va_end(ap);
		outlen = n > 0 ? ((size_t)n < sizeof(outbuf) ? (size_t)n : sizeof(outbuf) - 1) : 0;
	}
	return n;
}

/* A JSON string value: quotes and backslashes escaped, control characters dropped. */
static void out_json_string(const char *text)
{
	out("\"");
	for (const char *p = text; *p; p++) {
		if (*p == '"' || *p == '\\')
			out("\\%c", *p);
		else if ((unsigned char)*p >= 0x20)
			out("%c", *p);
	}
	out("\"");
}

/* ---- TSC frequency -----------------------------------------------------------------------
 * The kernel's method, the same code (arch/x86_64/pit): three 10 ms one-shot countdowns of
 * PIT channel 2, TSC ticks per countdown, the median. Linux leaves channel 2 alone once
 * booted. */

static uint64_t tsc_hz_pit(void)
{
	if (ioperm(PIT_CH2_DATA, 2, 1) != 0 || ioperm(PIT_PORT_B, 1, 1) != 0)
		return 0;
	return pit_tsc_hz();
}

/* A cross-check (and the fallback without the PIT): TSC ticks over 20 ms of
 * CLOCK_MONOTONIC_RAW, which Linux itself derives from its own TSC calibration. */
static uint64_t tsc_hz_clock(void)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC_RAW, &a);
	uint64_t t0 = rdtsc();
	do
		clock_gettime(CLOCK_MONOTONIC_RAW, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000ll + (b.tv_nsec - a.tv_nsec) < 20000000ll);
	uint64_t t1 = rdtsc();
	uint64_t ns = (uint64_t)((b.tv_sec - a.tv_sec) * 1000000000ll + (b.tv_nsec - a.tv_nsec));
	return (t1 - t0) * 1000000000ull / ns;
}

/* ---- Memory helpers ----------------------------------------------------------------------- */

/* Anonymous private read-write memory at exactly va (NULL if that fails). */
static void *map_at(uintptr_t va, size_t bytes, int extra_flags)
{
	void *p = mmap((void *)va, bytes, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | extra_flags, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if ((uintptr_t)p != va) {
		munmap(p, bytes); /* a kernel without MAP_FIXED_NOREPLACE took it as a hint */
		return NULL;
	}
	return p;
}

/* Memory that a forked child writes and the parent reads: shared, populated. */
static uint64_t *shared_samples(void)
{
	static uint64_t *p;
	if (!p) {
		void *m = mmap(NULL, MAX_SAMPLES * sizeof(uint64_t), PROT_READ | PROT_WRITE,
		               MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		p = m == MAP_FAILED ? NULL : m;
	}
	return p;
}

/* This process first among runnable ones on its CPU (see main): a child made with fork
 * is an ordinary task again (SCHED_RESET_ON_FORK); one that times must ask again. */
static void realtime_priority(void)
{
	struct sched_param sp = {.sched_priority = 50};
	sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp);
}

/* ---- map+unmap (bench/kernel/vmm_kbench.c: BM_vmm_map_unmap) -----------------------------
 * Ours: mm_map_range (frames allocated and zeroed, entries written) then mm_umap_range
 * (one TLB invalidation, frames and emptied tables freed). Here: mmap with MAP_POPULATE,
 * which write-faults every page of a private writable mapping in (a zeroed frame each), then
 * munmap. One untimed round first, as ours. */

static void map_unmap(struct state *s)
{
	size_t bytes = (size_t)s->arg * PAGE;
	for (unsigned i = 0; i <= s->iterations; i++) {
		uint64_t t0 = rdtsc();
		void *p = map_at(MAP_VA, bytes, MAP_POPULATE);
		int error = p ? munmap(p, bytes) : -1;
		uint64_t t1 = rdtsc();
		if (!p || error) {
			s->error = "mmap or munmap failed";
			break;
		}
		if (i > 0)
			record(s, t1 - t0);
	}
}

/* ---- Faults (bench/kernel/fault_kbench.c: BM_user_fault) ---------------------------------
 * The user program of the kernel's benchmark (arch/x86_64/kernel/user_programs.S,
 * time_loop), instruction for instruction: for each of count pages from base, LFENCE+RDTSC
 * before and after one access to the page's first byte, the difference stored in out[i].
 * Page aligned so that the loop's code is one page: a child's first fetch from a second
 * code page would otherwise fault inside a timed access. */

struct fault_args {
	uint64_t base, count;
	uint64_t *out;
};

uint64_t mmbench_time_write(const struct fault_args *a);
uint64_t mmbench_time_read(const struct fault_args *a);
uint64_t mmbench_touch(const struct fault_args *a);

#define TIME_LOOP(name, access)                                                                    \
	"	.text\n"                                                                                     \
	"	.balign 4096\n"                                                                              \
	"	.globl " name "\n"                                                                         \
	"	.type " name ", @function\n" name ":\n"                                                    \
	"	pushq %r15\n"                                                                                \
	"	movq 0(%rdi), %rsi\n"                                                                        \
	"	movq 8(%rdi), %rcx\n"                                                                        \
	"	movq 16(%rdi), %rdi\n"                                                                       \
	"	movq %rcx, %r15\n"                                                                           \
	"	testq %rcx, %rcx\n"                                                                          \
	"	jz 2f\n"                                                                                     \
	"1:\n"                                                                                         \
	"	lfence\n"                                                                                    \
	"	rdtsc\n"                                                                                     \
	"	shlq $32, %rdx\n"                                                                            \
	"	orq %rax, %rdx\n"                                                                            \
	"	movq %rdx, %r8\n"                                                                            \
	"	" access "\n"                                                                              \
	"	lfence\n"                                                                                    \
	"	rdtsc\n"                                                                                     \
	"	shlq $32, %rdx\n"                                                                            \
	"	orq %rax, %rdx\n"                                                                            \
	"	subq %r8, %rdx\n"                                                                            \
	"	movq %rdx, (%rdi)\n"                                                                         \
	"	addq $8, %rdi\n"                                                                             \
	"	addq $4096, %rsi\n"                                                                          \
	"	decq %rcx\n"                                                                                 \
	"	jnz 1b\n"                                                                                    \
	"2:\n"                                                                                         \
	"	movq %r15, %rax\n"                                                                           \
	"	popq %r15\n"                                                                                 \
	"	ret\n"                                                                                       \
	"	.size " name ", . - " name "\n"

/* x86_uprog_touch: one byte (0xA5) written at the start of each page. */
__asm__(TIME_LOOP("mmbench_time_write", "movb $1, (%rsi)")
            TIME_LOOP("mmbench_time_read",
                      "movzbl (%rsi), %r9d") "	.text\n"
                                             "	.globl mmbench_touch\n"
                                             "	.type mmbench_touch, @function\n"
                                             "mmbench_touch:\n"
                                             "	movq 0(%rdi), %rsi\n"
                                             "	movq 8(%rdi), %rcx\n"
                                             "	movq %rcx, %rax\n"
                                             "	testq %rcx, %rcx\n"
                                             "	jz 2f\n"
                                             "1:\n"
                                             "	movb $0xA5, (%rsi)\n"
                                             "	addq $4096, %rsi\n"
                                             "	decq %rcx\n"
                                             "	jnz 1b\n"
                                             "2:\n"
                                             "	ret\n"
                                             "	.size mmbench_touch, . - mmbench_touch\n");

enum fault_case { DEMAND_ZERO_WRITE, ZERO_PAGE_READ, COW_COPY, COW_REUSE, NO_FAULT };

static uint64_t samples_local[MAX_SAMPLES];

static const char *time_pages(struct state *s, bool read, uint64_t *out, size_t pages)
{
	/* The samples are this process's own memory, written before: storing them never
	 * faults inside the timed part (the kernel pokes its sample array the same way). */
	memset(out, 0, pages * sizeof(uint64_t));
	struct fault_args a = {FAULT_VA, pages, out};
	uint64_t done = read ? mmbench_time_read(&a) : mmbench_time_write(&a);
	if (done != pages)
		return "the timing loop did not finish";
	for (size_t i = 0; i < pages; i++)
		record(s, out[i]);
	return NULL;
}

static const char *measure_faults(struct state *s, enum fault_case which)
{
	size_t pages = s->iterations, bytes = pages * PAGE;
	void *region = map_at(FAULT_VA, bytes, which == NO_FAULT ? MAP_POPULATE : 0);
	if (!region)
		return "mmap of the region failed";
	const char *error = NULL;
	if (which != COW_COPY && which != COW_REUSE) {
		error = time_pages(s, which == ZERO_PAGE_READ, samples_local, pages);
		munmap(region, bytes);
		return error;
	}
	/* The parent's own frames, written before the fork (x86_uprog_touch). */
	struct fault_args touch = {FAULT_VA, pages, NULL};
	mmbench_touch(&touch);
	uint64_t *shared = shared_samples();
	if (!shared) {
		munmap(region, bytes);
		return "no shared memory for the child's samples";
	}
	memset(shared, 0, pages * sizeof(uint64_t));
	pid_t pid = fork();
	if (pid < 0) {
		munmap(region, bytes);
		return "fork failed";
	}
	if (pid == 0) {
		if (which == COW_COPY) {
			/* The child writes: every frame is shared with the parent, so it is copied. */
			realtime_priority();
			struct fault_args a = {FAULT_VA, pages, shared};
			_exit(mmbench_time_write(&a) == pages ? 0 : 1);
		}
		_exit(0);
	}
	int status = 0;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		error = "the child failed";
	else if (which == COW_COPY)
		for (size_t i = 0; i < pages; i++)
			record(s, shared[i]);
	else
		/* The child is gone: the parent's pages are still write-protected, but it holds
		 * the only reference, so each fault just makes its page writable again. */
		error = time_pages(s, false, samples_local, pages);
	munmap(region, bytes);
	return error;
}

static void demand_zero_write(struct state *s)
{
	s->error = measure_faults(s, DEMAND_ZERO_WRITE);
}

static void zero_page_read(struct state *s)
{
	s->error = measure_faults(s, ZERO_PAGE_READ);
}

static void cow_copy(struct state *s)
{
	s->error = measure_faults(s, COW_COPY);
}

static void cow_reuse(struct state *s)
{
	s->error = measure_faults(s, COW_REUSE);
}

static void no_fault(struct state *s)
{
	s->error = measure_faults(s, NO_FAULT);
}

/* ---- fork (bench/kernel/vmm_kbench.c: BM_fork) -------------------------------------------
 * Ours times mm_space_fork of a space holding arg MiB of written memory; the child's
 * creation and destruction are outside the timed part. Here: fork() until it returns in
 * the parent. The parent runs SCHED_FIFO and the child as an ordinary task, so the child
 * cannot run before the parent has read the TSC; its exit and the wait are not timed. */

static void fork_mib(struct state *s)
{
	size_t bytes = (size_t)s->arg << 20;
	void *region = NULL;
	if (bytes && !(region = map_at(MAP_VA, bytes, MAP_POPULATE))) {
		s->error = "no memory for the parent";
		return;
	}
	for (unsigned i = 0; i <= s->iterations; i++) {
		uint64_t t0 = rdtsc();
		pid_t pid = fork();
		uint64_t t1 = rdtsc();
		if (pid == 0)
			_exit(0);
		if (pid < 0) {
			s->error = "fork failed";
			break;
		}
		int status;
		waitpid(pid, &status, 0);
		if (i > 0)
			record(s, t1 - t0);
	}
	if (region)
		munmap(region, bytes);
}

/* ---- Shootdowns (bench/kernel/tlb_kbench.c: BM_tlb_shootdown_unmap_*) --------------------------
 * Ours: map arg pages (untimed, frames allocated and zeroed), then time their unmap while
 * 1, 2 or every CPU runs the space, the others spinning in it. Here: mmap with MAP_POPULATE
 * (untimed), munmap timed, with this thread on CPU 0 and one thread of the process spinning
 * on each other CPU in the case. Skipped, as ours are, where the machine lacks the CPUs
 * ("all" on a 2-CPU machine is the 2-CPU case, not measured twice). */

struct spinners {
	pthread_t threads[64];
	unsigned started;
	volatile unsigned running;
	volatile int stop;
};

static void *spin(void *arg)
{
	struct spinners *sp = arg;
	__atomic_fetch_add(&sp->running, 1, __ATOMIC_RELEASE);
	while (!sp->stop)
		__asm__ volatile("pause" ::: "memory");
	return NULL;
}

static bool pin_self(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof set, &set) == 0;
}

/* Threads spinning on CPUs 1 .. others; false if one could not be started there. */
static bool start_spinners(struct spinners *sp, unsigned others)
{
	for (unsigned k = 1; k <= others && k < 64; k++) {
		pthread_attr_t attr;
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET((int)k, &set);
		pthread_attr_init(&attr);
		pthread_attr_setaffinity_np(&attr, sizeof set, &set);
		int error = pthread_create(&sp->threads[sp->started], &attr, spin, sp);
		pthread_attr_destroy(&attr);
		if (error)
			return false;
		sp->started++;
	}
	while (__atomic_load_n(&sp->running, __ATOMIC_ACQUIRE) != sp->started)
		sched_yield();
	return sp->started == others;
}

static void stop_spinners(struct spinners *sp)
{
	sp->stop = 1;
	for (unsigned k = 0; k < sp->started; k++)
		pthread_join(sp->threads[k], NULL);
}

static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* This thread on CPU 0 and cpus - 1 threads of the process spinning on CPUs 1 and up, so
 * that cpus CPUs run the mm; false if that could not be arranged. */
static bool spinners_begin(struct spinners *sp, unsigned cpus)
{
	memset(sp, 0, sizeof *sp);
	return pin_self(0) && start_spinners(sp, cpus - 1);
}

/* The spinners stopped, this thread free to run on every CPU again. */
static void spinners_end(struct spinners *sp)
{
	stop_spinners(sp);
	cpu_set_t all;
	CPU_ZERO(&all);
	for (unsigned c = 0; c < online_cpus() && c < CPU_SETSIZE; c++)
		CPU_SET(c, &all);
	sched_setaffinity(0, sizeof all, &all);
}

/* cpus running the mm during the unmap, this one included; 0: every CPU. */
static void unmap_active(struct state *s, unsigned cpus)
{
	static struct spinners sp;
	if (cpus == 0)
		cpus = online_cpus();
	if (!spinners_begin(&sp, cpus))
		s->error = "cannot run a thread on every CPU of the case";
	size_t bytes = (size_t)s->arg * PAGE;
	for (unsigned i = 0; !s->error && i <= s->iterations; i++) {
		void *p = map_at(MAP_VA, bytes, MAP_POPULATE);
		if (!p) {
			s->error = "mmap failed";
			break;
		}
		uint64_t t0 = rdtsc();
		int error = munmap(p, bytes);
		uint64_t t1 = rdtsc();
		if (error) {
			s->error = "munmap failed";
			break;
		}
		if (i > 0)
			record(s, t1 - t0);
	}
	spinners_end(&sp);
}

static void unmap_active_1(struct state *s)
{
	unmap_active(s, 1);
}

static void unmap_active_2(struct state *s)
{
	unmap_active(s, 2);
}

static void unmap_active_all(struct state *s)
{
	unmap_active(s, 0);
}

/* ---- System calls (bench/syscall/: the same workload source as our kernel's program) -------
 * The workload runs here in this process, through sys_linux.c's raw system calls; rows that
 * need the space active on a second CPU get the spinners above, as the kernel's runner
 * starts the program on its second CPU. */

static struct mmb_sys_run sys_run; /* large: not on the stack */

static void sys_workload(struct state *s)
{
	static struct spinners sp;
	unsigned cpus = MMB_SYS_VARIANT_CPUS(s->variant);
	memset(&sys_run, 0, sizeof sys_run);
	sys_run.kind = MMB_SYS_VARIANT_KIND(s->variant);
	sys_run.iterations = s->iterations;
	sys_run.arg = s->arg;
	if (cpus > 1 && !spinners_begin(&sp, cpus)) {
		s->error = "cannot run a thread on every CPU of the case";
		spinners_end(&sp);
		return;
	}
	if (mmb_sys_run(&sys_run) != 0)
		s->error = sys_run.error;
	if (cpus > 1)
		spinners_end(&sp);
	for (unsigned i = 0; !s->error && i < sys_run.samples; i++)
		record(s, sys_run.cycles[i]);
}

/* ---- The cases: the kernel's names, arguments and iteration counts ------------------------ */

static const struct bench_case cases[] = {
    {"BM_vmm_map_unmap/pages", map_unmap, 1, 1000, 1, 0},
    {"BM_vmm_map_unmap/pages", map_unmap, 16, 1000, 1, 0},
    {"BM_vmm_map_unmap/pages", map_unmap, 256, 200, 1, 0},
    {"BM_vmm_map_unmap/pages", map_unmap, 4096, 50, 1, 0},
    {"BM_fork/MiB", fork_mib, 0, 100, 1, 0},
    {"BM_fork/MiB", fork_mib, 16, 20, 1, 0},
    {"BM_fork/MiB", fork_mib, 256, 5, 1, 0},
    {"BM_user_fault/demand_zero_write", demand_zero_write, 1000, 1000, 1, 0},
    {"BM_user_fault/zero_page_read", zero_page_read, 1000, 1000, 1, 0},
    {"BM_user_fault/cow_write_copy", cow_copy, 1000, 1000, 1, 0},
    {"BM_user_fault/cow_write_sole_owner", cow_reuse, 1000, 1000, 1, 0},
    {"BM_user_fault/mapped_write_no_fault", no_fault, 1000, 1000, 1, 0},
    {"BM_tlb_shootdown_unmap_active1/pages", unmap_active_1, 1, 300, 1, 0},
    {"BM_tlb_shootdown_unmap_active1/pages", unmap_active_1, 512, 30, 1, 0},
    {"BM_tlb_shootdown_unmap_active2/pages", unmap_active_2, 1, 300, 2, 0},
    {"BM_tlb_shootdown_unmap_active2/pages", unmap_active_2, 512, 30, 2, 0},
    {"BM_tlb_shootdown_unmap_active_all/pages", unmap_active_all, 1, 300, 3, 0},
    {"BM_tlb_shootdown_unmap_active_all/pages", unmap_active_all, 512, 30, 3, 0},
#define SYS_ROW(name, kind, arg, iterations, cpus)                                                 \
	{name, sys_workload, arg, iterations, cpus, MMB_SYS_VARIANT(kind, cpus)},
    MMB_SYS_WORKLOADS(SYS_ROW)
#undef SYS_ROW
};

/* ---- Context: what this Linux is ---------------------------------------------------------- */

static void read_small_file(const char *path, char *buf, size_t size)
{
	buf[0] = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = 0;
}

static bool cpu_has_erms(void)
{
	uint32_t a = 7, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return (b >> 9) & 1;
}

static void out_context(uint64_t hz, uint64_t hz_pit, uint64_t hz_clock, unsigned cpus,
                        const char *skipped)
{
	struct utsname u;
	char cmdline[512], thp[128], pti[256], spectre_v2[256], rt_runtime[64];
	uname(&u);
	read_small_file("/proc/cmdline", cmdline, sizeof cmdline);
	read_small_file("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof thp);
	read_small_file("/sys/devices/system/cpu/vulnerabilities/meltdown", pti, sizeof pti);
	read_small_file("/sys/devices/system/cpu/vulnerabilities/spectre_v2", spectre_v2,
	                sizeof spectre_v2);
	read_small_file("/proc/sys/kernel/sched_rt_runtime_us", rt_runtime, sizeof rt_runtime);
	char machine[600];
	snprintf(machine, sizeof machine, "Linux %s %s", u.release, u.version);
	out("{\"context\": {\"executable\": \"mmbench_linux\", \"machine\": ");
	out_json_string(machine);
	out(", \"num_cpus\": %u, \"mhz_per_cpu\": %llu, \"cpu_scaling_enabled\": false, "
	    "\"library_build_type\": \"release\", \"timer\": \"tsc\",\n",
	    cpus, (unsigned long long)(hz / 1000000));
	out(" \"linux\": {\"release\": ");
	out_json_string(u.release);
	out(", \"version\": ");
	out_json_string(u.version);
	out(", \"cmdline\": ");
	out_json_string(cmdline);
	out(", \"thp_system\": ");
	out_json_string(thp);
	out(", \"thp_this_process\": \"disabled (PR_SET_THP_DISABLE)\", \"meltdown\": ");
	out_json_string(pti);
	out(", \"spectre_v2\": ");
	out_json_string(spectre_v2);
	out(", \"sched_rt_runtime_us\": ");
	out_json_string(rt_runtime);
	out(", \"clear_page\": \"%s\", \"tsc_hz_pit\": %llu, \"tsc_hz_clock\": %llu, "
	    "\"tsc_hz_source\": \"%s\", \"skipped\": ",
	    cpu_has_erms() ? "rep stosb (ERMS)" : "rep stosq or stores (no ERMS)",
	    (unsigned long long)hz_pit, (unsigned long long)hz_clock,
	    hz_pit ? "pit" : "clock_monotonic_raw");
	out_json_string(skipped);
	out("}},\n");
}

/* ---- Setting the stage ------------------------------------------------------------------- */

static void setup(void)
{
	/* /proc and /sys for the context and the RT throttle; failures only cost context. */
	mkdir("/proc", 0555);
	mkdir("/sys", 0555);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	/*
	 * The kernel suite runs alone on its CPU; here the benchmark runs SCHED_FIFO so that no
	 * kernel thread or child is scheduled inside a timed region (interrupts still are),
	 * with the RT throttle off so that a long case is not paused after 0.95 s.
	 */
	int fd = open("/proc/sys/kernel/sched_rt_runtime_us", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "-1\n", 3) != 3)
			out("mmbench-linux: could not turn the RT throttle off\n");
		close(fd);
	}
	realtime_priority();
	/* Debian's THP default is "always": 4 KiB pages only, as our kernel's cases map them. */
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	/* Let boot's deferred work settle (free under -icount sleep=off: idle time is skipped). */
	struct timespec settle = {1, 0};
	nanosleep(&settle, NULL);
}

static void leave(bool ok)
{
	out("%s\n", DONE_LINE);
	flush_out();
	sync();
	if (ioperm(DEBUG_EXIT_PORT, 1, 1) == 0)
		outb(ok ? DEBUG_EXIT_PASS : DEBUG_EXIT_FAIL, DEBUG_EXIT_PORT);
	/* No isa-debug-exit device: power off (QEMU exits with status 0). */
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

int main(void)
{
	/* As /init, stdout is /dev/console already; started by hand it is whatever it is. */
	bool is_init = getpid() == 1;
	const char *filter = getenv("mmbench");
	if (is_init)
		setup();
	out("mmbench-linux: measuring the TSC\n");
	flush_out();
	/* The PIT's ports only when this is the machine's own init: never a host's. */
	uint64_t hz_pit = is_init ? tsc_hz_pit() : 0;
	uint64_t hz_clock = tsc_hz_clock();
	uint64_t hz = hz_pit ? hz_pit : hz_clock;
	unsigned cpus = online_cpus();

	char skipped[1024] = "";
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
		if (cpus < cases[k].min_cpus) {
			size_t len = strlen(skipped);
			snprintf(skipped + len, sizeof skipped - len, "%s%s:%llu (needs %u CPUs)",
			         len ? ", " : "", cases[k].name, (unsigned long long)cases[k].arg,
			         cases[k].min_cpus);
		}

	unsigned failed = 0;
	bool first = true;
	out("%s\n", BEGIN_MARKER);
	out_context(hz, hz_pit, hz_clock, cpus, skipped);
	out("\"benchmarks\": [\n");
	flush_out();
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		const struct bench_case *c = &cases[k];
		char name[96];
		snprintf(name, sizeof name, "%s:%llu", c->name, (unsigned long long)c->arg);
		if (!lib_filter_selects(filter, name))
			continue;
		if (cpus < c->min_cpus)
			continue;
		memset(&state, 0, sizeof state);
		state.arg = c->arg;
		state.variant = c->variant;
		state.iterations = c->iterations < MAX_SAMPLES ? c->iterations : MAX_SAMPLES;
		errno = 0;
		c->fn(&state);
		int error_number = errno;
		out("%s  {\"name\": \"%s\", \"run_name\": \"%s\", \"run_type\": \"iteration\", "
		    "\"repetitions\": 1, \"repetition_index\": 0, \"threads\": 1, ",
		    first ? "" : ",\n", name, name);
		first = false;
		if (state.error || state.samples == 0) {
			failed++;
			out("\"error_occurred\": true, \"error_message\": \"%s%s%s\"}",
			    state.error ? state.error : "no samples", error_number ? ": " : "",
			    error_number ? strerror(error_number) : "");
			flush_out();
			continue;
		}
		bench_print_samples(out, state.cycles, state.samples, hz);
		flush_out();
	}
	out("\n]}\n%s\n", END_MARKER);
	if (is_init)
		leave(failed == 0);
	flush_out();
	return failed ? 1 : 0;
}
