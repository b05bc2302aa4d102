/*
 * The entry of a ring-3 program: the runner enters at _start with RSP = the stack's top
 * (16-byte aligned) and its argument in RDI, every other register zero. mmk_main gets the
 * argument; what it returns is the program's exit value.
 */
#include <mmkernel/syscall.h>

	.section .text.start, "ax", @progbits
	.globl _start
_start:
	xorl %ebp, %ebp /* the end of the frame chain */
	call mmk_main
	movq %rax, %rdi
	movl $MMK_SYS_EXIT, %eax
	syscall
	ud2 /* exit does not return */
