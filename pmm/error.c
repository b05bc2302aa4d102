/* The per-CPU last error behind mm_last_error(), and error names. */
#include <mm/types.h>

#include "frame.h"

static int last_error[ARCH_MAX_CPUS];

int mm_set_error(int error)
{
	last_error[arch_cpu_id()] = error;
	return error;
}

int mm_last_error(void)
{
	return last_error[arch_cpu_id()];
}

const char *mm_strerror(int error)
{
	switch (error) {
	case MM_OK:
		return "MM_OK: success";
	case MM_EINVAL:
		return "MM_EINVAL: bad argument";
	case MM_ENOMEM:
		return "MM_ENOMEM: out of memory";
	case MM_EEXIST:
		return "MM_EEXIST: already mapped";
	case MM_ENOENT:
		return "MM_ENOENT: not mapped";
	case MM_EPERM:
		return "MM_EPERM: not allowed in that part of the address space";
	case MM_EFAULT:
		return "MM_EFAULT: bad user address";
	case MM_ENOTALLOC:
		return "MM_ENOTALLOC: frame not allocated";
	case MM_ESIZE:
		return "MM_ESIZE: page size does not match";
	default:
		return "unknown error";
	}
}
