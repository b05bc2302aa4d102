/* The argument checks every public call shares (vmm/args.h). */
#include "args.h"

#include "space.h"

int vmm_check_flags(uint64_t flags, uint32_t allowed)
{
	if (flags & ~(uint64_t)allowed)
		return MM_EINVAL;
	if ((flags & MM_FLG_WR) && (flags & MM_FLG_EXEC))
		return MM_EPERM;
	return MM_OK;
}

int page_range(uintptr_t start, size_t count, uintptr_t page_size, uintptr_t *out_start,
               uintptr_t *out_end)
{
	if (count == 0)
		return MM_EINVAL;
	uintptr_t last = start + count - 1;
	if (last < start)
		return MM_EINVAL;
	uintptr_t aligned_last = last | (page_size - 1);
	if (aligned_last + 1 == 0) /* the range touches the top page: end would wrap to 0 */
		return MM_EINVAL;
	*out_start = start & ~(page_size - 1);
	*out_end = aligned_last + 1;
	return MM_OK;
}

int vmm_check_object_span(const struct mm_pager *pager, uint64_t offset, uint64_t length)
{
	if (offset & (MM_PAGE_SIZE - 1))
		return MM_EINVAL;
	if (!pager)
		return MM_OK; /* anonymous memory has no object to run past */
	uint64_t end = offset + length;
	if (end < offset)
		return MM_EINVAL;
	/* The object's last page is whole for a mapping: its tail reads as zeros. Computed
	 * without rounding the size up, which could wrap for a size near 2^64. */
	uint64_t object_pages = pager->size / MM_PAGE_SIZE + (pager->size % MM_PAGE_SIZE != 0);
	return end / MM_PAGE_SIZE <= object_pages ? MM_OK : MM_EINVAL;
}

int vmm_check_area(const struct mm_space *space, uintptr_t first, uintptr_t end, enum va_area *area)
{
	if (!space)
		return MM_EINVAL;
	*area = va_area_of(first, end);
	if (*area == AREA_NONE)
		return MM_EPERM;
	if (space->is_kernel && *area != AREA_KERNEL)
		return MM_EPERM;
	return MM_OK;
}

int vmm_check_user_space(const struct mm_space *space)
{
	return space && !space->is_kernel ? MM_OK : MM_EINVAL;
}
