/*
 * Ring 3: run a small program in user mode on the calling CPU, in the address space the CPU
 * runs, and get control back when it exits or takes an exception nobody resolves.
 * (x86_user_run in "kernel/ring3/user_run.h" adds the address space and page faults.)
 *
 * The program's ABI:
 *  - Entered by iretq at `entry`, 64-bit mode, CPL 3: CS = X86_SEL_UCODE|3, SS = DS = ES =
 *    X86_SEL_UDATA|3, FS and GS null with base 0, RFLAGS = IF (interrupts on, DF clear),
 *    RSP = stack_top, RDI = arg, every other general register 0.
 *  - System calls: the `syscall` instruction, number in RAX, arguments in RDI, RSI, RDX,
 *    R10, R8, R9 (Linux's order), result in RAX. The instruction itself clobbers RCX (the
 *    return RIP) and R11 (RFLAGS); every other register is preserved.
 *      X86_SYS_EXIT  ends the program with the exit value RDI; does not return.
 *      X86_SYS_ECHO  returns RDI: one round trip through SYSCALL and SYSRET.
 *      any other number goes to the system-call hook (below), which the kernel installs
 *      for its own calls; without one, or when it does not know the number, the call
 *      returns X86_SYS_ENOSYS.
 *  - An exception from ring 3 ends the program with a report (vector, error code, CR2 for
 *    a #PF, RIP, RSP), except a #PF that the page-fault hook (trap.h) resolves: the
 *    instruction is then retried. NMI, #DF and #MC stay fatal for the kernel.
 *
 * The kernel side: x86_user_enter saves its caller's callee-saved registers and RFLAGS on
 * the caller's stack and points TSS.RSP0 and the SYSCALL stack just below them, so every
 * entry from ring 3 builds its frames below what must survive. Ending the program (exit or
 * fault) drops those frames and returns from x86_user_enter on the saved stack. One program
 * at a time per CPU; the kernel never touches the program's memory through user addresses
 * (SMAP forbids it), only through the direct map.
 */
#ifndef ARCH_X86_64_USER_H
#define ARCH_X86_64_USER_H

#include <stdbool.h>
#include <stdint.h>

#include <arch/x86_64/trap.h>

/* The user half: canonical addresses below 2^47. */
#define X86_USER_END 0x0000800000000000ull

/* System call numbers (RAX) and the answer to an unknown one. */
#define X86_SYS_EXIT 0
#define X86_SYS_ECHO 1
#define X86_SYS_ENOSYS ((uint64_t)-1)

/* The vector field of the frame the SYSCALL stub builds: no IDT vector has it. */
#define X86_VEC_SYSCALL 256

enum x86_user_status {
	X86_USER_EXITED = 0,  /* the program called X86_SYS_EXIT */
	X86_USER_FAULTED = 1, /* it took an exception that was not resolved */
};

struct x86_user_result {
	int status;     /* enum x86_user_status */
	uint64_t value; /* EXITED: the exit value */
	/* FAULTED: */
	uint32_t vector;     /* the exception: X86_VEC_PF, 13 (#GP), 6 (#UD), 0 (#DE) ... */
	uint64_t error_code; /* the CPU's error code; 0 for vectors without one */
	uintptr_t addr;      /* #PF: the faulting address (CR2); 0 otherwise */
	uintptr_t rip, rsp;  /* where the program was */
	int fault_error;     /* #PF: the resolver's reason for refusing (an MM_E* code), or 0 */
	/* Both: page faults the resolver handled while the program ran (it counts them). */
	uint64_t faults_resolved;
};

/*
 * Runs the program at entry with its stack at stack_top and arg in RDI, in the address
 * space loaded now, until it ends; fills *out (zeroed first) and returns out->status.
 * Interrupts are as the caller had them afterwards. pre: no program runs on this CPU;
 * x86_syscall_init() ran; entry and stack_top are user addresses.
 */
int x86_user_enter(uintptr_t entry, uintptr_t stack_top, uint64_t arg, struct x86_user_result *out);

/* The report of the program running on this CPU, NULL when none runs: for the page-fault
 * resolver (it counts resolved faults and records why it refused one). */
struct x86_user_result *x86_user_current(void);

/*
 * Turns SYSCALL/SYSRET on for the calling CPU: EFER.SCE, STAR (the selectors, whose GDT
 * layout percpu.h explains), LSTAR (the entry stub) and FMASK. pre: x86_percpu_init ran.
 * Each CPU once.
 */
void x86_syscall_init(void);

/*
 * The system-call hook: called for every number but X86_SYS_EXIT and X86_SYS_ECHO, with the
 * frame of the SYSCALL (number in frame->rax, arguments in rdi, rsi, rdx, r10, r8, r9).
 * Returns false for a number it does not know (the program gets X86_SYS_ENOSYS), true once
 * it has put the result in frame->rax. Runs with interrupts off, as the entry left them; a
 * hook that waits on other CPUs turns them on while it does (the program had them on).
 */
typedef bool (*x86_syscall_hook_t)(struct x86_trap_frame *frame);

/* Installs the hook (NULL: none) and returns the previous one. */
x86_syscall_hook_t x86_set_syscall_hook(x86_syscall_hook_t hook);

/* ---- Between the entry code and user.c / syscall.c --------------------------------------- */

/* Ends the running program with a report of the exception in frame (cr2 for a #PF). Called
 * by the trap dispatcher for exceptions from ring 3; does not return. */
_Noreturn void x86_user_trap_end(struct x86_trap_frame *frame, uintptr_t cr2);

/* Ends the running program with its exit value. */
_Noreturn void x86_user_exit(uint64_t value);

/* The C side of the SYSCALL stub: frame is what an interrupt from ring 3 would have pushed
 * (vector X86_VEC_SYSCALL); RAX on return is the result. */
void x86_syscall_dispatch(struct x86_trap_frame *frame);

/* user_entry.S: the switch to ring 3 (returns the status x86_user_leave gets), the way back
 * to its caller's stack, and the SYSCALL entry point. */
int x86_user_switch(uintptr_t entry, uintptr_t stack_top, uint64_t arg);
_Noreturn void x86_user_leave(int status);
void x86_syscall_entry(void);

#endif /* ARCH_X86_64_USER_H */
