/* Console, memory fill and panic on the host: stdout, memset, abort. */
#include <arch/arch.h>

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

/* libc's memset picks the CPU's fastest stores (ERMS / AVX) at run time. */
void arch_zero(void *va, size_t bytes)
{
	memset(va, 0, bytes);
}

void arch_panic(const char *why)
{
	fprintf(stderr, "PANIC: %s\n", why);
	fflush(stdout);
	abort();
}
