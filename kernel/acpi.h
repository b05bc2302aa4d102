/*
 * Finding and checking the ACPI tables: the RSDP (in the EBDA's first KiB or the BIOS area
 * 0xE0000-0xFFFFF), the root table (the XSDT when the RSDP has one, else the RSDT) and every
 * table it lists, each with its checksum. Tables are read through the direct map; the pages
 * they occupy are mapped on demand (paging_map_firmware): write-back where the memory map
 * describes memory (RAM, reserved, ACPI), uncached elsewhere (some loaders, iPXE among
 * them, list only RAM), never in the interrupt controllers' window. So device registers
 * are never mapped write-back.
 *
 * Boot code reads the tables; what the kernel needs later is copied out (madt.h, numa.h),
 * because tables the memory map calls RAM go to the frame allocator. The mappings stay, so
 * tests can read the tables outside RAM again.
 */
#ifndef KERNEL_ACPI_H
#define KERNEL_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/acpi_tables.h"
#include "kernel/fw_warn.h"
#include "kernel/memmap.h"
#include "kernel/multiboot.h"

/* Larger tables are refused: a corrupt length must not map gigabytes. */
#define ACPI_TABLE_MAX_LEN (1u << 20)
#define ACPI_DIR_MAX 64

/* A table the root table lists whose header and checksum are valid. */
struct acpi_table_ref {
	char sig[5]; /* NUL-terminated */
	uint64_t phys;
	uint32_t len;
	const struct acpi_header *hdr; /* through the direct map */
};

/* Invariant: table[0..count) passed acpi_table_ok, in the root table's order. */
struct acpi_dir {
	uint64_t rsdp_phys;
	uint8_t revision; /* the RSDP's */
	bool xsdt;        /* the XSDT was used (else the RSDT) */
	uint64_t root_phys;
	char oem_id[7];
	size_t count;
	struct acpi_table_ref table[ACPI_DIR_MAX];
};

/* True when the len bytes at p sum to 0 (mod 256). */
bool acpi_checksum_ok(const void *p, size_t len);

/* True when the avail bytes at p start with a valid RSDP: signature, the 20-byte checksum,
 * and for revision >= 2 a length of 36 or more within avail and the extended checksum. */
bool acpi_rsdp_ok(const void *p, size_t avail);

/* The first valid RSDP at a 16-byte boundary of [area, area + len), or NULL.
 * pre: area is 16-byte aligned. */
const struct acpi_rsdp *acpi_rsdp_scan(const void *area, size_t len);

/* True when h (with avail bytes readable) is a table: a length in
 * [ACPI_HEADER_LEN, min(avail, ACPI_TABLE_MAX_LEN)] and a zero checksum over it. */
bool acpi_table_ok(const struct acpi_header *h, size_t avail);

/*
 * Where tables may be mapped write-back: the memory map's usable, reserved and ACPI ranges
 * (those the map calls RAM are mapped already), and the legacy BIOS areas the RSDP search
 * reads; never the interrupt controllers' window [0xFEC00000, 0xFF000000).
 */
void acpi_memory_from_map(const struct boot_info *bi, struct range_list *out);

/* Sets the write-back ranges acpi_map() uses (copied). */
void acpi_set_memory(const struct range_list *cached);

/* True when [base, end) lies in the write-back ranges. */
bool acpi_memory_cached(uint64_t base, uint64_t end);

/*
 * [phys, phys + len) readable through the direct map, or NULL when the range touches the
 * interrupt controllers' window or leaves the direct map. Its pages are mapped as needed:
 * write-back inside the ranges of acpi_set_memory(), uncached outside.
 * pre: acpi_set_memory() ran; mapping new pages needs bootmem still open.
 */
const void *acpi_map(uint64_t phys, uint64_t len);

/* The RSDP's physical address: the one the loader gave (acpi_use_rsdp) if valid, else the
 * EBDA's first KiB, then 0xE0000-0xFFFFF; 0 if none. */
uint64_t acpi_find_rsdp(void);

/* The RSDP the loader knows (UEFI: from the firmware's configuration table, where the BIOS
 * areas hold none), tried before the search. 0: none. */
void acpi_use_rsdp(uint64_t phys);

/*
 * Reads the RSDP at rsdp_phys and its root table into dir: the XSDT when the revision is 2
 * or more and its address is set (the RSDT if the XSDT is unreadable or corrupt), each
 * listed table whose header and checksum are valid (the others are warned about and left
 * out). post: false (dir empty) when no valid root table was found.
 */
bool acpi_read_root(uint64_t rsdp_phys, struct acpi_dir *dir, struct fw_warnings *w);

/* The first table of dir with signature sig (4 characters), or NULL. */
const struct acpi_header *acpi_find(const struct acpi_dir *dir, const char *sig);

/*
 * At boot: acpi_set_memory(cached), acpi_find_rsdp(), acpi_read_root() into the kernel's
 * directory. post: false when the machine has no (valid) ACPI tables.
 */
bool acpi_init(const struct range_list *cached, struct fw_warnings *w);

/* The kernel's directory from acpi_init (empty before it, or without ACPI). */
const struct acpi_dir *acpi_boot_dir(void);

#endif /* KERNEL_ACPI_H */
