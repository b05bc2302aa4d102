/*
 * Counters of the address spaces made and destroyed since start-up, for mm_dump_stats.
 * mm_create_space and mm_destroy_space report each success; the counters are atomic, read
 * as a snapshot.
 */
#ifndef VMM_SPACE_STATS_H
#define VMM_SPACE_STATS_H

#include <stdint.h>

void vmm_space_created(void);
void vmm_space_destroyed(void);

struct vmm_space_counts {
	uint64_t created, destroyed; /* user spaces (mm_create_space); the kernel space apart */
};
void vmm_space_counts(struct vmm_space_counts *out);

#endif /* VMM_SPACE_STATS_H */
