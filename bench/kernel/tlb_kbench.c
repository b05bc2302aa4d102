/*
 * In-kernel TLB benchmarks: the cost of a shootdown as the initiator sees it (unmap of 1 or
 * 512 pages while 1, 2 or every CPU runs the space), of a switch between two spaces, and of
 * a bare IPI round trip. The other CPUs spin in the space (mm_test_on_cpus runs them), so
 * they take each IPI at once, as CPUs running a program would.
 */
#include <mmbench/kbench.h>

#include <arch/arch.h>
#include <lib/cpumask.h>
#include <lib/smp_call.h>
#include <mm/vmm.h>
#include <mmtest/smp.h>

#define BENCH_VA ((uintptr_t)0x0000200000000000ull)
/* A CPU that has not joined after this many spins is reported, not waited for forever. */
#define JOIN_SPIN_LIMIT 400000000ull

struct spinning {
	struct kbench_state *s;
	mm_space_t space;
	void (*timed)(struct spinning *);
	unsigned others; /* CPUs besides the initiator that run the space */
	unsigned joined;
	unsigned stop;
};

static void run_cpu(unsigned index, void *arg)
{
	struct spinning *sp = arg;
	if (index == 0) {
		uint64_t spins = 0;
		while (__atomic_load_n(&sp->joined, __ATOMIC_ACQUIRE) != sp->others) {
			if (++spins == JOIN_SPIN_LIMIT) {
				sp->s->error = "a CPU did not join the space";
				break;
			}
			arch_cpu_relax();
		}
		if (!sp->s->error)
			sp->timed(sp);
		__atomic_store_n(&sp->stop, 1, __ATOMIC_RELEASE);
		return;
	}
	mm_set(sp->space);
	__atomic_fetch_add(&sp->joined, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&sp->stop, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
	mm_set(mm_kernel_space());
}

/* Runs timed on this CPU, which runs the space, while cpus - 1 others run it too.
 * cpus == 0: every CPU there is. */
static void with_space_active(struct kbench_state *s, unsigned cpus,
                              void (*timed)(struct spinning *))
{
	unsigned available = mm_test_cpu_count();
	if (cpus == 0) {
		/* "All" on a machine of 2 CPUs or fewer is a case measured already. */
		if (available <= 2) {
			s->skip = "no more CPUs than the 2-CPU case";
			return;
		}
		cpus = available;
	}
	if (cpus > available) {
		s->skip = "not enough CPUs";
		return;
	}
	struct spinning sp = {.s = s, .space = mm_create_space(0), .timed = timed, .others = cpus - 1};
	if (!sp.space) {
		s->error = "mm_create_space failed";
		return;
	}
	mm_set(sp.space);
	mm_test_on_cpus(cpus, run_cpu, &sp);
	mm_set(mm_kernel_space());
	mm_destroy_space(sp.space);
}

/* One unmap of arg pages per iteration (the mapping, not timed, is made again each time). */
static void unmap_timed(struct spinning *sp)
{
	struct kbench_state *s = sp->s;
	size_t bytes = (size_t)s->arg * MM_PAGE_SIZE;
	for (unsigned i = 0; i <= s->iterations; i++) {
		if (mm_map_range(sp->space, BENCH_VA, bytes, MM_FLG_WR | MM_FLG_US) != BENCH_VA) {
			s->error = "map failed";
			return;
		}
		uint64_t t0 = arch_cycles();
		int error = mm_umap_range(sp->space, BENCH_VA, bytes, 0);
		uint64_t t1 = arch_cycles();
		if (error != MM_OK) {
			s->error = "unmap failed";
			return;
		}
		if (i > 0)
			kbench_record(s, t1 - t0);
	}
}

static void unmap_active_1(struct kbench_state *s)
{
	with_space_active(s, 1, unmap_timed);
}

static void unmap_active_2(struct kbench_state *s)
{
	with_space_active(s, 2, unmap_timed);
}

static void unmap_active_all(struct kbench_state *s)
{
	with_space_active(s, 0, unmap_timed);
}

KBENCH("BM_tlb_shootdown_unmap_active1/pages", unmap_active_1, 1, 300);
KBENCH("BM_tlb_shootdown_unmap_active1/pages", unmap_active_1, 512, 30);
KBENCH("BM_tlb_shootdown_unmap_active2/pages", unmap_active_2, 1, 300);
KBENCH("BM_tlb_shootdown_unmap_active2/pages", unmap_active_2, 512, 30);
KBENCH("BM_tlb_shootdown_unmap_active_all/pages", unmap_active_all, 1, 300);
KBENCH("BM_tlb_shootdown_unmap_active_all/pages", unmap_active_all, 512, 30);

/* One mm_set from space a to space b (and back, untimed), each with a page in use. With
 * PCIDs the switch keeps b's entries from last time; without, every switch flushes. */
static void space_switch(struct kbench_state *s)
{
	mm_space_t a = mm_create_space(0), b = mm_create_space(0);
	if (!a || !b || mm_map_range(a, BENCH_VA, MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US) != BENCH_VA ||
	    mm_map_range(b, BENCH_VA, MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US) != BENCH_VA) {
		s->error = "setting up the spaces failed";
	} else {
		for (unsigned i = 0; i <= s->iterations; i++) {
			mm_set(a);
			uint64_t t0 = arch_cycles();
			mm_set(b);
			uint64_t t1 = arch_cycles();
			if (i > 0)
				kbench_record(s, t1 - t0);
		}
	}
	mm_set(mm_kernel_space());
	if (a)
		mm_destroy_space(a);
	if (b)
		mm_destroy_space(b);
}

KBENCH("BM_tlb_space_switch/spaces", space_switch, 2, 1000);

/* A cross-CPU call to one other CPU running nothing in particular, and its acknowledgement:
 * the floor under every shootdown. */
static void nothing(void *arg)
{
	(void)arg;
}

static void ipi_timed(struct spinning *sp)
{
	struct kbench_state *s = sp->s;
	arch_cpumask_t target = {{0}};
	unsigned other = arch_cpu_id() == 0 ? 1 : 0;
	cpumask_set(&target, other);
	for (unsigned i = 0; i <= s->iterations; i++) {
		arch_irq_state_t irq = arch_irq_save();
		uint64_t t0 = arch_cycles();
		smp_call_start(&target, nothing, NULL);
		smp_call_finish();
		uint64_t t1 = arch_cycles();
		arch_irq_restore(irq);
		if (i > 0)
			kbench_record(s, t1 - t0);
	}
}

static void ipi_round_trip(struct kbench_state *s)
{
	with_space_active(s, 2, ipi_timed);
}

KBENCH("BM_tlb_ipi_round_trip/cpus", ipi_round_trip, 2, 300);
