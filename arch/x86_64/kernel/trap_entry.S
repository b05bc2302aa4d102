/* The 256 interrupt entry stubs and the common path that saves registers and calls C. */
#include "gprs.inc"

	.section .text.x86_trap, "ax", @progbits

/*
 * One stub per vector, 16 bytes apart, so that the IDT can point at x86_trap_stubs + 16 * n.
 * Each pushes a zero error code where the CPU pushes none, then the vector number. The
 * stride is checked by x86_idt_init against x86_trap_stubs_end.
 */
	.globl x86_trap_stubs
	.globl x86_trap_stubs_end
	.balign 16
x86_trap_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	/* Vectors with a CPU error code: #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX. */
	.if !((vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || \
	      (vec == 29) || (vec == 30))
	pushq $0
	.endif
	pushq $vec
	jmp x86_trap_common
	.set vec, vec + 1
	.endr
	.balign 16
x86_trap_stubs_end:

/*
 * The hardware pushed SS, RSP, RFLAGS, CS, RIP (the CPU aligns RSP to 16 first in 64-bit
 * mode), the stub an error code and the vector: 7 quadwords. 15 more for the registers make
 * 22, so RSP is 16-byte aligned at the call, as the ABI requires. The frame layout is
 * struct x86_trap_frame.
 *
 * From ring 3 (the saved CS has RPL 3, at 24(%rsp) on arrival) GS base is the program's:
 * swapgs gives the kernel's back before anything reads per-CPU data, and the way out swaps
 * again. An NMI or #MC landing between a swapgs and the iretq or sysretq next to it would
 * see the wrong GS base; this kernel has no source of either, and every such window runs
 * with interrupts off.
 */
	.globl x86_trap_common
x86_trap_common:
	testb $3, 24(%rsp)
	jz 1f
	swapgs
1:
	/*
	 * RFLAGS = only the fixed bit: clears DF (the C ABI wants it clear) and AC. An
	 * interrupt gate clears IF and TF but keeps AC, so a program that set AC would
	 * otherwise run the kernel with SMAP suspended. This does the job of clac on any CPU,
	 * with or without SMAP.
	 */
	pushq $2
	popfq
	PUSH_GPRS
	movq %rsp, %rdi
	call x86_trap_dispatch
	POP_GPRS
	testb $3, 24(%rsp)
	jz 2f
	swapgs
2:
	addq $16, %rsp /* vector and error code */
	iretq
