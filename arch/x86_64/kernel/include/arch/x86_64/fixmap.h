/* The fixmap, where the kernel reaches devices before (or without) the vmm, and the kernel's
 * root table. Entry bits are the one set every build uses: PTE_* in <arch/x86_64/pte.h>. */
#ifndef ARCH_X86_64_FIXMAP_H
#define ARCH_X86_64_FIXMAP_H

#include <stdbool.h>
#include <stdint.h>

#include <arch/x86_64/pte.h>

/*
 * The fixmap: one page table mapping the last 2 MiB of the address space, for devices the
 * kernel reaches before (or without) the vmm: the local APIC, and a slot for tests.
 * Slots are 4 KiB pages from X86_FIXMAP_BASE.
 */
#define X86_FIXMAP_BASE 0xFFFFFFFFFFE00000ull
enum x86_fixmap_slot { X86_FIXMAP_LAPIC, X86_FIXMAP_TEST, X86_FIXMAP_SLOTS };

/* pre: pt is the kernel-virtual address of the (zeroed) page table the kernel's tables map
 * at X86_FIXMAP_BASE. */
void x86_fixmap_init(uint64_t *pt);

/*
 * Maps slot to the 4 KiB page at phys with the given PTE_* bits (P, NX and G are
 * added where they apply: G only when global is true) and flushes the slot's old
 * translation on the calling CPU. Returns the slot's virtual address.
 */
void *x86_fixmap_set(enum x86_fixmap_slot slot, uint64_t phys, uint64_t flags, bool global);

/* The entry of a slot, for tests that change a mapping without the flush. */
uint64_t *x86_fixmap_pte(enum x86_fixmap_slot slot);

/* The virtual address of a slot. */
static inline void *x86_fixmap_addr(enum x86_fixmap_slot slot)
{
	return (void *)(uintptr_t)(X86_FIXMAP_BASE + ((uint64_t)slot << 12));
}

/* The kernel's PML4 (every space's kernel half); set once the boot page tables are final.
 * The TLB code borrows it to flush a PCID other than the current one. */
void x86_set_kernel_root(uint64_t root_phys);
uint64_t x86_kernel_root(void);

#endif /* ARCH_X86_64_FIXMAP_H */
