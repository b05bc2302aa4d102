/*
 * Several CPUs: starting the application processors (APs) the MADT lists, and handing work
 * to an idle one.
 *
 * Start-up (smp_boot.c): the bootstrap CPU (BSP) copies a real-mode trampoline
 * (trampoline.S) to X86_TRAMPOLINE_PHYS and starts one AP at a time with INIT, a 10 ms
 * wait and STARTUP IPIs. The AP climbs from 16-bit real mode through 32-bit protected mode
 * to long mode on temporary page tables (the trampoline's pages identity-mapped, the kernel
 * half shared), jumps to the higher half, loads the kernel's PML4 and sets itself up in C:
 * its own GDT, TSS, stacks and GS base, the IDT, the BSP's control-register features,
 * SYSCALL, its local APIC, then the kernel's own start-up (the hook given to x86_smp_start,
 * where the kernel brings the CPU into the memory manager). It is published last: x86_cpu_count is
 * raised (release) to its number + 1. CPU numbers are dense in start order, the BSP is 0.
 *
 * The runner (cpu_work.c): each AP then idles (sti; hlt) until x86_cpu_run hands it a
 * function, which it runs with interrupts enabled, and idles again.
 *
 * The data block below is shared with trampoline.S (hence the offsets, not a structure).
 */
#ifndef ARCH_X86_64_SMP_H
#define ARCH_X86_64_SMP_H

/*
 * The trampoline's page below 1 MiB (a STARTUP IPI names a page there: vector = page
 * number), then its temporary PML4, PDPT and PD. The frame allocator never gets memory
 * below 1 MiB; the Multiboot data the loader put near 0x9000 has been copied away by then.
 */
#define X86_TRAMPOLINE_PHYS 0x8000
#define X86_TRAMPOLINE_PAGES 4
#define X86_TRAMPOLINE_END (X86_TRAMPOLINE_PHYS + X86_TRAMPOLINE_PAGES * 0x1000)

/* The data block at this offset in the trampoline page (the AP's real-mode stack grows
 * down from it), and the offsets of its fields. */
#define X86_TRAMP_DATA 0xF00
#define X86_TRAMP_STARTED 0 /* u32: the AP sets it to 1 as its first act */
#define X86_TRAMP_PML4 4    /* u32: CR3 for the switch to long mode (below 4 GiB) */
#define X86_TRAMP_EFER 8    /* u32: EFER bits to set besides LME (NXE) */
#define X86_TRAMP_ENTRY 16  /* u64: the higher-half entry, x86_ap_entry64 */
#define X86_TRAMP_STACK 24  /* u64: the AP's kernel stack top */
#define X86_TRAMP_CR3 32    /* u64: the kernel's PML4 */
#define X86_TRAMP_DATA_SIZE 40

#ifndef __ASSEMBLER__

#include <stdbool.h>
#include <stdint.h>

/*
 * The kernel's part of an AP's start-up: runs on the AP with interrupts off, once it takes
 * IPIs and before any other CPU can see it online. The backend itself calls nothing above
 * it; the kernel calls the memory manager here (mm_cpu_online).
 */
typedef void (*x86_ap_online_fn)(unsigned cpu);

/*
 * Starts every enabled CPU of the MADT list, at most max_cpus in all (the BSP included;
 * 0: no limit), one at a time, each running ap_online before it is published. A CPU that does not answer in time is reported and left
 * out; nothing here waits without a time limit. Prints "smp: N CPUs up (APIC IDs ...) in
 * T us" when verbose. Returns the number of CPUs online (arch_cpu_count()).
 * pre: on the BSP, once; the frame allocator, mm_vm_init, the BSP's local APIC and the TSC
 *      calibration are done; [X86_TRAMPOLINE_PHYS, X86_TRAMPOLINE_END) is RAM nobody uses.
 */
unsigned x86_smp_start(unsigned max_cpus, bool verbose, x86_ap_online_fn ap_online);

/* How many CPUs x86_smp_start tried to bring up, the BSP included (1 before it ran): the
 * enabled CPUs of the MADT list, capped by max_cpus. */
unsigned x86_smp_cpus_wanted(void);

/* False once CPU cpu's kernel stack has overflowed (its bottom word was overwritten);
 * true for a CPU without such a check (the BSP has a guard page instead). */
bool x86_smp_stack_intact(unsigned cpu);

/* The C entry of an AP, on its own kernel stack, in the kernel's PML4 (trampoline.S). */
_Noreturn void x86_smp_ap_main(void);

/* The trampoline's template (read-only data of the image) and the higher-half entry. */
extern const char x86_trampoline_start[], x86_trampoline_end[];
void x86_ap_entry64(void);

/* ---- The runner ---------------------------------------------------------------------- */

/*
 * Hands fn(arg) to CPU `cpu`, which must be an idle AP: true when it was (it runs fn soon,
 * with interrupts enabled, and is busy until fn returns), false when the CPU is offline,
 * busy, or the caller itself. The caller keeps arg alive until x86_cpu_wait(cpu) returns.
 * fn must leave the CPU in the kernel space (mm_set) if it switched to another.
 */
bool x86_cpu_run(unsigned cpu, void (*fn)(void *), void *arg);

/*
 * Waits until CPU `cpu` is no longer busy with work from x86_cpu_run (at once if it is
 * not). Interrupts are enabled while it spins, whatever the caller had, so that the caller
 * answers the cross-CPU calls the work may make; the caller's state is back on return.
 * pre: the caller holds no spinlock and is not `cpu`. A CPU still busy after a minute is
 * a hang: panic.
 */
void x86_cpu_wait(unsigned cpu);

/* Installs the wake-up vector's handler. On the BSP, before any AP starts. */
void x86_cpu_work_init(void);

/* Marks the calling AP idle (ready for x86_cpu_run). Before the AP is published. */
void x86_cpu_work_ap_ready(void);

/* The AP's idle loop: sleeps (sti; hlt) until work arrives, runs it (and panics if the
 * work overflowed the stack), forever. */
_Noreturn void x86_cpu_idle(void);

#endif /* !__ASSEMBLER__ */

#endif /* ARCH_X86_64_SMP_H */
