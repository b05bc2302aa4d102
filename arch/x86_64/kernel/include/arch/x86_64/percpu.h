/*
 * Per-CPU data. GS base points to the calling CPU's struct x86_percpu in ring 0, so that
 * arch_cpu_id() is one GS-relative load. Ring 3 (a later issue) will swap GS on entry.
 */
#ifndef ARCH_X86_64_PERCPU_H
#define ARCH_X86_64_PERCPU_H

#include <stdint.h>

#include <arch/arch.h>

/* GDT selectors. User code/data follow the SYSRET layout (32-bit code, data, 64-bit code). */
#define X86_SEL_KCODE 0x08
#define X86_SEL_KDATA 0x10
#define X86_SEL_UCODE32 0x18
#define X86_SEL_UDATA 0x20
#define X86_SEL_UCODE 0x28
#define X86_SEL_TSS 0x30
#define X86_GDT_ENTRIES 8 /* the TSS descriptor takes two */

/* Interrupt stack table slots (1-based, as the IDT names them). */
#define X86_IST_DF 1
#define X86_IST_NMI 2
#define X86_IST_MC 3
#define X86_IST_COUNT 3

struct x86_tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct x86_percpu {
	struct x86_percpu *self; /* offset 0: gs:0 gives the structure's address */
	uint32_t cpu_index;      /* X86_PERCPU_CPU_INDEX_OFFSET: arch_cpu_id() */
	uint32_t apic_id;
	uint32_t node;
	uint64_t gdt[X86_GDT_ENTRIES] __attribute__((aligned(16)));
	struct x86_tss tss __attribute__((aligned(16)));
} __attribute__((aligned(64)));

extern struct x86_percpu x86_percpu[ARCH_MAX_CPUS];

/* The number of CPUs brought up (arch_cpu_count()); 1 until the SMP bring-up runs. */
extern unsigned x86_cpu_count;

/*
 * Makes the calling CPU CPU number cpu: loads its own GDT and TSS (with the interrupt
 * stacks ist_top[0..X86_IST_COUNT-1], the tops of 16-byte-aligned stacks) and points GS
 * base at its struct x86_percpu. pre: cpu < ARCH_MAX_CPUS, called once per CPU.
 */
void x86_percpu_init(unsigned cpu, const uintptr_t ist_top[X86_IST_COUNT]);

/* The bootstrap CPU's x86_percpu_init(0, ...) with interrupt stacks in the kernel image. */
void x86_percpu_init_bsp(void);

static inline struct x86_percpu *x86_this_cpu(void)
{
	struct x86_percpu *p;
	__asm__("movq %%gs:0, %0" : "=r"(p));
	return p;
}

#endif /* ARCH_X86_64_PERCPU_H */
