/* The kernel's own page tables: direct map (with the firmware tables), kernel image, fixmap,
 * and the end of the boot identity map. All in boot_pml4, which becomes every space's kernel
 * half. */
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
 * Makes the firmware memory [base, end) (rounded out to 4 KiB) readable through the direct
 * map, for the ACPI tables, which lie outside RAM: every page not mapped yet gets a
 * read-only, no-execute, global 4 KiB entry, write-back, or uncached (PCD | PWT) when
 * uncached is set; pages RAM's 1 GiB / 2 MiB pages already cover are left alone. Tables
 * come from bootmem.
 * pre: paging_build_direct_map() ran and bootmem is open; the caller chose uncached for
 *      anything the memory map does not call memory, so that device registers are never
 *      mapped write-back.
 * post: false (nothing done) when the range is empty or ends past the direct map's
 *       512 GiB; else true, with the number of pages newly mapped in *added.
 */
bool paging_map_firmware(uint64_t base, uint64_t end, bool uncached, unsigned *added);

/*
 * paging_map_firmware's work on any direct-map PDPT (the kernel's, or a scratch one in a
 * test): 4 KiB read-only leaves, with the extra PTE_* bits cache_bits (0 or PCD | PWT),
 * for the pages of [base, end) that pdpt does not map yet; new tables from alloc (a zeroed
 * page's physical address, reachable by bootmem_virt). Returns the number of pages newly
 * mapped.
 */
unsigned paging_fill_firmware(uint64_t *pdpt, uint64_t base, uint64_t end, uint64_t cache_bits,
                              uint64_t (*alloc)(void));

/*
 * Maps the kernel image again with 4 KiB pages and its sections' permissions: text RX,
 * read-only data R, data and bss RW (no-execute where the CPU has NX), the page below the
 * boot stack left unmapped as a guard; everything else of the boot window goes away.
 */
void paging_map_image(void);

/* Gives the fixmap (arch/x86_64/fixmap.h) its page table. */
void paging_map_fixmap(void);

/* Removes the boot identity map (the first 4 GiB): the user half is empty afterwards. */
void paging_drop_identity(void);

/* The physical address of the kernel's PML4. */
uint64_t paging_kernel_root(void);

#endif /* KERNEL_PAGING_H */
