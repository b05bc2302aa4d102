/*
 * The TLB and CR3 hooks on the host. Each acts on the calling CPU's software TLB as its
 * instruction acts on a real CPU (soft_tlb.c), and records what it was asked, per CPU, so
 * tests can check that the generic code invalidates exactly what it must.
 */
#include <arch/arch.h>
#include <arch/host/machine.h>
#include <arch/host/soft_tlb.h>

#include <string.h>

#include "host_internal.h"

void arch_tlb_flush_page(uintptr_t va)
{
	arch_irq_state_t irq;
	/* IPIs off: an IPI's flush must not run into the middle of this one. */
	struct host_cpu *cpu = soft_tlb_enter(&irq);
	cpu->flush_page++;
	soft_tlb_invlpg(cpu, va);
	arch_irq_restore(irq);
}

void arch_tlb_flush_pcid(uint16_t pcid)
{
	arch_irq_state_t irq;
	struct host_cpu *cpu = soft_tlb_enter(&irq);
	cpu->flush_pcid++;
	/* PCID off: one tag, 0, and the pcid argument means nothing (the kernel rewrites CR3,
	 * which drops every non-global entry: INVPCID type 1 of PCID 0 drops the same). */
	if (!soft_tlb_invpcid(cpu, HOST_INVPCID_SINGLE, cpu->tlb.pcide ? pcid : 0, 0))
		arch_panic("host: arch_tlb_flush_pcid with a PCID above 4095 (#GP)");
	arch_irq_restore(irq);
}

void arch_tlb_flush_all(void)
{
	arch_irq_state_t irq;
	struct host_cpu *cpu = soft_tlb_enter(&irq);
	cpu->flush_all++;
	soft_tlb_invpcid(cpu, HOST_INVPCID_ALL, 0, 0);
	arch_irq_restore(irq);
}

void arch_space_load(uintptr_t root_phys, uint16_t pcid, bool keep_tlb)
{
	arch_irq_state_t irq;
	struct host_cpu *cpu = soft_tlb_enter(&irq);
	cpu->space_loads++;
	if (!keep_tlb)
		cpu->flush_pcid++;
	soft_tlb_write_cr3(cpu, root_phys, pcid, keep_tlb);
	arch_irq_restore(irq);
}

uintptr_t arch_space_current(void)
{
	return host_cpus[arch_cpu_id()].cr3;
}

void host_tlb_counters(struct host_tlb_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < ARCH_MAX_CPUS; i++) {
		const struct host_cpu *c = &host_cpus[i];
		out->flush_page += c->flush_page;
		out->flush_pcid += c->flush_pcid;
		out->flush_all += c->flush_all;
		out->space_loads += c->space_loads;
		out->ipis_sent += c->ipis_sent;
		out->ipis_handled += c->ipis_handled;
	}
}
