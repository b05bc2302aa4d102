/*
 * Interrupts and IPIs on the host. Disabling interrupts is a thread-local flag, not a
 * system call, so the per-CPU fast paths stay cheap; a signal that arrives while the flag
 * is set leaves its work pending, and arch_irq_restore() runs it when interrupts come back
 * on, as a real CPU would take a pending interrupt on STI.
 */
#include <arch/arch.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "host_internal.h"

__thread volatile int host_irq_disabled;
__thread uint32_t *host_ipis_pending_self;

static pthread_once_t handler_once = PTHREAD_ONCE_INIT;

void host_ipi_run_pending(void)
{
	unsigned self = host_cpu_self;
	if (self == ~0u)
		return;
	struct host_cpu *cpu = &host_cpus[self];
	int was = host_irq_disabled;
	host_irq_disabled = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	uint32_t pending;
	while ((pending = __atomic_exchange_n(&cpu->pending_ipis, 0, __ATOMIC_ACQ_REL)) != 0) {
		for (unsigned v = 0; v < 32; v++) {
			if (pending & (1u << v)) {
				cpu->ipis_handled++;
				mm_ipi_handler((enum arch_ipi_vector)v);
			}
		}
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	host_irq_disabled = was;
}

static void on_ipi_signal(int sig)
{
	if (!host_irq_disabled)
		host_ipi_run_pending();
}

static void install_handler(void)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_ipi_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(HOST_IPI_SIGNAL, &sa, NULL) != 0) {
		perror("host: sigaction");
		abort();
	}
}

void arch_ipi_send(const arch_cpumask_t *targets, enum arch_ipi_vector vector)
{
	pthread_once(&handler_once, install_handler);
	unsigned self = arch_cpu_id();
	for (unsigned cpu = 0; cpu < ARCH_MAX_CPUS; cpu++) {
		if (!(targets->bits[cpu / 64] & (1ull << (cpu % 64))) || cpu == self)
			continue;
		struct host_cpu *c = &host_cpus[cpu];
		/* The pending bit is published before the signal, so the handler sees it. */
		__atomic_fetch_or(&c->pending_ipis, 1u << vector, __ATOMIC_RELEASE);
		host_cpus[self].ipis_sent++;
		if (__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
			pthread_kill(c->thread, HOST_IPI_SIGNAL);
	}
}

bool arch_cpu_online(unsigned cpu)
{
	return cpu < ARCH_MAX_CPUS && __atomic_load_n(&host_cpus[cpu].online, __ATOMIC_ACQUIRE);
}
