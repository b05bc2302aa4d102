/*
 * The user programs the ring-3 tests and benchmarks run (user_run.h lists them and their
 * arguments). They are data to the kernel: the whole blob, from x86_uprog_start to
 * x86_uprog_end, is copied into a code region of a user space and runs there, so every
 * program is position independent (RIP-relative or register addressing only) and the
 * blob lives in its own read-only, non-executable section of the image (kernel.ld).
 *
 * ABI (user.h): RDI = the argument, `syscall` with RAX = 0 (exit, RDI = value) or 1 (echo).
 */

#define SYS_EXIT 0
#define SYS_ECHO 1
#define PAGE 4096

/* struct x86_uprog_args, as user_run.h lays it out. */
#define ARG_BASE 0
#define ARG_COUNT 8
#define ARG_OUT 16

.macro exit_with reg
	movq \reg, %rdi
	movl $SYS_EXIT, %eax
	syscall
	ud2 /* exit does not return */
.endm

	.section .user_programs, "a", @progbits
	.balign 4096
	.globl x86_uprog_start
x86_uprog_start:

/* exit(arg). */
	.globl x86_uprog_exit
x86_uprog_exit:
	exit_with %rdi

/*
 * echo(arg) through SYSCALL/SYSRET, then checks what the ABI promises: the result is the
 * argument, every register but RAX, RCX and R11 is unchanged, an unknown number answers
 * ENOSYS (-1). Exits with the echoed value, or with -2 if anything was wrong.
 */
	.globl x86_uprog_echo
x86_uprog_echo:
	movq $0x1111111111111111, %rbx
	movq $0x2222222222222222, %rbp
	movq $0x3333333333333333, %rsi
	movq $0x4444444444444444, %rdx
	movq $0x5555555555555555, %r8
	movq $0x6666666666666666, %r9
	movq $0x7777777777777777, %r10
	movq $0x8888888888888888, %r12
	movq $0x9999999999999999, %r13
	movq $0xAAAAAAAAAAAAAAAA, %r14
	movq %rdi, %r15
	movl $SYS_ECHO, %eax
	syscall
	cmpq %r15, %rax
	jne 1f
	cmpq %r15, %rdi
	jne 1f
	movq $0x1111111111111111, %rcx
	cmpq %rcx, %rbx
	jne 1f
	movq $0x2222222222222222, %rcx
	cmpq %rcx, %rbp
	jne 1f
	movq $0x3333333333333333, %rcx
	cmpq %rcx, %rsi
	jne 1f
	movq $0x4444444444444444, %rcx
	cmpq %rcx, %rdx
	jne 1f
	movq $0x5555555555555555, %rcx
	cmpq %rcx, %r8
	jne 1f
	movq $0x6666666666666666, %rcx
	cmpq %rcx, %r9
	jne 1f
	movq $0x7777777777777777, %rcx
	cmpq %rcx, %r10
	jne 1f
	movq $0x8888888888888888, %rcx
	cmpq %rcx, %r12
	jne 1f
	movq $0x9999999999999999, %rcx
	cmpq %rcx, %r13
	jne 1f
	movq $0xAAAAAAAAAAAAAAAA, %rcx
	cmpq %rcx, %r14
	jne 1f
	movl $0x7FFF, %eax /* no such system call */
	syscall
	cmpq $-1, %rax
	jne 1f
	exit_with %r15
1:
	movq $-2, %rax
	exit_with %rax

/* args = {base, count}: writes one byte (0xA5) at the start of each of count pages from
 * base; exit(count). */
	.globl x86_uprog_touch
x86_uprog_touch:
	movq ARG_BASE(%rdi), %rsi
	movq ARG_COUNT(%rdi), %rcx
	movq %rcx, %r15
	testq %rcx, %rcx
	jz 2f
1:
	movb $0xA5, (%rsi)
	addq $PAGE, %rsi
	decq %rcx
	jnz 1b
2:
	exit_with %r15

/* args = {base, count}: reads the first quadword of each of count pages from base;
 * exit(their sum). */
	.globl x86_uprog_read
x86_uprog_read:
	movq ARG_BASE(%rdi), %rsi
	movq ARG_COUNT(%rdi), %rcx
	xorl %r15d, %r15d
	testq %rcx, %rcx
	jz 2f
1:
	addq (%rsi), %r15
	addq $PAGE, %rsi
	decq %rcx
	jnz 1b
2:
	exit_with %r15

/* Writes the byte 0x5A at address arg; exit(0). */
	.globl x86_uprog_write
x86_uprog_write:
	movb $0x5A, (%rdi)
	xorl %eax, %eax
	exit_with %rax

/* Reads the quadword at address arg; exit(it). */
	.globl x86_uprog_load
x86_uprog_load:
	movq (%rdi), %rax
	exit_with %rax

/* Calls the code at address arg; exit(what it left in RAX). */
	.globl x86_uprog_call
x86_uprog_call:
	xorl %eax, %eax
	call *%rdi
	exit_with %rax

/* One privileged instruction (#GP), one undefined opcode (#UD), one division by zero (#DE). */
	.globl x86_uprog_hlt
x86_uprog_hlt:
	hlt
	exit_with %rax

	.globl x86_uprog_ud2
x86_uprog_ud2:
	ud2

	.globl x86_uprog_div0
x86_uprog_div0:
	xorl %ecx, %ecx
	movl $1, %eax
	xorl %edx, %edx
	divl %ecx
	exit_with %rax

/* A lone `ret`: the SMEP test calls it from ring 0. */
	.globl x86_uprog_ret
x86_uprog_ret:
	ret

/*
 * Fault latency from ring 3. args = {base, count, out}: for each of count pages from base,
 * the TSC before and after one access to the page's first byte, the difference stored in
 * out[i] (a u64 array in memory that is already mapped, so the store itself does not
 * fault). LFENCE before each RDTSC keeps it from reading the clock before the access
 * (or what came before) has finished; under icount they only add a constant. exit(count).
 */
.macro time_loop access:vararg
	movq ARG_BASE(%rdi), %rsi
	movq ARG_COUNT(%rdi), %rcx
	movq ARG_OUT(%rdi), %rdi
	movq %rcx, %r15
	testq %rcx, %rcx
	jz 2f
1:
	lfence
	rdtsc
	shlq $32, %rdx
	orq %rax, %rdx
	movq %rdx, %r8
	\access
	lfence
	rdtsc
	shlq $32, %rdx
	orq %rax, %rdx
	subq %r8, %rdx
	movq %rdx, (%rdi)
	addq $8, %rdi
	addq $PAGE, %rsi
	decq %rcx
	jnz 1b
2:
	exit_with %r15
.endm

	.globl x86_uprog_time_write
x86_uprog_time_write:
	time_loop movb $1, (%rsi)

	.globl x86_uprog_time_read
x86_uprog_time_read:
	time_loop movzbl (%rsi), %r9d

/*
 * args = struct x86_uprog_calls (user_run.h): count, then count calls {nr, arg[4], result}.
 * Makes each system call in turn (arguments in RDI, RSI, RDX, R10) and stores its result;
 * an argument equal to CALLS_PREVIOUS is the previous call's result instead. A call with
 * nr CALLS_SPIN is no system call: it waits until the quadword at arg[0] is not zero, and
 * its result is the previous one again. exit(count).
 */
#define CALLS_PREVIOUS 0xFEEDFACE00000001
#define CALLS_SPIN 0xFEEDFACE00000002
#define CALL_SIZE 48

.macro call_arg offset, reg
	movq \offset(%r13), \reg
	cmpq %rbp, \reg
	cmoveq %r14, \reg
.endm

	.globl x86_uprog_calls
x86_uprog_calls:
	movq (%rdi), %r12        /* calls left */
	movq %r12, %r15          /* the exit value */
	leaq 8(%rdi), %r13       /* this call */
	xorl %r14d, %r14d        /* the previous result */
	movabsq $CALLS_PREVIOUS, %rbp
	movabsq $CALLS_SPIN, %rbx
	testq %r12, %r12
	jz 4f
1:
	call_arg 8, %rdi
	call_arg 16, %rsi
	call_arg 24, %rdx
	call_arg 32, %r10
	movq (%r13), %rax
	cmpq %rbx, %rax
	je 2f
	syscall
	movq %rax, %r14
	jmp 3f
2:
	pause
	cmpq $0, (%rdi)
	je 2b
3:
	movq %r14, 40(%r13)
	addq $CALL_SIZE, %r13
	decq %r12
	jnz 1b
4:
	exit_with %r15

	.balign 16
	.globl x86_uprog_end
x86_uprog_end:
