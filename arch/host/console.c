/* Console, memory fill and panic on the host: stdout, memset, abort. */
#include <arch/arch.h>
#include <arch/x86_64/zero.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void arch_print(const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(STDOUT_FILENO, s, len);
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

/* The kernel's method, so that host benchmarks of mapping measure what the kernel runs
 * (libc's AVX memset would be faster here, and unavailable to the kernel). */
void arch_zero(void *va, size_t bytes)
{
	x86_zero_rep_stosb(va, bytes);
}

void arch_panic(const char *why)
{
	fprintf(stderr, "PANIC: %s\n", why);
	fflush(stdout);
	abort();
}
