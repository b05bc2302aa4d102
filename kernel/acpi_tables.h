/*
 * Byte layouts of the ACPI structures the kernel reads (ACPI 6.5, sections 5.2.5 to 5.2.17):
 * the RSDP, the common table header, the RSDT/XSDT, and the entries of the MADT, SRAT and
 * SLIT. Packed: firmware places them at any byte alignment.
 */
#ifndef KERNEL_ACPI_TABLES_H
#define KERNEL_ACPI_TABLES_H

#include <stdint.h>

#define ACPI_RSDP_SIG "RSD PTR "
#define ACPI_RSDP_V1_LEN 20 /* the part the first checksum covers */
#define ACPI_RSDP_V2_LEN 36

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum; /* bytes 0..19 sum to 0 */
	char oem_id[6];
	uint8_t revision; /* 0: ACPI 1.0 (RSDT only); 2: has the fields below */
	uint32_t rsdt_address;
	uint32_t length; /* of the whole structure */
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* bytes 0..length-1 sum to 0 */
	uint8_t reserved[3];
} __attribute__((packed));

#define ACPI_HEADER_LEN 36

struct acpi_header {
	char signature[4];
	uint32_t length; /* of the whole table, header included */
	uint8_t revision;
	uint8_t checksum; /* bytes 0..length-1 sum to 0 */
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

/* RSDT: the header, then 32-bit table addresses; XSDT: 64-bit ones. */

/* Every MADT and SRAT entry starts with its type and length. */
struct acpi_subtable {
	uint8_t type;
	uint8_t length;
} __attribute__((packed));

/* ---- MADT ("APIC") ---- */
struct acpi_madt {
	struct acpi_header header;
	uint32_t lapic_address;
	uint32_t flags;
} __attribute__((packed));

#define ACPI_MADT_LAPIC 0
#define ACPI_MADT_LAPIC_OVERRIDE 5
#define ACPI_MADT_X2APIC 9

#define ACPI_MADT_ENABLED (1u << 0)
#define ACPI_MADT_ONLINE_CAPABLE (1u << 1)

struct acpi_madt_lapic {
	struct acpi_subtable h; /* type 0, length 8 */
	uint8_t acpi_uid;
	uint8_t apic_id;
	uint32_t flags;
} __attribute__((packed));

struct acpi_madt_lapic_override {
	struct acpi_subtable h; /* type 5, length 12 */
	uint16_t reserved;
	uint64_t address;
} __attribute__((packed));

struct acpi_madt_x2apic {
	struct acpi_subtable h; /* type 9, length 16 */
	uint16_t reserved;
	uint32_t x2apic_id;
	uint32_t flags;
	uint32_t acpi_uid;
} __attribute__((packed));

/* ---- SRAT ---- */
struct acpi_srat {
	struct acpi_header header;
	uint32_t reserved1; /* 1 for compatibility */
	uint64_t reserved2;
} __attribute__((packed));

#define ACPI_SRAT_CPU 0
#define ACPI_SRAT_MEMORY 1
#define ACPI_SRAT_X2APIC 2

#define ACPI_SRAT_ENABLED (1u << 0)
#define ACPI_SRAT_MEM_HOTPLUG (1u << 1)

struct acpi_srat_cpu {
	struct acpi_subtable h; /* type 0, length 16 */
	uint8_t domain_lo;      /* bits 7..0 of the proximity domain */
	uint8_t apic_id;
	uint32_t flags;
	uint8_t sapic_eid;
	uint8_t domain_hi[3]; /* bits 31..8, meaningful from SRAT revision 2 */
	uint32_t clock_domain;
} __attribute__((packed));

struct acpi_srat_memory {
	struct acpi_subtable h; /* type 1, length 40 */
	uint32_t domain;        /* only bits 7..0 before SRAT revision 2 */
	uint16_t reserved1;
	uint64_t base;
	uint64_t length;
	uint32_t reserved2;
	uint32_t flags;
	uint64_t reserved3;
} __attribute__((packed));

struct acpi_srat_x2apic {
	struct acpi_subtable h; /* type 2, length 24 */
	uint16_t reserved1;
	uint32_t domain;
	uint32_t x2apic_id;
	uint32_t flags;
	uint32_t clock_domain;
	uint32_t reserved2;
} __attribute__((packed));

/* ---- SLIT ---- */
struct acpi_slit {
	struct acpi_header header;
	uint64_t localities; /* N; an N x N byte matrix follows, row = from, column = to */
	uint8_t entry[];
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_rsdp) == ACPI_RSDP_V2_LEN, "RSDP layout");
_Static_assert(sizeof(struct acpi_header) == ACPI_HEADER_LEN, "table header layout");
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT layout");
_Static_assert(sizeof(struct acpi_madt_lapic) == 8, "MADT local APIC layout");
_Static_assert(sizeof(struct acpi_madt_lapic_override) == 12, "MADT override layout");
_Static_assert(sizeof(struct acpi_madt_x2apic) == 16, "MADT x2APIC layout");
_Static_assert(sizeof(struct acpi_srat) == 48, "SRAT layout");
_Static_assert(sizeof(struct acpi_srat_cpu) == 16, "SRAT processor layout");
_Static_assert(sizeof(struct acpi_srat_memory) == 40, "SRAT memory layout");
_Static_assert(sizeof(struct acpi_srat_x2apic) == 24, "SRAT x2APIC layout");
_Static_assert(sizeof(struct acpi_slit) == 44, "SLIT layout");

#endif /* KERNEL_ACPI_TABLES_H */
