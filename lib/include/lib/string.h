/* memset/memcpy/memmove/memcmp/strlen: libc's on the host, lib/string.c in the kernel. */
#ifndef LIB_STRING_H
#define LIB_STRING_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void *memset(void *dst, int c, size_t n);
void *memcpy(void *__restrict dst, const void *__restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* True when needle occurs in haystack (an empty needle always does). Ours on every build. */
int lib_str_contains(const char *haystack, const char *needle);

#ifdef __cplusplus
}
#endif

#endif /* LIB_STRING_H */
