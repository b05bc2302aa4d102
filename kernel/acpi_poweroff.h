/*
 * Powering the machine off through ACPI (the soft-off sleep state, S5), for runs that must
 * end when the kernel is done: Bochs has no isa-debug-exit device, and a lab's server is
 * better off than halted. The FADT gives the PM1 control ports (and how to switch the
 * firmware to ACPI mode); the DSDT's \_S5 object gives the sleep-type values to write
 * (ACPI 6.5, sections 4.8.3.2, 5.2.9 and 7.4.2). Both are read at boot, since the tables may
 * lie in memory that becomes the frame allocator's.
 */
#ifndef KERNEL_ACPI_POWEROFF_H
#define KERNEL_ACPI_POWEROFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/acpi.h"

/* Invariant: when ok, pm1a_cnt is non-zero and the sleep types fit their 3-bit field. */
struct acpi_s5 {
	bool ok;
	uint16_t pm1a_cnt, pm1b_cnt; /* I/O ports; pm1b_cnt 0: none */
	uint8_t slp_typa, slp_typb;
	uint16_t smi_cmd;    /* 0: the firmware is always in ACPI mode */
	uint8_t acpi_enable; /* written to smi_cmd to enter ACPI mode */
};

/*
 * The sleep types of the \_S5 package in AML (a DSDT's definition block after its header):
 * Name (_S5, Package () {SLP_TYPa, SLP_TYPb, ...}) with each value a byte, word, zero or one
 * constant. False when the bytes hold no such object, or it runs past len.
 */
bool acpi_aml_find_s5(const uint8_t *aml, size_t len, uint8_t *typa, uint8_t *typb);

/* Reads the FADT and the DSDT it names from dir into *out. Returns out->ok. */
bool acpi_s5_read(const struct acpi_dir *dir, struct acpi_s5 *out, struct fw_warnings *w);

/* Enters S5 as s says (after switching to ACPI mode if the firmware is not in it). Returns
 * only if the machine is still on a moment later, having printed why. pre: s->ok. */
void acpi_s5_enter(const struct acpi_s5 *s);

#endif /* KERNEL_ACPI_POWEROFF_H */
