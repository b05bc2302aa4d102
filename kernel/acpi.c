/* Finding the RSDP, walking the RSDT/XSDT, and checking every table's checksum. */
#include "kernel/acpi.h"

#include <arch/arch.h>
#include <lib/print.h>
#include <lib/string.h>

#include "kernel/paging.h"

/* The BIOS data area's word holding the EBDA's real-mode segment. */
#define BDA_EBDA_SEGMENT 0x40E
/* Where an EBDA can be: below the 640 KiB line, at most 128 KiB under it. */
#define EBDA_LOWEST 0x80000ull
#define EBDA_END 0xA0000ull
#define EBDA_SCAN_LEN 1024
#define BIOS_AREA 0xE0000ull
#define BIOS_AREA_END 0x100000ull
/* The I/O APIC, HPET and local APIC live here on every PC: registers, never tables. */
#define IRQ_WINDOW 0xFEC00000ull
#define IRQ_WINDOW_END 0xFF000000ull
#define RSDP_MAX_LEN 4096u

static struct range_list cached_memory;
static struct acpi_dir boot_dir;

bool acpi_checksum_ok(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return sum == 0;
}

bool acpi_rsdp_ok(const void *p, size_t avail)
{
	const struct acpi_rsdp *r = p;
	if (avail < ACPI_RSDP_V1_LEN || memcmp(r->signature, ACPI_RSDP_SIG, 8) != 0 ||
	    !acpi_checksum_ok(r, ACPI_RSDP_V1_LEN))
		return false;
	if (r->revision < 2)
		return true;
	/* The extended fields are read only once they are known to lie inside avail. */
	if (avail < ACPI_RSDP_V2_LEN || r->length < ACPI_RSDP_V2_LEN || r->length > avail)
		return false;
	return acpi_checksum_ok(r, r->length);
}

const struct acpi_rsdp *acpi_rsdp_scan(const void *area, size_t len)
{
	const uint8_t *base = area;
	for (size_t off = 0; off + ACPI_RSDP_V1_LEN <= len; off += 16)
		if (acpi_rsdp_ok(base + off, len - off))
			return (const struct acpi_rsdp *)(base + off);
	return NULL;
}

bool acpi_table_ok(const struct acpi_header *h, size_t avail)
{
	if (avail < ACPI_HEADER_LEN)
		return false;
	uint32_t len = h->length;
	if (len < ACPI_HEADER_LEN || len > avail || len > ACPI_TABLE_MAX_LEN)
		return false;
	return acpi_checksum_ok(h, len);
}

void acpi_memory_from_map(const struct boot_info *bi, struct range_list *out)
{
	out->n = 0;
	if (bi->has_mmap) {
		for (size_t i = 0; i < bi->mmap_count; i++) {
			const struct boot_mmap_entry *e = &bi->mmap[i];
			uint64_t end = e->base + e->len < e->base ? UINT64_MAX : e->base + e->len;
			if (e->type == BOOT_MEM_RAM || e->type == BOOT_MEM_RESERVED ||
			    e->type == BOOT_MEM_ACPI_RECLAIM || e->type == BOOT_MEM_ACPI_NVS)
				range_add(out, e->base, end);
		}
	}
	/* The RSDP search reads these even where the map leaves them out (QEMU's lists
	 * neither 0xE0000-0xEFFFF nor, without a map, anything at all). */
	range_add(out, EBDA_LOWEST, EBDA_END);
	range_add(out, BIOS_AREA, BIOS_AREA_END);
	range_add(out, BDA_EBDA_SEGMENT & ~0xFFFull, (BDA_EBDA_SEGMENT & ~0xFFFull) + 0x1000);
	range_remove(out, IRQ_WINDOW, IRQ_WINDOW_END);
}

void acpi_set_memory(const struct range_list *cached)
{
	cached_memory = *cached;
}

bool acpi_memory_cached(uint64_t base, uint64_t end)
{
	return range_contains(&cached_memory, base, end);
}

const void *acpi_map(uint64_t phys, uint64_t len)
{
	uint64_t end = phys + len;
	if (len == 0 || end < phys || (phys < IRQ_WINDOW_END && IRQ_WINDOW < end))
		return NULL;
	/* Page by page: a table may straddle described memory and a hole. */
	for (uint64_t page = phys & ~0xFFFull; page < end; page += 0x1000) {
		unsigned added;
		bool uncached = !acpi_memory_cached(page, page + 0x1000);
		if (!paging_map_firmware(page, page + 0x1000, uncached, &added))
			return NULL;
	}
	return arch_phys_to_virt((uintptr_t)phys);
}

static uint64_t given_rsdp;

void acpi_use_rsdp(uint64_t phys)
{
	given_rsdp = phys;
}

uint64_t acpi_find_rsdp(void)
{
	if (given_rsdp) {
		const void *r = acpi_map(given_rsdp, ACPI_RSDP_V2_LEN);
		if (r && acpi_rsdp_ok(r, ACPI_RSDP_V2_LEN))
			return given_rsdp;
		lib_printf("acpi: no valid RSDP at the given 0x%llx; searching the BIOS areas\n",
		           (unsigned long long)given_rsdp);
	}
	const uint16_t *seg = acpi_map(BDA_EBDA_SEGMENT, sizeof *seg);
	if (seg) {
		uint64_t ebda = (uint64_t)*seg << 4;
		if (ebda >= EBDA_LOWEST && ebda + EBDA_SCAN_LEN <= EBDA_END) {
			const void *area = acpi_map(ebda, EBDA_SCAN_LEN);
			const struct acpi_rsdp *r = area ? acpi_rsdp_scan(area, EBDA_SCAN_LEN) : NULL;
			if (r)
				return arch_virt_to_phys(r);
		}
	}
	const void *area = acpi_map(BIOS_AREA, BIOS_AREA_END - BIOS_AREA);
	const struct acpi_rsdp *r = area ? acpi_rsdp_scan(area, BIOS_AREA_END - BIOS_AREA) : NULL;
	return r ? arch_virt_to_phys(r) : 0;
}

/* A signature as printable text (corrupt tables have anything there). */
static void sig_text(char out[5], const char *sig)
{
	for (int i = 0; i < 4; i++)
		out[i] = sig[i] >= 0x20 && sig[i] < 0x7F ? sig[i] : '?';
	out[4] = '\0';
}

/* The table at phys mapped whole and checked (and its signature, when sig is given). */
static const struct acpi_header *read_table(uint64_t phys, const char *sig, struct fw_warnings *w)
{
	const struct acpi_header *h = acpi_map(phys, ACPI_HEADER_LEN);
	if (!h) {
		fw_warn(w, "acpi: table at 0x%llx is not readable memory, ignored\n",
		        (unsigned long long)phys);
		return NULL;
	}
	char name[5];
	sig_text(name, h->signature);
	uint32_t len = h->length;
	if (len < ACPI_HEADER_LEN || len > ACPI_TABLE_MAX_LEN) {
		fw_warn(w, "acpi: %s at 0x%llx has a bad length %u, ignored\n", name,
		        (unsigned long long)phys, len);
		return NULL;
	}
	h = acpi_map(phys, len);
	if (!h) {
		fw_warn(w, "acpi: %s at 0x%llx runs out of readable memory, ignored\n", name,
		        (unsigned long long)phys);
		return NULL;
	}
	if (!acpi_table_ok(h, len)) {
		fw_warn(w, "acpi: %s at 0x%llx has a bad checksum, ignored\n", name,
		        (unsigned long long)phys);
		return NULL;
	}
	if (sig && memcmp(h->signature, sig, 4) != 0) {
		fw_warn(w, "acpi: expected %s at 0x%llx, found %s, ignored\n", sig,
		        (unsigned long long)phys, name);
		return NULL;
	}
	return h;
}

/* Fills dir from the root table at phys (entry_size 4: RSDT, 8: XSDT). */
static bool read_root_table(uint64_t phys, bool xsdt, struct acpi_dir *dir, struct fw_warnings *w)
{
	const struct acpi_header *root = read_table(phys, xsdt ? "XSDT" : "RSDT", w);
	if (!root)
		return false;
	size_t entry_size = xsdt ? 8 : 4;
	size_t entries = (root->length - ACPI_HEADER_LEN) / entry_size;
	const uint8_t *list = (const uint8_t *)root + ACPI_HEADER_LEN;
	dir->xsdt = xsdt;
	dir->root_phys = phys;
	dir->count = 0;
	for (size_t i = 0; i < entries; i++) {
		uint64_t addr = 0;
		memcpy(&addr, list + i * entry_size, entry_size); /* little-endian, unaligned */
		if (addr == 0)
			continue;
		const struct acpi_header *h = read_table(addr, NULL, w);
		if (!h)
			continue;
		if (dir->count == ACPI_DIR_MAX) {
			fw_warn(w, "acpi: more than %d tables, the rest ignored\n", ACPI_DIR_MAX);
			break;
		}
		struct acpi_table_ref *t = &dir->table[dir->count++];
		sig_text(t->sig, h->signature);
		t->phys = addr;
		t->len = h->length;
		t->hdr = h;
	}
	return true;
}

bool acpi_read_root(uint64_t rsdp_phys, struct acpi_dir *dir, struct fw_warnings *w)
{
	memset(dir, 0, sizeof *dir);
	const struct acpi_rsdp *r = acpi_map(rsdp_phys, ACPI_RSDP_V1_LEN);
	size_t avail = ACPI_RSDP_V1_LEN;
	if (r && r->revision >= 2) {
		uint32_t len = r->length;
		avail = len >= ACPI_RSDP_V2_LEN && len <= RSDP_MAX_LEN ? len : ACPI_RSDP_V2_LEN;
		r = acpi_map(rsdp_phys, avail);
	}
	if (!r || !acpi_rsdp_ok(r, avail)) {
		fw_warn(w, "acpi: no valid RSDP at 0x%llx\n", (unsigned long long)rsdp_phys);
		return false;
	}
	dir->rsdp_phys = rsdp_phys;
	dir->revision = r->revision;
	memcpy(dir->oem_id, r->oem_id, 6);
	dir->oem_id[6] = '\0';
	if (r->revision >= 2 && r->xsdt_address != 0) {
		if (read_root_table(r->xsdt_address, true, dir, w))
			return true;
		fw_warn(w, "acpi: XSDT unusable, trying the RSDT\n");
	}
	if (r->rsdt_address != 0 && read_root_table(r->rsdt_address, false, dir, w))
		return true;
	fw_warn(w, "acpi: no valid RSDT or XSDT\n");
	dir->rsdp_phys = 0;
	return false;
}

const struct acpi_header *acpi_find(const struct acpi_dir *dir, const char *sig)
{
	for (size_t i = 0; i < dir->count; i++)
		if (memcmp(dir->table[i].sig, sig, 4) == 0)
			return dir->table[i].hdr;
	return NULL;
}

bool acpi_init(const struct range_list *cached, struct fw_warnings *w)
{
	acpi_set_memory(cached);
	uint64_t rsdp = acpi_find_rsdp();
	if (!rsdp) {
		fw_warn(w, "acpi: no RSDP found\n");
		return false;
	}
	return acpi_read_root(rsdp, &boot_dir, w);
}

const struct acpi_dir *acpi_boot_dir(void)
{
	return &boot_dir;
}
