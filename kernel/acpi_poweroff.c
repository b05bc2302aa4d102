/* Powering off through ACPI S5: see acpi_poweroff.h. */
#include "kernel/acpi_poweroff.h"

#include <arch/x86_64/cpu.h>
#include <arch/x86_64/tsc.h>
#include <lib/print.h>
#include <lib/string.h>

/* FADT field offsets (ACPI 6.5, table 5.9). */
#define FADT_DSDT 40
#define FADT_SMI_CMD 48
#define FADT_ACPI_ENABLE 52
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM1B_CNT_BLK 68
#define FADT_X_DSDT 140

/* PM1 control register bits (ACPI 6.5, table 4.14). */
#define PM1_SCI_EN (1u << 0)
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK (7u << PM1_SLP_TYP_SHIFT)
#define PM1_SLP_EN (1u << 13)

/* AML encodings (ACPI 6.5, section 20.2). */
#define AML_NAME_OP 0x08
#define AML_PACKAGE_OP 0x12
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_BYTE_PREFIX 0x0A
#define AML_WORD_PREFIX 0x0B
#define AML_ROOT_CHAR '\\'

static uint32_t read32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* One integer constant at aml[*at] (zero, one, byte or word); false if it is none of them or
 * runs past len. */
static bool aml_small_int(const uint8_t *aml, size_t len, size_t *at, uint8_t *out)
{
	if (*at >= len)
		return false;
	switch (aml[*at]) {
	case AML_ZERO_OP:
		*out = 0;
		*at += 1;
		return true;
	case AML_ONE_OP:
		*out = 1;
		*at += 1;
		return true;
	case AML_BYTE_PREFIX:
		if (*at + 2 > len)
			return false;
		*out = aml[*at + 1];
		*at += 2;
		return true;
	case AML_WORD_PREFIX:
		if (*at + 3 > len)
			return false;
		*out = aml[*at + 1]; /* a sleep type is 3 bits: the low byte holds it */
		*at += 3;
		return true;
	default:
		return false;
	}
}

bool acpi_aml_find_s5(const uint8_t *aml, size_t len, uint8_t *typa, uint8_t *typb)
{
	for (size_t i = 1; i + 4 <= len; i++) {
		if (memcmp(aml + i, "_S5_", 4) != 0)
			continue;
		/* Name(_S5, ...) or Name(\_S5, ...): not a reference to _S5 inside some method. */
		bool named = aml[i - 1] == AML_NAME_OP ||
		             (i >= 2 && aml[i - 1] == AML_ROOT_CHAR && aml[i - 2] == AML_NAME_OP);
		size_t at = i + 4;
		if (!named || at >= len || aml[at] != AML_PACKAGE_OP)
			continue;
		at++;
		if (at >= len)
			return false;
		at += 1 + (aml[at] >> 6); /* PkgLength: its lead byte says how many bytes follow */
		if (at >= len || aml[at] < 2)
			return false; /* NumElements: both sleep types must be there */
		at++;
		uint8_t a, b;
		if (!aml_small_int(aml, len, &at, &a) || !aml_small_int(aml, len, &at, &b))
			return false;
		*typa = a;
		*typb = b;
		return true;
	}
	return false;
}

bool acpi_s5_read(const struct acpi_dir *dir, struct acpi_s5 *out, struct fw_warnings *w)
{
	*out = (struct acpi_s5){0};
	const struct acpi_header *fadt = acpi_find(dir, "FACP");
	if (!fadt)
		return false;
	const uint8_t *f = (const uint8_t *)fadt;
	if (fadt->length < FADT_PM1B_CNT_BLK + 4) {
		fw_warn(w, "acpi: FADT of %u bytes has no PM1 control block\n", fadt->length);
		return false;
	}
	uint64_t dsdt_phys = read32(f + FADT_DSDT);
	if (fadt->length >= FADT_X_DSDT + 8) {
		uint64_t x_dsdt;
		memcpy(&x_dsdt, f + FADT_X_DSDT, sizeof x_dsdt);
		if (x_dsdt)
			dsdt_phys = x_dsdt;
	}
	uint32_t pm1a = read32(f + FADT_PM1A_CNT_BLK), pm1b = read32(f + FADT_PM1B_CNT_BLK);
	uint32_t smi_cmd = read32(f + FADT_SMI_CMD);
	if (pm1a == 0 || pm1a > 0xFFFF || pm1b > 0xFFFF || smi_cmd > 0xFFFF) {
		fw_warn(w, "acpi: FADT's PM1 control ports (0x%x, 0x%x) or SMI port 0x%x unusable\n", pm1a,
		        pm1b, smi_cmd);
		return false;
	}
	const struct acpi_header *dsdt = acpi_map(dsdt_phys, ACPI_HEADER_LEN);
	if (!dsdt || memcmp(dsdt->signature, "DSDT", 4) != 0 ||
	    !(dsdt = acpi_map(dsdt_phys, dsdt->length)) || !acpi_table_ok(dsdt, dsdt->length)) {
		fw_warn(w, "acpi: no valid DSDT at 0x%llx\n", (unsigned long long)dsdt_phys);
		return false;
	}
	uint8_t a, b;
	if (!acpi_aml_find_s5((const uint8_t *)dsdt + ACPI_HEADER_LEN, dsdt->length - ACPI_HEADER_LEN,
	                      &a, &b))
		return false; /* no soft-off state: not an error, the machine cannot do it */
	*out = (struct acpi_s5){true,
	                        (uint16_t)pm1a,
	                        (uint16_t)pm1b,
	                        (uint8_t)(a & 7),
	                        (uint8_t)(b & 7),
	                        (uint16_t)smi_cmd,
	                        f[FADT_ACPI_ENABLE]};
	return true;
}

/* Waits up to `us` microseconds for the PM1a control register to show bits. */
static bool wait_for_pm1(uint16_t port, uint16_t bits, uint64_t us)
{
	uint64_t start = x86_rdtsc(), limit = x86_tsc_cycles_for_us(us);
	while ((x86_inw(port) & bits) != bits)
		if (x86_rdtsc() - start > limit)
			return false;
	return true;
}

static void enter_on(uint16_t port, uint8_t slp_typ)
{
	uint16_t v = (uint16_t)(x86_inw(port) & ~(PM1_SLP_TYP_MASK | PM1_SLP_EN));
	v = (uint16_t)(v | (uint16_t)slp_typ << PM1_SLP_TYP_SHIFT);
	x86_outw(port, v);
	x86_outw(port, (uint16_t)(v | PM1_SLP_EN));
}

void acpi_s5_enter(const struct acpi_s5 *s)
{
	/* Firmware that starts in legacy mode hands the PM registers over on request. */
	if (!(x86_inw(s->pm1a_cnt) & PM1_SCI_EN) && s->smi_cmd && s->acpi_enable) {
		x86_outb(s->smi_cmd, s->acpi_enable);
		if (!wait_for_pm1(s->pm1a_cnt, PM1_SCI_EN, 3000000))
			lib_printf("poweroff: the firmware did not enter ACPI mode; trying S5 anyway\n");
	}
	lib_printf("poweroff: entering ACPI S5\n");
	enter_on(s->pm1a_cnt, s->slp_typa);
	if (s->pm1b_cnt)
		enter_on(s->pm1b_cnt, s->slp_typb);
	/* Power goes within moments; a machine still running after a second refused. */
	x86_tsc_delay_us(1000000);
	lib_printf("poweroff: the machine is still on after S5\n");
}
