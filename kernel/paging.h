/* The kernel's own page tables: direct map, kernel image, fixmap, and the end of the boot
 * identity map. All in boot_pml4, which becomes every space's kernel half. */
#ifndef KERNEL_PAGING_H
#define KERNEL_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/memmap.h"

struct direct_map_stats {
	unsigned pages_1g, pages_2m;
	uint64_t end; /* first physical address past the mapped ranges */
};

/*
 * Maps every range of ram (rounded out to 2 MiB) at the direct map base. A 1 GiB page is
 * used (when the CPU has them) for a GiB whose part above 1 MiB is all RAM; a GiB that is
 * only partly RAM gets 2 MiB pages on its RAM only, so device holes (the local APIC, PCI)
 * are not mapped write-back. Tables come from bootmem. RAM past the direct map's 512 GiB is
 * left out. Then switches bootmem to the direct map.
 */
void paging_build_direct_map(const struct range_list *ram, struct direct_map_stats *st);

/*
 * Maps the kernel image again with 4 KiB pages and its sections' permissions: text RX,
 * read-only data R, data and bss RW (no-execute where the CPU has NX), the page below the
 * boot stack left unmapped as a guard; everything else of the boot window goes away.
 */
void paging_map_image(void);

/* Gives the fixmap (arch/x86_64/paging.h) its page table. */
void paging_map_fixmap(void);

/* Removes the boot identity map (the first 4 GiB): the user half is empty afterwards. */
void paging_drop_identity(void);

/* The physical address of the kernel's PML4. */
uint64_t paging_kernel_root(void);

#endif /* KERNEL_PAGING_H */
