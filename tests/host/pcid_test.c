/*
 * Host-only: the PCID scheme (vmm/pcid.c) seen through the software TLB
 * (arch/host/soft_tlb.h), where entries really stay cached under their PCID: a switch that
 * keeps them saves the refills, a CPU that left a space is flushed lazily on its return,
 * and turning PCID off gives the same results with more refills.
 */
#include <arch/host/machine.h>
#include <arch/host/soft_tlb.h>
#include <mm/vmm.h>
#include <mmtest/smp.h>
#include <mmtest/test.h>

#include <lib/print.h>

#include "../suites/user_access.h"

#define VA ((uintptr_t)0x0000310000000000ull)
#define PAGES 8
#define ROUNDS 10

static uint64_t misses_of_this_cpu(void)
{
	struct host_tlb_stats s;
	host_tlb_stats(arch_cpu_id(), &s);
	return s.misses;
}

static bool touch_all(void)
{
	for (unsigned p = 0; p < PAGES; p++) {
		uint64_t v;
		if (!mm_test_probe_read(VA + p * MM_PAGE_SIZE, &v) || v != p)
			return false;
	}
	return true;
}

static mm_space_t space_with_pages(void)
{
	mm_space_t s = mm_create_space(NULL);
	if (!s || mm_map_range(s, VA, PAGES * MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US) != VA)
		return NULL;
	for (unsigned p = 0; p < PAGES; p++)
		if (user_write64(s, VA + p * MM_PAGE_SIZE, p) != MM_OK)
			return NULL;
	return s;
}

/* Refills while touching the pages of a, then b, then ROUNDS more times both. *kept: the
 * switches of those rounds that kept the entries. */
static uint64_t refills_switching(struct mm_test_ctx *t, mm_space_t a, mm_space_t b, uint64_t *kept)
{
	uint64_t before = misses_of_this_cpu();
	mm_set(a);
	EXPECT_TRUE(touch_all());
	mm_set(b);
	EXPECT_TRUE(touch_all());
	struct mm_tlb_stats s0, s1;
	mm_tlb_get_stats(&s0);
	for (unsigned round = 0; round < ROUNDS; round++) {
		mm_set(a);
		EXPECT_TRUE(touch_all());
		mm_set(b);
		EXPECT_TRUE(touch_all());
	}
	mm_tlb_get_stats(&s1);
	mm_set(mm_kernel_space());
	*kept = s1.switches_kept - s0.switches_kept;
	return misses_of_this_cpu() - before;
}

TEST(host_pcid, switching_keeps_the_other_space_entries)
{
	mm_space_t a = space_with_pages(), b = space_with_pages();
	ASSERT_NE((uintptr_t)a, 0);
	ASSERT_NE((uintptr_t)b, 0);
	uint64_t kept_with, kept_without;
	/* With PCIDs each page is walked once; every later switch keeps its entries. */
	uint64_t with_pcid = refills_switching(t, a, b, &kept_with);
	EXPECT_EQ(with_pcid, 2 * PAGES);
	EXPECT_EQ(kept_with, 2 * ROUNDS);

	/* Without, every switch drops them: the same accesses walk every time. */
	host_set_pcid(false);
	uint64_t without_pcid = refills_switching(t, a, b, &kept_without);
	host_set_pcid(true);
	EXPECT_EQ(without_pcid, 2 * PAGES * (ROUNDS + 1));
	EXPECT_EQ(kept_without, 0);
	lib_printf("    refills for %u switches: %llu with PCID, %llu without (%llu avoided)\n",
	           2 * (ROUNDS + 1), (unsigned long long)with_pcid, (unsigned long long)without_pcid,
	           (unsigned long long)(without_pcid - with_pcid));
	mm_destroy_space(a);
	mm_destroy_space(b);
}

/* ---- Lazy flush: a CPU that switched away is not interrupted, and flushes on return ---- */

struct lazy {
	mm_space_t a, b;
	unsigned step; /* 1: CPU 1 cached A and moved to B; 2: A's page was unmapped */
	bool ipi_sent, fault_on_return;
};

static void lazy_cpu(unsigned index, void *arg)
{
	struct lazy *l = arg;
	if (index == 0) {
		while (__atomic_load_n(&l->step, __ATOMIC_ACQUIRE) < 1)
			arch_cpu_relax();
		struct host_tlb_counters before, after;
		host_tlb_counters(&before);
		mm_umap_range(l->a, VA, MM_PAGE_SIZE, 0);
		host_tlb_counters(&after);
		/* Nobody runs A: no IPI at all. */
		l->ipi_sent = after.ipis_sent != before.ipis_sent;
		__atomic_store_n(&l->step, 2, __ATOMIC_RELEASE);
		return;
	}
	mm_set(l->a);
	uint64_t v;
	mm_test_probe_read(VA, &v);
	mm_set(l->b); /* A's entry stays cached under A's PCID */
	__atomic_store_n(&l->step, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&l->step, __ATOMIC_ACQUIRE) < 2)
		arch_cpu_relax();
	mm_set(l->a);
	l->fault_on_return = !mm_test_probe_read(VA, &v);
	mm_set(mm_kernel_space());
}

TEST(host_pcid, a_cpu_that_left_is_flushed_when_it_returns)
{
	struct lazy l = {space_with_pages(), space_with_pages(), 0, false, false};
	ASSERT_NE((uintptr_t)l.a, 0);
	ASSERT_NE((uintptr_t)l.b, 0);
	mm_test_on_cpus(2, lazy_cpu, &l);
	EXPECT_FALSE(l.ipi_sent);
	EXPECT_TRUE(l.fault_on_return);
	mm_destroy_space(l.a);
	mm_destroy_space(l.b);
}

/* The model is a real cache: the same return without the generation check would hit. */
TEST(host_pcid, the_entry_is_cached_until_the_return_flushes_it)
{
	mm_space_t a = space_with_pages(), b = space_with_pages();
	ASSERT_NE((uintptr_t)a, 0);
	ASSERT_NE((uintptr_t)b, 0);
	mm_set(a);
	ASSERT_TRUE(touch_all());
	mm_set(b);
	/* Under B's PCID A's entry is not used, but it is still in the TLB. */
	struct host_tlb_entry entries[HOST_TLB_ENTRIES];
	unsigned n = host_tlb_snapshot(entries), cached = 0;
	for (unsigned i = 0; i < n; i++)
		cached += entries[i].vpn == (VA >> 12) && !entries[i].global;
	EXPECT_GE(cached, 1);
	mm_set(mm_kernel_space());
	mm_destroy_space(a);
	mm_destroy_space(b);
}
