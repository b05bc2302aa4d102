/*
 * Host-only: TLB shootdown between threads playing CPUs. A second CPU runs a space; an
 * unmap on the first must make the second flush (through a real signal, the host's IPI)
 * before the unmap returns.
 */
#include <arch/host/machine.h>
#include <mm/phys.h>
#include <mm/vmm.h>
#include <mmtest/test.h>

#include <pthread.h>

#define VA ((uintptr_t)0x0000300000000000ull)

struct runner {
	mm_space_t space;
	volatile int joined;
	volatile int stop;
	volatile int irqs_off; /* spin with interrupts off part of the time */
};

static void *run_space(void *arg)
{
	struct runner *r = arg;
	mm_set(r->space);
	__atomic_store_n(&r->joined, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		if (r->irqs_off) {
			/* A CPU with interrupts off takes the IPI when it turns them back on. */
			arch_irq_state_t irq = arch_irq_save();
			for (volatile int i = 0; i < 1000; i++)
				;
			arch_irq_restore(irq);
		}
		arch_cpu_relax();
	}
	mm_set(mm_kernel_space());
	return NULL;
}

static void shootdown_reaches_the_other_cpu(struct mm_test_ctx *t, int irqs_off)
{
	mm_space_t s = mm_create_space(NULL);
	ASSERT_NE((uintptr_t)s, 0);
	struct runner r = {s, 0, 0, irqs_off};
	pthread_t thread;
	ASSERT_EQ(pthread_create(&thread, NULL, run_space, &r), 0);
	while (!__atomic_load_n(&r.joined, __ATOMIC_ACQUIRE))
		arch_cpu_relax();

	struct host_tlb_counters before, after;
	for (int round = 0; round < 100; round++) {
		host_tlb_counters(&before);
		ASSERT_EQ(mm_map_range(s, VA, 4 * MM_PAGE_SIZE, MM_FLG_WR), VA);
		EXPECT_EQ(mm_umap_range(s, VA, 4 * MM_PAGE_SIZE, 0), MM_OK);
		host_tlb_counters(&after);
		/* One IPI round to the one other CPU; it flushed the four pages. The initiator
		 * does not run the space, so it flushed nothing itself. */
		EXPECT_EQ(after.ipis_sent - before.ipis_sent, 1);
		EXPECT_EQ(after.ipis_handled - before.ipis_handled, 1);
		EXPECT_EQ(after.flush_page - before.flush_page, 4);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);
	mm_destroy_space(s);
}

TEST(host_smp, shootdown_reaches_the_other_cpu)
{
	shootdown_reaches_the_other_cpu(t, 0);
}

TEST(host_smp, shootdown_waits_for_a_cpu_with_interrupts_off)
{
	shootdown_reaches_the_other_cpu(t, 1);
}

TEST(host_smp, a_cpu_that_left_the_space_is_not_interrupted)
{
	mm_space_t s = mm_create_space(NULL);
	ASSERT_NE((uintptr_t)s, 0);
	struct runner r = {s, 0, 1, 0}; /* stop at once: joins, then switches away */
	pthread_t thread;
	ASSERT_EQ(pthread_create(&thread, NULL, run_space, &r), 0);
	pthread_join(thread, NULL);
	struct host_tlb_counters before, after;
	host_tlb_counters(&before);
	ASSERT_EQ(mm_map_range(s, VA, MM_PAGE_SIZE, MM_FLG_WR), VA);
	EXPECT_EQ(mm_umap_range(s, VA, MM_PAGE_SIZE, 0), MM_OK);
	host_tlb_counters(&after);
	EXPECT_EQ(after.ipis_sent - before.ipis_sent, 0);
	mm_destroy_space(s);
}
