/*
 * MM_ASSERT: invariant checks compiled in debug builds (MM_DEBUG, set by GN for the
 * sanitizer toolchain) and out otherwise. MM_CHECK stays in every build, for conditions
 * whose failure would corrupt memory.
 */
#ifndef LIB_ASSERT_H
#define LIB_ASSERT_H

#include <arch/arch.h>

#define MM_STRINGIFY2(x) #x
#define MM_STRINGIFY(x) MM_STRINGIFY2(x)

#define MM_CHECK(cond)                                                                             \
	do {                                                                                           \
		if (__builtin_expect(!(cond), 0))                                                          \
			arch_panic("check failed: " #cond " at " __FILE__ ":" MM_STRINGIFY(__LINE__));         \
	} while (0)

#if defined(MM_DEBUG) && MM_DEBUG
#define MM_ASSERT(cond) MM_CHECK(cond)
#define MM_DEBUG_ENABLED 1
#else
#define MM_ASSERT(cond) ((void)0)
#define MM_DEBUG_ENABLED 0
#endif

#endif /* LIB_ASSERT_H */
