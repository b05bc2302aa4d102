/* Calls for tests and debugging that are not part of the public mm_ API. */
#ifndef VMM_INTERNAL_H
#define VMM_INTERNAL_H

#include <mm/vmm.h>

/* Walks every table of the space's user half and hardware window (and checks its kernel
 * half is the shared one); for the kernel space, checks that both are empty, tables and
 * regions. post: MM_OK when present-entry counts, page counts and frame references agree;
 * MM_EINVAL otherwise. */
int vmm_check_space(struct mm_space *space);

/*
 * A fingerprint of everything a call could change in a space: each page-table entry of its
 * user half and hardware window (the kernel space: its kernel mapping area, and the rest,
 * which stays empty), accessed and dirty bits left out; its regions; its heap bounds, page
 * and table counts. The same before and after a call that failed: it changed nothing.
 */
uint64_t vmm_space_digest(struct mm_space *space);

#endif /* VMM_INTERNAL_H */
