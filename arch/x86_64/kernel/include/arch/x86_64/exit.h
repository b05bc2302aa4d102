/* Leaving the kernel: QEMU's isa-debug-exit status, or a halt on bare metal. */
#ifndef ARCH_X86_64_EXIT_H
#define ARCH_X86_64_EXIT_H

#include <stdbool.h>

/*
 * Exits QEMU through isa-debug-exit (port 0xf4): status 33 when passed, 35 otherwise (a
 * write of v exits with (v << 1) | 1). Where no such device answers (bare metal, Bochs),
 * runs the power-off hook if the kernel set one, then prints "halting" and stops the CPU
 * with interrupts off.
 */
_Noreturn void kernel_exit(bool passed);

/* The kernel's way to turn the machine off at kernel_exit (ACPI S5): it returns only if the
 * machine stayed on. NULL: none (the default). */
void x86_set_power_off(void (*power_off)(void));

/* Stops the calling CPU for good (cli; hlt), printing nothing. */
_Noreturn void x86_halt_forever(void);

#endif /* ARCH_X86_64_EXIT_H */
