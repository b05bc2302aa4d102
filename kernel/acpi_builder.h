/*
 * Building ACPI tables in memory, for the tests of the parsers: a header, entries appended
 * one by one, then the length and checksum filled in (or deliberately left wrong).
 */
#ifndef KERNEL_ACPI_BUILDER_H
#define KERNEL_ACPI_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/acpi_tables.h"

/* Invariant: len <= cap; buf[0..len) is the table so far. */
struct acpi_builder {
	uint8_t *buf;
	size_t cap, len;
};

/* Starts a table with signature sig (4 characters) and revision rev in buf, followed by
 * extra zero bytes of table-specific header (8 for the MADT, 12 for the SRAT). */
void acpi_build_begin(struct acpi_builder *b, void *buf, size_t cap, const char *sig, uint8_t rev,
                      size_t extra);

/* Appends len bytes; returns where they went. Panics past cap. */
void *acpi_build_put(struct acpi_builder *b, const void *data, size_t len);

/* Writes the length and the checksum; returns the table. */
struct acpi_header *acpi_build_finish(struct acpi_builder *b);

/* Recomputes the checksum of a table whose bytes a test changed after finishing it. */
void acpi_build_fix_checksum(struct acpi_header *h);

/* Entries of the MADT, SRAT and SLIT, appended. */
void acpi_build_madt_lapic(struct acpi_builder *b, uint8_t uid, uint8_t apic_id, uint32_t flags);
void acpi_build_madt_x2apic(struct acpi_builder *b, uint32_t uid, uint32_t apic_id, uint32_t flags);
void acpi_build_srat_cpu(struct acpi_builder *b, uint32_t domain, uint8_t apic_id, uint32_t flags);
void acpi_build_srat_x2apic(struct acpi_builder *b, uint32_t domain, uint32_t apic_id,
                            uint32_t flags);
void acpi_build_srat_mem(struct acpi_builder *b, uint32_t domain, uint64_t base, uint64_t len,
                         uint32_t flags);

/* A whole SLIT with n localities: dist is the n x n matrix, row = from. */
struct acpi_header *acpi_build_slit(struct acpi_builder *b, void *buf, size_t cap, uint64_t n,
                                    const uint8_t *dist);

#endif /* KERNEL_ACPI_BUILDER_H */
