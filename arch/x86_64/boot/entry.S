/*
 * The 32-bit Multiboot entry: from protected mode without paging to long mode in the
 * higher half, then kernel_main(magic, info). Addresses are linked at KERNEL_VMA + phys;
 * until paging is on, code refers to PHYS(symbol).
 */

#define KERNEL_VMA 0xFFFFFFFF80000000
#define PHYS(sym) ((sym) - KERNEL_VMA)

#define CR0_PE (1 << 0)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)
#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_PS 0x80

#define SEL_CODE64 0x08
#define SEL_DATA 0x10

#define COM1 0x3F8
#define DEBUG_EXIT_PORT 0xF4
#define DEBUG_EXIT_FAIL 0x11

	.section .boot.text, "ax", @progbits
	.code32
	.globl boot_entry32
boot_entry32:
	cli
	cld
	/* Before anything else: .data is not cleared below, the registers are. */
	movl %eax, PHYS(boot_mb_magic)
	movl %ebx, PHYS(boot_mb_info)
	movl $PHYS(boot_stack_top), %esp

	/* Clear .bss (it holds the page tables and the stack); loaders should, not all do. */
	movl $PHYS(kimage_bss_start), %edi
	movl $PHYS(kimage_end), %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl

	/* CPUID exists if EFLAGS.ID can be flipped. */
	pushfl
	popl %eax
	movl %eax, %ecx
	xorl $(1 << 21), %eax
	pushl %eax
	popfl
	pushfl
	popl %eax
	pushl %ecx
	popfl
	xorl %ecx, %eax
	jz no_long_mode

	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx /* long mode */
	jnc no_long_mode
	movl %edx, %esi /* bit 20: NX */

	/*
	 * Early page tables, 2 MiB pages: the first 4 GiB identity-mapped (the next few
	 * instructions, and the Multiboot data, whose pointers are 32-bit), and the first GiB
	 * again at KERNEL_VMA (PML4 511, PDPT 510), where the kernel is linked.
	 */
	movl $(PHYS(boot_pdpt_low) + PTE_P + PTE_W), PHYS(boot_pml4)
	movl $(PHYS(boot_pdpt_high) + PTE_P + PTE_W), PHYS(boot_pml4) + 511 * 8
	movl $(PHYS(boot_pd) + PTE_P + PTE_W), PHYS(boot_pdpt_low)
	movl $(PHYS(boot_pd) + 0x1000 + PTE_P + PTE_W), PHYS(boot_pdpt_low) + 8
	movl $(PHYS(boot_pd) + 0x2000 + PTE_P + PTE_W), PHYS(boot_pdpt_low) + 16
	movl $(PHYS(boot_pd) + 0x3000 + PTE_P + PTE_W), PHYS(boot_pdpt_low) + 24
	movl $(PHYS(boot_pd) + PTE_P + PTE_W), PHYS(boot_pdpt_high) + 510 * 8
	movl $PHYS(boot_pd), %edi
	movl $(PTE_P + PTE_W + PTE_PS), %eax
	movl $(4 * 512), %ecx
1:	movl %eax, (%edi) /* the high halves stay 0 from the .bss clearing */
	addl $0x200000, %eax
	addl $8, %edi
	loop 1b

	lgdt PHYS(boot_gdtr32)

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $PHYS(boot_pml4), %eax
	movl %eax, %cr3

	/* Long mode, and no-execute if the CPU has it (the kernel's page tables use bit 63). */
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	btl $20, %esi
	jnc 2f
	orl $EFER_NXE, %eax
2:	wrmsr

	/* Paging on: the CPU is now in compatibility mode; WP makes ring 0 honour read-only. */
	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP | CR0_PE), %eax
	movl %eax, %cr0
	ljmp $SEL_CODE64, $PHYS(boot_entry64)

no_long_mode:
	/* No stack use: print the reason on COM1 (fine if absent), fail QEMU, halt. */
	movl $PHYS(no_long_mode_msg), %esi
	movw $COM1, %dx
3:	lodsb
	testb %al, %al
	jz 4f
	outb %al, %dx
	jmp 3b
4:	movb $DEBUG_EXIT_FAIL, %al
	outb %al, $DEBUG_EXIT_PORT
5:	hlt
	jmp 5b

	.code64
boot_entry64:
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	/* Still running at the physical address: jump to the link address. */
	movabsq $boot_higher_half, %rax
	jmp *%rax

	.section .text.boot_higher_half, "ax", @progbits
boot_higher_half:
	movabsq $boot_stack_top, %rsp
	/* The GDT again through its higher-half address: the identity map will go away. */
	lgdt boot_gdtr64(%rip)
	xorl %ebp, %ebp /* the end of the backtrace chain */
	movl boot_mb_magic(%rip), %edi
	movl boot_mb_info(%rip), %esi
	call kernel_main
6:	cli
	hlt
	jmp 6b

	.section .rodata.boot, "a"
no_long_mode_msg:
	.asciz "mmkernel: this CPU has no 64-bit long mode\r\n"

	.section .data.boot, "aw"
	.balign 16
	/* Flat code64 and data, the accessed bits preset so the CPU never writes them. */
boot_gdt:
	.quad 0
	.quad 0x00AF9B000000FFFF
	.quad 0x00CF93000000FFFF
boot_gdt_end:
	.balign 4
	.word 0
boot_gdtr32:
	.word boot_gdt_end - boot_gdt - 1
	.long PHYS(boot_gdt)
	.balign 8
	.word 0, 0, 0
boot_gdtr64:
	.word boot_gdt_end - boot_gdt - 1
	.quad boot_gdt

	.globl boot_mb_magic
	.globl boot_mb_info
boot_mb_magic:
	.long 0
boot_mb_info:
	.long 0

	.section .bss.boot_tables, "aw", @nobits
	.balign 4096
	.globl boot_pml4
	.globl boot_pdpt_low
	.globl boot_pdpt_high
	.globl boot_pd
boot_pml4:
	.skip 4096
boot_pdpt_low:
	.skip 4096
boot_pdpt_high:
	.skip 4096
boot_pd:
	.skip 4 * 4096

	.section .bss.boot_stack, "aw", @nobits
	.balign 4096
	.globl boot_stack_guard
	.globl boot_stack_bottom
	.globl boot_stack_top
boot_stack_guard:
	.skip 4096
boot_stack_bottom:
	.skip 65536
boot_stack_top:
