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

/*
 * TSC cycles in `us` microseconds at the calibrated frequency, for timeouts. Where the
 * frequency is unknown it counts as 10 GHz: a wait then lasts longer than asked (on any
 * real CPU), never shorter.
 */
uint64_t x86_tsc_cycles_for_us(uint64_t us);

/* Spins for `us` microseconds (x86_tsc_cycles_for_us). */
void x86_tsc_delay_us(uint64_t us);

#endif /* ARCH_X86_64_TSC_H */
