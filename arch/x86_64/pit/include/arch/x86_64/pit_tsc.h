/*
 * The TSC frequency measured against the 8254 PIT's channel 2: three 10 ms one-shot
 * countdowns, TSC ticks per countdown, the median (which resists one window stretched by an
 * SMI or a host preemption).
 *
 * Header-only and freestanding, with its own port I/O, so that the kernel (ring 0) and the
 * Linux side-by-side program (ring 3, after ioperm on ports 0x42-0x43 and 0x61) calibrate
 * the same way and their nanoseconds mean the same thing.
 */
#ifndef ARCH_X86_64_PIT_TSC_H
#define ARCH_X86_64_PIT_TSC_H

#include <stdint.h>

#define PIT_HZ 1193182u
#define PIT_CH2_DATA 0x42
#define PIT_MODE 0x43
#define PIT_MODE_CH2_ONESHOT 0xB0 /* channel 2, lobyte/hibyte, mode 0, binary */
#define PIT_PORT_B 0x61           /* bit 0: channel 2 gate, bit 1: speaker, bit 5: OUT2 */
#define PIT_PORT_B_GATE2 0x01
#define PIT_PORT_B_SPEAKER 0x02
#define PIT_PORT_B_OUT2 0x20
#define PIT_WINDOW_MS 10
#define PIT_WINDOWS 3

static inline uint8_t pit_inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void pit_outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint64_t pit_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* TSC ticks during one PIT countdown of latch ticks, or 0 if OUT2 never rose. */
static inline uint64_t pit_tsc_window(uint16_t latch)
{
	/* Gate on, speaker off; mode 0 drives OUT2 low until the count runs out. */
	pit_outb(PIT_PORT_B, (uint8_t)((pit_inb(PIT_PORT_B) & ~PIT_PORT_B_SPEAKER) | PIT_PORT_B_GATE2));
	pit_outb(PIT_MODE, PIT_MODE_CH2_ONESHOT);
	pit_outb(PIT_CH2_DATA, (uint8_t)latch);
	pit_outb(PIT_CH2_DATA, (uint8_t)(latch >> 8));
	/* Counting starts with the high byte written. */
	uint64_t start = pit_rdtsc();
	for (uint64_t polls = 0; !(pit_inb(PIT_PORT_B) & PIT_PORT_B_OUT2); polls++) {
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
	return pit_rdtsc() - start;
}

/* post: TSC ticks per second, or 0 when the PIT did not answer. */
static inline uint64_t pit_tsc_hz(void)
{
	const uint16_t latch = (uint16_t)(PIT_HZ / (1000 / PIT_WINDOW_MS));
	uint64_t t[PIT_WINDOWS];
	for (int i = 0; i < PIT_WINDOWS; i++) {
		t[i] = pit_tsc_window(latch);
		if (t[i] == 0)
			return 0;
	}
	for (int i = 1; i < PIT_WINDOWS; i++)
		for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
			uint64_t x = t[j];
			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	return t[PIT_WINDOWS / 2] * PIT_HZ / latch;
}

#endif /* ARCH_X86_64_PIT_TSC_H */
