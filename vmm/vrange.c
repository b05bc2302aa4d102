/*
 * Virtual ranges: vmfind (the lowest free range of a window), vmalloc (found and
 * mapped to fresh frames) and vmfree. Every mapping lives in a region, so "free" means "in
 * no region", and the region tree answers it in O(log n) (mm_region_find_free).
 */
#include <mm/region.h>
#include <mm/vmm.h>

#include "args.h"
#include "space.h"

#define VMALLOC_FLAGS (MM_PAGE_USER | MM_PAGE_WRITE | MM_PAGE_EXEC)

/* npages as bytes. MM_OK, or MM_EINVAL when npages is 0 or the size overflows. */
static int pages_to_bytes(size_t npages, size_t *bytes)
{
	if (npages == 0 || npages > (SIZE_MAX >> MM_PAGE_SHIFT))
		return MM_EINVAL;
	*bytes = npages << MM_PAGE_SHIFT;
	return MM_OK;
}

static bool page_aligned(uintptr_t addr)
{
	return (addr & (MM_PAGE_SIZE - 1)) == 0;
}

uintptr_t vmfind(const mm_space_t space, uintptr_t from, uintptr_t to, size_t npages)
{
	size_t bytes = 0;
	int error = MM_OK;
	/* Page 0 is never mapped: a window from 0 starts at the first page. */
	if (from < MM_USER_BASE && to > MM_USER_BASE)
		from = MM_USER_BASE;
	if (!space || from >= to || !page_aligned(from) || !page_aligned(to) ||
	    pages_to_bytes(npages, &bytes) != MM_OK)
		error = MM_EINVAL;
	else if (bytes > to - from)
		error = MM_ENOMEM; /* a valid question whose answer is "nowhere" */
	if (error != MM_OK) {
		mm_set_error(error);
		return MM_NADDR;
	}
	return mm_region_find_free(space, from, to, bytes, MM_PAGE_SIZE);
}

uintptr_t vmalloc(mm_space_t space, uintptr_t from, uintptr_t to, size_t npages, uint64_t flags)
{
	int error = vmm_check_flags(flags, VMALLOC_FLAGS);
	if (error != MM_OK) {
		mm_set_error(error);
		return MM_NADDR;
	}
	/* Another CPU may take the range between the search and the mapping: the mapping then
	 * fails with MM_EEXIST and changes nothing, and the search runs again. Each retry means
	 * the window lost a range to somebody else, so it ends. */
	for (;;) {
		uintptr_t va = vmfind(space, from, to, npages);
		if (va == MM_NADDR)
			return MM_NADDR;
		size_t bytes = npages << MM_PAGE_SHIFT; /* vmfind checked it does not overflow */
		uintptr_t mapped = mm_map_range(space, va, bytes, (uint32_t)flags);
		if (mapped != MM_NADDR || mm_last_error() != MM_EEXIST)
			return mapped;
	}
}

int vmfree(mm_space_t space, uintptr_t addr, size_t npages)
{
	size_t bytes = 0;
	if (!space || !page_aligned(addr) || pages_to_bytes(npages, &bytes) != MM_OK ||
	    addr + bytes < addr)
		return mm_set_error(MM_EINVAL);
	return mm_umap_range(space, addr, bytes, 0);
}
