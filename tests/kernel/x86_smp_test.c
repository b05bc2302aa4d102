/* Tests of the application processors: start-up, per-CPU identity, the runner, cross-CPU
 * calls and shootdowns reaching them, and the MMU probes. */
#include <stdint.h>

#include <arch/arch.h>
#include <arch/x86_64/apic.h>
#include <arch/x86_64/boot.h>
#include <arch/x86_64/cpu.h>
#include <arch/x86_64/features.h>
#include <arch/x86_64/percpu.h>
#include <arch/x86_64/smp.h>
#include <arch/x86_64/topology.h>
#include <arch/x86_64/tsc.h>
#include <lib/smp_call.h>
#include <mm/region.h>
#include <mm/vmm.h>
#include <mmtest/smp.h>
#include <mmtest/test.h>

#include "kernel/boot_topology.h"

/* What one CPU saw of itself. */
struct cpu_seen {
	unsigned id, node;
	uint32_t apic_id, cpuid_apic_id;
	uintptr_t self, gs_base;
	uint64_t cr0, cr4, efer, pat, star, lstar, fmask, cr3;
	bool irq_on;
};

static struct cpu_seen seen[ARCH_MAX_CPUS];

static void record_self(unsigned index, void *arg)
{
	struct cpu_seen *s = &((struct cpu_seen *)arg)[index];
	s->id = arch_cpu_id();
	s->node = x86_this_cpu()->node;
	s->apic_id = x86_apic_id();
	s->cpuid_apic_id = x86_cpuid_apic_id();
	s->self = (uintptr_t)x86_this_cpu();
	s->gs_base = x86_rdmsr(X86_MSR_GS_BASE);
	s->cr0 = x86_read_cr0();
	s->cr4 = x86_read_cr4();
	s->efer = x86_rdmsr(X86_MSR_EFER);
	s->pat = x86_features.pat ? x86_rdmsr(X86_MSR_PAT) : 0;
	s->star = x86_rdmsr(X86_MSR_STAR);
	s->lstar = x86_rdmsr(X86_MSR_LSTAR);
	s->fmask = x86_rdmsr(X86_MSR_FMASK);
	s->cr3 = x86_read_cr3();
	s->irq_on = x86_rflags() & X86_RFLAGS_IF;
}

/* Every CPU's view, index i on the i-th CPU mm_test_on_cpus chose (0: this one). */
static unsigned record_all(void)
{
	unsigned n = arch_cpu_count();
	for (unsigned i = 0; i < n; i++)
		seen[i] = (struct cpu_seen){.id = ~0u};
	mm_test_on_cpus(n, record_self, seen);
	return n;
}

TEST(x86_smp, every_listed_cpu_is_online)
{
	unsigned n = arch_cpu_count();
	EXPECT_EQ(n, x86_smp_cpus_wanted());
	EXPECT_EQ(mm_test_cpu_count(), n);
	/* What the MADT lists as enabled, the BSP included, unless cpus= capped it. */
	const struct x86_cpu_list *list = x86_topology_cpus();
	unsigned enabled = 0;
	for (unsigned i = 0; i < list->count; i++)
		enabled += list->cpu[i].enabled;
	EXPECT_LE(n, enabled);
	for (unsigned cpu = 0; cpu < n; cpu++)
		EXPECT_TRUE(arch_cpu_online(cpu));
	EXPECT_FALSE(arch_cpu_online(n));
}

TEST(x86_smp, each_cpu_has_its_own_identity)
{
	unsigned n = record_all();
	uint64_t ids[ARCH_MAX_CPUS / 64] = {0};
	const struct x86_cpu_list *list = x86_topology_cpus();
	for (unsigned i = 0; i < n; i++) {
		const struct cpu_seen *s = &seen[i];
		ASSERT_TRUE(s->id < n);
		EXPECT_EQ((ids[s->id / 64] >> (s->id % 64)) & 1, 0); /* each CPU once */
		ids[s->id / 64] |= 1ull << (s->id % 64);
		EXPECT_EQ(s->self, (uintptr_t)&x86_percpu[s->id]);
		EXPECT_EQ(s->gs_base, s->self);
		EXPECT_EQ(s->apic_id, x86_percpu[s->id].apic_id);
		EXPECT_EQ(s->apic_id, s->cpuid_apic_id);
		bool listed = false;
		for (unsigned c = 0; c < list->count; c++)
			listed |= list->cpu[c].enabled && list->cpu[c].apic_id == s->apic_id;
		EXPECT_TRUE(listed);
		for (unsigned j = 0; j < i; j++)
			EXPECT_NE(seen[j].apic_id, s->apic_id);
	}
	EXPECT_EQ(seen[0].id, arch_cpu_id()); /* index 0 runs on the caller */
}

TEST(x86_smp, every_cpu_runs_the_bootstrap_cpus_settings)
{
	unsigned n = record_all();
	const struct cpu_seen *bsp = &seen[0];
	uintptr_t kernel_root = mm_space_root(mm_kernel_space());
	for (unsigned i = 0; i < n; i++) {
		const struct cpu_seen *s = &seen[i];
		EXPECT_EQ(s->cr0, bsp->cr0);
		EXPECT_EQ(s->cr4, bsp->cr4);
		EXPECT_EQ(s->efer, bsp->efer);
		EXPECT_EQ(s->pat, bsp->pat);
		EXPECT_EQ(s->star, bsp->star);
		EXPECT_EQ(s->lstar, bsp->lstar);
		EXPECT_EQ(s->fmask, bsp->fmask);
		EXPECT_EQ(s->cr3 & X86_CR3_ADDR_MASK, kernel_root);
		EXPECT_TRUE(s->irq_on); /* work runs with interrupts enabled */
	}
	EXPECT_NE(bsp->cr0 & X86_CR0_WP, 0);
	if (x86_features.smap)
		EXPECT_NE(bsp->cr4 & X86_CR4_SMAP, 0);
}

TEST(x86_smp, cpu_nodes_follow_the_srat)
{
	unsigned n = record_all();
	const struct numa_info *numa = topology_numa();
	unsigned cpus_on_node[ARCH_MAX_NODES] = {0};
	for (unsigned i = 0; i < n; i++) {
		const struct cpu_seen *s = &seen[i];
		ASSERT_TRUE(s->id < n);
		EXPECT_EQ(s->node, arch_cpu_node(s->id));
		EXPECT_EQ(s->node, x86_topology_node_of_apic(s->apic_id));
		ASSERT_TRUE(s->node < arch_node_count());
		cpus_on_node[s->node]++;
		if (!numa->from_srat)
			continue;
		/* QEMU's SRAT lists every CPU it has: this one's entry names its node. */
		bool found = false;
		for (size_t c = 0; c < numa->cpu_count; c++) {
			if (numa->cpu[c].apic_id != s->apic_id)
				continue;
			found = true;
			EXPECT_EQ(s->node, numa->cpu[c].node);
		}
		EXPECT_TRUE(found);
	}
	/* With every CPU started, every node the SRAT gives a CPU has one online. */
	if (numa->from_srat && n == x86_smp_cpus_wanted() && n == x86_topology_cpus()->count)
		for (size_t c = 0; c < numa->cpu_count; c++)
			EXPECT_GE(cpus_on_node[numa->cpu[c].node], 1);
}

/* ---- The runner --------------------------------------------------------------------- */

struct run_record {
	unsigned cpu;
	bool irq_on;
	unsigned runs;
};

static void note_run(void *arg)
{
	struct run_record *r = arg;
	r->cpu = arch_cpu_id();
	r->irq_on = x86_rflags() & X86_RFLAGS_IF;
	r->runs++;
}

TEST(x86_smp, runner_runs_work_on_each_ap_and_waits)
{
	unsigned n = arch_cpu_count();
	for (unsigned cpu = 0; cpu < n; cpu++) {
		if (cpu == arch_cpu_id())
			continue;
		struct run_record r = {~0u, false, 0};
		ASSERT_TRUE(x86_cpu_run(cpu, note_run, &r));
		x86_cpu_wait(cpu);
		EXPECT_EQ(r.cpu, cpu);
		EXPECT_TRUE(r.irq_on);
		EXPECT_EQ(r.runs, 1);
	}
}

TEST(x86_smp, runner_refuses_self_offline_and_out_of_range)
{
	struct run_record r = {~0u, false, 0};
	EXPECT_FALSE(x86_cpu_run(arch_cpu_id(), note_run, &r));
	EXPECT_FALSE(x86_cpu_run(arch_cpu_count(), note_run, &r));
	EXPECT_FALSE(x86_cpu_run(ARCH_MAX_CPUS, note_run, &r));
	EXPECT_FALSE(x86_cpu_run(~0u, note_run, &r));
	EXPECT_EQ(r.runs, 0);
	x86_cpu_wait(arch_cpu_count()); /* nothing to wait for: returns at once */
}

struct hold {
	uint32_t go;
	uint32_t entered;
};

/* Stays busy until told to go (or for a second: the test must not hang). */
static void hold_cpu(void *arg)
{
	struct hold *h = arg;
	__atomic_store_n(&h->entered, 1, __ATOMIC_RELEASE);
	uint64_t start = x86_rdtsc(), limit = x86_tsc_cycles_for_us(1000000);
	while (!__atomic_load_n(&h->go, __ATOMIC_ACQUIRE) && x86_rdtsc() - start < limit)
		arch_cpu_relax();
}

TEST(x86_smp, runner_refuses_a_busy_cpu)
{
	if (arch_cpu_count() < 2)
		return;
	unsigned cpu = arch_cpu_id() == 1 ? 0 : 1;
	struct hold h = {0, 0};
	struct run_record r = {~0u, false, 0};
	ASSERT_TRUE(x86_cpu_run(cpu, hold_cpu, &h));
	EXPECT_FALSE(x86_cpu_run(cpu, note_run, &r));
	__atomic_store_n(&h.go, 1, __ATOMIC_RELEASE);
	x86_cpu_wait(cpu);
	EXPECT_EQ(h.entered, 1);
	EXPECT_EQ(r.runs, 0);
	ASSERT_TRUE(x86_cpu_run(cpu, note_run, &r));
	x86_cpu_wait(cpu);
	EXPECT_EQ(r.runs, 1);
}

static void index_once(unsigned index, void *arg)
{
	__atomic_fetch_add(&((uint32_t *)arg)[index], 1, __ATOMIC_RELAXED);
}

TEST(x86_smp, on_cpus_runs_each_index_once_for_every_n)
{
	static uint32_t hits[ARCH_MAX_CPUS];
	unsigned count = arch_cpu_count();
	for (unsigned n = 1; n <= count; n++) {
		for (unsigned i = 0; i < count; i++)
			hits[i] = 0;
		mm_test_on_cpus(n, index_once, hits);
		for (unsigned i = 0; i < count; i++)
			EXPECT_EQ(hits[i], i < n ? 1 : 0);
	}
}

/* ---- Cross-CPU calls and shootdowns reach the APs -------------------------------------- */

static uint32_t call_hits[ARCH_MAX_CPUS];

static void count_call(void *arg)
{
	(void)arg;
	__atomic_fetch_add(&call_hits[arch_cpu_id()], 1, __ATOMIC_RELAXED);
}

TEST(x86_smp, cross_cpu_call_reaches_every_cpu)
{
	unsigned n = arch_cpu_count();
	for (unsigned i = 0; i < n; i++)
		call_hits[i] = 0;
	/* Twice: the APs sleep in hlt the first time, and the IPI must wake them both times. */
	for (int round = 0; round < 2; round++) {
		arch_irq_state_t st = arch_irq_save();
		smp_call_all(count_call, NULL);
		arch_irq_restore(st);
	}
	for (unsigned i = 0; i < n; i++)
		EXPECT_EQ(call_hits[i], 2);
}

struct probe_job {
	uintptr_t va;
	uint64_t value[ARCH_MAX_CPUS];
	bool ok[ARCH_MAX_CPUS];
};

static void probe_on_cpu(unsigned index, void *arg)
{
	struct probe_job *j = arg;
	j->ok[index] = mm_test_probe_read(j->va, &j->value[index]);
}

TEST(x86_smp, kernel_unmap_is_shot_down_on_every_cpu)
{
	static struct probe_job job;
	unsigned n = arch_cpu_count();
	mm_space_t k = mm_kernel_space();
	uintptr_t va = vmalloc(k, MM_KERNEL_MAP_BASE, MM_KERNEL_MAP_END, 1, MM_PAGE_WRITE);
	ASSERT_NE(va, MM_NADDR);
	*(volatile uint64_t *)va = 0x5EED5EEDull;
	job.va = va;
	/* Every CPU reads it, so every TLB may now hold the translation. */
	mm_test_on_cpus(n, probe_on_cpu, &job);
	for (unsigned i = 0; i < n; i++) {
		EXPECT_TRUE(job.ok[i]);
		EXPECT_EQ(job.value[i], 0x5EED5EEDull);
	}
	ASSERT_EQ(vmfree(k, va, 1), 0);
	/* Without the shootdown reaching them, the APs would still read the freed frame. */
	mm_test_on_cpus(n, probe_on_cpu, &job);
	for (unsigned i = 0; i < n; i++)
		EXPECT_FALSE(job.ok[i]);
}

/* ---- Probes -------------------------------------------------------------------------------- */

static const uint64_t read_only_word = 0x0123456789ABCDEFull;

TEST(x86_smp, probe_kernel_addresses)
{
	static uint64_t word = 0xFEEDull;
	uint64_t v = 0;
	EXPECT_TRUE(mm_test_probe_read((uintptr_t)&word, &v));
	EXPECT_EQ(v, 0xFEEDull);
	EXPECT_TRUE(mm_test_probe_write((uintptr_t)&word, 0xBEEFull));
	EXPECT_EQ(word, 0xBEEFull);

	v = 7;
	EXPECT_FALSE(mm_test_probe_read((uintptr_t)boot_stack_guard, &v)); /* not mapped */
	EXPECT_EQ(v, 7);
	EXPECT_FALSE(mm_test_probe_write((uintptr_t)boot_stack_guard, 1));
	EXPECT_TRUE(mm_test_probe_read((uintptr_t)&read_only_word, &v));
	EXPECT_EQ(v, read_only_word);
	EXPECT_FALSE(mm_test_probe_write((uintptr_t)&read_only_word, 0)); /* read-only */
	EXPECT_EQ(read_only_word, 0x0123456789ABCDEFull);
	/* Non-canonical: #GP, not #PF. */
	EXPECT_FALSE(mm_test_probe_read(0x0000800000000000ull, &v));
	EXPECT_FALSE(mm_test_probe_write(0xFFFF000000000000ull, 0));
}

TEST(x86_smp, probe_user_addresses)
{
	uint64_t v = 0;
	/* The kernel space maps nothing in the user half. */
	EXPECT_FALSE(mm_test_probe_read(0x400000, &v));
	EXPECT_FALSE(mm_test_probe_write(0x400000, 1));

	mm_space_t space = mm_create_space(NULL);
	ASSERT_TRUE(space != NULL);
	const uintptr_t rw = 0x400000, ro = 0x401000, lazy = 0x10000000;
	EXPECT_EQ(mm_map_range(space, rw, 4096, MM_FLG_WR | MM_FLG_US), rw);
	EXPECT_EQ(mm_map_range(space, ro, 4096, MM_FLG_US), ro);
	struct mm_region_spec spec = {
	    .start = lazy, .length = 4096, .flags = MM_FLG_WR | MM_FLG_US | MM_REGION_FIXED};
	EXPECT_EQ(mm_region_map(space, &spec), lazy);
	mm_set(space);
	EXPECT_TRUE(mm_test_probe_write(rw, 0xABCDull));
	EXPECT_TRUE(mm_test_probe_read(rw, &v));
	EXPECT_EQ(v, 0xABCDull);
	EXPECT_TRUE(mm_test_probe_read(ro, &v));
	EXPECT_EQ(v, 0);
	EXPECT_FALSE(mm_test_probe_write(ro, 1));
	/* Demand-zero but not yet touched: the probe fails, and calls no mm_fault. */
	EXPECT_FALSE(mm_test_probe_read(lazy, &v));
	mm_set(mm_kernel_space());
	EXPECT_EQ(mm_translate(space, lazy, NULL), MM_NADDR);
	/* SMAP is back on after the probes. */
	EXPECT_EQ(x86_rflags() & X86_RFLAGS_AC, 0);
	mm_destroy_space(space);
}

static void probe_faults_on_cpu(unsigned index, void *arg)
{
	uint64_t v;
	bool *ok = arg;
	ok[index] = !mm_test_probe_read((uintptr_t)boot_stack_guard, &v) &&
	            !mm_test_probe_read(0x0000800000000000ull, &v) &&
	            mm_test_probe_read((uintptr_t)&read_only_word, &v) && v == read_only_word;
}

TEST(x86_smp, probes_work_on_every_cpu)
{
	static bool ok[ARCH_MAX_CPUS];
	unsigned n = arch_cpu_count();
	mm_test_on_cpus(n, probe_faults_on_cpu, ok);
	for (unsigned i = 0; i < n; i++)
		EXPECT_TRUE(ok[i]);
}

TEST(x86_smp, ap_stacks_never_overflowed)
{
	/* The APs' stack bottoms are still as painted after all the work above (smp_boot.c). */
	for (unsigned cpu = 0; cpu < arch_cpu_count(); cpu++)
		EXPECT_TRUE(x86_smp_stack_intact(cpu));
}
