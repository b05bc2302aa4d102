/*
 * The MADT's processor list: every Local APIC and Local x2APIC structure, turned into the
 * CPU list the SMP bring-up starts (struct x86_cpu_list in <arch/x86_64/topology.h>).
 */
#ifndef KERNEL_MADT_H
#define KERNEL_MADT_H

#include <stdbool.h>
#include <stdint.h>

#include <arch/x86_64/topology.h>

#include "kernel/acpi_tables.h"
#include "kernel/fw_warn.h"

/*
 * Fills out from the MADT madt (a checked table, acpi_table_ok): processors that are
 * enabled or online-capable (before MADT revision 5, which brought that flag, every
 * disabled one counts as online-capable), in table order, each APIC ID once (a repeat is
 * warned about and dropped), at most ARCH_MAX_CPUS; the local APIC address (the 64-bit
 * override when there is one). Nodes are left 0 (numa_assign_cpus sets them). The CPU
 * that booted, bsp_apic_id, is out->cpu[out->bsp], added or marked enabled with a warning
 * where the table disagrees. post: false, with out holding the bootstrap CPU only, when
 * the table is too short to be a MADT.
 */
bool madt_parse(const struct acpi_header *madt, uint32_t bsp_apic_id, struct x86_cpu_list *out,
                struct fw_warnings *w);

/* The list without a MADT: the bootstrap CPU alone. */
void madt_bsp_only(uint32_t bsp_apic_id, struct x86_cpu_list *out);

#endif /* KERNEL_MADT_H */
