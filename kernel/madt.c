/* Parsing the MADT's Local APIC, Local x2APIC and address-override structures. */
#include "kernel/madt.h"

#include <lib/string.h>

/* xAPIC ID 0xFF and x2APIC ID 0xFFFFFFFF are broadcast addresses, never a processor. */
#define XAPIC_BROADCAST 0xFFu
#define X2APIC_BROADCAST 0xFFFFFFFFu

void madt_bsp_only(uint32_t bsp_apic_id, struct x86_cpu_list *out)
{
	memset(out, 0, sizeof *out);
	out->count = 1;
	out->bsp = 0;
	out->cpu[0] = (struct x86_cpu_desc){.apic_id = bsp_apic_id, .enabled = true};
}

static int find_apic(const struct x86_cpu_list *l, uint32_t apic_id)
{
	for (unsigned i = 0; i < l->count; i++)
		if (l->cpu[i].apic_id == apic_id)
			return (int)i;
	return -1;
}

/* MADT revision 5 (ACPI 6.3) brought the online-capable flag. Before it, a disabled entry
 * is a processor that may be hot-added (QEMU lists its possible CPUs so). */
#define MADT_REV_ONLINE_CAPABLE 5

static void add_cpu(struct x86_cpu_list *l, struct x86_cpu_desc d, uint8_t madt_revision,
                    struct fw_warnings *w)
{
	if (!d.enabled && madt_revision < MADT_REV_ONLINE_CAPABLE)
		d.online_capable = true;
	/* With neither flag the processor is not there at all. */
	if (!d.enabled && !d.online_capable)
		return;
	if (find_apic(l, d.apic_id) >= 0) {
		fw_warn(w, "madt: APIC ID %u listed twice, the repeat ignored\n", d.apic_id);
		return;
	}
	if (l->count == ARCH_MAX_CPUS) {
		fw_warn(w, "madt: more than %d CPUs, APIC ID %u ignored\n", ARCH_MAX_CPUS, d.apic_id);
		return;
	}
	l->cpu[l->count++] = d;
}

/* Makes sure the CPU that runs this code is in the list, enabled, and marked the BSP. */
static void place_bsp(struct x86_cpu_list *l, uint32_t bsp_apic_id, struct fw_warnings *w)
{
	int i = find_apic(l, bsp_apic_id);
	if (i < 0) {
		fw_warn(w, "madt: the boot CPU (APIC ID %u) is not listed; added\n", bsp_apic_id);
		/* Room is made by dropping the last entry: the running CPU matters more. */
		if (l->count == ARCH_MAX_CPUS)
			l->count--;
		i = (int)l->count++;
		l->cpu[i] = (struct x86_cpu_desc){.apic_id = bsp_apic_id, .enabled = true};
	}
	if (!l->cpu[i].enabled) {
		fw_warn(w, "madt: the boot CPU (APIC ID %u) is listed disabled\n", bsp_apic_id);
		l->cpu[i].enabled = true;
	}
	l->bsp = (unsigned)i;
}

bool madt_parse(const struct acpi_header *madt, uint32_t bsp_apic_id, struct x86_cpu_list *out,
                struct fw_warnings *w)
{
	madt_bsp_only(bsp_apic_id, out);
	if (madt->length < sizeof(struct acpi_madt)) {
		fw_warn(w, "madt: table too short (%u bytes)\n", madt->length);
		return false;
	}
	const struct acpi_madt *m = (const struct acpi_madt *)madt;
	out->count = 0;
	out->from_madt = true;
	out->lapic_phys = m->lapic_address;

	const uint8_t *p = (const uint8_t *)madt + sizeof *m;
	const uint8_t *end = (const uint8_t *)madt + madt->length;
	while (p + sizeof(struct acpi_subtable) <= end) {
		const struct acpi_subtable *s = (const struct acpi_subtable *)p;
		if (s->length < sizeof *s || p + s->length > end) {
			fw_warn(w, "madt: entry of length %u at offset %u runs out of the table\n", s->length,
			        (unsigned)(p - (const uint8_t *)madt));
			break;
		}
		if (s->type == ACPI_MADT_LAPIC && s->length >= sizeof(struct acpi_madt_lapic)) {
			const struct acpi_madt_lapic *e = (const void *)p;
			if (e->apic_id != XAPIC_BROADCAST)
				add_cpu(out,
				        (struct x86_cpu_desc){
				            .apic_id = e->apic_id,
				            .acpi_uid = e->acpi_uid,
				            .enabled = (e->flags & ACPI_MADT_ENABLED) != 0,
				            .online_capable = (e->flags & ACPI_MADT_ONLINE_CAPABLE) != 0,
				        },
				        madt->revision, w);
		} else if (s->type == ACPI_MADT_X2APIC && s->length >= sizeof(struct acpi_madt_x2apic)) {
			const struct acpi_madt_x2apic *e = (const void *)p;
			if (e->x2apic_id != X2APIC_BROADCAST)
				add_cpu(out,
				        (struct x86_cpu_desc){
				            .apic_id = e->x2apic_id,
				            .acpi_uid = e->acpi_uid,
				            .enabled = (e->flags & ACPI_MADT_ENABLED) != 0,
				            .online_capable = (e->flags & ACPI_MADT_ONLINE_CAPABLE) != 0,
				            .x2apic_entry = true,
				        },
				        madt->revision, w);
		} else if (s->type == ACPI_MADT_LAPIC_OVERRIDE &&
		           s->length >= sizeof(struct acpi_madt_lapic_override)) {
			const struct acpi_madt_lapic_override *e = (const void *)p;
			out->lapic_phys = e->address;
		}
		p += s->length;
	}
	place_bsp(out, bsp_apic_id, w);
	return true;
}
