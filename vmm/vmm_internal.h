/* Calls for tests and debugging that are not part of the public mm_ API. */
#ifndef VMM_INTERNAL_H
#define VMM_INTERNAL_H

#include <stddef.h>

#include <mm/vmm.h>

/* Walks every table of the space's user half and hardware window (and checks its kernel
 * half is the shared one); for the kernel space, checks that both are empty, tables and
 * regions. post: MM_OK when present-entry counts, page counts and frame references agree;
 * MM_EINVAL otherwise. */
int vmm_check_space(struct mm_space *space);

/* References a caller of vmm_check_references holds itself: `refs` on the frame (or 2 MiB
 * page) at phys. */
struct vmm_held_ref {
	uintptr_t phys;
	uint32_t refs;
};

/*
 * The exact reference check: every managed frame that a mapping in the given spaces (the
 * kernel space is always added) reaches has exactly as many references as it has mappings
 * there, plus one for each object page cache that keeps it (mm_pager_ops.for_each_page),
 * plus the caller's own held[] references. A pager without for_each_page only needs at
 * least the mappings' references on its pages. Every space that maps any of these frames
 * must be given. MM_OK, MM_EINVAL (a count differs, or too many spaces or pagers), MM_ENOMEM.
 */
int vmm_check_references(struct mm_space *const *spaces, size_t n_spaces,
                         const struct vmm_held_ref *held, size_t n_held);

/*
 * A fingerprint of everything a call could change in a space: each page-table entry of its
 * user half and hardware window (the kernel space: its kernel mapping area, and the rest,
 * which stays empty), accessed and dirty bits left out; its regions; its heap bounds, page
 * and table counts. The same before and after a call that failed: it changed nothing.
 */
uint64_t vmm_space_digest(struct mm_space *space);

#endif /* VMM_INTERNAL_H */
