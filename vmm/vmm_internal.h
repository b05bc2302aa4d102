/* Calls for tests and debugging that are not part of the public mm_ API. */
#ifndef VMM_INTERNAL_H
#define VMM_INTERNAL_H

#include <mm/vmm.h>

/* Walks every table of the space's user half and hardware window (and checks its kernel
 * half is the shared one). post: MM_OK when present-entry counts, page counts and frame
 * references agree; MM_EINVAL otherwise. */
int vmm_check_space(struct mm_space *space);

#endif /* VMM_INTERNAL_H */
