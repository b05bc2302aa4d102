/* The probes' fault fixup (probe.h): the faulting access resumes at the failure return. */
#include <arch/x86_64/probe.h>

#include <arch/x86_64/percpu.h>

/* probe.S: the two accesses and the return of false. */
extern const char x86_probe_read_insn[], x86_probe_write_insn[], x86_probe_fault[];

bool x86_probe_fixup(struct x86_trap_frame *frame)
{
	if ((frame->cs & 3) == X86_RPL_USER)
		return false;
	if (frame->vector != X86_VEC_PF && frame->vector != X86_VEC_GP)
		return false;
	if (frame->rip != (uintptr_t)x86_probe_read_insn &&
	    frame->rip != (uintptr_t)x86_probe_write_insn)
		return false;
	frame->rip = (uintptr_t)x86_probe_fault;
	return true;
}
