/*
 * What the boot code (Multiboot header, 32-bit entry, linker script) hands to the kernel:
 * the image's layout, the early page tables, the boot stack, and the Multiboot registers.
 */
#ifndef ARCH_X86_64_BOOT_H
#define ARCH_X86_64_BOOT_H

#include <stdint.h>

/* The image is linked at X86_KERNEL_VMA + its physical address (-mcmodel=kernel). */
#define X86_KERNEL_VMA 0xFFFFFFFF80000000ull
/* Where the Multiboot loader puts it. */
#define X86_KERNEL_PHYS 0x100000ull

/* Linker-script symbols (kernel.ld), kernel-virtual; each boundary but kimage_load_end is
 * 4 KiB aligned. */
extern char kimage_start[];      /* first byte: the Multiboot header, text */
extern char kimage_text_end[];   /* end of text, start of read-only data */
extern char kimage_rodata_end[]; /* end of read-only data, start of data */
extern char kimage_load_end[];   /* end of the bytes in the file (not aligned) */
extern char kimage_bss_start[];
extern char kimage_end[]; /* end of bss: the whole image */
/* The same bounds as physical addresses (absolute symbols: use their address). */
extern char kimage_phys_start[], kimage_phys_end[];

/* The page tables the 32-bit entry built, with 2 MiB pages: PML4 slot 0 identity-maps the
 * first 4 GiB (boot_pd[0..3]); slot 511 maps the first GiB again at X86_KERNEL_VMA (PDPT
 * entry 510, boot_pd[0]). boot_pml4 stays the kernel's PML4. */
extern uint64_t boot_pml4[512];
extern uint64_t boot_pdpt_low[512];
extern uint64_t boot_pdpt_high[512];
extern uint64_t boot_pd[4][512];

/* The bootstrap CPU's stack; the page below it is a guard, left unmapped by the kernel. */
extern char boot_stack_guard[];
extern char boot_stack_bottom[];
extern char boot_stack_top[];

/* Physical address of an address inside the image. */
static inline uint64_t x86_image_phys(const void *p)
{
	return (uint64_t)(uintptr_t)p - X86_KERNEL_VMA;
}

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u

/* The C entry, on the boot stack, in the higher half, with the first 4 GiB still identity
 * mapped. mb_magic and mb_info_phys are EAX and EBX as the Multiboot loader left them. */
_Noreturn void kernel_main(uint32_t mb_magic, uint32_t mb_info_phys);

#endif /* ARCH_X86_64_BOOT_H */
