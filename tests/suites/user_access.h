/*
 * Program accesses to a space, as the MMU and the fault handler would serve them, but
 * through the page tables and the direct map: they work for any space on the host and in
 * the kernel alike. An access that the page tables do not allow goes to mm_fault first,
 * as a real access would; what mm_fault refuses is returned as the program's error.
 */
#ifndef TESTS_SUITES_USER_ACCESS_H
#define TESTS_SUITES_USER_ACCESS_H

#include <mm/region.h>

/* An access from user mode (MM_FAULT_USER) or from kernel mode (0: the kernel window and
 * kernel-only pages, where a user-mode access is refused). */
static inline int mode_access(mm_space_t space, uintptr_t va, bool write, uint32_t mode,
                              void **where)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		uint32_t flags = 0;
		uintptr_t phys = mm_translate(space, va, &flags);
		bool present = phys != MM_NADDR;
		if (present && (!write || (flags & MM_FLG_WR))) {
			*where = MM_VIRTUALIZE(phys);
			return MM_OK;
		}
		uint32_t access = mode | (write ? MM_FAULT_WRITE : 0) | (present ? MM_FAULT_PRESENT : 0);
		int error = mm_fault(space, va, access);
		if (error != MM_OK)
			return error;
	}
	return MM_EFAULT; /* mm_fault said yes three times and the page is still not there */
}

static inline int user_access(mm_space_t space, uintptr_t va, bool write, void **where)
{
	return mode_access(space, va, write, MM_FAULT_USER, where);
}

static inline int user_write64(mm_space_t space, uintptr_t va, uint64_t value)
{
	void *p;
	int error = user_access(space, va, true, &p);
	if (error == MM_OK)
		*(volatile uint64_t *)p = value;
	return error;
}

/* The value, or ~0 with *error set. */
static inline uint64_t user_read64(mm_space_t space, uintptr_t va, int *error)
{
	void *p;
	*error = user_access(space, va, false, &p);
	return *error == MM_OK ? *(volatile uint64_t *)p : ~0ull;
}

#endif /* TESTS_SUITES_USER_ACCESS_H */
