/*
 * Proof that the hardware paths the design is for ran, not only that nothing failed: on a
 * CPU with PCID, switches keep the entries of the spaces switched away from; with INVPCID,
 * a whole-PCID flush is an INVPCID; with x2APIC, IPIs go through its MSR. Each test fails
 * when the CPU has the feature and the code fell back, and checks the fallback where it
 * does not (QEMU TCG has none of the three; Bochs's corei7_skylake_x has them all).
 */
#include <stdint.h>

#include <arch/arch.h>
#include <arch/x86_64/features.h>
#include <arch/x86_64/percpu.h>
#include <mm/phys.h>
#include <mm/vmm.h>
#include <mmtest/test.h>

#include "tests/suites/fixtures.h"

#define HW_VA ((uintptr_t)0x0000500000000000ull)

static struct x86_path_counts paths_now(void)
{
	struct x86_path_counts c;
	x86_path_counts_sum(&c);
	return c;
}

TEST_F(leak_checked, hw_paths, pcid_switches_keep_the_entries_when_the_cpu_has_it)
{
	mm_space_t a = test_space(t), b = test_space(t);
	ASSERT_NE((uintptr_t)a, 0);
	ASSERT_NE((uintptr_t)b, 0);
	struct mm_tlb_stats before, after;
	mm_tlb_get_stats(&before);
	bool want_pcid = x86_features.pcid && !x86_features.pcid_refused;
	EXPECT_EQ(x86_features.pcid_on, want_pcid);
	EXPECT_EQ(before.pcid, want_pcid);
	/* a, b, a, b ...: with PCIDs every switch back finds its space's entries still tagged. */
	for (int i = 0; i < 8; i++)
		mm_set(i % 2 ? b : a);
	mm_set(mm_kernel_space());
	mm_tlb_get_stats(&after);
	EXPECT_GE(after.switches - before.switches, 9);
	if (want_pcid)
		EXPECT_GE(after.switches_kept - before.switches_kept, 6);
	else
		EXPECT_EQ(after.switches_kept, before.switches_kept);
}

TEST_F(leak_checked, hw_paths, a_large_flush_uses_invpcid_when_the_cpu_has_it)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	/* Far beyond what vmm/tlb.c flushes page by page (TLB_FLUSH_CEILING, 32 pages). */
	const size_t pages = 512;
	ASSERT_EQ(mm_map_range(s, HW_VA, pages * MM_PAGE_SIZE, MM_FLG_WR), HW_VA);
	mm_set(s);
	struct x86_path_counts before = paths_now();
	struct mm_tlb_stats stats_before, stats_after;
	mm_tlb_get_stats(&stats_before);
	EXPECT_EQ(mm_umap_range(s, HW_VA, pages * MM_PAGE_SIZE, 0), MM_OK);
	mm_tlb_get_stats(&stats_after);
	struct x86_path_counts after = paths_now();
	mm_set(mm_kernel_space());
	/* The running space's whole PCID went, once. */
	EXPECT_GE(stats_after.flush_pcid - stats_before.flush_pcid, 1);
	if (x86_features.pcid_on && x86_features.invpcid) {
		EXPECT_GE(after.invpcid - before.invpcid, 1);
		EXPECT_EQ(after.cr3_flushes, before.cr3_flushes); /* no fallback */
	} else {
		EXPECT_EQ(after.invpcid, before.invpcid);
		EXPECT_GE(after.cr3_flushes - before.cr3_flushes, 1);
	}
}

TEST_F(leak_checked, hw_paths, a_small_flush_is_invlpg)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_EQ(mm_map_range(s, HW_VA, 2 * MM_PAGE_SIZE, MM_FLG_WR), HW_VA);
	mm_set(s);
	struct x86_path_counts before = paths_now();
	EXPECT_EQ(mm_umap_range(s, HW_VA, 2 * MM_PAGE_SIZE, 0), MM_OK);
	struct x86_path_counts after = paths_now();
	mm_set(mm_kernel_space());
	EXPECT_GE(after.invlpg - before.invlpg, 2);
	EXPECT_EQ(after.invpcid, before.invpcid);
	EXPECT_EQ(after.cr3_flushes, before.cr3_flushes);
}

TEST(hw_paths, ipis_use_the_x2apic_msr_when_the_cpu_has_it)
{
	if (arch_cpu_count() < 2)
		return; /* no other CPU to interrupt */
	struct x86_path_counts before = paths_now();
	/* A cross-CPU call to every other CPU: one IPI each at least. */
	mm_phys_drain_caches();
	struct x86_path_counts after = paths_now();
	uint64_t x2apic = after.x2apic_ipis - before.x2apic_ipis;
	uint64_t xapic = after.xapic_ipis - before.xapic_ipis;
	if (x86_features.x2apic) {
		EXPECT_GE(x2apic, arch_cpu_count() - 1);
		EXPECT_EQ(xapic, 0);
	} else {
		EXPECT_GE(xapic, arch_cpu_count() - 1);
		EXPECT_EQ(x2apic, 0);
	}
}
