/* Ring 3 excursions: start a program (user_entry.S does the switch) and end it with a report. */
#include <arch/x86_64/user.h>

#include <stddef.h>

#include <arch/x86_64/percpu.h>
#include <lib/assert.h>
#include <lib/string.h>

int x86_user_enter(uintptr_t entry, uintptr_t stack_top, uint64_t arg, struct x86_user_result *out)
{
	struct x86_percpu *pc = x86_this_cpu();
	/* One program per CPU: a second x86_user_switch would overwrite the way back. */
	MM_CHECK(pc->user_return_rsp == 0);
	MM_CHECK(entry < X86_USER_END && stack_top <= X86_USER_END);
	memset(out, 0, sizeof *out);
	pc->user_result = out;
	int status = x86_user_switch(entry, stack_top, arg);
	pc->user_result = NULL;
	return status;
}

struct x86_user_result *x86_user_current(void)
{
	struct x86_percpu *pc = x86_this_cpu();
	return pc->user_return_rsp ? pc->user_result : NULL;
}

_Noreturn void x86_user_trap_end(struct x86_trap_frame *frame, uintptr_t cr2)
{
	struct x86_user_result *r = x86_user_current();
	/* Ring 3 with no program of ours running cannot happen; if it does, say so loudly. */
	if (!r)
		x86_trap_fatal(frame, cr2, "exception in ring 3 with no program running");
	r->status = X86_USER_FAULTED;
	r->vector = (uint32_t)frame->vector;
	r->error_code = frame->error;
	r->addr = frame->vector == X86_VEC_PF ? cr2 : 0;
	r->rip = frame->rip;
	r->rsp = frame->rsp;
	x86_user_leave(X86_USER_FAULTED);
}

_Noreturn void x86_user_exit(uint64_t value)
{
	struct x86_user_result *r = x86_this_cpu()->user_result;
	r->status = X86_USER_EXITED;
	r->value = value;
	x86_user_leave(X86_USER_EXITED);
}
