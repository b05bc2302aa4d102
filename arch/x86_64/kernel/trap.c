/* The C side of every exception and interrupt: page-fault hook, vector handlers, fatal path. */
#include <arch/x86_64/trap.h>

#include <arch/x86_64/cpu.h>
#include <arch/x86_64/percpu.h>
#include <arch/x86_64/probe.h>
#include <arch/x86_64/user.h>

static x86_pf_hook_t pf_hook;
static x86_irq_handler_t irq_handlers[256];

x86_pf_hook_t x86_set_page_fault_hook(x86_pf_hook_t hook)
{
	return __atomic_exchange_n(&pf_hook, hook, __ATOMIC_ACQ_REL);
}

void x86_set_irq_handler(uint8_t vector, x86_irq_handler_t handler)
{
	__atomic_store_n(&irq_handlers[vector], handler, __ATOMIC_RELEASE);
}

/* Exceptions that say nothing about the program running when they arrive: they stay fatal
 * even in ring 3. */
static bool machine_exception(uint64_t vector)
{
	return vector == 2 || vector == 8 || vector == 18; /* NMI, #DF, #MC */
}

void x86_trap_dispatch(struct x86_trap_frame *frame)
{
	uint64_t vector = frame->vector;
	bool from_user = (frame->cs & 3) == X86_RPL_USER;

	/* A probe's access (probe.h) answers its own faults, before any hook could resolve
	 * them through mm_fault. */
	if (x86_probe_fixup(frame))
		return;
	if (vector == X86_VEC_PF) {
		/* CR2 first: a fault inside the hook would overwrite it. */
		uintptr_t addr = x86_read_cr2();
		x86_pf_hook_t hook = __atomic_load_n(&pf_hook, __ATOMIC_ACQUIRE);
		if (hook && hook(frame, addr))
			return;
		if (from_user)
			x86_user_trap_end(frame, addr);
		x86_trap_fatal(frame, addr, hook ? "page fault not resolved" : "page fault");
	}
	if (vector < X86_VEC_EXCEPTIONS) {
		if (from_user && !machine_exception(vector))
			x86_user_trap_end(frame, 0);
		x86_trap_fatal(frame, 0, "exception");
	}

	x86_irq_handler_t handler = __atomic_load_n(&irq_handlers[vector], __ATOMIC_ACQUIRE);
	if (handler) {
		handler(frame);
		return;
	}
	/* The PICs are masked; what still arrives from them is spurious (IRQ 7 / 15) and is
	 * not acknowledged. The local APIC's spurious vector needs no EOI either. */
	if ((vector >= X86_VEC_PIC_BASE && vector < X86_VEC_PIC_END) || vector == X86_VEC_SPURIOUS)
		return;
	x86_trap_fatal(frame, 0, "unexpected interrupt");
}
