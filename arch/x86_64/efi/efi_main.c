/*
 * mmkernel.efi: the kernel booted by UEFI firmware (a server with no legacy BIOS, or iPXE's
 * EFI build, which loads EFI images only).
 *
 * The application carries the very mmkernel.elf that Multiboot loaders boot, and becomes
 * such a loader: it takes what the kernel needs from the firmware (the memory map, the ACPI
 * RSDP from the configuration table, the command line from its load options), loads the
 * ELF image at its physical addresses, exits boot services, and enters the kernel's 32-bit
 * Multiboot entry with a Multiboot 1 information structure, as GRUB does on UEFI. So the
 * kernel has one entry and one boot path after it; only this stub knows UEFI.
 *
 * The RSDP travels on the command line (acpi_rsdp=0x...): Multiboot 1 has no field for it,
 * and UEFI machines have none in the legacy BIOS areas the kernel otherwise searches.
 * Without load options (a disk's \EFI\BOOT\BOOTX64.EFI), the command line is read from
 * \mmkernel.cmdline on the volume the application came from, if there is one.
 *
 * Everything it prints goes to the firmware's console (ConOut: the serial port under OVMF
 * and on most servers' serial consoles); after ExitBootServices the kernel prints on COM1
 * itself. Anything it cannot do is said there, and it returns to the firmware.
 */
#include <stdbool.h>

#include <lib/elf64.h>

#include "efi.h"

/* ---- Freestanding basics (the PE link has no C library; clang may call these) -------- */

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

static struct efi_system_table *system;
static struct efi_boot_services *boot;

/* ---- The console -------------------------------------------------------------------- */

static void print(const char *text)
{
	char16 buf[128];
	size_t n = 0;
	for (const char *p = text;; p++) {
		if (n + 3 > sizeof buf / sizeof buf[0] || !*p) {
			buf[n] = 0;
			system->con_out->output_string(system->con_out, buf);
			n = 0;
		}
		if (!*p)
			return;
		if (*p == '\n')
			buf[n++] = '\r';
		buf[n++] = (char16)(unsigned char)*p;
	}
}

static void hex(uint64_t v, char out[19])
{
	static const char digits[] = "0123456789abcdef";
	out[0] = '0';
	out[1] = 'x';
	int n = 0;
	char rev[16];
	do {
		rev[n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	for (int i = 0; i < n; i++)
		out[2 + i] = rev[n - 1 - i];
	out[2 + n] = 0;
}

static void print_hex(uint64_t v)
{
	char text[19];
	hex(v, text);
	print(text);
}

static efi_status fail(const char *what, efi_status status)
{
	print("mmkernel.efi: ");
	print(what);
	print(" (EFI status ");
	print_hex(status);
	print("); returning to the firmware\n");
	return status;
}

/* ---- The kernel's ELF image --------------------------------------------------------- */

extern const uint8_t efi_kernel_elf[], efi_kernel_elf_end[];

#define PAGE 4096ull
#define FOUR_GIB (1ull << 32)

/* Loads the image's segments at their physical addresses; the entry's physical address in
 * *entry32. */
static efi_status load_kernel(uint32_t *entry32)
{
	uint64_t size = (uint64_t)(efi_kernel_elf_end - efi_kernel_elf);
	const struct elf64_header *h = elf64_header(efi_kernel_elf, size);
	if (!h)
		return fail("the kernel image inside is no x86-64 ELF file", EFI_LOAD_ERROR);
	uint64_t lo = UINT64_MAX, hi = 0;
	*entry32 = 0;
	for (unsigned i = 0; i < h->phnum; i++) {
		const struct elf64_segment *s = elf64_segment(h, i);
		if (s->type != ELF64_PT_LOAD)
			continue;
		if (!elf64_segment_in_image(s, size) || s->paddr > FOUR_GIB ||
		    s->memsz > FOUR_GIB - s->paddr)
			return fail("the kernel image has a segment out of bounds", EFI_LOAD_ERROR);
		lo = s->paddr < lo ? s->paddr : lo;
		hi = s->paddr + s->memsz > hi ? s->paddr + s->memsz : hi;
		if (h->entry >= s->vaddr && h->entry < s->vaddr + s->memsz)
			*entry32 = (uint32_t)(s->paddr + (h->entry - s->vaddr));
	}
	if (hi == 0 || *entry32 == 0)
		return fail("the kernel image has no loadable entry", EFI_LOAD_ERROR);
	uint64_t base = lo & ~(PAGE - 1);
	uint64_t pages = (hi - base + PAGE - 1) / PAGE;
	efi_status st = boot->allocate_pages(EFI_ALLOCATE_ADDRESS, EFI_LOADER_CODE, pages, &base);
	if (st != EFI_SUCCESS) {
		print("mmkernel.efi: the kernel must be loaded at [");
		print_hex(lo & ~(PAGE - 1));
		print(", ");
		print_hex(hi);
		print("), which the firmware does not give\n");
		return fail("no room for the kernel at its physical address", st);
	}
	for (unsigned i = 0; i < h->phnum; i++) {
		const struct elf64_segment *s = elf64_segment(h, i);
		if (s->type != ELF64_PT_LOAD)
			continue;
		void *at = (void *)(uintptr_t)s->paddr;
		memcpy(at, efi_kernel_elf + s->offset, s->filesz);
		memset((char *)at + s->filesz, 0, s->memsz - s->filesz);
	}
	print("mmkernel.efi: kernel loaded at [");
	print_hex(lo);
	print(", ");
	print_hex(hi);
	print(")\n");
	return EFI_SUCCESS;
}

/* ---- What the firmware tells ------------------------------------------------------- */

static bool same_guid(const struct efi_guid *a, const struct efi_guid *b)
{
	const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
	for (size_t i = 0; i < sizeof *a; i++)
		if (x[i] != y[i])
			return false;
	return true;
}

/* The ACPI 2.0 RSDP, else the 1.0 one; 0 when the firmware lists neither. */
static uint64_t find_rsdp(void)
{
	static const struct efi_guid acpi20 = EFI_ACPI_20_TABLE_GUID, acpi10 = EFI_ACPI_10_TABLE_GUID;
	uint64_t found = 0;
	for (uint64_t i = 0; i < system->number_of_table_entries; i++) {
		const struct efi_configuration_table *t = &system->configuration_table[i];
		if (same_guid(&t->vendor_guid, &acpi20))
			return (uint64_t)(uintptr_t)t->vendor_table;
		if (same_guid(&t->vendor_guid, &acpi10))
			found = (uint64_t)(uintptr_t)t->vendor_table;
	}
	return found;
}

#define CMDLINE_MAX 1024

/* Appends the printable ASCII of n UCS-2 characters to out (length *len, capacity cap);
 * false when they are not text (a boot option's binary data). */
static bool append_ucs2(const char16 *text, size_t n, char *out, size_t *len, size_t cap)
{
	for (size_t i = 0; i < n && text[i]; i++) {
		char16 c = text[i];
		if (c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		if (c < 0x20 || c > 0x7E)
			return false;
		if (*len + 1 < cap)
			out[(*len)++] = (char)c;
	}
	out[*len] = 0;
	return true;
}

static void append(const char *text, char *out, size_t *len, size_t cap)
{
	for (; *text && *len + 1 < cap; text++)
		out[(*len)++] = *text;
	out[*len] = 0;
}

/* \mmkernel.cmdline on the volume the application was loaded from, if there is one. */
static void read_cmdline_file(efi_handle device, char *out, size_t *len, size_t cap)
{
	static const struct efi_guid fs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
	static const char16 name[] = u"\\mmkernel.cmdline";
	struct efi_simple_file_system *fs;
	struct efi_file *root, *file;
	if (!device || boot->handle_protocol(device, &fs_guid, (void **)&fs) != EFI_SUCCESS)
		return;
	if (fs->open_volume(fs, &root) != EFI_SUCCESS)
		return;
	if (root->open(root, &file, name, EFI_FILE_MODE_READ, 0) == EFI_SUCCESS) {
		char text[CMDLINE_MAX];
		uint64_t size = sizeof text - 1;
		if (file->read(file, &size, text) == EFI_SUCCESS) {
			for (uint64_t i = 0; i < size; i++)
				if (text[i] == '\n' || text[i] == '\r' || text[i] == '\t')
					text[i] = ' ';
			text[size] = 0;
			append(text, out, len, cap);
			print("mmkernel.efi: command line from \\mmkernel.cmdline\n");
		}
		file->close(file);
	}
	root->close(root);
}

/* ---- The Multiboot 1 information ---------------------------------------------------- */

#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MMAP (1u << 6)
#define MB_INFO_LOADER_NAME (1u << 9)
#define MB_MEM_RAM 1
#define MB_MEM_RESERVED 2
#define MB_MEM_ACPI_RECLAIM 3
#define MB_MEM_ACPI_NVS 4
#define MB_MEM_BAD 5

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr, drives_length, drives_addr, config_table;
	uint32_t boot_loader_name;
} __attribute__((packed));

struct mb_mmap_entry {
	uint32_t size; /* of the rest: 20 */
	uint64_t base, len;
	uint32_t type;
} __attribute__((packed));

/* What the kernel may use once boot services are gone: the firmware's boot-time memory and
 * this loader's own (the kernel keeps its image and copies the Multiboot data first). */
static uint32_t multiboot_type(uint32_t efi_type)
{
	switch (efi_type) {
	case EFI_LOADER_CODE:
	case EFI_LOADER_DATA:
	case EFI_BOOT_SERVICES_CODE:
	case EFI_BOOT_SERVICES_DATA:
	case EFI_CONVENTIONAL_MEMORY:
		return MB_MEM_RAM;
	case EFI_ACPI_RECLAIM_MEMORY:
		return MB_MEM_ACPI_RECLAIM;
	case EFI_ACPI_MEMORY_NVS:
		return MB_MEM_ACPI_NVS;
	case EFI_UNUSABLE_MEMORY:
		return MB_MEM_BAD;
	default:
		return MB_MEM_RESERVED;
	}
}

/* The firmware's map as Multiboot entries, sorted by address, neighbours of one type merged.
 * Returns how many (at most cap). Runs after ExitBootServices: no firmware call. */
static uint32_t convert_map(const uint8_t *map, uint64_t map_size, uint64_t desc_size,
                            struct mb_mmap_entry *out, uint32_t cap)
{
	uint32_t n = 0;
	for (uint64_t off = 0; off + desc_size <= map_size && n < cap; off += desc_size) {
		const struct efi_memory_descriptor *d = (const void *)(map + off);
		struct mb_mmap_entry e = {20, d->physical_start, d->number_of_pages * PAGE,
		                          multiboot_type(d->type)};
		uint32_t at = n++;
		while (at > 0 && out[at - 1].base > e.base) { /* insertion: the maps are short */
			out[at] = out[at - 1];
			at--;
		}
		out[at] = e;
	}
	uint32_t kept = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (kept > 0 && out[kept - 1].type == out[i].type &&
		    out[kept - 1].base + out[kept - 1].len == out[i].base)
			out[kept - 1].len += out[i].len;
		else
			out[kept++] = out[i];
	}
	return kept;
}

/* ---- The way out -------------------------------------------------------------------- */

extern const uint8_t efi_handoff_start[], efi_handoff_gdt[], efi_handoff_gdtr[], efi_handoff_end[];

/* The low pages: the Multiboot information, its strings and map, and the hand-off code. */
#define LOW_PAGES 8
#define LOW_INFO 0
#define LOW_CMDLINE 0x100
#define LOW_LOADER_NAME (LOW_CMDLINE + CMDLINE_MAX)
#define LOW_HANDOFF (LOW_LOADER_NAME + 64)
#define LOW_MMAP 0x1000
#define MMAP_CAP ((LOW_PAGES * PAGE - LOW_MMAP) / sizeof(struct mb_mmap_entry))

efi_status efi_main(efi_handle image, struct efi_system_table *table);

efi_status efi_main(efi_handle image, struct efi_system_table *table)
{
	system = table;
	boot = table->boot_services;
	boot->set_watchdog_timer(0, 0, 0, NULL);
	print("mmkernel.efi: the x86_64 virtual-memory manager test kernel, UEFI boot\n");

	uint64_t low = FOUR_GIB - 1;
	efi_status st =
	    boot->allocate_pages(EFI_ALLOCATE_MAX_ADDRESS, EFI_LOADER_CODE, LOW_PAGES, &low);
	if (st != EFI_SUCCESS)
		return fail("no memory below 4 GiB for the boot information", st);
	uint8_t *lowp = (uint8_t *)(uintptr_t)low;
	memset(lowp, 0, LOW_PAGES * PAGE);

	/* The command line: the load options, else the file; then the RSDP. */
	static const struct efi_guid loaded_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
	struct efi_loaded_image *self = NULL;
	char *cmdline = (char *)lowp + LOW_CMDLINE;
	size_t len = 0;
	if (boot->handle_protocol(image, &loaded_guid, (void **)&self) == EFI_SUCCESS) {
		if (!self->load_options_size ||
		    !append_ucs2(self->load_options, self->load_options_size / 2, cmdline, &len,
		                 CMDLINE_MAX)) {
			len = 0;
			cmdline[0] = 0;
			read_cmdline_file(self->device_handle, cmdline, &len, CMDLINE_MAX);
		}
	}
	uint64_t rsdp = find_rsdp();
	if (rsdp) {
		char text[19];
		hex(rsdp, text);
		append(len ? " acpi_rsdp=" : "acpi_rsdp=", cmdline, &len, CMDLINE_MAX);
		append(text, cmdline, &len, CMDLINE_MAX);
	} else {
		print("mmkernel.efi: the firmware lists no ACPI tables: the kernel will see one CPU "
		      "and one node\n");
	}
	print("mmkernel.efi: command line \"");
	print(cmdline);
	print("\"\n");
	append("UEFI (mmkernel.efi)", (char *)lowp + LOW_LOADER_NAME, &(size_t){0}, 64);

	uint32_t entry32;
	st = load_kernel(&entry32);
	if (st != EFI_SUCCESS)
		return st;

	/* The map buffer is allocated before the map is read (allocating changes the map), with
	 * room for what that allocation adds. */
	uint64_t map_size = 0, key, desc_size;
	uint32_t desc_version;
	boot->get_memory_map(&map_size, NULL, &key, &desc_size, &desc_version);
	uint64_t buffer_pages = (map_size + 16 * desc_size + PAGE - 1) / PAGE + 1;
	uint64_t buffer;
	st = boot->allocate_pages(EFI_ALLOCATE_ANY_PAGES, EFI_LOADER_DATA, buffer_pages, &buffer);
	if (st != EFI_SUCCESS)
		return fail("no memory for the memory map", st);
	print("mmkernel.efi: exiting boot services; the kernel continues on COM1\n");
	for (int attempt = 0;; attempt++) {
		map_size = buffer_pages * PAGE;
		st = boot->get_memory_map(&map_size, (struct efi_memory_descriptor *)(uintptr_t)buffer,
		                          &key, &desc_size, &desc_version);
		if (st != EFI_SUCCESS)
			return fail("GetMemoryMap failed", st);
		st = boot->exit_boot_services(image, key);
		if (st == EFI_SUCCESS)
			break;
		/* The map changed between the two calls (an event ran): read it again. */
		if (attempt == 3)
			return fail("ExitBootServices failed", st);
	}

	/* No firmware from here on. */
	struct mb_mmap_entry *mmap = (struct mb_mmap_entry *)(lowp + LOW_MMAP);
	uint32_t entries = convert_map((const uint8_t *)(uintptr_t)buffer, map_size, desc_size, mmap,
	                               (uint32_t)MMAP_CAP);
	struct mb_info *info = (struct mb_info *)(lowp + LOW_INFO);
	info->flags = MB_INFO_CMDLINE | MB_INFO_MMAP | MB_INFO_LOADER_NAME;
	info->cmdline = (uint32_t)(low + LOW_CMDLINE);
	info->boot_loader_name = (uint32_t)(low + LOW_LOADER_NAME);
	info->mmap_addr = (uint32_t)(low + LOW_MMAP);
	info->mmap_length = entries * (uint32_t)sizeof(struct mb_mmap_entry);

	uint8_t *code = lowp + LOW_HANDOFF;
	memcpy(code, efi_handoff_start, (size_t)(efi_handoff_end - efi_handoff_start));
	uint8_t *gdtr = code + (efi_handoff_gdtr - efi_handoff_start);
	uint64_t gdt = low + LOW_HANDOFF + (uint64_t)(efi_handoff_gdt - efi_handoff_start);
	memcpy(gdtr + 2, &gdt, sizeof gdt);
	void (*handoff)(uint32_t, uint32_t, void *) = (void (*)(uint32_t, uint32_t, void *))code;
	handoff((uint32_t)(low + LOW_INFO), entry32, gdtr);
	return EFI_LOAD_ERROR; /* not reached */
}
