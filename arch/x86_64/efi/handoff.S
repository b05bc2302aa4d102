/*
 * The last step of the UEFI boot stub: from the firmware's 64-bit long mode (identity-mapped
 * paging) to the state a Multiboot 1 loader leaves, then into the kernel's 32-bit entry:
 * protected mode with flat 32-bit segments, paging and long mode off, interrupts off,
 * EAX = 0x2BADB002, EBX = the Multiboot information.
 *
 * The code is copied to a page below 4 GiB (it must keep running once paging is off, which
 * only an identity-mapped address below 4 GiB allows) and called there as
 * handoff(info, entry32, gdtr): the Microsoft x64 convention puts them in ECX, EDX and R8.
 * It is position independent; the stub writes the copied GDT's address into the copied
 * GDTR before the call.
 */
	.text
	.globl efi_handoff_start
	.globl efi_handoff_gdt
	.globl efi_handoff_gdtr
	.globl efi_handoff_end
	.p2align 4
efi_handoff_start:
	.code64
	cli
	movl %ecx, %ebx /* the Multiboot information */
	movl %edx, %esi /* the kernel's 32-bit entry */
	lgdt (%r8)
	/* CR4.PCIDE must be clear before paging can be turned off. */
	movq %cr4, %rax
	andq $~(1 << 17), %rax
	movq %rax, %cr4
	/* A far return into the 32-bit code segment, at 1: of this copy. */
	leaq 1f(%rip), %rax
	pushq $0x08
	pushq %rax
	lretq

	.code32
1:	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %fs
	movl %eax, %gs
	movl %eax, %ss
	/* Paging off, then long mode off (EFER.LME), as Multiboot leaves the CPU. */
	movl %cr0, %eax
	andl $~(1 << 31), %eax
	movl %eax, %cr0
	movl $0xC0000080, %ecx
	rdmsr
	andl $~(1 << 8), %eax
	wrmsr
	/* CR4 clear, as a BIOS leaves it: the kernel turns on what it needs, on every CPU the
	 * same way (firmware's OSFXSR, MCE and the like would be on the BSP only). */
	xorl %eax, %eax
	movl %eax, %cr4
	movl $0x2BADB002, %eax
	jmp *%esi

	.p2align 3
efi_handoff_gdt:
	.quad 0
	.quad 0x00CF9A000000FFFF /* 0x08: 32-bit code, base 0, limit 4 GiB */
	.quad 0x00CF92000000FFFF /* 0x10: data, base 0, limit 4 GiB */
	.p2align 3
efi_handoff_gdtr:
	.word 23
	.quad 0 /* the copied GDT's address, written by the stub */
efi_handoff_end:
