/*
 * The software TLB: each simulated CPU's cache of translations and the instructions that
 * invalidate it (INVLPG, INVPCID, MOV CR3), modelled on Intel SDM vol. 3A, 4.10. The walk
 * that fills it and the access entry point are in mmu.c, the arch hooks in tlb.c.
 */
#include <arch/arch.h>
#include <arch/host/soft_tlb.h>
#include <arch/x86_64/pte.h>

#include <lib/assert.h>

#include <string.h>

#include "host_internal.h"

/* CR4.PCIDE of the whole machine; each CPU takes a change at its next TLB operation. */
static bool machine_pcid = true;

void host_set_pcid(bool on)
{
	__atomic_store_n(&machine_pcid, on, __ATOMIC_RELAXED);
}

bool arch_has_pcid(void)
{
	return __atomic_load_n(&machine_pcid, __ATOMIC_RELAXED);
}

/* ---- Entries -------------------------------------------------------------------------- */

static bool covers(const struct host_tlb_entry *e, uintptr_t va)
{
	return (va >> e->page_shift) == e->vpn;
}

static bool in_scope(const struct host_tlb_entry *e, const struct soft_tlb_scope *s)
{
	if (s->one_va && !covers(e, s->va))
		return false;
	if (e->global)
		return s->globals;
	return !s->one_pcid || e->pcid == s->pcid;
}

/* struct soft_tlb's invariants, checked in debug builds. */
static void check_entry(const struct soft_tlb *t, const struct host_tlb_entry *e)
{
	MM_ASSERT(e->page_shift == HOST_TLB_SHIFT_4K || e->page_shift == HOST_TLB_SHIFT_2M ||
	          e->page_shift == HOST_TLB_SHIFT_1G);
	MM_ASSERT((e->frame & ((1ull << e->page_shift) - 1)) == 0);
	MM_ASSERT(va_is_canonical(e->vpn << e->page_shift));
	MM_ASSERT(t->pcide || e->pcid == 0);
}

unsigned soft_tlb_drop(struct host_cpu *cpu, const struct soft_tlb_scope *scope,
                       enum host_tlb_drop_kind why)
{
	struct soft_tlb *t = &cpu->tlb;
	unsigned dropped = 0, left = 0;
	for (unsigned i = 0; i < HOST_TLB_ENTRIES; i++) {
		struct host_tlb_entry *e = &t->entry[i];
		if (e->valid && in_scope(e, scope)) {
			e->valid = false;
			dropped++;
		} else if (e->valid) {
			left++;
		}
	}
	/* An empty TLB starts over: the next fills evict the oldest entries first. */
	if (left == 0)
		t->cursor = 0;
	soft_tlb_count(&t->stats.dropped[why], dropped);
	return dropped;
}

static const struct soft_tlb_scope everything = {.globals = true};

void soft_tlb_reset(struct host_cpu *cpu)
{
	struct soft_tlb *t = &cpu->tlb;
	soft_tlb_drop(cpu, &everything, HOST_TLB_DROP_RESET);
	t->pcide = arch_has_pcid();
	cpu->pcid = 0;
	cpu->cr3 = 0;
}

/* Takes the machine's PCID mode if it changed since this CPU last looked. */
static void sync_mode(struct host_cpu *cpu)
{
	struct soft_tlb *t = &cpu->tlb;
	bool on = arch_has_pcid();
	if (t->pcide == on)
		return;
	/* The CR4 write that clears PCIDE drops everything (SDM 4.10.4.1). Setting it needs
	 * PCID 0 current, which it is while PCIDE is clear, and drops nothing: the entries
	 * are all tagged 0 and stay in use. */
	if (!on)
		soft_tlb_drop(cpu, &everything, HOST_TLB_DROP_RESET);
	t->pcide = on;
	cpu->pcid = 0;
}

struct host_cpu *soft_tlb_enter(arch_irq_state_t *irq)
{
	*irq = arch_irq_save();
	struct host_cpu *cpu = &host_cpus[arch_cpu_id()];
	sync_mode(cpu);
	return cpu;
}

struct host_tlb_entry *soft_tlb_lookup(struct host_cpu *cpu, uintptr_t va)
{
	struct soft_tlb *t = &cpu->tlb;
	for (unsigned i = 0; i < HOST_TLB_ENTRIES; i++) {
		struct host_tlb_entry *e = &t->entry[i];
		if (e->valid && covers(e, va) && (e->global || e->pcid == cpu->pcid)) {
			check_entry(t, e);
			return e;
		}
	}
	return NULL;
}

void soft_tlb_fill(struct host_cpu *cpu, const struct host_tlb_entry *e)
{
	struct soft_tlb *t = &cpu->tlb;
	MM_ASSERT(e->valid && e->pcid == cpu->pcid);
	check_entry(t, e);
	unsigned slot = HOST_TLB_ENTRIES;
	for (unsigned i = 0; i < HOST_TLB_ENTRIES && slot == HOST_TLB_ENTRIES; i++) {
		if (!t->entry[i].valid)
			slot = i;
	}
	if (slot == HOST_TLB_ENTRIES) {
		slot = t->cursor;
		t->cursor = (t->cursor + 1) % HOST_TLB_ENTRIES;
		soft_tlb_count(&t->stats.dropped[HOST_TLB_DROP_EVICT], 1);
	}
	t->entry[slot] = *e;
}

/* ---- Instructions --------------------------------------------------------------------- */

void soft_tlb_invlpg(struct host_cpu *cpu, uintptr_t va)
{
	/* Non-canonical: INVLPG is a no-op, and no entry covers such an address anyway. */
	struct soft_tlb_scope s = {
	    .one_va = true, .va = va, .one_pcid = true, .pcid = cpu->pcid, .globals = true};
	soft_tlb_drop(cpu, &s, HOST_TLB_DROP_INVLPG);
}

bool soft_tlb_invpcid(struct host_cpu *cpu, unsigned type, uint64_t pcid, uintptr_t va)
{
	if (type > HOST_INVPCID_ALL_NON_GLOBAL || pcid > SOFT_TLB_PCID_MAX)
		return false;
	bool per_pcid = type == HOST_INVPCID_ADDRESS || type == HOST_INVPCID_SINGLE;
	if (per_pcid && !cpu->tlb.pcide && pcid != 0)
		return false;
	if (type == HOST_INVPCID_ADDRESS && !va_is_canonical(va))
		return false;
	struct soft_tlb_scope s = {.one_va = type == HOST_INVPCID_ADDRESS,
	                           .va = va,
	                           .one_pcid = per_pcid,
	                           .pcid = (uint16_t)pcid,
	                           .globals = type == HOST_INVPCID_ALL};
	static const enum host_tlb_drop_kind kind[] = {
	    HOST_TLB_DROP_INVPCID_ADDRESS, HOST_TLB_DROP_INVPCID_SINGLE, HOST_TLB_DROP_INVPCID_ALL,
	    HOST_TLB_DROP_INVPCID_NON_GLOBAL};
	soft_tlb_drop(cpu, &s, kind[type]);
	return true;
}

void soft_tlb_write_cr3(struct host_cpu *cpu, uintptr_t root, uint16_t pcid, bool keep_tlb)
{
	struct soft_tlb *t = &cpu->tlb;
	if (root & (pt_span(1) - 1))
		arch_panic("host: CR3 write with an unaligned root (reserved bits: #GP)");
	if (t->pcide && pcid > SOFT_TLB_PCID_MAX)
		arch_panic("host: CR3 write with a PCID above 4095");
	cpu->cr3 = root;
	/* PCID off: CR3 has no PCID field and no no-flush bit; the current PCID stays 0. */
	cpu->pcid = t->pcide ? pcid : 0;
	if (t->pcide && keep_tlb)
		return;
	struct soft_tlb_scope s = {.one_pcid = true, .pcid = cpu->pcid};
	soft_tlb_drop(cpu, &s, HOST_TLB_DROP_CR3);
}

/* ---- Tests' view ---------------------------------------------------------------------- */

bool host_invpcid(unsigned type, uint64_t pcid, uintptr_t va)
{
	arch_irq_state_t irq;
	struct host_cpu *cpu = soft_tlb_enter(&irq);
	bool ok = soft_tlb_invpcid(cpu, type, pcid, va);
	arch_irq_restore(irq);
	return ok;
}

bool host_tlb_probe(uintptr_t va, struct host_tlb_entry *out)
{
	arch_irq_state_t irq;
	struct host_cpu *cpu = soft_tlb_enter(&irq);
	const struct host_tlb_entry *e = soft_tlb_lookup(cpu, va);
	if (e && out)
		*out = *e;
	arch_irq_restore(irq);
	return e != NULL;
}

unsigned host_tlb_snapshot(struct host_tlb_entry out[HOST_TLB_ENTRIES])
{
	arch_irq_state_t irq;
	struct host_cpu *cpu = soft_tlb_enter(&irq);
	unsigned n = 0;
	for (unsigned i = 0; i < HOST_TLB_ENTRIES; i++) {
		if (cpu->tlb.entry[i].valid)
			out[n++] = cpu->tlb.entry[i];
	}
	arch_irq_restore(irq);
	return n;
}

static void add_stats(struct host_tlb_stats *sum, const struct host_tlb_stats *c)
{
	sum->hits += __atomic_load_n(&c->hits, __ATOMIC_RELAXED);
	sum->misses += __atomic_load_n(&c->misses, __ATOMIC_RELAXED);
	sum->faults += __atomic_load_n(&c->faults, __ATOMIC_RELAXED);
	for (unsigned k = 0; k < HOST_TLB_DROP_KINDS; k++)
		sum->dropped[k] += __atomic_load_n(&c->dropped[k], __ATOMIC_RELAXED);
}

void host_tlb_stats(unsigned cpu, struct host_tlb_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (cpu < ARCH_MAX_CPUS)
		add_stats(out, &host_cpus[cpu].tlb.stats);
}

void host_tlb_stats_total(struct host_tlb_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned cpu = 0; cpu < ARCH_MAX_CPUS; cpu++)
		add_stats(out, &host_cpus[cpu].tlb.stats);
}
