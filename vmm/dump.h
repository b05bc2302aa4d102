/* What the two debugging dumps (vmm/dump_stats.c, vmm/dump_map.c) share. */
#ifndef VMM_DUMP_H
#define VMM_DUMP_H

#include <stddef.h>
#include <stdint.h>

#include "space.h"

/* Prints the regions of space (the kernel space: kernel regions), one line each. */
void dump_regions(struct mm_space *space);

/* Formats a size as "N KiB", "N MiB" or "N GiB" (the largest unit that divides it). */
void dump_format_size(char *buf, size_t size, uint64_t bytes);

#endif /* VMM_DUMP_H */
