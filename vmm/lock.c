/* Shard locks: the page tables of each 1 GiB chunk of a space (see vmm/space.h). */
#include "space.h"

#include <lib/smp_call.h>

static uint32_t shards_of(uintptr_t start, uintptr_t end)
{
	uintptr_t first = start >> VMM_SHARD_SHIFT, last = (end - 1) >> VMM_SHARD_SHIFT;
	if (last - first + 1 >= VMM_SHARDS)
		return (1u << VMM_SHARDS) - 1;
	uint32_t mask = 0;
	for (uintptr_t chunk = first; chunk <= last; chunk++)
		mask |= 1u << (chunk % VMM_SHARDS);
	return mask;
}

/*
 * Takes shard i; irq is the caller's interrupt state to wait with, and comes back as the
 * state to restore when the shards go. A holder may be waiting for this CPU to answer a TLB
 * shootdown or a cache drain: interrupts go back on while waiting (if the caller had them
 * on), and the call is served from the loop too, for callers whose interrupts are off (the
 * second space of a fork). The shards already held stay held; the calls served take no
 * shard.
 */
static inline arch_irq_state_t lock_shard(struct mm_space *space, unsigned i,
                                          arch_irq_state_t irq) TA_NO_ANALYSIS
{
	while (!spin_trylock(&space->shards[i].lock)) {
		arch_irq_restore(irq);
		while (spin_is_locked(&space->shards[i].lock)) {
			smp_call_serve();
			arch_cpu_relax();
		}
		irq = arch_irq_save();
	}
	return irq;
}

/* The shard locks come and go in sets that clang's analysis cannot follow: they are checked
 * at run time (vmm_assert_shards_held) instead. */
static vmm_range_lock_t lock_mask(struct mm_space *space, uint32_t mask) TA_NO_ANALYSIS
{
	arch_irq_state_t irq = arch_irq_save();
	for (unsigned i = 0; i < VMM_SHARDS; i++)
		if (mask & (1u << i))
			irq = lock_shard(space, i, irq);
	return (vmm_range_lock_t){irq, mask};
}

#if MM_DEBUG_ENABLED
void vmm_assert_shards_held(struct mm_space *space, uintptr_t start, uintptr_t end)
{
	uint32_t mask = shards_of(start, end);
	for (unsigned i = 0; i < VMM_SHARDS; i++)
		if (mask & (1u << i))
			MM_CHECK(spin_held(&space->shards[i].lock));
}
#endif

bool vmm_holds_all_shards(struct mm_space *space)
{
	for (unsigned i = 0; i < VMM_SHARDS; i++)
		if (!spin_held(&space->shards[i].lock))
			return false;
	return true;
}

vmm_range_lock_t vmm_lock_range(struct mm_space *space, uintptr_t start, uintptr_t end)
{
	MM_ASSERT(end > start);
	return lock_mask(space, shards_of(start, end));
}

/* One shard, without lock_mask's walk over every shard: the fault path's lock. */
vmm_range_lock_t vmm_lock_va(struct mm_space *space, uintptr_t va) TA_NO_ANALYSIS
{
	unsigned i = (va >> VMM_SHARD_SHIFT) % VMM_SHARDS;
	return (vmm_range_lock_t){lock_shard(space, i, arch_irq_save()), 1u << i};
}

vmm_range_lock_t vmm_lock_all(struct mm_space *space)
{
	return lock_mask(space, (1u << VMM_SHARDS) - 1);
}

void vmm_unlock_range(struct mm_space *space, vmm_range_lock_t held) TA_NO_ANALYSIS
{
	for (unsigned i = VMM_SHARDS; i-- > 0;)
		if (held.mask & (1u << i))
			spin_unlock(&space->shards[i].lock);
	arch_irq_restore(held.irq);
}

void vmm_unlock_va(struct mm_space *space, vmm_range_lock_t held) TA_NO_ANALYSIS
{
	MM_ASSERT(held.mask && (held.mask & (held.mask - 1)) == 0);
	spin_unlock(&space->shards[__builtin_ctz(held.mask)].lock);
	arch_irq_restore(held.irq);
}

uint32_t vmm_try_lock_rest(struct mm_space *space, vmm_range_lock_t *held) TA_NO_ANALYSIS
{
	uint32_t taken = 0;
	for (unsigned i = 0; i < VMM_SHARDS; i++) {
		if (held->mask & (1u << i))
			continue;
		/* Out of order, so only a try: waiting here could deadlock. */
		if (!spin_trylock(&space->shards[i].lock)) {
			for (unsigned j = 0; j < VMM_SHARDS; j++)
				if (taken & (1u << j))
					spin_unlock(&space->shards[j].lock);
			return 0;
		}
		taken |= 1u << i;
	}
	held->mask |= taken;
	return taken | 0x80000000u; /* non-zero even when nothing was missing */
}

void vmm_unlock_some(struct mm_space *space, vmm_range_lock_t *held, uint32_t taken) TA_NO_ANALYSIS
{
	taken &= (1u << VMM_SHARDS) - 1;
	for (unsigned i = 0; i < VMM_SHARDS; i++)
		if (taken & (1u << i))
			spin_unlock(&space->shards[i].lock);
	held->mask &= ~taken;
}
