/* The console behind arch_print(), and its panic mode. */
#ifndef ARCH_X86_64_CONSOLE_H
#define ARCH_X86_64_CONSOLE_H

/*
 * From now on arch_print() stops taking the console lock, so a fatal report can be printed
 * even when the failing code held it. Lines from other CPUs may then interleave.
 */
void x86_console_panic_mode(void);

#endif /* ARCH_X86_64_CONSOLE_H */
