/*
 * The x86_64 ring-0 backend's inline part of the platform contract (<arch/arch.h> includes
 * it): limits, the direct map and the current CPU's index.
 */
#ifndef ARCH_BACKEND_H
#define ARCH_BACKEND_H

#include <stdint.h>

#define ARCH_MAX_CPUS 256
#define ARCH_MAX_NODES 8

/* The direct map of physical memory (the MM_VIRTUALIZE base, PML4 slot 510). */
#define X86_DIRECT_MAP_BASE 0xFFFFFF0000000000ull

/* Offset of the CPU index inside struct x86_percpu, which GS base points to on every CPU
 * (checked against the structure by a _Static_assert in percpu.c). */
#define X86_PERCPU_CPU_INDEX_OFFSET 8

static inline void *arch_phys_to_virt(uintptr_t phys)
{
	return (void *)(phys + (uintptr_t)X86_DIRECT_MAP_BASE);
}

static inline uintptr_t arch_virt_to_phys(const void *virt)
{
	return (uintptr_t)virt - (uintptr_t)X86_DIRECT_MAP_BASE;
}

/*
 * One load through GS. Not volatile: this kernel never migrates a thread between CPUs, so
 * the answer is constant for the caller and the compiler may reuse it.
 */
static inline unsigned arch_cpu_id(void)
{
	unsigned id;
	__asm__("movl %%gs:%c1, %0" : "=r"(id) : "i"(X86_PERCPU_CPU_INDEX_OFFSET));
	return id;
}

static inline arch_irq_state_t arch_irq_save(void)
{
	arch_irq_state_t flags;
	__asm__ volatile("pushfq\n\t"
	                 "popq %0\n\t"
	                 "cli"
	                 : "=r"(flags)
	                 :
	                 : "memory");
	return flags;
}

static inline void arch_irq_restore(arch_irq_state_t state)
{
	/* Only RFLAGS.IF (bit 9) is restored: the other flags belong to the code in between. */
	if (state & (1ul << 9))
		__asm__ volatile("sti" ::: "memory");
}

static inline void arch_cpu_relax(void)
{
	__asm__ volatile("pause");
}

#endif /* ARCH_BACKEND_H */
