/*
 * The host backend's inline part of the platform contract (see <arch/arch.h>).
 *
 * Physical memory is an mmap'ed arena: physical address p lives at host_arena_base + p.
 * A CPU is a thread that registered itself (explicitly, or on its first arch_cpu_id()).
 */
#ifndef ARCH_HOST_BACKEND_H
#define ARCH_HOST_BACKEND_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ARCH_MAX_CPUS 64
#define ARCH_MAX_NODES 8

extern uintptr_t host_arena_base;
extern __thread unsigned host_cpu_self;
unsigned host_cpu_register(void);

/* "Interrupts off" is a thread-local flag: a signal (IPI) arriving while it is set leaves
 * its work pending in *host_ipis_pending_self, run when the flag clears, as STI would. */
extern __thread volatile int host_irq_disabled;
extern __thread uint32_t *host_ipis_pending_self;
void host_ipi_run_pending(void);

static inline void *arch_phys_to_virt(uintptr_t phys)
{
	return (void *)(host_arena_base + phys);
}

static inline uintptr_t arch_virt_to_phys(const void *virt)
{
	return (uintptr_t)virt - host_arena_base;
}

static inline unsigned arch_cpu_id(void)
{
	unsigned self = host_cpu_self;
	/* A thread that never registered becomes a CPU on first use (benchmark threads). */
	if (__builtin_expect(self == ~0u, 0))
		self = host_cpu_register();
	return self;
}

static inline arch_irq_state_t arch_irq_save(void)
{
	arch_irq_state_t was = (arch_irq_state_t)host_irq_disabled;
	host_irq_disabled = 1;
	/* Keep the compiler from moving per-CPU accesses above the flag store. */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return was;
}

static inline void arch_irq_restore(arch_irq_state_t state)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	host_irq_disabled = (int)state;
	uint32_t *pending = host_ipis_pending_self;
	if (!state && pending && __atomic_load_n(pending, __ATOMIC_RELAXED))
		host_ipi_run_pending();
}

static inline void arch_cpu_relax(void)
{
	__builtin_ia32_pause();
}

#ifdef __cplusplus
}
#endif

#endif /* ARCH_HOST_BACKEND_H */
