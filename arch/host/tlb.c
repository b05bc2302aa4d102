/*
 * The TLB and CR3 hooks on the host. There is no MMU in front of the arena, so a flush has
 * nothing to drop: each hook records what it was asked, per CPU, so tests can check that
 * the generic code invalidates exactly what it must.
 */
#include <arch/arch.h>
#include <arch/host/machine.h>

#include <string.h>

#include "host_internal.h"

static struct host_cpu *self_cpu(void)
{
	return &host_cpus[arch_cpu_id()];
}

void arch_tlb_flush_page(uintptr_t va)
{
	self_cpu()->flush_page++;
}

void arch_tlb_flush_pcid(uint16_t pcid)
{
	self_cpu()->flush_pcid++;
}

void arch_tlb_flush_all(void)
{
	self_cpu()->flush_all++;
}

/* The host models PCID-tagged TLB entries (the software TLB of the SMP issue builds on
 * this), so it reports PCID support. */
bool arch_has_pcid(void)
{
	return true;
}

void arch_space_load(uintptr_t root_phys, uint16_t pcid, bool keep_tlb)
{
	struct host_cpu *cpu = self_cpu();
	cpu->cr3 = root_phys;
	cpu->pcid = pcid;
	cpu->space_loads++;
	if (!keep_tlb)
		cpu->flush_pcid++;
}

uintptr_t arch_space_current(void)
{
	return self_cpu()->cr3;
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
