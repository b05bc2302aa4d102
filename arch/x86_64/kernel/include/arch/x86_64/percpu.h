/*
 * Per-CPU data. GS base points to the calling CPU's struct x86_percpu in ring 0, so that
 * arch_cpu_id() is one GS-relative load. In ring 3 GS base is the program's (0) and the
 * kernel's waits in IA32_KERNEL_GS_BASE: every entry from ring 3 swaps them (swapgs) first,
 * every return to ring 3 swaps them back last.
 *
 * The selectors and the offsets below are also read by assembly (trap_entry.S,
 * user_entry.S): they come before the C part.
 */
#ifndef ARCH_X86_64_PERCPU_H
#define ARCH_X86_64_PERCPU_H

/*
 * GDT selectors. SYSCALL loads CS from STAR[47:32] and SS from that + 8; SYSRET (64-bit)
 * loads CS from STAR[63:48] + 16 and SS from STAR[63:48] + 8, both with RPL 3. So kernel
 * code must be followed by kernel data, and user data must sit between a (32-bit, unused)
 * user code slot and the 64-bit user code: 0x18, 0x20, 0x28 with STAR[63:48] = 0x18.
 */
#define X86_SEL_KCODE 0x08
#define X86_SEL_KDATA 0x10
#define X86_SEL_UCODE32 0x18
#define X86_SEL_UDATA 0x20
#define X86_SEL_UCODE 0x28
#define X86_SEL_TSS 0x30
#define X86_GDT_ENTRIES 8 /* the TSS descriptor takes two */
#define X86_RPL_USER 3

/* Interrupt stack table slots (1-based, as the IDT names them). */
#define X86_IST_DF 1
#define X86_IST_NMI 2
#define X86_IST_MC 3
#define X86_IST_COUNT 3

/* Offsets in struct x86_percpu that the entry code reads through GS (checked by
 * _Static_asserts in percpu.c). */
#define X86_PERCPU_USER_RETURN_RSP 24
#define X86_PERCPU_SYSCALL_RSP 32
#define X86_PERCPU_SYSCALL_USER_RSP 40
#define X86_PERCPU_TSS_RSP0 132

#ifndef __ASSEMBLER__

#include <stdint.h>

#include <arch/arch.h>

struct x86_user_result;

struct x86_tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

/*
 * Which hardware path each TLB flush and IPI of this CPU took: the proof, for the tests and
 * the log, that a feature the CPU has was used and not only detected. Each CPU counts its
 * own (plain increments: an interrupt on the same CPU counting the same event in between
 * may lose one; nothing needs more than "some" or "none").
 */
struct x86_path_counts {
	uint64_t invlpg;      /* one page: INVLPG */
	uint64_t invpcid;     /* one PCID: INVPCID single-context */
	uint64_t cr3_flushes; /* one PCID (or all, without PCID) by rewriting CR3 */
	uint64_t x2apic_ipis; /* ICR writes through the x2APIC MSR */
	uint64_t xapic_ipis;  /* ICR writes through the xAPIC page */
};

struct x86_percpu {
	struct x86_percpu *self; /* offset 0: gs:0 gives the structure's address */
	uint32_t cpu_index;      /* X86_PERCPU_CPU_INDEX_OFFSET: arch_cpu_id() */
	uint32_t apic_id;
	uint32_t node;
	/* Ring 3 (user.h): the kernel RSP x86_user_enter saved, 0 when no program runs; the
	 * kernel stack SYSCALL switches to; the program's RSP while the SYSCALL stub switches
	 * stacks; the report of the running program. */
	uint64_t user_return_rsp;
	uint64_t syscall_rsp;
	uint64_t syscall_user_rsp;
	struct x86_user_result *user_result;
	uint64_t gdt[X86_GDT_ENTRIES] __attribute__((aligned(16)));
	struct x86_tss tss __attribute__((aligned(16)));
	struct x86_path_counts paths;
} __attribute__((aligned(64)));

/* The sum of every started CPU's path counts. */
void x86_path_counts_sum(struct x86_path_counts *out);

extern struct x86_percpu x86_percpu[ARCH_MAX_CPUS];

/* The number of CPUs brought up (arch_cpu_count()): 1 until the SMP bring-up runs, then
 * raised by each AP, with release order, as its last act of start-up (smp.h). */
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

#endif /* !__ASSEMBLER__ */

#endif /* ARCH_X86_64_PERCPU_H */
