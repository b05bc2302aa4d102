/*
 * Exceptions and interrupts: the IDT, the register frame every entry stub saves, the
 * page-fault hook and the handlers of interrupt vectors.
 */
#ifndef ARCH_X86_64_TRAP_H
#define ARCH_X86_64_TRAP_H

#include <stdbool.h>
#include <stdint.h>

/* ---- Vectors ------------------------------------------------------------------------ */
#define X86_VEC_GP 13
#define X86_VEC_PF 14
#define X86_VEC_EXCEPTIONS 32 /* 0..31 are the CPU's */
#define X86_VEC_PIC_BASE 0x20 /* the legacy PICs, remapped here and masked */
#define X86_VEC_PIC_END 0x30
#define X86_VEC_IPI_BASE 0xF0 /* + enum arch_ipi_vector */
#define X86_VEC_WAKE 0xFC     /* wakes an idle AP from hlt: work is waiting (smp.h) */
#define X86_VEC_SELFTEST 0xFD /* a self-IPI that proves the local APIC delivers */
#define X86_VEC_APIC_ERROR 0xFE
#define X86_VEC_SPURIOUS 0xFF

/* What the entry stubs push, lowest address first (the order of the pushes reversed). */
struct x86_trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector;
	uint64_t error; /* the CPU's error code, or 0 for vectors without one */
	/* Pushed by the CPU. */
	uint64_t rip, cs, rflags, rsp, ss;
};

/* #PF error-code bits. */
#define X86_PF_PRESENT (1u << 0)
#define X86_PF_WRITE (1u << 1)
#define X86_PF_USER (1u << 2)
#define X86_PF_RSVD (1u << 3)
#define X86_PF_FETCH (1u << 4)
#define X86_PF_PK (1u << 5)

/*
 * The page-fault hook: called for every #PF with the faulting address (CR2, read before
 * anything else could fault), from ring 0 and ring 3 alike (frame->error has X86_PF_USER
 * for the latter). It returns true when it resolved the fault (the faulting instruction is
 * retried, or resumes at frame->rip if the hook changed it) and false when it did not: in
 * ring 0 that is fatal (the exception report, the run fails); in ring 3 it ends the running
 * program with a report (user.h).
 * It runs with interrupts disabled (interrupt gate); frame->rflags says whether the
 * faulting code had them enabled.
 */
typedef bool (*x86_pf_hook_t)(struct x86_trap_frame *frame, uintptr_t fault_addr);

/* Installs the hook (NULL: none) and returns the previous one. */
x86_pf_hook_t x86_set_page_fault_hook(x86_pf_hook_t hook);

/* A handler for an interrupt vector (>= 32); it sends the EOI itself when one is due. */
typedef void (*x86_irq_handler_t)(struct x86_trap_frame *frame);
void x86_set_irq_handler(uint8_t vector, x86_irq_handler_t handler);

/* Builds the IDT (once) and loads it on the calling CPU (each CPU). */
void x86_idt_init(void);
void x86_idt_load(void);

/* Prints the exception report for frame and fails the run. cr2 is printed for #PF. */
_Noreturn void x86_trap_fatal(const struct x86_trap_frame *frame, uintptr_t cr2, const char *why);

/* The common C entry of every stub (trap_entry.S). */
void x86_trap_dispatch(struct x86_trap_frame *frame);

#endif /* ARCH_X86_64_TRAP_H */
