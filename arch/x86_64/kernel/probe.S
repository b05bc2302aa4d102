/*
 * One 8-byte load or store that reports a fault instead of taking it (probe.h). Each
 * access is a known instruction: for a ring-0 #PF or #GP there, trap.c resumes at
 * x86_probe_fault, which returns false. Neither function has a frame, so the fixup's ret
 * finds the caller's return address exactly as the access left the stack.
 */
	.section .text.x86_probe, "ax", @progbits
	.globl x86_probe_read64
	.globl x86_probe_write64
	.globl x86_probe_read_insn
	.globl x86_probe_write_insn
	.globl x86_probe_fault

/* bool x86_probe_read64(uintptr_t va (RDI), uint64_t *value (RSI)) */
x86_probe_read64:
x86_probe_read_insn:
	movq (%rdi), %rax
	movq %rax, (%rsi)
	movl $1, %eax
	ret

/* bool x86_probe_write64(uintptr_t va (RDI), uint64_t value (RSI)) */
x86_probe_write64:
x86_probe_write_insn:
	movq %rsi, (%rdi)
	movl $1, %eax
	ret

x86_probe_fault:
	xorl %eax, %eax
	ret
