/* The Multiboot 1 header, with the a.out kludge so that loaders accept a 64-bit ELF. */

#define KERNEL_VMA 0xFFFFFFFF80000000
#define PHYS(sym) ((sym) - KERNEL_VMA)

#define MB_MAGIC 0x1BADB002
#define MB_PAGE_ALIGN (1 << 0) /* modules on 4 KiB boundaries */
#define MB_MEMORY_INFO (1 << 1) /* mem_lower/upper and the memory map, please */
/* Load by the addresses below instead of parsing the file: QEMU -kernel and iPXE refuse
 * a 64-bit ELF otherwise. */
#define MB_AOUT_KLUDGE (1 << 16)
#define MB_FLAGS (MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_AOUT_KLUDGE)

/*
 * The loader copies the file from this header's offset minus (header_addr - load_addr),
 * load_end_addr - load_addr bytes, to load_addr, zeroes up to bss_end_addr and jumps to
 * entry_addr in 32-bit protected mode. So the loaded bytes must lie in the file exactly as
 * in memory (kernel.ld arranges it), and the header must be in the first 8 KiB of the file.
 */
	.section .multiboot, "a"
	.balign 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
	.long PHYS(mb_header)          /* header_addr */
	.long PHYS(kimage_start)       /* load_addr */
	.long PHYS(kimage_load_end)    /* load_end_addr */
	.long PHYS(kimage_end)         /* bss_end_addr */
	.long PHYS(boot_entry32)       /* entry_addr */
