/* The time-stamp counter: arch_cycles() and its frequency, calibrated against the PIT. */
#ifndef ARCH_X86_64_TSC_H
#define ARCH_X86_64_TSC_H

#include <stdint.h>

/*
 * Measures the TSC frequency against PIT channel 2 (about 30 ms: three 10 ms windows, the
 * median kept) and makes arch_cycles_per_second() return it. Returns the frequency in Hz,
 * or 0 if the PIT never answered.
 */
uint64_t x86_tsc_calibrate(void);

#endif /* ARCH_X86_64_TSC_H */
