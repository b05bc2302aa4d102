/* Copying the Multiboot 1 information (QEMU leaves it in low RAM the kernel will reuse). */
#include "kernel/multiboot.h"

#include <arch/arch.h>
#include <lib/print.h>
#include <lib/string.h>

/* struct multiboot_info flags. */
#define MB_INFO_MEMORY (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MMAP (1u << 6)
#define MB_INFO_LOADER_NAME (1u << 9)

/* The fields of struct multiboot_info this kernel reads, at their offsets. */
struct mb_info {
	uint32_t flags;
	uint32_t mem_lower;
	uint32_t mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
	uint32_t drives_length;
	uint32_t drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
} __attribute__((packed));

/* A map entry: size counts the bytes after itself (at least the 20 shown). */
struct mb_mmap_entry {
	uint32_t size;
	uint64_t base;
	uint64_t len;
	uint32_t type;
} __attribute__((packed));

/* The boot code identity-maps the first 4 GiB: every 32-bit Multiboot pointer. */
#define IDENTITY_LIMIT (1ull << 32)

static const void *low_ptr(uint64_t phys, uint64_t len)
{
	if (phys == 0 || phys + len > IDENTITY_LIMIT || phys + len < phys)
		arch_panic("Multiboot data crosses 4 GiB");
	return (const void *)(uintptr_t)phys;
}

static void copy_string(char *dst, size_t cap, uint32_t phys)
{
	/* Byte by byte: the string's length is unknown until its NUL, and each byte must be
	 * checked to lie inside the identity map. */
	size_t i = 0;
	for (; i + 1 < cap; i++) {
		char c = *(const volatile char *)low_ptr((uint64_t)phys + i, 1);
		if (c == 0)
			break;
		dst[i] = c;
	}
	dst[i] = 0;
}

void multiboot_copy(uint32_t info_phys, struct boot_info *out)
{
	memset(out, 0, sizeof *out);
	const struct mb_info *mb = low_ptr(info_phys, sizeof *mb);
	out->flags = mb->flags;
	if (mb->flags & MB_INFO_MEMORY) {
		out->has_memory = true;
		out->mem_lower_kib = mb->mem_lower;
		out->mem_upper_kib = mb->mem_upper;
	}
	if (mb->flags & MB_INFO_CMDLINE)
		copy_string(out->cmdline, sizeof out->cmdline, mb->cmdline);
	if (mb->flags & MB_INFO_LOADER_NAME)
		copy_string(out->loader, sizeof out->loader, mb->boot_loader_name);
	if (mb->flags & MB_INFO_MMAP) {
		const uint8_t *p = low_ptr(mb->mmap_addr, mb->mmap_length);
		const uint8_t *end = p + mb->mmap_length;
		out->has_mmap = true;
		while (p + sizeof(struct mb_mmap_entry) <= end) {
			const struct mb_mmap_entry *e = (const struct mb_mmap_entry *)p;
			if (e->size < 20)
				break;
			if (out->mmap_count == BOOT_MMAP_MAX) {
				lib_printf("multiboot: memory map longer than %d entries, rest ignored\n",
				           BOOT_MMAP_MAX);
				break;
			}
			out->mmap[out->mmap_count++] =
			    (struct boot_mmap_entry){.base = e->base, .len = e->len, .type = e->type};
			p += (size_t)e->size + 4;
		}
	}
}

const char *multiboot_mem_type_name(uint32_t type)
{
	switch (type) {
	case BOOT_MEM_RAM:
		return "usable";
	case BOOT_MEM_RESERVED:
		return "reserved";
	case BOOT_MEM_ACPI_RECLAIM:
		return "ACPI data";
	case BOOT_MEM_ACPI_NVS:
		return "ACPI NVS";
	case BOOT_MEM_BAD:
		return "bad";
	default:
		return "other";
	}
}
