/*
 * Threads as CPUs. A thread becomes a CPU by taking a free index; the index is given back
 * when the thread exits, so benchmark frameworks that start fresh threads for every run do
 * not run out of CPUs. A CPU's per-CPU data (frame caches) stays with the index, as it
 * would stay with a real CPU; its TLB does not: it is emptied when a thread takes the CPU
 * and when the thread gives it back.
 */
#include <arch/arch.h>
#include <arch/host/machine.h>
#include <lib/smp_call.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "host_internal.h"

struct host_cpu host_cpus[ARCH_MAX_CPUS];
__thread unsigned host_cpu_self = ~0u;

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;
static uint64_t cpus_in_use[(ARCH_MAX_CPUS + 63) / 64];

static void on_thread_exit(void *unused)
{
	host_cpu_unregister();
}

static void make_key(void)
{
	pthread_key_create(&exit_key, on_thread_exit);
}

unsigned host_cpu_register(void)
{
	if (host_cpu_self != ~0u)
		return host_cpu_self;
	pthread_once(&key_once, make_key);
	unsigned count = arch_cpu_count();
	for (unsigned cpu = 0; cpu < count; cpu++) {
		uint64_t bit = 1ull << (cpu % 64);
		uint64_t old = __atomic_fetch_or(&cpus_in_use[cpu / 64], bit, __ATOMIC_ACQ_REL);
		if (old & bit)
			continue;
		struct host_cpu *c = &host_cpus[cpu];
		c->thread = pthread_self();
		__atomic_store_n(&c->pending_ipis, 0, __ATOMIC_RELAXED);
		/* A CPU that starts has an empty TLB and no space loaded. No IPI can reach it
		 * before it is published online below. */
		soft_tlb_reset(c);
		host_cpu_self = cpu;
		host_ipis_pending_self = &c->pending_ipis;
		/* Publish the thread before senders may target this CPU. */
		__atomic_store_n(&c->online, 1, __ATOMIC_RELEASE);
		pthread_setspecific(exit_key, (void *)1);
		host_machine_cpu_online(cpu);
		/* Now that it takes IPIs: the generic code's view of its TLB starts empty too. */
		mm_cpu_online();
		return cpu;
	}
	fprintf(stderr,
	        "host: more than %u threads want to be CPUs at once (the topology has %u CPUs; "
	        "a synthetic one can have more: --topology=nodes=N,cpus=N)\n",
	        count, count);
	abort();
}

void host_cpu_unregister(void)
{
	unsigned cpu = host_cpu_self;
	if (cpu == ~0u)
		return;
	/* Leave every shootdown's target set, and serve what was already sent here: a sender
	 * may be waiting for this CPU. */
	mm_cpu_offline();
	host_ipi_run_pending();
	__atomic_store_n(&host_cpus[cpu].online, 0, __ATOMIC_RELEASE);
	host_ipi_run_pending();
	/* A sender that saw this CPU online just before the store above may have posted a call
	 * whose signal came too late: taking the call lock once more serves it while waiting,
	 * and a call posted after that sees the CPU offline. */
	smp_call_quiesce();
	/* Nothing this thread cached outlives it on the CPU. */
	arch_irq_state_t irq = arch_irq_save();
	soft_tlb_reset(&host_cpus[cpu]);
	arch_irq_restore(irq);
	host_cpu_self = ~0u;
	host_ipis_pending_self = NULL;
	__atomic_fetch_and(&cpus_in_use[cpu / 64], ~(1ull << (cpu % 64)), __ATOMIC_ACQ_REL);
}
