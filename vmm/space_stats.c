/* Counters of address spaces made and destroyed (vmm/space_stats.h). */
#include "space_stats.h"

static uint64_t spaces_created, spaces_destroyed;

void vmm_space_created(void)
{
	__atomic_add_fetch(&spaces_created, 1, __ATOMIC_RELEASE);
}

void vmm_space_destroyed(void)
{
	__atomic_add_fetch(&spaces_destroyed, 1, __ATOMIC_RELEASE);
}

void vmm_space_counts(struct vmm_space_counts *out)
{
	/* Destroyed first: a space made and destroyed between the two loads is then counted in
	 * created, never in destroyed alone, so live never goes negative. */
	out->destroyed = __atomic_load_n(&spaces_destroyed, __ATOMIC_ACQUIRE);
	out->created = __atomic_load_n(&spaces_created, __ATOMIC_ACQUIRE);
}
