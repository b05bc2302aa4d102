/* The local APIC (xAPIC through MMIO, or x2APIC through MSRs) and the legacy PICs. */
#ifndef ARCH_X86_64_APIC_H
#define ARCH_X86_64_APIC_H

#include <stdbool.h>
#include <stdint.h>

/* Remaps the two 8259 PICs away from the exception vectors and masks every line. */
void x86_pic_disable(void);

/*
 * Sets the bootstrap CPU's local APIC up: x2APIC mode when CPUID offers it, otherwise
 * xAPIC registers mapped uncached through the fixmap; software-enabled with the spurious
 * vector; timer and LINT0 masked. Installs the IPI, error and self-test vectors and records
 * the BSP's APIC ID in its per-CPU data.
 * pre: the fixmap is ready, interrupts are disabled.
 */
void x86_apic_init_bsp(void);

/* The same on an application processor (mode and mapping chosen by the BSP). */
void x86_apic_init_ap(void);

bool x86_apic_is_x2apic(void);
uint32_t x86_apic_id(void);
void x86_apic_eoi(void);

/* Sends a fixed-delivery interrupt to one APIC ID (physical destination). */
void x86_apic_send_ipi(uint32_t apic_id, uint8_t vector);

/* The start-up pair (smp_boot.c): INIT resets the target CPU into wait-for-STARTUP;
 * STARTUP starts a CPU that waits so in real mode at CS:IP = (page << 8):0, that is at
 * physical page << 12 (below 1 MiB). Neither waits for the target. */
void x86_apic_send_init(uint32_t apic_id);
void x86_apic_send_startup(uint32_t apic_id, uint8_t page);

/*
 * Sends X86_VEC_SELFTEST to the calling CPU and waits (interrupts enabled for the wait)
 * until its handler has run. Returns false if it never did.
 */
bool x86_apic_self_test(void);

#endif /* ARCH_X86_64_APIC_H */
