/* Building the kernel's page tables at boot: direct map, firmware tables, image
 * permissions, fixmap. */
#include "kernel/paging.h"

#include <arch/arch.h>
#include <arch/x86_64/boot.h>
#include <arch/x86_64/features.h>
#include <arch/x86_64/fixmap.h>

#include "kernel/bootmem.h"

#define SZ_4K (1ull << 12)
#define SZ_2M (1ull << 21)
#define SZ_1G (1ull << 30)
#define SZ_512G (1ull << 39)
#define LOW_MEMORY_END 0x100000ull

/* Intermediate entries allow everything; the leaves decide. */
#define TABLE_FLAGS (PTE_P | PTE_W)

static uint64_t nx(void)
{
	return x86_features.nx_on ? PTE_NX : 0;
}

/* The table entry e points to, allocating (from alloc) and linking a new one when e is
 * empty. */
static uint64_t *table_from(uint64_t *e, uint64_t (*alloc)(void))
{
	if (!(*e & PTE_P))
		*e = alloc() | TABLE_FLAGS;
	return bootmem_virt(*e & PTE_ADDR_MASK);
}

static uint64_t *table_at(uint64_t *e)
{
	return table_from(e, bootmem_alloc_page);
}

uint64_t paging_kernel_root(void)
{
	return x86_image_phys(boot_pml4);
}

void paging_build_direct_map(const struct range_list *ram, struct direct_map_stats *st)
{
	const uint64_t leaf = PTE_P | PTE_W | PTE_G | PTE_PS | nx();
	uint64_t *pml4e = &boot_pml4[pt_index(X86_DIRECT_MAP_BASE, 4)];
	*st = (struct direct_map_stats){0};

	/* Built in a detached PDPT and linked last, so no walk sees it half-made. */
	uint64_t pdpt_phys = bootmem_alloc_page();
	uint64_t *pdpt = bootmem_virt(pdpt_phys);
	for (uint64_t gib = 0; gib < SZ_512G; gib += SZ_1G) {
		if (!range_intersects(ram, gib, gib + SZ_1G))
			continue;
		/* The legacy hole below 1 MiB is in every PC's first GiB; its memory types come
		 * from the fixed-range MTRRs, so it does not stop a 1 GiB page. */
		uint64_t from = gib < LOW_MEMORY_END ? LOW_MEMORY_END : gib;
		uint64_t *e = &pdpt[pt_index(X86_DIRECT_MAP_BASE + gib, 3)];
		if (x86_features.page1g && range_contains(ram, from, gib + SZ_1G)) {
			*e = gib | leaf;
			st->pages_1g++;
			st->end = gib + SZ_1G;
			continue;
		}
		uint64_t *pd = table_at(e);
		for (uint64_t mib2 = gib; mib2 < gib + SZ_1G; mib2 += SZ_2M) {
			if (!range_intersects(ram, mib2, mib2 + SZ_2M))
				continue;
			pd[pt_index(X86_DIRECT_MAP_BASE + mib2, 2)] = mib2 | leaf;
			st->pages_2m++;
			st->end = mib2 + SZ_2M;
		}
	}
	__atomic_store_n(pml4e, pdpt_phys | TABLE_FLAGS, __ATOMIC_RELEASE);
	/* A new mapping: nothing to flush (no negative entries are cached on x86). */
	bootmem_use_direct_map();
}

unsigned paging_fill_firmware(uint64_t *pdpt, uint64_t base, uint64_t end, uint64_t cache_bits,
                              uint64_t (*alloc)(void))
{
	/* Read-only: nothing in the kernel has a reason to write a firmware table. */
	const uint64_t leaf = PTE_P | PTE_G | nx() | cache_bits;
	unsigned added = 0;
	for (uint64_t page = base & ~(SZ_4K - 1); page < end; page += SZ_4K) {
		uint64_t va = X86_DIRECT_MAP_BASE + page;
		uint64_t *pdpte = &pdpt[pt_index(va, 3)];
		if ((*pdpte & PTE_P) && (*pdpte & PTE_PS))
			continue; /* a 1 GiB page of RAM covers it */
		uint64_t *pde = &table_from(pdpte, alloc)[pt_index(va, 2)];
		if ((*pde & PTE_P) && (*pde & PTE_PS))
			continue; /* a 2 MiB page of RAM covers it */
		uint64_t *pte = &table_from(pde, alloc)[pt_index(va, 1)];
		if (*pte & PTE_P)
			continue;
		/* Not present before, so no TLB holds it: no flush. */
		__atomic_store_n(pte, page | leaf, __ATOMIC_RELEASE);
		added++;
	}
	return added;
}

bool paging_map_firmware(uint64_t base, uint64_t end, bool uncached, unsigned *added)
{
	*added = 0;
	if (base >= end || end > SZ_512G)
		return false;
	uint64_t pml4e = boot_pml4[pt_index(X86_DIRECT_MAP_BASE, 4)];
	if (!(pml4e & PTE_P))
		return false;
	uint64_t *pdpt = bootmem_virt(pml4e & PTE_ADDR_MASK);
	/* PCD | PWT select UC with the power-on PAT, whatever the MTRRs say. */
	uint64_t cache_bits = uncached ? PTE_PCD | PTE_PWT : 0;
	*added = paging_fill_firmware(pdpt, base, end, cache_bits, bootmem_alloc_page);
	return true;
}

static uint64_t image_page_flags(const char *va)
{
	if (va >= boot_stack_guard && va < boot_stack_bottom)
		return 0; /* not present: a stack overflow faults here */
	if (va < kimage_text_end)
		return PTE_P | PTE_G;
	if (va < kimage_rodata_end)
		return PTE_P | PTE_G | nx();
	return PTE_P | PTE_W | PTE_G | nx();
}

void paging_map_image(void)
{
	uint64_t pd_phys = bootmem_alloc_page();
	uint64_t *pd = bootmem_virt(pd_phys);
	for (char *va = kimage_start; va < kimage_end; va += SZ_4K) {
		uint64_t flags = image_page_flags(va);
		if (!flags)
			continue;
		uint64_t *pt = table_at(&pd[pt_index((uint64_t)(uintptr_t)va, 2)]);
		pt[pt_index((uint64_t)(uintptr_t)va, 1)] = x86_image_phys(va) | flags;
	}
	/*
	 * One store swaps the whole image mapping: every page the CPU is using keeps its
	 * address and frame, only permissions change. Then drop the old 2 MiB translations.
	 */
	uint64_t *pdpte = &boot_pdpt_high[pt_index(X86_KERNEL_VMA, 3)];
	__atomic_store_n(pdpte, pd_phys | TABLE_FLAGS, __ATOMIC_RELEASE);
	arch_tlb_flush_all();
}

void paging_map_fixmap(void)
{
	uint64_t *pdpte = &boot_pdpt_high[pt_index(X86_FIXMAP_BASE, 3)];
	uint64_t *pd = table_at(pdpte);
	uint64_t *pt = table_at(&pd[pt_index(X86_FIXMAP_BASE, 2)]);
	x86_fixmap_init(pt);
}

void paging_drop_identity(void)
{
	__atomic_store_n(&boot_pml4[0], 0, __ATOMIC_RELEASE);
	arch_tlb_flush_all();
}
