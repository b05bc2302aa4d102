/* The candidate zeroing methods (see <arch/x86_64/zero.h>). Pure C with inline assembly,
 * built in every toolchain so the host can measure what the kernel will run. */
#include <arch/x86_64/zero.h>

#include <stdint.h>

void x86_zero_rep_stosb(void *va, size_t bytes)
{
	__asm__ volatile("rep stosb" : "+D"(va), "+c"(bytes) : "a"(0) : "memory");
}

void x86_zero_rep_stosq(void *va, size_t bytes)
{
	size_t quads = bytes / 8;
	__asm__ volatile("rep stosq" : "+D"(va), "+c"(quads) : "a"(0) : "memory");
}

void x86_zero_movnti(void *va, size_t bytes)
{
	uint64_t *p = va;
	for (size_t i = 0; i < bytes / 8; i += 8) {
		__asm__ volatile("movnti %1, 0(%0)\n\t"
		                 "movnti %1, 8(%0)\n\t"
		                 "movnti %1, 16(%0)\n\t"
		                 "movnti %1, 24(%0)\n\t"
		                 "movnti %1, 32(%0)\n\t"
		                 "movnti %1, 40(%0)\n\t"
		                 "movnti %1, 48(%0)\n\t"
		                 "movnti %1, 56(%0)"
		                 :
		                 : "r"(p + i), "r"(0ull)
		                 : "memory");
	}
	/* Non-temporal stores are weakly ordered: fence them before the memory is published
	 * (mapped, handed out) to anyone else. */
	__asm__ volatile("sfence" ::: "memory");
}

void x86_zero_stores(void *va, size_t bytes)
{
	volatile uint64_t *p = va;
	/* volatile keeps the compiler from turning this back into memset or vector stores:
	 * the point is to measure what eight general-register stores per line cost. */
	for (size_t i = 0; i < bytes / 8; i += 8) {
		p[i] = 0;
		p[i + 1] = 0;
		p[i + 2] = 0;
		p[i + 3] = 0;
		p[i + 4] = 0;
		p[i + 5] = 0;
		p[i + 6] = 0;
		p[i + 7] = 0;
	}
}
