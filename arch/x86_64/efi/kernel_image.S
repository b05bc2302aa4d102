/* The kernel's ELF image (out/kernel/mmkernel.elf), carried inside mmkernel.efi. */
	.section .rdata, "dr"
	.p2align 4
	.globl efi_kernel_elf
	.globl efi_kernel_elf_end
efi_kernel_elf:
	.incbin KERNEL_ELF
efi_kernel_elf_end:
