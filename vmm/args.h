/*
 * Argument checks of the public calls, one helper per kind of argument, so that every call
 * applies the same rule and a call added later cannot forget one:
 *   - flags:        vmm_check_flags    (unknown flags, W^X)
 *   - byte ranges:  page_range         (empty, wrapping, touching the top page)
 *   - object spans: vmm_check_object_span (offset alignment, offset + length wrap, size)
 *   - space kinds:  vmm_check_area     (which space may hold which area)
 *                   vmm_check_user_space (calls made for program spaces only)
 * Each returns MM_OK or the error the call reports, and changes nothing. docs/api.md lists,
 * call by call, what each accepts and refuses.
 */
#ifndef VMM_ARGS_H
#define VMM_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include <mm/region.h>

struct mm_space;
enum va_area;

/*
 * flags against the set a call takes: MM_EINVAL when a flag outside `allowed` is set (the
 * single-page and vmalloc calls take 64-bit flags: any bit above 31 is outside too);
 * MM_EPERM when the flags ask for a writable and executable mapping (W^X holds for every
 * call that makes or changes a mapping: code is never writable while it can run).
 */
int vmm_check_flags(uint64_t flags, uint32_t allowed);

/* Turns a byte range into page-aligned [*out_start, *out_end) at the given page size.
 * MM_OK, or MM_EINVAL on count 0 or a range that wraps (or whose end would). */
int page_range(uintptr_t start, size_t count, uintptr_t page_size, uintptr_t *out_start,
               uintptr_t *out_end);

/*
 * The part [offset, offset + length) of an object that a mapping of `length` bytes (already
 * page-rounded) shows: MM_EINVAL when offset is not page-aligned, when offset + length
 * wraps, or when it runs past the object's last page (its size rounded up to pages).
 */
int vmm_check_object_span(const struct mm_pager *pager, uint64_t offset, uint64_t length);

/*
 * The area [first, end) lies in, and whether space may hold it: MM_EINVAL for a NULL space;
 * MM_EPERM when the range is in no area (crossing areas, the direct map, the kernel image,
 * non-canonical) or in one the space has none of: the kernel space has only the kernel
 * half, so its user half and hardware window are refused. A program space reaches the
 * kernel mapping area too (the kernel space's tables, shared by every space).
 */
int vmm_check_area(const struct mm_space *space, uintptr_t first, uintptr_t end,
                   enum va_area *area);

/* Calls that exist for programs (stacks, the heap, fork, clone): MM_EINVAL for NULL and for
 * the kernel space. */
int vmm_check_user_space(const struct mm_space *space);

#endif /* VMM_ARGS_H */
