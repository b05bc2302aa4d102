/*
 * The host's MMU: an access translates through the calling CPU's software TLB
 * (soft_tlb.c) and, on a miss, walks the x86_64 tables under its CR3 through the arena's
 * direct map, as the page walker of a real CPU would.
 */
#include <arch/arch.h>
#include <arch/host/soft_tlb.h>
#include <arch/x86_64/pt_walk.h>
#include <arch/x86_64/pte.h>

#include "host_internal.h"

/*
 * Walks the tables under root for va. Only a present leaf is returned: the TLB caches
 * translations, never a missing one.
 * post: true with *out filled (tagged with the current PCID), or false when some level is
 *       not present or sets a reserved bit (PS in a PML4 entry).
 */
static bool walk(const struct host_cpu *cpu, uintptr_t va, struct host_tlb_entry *out)
{
	uint64_t table = cpu->cr3;
	bool writable = true, user = true;
	for (int level = PT_LEVELS; level >= 1; level--) {
		/*
		 * Other CPUs change these tables while we read them. Each entry is read once, with
		 * one 64-bit atomic load, as the hardware walker reads it; acquire, so that a table
		 * published by a release store of its parent entry is read as it was filled.
		 */
		pte_t e = __atomic_load_n(&pt_table(table)[pt_index(va, level)], __ATOMIC_ACQUIRE);
		if (!pte_present(e))
			return false;
		if (level == PT_LEVELS && (e & PTE_PS))
			return false;
		writable = writable && (e & PTE_W);
		user = user && (e & PTE_U);
		if (pte_is_leaf(e, level)) {
			unsigned shift = pt_shift(level);
			*out = (struct host_tlb_entry){
			    .vpn = va >> shift,
			    .frame = pte_leaf_addr(e, level),
			    .pcid = cpu->pcid,
			    .page_shift = (uint8_t)shift,
			    .valid = true,
			    .writable = writable,
			    .user = user,
			    .global = (e & PTE_G) != 0,
			};
			return true;
		}
		table = pte_addr(e);
	}
	return false; /* not reached: level 1 entries are leaves */
}

/* CR0.WP on: writes need W in supervisor mode too. SMAP off: supervisor accesses may touch
 * user pages. */
static bool allowed(const struct host_tlb_entry *e, bool write, bool user)
{
	return (!write || e->writable) && (!user || e->user);
}

static bool translate(struct host_cpu *cpu, uintptr_t va, bool write, bool user, uintptr_t *phys)
{
	struct soft_tlb *t = &cpu->tlb;
	if (!va_is_canonical(va) || cpu->cr3 == 0)
		return false;
	struct host_tlb_entry fresh;
	const struct host_tlb_entry *e = soft_tlb_lookup(cpu, va);
	if (e && !allowed(e, write, user)) {
		/* The fault drops the entries it would have used (SDM 4.10.4.1): a translation
		 * whose permissions were raised without a flush faults once, then walks again. */
		struct soft_tlb_scope s = {
		    .one_va = true, .va = va, .one_pcid = true, .pcid = cpu->pcid, .globals = true};
		soft_tlb_drop(cpu, &s, HOST_TLB_DROP_FAULT);
		return false;
	}
	if (e) {
		soft_tlb_count(&t->stats.hits, 1);
	} else {
		if (!walk(cpu, va, &fresh) || !allowed(&fresh, write, user))
			return false;
		soft_tlb_fill(cpu, &fresh);
		soft_tlb_count(&t->stats.misses, 1);
		e = &fresh;
	}
	if (phys)
		*phys = (uintptr_t)(e->frame + (va & ((1ull << e->page_shift) - 1)));
	return true;
}

bool host_mmu_access(uintptr_t va, bool write, bool user, uintptr_t *phys)
{
	/*
	 * One instruction: a CPU takes interrupts between instructions, never inside a page
	 * walk. With IPIs held off across lookup, walk and fill, a shootdown cannot be
	 * acknowledged by this CPU while it reads a table the initiator frees afterwards; the
	 * shootdown's flush runs after the fill (in arch_irq_restore below) and drops it. No
	 * lock: the TLB is this CPU's alone and the tables are read with atomic loads.
	 */
	arch_irq_state_t irq;
	struct host_cpu *cpu = soft_tlb_enter(&irq);
	bool ok = translate(cpu, va, write, user, phys);
	if (!ok)
		soft_tlb_count(&cpu->tlb.stats.faults, 1);
	arch_irq_restore(irq);
	return ok;
}
