/* The legacy 8259 PICs: remapped off the exception vectors and masked, never used. */
#include <arch/x86_64/apic.h>

#include <arch/x86_64/cpu.h>
#include <arch/x86_64/trap.h>

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1

void x86_pic_disable(void)
{
	/*
	 * The BIOS leaves the master PIC on vectors 8..15, where its timer would look like a
	 * double fault. Reinitialise both (ICW1..ICW4) onto 0x20..0x2F, then mask every line:
	 * interrupts come through the local APIC only. A masked PIC can still raise a spurious
	 * IRQ 7 or 15, which the trap code ignores.
	 */
	x86_outb(PIC1_CMD, 0x11); /* ICW1: edge, cascade, ICW4 follows */
	x86_outb(PIC2_CMD, 0x11);
	x86_outb(PIC1_DATA, X86_VEC_PIC_BASE); /* ICW2: vector base */
	x86_outb(PIC2_DATA, X86_VEC_PIC_BASE + 8);
	x86_outb(PIC1_DATA, 0x04); /* ICW3: slave on IRQ 2 */
	x86_outb(PIC2_DATA, 0x02);
	x86_outb(PIC1_DATA, 0x01); /* ICW4: 8086 mode */
	x86_outb(PIC2_DATA, 0x01);
	x86_outb(PIC1_DATA, 0xFF);
	x86_outb(PIC2_DATA, 0xFF);
}
