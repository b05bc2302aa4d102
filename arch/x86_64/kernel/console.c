/* arch_print (serial, one lock for every CPU) and arch_panic. */
#include <arch/x86_64/console.h>

#include <stdbool.h>

#include <arch/arch.h>
#include <arch/x86_64/exit.h>
#include <arch/x86_64/serial.h>
#include <lib/print.h>
#include <lib/spinlock.h>

static spinlock_t console_lock = SPINLOCK_INIT;
static volatile bool console_unlocked;

void x86_console_panic_mode(void)
{
	console_unlocked = true;
}

void arch_print(const char *s, size_t len)
{
	if (console_unlocked) {
		x86_serial_write(s, len);
		return;
	}
	/* irqsave: an IPI handler that prints must not spin on a lock its own CPU holds. */
	arch_irq_state_t st = spin_lock_irqsave(&console_lock);
	x86_serial_write(s, len);
	spin_unlock_irqrestore(&console_lock, st);
}

_Noreturn void arch_panic(const char *why)
{
	arch_irq_save();
	x86_console_panic_mode();
	lib_printf("\nPANIC: %s\n", why);
	kernel_exit(false);
}
