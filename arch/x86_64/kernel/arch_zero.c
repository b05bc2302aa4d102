/* arch_zero: clearing frames with the method measured fastest. */
#include <arch/arch.h>

#include <arch/x86_64/zero.h>

/*
 * `rep stosb`: it won every measurement that includes the mapping's user touching the page
 * right after (the figures and how they were taken: docs/design.md, "Zeroing"; the
 * benchmark is bench/host/zero_bench.cc). Never choose by icount figures, which count each
 * `rep` iteration as one instruction.
 */
void arch_zero(void *va, size_t bytes)
{
	x86_zero_rep_stosb(va, bytes);
}
