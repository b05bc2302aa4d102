/* The invariant checkers and fingerprints that tests and debugging call: not part of the
 * public mm_ API. */
#ifndef VMM_INVARIANTS_H
#define VMM_INVARIANTS_H

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

/* Everything that may hold a reference on the frames checked. */
struct vmm_ref_scope {
	struct mm_space *const *spaces; /* every space that may map them (the kernel space is
	                                   always added) */
	size_t n_spaces;
	struct mm_pager *const *pagers; /* objects the caller holds whose pages may be referenced
	                                   where no region of theirs is mapped (a page handed out by
	                                   an unmap with MM_FLG_NOPHYS); those of the spaces'
	                                   regions are found through the regions */
	size_t n_pagers;
	const struct vmm_held_ref *held; /* the caller's own references */
	size_t n_held;
};

/*
 * The exact reference check: every managed frame that a mapping in the scope's spaces
 * reaches, that an object's page cache keeps (mm_pager_ops.for_each_page), or that the
 * caller holds, has exactly as many references as all of those together. A pager without
 * for_each_page only needs at least the mappings' references on its pages. MM_OK,
 * MM_EINVAL (a count differs, printed; or too many spaces or pagers), MM_ENOMEM.
 */
int vmm_check_references(const struct vmm_ref_scope *scope);

/*
 * A fingerprint of everything a call could change in a space: each page-table entry of its
 * user half and hardware window (the kernel space: its kernel mapping area, and the rest,
 * which stays empty), accessed and dirty bits left out; its regions; its heap bounds, page
 * and table counts. The same before and after a call that failed: it changed nothing.
 */
uint64_t vmm_space_digest(struct mm_space *space);

#endif /* VMM_INVARIANTS_H */
