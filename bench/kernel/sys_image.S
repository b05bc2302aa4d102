/* The system-call benchmarks' ring-3 program (out/user/mmbench_sys.elf), carried in the
 * kernel's image: syscall_kbench.c loads it into a space for every row. */
	.section .rodata.mmbench_sys, "a", @progbits
	.p2align 4
	.globl mmbench_sys_elf
	.globl mmbench_sys_elf_end
mmbench_sys_elf:
	.incbin MMBENCH_SYS_ELF
mmbench_sys_elf_end:
