/*
 * Host-only: known answers for the software TLB (arch/host/soft_tlb.h), so that what the
 * PCID and shootdown tests prove through it rests on a model that behaves as the SDM says.
 *
 * Each case runs on a fresh thread, which takes a CPU of its own (empty TLB, no space) and
 * loads page tables built here by hand, so that no shootdown of the memory manager touches
 * its TLB while it checks what is cached. Leaf frames are only numbers: nothing is read
 * through them. The last case goes through the memory manager's API instead.
 */
#include <arch/arch.h>
#include <arch/host/machine.h>
#include <arch/host/soft_tlb.h>
#include <arch/x86_64/pt_walk.h>
#include <arch/x86_64/pte.h>
#include <mm/phys.h>
#include <mm/vmm.h>
#include <mmtest/test.h>

#include <pthread.h>
#include <string.h>

/* User addresses; B and C share A's page table, D..F sit in other PML4 slots. */
#define VA_A ((uintptr_t)0x0000100000000000ull)
#define VA_B (VA_A + 0x1000)
#define VA_G (VA_A + 0x2000) /* mapped global */
#define VA_2M ((uintptr_t)0x0000100000200000ull)
#define VA_1G ((uintptr_t)0x0000100040000000ull)
#define VA_NO_W ((uintptr_t)0x0000100080000000ull)    /* W clear in its PDPT entry */
#define VA_NO_U ((uintptr_t)0x0000200000000000ull)    /* U clear in its PML4 entry */
#define VA_PS_PML4 ((uintptr_t)0x0000300000000000ull) /* PS set in its PML4 entry */

/* Frames: any aligned numbers will do. */
#define FRAME(n) ((uint64_t)0x10000000ull + (uint64_t)(n)*0x1000)
#define FRAME_2M ((uint64_t)0x40000000ull + (2ull << 20))
#define FRAME_1G ((uint64_t)0x80000000ull)

#define LEAF (PTE_P | PTE_W | PTE_U)

/* ---- Page tables by hand ------------------------------------------------------------ */

#define MAX_TABLES 32

struct tables {
	uintptr_t root;
	uintptr_t table[MAX_TABLES];
	unsigned n;
};

static uintptr_t new_table(struct tables *tb)
{
	if (tb->n == MAX_TABLES)
		return MM_NADDR;
	uintptr_t p = mm_phys_alloc_page();
	if (p == MM_NADDR)
		return MM_NADDR;
	memset(MM_VIRTUALIZE(p), 0, MM_PAGE_SIZE);
	tb->table[tb->n++] = p;
	return p;
}

static void free_tables(struct tables *tb)
{
	for (unsigned i = 0; i < tb->n; i++)
		mm_phys_free_page(tb->table[i]);
	tb->n = 0;
}

/* The entry for va at `level`, with the tables above it made (present, W, U) as needed;
 * NULL when no frame is left. */
static pte_t *slot(struct tables *tb, uintptr_t va, int level)
{
	uint64_t table = tb->root;
	for (int l = PT_LEVELS; l > level; l--) {
		pte_t *e = &pt_table(table)[pt_index(va, l)];
		if (!pte_present(*e)) {
			uintptr_t child = new_table(tb);
			if (child == MM_NADDR)
				return NULL;
			__atomic_store_n(e, pte_make_table(child, true), __ATOMIC_RELEASE);
		}
		table = pte_addr(*e);
	}
	return &pt_table(table)[pt_index(va, level)];
}

/* Writes an entry behind the TLB's back: no flush. */
static bool set_entry(struct tables *tb, uintptr_t va, int level, pte_t value)
{
	pte_t *e = slot(tb, va, level);
	if (e)
		__atomic_store_n(e, value, __ATOMIC_RELEASE);
	return e != NULL;
}

static bool map4k(struct tables *tb, uintptr_t va, uint64_t frame, uint64_t flags)
{
	return set_entry(tb, va, 1, pte_make(frame, flags));
}

/* ---- Running a case on a CPU of its own -------------------------------------------- */

typedef void (*case_fn)(struct mm_test_ctx *t, struct tables *tb);

struct job {
	struct mm_test_ctx *t;
	case_fn fn;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	struct mm_test_ctx *t = j->t;
	struct tables tb = {0};
	tb.root = new_table(&tb);
	/* A fresh CPU: nothing cached, the kernel space loaded (mm_cpu_online). */
	struct host_tlb_entry e[HOST_TLB_ENTRIES];
	EXPECT_EQ(host_tlb_snapshot(e), 0);
	EXPECT_EQ(arch_space_current(), mm_space_root(mm_kernel_space()));
	EXPECT_NE(tb.root, MM_NADDR);
	if (tb.root != MM_NADDR)
		j->fn(t, &tb);
	host_set_pcid(true);
	free_tables(&tb);
	return NULL;
}

static void on_fresh_cpu(struct mm_test_ctx *t, case_fn fn)
{
	struct job j = {t, fn};
	pthread_t thread;
	ASSERT_EQ(pthread_create(&thread, NULL, run_job, &j), 0);
	pthread_join(thread, NULL);
}

/* ---- Helpers ------------------------------------------------------------------------ */

/* The physical address a supervisor read of va gives, or MM_NADDR for a fault. */
static uintptr_t rd(uintptr_t va)
{
	uintptr_t phys;
	return host_mmu_access(va, false, false, &phys) ? phys : MM_NADDR;
}

static struct host_tlb_stats stats(void)
{
	struct host_tlb_stats s;
	host_tlb_stats(arch_cpu_id(), &s);
	return s;
}

/* How many valid entries cover va with this tag and globalness. */
static unsigned cached(uintptr_t va, uint16_t pcid, bool global)
{
	struct host_tlb_entry e[HOST_TLB_ENTRIES];
	unsigned n = host_tlb_snapshot(e), found = 0;
	for (unsigned i = 0; i < n; i++)
		found += (va >> e[i].page_shift) == e[i].vpn && e[i].pcid == pcid && e[i].global == global;
	return found;
}

static unsigned cached_count(void)
{
	struct host_tlb_entry e[HOST_TLB_ENTRIES];
	return host_tlb_snapshot(e);
}

/* A, B non-global and G global, cached under PCID 1; A also under PCID 2, current. */
static bool fill_mixed(struct mm_test_ctx *t, struct tables *tb)
{
	if (!map4k(tb, VA_A, FRAME(1), LEAF) || !map4k(tb, VA_B, FRAME(2), LEAF) ||
	    !map4k(tb, VA_G, FRAME(3), LEAF | PTE_G))
		return false;
	arch_space_load(tb->root, 1, false);
	bool ok = rd(VA_A) == FRAME(1) && rd(VA_B) == FRAME(2) && rd(VA_G) == FRAME(3);
	arch_space_load(tb->root, 2, true);
	ok = ok && rd(VA_A) == FRAME(1);
	EXPECT_EQ(cached(VA_A, 1, false), 1);
	EXPECT_EQ(cached(VA_B, 1, false), 1);
	EXPECT_EQ(cached(VA_G, 1, true), 1);
	EXPECT_EQ(cached(VA_A, 2, false), 1);
	EXPECT_EQ(cached_count(), 4);
	return ok;
}

/* ---- Fill and hit ------------------------------------------------------------------- */

static void fill_then_hit(struct mm_test_ctx *t, struct tables *tb)
{
	ASSERT_TRUE(map4k(tb, VA_A, FRAME(1), LEAF));
	/* G means something in a leaf only: set above, it must not make the entry global. */
	ASSERT_TRUE(set_entry(tb, VA_A, 2, *slot(tb, VA_A, 2) | PTE_G));
	arch_space_load(tb->root, 1, false);
	struct host_tlb_stats s0 = stats();
	EXPECT_EQ(rd(VA_A + 0x123), FRAME(1) + 0x123);
	struct host_tlb_stats s1 = stats();
	EXPECT_EQ(s1.misses - s0.misses, 1);
	EXPECT_EQ(s1.hits - s0.hits, 0);
	EXPECT_EQ(rd(VA_A + 0xFF8), FRAME(1) + 0xFF8);
	struct host_tlb_stats s2 = stats();
	EXPECT_EQ(s2.misses - s1.misses, 0);
	EXPECT_EQ(s2.hits - s1.hits, 1);

	struct host_tlb_entry e;
	ASSERT_TRUE(host_tlb_probe(VA_A + 0x10, &e));
	EXPECT_EQ(e.vpn, VA_A >> 12);
	EXPECT_EQ(e.frame, FRAME(1));
	EXPECT_EQ(e.pcid, 1);
	EXPECT_EQ(e.page_shift, HOST_TLB_SHIFT_4K);
	EXPECT_TRUE(e.writable && e.user && !e.global);
	EXPECT_EQ(cached_count(), 1);
	/* The neighbour page is not mapped: a fault, and nothing cached for it. */
	EXPECT_EQ(rd(VA_B), MM_NADDR);
	EXPECT_EQ(stats().faults - s2.faults, 1);
	EXPECT_EQ(cached_count(), 1);
	/* Interrupts stay as the caller had them. */
	arch_irq_state_t irq = arch_irq_save();
	EXPECT_EQ(rd(VA_A), FRAME(1));
	EXPECT_EQ(host_irq_disabled, 1);
	arch_irq_restore(irq);
}

TEST(host_soft_tlb, fill_then_hit)
{
	on_fresh_cpu(t, fill_then_hit);
}

/* The model is a TLB, not a walk in disguise: a changed entry is not seen until flushed. */
static void stale_entry_is_used_until_flushed(struct mm_test_ctx *t, struct tables *tb)
{
	ASSERT_TRUE(map4k(tb, VA_A, FRAME(1), LEAF));
	arch_space_load(tb->root, 1, false);
	EXPECT_EQ(rd(VA_A), FRAME(1));
	ASSERT_TRUE(map4k(tb, VA_A, FRAME(2), LEAF));
	EXPECT_EQ(rd(VA_A), FRAME(1));
	arch_tlb_flush_page(VA_A);
	EXPECT_EQ(rd(VA_A), FRAME(2));
	/* The same for an entry cleared: the access goes on working until the flush. */
	ASSERT_TRUE(set_entry(tb, VA_A, 1, 0));
	EXPECT_EQ(rd(VA_A), FRAME(2));
	arch_tlb_flush_page(VA_A);
	EXPECT_EQ(rd(VA_A), MM_NADDR);
}

TEST(host_soft_tlb, stale_entry_is_used_until_flushed)
{
	on_fresh_cpu(t, stale_entry_is_used_until_flushed);
}

/* ---- INVLPG ------------------------------------------------------------------------- */

static void invlpg_drops_its_page_in_the_current_pcid_and_globals(struct mm_test_ctx *t,
                                                                  struct tables *tb)
{
	ASSERT_TRUE(fill_mixed(t, tb));
	struct host_tlb_stats s0 = stats();
	struct host_tlb_counters c0, c1;
	host_tlb_counters(&c0);
	/* Current PCID 2: A's entry of PCID 2 goes, PCID 1's stays. */
	arch_tlb_flush_page(VA_A + 0x800);
	EXPECT_EQ(stats().dropped[HOST_TLB_DROP_INVLPG] - s0.dropped[HOST_TLB_DROP_INVLPG], 1);
	EXPECT_EQ(cached(VA_A, 2, false), 0);
	EXPECT_EQ(cached(VA_A, 1, false), 1);
	EXPECT_FALSE(host_tlb_probe(VA_A, NULL));
	/* B is cached only under PCID 1: untouched from PCID 2. */
	arch_tlb_flush_page(VA_B);
	EXPECT_EQ(cached(VA_B, 1, false), 1);
	/* A global entry goes whatever its tag. */
	arch_tlb_flush_page(VA_G);
	EXPECT_EQ(cached(VA_G, 1, true), 0);
	EXPECT_EQ(stats().dropped[HOST_TLB_DROP_INVLPG] - s0.dropped[HOST_TLB_DROP_INVLPG], 2);
	EXPECT_EQ(cached_count(), 2);
	host_tlb_counters(&c1);
	EXPECT_EQ(c1.flush_page - c0.flush_page, 3);
	/* Back in PCID 1, A and B are still there: hits. */
	arch_space_load(tb->root, 1, true);
	struct host_tlb_stats s1 = stats();
	EXPECT_EQ(rd(VA_A), FRAME(1));
	EXPECT_EQ(rd(VA_B), FRAME(2));
	EXPECT_EQ(stats().hits - s1.hits, 2);
	EXPECT_EQ(stats().misses - s1.misses, 0);
}

TEST(host_soft_tlb, invlpg_drops_its_page_in_the_current_pcid_and_globals)
{
	on_fresh_cpu(t, invlpg_drops_its_page_in_the_current_pcid_and_globals);
}

/* ---- INVPCID ------------------------------------------------------------------------ */

static uint64_t dropped_by(enum host_tlb_drop_kind kind, const struct host_tlb_stats *before)
{
	return stats().dropped[kind] - before->dropped[kind];
}

static void invpcid_individual_address(struct mm_test_ctx *t, struct tables *tb)
{
	ASSERT_TRUE(fill_mixed(t, tb));
	struct host_tlb_stats s0 = stats();
	/* PCID 1's A from PCID 2: only that entry. */
	EXPECT_TRUE(host_invpcid(HOST_INVPCID_ADDRESS, 1, VA_A + 8));
	EXPECT_EQ(dropped_by(HOST_TLB_DROP_INVPCID_ADDRESS, &s0), 1);
	EXPECT_EQ(cached(VA_A, 1, false), 0);
	EXPECT_EQ(cached(VA_A, 2, false), 1);
	EXPECT_EQ(cached(VA_B, 1, false), 1);
	/* Global entries are not individual-address business. */
	EXPECT_TRUE(host_invpcid(HOST_INVPCID_ADDRESS, 1, VA_G));
	EXPECT_EQ(cached(VA_G, 1, true), 1);
	EXPECT_EQ(dropped_by(HOST_TLB_DROP_INVPCID_ADDRESS, &s0), 1);
}

TEST(host_soft_tlb, invpcid_individual_address)
{
	on_fresh_cpu(t, invpcid_individual_address);
}

static void invpcid_single_context(struct mm_test_ctx *t, struct tables *tb)
{
	ASSERT_TRUE(fill_mixed(t, tb));
	struct host_tlb_stats s0 = stats();
	EXPECT_TRUE(host_invpcid(HOST_INVPCID_SINGLE, 1, 0));
	EXPECT_EQ(dropped_by(HOST_TLB_DROP_INVPCID_SINGLE, &s0), 2);
	EXPECT_EQ(cached(VA_A, 1, false) + cached(VA_B, 1, false), 0);
	EXPECT_EQ(cached(VA_A, 2, false), 1);
	EXPECT_EQ(cached(VA_G, 1, true), 1);
	/* arch_tlb_flush_pcid is the same instruction. */
	arch_tlb_flush_pcid(2);
	EXPECT_EQ(dropped_by(HOST_TLB_DROP_INVPCID_SINGLE, &s0), 3);
	EXPECT_EQ(cached_count(), 1);
}

TEST(host_soft_tlb, invpcid_single_context)
{
	on_fresh_cpu(t, invpcid_single_context);
}

static void invpcid_all_including_globals(struct mm_test_ctx *t, struct tables *tb)
{
	ASSERT_TRUE(fill_mixed(t, tb));
	struct host_tlb_stats s0 = stats();
	EXPECT_TRUE(host_invpcid(HOST_INVPCID_ALL, 0, 0));
	EXPECT_EQ(dropped_by(HOST_TLB_DROP_INVPCID_ALL, &s0), 4);
	EXPECT_EQ(cached_count(), 0);
	/* arch_tlb_flush_all is the same. */
	ASSERT_TRUE(fill_mixed(t, tb));
	arch_tlb_flush_all();
	EXPECT_EQ(dropped_by(HOST_TLB_DROP_INVPCID_ALL, &s0), 8);
	EXPECT_EQ(cached_count(), 0);
}

TEST(host_soft_tlb, invpcid_all_including_globals)
{
	on_fresh_cpu(t, invpcid_all_including_globals);
}

static void invpcid_all_but_globals(struct mm_test_ctx *t, struct tables *tb)
{
	ASSERT_TRUE(fill_mixed(t, tb));
	struct host_tlb_stats s0 = stats();
	EXPECT_TRUE(host_invpcid(HOST_INVPCID_ALL_NON_GLOBAL, 0, 0));
	EXPECT_EQ(dropped_by(HOST_TLB_DROP_INVPCID_NON_GLOBAL, &s0), 3);
	EXPECT_EQ(cached_count(), 1);
	EXPECT_EQ(cached(VA_G, 1, true), 1);
}

TEST(host_soft_tlb, invpcid_all_but_globals)
{
	on_fresh_cpu(t, invpcid_all_but_globals);
}

static void invpcid_general_protection(struct mm_test_ctx *t, struct tables *tb)
{
	ASSERT_TRUE(fill_mixed(t, tb));
	EXPECT_FALSE(host_invpcid(4, 0, 0));
	EXPECT_FALSE(host_invpcid(HOST_INVPCID_SINGLE, 4096, 0));
	EXPECT_FALSE(host_invpcid(HOST_INVPCID_ALL, 1ull << 40, 0));
	EXPECT_FALSE(host_invpcid(HOST_INVPCID_ADDRESS, 1, 0x0000800000000000ull));
	EXPECT_EQ(cached_count(), 4);
	/* PCID off: only PCID 0 may be named by the per-PCID types. */
	host_set_pcid(false);
	EXPECT_FALSE(host_invpcid(HOST_INVPCID_SINGLE, 1, 0));
	EXPECT_FALSE(host_invpcid(HOST_INVPCID_ADDRESS, 1, VA_A));
	EXPECT_TRUE(host_invpcid(HOST_INVPCID_SINGLE, 0, 0));
	EXPECT_TRUE(host_invpcid(HOST_INVPCID_ALL_NON_GLOBAL, 5, 0));
}

TEST(host_soft_tlb, invpcid_general_protection)
{
	on_fresh_cpu(t, invpcid_general_protection);
}

/* ---- CR3 loads ---------------------------------------------------------------------- */

static void cr3_load_with_pcid(struct mm_test_ctx *t, struct tables *tb)
{
	ASSERT_TRUE(fill_mixed(t, tb));
	struct host_tlb_stats s0 = stats();
	/* Bit 63 set: everything stays. */
	arch_space_load(tb->root, 1, true);
	EXPECT_EQ(cached_count(), 4);
	/* Clear: the new PCID's non-global entries go, nothing else. */
	arch_space_load(tb->root, 1, false);
	EXPECT_EQ(dropped_by(HOST_TLB_DROP_CR3, &s0), 2);
	EXPECT_EQ(cached(VA_A, 2, false), 1);
	EXPECT_EQ(cached(VA_G, 1, true), 1);
	arch_space_load(tb->root, 2, false);
	EXPECT_EQ(dropped_by(HOST_TLB_DROP_CR3, &s0), 3);
	EXPECT_EQ(cached_count(), 1);
	EXPECT_EQ(arch_space_current(), tb->root);
}

TEST(host_soft_tlb, cr3_load_with_pcid)
{
	on_fresh_cpu(t, cr3_load_with_pcid);
}

static void cr3_load_without_pcid(struct mm_test_ctx *t, struct tables *tb)
{
	host_set_pcid(false);
	EXPECT_FALSE(arch_has_pcid());
	ASSERT_TRUE(map4k(tb, VA_A, FRAME(1), LEAF));
	ASSERT_TRUE(map4k(tb, VA_B, FRAME(2), LEAF));
	ASSERT_TRUE(map4k(tb, VA_G, FRAME(3), LEAF | PTE_G));
	/* The PCID argument means nothing: entries are tagged 0. */
	arch_space_load(tb->root, 7, false);
	EXPECT_EQ(rd(VA_A), FRAME(1));
	EXPECT_EQ(rd(VA_B), FRAME(2));
	EXPECT_EQ(rd(VA_G), FRAME(3));
	EXPECT_EQ(cached(VA_A, 0, false) + cached(VA_B, 0, false) + cached(VA_G, 0, true), 3);
	/* Nor does keep_tlb: every non-global entry goes. */
	struct host_tlb_stats s0 = stats();
	arch_space_load(tb->root, 7, true);
	EXPECT_EQ(dropped_by(HOST_TLB_DROP_CR3, &s0), 2);
	EXPECT_EQ(cached(VA_G, 0, true), 1);
	EXPECT_EQ(cached_count(), 1);
	/* arch_tlb_flush_pcid(any) is a CR3 rewrite: the same again. */
	EXPECT_EQ(rd(VA_A), FRAME(1));
	arch_tlb_flush_pcid(9);
	EXPECT_EQ(cached_count(), 1);
}

TEST(host_soft_tlb, cr3_load_without_pcid)
{
	on_fresh_cpu(t, cr3_load_without_pcid);
}

/* Global entries survive CR3 loads, with and without PCID: they stay in use, stale. */
static void globals_survive(struct mm_test_ctx *t, struct tables *tb, bool pcid)
{
	host_set_pcid(pcid);
	ASSERT_TRUE(map4k(tb, VA_G, FRAME(3), LEAF | PTE_G));
	arch_space_load(tb->root, 1, false);
	EXPECT_EQ(rd(VA_G), FRAME(3));
	ASSERT_TRUE(map4k(tb, VA_G, FRAME(4), LEAF | PTE_G));
	struct host_tlb_stats s0 = stats();
	for (uint16_t pcid_to = 1; pcid_to <= 4; pcid_to++) {
		arch_space_load(tb->root, pcid_to, false);
		EXPECT_EQ(rd(VA_G), FRAME(3));
	}
	EXPECT_EQ(stats().hits - s0.hits, 4);
	EXPECT_EQ(stats().misses - s0.misses, 0);
	arch_tlb_flush_all();
	EXPECT_EQ(rd(VA_G), FRAME(4));
}

static void globals_survive_with_pcid(struct mm_test_ctx *t, struct tables *tb)
{
	globals_survive(t, tb, true);
}

static void globals_survive_without_pcid(struct mm_test_ctx *t, struct tables *tb)
{
	globals_survive(t, tb, false);
}

TEST(host_soft_tlb, global_entries_survive_cr3_loads)
{
	on_fresh_cpu(t, globals_survive_with_pcid);
	on_fresh_cpu(t, globals_survive_without_pcid);
}

/* Turning PCID off is a CR4 write that drops everything, global entries included; turning
 * it on keeps what PCID 0 cached. */
static void pcid_off_drops_everything(struct mm_test_ctx *t, struct tables *tb)
{
	ASSERT_TRUE(fill_mixed(t, tb));
	struct host_tlb_stats s0 = stats();
	host_set_pcid(false);
	EXPECT_EQ(cached_count(), 0);
	EXPECT_EQ(dropped_by(HOST_TLB_DROP_RESET, &s0), 4);
	/* The current PCID is 0 now: the next fill is tagged 0. */
	EXPECT_EQ(rd(VA_A), FRAME(1));
	EXPECT_EQ(cached(VA_A, 0, false), 1);
	/* Turning PCID on drops nothing: PCID 0 is current and the entry stays in use. */
	host_set_pcid(true);
	struct host_tlb_stats s1 = stats();
	EXPECT_EQ(rd(VA_A), FRAME(1));
	EXPECT_EQ(stats().hits - s1.hits, 1);
	EXPECT_EQ(dropped_by(HOST_TLB_DROP_RESET, &s1), 0);
}

TEST(host_soft_tlb, pcid_off_drops_everything_and_on_drops_nothing)
{
	on_fresh_cpu(t, pcid_off_drops_everything);
}

/* ---- Large pages -------------------------------------------------------------------- */

static void large_pages(struct mm_test_ctx *t, struct tables *tb)
{
	ASSERT_TRUE(set_entry(tb, VA_2M, 2, pte_make_large(FRAME_2M, LEAF)));
	ASSERT_TRUE(set_entry(tb, VA_1G, 3, pte_make_large(FRAME_1G, LEAF)));
	arch_space_load(tb->root, 1, false);
	struct host_tlb_stats s0 = stats();
	EXPECT_EQ(rd(VA_2M + 0x12345), FRAME_2M + 0x12345);
	EXPECT_EQ(rd(VA_2M + 0x1FFFF8), FRAME_2M + 0x1FFFF8);
	EXPECT_EQ(rd(VA_1G + 0x3FFFFFF8), FRAME_1G + 0x3FFFFFF8);
	EXPECT_EQ(rd(VA_1G + 0x1234567), FRAME_1G + 0x1234567);
	/* One walk per page, however far apart the addresses inside it. */
	EXPECT_EQ(stats().misses - s0.misses, 2);
	EXPECT_EQ(stats().hits - s0.hits, 2);
	struct host_tlb_entry e;
	ASSERT_TRUE(host_tlb_probe(VA_2M + 0x100000, &e));
	EXPECT_EQ(e.page_shift, HOST_TLB_SHIFT_2M);
	EXPECT_EQ(e.frame, FRAME_2M);
	ASSERT_TRUE(host_tlb_probe(VA_1G + 0x20000000, &e));
	EXPECT_EQ(e.page_shift, HOST_TLB_SHIFT_1G);
	EXPECT_EQ(e.frame, FRAME_1G);
	/* INVLPG of the page after each leaves them; of any address inside, drops them. */
	arch_tlb_flush_page(VA_2M + (2ull << 20));
	arch_tlb_flush_page(VA_1G + (1ull << 30));
	EXPECT_EQ(cached_count(), 2);
	arch_tlb_flush_page(VA_2M + 0x1AB000);
	EXPECT_FALSE(host_tlb_probe(VA_2M, NULL));
	arch_tlb_flush_page(VA_1G + 0x2345F000);
	EXPECT_FALSE(host_tlb_probe(VA_1G, NULL));
	EXPECT_EQ(cached_count(), 0);
	EXPECT_EQ(dropped_by(HOST_TLB_DROP_INVLPG, &s0), 2);
}

TEST(host_soft_tlb, large_pages_are_cached_and_dropped_whole)
{
	on_fresh_cpu(t, large_pages);
}

/* ---- Permissions -------------------------------------------------------------------- */

static bool try_access(uintptr_t va, bool write, bool user)
{
	return host_mmu_access(va, write, user, NULL);
}

static void permission_faults_fill_nothing(struct mm_test_ctx *t, struct tables *tb)
{
	ASSERT_TRUE(map4k(tb, VA_A, FRAME(1), PTE_P | PTE_U)); /* read-only */
	ASSERT_TRUE(map4k(tb, VA_B, FRAME(2), PTE_P | PTE_W)); /* supervisor */
	ASSERT_TRUE(map4k(tb, VA_NO_W, FRAME(3), LEAF));
	ASSERT_TRUE(set_entry(tb, VA_NO_W, 3, *slot(tb, VA_NO_W, 3) & ~PTE_W));
	ASSERT_TRUE(map4k(tb, VA_NO_U, FRAME(4), LEAF));
	ASSERT_TRUE(set_entry(tb, VA_NO_U, 4, *slot(tb, VA_NO_U, 4) & ~PTE_U));
	ASSERT_TRUE(map4k(tb, VA_PS_PML4, FRAME(5), LEAF));
	ASSERT_TRUE(set_entry(tb, VA_PS_PML4, 4, *slot(tb, VA_PS_PML4, 4) | PTE_PS));
	arch_space_load(tb->root, 1, false);
	struct host_tlb_stats s0 = stats();

	EXPECT_FALSE(try_access(VA_A, true, true));  /* write to read-only, user */
	EXPECT_FALSE(try_access(VA_A, true, false)); /* and supervisor: CR0.WP */
	EXPECT_FALSE(try_access(VA_B, false, true)); /* user to supervisor */
	EXPECT_FALSE(try_access(VA_NO_W, true, false));
	EXPECT_FALSE(try_access(VA_NO_U, false, true));
	EXPECT_FALSE(try_access(VA_PS_PML4, false, false));
	EXPECT_FALSE(try_access(VA_A + (1ull << 21), false, false));   /* not present */
	EXPECT_FALSE(try_access(0x0000800000000000ull, false, false)); /* not canonical */
	EXPECT_EQ(cached_count(), 0);
	EXPECT_EQ(stats().faults - s0.faults, 8);
	EXPECT_EQ(stats().misses - s0.misses, 0);

	/* What is allowed is cached with the permissions of the whole walk. */
	EXPECT_TRUE(try_access(VA_B, true, false));    /* supervisor write */
	EXPECT_TRUE(try_access(VA_A, false, false));   /* supervisor read of a user page */
	EXPECT_TRUE(try_access(VA_NO_W, false, true)); /* read through a read-only PDPT entry */
	EXPECT_TRUE(try_access(VA_NO_U, false, false));
	struct host_tlb_entry e;
	ASSERT_TRUE(host_tlb_probe(VA_NO_W, &e));
	EXPECT_TRUE(!e.writable && e.user);
	ASSERT_TRUE(host_tlb_probe(VA_NO_U, &e));
	EXPECT_TRUE(e.writable && !e.user);
	EXPECT_EQ(cached_count(), 4);
	/* A forbidden access to a cached page faults on the entry, which the fault drops. */
	EXPECT_FALSE(try_access(VA_NO_U, false, true));
	EXPECT_EQ(dropped_by(HOST_TLB_DROP_FAULT, &s0), 1);
	EXPECT_EQ(cached_count(), 3);
}

TEST(host_soft_tlb, permission_faults_fill_nothing)
{
	on_fresh_cpu(t, permission_faults_fill_nothing);
}

/* Raised permissions without a flush: the stale read-only entry faults once (SDM 4.10.4.3),
 * the fault drops it, the next access walks. Lowered ones: the stale entry still allows the
 * write until a flush, which is why a protection change must shoot down. */
static void stale_permissions(struct mm_test_ctx *t, struct tables *tb)
{
	ASSERT_TRUE(map4k(tb, VA_A, FRAME(1), PTE_P | PTE_U));
	arch_space_load(tb->root, 1, false);
	EXPECT_TRUE(try_access(VA_A, false, true));
	ASSERT_TRUE(map4k(tb, VA_A, FRAME(1), LEAF));
	EXPECT_FALSE(try_access(VA_A, true, true));
	EXPECT_TRUE(try_access(VA_A, true, true));
	ASSERT_TRUE(map4k(tb, VA_A, FRAME(1), PTE_P | PTE_U));
	EXPECT_TRUE(try_access(VA_A, true, true));
	arch_tlb_flush_page(VA_A);
	EXPECT_FALSE(try_access(VA_A, true, true));
}

TEST(host_soft_tlb, stale_permissions_until_a_fault_or_a_flush)
{
	on_fresh_cpu(t, stale_permissions);
}

/* ---- Capacity ----------------------------------------------------------------------- */

static void capacity_eviction(struct mm_test_ctx *t, struct tables *tb)
{
	for (unsigned i = 0; i <= HOST_TLB_ENTRIES; i++)
		ASSERT_TRUE(map4k(tb, VA_A + i * 0x1000ull, FRAME(i), LEAF));
	arch_space_load(tb->root, 1, false);
	struct host_tlb_stats s0 = stats();
	for (unsigned i = 0; i <= HOST_TLB_ENTRIES; i++)
		EXPECT_EQ(rd(VA_A + i * 0x1000ull), FRAME(i));
	EXPECT_EQ(stats().misses - s0.misses, HOST_TLB_ENTRIES + 1);
	EXPECT_EQ(dropped_by(HOST_TLB_DROP_EVICT, &s0), 1);
	EXPECT_EQ(cached_count(), HOST_TLB_ENTRIES);
	/* Filled from empty, the oldest went first. */
	EXPECT_FALSE(host_tlb_probe(VA_A, NULL));
	for (unsigned i = 1; i <= HOST_TLB_ENTRIES; i++)
		EXPECT_TRUE(host_tlb_probe(VA_A + i * 0x1000ull, NULL));
	/* Then round-robin: the page that comes back evicts the next oldest. */
	EXPECT_EQ(rd(VA_A), FRAME(0));
	EXPECT_FALSE(host_tlb_probe(VA_A + 0x1000, NULL));
	EXPECT_EQ(dropped_by(HOST_TLB_DROP_EVICT, &s0), 2);
}

TEST(host_soft_tlb, capacity_eviction)
{
	on_fresh_cpu(t, capacity_eviction);
}

/* ---- CPU hand-over ------------------------------------------------------------------ */

static unsigned first_cpu;
static struct host_tlb_stats first_stats;

static void leave_entries(struct mm_test_ctx *t, struct tables *tb)
{
	ASSERT_TRUE(fill_mixed(t, tb));
	first_cpu = arch_cpu_id();
	first_stats = stats();
}

static void find_none(struct mm_test_ctx *t, struct tables *tb)
{
	/* run_job has found the TLB empty; on the very CPU the last thread left full. */
	EXPECT_EQ(arch_cpu_id(), first_cpu);
}

TEST(host_soft_tlb, a_thread_that_takes_a_cpu_finds_its_tlb_empty)
{
	on_fresh_cpu(t, leave_entries);
	/* The four entries went when the first thread gave the CPU back... */
	struct host_tlb_stats s0;
	host_tlb_stats(first_cpu, &s0);
	EXPECT_EQ(s0.dropped[HOST_TLB_DROP_RESET] - first_stats.dropped[HOST_TLB_DROP_RESET], 4);
	/* ...and the next thread to take it finds it empty. */
	on_fresh_cpu(t, find_none);
}

/* ---- Through the memory manager ----------------------------------------------------- */

#define VA_MM ((uintptr_t)0x0000320000000000ull)

struct remote {
	mm_space_t space;
	uintptr_t expect_phys;
	unsigned step; /* 1: the remote CPU cached VA_MM; 2: it was unmapped */
	bool first_ok, second_ok;
	uint64_t flush_drops;
};

static void *remote_cpu(void *arg)
{
	struct remote *r = arg;
	mm_set(r->space);
	uintptr_t phys = MM_NADDR;
	r->first_ok = host_mmu_access(VA_MM, true, true, &phys) && phys == r->expect_phys;
	struct host_tlb_stats s0 = stats();
	__atomic_store_n(&r->step, 1, __ATOMIC_RELEASE);
	/* Interrupts on: the shootdown's IPI is taken here. */
	while (__atomic_load_n(&r->step, __ATOMIC_ACQUIRE) < 2)
		arch_cpu_relax();
	r->second_ok = host_mmu_access(VA_MM, false, true, NULL);
	for (unsigned k = 0; k < HOST_TLB_DROP_KINDS; k++)
		r->flush_drops += k == HOST_TLB_DROP_EVICT ? 0 : dropped_by(k, &s0);
	mm_set(mm_kernel_space());
	return NULL;
}

/* An unmap on one CPU drops the translation another CPU has cached: without the
 * shootdown the second access would hit the stale entry. */
TEST(host_soft_tlb, an_unmap_drops_the_entry_another_cpu_cached)
{
	struct remote r = {mm_create_space(NULL), 0, 0, false, true, 0};
	ASSERT_NE((uintptr_t)r.space, 0);
	ASSERT_EQ(mm_map_range(r.space, VA_MM, MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US), VA_MM);
	r.expect_phys = mm_translate(r.space, VA_MM, NULL);
	ASSERT_NE(r.expect_phys, MM_NADDR);
	pthread_t thread;
	ASSERT_EQ(pthread_create(&thread, NULL, remote_cpu, &r), 0);
	while (__atomic_load_n(&r.step, __ATOMIC_ACQUIRE) < 1)
		arch_cpu_relax();
	EXPECT_EQ(mm_umap_range(r.space, VA_MM, MM_PAGE_SIZE, 0), MM_OK);
	__atomic_store_n(&r.step, 2, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);
	EXPECT_TRUE(r.first_ok);
	EXPECT_FALSE(r.second_ok);
	EXPECT_GE(r.flush_drops, 1);
	mm_destroy_space(r.space);
}
