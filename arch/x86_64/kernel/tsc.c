/* TSC reads and the TSC frequency, calibrated once against the 8254 PIT's channel 2. */
#include <arch/x86_64/tsc.h>

#include <arch/arch.h>
#include <arch/x86_64/cpu.h>
#include <arch/x86_64/pit_tsc.h>

static uint64_t tsc_hz;

uint64_t arch_cycles(void)
{
	return x86_rdtsc();
}

uint64_t arch_cycles_per_second(void)
{
	return __atomic_load_n(&tsc_hz, __ATOMIC_RELAXED);
}

uint64_t x86_tsc_cycles_for_us(uint64_t us)
{
	uint64_t hz = arch_cycles_per_second();
	if (hz == 0)
		hz = 10000000000ull;
	return hz / 1000000 * us;
}

void x86_tsc_delay_us(uint64_t us)
{
	uint64_t start = x86_rdtsc(), cycles = x86_tsc_cycles_for_us(us);
	while (x86_rdtsc() - start < cycles)
		arch_cpu_relax();
}

uint64_t x86_tsc_calibrate(void)
{
	uint64_t hz = pit_tsc_hz();
	__atomic_store_n(&tsc_hz, hz, __ATOMIC_RELAXED);
	return hz;
}
