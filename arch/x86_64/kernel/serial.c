/* Polled 16550 UART driver for COM1. */
#include <arch/x86_64/serial.h>

#include <arch/x86_64/cpu.h>

#define COM1 0x3F8
#define REG_DATA 0 /* THR/RBR, or divisor low with DLAB */
#define REG_IER 1  /* interrupt enable, or divisor high with DLAB */
#define REG_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define LCR_DLAB 0x80
#define LCR_8N1 0x03
#define LSR_THR_EMPTY 0x20

void x86_serial_init(void)
{
	x86_outb(COM1 + REG_IER, 0x00); /* polled: no UART interrupts */
	x86_outb(COM1 + REG_LCR, LCR_DLAB);
	x86_outb(COM1 + REG_DATA, 1); /* divisor 1: 115200 baud */
	x86_outb(COM1 + REG_IER, 0);
	x86_outb(COM1 + REG_LCR, LCR_8N1);
	x86_outb(COM1 + REG_FCR, 0xC7); /* FIFOs on and cleared, 14-byte threshold */
	x86_outb(COM1 + REG_MCR, 0x03); /* DTR + RTS, OUT2 off: no IRQ line */
}

static void put(char c)
{
	/* Bounded wait: a machine without COM1 reads 0xFF (ready) and must not hang either. */
	for (unsigned spins = 0; spins < 100000; spins++) {
		if (x86_inb(COM1 + REG_LSR) & LSR_THR_EMPTY)
			break;
		__asm__ volatile("pause");
	}
	x86_outb(COM1 + REG_DATA, (unsigned char)c);
}

void x86_serial_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			put('\r');
		put(s[i]);
	}
}
