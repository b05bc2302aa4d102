/* In-memory ACPI tables for the parser tests. */
#include "kernel/acpi_builder.h"

#include <arch/arch.h>
#include <lib/string.h>

void acpi_build_begin(struct acpi_builder *b, void *buf, size_t cap, const char *sig, uint8_t rev,
                      size_t extra)
{
	b->buf = buf;
	b->cap = cap;
	b->len = 0;
	struct acpi_header h;
	memset(&h, 0, sizeof h);
	memcpy(h.signature, sig, 4);
	h.revision = rev;
	memcpy(h.oem_id, "MMTEST", 6);
	acpi_build_put(b, &h, sizeof h);
	static const uint8_t zeros[16];
	acpi_build_put(b, zeros, extra);
}

void *acpi_build_put(struct acpi_builder *b, const void *data, size_t len)
{
	if (b->len + len > b->cap)
		arch_panic("acpi_builder: table too large for its buffer");
	void *at = b->buf + b->len;
	memcpy(at, data, len);
	b->len += len;
	return at;
}

void acpi_build_fix_checksum(struct acpi_header *h)
{
	h->checksum = 0;
	uint8_t sum = 0;
	const uint8_t *p = (const uint8_t *)h;
	for (uint32_t i = 0; i < h->length; i++)
		sum = (uint8_t)(sum + p[i]);
	h->checksum = (uint8_t)-sum;
}

struct acpi_header *acpi_build_finish(struct acpi_builder *b)
{
	struct acpi_header *h = (struct acpi_header *)b->buf;
	h->length = (uint32_t)b->len;
	acpi_build_fix_checksum(h);
	return h;
}

void acpi_build_madt_lapic(struct acpi_builder *b, uint8_t uid, uint8_t apic_id, uint32_t flags)
{
	struct acpi_madt_lapic e = {{ACPI_MADT_LAPIC, sizeof e}, uid, apic_id, flags};
	acpi_build_put(b, &e, sizeof e);
}

void acpi_build_madt_x2apic(struct acpi_builder *b, uint32_t uid, uint32_t apic_id, uint32_t flags)
{
	struct acpi_madt_x2apic e = {{ACPI_MADT_X2APIC, sizeof e}, 0, apic_id, flags, uid};
	acpi_build_put(b, &e, sizeof e);
}

void acpi_build_srat_cpu(struct acpi_builder *b, uint32_t domain, uint8_t apic_id, uint32_t flags)
{
	struct acpi_srat_cpu e;
	memset(&e, 0, sizeof e);
	e.h = (struct acpi_subtable){ACPI_SRAT_CPU, sizeof e};
	e.domain_lo = (uint8_t)domain;
	e.domain_hi[0] = (uint8_t)(domain >> 8);
	e.domain_hi[1] = (uint8_t)(domain >> 16);
	e.domain_hi[2] = (uint8_t)(domain >> 24);
	e.apic_id = apic_id;
	e.flags = flags;
	acpi_build_put(b, &e, sizeof e);
}

void acpi_build_srat_x2apic(struct acpi_builder *b, uint32_t domain, uint32_t apic_id,
                            uint32_t flags)
{
	struct acpi_srat_x2apic e;
	memset(&e, 0, sizeof e);
	e.h = (struct acpi_subtable){ACPI_SRAT_X2APIC, sizeof e};
	e.domain = domain;
	e.x2apic_id = apic_id;
	e.flags = flags;
	acpi_build_put(b, &e, sizeof e);
}

void acpi_build_srat_mem(struct acpi_builder *b, uint32_t domain, uint64_t base, uint64_t len,
                         uint32_t flags)
{
	struct acpi_srat_memory e;
	memset(&e, 0, sizeof e);
	e.h = (struct acpi_subtable){ACPI_SRAT_MEMORY, sizeof e};
	e.domain = domain;
	e.base = base;
	e.length = len;
	e.flags = flags;
	acpi_build_put(b, &e, sizeof e);
}

struct acpi_header *acpi_build_slit(struct acpi_builder *b, void *buf, size_t cap, uint64_t n,
                                    const uint8_t *dist)
{
	acpi_build_begin(b, buf, cap, "SLIT", 1, 0);
	acpi_build_put(b, &n, sizeof n);
	acpi_build_put(b, dist, n * n);
	return acpi_build_finish(b);
}
