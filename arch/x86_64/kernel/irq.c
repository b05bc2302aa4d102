/* arch_irq_save / arch_irq_restore: RFLAGS.IF on the calling CPU. */
#include <arch/arch.h>

#include <arch/x86_64/cpu.h>

arch_irq_state_t arch_irq_save(void)
{
	uint64_t flags;
	__asm__ volatile("pushfq\n\t"
	                 "popq %0\n\t"
	                 "cli"
	                 : "=r"(flags)
	                 :
	                 : "memory");
	return flags;
}

void arch_irq_restore(arch_irq_state_t state)
{
	/* Only IF is restored: the other flags belong to the code in between. */
	if (state & X86_RFLAGS_IF)
		x86_sti();
}
