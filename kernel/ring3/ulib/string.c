/* The memory functions the compiler may call on its own (struct copies, zeroing), for
 * programs that have no C library. */
#include <stddef.h>

void *memset(void *dst, int value, size_t len);
void *memcpy(void *restrict dst, const void *restrict src, size_t len);

void *memset(void *dst, int value, size_t len)
{
	unsigned char *d = dst;
	while (len--)
		*d++ = (unsigned char)value;
	return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t len)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	while (len--)
		*d++ = *s++;
	return dst;
}
