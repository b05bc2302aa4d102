/*
 * The four memory functions the compiler may call on its own (freestanding code still gets
 * calls to memset/memcpy/memmove/memcmp), plus strlen. Kernel toolchain only; the host uses
 * its C library.
 */
#include <stddef.h>
#include <stdint.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	void *d = dst;
	/* Aligned copies (whole pages: a fork's copy of a large page) move 8 bytes a step.
	 * On hardware both forms are the fast-string microcode; an emulator (TCG, Bochs) runs
	 * each step of a rep on its own, and a 1 GiB copy by bytes there takes half a minute. */
	if ((((uintptr_t)dst | (uintptr_t)src | n) & 7) == 0) {
		size_t words = n / 8;
		__asm__ volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(words) : : "memory");
		return dst;
	}
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (d == s || n == 0)
		return dst;
	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	/* Overlapping with dst above src: copy backwards. */
	while (n--)
		d[n] = s[n];
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}
