/* The Multiboot 1 information, copied out of the loader's memory before it is reused. */
#ifndef KERNEL_MULTIBOOT_H
#define KERNEL_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BOOT_MMAP_MAX 128
#define BOOT_CMDLINE_MAX 1024
#define BOOT_LOADER_NAME_MAX 64

/* Memory map types (the BIOS E820 ones). */
#define BOOT_MEM_RAM 1
#define BOOT_MEM_RESERVED 2
#define BOOT_MEM_ACPI_RECLAIM 3
#define BOOT_MEM_ACPI_NVS 4
#define BOOT_MEM_BAD 5

struct boot_mmap_entry {
	uint64_t base;
	uint64_t len;
	uint32_t type;
};

struct boot_info {
	uint32_t flags;
	uint32_t mem_lower_kib, mem_upper_kib; /* valid with MB_INFO_MEMORY */
	bool has_memory, has_mmap;
	size_t mmap_count;
	struct boot_mmap_entry mmap[BOOT_MMAP_MAX];
	char cmdline[BOOT_CMDLINE_MAX];
	char loader[BOOT_LOADER_NAME_MAX];
};

/*
 * Copies what the kernel needs from the Multiboot information at info_phys: memory sizes,
 * memory map, command line and loader name (strings are cut to their buffers; map entries
 * past BOOT_MMAP_MAX are dropped with a warning).
 * pre: the boot identity map of the first 4 GiB is still in place.
 */
void multiboot_copy(uint32_t info_phys, struct boot_info *out);

/* A short name for a memory map type. */
const char *multiboot_mem_type_name(uint32_t type);

#endif /* KERNEL_MULTIBOOT_H */
