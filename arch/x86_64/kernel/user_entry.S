/* The switch to ring 3 and back, and the SYSCALL entry stub (the ABI is in user.h). */

#include <arch/x86_64/percpu.h>
#include "gprs.inc"

#define RFLAGS_FIXED 0x2
#define RFLAGS_IF 0x200
#define VEC_SYSCALL 256
#define USER_CS (X86_SEL_UCODE | X86_RPL_USER)
#define USER_SS (X86_SEL_UDATA | X86_RPL_USER)

	.section .text.x86_user, "ax", @progbits

/*
 * int x86_user_switch(uintptr_t entry, uintptr_t stack_top, uint64_t arg)
 *
 * Saves what the C caller expects to survive (RBP, RBX, R12..R15, and RFLAGS for its IF)
 * on its own stack, then records that stack pointer three times: as the way back
 * (x86_user_leave), as TSS.RSP0 (where the CPU puts the frame of an interrupt or exception
 * from ring 3) and as the SYSCALL stack. Everything pushed later by an entry from ring 3
 * lies below the saved registers, so nothing the program triggers can overwrite them.
 */
	.globl x86_user_switch
x86_user_switch:
	pushq %rbp
	movq %rsp, %rbp
	pushfq
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	/* 7 pushes after the call's return address: RSP is 16-byte aligned here, as the
	 * SYSCALL stub's call into C needs (TSS.RSP0 entries are aligned by the CPU anyway). */
	movq %rsp, %gs:X86_PERCPU_USER_RETURN_RSP
	movq %rsp, %gs:X86_PERCPU_SYSCALL_RSP
	movq %rsp, %gs:X86_PERCPU_TSS_RSP0

	/* No interrupt between here and the iretq: GS is swapped below, and an interrupt in
	 * ring 0 with the user's GS base would find no per-CPU data. iretq loads the program's
	 * RFLAGS, which turns interrupts on again in ring 3. */
	cli

	/* The iretq frame for a privilege change: SS, RSP, RFLAGS, CS, RIP. */
	pushq $USER_SS
	pushq %rsi
	pushq $(RFLAGS_IF | RFLAGS_FIXED)
	pushq $USER_CS
	pushq %rdi

	movq %rdx, %rdi
	movl $USER_SS, %eax
	movw %ax, %ds
	movw %ax, %es
	/* No kernel value reaches the program through a register. */
	xorl %eax, %eax
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %esi, %esi
	xorl %ebp, %ebp
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	xorl %r10d, %r10d
	xorl %r11d, %r11d
	xorl %r12d, %r12d
	xorl %r13d, %r13d
	xorl %r14d, %r14d
	xorl %r15d, %r15d
	/* The kernel's GS base goes to IA32_KERNEL_GS_BASE (where every entry from ring 3
	 * takes it back), the program gets the one there (0). */
	swapgs
	iretq

/*
 * _Noreturn void x86_user_leave(int status)
 *
 * Called in ring 0 with the kernel's GS base (every entry from ring 3 swapped it back), on
 * whatever stack the entry left below the saved registers: goes back to the stack
 * x86_user_switch saved and returns status from it.
 */
	.globl x86_user_leave
x86_user_leave:
	movq %gs:X86_PERCPU_USER_RETURN_RSP, %rsp
	movq $0, %gs:X86_PERCPU_USER_RETURN_RSP
	movl $X86_SEL_KDATA, %eax
	movw %ax, %ds
	movw %ax, %es
	movl %edi, %eax
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	/* The caller's RFLAGS: its IF comes back (the exception or SYSCALL entry cleared it). */
	popfq
	popq %rbp
	ret

/*
 * The SYSCALL entry (IA32_LSTAR). The CPU saved RIP in RCX and RFLAGS in R11, loaded the
 * kernel CS and SS from STAR and cleared the FMASK bits of RFLAGS (IF among them, so no
 * interrupt arrives before the stack is the kernel's), but left RSP and GS as the program
 * had them. The stub swaps GS, parks the user RSP in the per-CPU area, switches to the
 * kernel stack and builds the frame an interrupt from ring 3 would have: struct
 * x86_trap_frame with vector X86_VEC_SYSCALL, so the C side reads and writes registers the
 * same way.
 */
	.globl x86_syscall_entry
x86_syscall_entry:
	swapgs
	movq %rsp, %gs:X86_PERCPU_SYSCALL_USER_RSP
	movq %gs:X86_PERCPU_SYSCALL_RSP, %rsp
	pushq $USER_SS
	pushq %gs:X86_PERCPU_SYSCALL_USER_RSP
	pushq %r11 /* RFLAGS */
	pushq $USER_CS
	pushq %rcx /* RIP */
	pushq $0   /* error code */
	pushq $VEC_SYSCALL
	PUSH_GPRS
	/* 22 quadwords on a 16-byte-aligned stack top: aligned at the call. */
	movq %rsp, %rdi
	call x86_syscall_dispatch
	POP_GPRS
	addq $16, %rsp /* vector and error code */
	/*
	 * SYSRET takes RIP from RCX and RFLAGS from R11, so they come from the frame (the C
	 * side may have changed neither, but the frame is the truth). x86_syscall_dispatch
	 * checked that RIP is canonical: SYSRET to a non-canonical RCX raises #GP in ring 0 on
	 * Intel CPUs, on the program's stack. Interrupts stay off (FMASK cleared IF) until
	 * SYSRET loads R11, so nothing runs in ring 0 on the user's stack or GS.
	 */
	popq %rcx /* RIP */
	addq $8, %rsp /* CS */
	popq %r11 /* RFLAGS */
	popq %rsp /* the program's RSP; SS is implied by STAR */
	swapgs
	sysretq
