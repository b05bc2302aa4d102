/*
 * Copies between kernel memory and the user half of any space, not only the current one.
 * They go through the space's page tables and the direct map, so they work
 * whichever space the CPU runs. A page not yet present in a region is faulted in as an
 * access from the program would be (a write breaks copy-on-write). A kernel address, a range
 * crossing the end of the user half, an unmapped page or one the access is not allowed on
 * returns an error: never a crash, and the kernel side is never overrun.
 */
#ifndef MM_COPY_H
#define MM_COPY_H

#include <mm/vmm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Count bytes from kernel src to user dst in dst_space. 0 or MM_EINVAL (NULL, wrap),
 * MM_EFAULT (not user space, not mapped, not writable by the program, device memory),
 * MM_ENOMEM (a page could not be faulted in). On an error part of the range may have been
 * written. With valid pointers, count 0 touches nothing and returns 0. */
int mm_memcpy_kernel_to_user(mm_space_t dst_space, void *dst, const void *src, size_t count);

/* Count bytes from user src in src_space to kernel dst. Errors as above (readable). */
int mm_memcpy_user_to_kernel(mm_space_t src_space, void *dst, const void *src, size_t count);

/* A NUL-terminated string of at most count bytes (the NUL included) from user src into
 * dst. Returns the bytes copied (without the NUL when it fitted; count when it did not), or
 * -1 with mm_last_error() set. */
long mm_strncpy_user_to_kernel(mm_space_t src_space, void *dst, const void *src, size_t count);

/* The string at user src (at most max_len bytes before its NUL)
 * in a fresh kmalloc buffer the caller kfrees, or NULL (MM_EFAULT, MM_ENOMEM, or MM_EINVAL
 * when no NUL comes within max_len). */
char *mm_strdup_from_user(mm_space_t src_space, const void *src, size_t max_len);

#ifdef __cplusplus
}
#endif

#endif /* MM_COPY_H */
