/* TSC reads and the TSC frequency, calibrated once against the 8254 PIT's channel 2. */
#include <arch/x86_64/tsc.h>

#include <arch/arch.h>
#include <arch/x86_64/cpu.h>

#define PIT_HZ 1193182u
#define PIT_CH2_DATA 0x42
#define PIT_MODE 0x43
#define PIT_MODE_CH2_ONESHOT 0xB0 /* channel 2, lobyte/hibyte, mode 0, binary */
#define PORT_B 0x61               /* bit 0: channel 2 gate, bit 1: speaker, bit 5: OUT2 */
#define PORT_B_GATE2 0x01
#define PORT_B_SPEAKER 0x02
#define PORT_B_OUT2 0x20
#define WINDOW_MS 10
#define WINDOWS 3

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

/* TSC ticks during one PIT countdown of latch ticks, or 0 if OUT2 never rose. */
static uint64_t measure_window(uint16_t latch)
{
	/* Gate on, speaker off; mode 0 drives OUT2 low until the count runs out. */
	x86_outb(PORT_B, (uint8_t)((x86_inb(PORT_B) & ~PORT_B_SPEAKER) | PORT_B_GATE2));
	x86_outb(PIT_MODE, PIT_MODE_CH2_ONESHOT);
	x86_outb(PIT_CH2_DATA, (uint8_t)latch);
	x86_outb(PIT_CH2_DATA, (uint8_t)(latch >> 8));
	/* Counting starts with the high byte written. */
	uint64_t start = x86_rdtsc();
	for (uint64_t polls = 0; !(x86_inb(PORT_B) & PORT_B_OUT2); polls++) {
		/* Give up after seconds of polls: no PIT (some newer boards) means no answer. */
		if (polls > 50000000ull)
			return 0;
		/*
		 * A few hundred plain instructions between port reads: a port read costs far more
		 * than that under QEMU (most under -icount, where each ends a translation block),
		 * and on hardware the gap adds well under 0.01% to a 10 ms window.
		 */
		__asm__ volatile("movl $64, %%ecx\n"
		                 "1: decl %%ecx\n\t"
		                 "jnz 1b"
		                 :
		                 :
		                 : "ecx");
	}
	return x86_rdtsc() - start;
}

uint64_t x86_tsc_calibrate(void)
{
	const uint16_t latch = (uint16_t)(PIT_HZ / (1000 / WINDOW_MS));
	uint64_t t[WINDOWS];
	for (int i = 0; i < WINDOWS; i++) {
		t[i] = measure_window(latch);
		if (t[i] == 0)
			return 0;
	}
	/* The median resists one window stretched by an SMI or a host preemption. */
	for (int i = 1; i < WINDOWS; i++)
		for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
			uint64_t x = t[j];
			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	uint64_t hz = t[WINDOWS / 2] * PIT_HZ / latch;
	__atomic_store_n(&tsc_hz, hz, __ATOMIC_RELAXED);
	return hz;
}
