/*
 * The application processors' way from reset to the kernel: a real-mode trampoline that
 * smp_boot.c copies to X86_TRAMPOLINE_PHYS, and the higher-half entry it ends in.
 *
 * A STARTUP IPI starts the AP at CS = X86_TRAMPOLINE_PHYS >> 4, IP = 0, in 16-bit real
 * mode with interrupts off. The template is assembled for that address: T(label) is a
 * label's physical (= identity-mapped) address once copied, and in real mode the page's
 * offsets are what DS-relative operands use.
 */
#include <arch/x86_64/smp.h>

#define CR0_PE (1 << 0)
#define CR0_NW (1 << 29)
#define CR0_CD (1 << 30)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)

/* The trampoline's own GDT: flat 32-bit code, data, and 64-bit code. */
#define SEL_CODE32 0x08
#define SEL_DATA 0x10
#define SEL_CODE64 0x18

#define T(label) (X86_TRAMPOLINE_PHYS + ((label) - x86_trampoline_start))
/* A field of the data block, as a physical address (32- and 64-bit code). */
#define FIELD(off) (X86_TRAMPOLINE_PHYS + X86_TRAMP_DATA + (off))

	.section .rodata.x86_trampoline, "a"
	.balign 16
	.globl x86_trampoline_start
	.globl x86_trampoline_end

	.code16
x86_trampoline_start:
	cli
	cld
	/* DS and SS = CS: the page's offsets address it. A stack before anything can push
	 * (an NMI would): below the data block. */
	movw %cs, %ax
	movw %ax, %ds
	movw %ax, %ss
	movw $X86_TRAMP_DATA, %sp
	/* Tell the BSP this CPU runs: it sends no second STARTUP IPI then. */
	movl $1, X86_TRAMP_DATA + X86_TRAMP_STARTED

	/*
	 * To 32-bit protected mode. INIT left CR0.CD and CR0.NW set (caches off): clear them,
	 * or this CPU would run uncached. The far jump loads CS from the new GDT.
	 */
	lgdtl gdtr - x86_trampoline_start
	movl %cr0, %eax
	andl $~(CR0_CD | CR0_NW), %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE32, $T(tramp_prot32)

	.code32
tramp_prot32:
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $FIELD(0), %esp

	/*
	 * To long mode: PAE, CR3 = the temporary PML4 (32-bit here, hence below 4 GiB), EFER.LME
	 * (and NXE when the kernel's tables use bit 63: without it those entries fault as
	 * reserved), then paging on, which activates long mode in compatibility mode until
	 * the far jump to a 64-bit code segment. The temporary tables map this page at its own
	 * address, so the instruction after the CR0 write is still there.
	 */
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl FIELD(X86_TRAMP_PML4), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	orl FIELD(X86_TRAMP_EFER), %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP), %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE64, $T(tramp_long64)

	.code64
tramp_long64:
	/* The kernel stack and the higher-half entry; the kernel PML4 is loaded there, where
	 * the code stays mapped once this page's identity mapping is gone. */
	movq FIELD(X86_TRAMP_STACK), %rsp
	movq FIELD(X86_TRAMP_CR3), %rbx
	movq FIELD(X86_TRAMP_ENTRY), %rax
	jmp *%rax

	.balign 8
tramp_gdt:
	.quad 0
	.quad 0x00CF9B000000FFFF /* 32-bit code, accessed bit preset */
	.quad 0x00CF93000000FFFF /* data */
	.quad 0x00AF9B000000FFFF /* 64-bit code */
tramp_gdt_end:
	.balign 4
gdtr:
	.word tramp_gdt_end - tramp_gdt - 1
	.long T(tramp_gdt)

	/* The data block smp_boot.c fills for each AP (offsets in smp.h). */
	.org X86_TRAMP_DATA
tramp_data:
	.skip X86_TRAMP_DATA_SIZE
x86_trampoline_end:

/*
 * void x86_ap_entry64(void): from the trampoline, in the higher half, on the AP's kernel
 * stack, with the kernel's PML4 in RBX.
 */
	.section .text.x86_ap_entry, "ax", @progbits
	.globl x86_ap_entry64
x86_ap_entry64:
	movq %rbx, %cr3
	xorl %ebp, %ebp /* the end of the backtrace chain */
	call x86_smp_ap_main
1:	cli
	hlt
	jmp 1b
