/* kernel_exit: the isa-debug-exit port under QEMU, halt on bare metal. */
#include <arch/x86_64/exit.h>

#include <arch/arch.h>
#include <arch/x86_64/cpu.h>

#define DEBUG_EXIT_PORT 0xF4
#define DEBUG_EXIT_PASS 0x10 /* QEMU exit status 33 */
#define DEBUG_EXIT_FAIL 0x11 /* QEMU exit status 35 */

_Noreturn void x86_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" : : : "memory");
}

static void (*power_off_hook)(void);

void x86_set_power_off(void (*power_off)(void))
{
	power_off_hook = power_off;
}

_Noreturn void kernel_exit(bool passed)
{
	x86_cli();
	x86_outb(DEBUG_EXIT_PORT, passed ? DEBUG_EXIT_PASS : DEBUG_EXIT_FAIL);
	if (power_off_hook)
		power_off_hook();
	static const char msg[] = "halting\n";
	arch_print(msg, sizeof msg - 1);
	x86_halt_forever();
}
