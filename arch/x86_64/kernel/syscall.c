/* SYSCALL/SYSRET: the MSRs that turn the instructions on, and the system calls themselves. */
#include <arch/x86_64/user.h>

#include <arch/x86_64/cpu.h>
#include <arch/x86_64/percpu.h>

static x86_syscall_hook_t syscall_hook;

x86_syscall_hook_t x86_set_syscall_hook(x86_syscall_hook_t hook)
{
	x86_syscall_hook_t previous = syscall_hook;
	syscall_hook = hook;
	return previous;
}

void x86_syscall_init(void)
{
	/*
	 * STAR[47:32] is SYSCALL's CS (SS is that + 8): kernel code, then kernel data.
	 * STAR[63:48] is SYSRET's base: 64-bit SYSRET loads CS = base + 16 and SS = base + 8,
	 * both with RPL 3 forced, so the base is the 32-bit user code slot, whose two
	 * successors are user data and 64-bit user code (percpu.h). STAR[31:0] is only for
	 * 32-bit SYSCALL, which this kernel does not offer.
	 */
	uint64_t star =
	    ((uint64_t)(X86_SEL_UCODE32 | X86_RPL_USER) << 48) | ((uint64_t)X86_SEL_KCODE << 32);
	x86_wrmsr(X86_MSR_STAR, star);
	x86_wrmsr(X86_MSR_LSTAR, (uint64_t)(uintptr_t)x86_syscall_entry);
	/*
	 * RFLAGS bits SYSCALL clears: IF, so that no interrupt arrives while RSP is still the
	 * program's; DF, which the C code expects clear; TF, so a single-stepping program does
	 * not trap in the stub; AC, so SMAP is in force in the kernel; NT, which no kernel code
	 * wants.
	 */
	x86_wrmsr(X86_MSR_FMASK,
	          X86_RFLAGS_IF | X86_RFLAGS_DF | X86_RFLAGS_TF | X86_RFLAGS_AC | X86_RFLAGS_NT);
	x86_wrmsr(X86_MSR_EFER, x86_rdmsr(X86_MSR_EFER) | X86_EFER_SCE);
}

void x86_syscall_dispatch(struct x86_trap_frame *frame)
{
	switch (frame->rax) {
	case X86_SYS_EXIT:
		x86_user_exit(frame->rdi);
	case X86_SYS_ECHO:
		frame->rax = frame->rdi;
		break;
	default:
		if (!syscall_hook || !syscall_hook(frame))
			frame->rax = X86_SYS_ENOSYS;
		break;
	}
	/*
	 * SYSRET to a non-canonical RIP raises #GP in ring 0 on Intel CPUs, after RSP is the
	 * program's again. RCX is past the SYSCALL instruction, so only a SYSCALL in the last
	 * bytes of the user half gets here: end the program as the return would have faulted.
	 */
	if (frame->rip >= X86_USER_END) {
		frame->vector = 13;
		frame->error = 0;
		x86_user_trap_end(frame, 0);
	}
}
