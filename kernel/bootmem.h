/*
 * The boot-time page allocator: a bump pointer over the RAM right after the kernel image,
 * for the page tables the kernel builds before the frame allocator exists. What it hands
 * out is never freed; the frame allocator is given RAM without it.
 */
#ifndef KERNEL_BOOTMEM_H
#define KERNEL_BOOTMEM_H

#include <stdint.h>

#include "kernel/memmap.h"

/* pre: start is 4 KiB aligned and lies in ram, below 1 GiB (the boot window). */
void bootmem_init(uint64_t start, const struct range_list *ram);

/* A zeroed 4 KiB page (physical address). Panics when the region runs out or is closed. */
uint64_t bootmem_alloc_page(void);

/* Where the kernel reaches a boot page: through the boot window (the first GiB mapped at
 * the kernel image's base) until bootmem_use_direct_map(), then through the direct map. */
void *bootmem_virt(uint64_t phys);
void bootmem_use_direct_map(void);

/* Ends allocation; returns the end of the region used ([start, end) stays reserved). */
uint64_t bootmem_close(void);

#endif /* KERNEL_BOOTMEM_H */
