/* The fixmap: a handful of fixed kernel-virtual pages for device registers and tests. */
#include <arch/x86_64/fixmap.h>

#include <arch/arch.h>
#include <arch/x86_64/features.h>
#include <lib/assert.h>

static uint64_t *fixmap_pt;

void x86_fixmap_init(uint64_t *pt)
{
	fixmap_pt = pt;
}

void *x86_fixmap_set(enum x86_fixmap_slot slot, uint64_t phys, uint64_t flags, bool global)
{
	MM_CHECK(fixmap_pt != NULL && slot < X86_FIXMAP_SLOTS && (phys & 0xFFF) == 0);
	uint64_t pte = (phys & PTE_ADDR_MASK) | flags | PTE_P;
	if (x86_features.nx_on)
		pte |= PTE_NX;
	if (global)
		pte |= PTE_G;
	__atomic_store_n(&fixmap_pt[slot], pte, __ATOMIC_RELEASE);
	void *va = x86_fixmap_addr(slot);
	/* A global entry is dropped by INVLPG too. */
	arch_tlb_flush_page((uintptr_t)va);
	return va;
}

uint64_t *x86_fixmap_pte(enum x86_fixmap_slot slot)
{
	MM_CHECK(fixmap_pt != NULL && slot < X86_FIXMAP_SLOTS);
	return &fixmap_pt[slot];
}
