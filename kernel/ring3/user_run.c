/* Ring 3 in an address space: the runner, and the page-fault hook that calls mm_fault. */
#include "kernel/ring3/user_run.h"

#include <arch/arch.h>
#include <arch/x86_64/cpu.h>
#include <arch/x86_64/trap.h>
#include <mm/region.h>

/* The space of the program running on each CPU (NULL: none). */
static mm_space_t running[ARCH_MAX_CPUS];
/* The hook that was installed before ours: ring-0 faults go there. */
static x86_pf_hook_t kernel_hook;
static bool installed;

static uint32_t fault_access(uint64_t error)
{
	uint32_t access = MM_FAULT_USER;
	if (error & X86_PF_WRITE)
		access |= MM_FAULT_WRITE;
	if (error & X86_PF_FETCH)
		access |= MM_FAULT_EXEC;
	if (error & X86_PF_PRESENT)
		access |= MM_FAULT_PRESENT;
	return access;
}

static bool user_fault_hook(struct x86_trap_frame *frame, uintptr_t addr)
{
	/* Ring 0 faults are not ours: the kernel never touches user addresses, so a fault
	 * there is a bug and stays fatal unless a test's hook expects it. */
	if (!(frame->error & X86_PF_USER))
		return kernel_hook ? kernel_hook(frame, addr) : false;
	/* A reserved bit set in a page-table entry is corruption, not the program's doing. */
	if (frame->error & X86_PF_RSVD)
		x86_trap_fatal(frame, addr, "reserved bit in a user page-table entry");

	struct x86_user_result *r = x86_user_current();
	mm_space_t space = running[arch_cpu_id()];
	if (!r || !space)
		return false;
	int error;
	if (addr >= MM_USER_END) {
		/* The kernel half is never the program's, whatever a region says. */
		error = MM_EFAULT;
	} else {
		/*
		 * The program had interrupts on: let them in while mm_fault works, as its code
		 * would have, so that a CPU waiting on us (a TLB shootdown while we wait for a
		 * space lock) gets its answer. Off again before the hook returns, as the exit
		 * path expects.
		 */
		bool irq = frame->rflags & X86_RFLAGS_IF;
		if (irq)
			x86_sti();
		error = mm_fault(space, addr, fault_access(frame->error));
		if (irq)
			x86_cli();
	}
	if (error == MM_OK) {
		r->faults_resolved++;
		return true;
	}
	r->fault_error = error;
	return false;
}

void x86_user_init(void)
{
	if (installed)
		return;
	installed = true;
	kernel_hook = x86_set_page_fault_hook(user_fault_hook);
	x86_user_syscalls_init();
}

mm_space_t x86_user_space(void)
{
	return running[arch_cpu_id()];
}

/* Whether a CPU other than this one runs a program in space. */
static bool space_runs_elsewhere(mm_space_t space)
{
	unsigned self = arch_cpu_id();
	for (unsigned cpu = 0; cpu < ARCH_MAX_CPUS; cpu++)
		if (cpu != self && __atomic_load_n(&running[cpu], __ATOMIC_SEQ_CST) == space)
			return true;
	return false;
}

int x86_user_run(mm_space_t space, uintptr_t entry, uintptr_t user_stack_top, uint64_t arg,
                 struct x86_user_result *out)
{
	if (!space || !out || space == mm_kernel_space() || entry < MM_USER_BASE ||
	    entry >= MM_USER_END || user_stack_top < MM_USER_BASE || user_stack_top > MM_USER_END)
		return MM_EINVAL;
	unsigned cpu = arch_cpu_id();
	__atomic_store_n(&running[cpu], space, __ATOMIC_SEQ_CST);
	mm_set(space);
	int status = x86_user_enter(entry, user_stack_top, arg, out);
	mm_set(mm_kernel_space());
	__atomic_store_n(&running[cpu], NULL, __ATOMIC_SEQ_CST);
	/* The program's children go with it; two programs in one space (a test's spinner
	 * beside the program it waits on) share them until the last one ends. */
	if (!space_runs_elsewhere(space))
		x86_user_reap_children(space);
	return status;
}
