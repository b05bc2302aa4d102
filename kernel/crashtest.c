/* crashtest=KIND: faults on purpose; each must end in a report and exit status 35. */
#include "kernel/crashtest.h"

#include <stdbool.h>
#include <stdint.h>

#include <arch/arch.h>
#include <lib/print.h>

/* Unmapped once the boot identity map is gone: the user half is empty. */
#define UNMAPPED_ADDR 0xdead000ull
#define NONCANONICAL_ADDR 0x8000000000000000ull

static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* Recurses until the stack runs into its guard page (#PF inside #PF delivery: #DF). The
 * bound is far beyond any stack; it only keeps the compiler from calling this endless. */
__attribute__((noinline)) static unsigned recurse(unsigned depth)
{
	volatile char pad[256];
	pad[0] = (char)depth;
	if (depth > (1u << 30))
		return pad[0];
	return recurse(depth + 1) + pad[0];
}

void crashtest_run(const char *kind)
{
	lib_printf("crashtest: %s\n", kind);
	if (streq(kind, "pf")) {
		(void)*(volatile uint64_t *)(uintptr_t)UNMAPPED_ADDR;
	} else if (streq(kind, "gp")) {
		(void)*(volatile uint64_t *)(uintptr_t)NONCANONICAL_ADDR;
	} else if (streq(kind, "ud")) {
		__asm__ volatile("ud2");
	} else if (streq(kind, "de")) {
		/* In assembly: the compiler may rewrite a C division by a known-odd divisor. */
		unsigned eax = 1, edx = 0, zero = 0;
		__asm__ volatile("divl %2" : "+a"(eax), "+d"(edx) : "r"(zero));
	} else if (streq(kind, "stack")) {
		recurse(0);
	} else if (streq(kind, "panic")) {
		arch_panic("crashtest");
	} else {
		lib_printf("crashtest: unknown kind \"%s\"\n", kind);
		return;
	}
	lib_printf("crashtest: %s did not fault\n", kind);
}
