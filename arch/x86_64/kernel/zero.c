/* arch_zero: clearing frames. */
#include <arch/arch.h>

/*
 * rep stosq for now. Which method is fastest (rep stosb with ERMS, non-temporal stores,
 * plain stores) is measured in real time on real CPUs and chosen later (issue 3); never
 * choose it by icount figures, which count every rep iteration as an instruction.
 */
void arch_zero(void *va, size_t bytes)
{
	size_t qwords = bytes / 8;
	__asm__ volatile("rep stosq" : "+D"(va), "+c"(qwords) : "a"(0ull) : "memory");
}
