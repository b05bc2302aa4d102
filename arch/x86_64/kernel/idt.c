/* The interrupt descriptor table: one interrupt gate per vector, shared by every CPU. */
#include <arch/x86_64/trap.h>

#include <arch/x86_64/percpu.h>
#include <lib/assert.h>

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate");

/* Present, DPL 0, 64-bit interrupt gate: IF is cleared on entry, so handlers start with
 * interrupts off and per-CPU state cannot be preempted by another vector. */
#define GATE_INTERRUPT 0x8E

#define STUB_SIZE 16

extern const char x86_trap_stubs[], x86_trap_stubs_end[];

static struct idt_gate idt[256] __attribute__((aligned(16)));

static uint8_t ist_for(unsigned vector)
{
	/* #DF, NMI and #MC can arrive on a broken stack (overflow into the guard page, or at
	 * any instruction): they switch to a known-good per-CPU stack. */
	switch (vector) {
	case 8:
		return X86_IST_DF;
	case 2:
		return X86_IST_NMI;
	case 18:
		return X86_IST_MC;
	default:
		return 0;
	}
}

void x86_idt_init(void)
{
	MM_CHECK(x86_trap_stubs_end - x86_trap_stubs == 256 * STUB_SIZE);
	for (unsigned v = 0; v < 256; v++) {
		uint64_t addr = (uint64_t)(uintptr_t)(x86_trap_stubs + v * STUB_SIZE);
		idt[v] = (struct idt_gate){
		    .offset_lo = (uint16_t)addr,
		    .selector = X86_SEL_KCODE,
		    .ist = ist_for(v),
		    .type_attr = GATE_INTERRUPT,
		    .offset_mid = (uint16_t)(addr >> 16),
		    .offset_hi = (uint32_t)(addr >> 32),
		};
	}
}

void x86_idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = {sizeof idt - 1, (uint64_t)(uintptr_t)idt};
	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}
