/* Bump allocation of page-table pages before the frame allocator exists. */
#include "kernel/bootmem.h"

#include <stdbool.h>

#include <arch/arch.h>
#include <arch/x86_64/boot.h>
#include <lib/string.h>

#define PAGE 4096ull
#define BOOT_WINDOW_END (1ull << 30)

static uint64_t next, limit;
static bool closed, direct;

void bootmem_init(uint64_t start, const struct range_list *ram)
{
	next = start;
	limit = start;
	/* Grow only inside the usable range that holds start, and inside the boot window. */
	for (size_t i = 0; i < ram->n; i++)
		if (ram->r[i].base <= start && start < ram->r[i].end)
			limit = ram->r[i].end & ~(PAGE - 1);
	if (limit > BOOT_WINDOW_END)
		limit = BOOT_WINDOW_END;
}

void *bootmem_virt(uint64_t phys)
{
	if (direct)
		return arch_phys_to_virt((uintptr_t)phys);
	return (void *)(uintptr_t)(phys + X86_KERNEL_VMA);
}

void bootmem_use_direct_map(void)
{
	direct = true;
}

uint64_t bootmem_alloc_page(void)
{
	if (closed || next + PAGE > limit)
		arch_panic("boot page-table region exhausted");
	uint64_t p = next;
	next += PAGE;
	memset(bootmem_virt(p), 0, PAGE);
	return p;
}

uint64_t bootmem_close(void)
{
	closed = true;
	return next;
}
