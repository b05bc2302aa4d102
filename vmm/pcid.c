/*
 * Address-space switches with PCIDs: per-CPU dynamic assignment with generations.
 *
 * Each CPU keeps TLB_PCID_SLOTS slots; slot i tags its space's translations with PCID
 * i + 1 (PCID 0 is left to the boot page tables). A slot remembers which space it holds
 * (by id: ids are never reused, so a destroyed space's slot can never match again) and the
 * space's tlb_gen up to which this CPU has flushed that PCID. Loading a space:
 *   - held in a slot whose generation is current: CR3 with the no-flush bit, and the
 *     space's translations cached here last time are used again;
 *   - held but stale (a shootdown skipped this CPU because it ran something else), or not
 *     held (the least recently taken slot is given to it): CR3 without the no-flush bit,
 *     which drops that PCID's entries, then the slot records the generation read before.
 * Why per-CPU and dynamic rather than one PCID per space: there are 4095 PCIDs and no limit
 * on spaces, a global PCID allocator would need a lock or a shootdown to take a PCID back,
 * and a CPU only benefits from keeping the few spaces it switches between; the TLB holds
 * little more than that anyway. Why a handful of slots: the lookup is a short scan on every
 * switch, and entries of older spaces would have been evicted by the hardware by then.
 * Without PCID support there is one slot and every load of another space flushes: the same
 * code, with the same results.
 */
#include "pcid.h"

#include <lib/cpumask.h>
#include <lib/smp_call.h>
#include <lib/string.h>

struct tlb_cpu tlb_cpus[ARCH_MAX_CPUS];
arch_cpumask_t tlb_kernel_cpus;

static unsigned slots_in_use(void)
{
	return arch_has_pcid() ? TLB_PCID_SLOTS : 1;
}

static unsigned find_slot(const struct tlb_cpu *cpu, uint64_t id)
{
	unsigned n = slots_in_use();
	for (unsigned i = 0; i < n; i++)
		if (cpu->slot[i].space_id == id)
			return i;
	return TLB_PCID_SLOTS;
}

/* Round-robin over the slots, never the one in use: the oldest assignment goes first. */
static unsigned take_slot(struct tlb_cpu *cpu)
{
	unsigned n = slots_in_use();
	unsigned i = cpu->next_victim % n;
	if (n > 1 && i == cpu->current_slot)
		i = (i + 1) % n;
	cpu->next_victim = (i + 1) % n;
	return i;
}

void tlb_load_space(struct mm_space *to)
{
	unsigned self = arch_cpu_id();
	struct tlb_cpu *cpu = &tlb_cpus[self];
	struct mm_space *from = cpu->current;
	if (from == to)
		return;
	/* mm_cpu_online put it there, before anything could be cached. */
	MM_ASSERT(cpumask_test(&tlb_kernel_cpus, self));
	/* Join before reading the generation (a full barrier): see the protocol in vmm/tlb.c. */
	cpumask_set(&to->active, self);
	uint64_t gen = __atomic_load_n(&to->tlb_gen, __ATOMIC_SEQ_CST);

	unsigned i = find_slot(cpu, to->id);
	bool keep = i < TLB_PCID_SLOTS && cpu->slot[i].gen == gen && arch_has_pcid();
	if (i == TLB_PCID_SLOTS) {
		i = take_slot(cpu);
		cpu->slot[i].space_id = to->id;
	}
	cpu->slot[i].gen = gen;
	arch_space_load(to->root, tlb_slot_pcid(i), keep);
	cpu->current = to;
	cpu->current_slot = i;
	cpu->switches++;
	if (keep)
		cpu->switches_kept++;
	/* Leave the old space only now: until CR3 changed this CPU could still use it. Its
	 * entries stay cached under its PCID, guarded by the slot's generation. */
	if (from)
		cpumask_clear(&from->active, self);
}

static void forget_everything(struct tlb_cpu *cpu)
{
	struct mm_space *current = cpu->current;
	if (current)
		cpumask_clear(&current->active, (unsigned)(cpu - tlb_cpus));
	cpu->current = NULL;
	cpu->current_slot = 0;
	cpu->next_victim = 0;
	for (unsigned i = 0; i < TLB_PCID_SLOTS; i++)
		cpu->slot[i] = (struct tlb_pcid_slot){0, 0};
}

void mm_cpu_online(void)
{
	arch_irq_state_t irq = arch_irq_save();
	unsigned self = arch_cpu_id();
	struct tlb_cpu *cpu = &tlb_cpus[self];
	/* A CPU that starts holds nothing we know of: no slot can be trusted. */
	forget_everything(cpu);
	/* Join the kernel's shootdowns first, then flush: a global entry cached between the two
	 * in the other order could miss a kernel shootdown that read the set before the join. */
	cpumask_set(&tlb_kernel_cpus, self);
	/* Every PCID this CPU may have used before, and global entries, go. */
	arch_tlb_flush_all();
	/* Before mm_vm_init (a host thread that only allocates frames) there is no space yet;
	 * the first mm_set loads one. */
	struct mm_space *kernel = mm_kernel_space();
	if (kernel)
		tlb_load_space(kernel);
	arch_irq_restore(irq);
}

void mm_cpu_offline(void)
{
	arch_irq_state_t irq = arch_irq_save();
	unsigned self = arch_cpu_id();
	forget_everything(&tlb_cpus[self]);
	cpumask_clear(&tlb_kernel_cpus, self);
	/* Its cached frames would be stranded while nobody plays this CPU. */
	pmm_cpu_offline();
	smp_call_quiesce();
	arch_irq_restore(irq);
}

void mm_tlb_get_stats(struct mm_tlb_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < ARCH_MAX_CPUS; i++) {
		const struct tlb_cpu *c = &tlb_cpus[i];
		out->switches += c->switches;
		out->switches_kept += c->switches_kept;
		out->shootdowns += c->shootdowns;
		out->flush_pages += c->flush_pages;
		out->flush_pcid += c->flush_pcid;
		out->flush_all += c->flush_all;
		out->flush_lazy += c->flush_lazy;
		out->flush_skipped += c->flush_skipped;
	}
	out->pcid = arch_has_pcid();
	out->pcid_slots = slots_in_use();
}
