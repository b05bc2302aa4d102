/*
 * TLB coherence across CPUs, through what a CPU really sees: the probes of mmtest/smp.h go
 * through the MMU and its TLB (the real one in the kernel, the software TLB on the host),
 * so a translation that a shootdown missed is used, and caught.
 *
 * The same sources run in the kernel on every CPU QEMU gives it and on the host with
 * threads as CPUs. With one CPU the cross-CPU cases have nobody to race with and say so.
 */
#include <mm/region.h>
#include <mm/vmm.h>
#include <mmtest/smp.h>
#include <mmtest/test.h>

#include <lib/print.h>

#include "fixtures.h"
#include "helpers.h"
#include "user_access.h"
#include "vmm/invariants.h"

#define SMP_VA ((uintptr_t)0x0000600000000000ull)
#define SMP_MAX_CPUS 4
/* Every cross-CPU wait gives up after this many spins: a lost IPI must fail a test, not
 * hang the run (QEMU's vCPUs may share one host core with other work). */
#define SPIN_LIMIT 400000000ull

static unsigned cpus_for_test(void)
{
	unsigned n = mm_test_cpu_count();
	return n < SMP_MAX_CPUS ? n : SMP_MAX_CPUS;
}

static bool enough_cpus(void)
{
	if (cpus_for_test() >= 2)
		return true;
	lib_printf("    one CPU: nothing to race with\n");
	return false;
}

/* Waits until *flag >= value; false on timeout. */
static bool wait_for(const unsigned *flag, unsigned value)
{
	for (uint64_t spins = 0; spins < SPIN_LIMIT; spins++) {
		if (__atomic_load_n(flag, __ATOMIC_ACQUIRE) >= value)
			return true;
		arch_cpu_relax();
	}
	return false;
}

static void publish(unsigned *flag, unsigned value)
{
	__atomic_store_n(flag, value, __ATOMIC_RELEASE);
}

static void count(unsigned *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

/* ---- A reader spins on a page while another CPU unmaps it ----------------------------- */

struct unmap_race {
	mm_space_t space;
	uint32_t unmap_flags; /* MM_FLG_NOPHYS: the frame stays the caller's */
	uint64_t marker;
	unsigned readers_seen; /* readers that read the marker through their TLB */
	unsigned unmapped;     /* 1 once mm_umap_range returned */
	unsigned stale_reads;  /* successful reads that began after the unmap returned */
	unsigned wrong_values, timeouts, faults_seen;
};

static void unmap_race_cpu(unsigned index, void *arg)
{
	struct unmap_race *r = arg;
	if (index == 0) {
		if (!wait_for(&r->readers_seen, cpus_for_test() - 1)) {
			count(&r->timeouts);
			publish(&r->unmapped, 1);
			return;
		}
		if (mm_umap_range(r->space, SMP_VA, MM_PAGE_SIZE, r->unmap_flags) != MM_OK)
			count(&r->wrong_values);
		publish(&r->unmapped, 1);
		return;
	}
	mm_set(r->space);
	bool seen = false;
	for (uint64_t spins = 0;; spins++) {
		/* Read the flag first: if the unmap had returned before the access began, the
		 * access must fault. */
		bool after = __atomic_load_n(&r->unmapped, __ATOMIC_ACQUIRE);
		uint64_t v;
		bool ok = mm_test_probe_read(SMP_VA, &v);
		if (ok && v != r->marker)
			count(&r->wrong_values);
		if (ok && !seen) {
			seen = true;
			count(&r->readers_seen);
		}
		if (after) {
			if (ok)
				count(&r->stale_reads);
			else
				count(&r->faults_seen);
			break;
		}
		if (spins == SPIN_LIMIT) {
			count(&r->timeouts);
			break;
		}
	}
	mm_set(mm_kernel_space());
}

/* How the page under the race is made: what the unmap frees differs, the invalidation must
 * not. A neighbour page keeps the page table alive, so no freed table forces the
 * shootdown either. */
enum unmap_race_kind {
	RACE_OWN_FRAME,  /* a frame of the mapping's own: freed by the unmap */
	RACE_KEPT_FRAME, /* unmapped with MM_FLG_NOPHYS: nothing freed, the frame stays ours */
	RACE_ZERO_PAGE,  /* an anonymous page only read: the shared zero page, never freed */
};

static void unmap_race_rounds(struct mm_test_ctx *t, enum unmap_race_kind kind)
{
	if (!enough_cpus())
		return;
	uint64_t frames = free_frames();
	unsigned n = cpus_for_test();
	for (unsigned round = 0; round < 20; round++) {
		struct unmap_race r = {.space = mm_create_space(NULL), .marker = 0x5afe0000u + round};
		ASSERT_NE((uintptr_t)r.space, 0);
		int error;
		if (kind == RACE_ZERO_PAGE) {
			struct mm_region_spec spec = {SMP_VA,
			                              2 * MM_PAGE_SIZE,
			                              MM_FLG_WR | MM_FLG_US | MM_REGION_FIXED,
			                              MM_SECTION_DATA,
			                              NULL,
			                              0};
			ASSERT_EQ(mm_region_map(r.space, &spec), SMP_VA);
			r.marker = 0;
			ASSERT_EQ(user_read64(r.space, SMP_VA, &error), 0);
			ASSERT_EQ(user_write64(r.space, SMP_VA + MM_PAGE_SIZE, 1), MM_OK);
		} else {
			ASSERT_EQ(mm_map_range(r.space, SMP_VA, 2 * MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US),
			          SMP_VA);
			ASSERT_EQ(user_write64(r.space, SMP_VA, r.marker), MM_OK);
		}
		uintptr_t kept = mm_translate(r.space, SMP_VA, NULL);
		r.unmap_flags = kind == RACE_KEPT_FRAME ? MM_FLG_NOPHYS : 0;
		mm_test_on_cpus(n, unmap_race_cpu, &r);
		EXPECT_EQ(r.timeouts, 0);
		EXPECT_EQ(r.stale_reads, 0);
		EXPECT_EQ(r.wrong_values, 0);
		EXPECT_EQ(r.faults_seen, n - 1);
		if (kind == RACE_KEPT_FRAME)
			EXPECT_EQ(mm_phys_free_page(kept), MM_OK);
		mm_destroy_space(r.space);
		if (r.timeouts || r.stale_reads || r.wrong_values)
			return;
	}
	EXPECT_EQ(free_frames(), frames);
}

TEST_F(leak_checked, smp, a_reader_faults_once_the_unmap_returns)
{
	unmap_race_rounds(t, RACE_OWN_FRAME);
}

TEST_F(leak_checked, smp, an_unmap_that_keeps_the_frame_still_shoots_down)
{
	unmap_race_rounds(t, RACE_KEPT_FRAME);
}

TEST_F(leak_checked, smp, an_unmap_of_the_zero_page_still_shoots_down)
{
	unmap_race_rounds(t, RACE_ZERO_PAGE);
}

/* ---- A writer spins on a page while another CPU forks its space ----------------------- */

struct fork_race {
	mm_space_t parent, child;
	unsigned writing; /* the writer has written once through its TLB */
	unsigned forked;  /* mm_space_fork returned */
	unsigned stale_writes, timeouts, fork_error;
	uint64_t last_written; /* the writer's last successful value before its first fault */
};

static void fork_race_cpu(unsigned index, void *arg)
{
	struct fork_race *r = arg;
	if (index == 0) {
		if (!wait_for(&r->writing, 1)) {
			count(&r->timeouts);
			publish(&r->forked, 1);
			return;
		}
		if (mm_space_fork(r->child, r->parent, MM_FLG_CLONE_USER) != MM_OK)
			count(&r->fork_error);
		publish(&r->forked, 1);
		return;
	}
	mm_set(r->parent);
	uint64_t value = 1, last = 0;
	for (uint64_t spins = 0;; spins++, value++) {
		bool after = __atomic_load_n(&r->forked, __ATOMIC_ACQUIRE);
		if (mm_test_probe_write(SMP_VA, value)) {
			last = value;
			publish(&r->writing, 1);
			if (after) {
				/* The fork returned, yet the old writable entry was still used. */
				count(&r->stale_writes);
				break;
			}
		} else {
			break; /* write-protected by the fork: copy-on-write from here on */
		}
		if (spins == SPIN_LIMIT) {
			count(&r->timeouts);
			break;
		}
	}
	r->last_written = last;
	mm_set(mm_kernel_space());
}

TEST_F(leak_checked, smp, fork_write_protects_the_parent_on_every_cpu)
{
	if (!enough_cpus())
		return;
	uint64_t frames = free_frames();
	for (unsigned round = 0; round < 10; round++) {
		struct fork_race r = {.parent = mm_create_space(NULL), .child = mm_create_space(NULL)};
		ASSERT_NE((uintptr_t)r.parent, 0);
		ASSERT_NE((uintptr_t)r.child, 0);
		struct mm_region_spec spec = {
		    SMP_VA,          MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US | MM_REGION_FIXED,
		    MM_SECTION_DATA, NULL,         0};
		ASSERT_EQ(mm_region_map(r.parent, &spec), SMP_VA);
		ASSERT_EQ(user_write64(r.parent, SMP_VA, 0), MM_OK);
		mm_test_on_cpus(2, fork_race_cpu, &r);
		EXPECT_EQ(r.timeouts, 0);
		EXPECT_EQ(r.fork_error, 0);
		EXPECT_EQ(r.stale_writes, 0);
		/* The child shares the frame as it was when the parent lost write access. */
		int error;
		EXPECT_EQ(user_read64(r.child, SMP_VA, &error), r.last_written);
		EXPECT_EQ(error, MM_OK);
		/* And the parent's next write copies, leaving the child's value alone. */
		EXPECT_EQ(user_write64(r.parent, SMP_VA, ~0ull), MM_OK);
		EXPECT_EQ(user_read64(r.child, SMP_VA, &error), r.last_written);
		EXPECT_EQ(vmm_check_space(r.parent), 0);
		EXPECT_EQ(vmm_check_space(r.child), 0);
		mm_destroy_space(r.child);
		mm_destroy_space(r.parent);
		if (r.timeouts || r.stale_writes)
			return;
	}
	EXPECT_EQ(free_frames(), frames);
}

/* ---- A writer in a 2 MiB span while another CPU forks and unmaps in it ------------------
 * On-demand fork shares the span's leaf table: the fork write-protects the parent's
 * page-directory entry, the writer's next write unshares the table, and the other CPU's
 * unmap in the same span unshares or lets go of it, all while the writer writes. Each child
 * must keep the values it was forked with, and the parent must end with every value the
 * writer wrote last. */

#define SPAN_PAGES 512 /* the whole span: one leaf table */
#define SPAN_WRITTEN 8 /* the pages the writer writes */
#define SPAN_ROUNDS 12
#define SPAN_HOLE 100 /* the page the other CPU unmaps and maps again */

struct span_race {
	mm_space_t parent;
	unsigned started, stop;
	uint64_t written[SPAN_WRITTEN]; /* the writer's last value of each page */
	unsigned timeouts, fault_errors, unstable, too_new, call_errors;
};

static void span_writer(struct span_race *r)
{
	mm_set(r->parent);
	publish(&r->started, 1);
	uint64_t value = 0;
	for (uint64_t spins = 0; !__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE); spins++) {
		if (spins == SPIN_LIMIT) {
			count(&r->timeouts);
			break;
		}
		value++;
		unsigned page = (unsigned)(value % SPAN_WRITTEN);
		uintptr_t va = SMP_VA + (uintptr_t)page * MM_PAGE_SIZE;
		/* A write the tables refuse goes to mm_fault, as the program's would. */
		int tries = 0;
		while (!mm_test_probe_write(va, value)) {
			if (++tries > 4 ||
			    mm_fault(r->parent, va, MM_FAULT_WRITE | MM_FAULT_PRESENT) != MM_OK) {
				count(&r->fault_errors);
				mm_set(mm_kernel_space());
				return;
			}
		}
		__atomic_store_n(&r->written[page], value, __ATOMIC_RELEASE);
	}
	mm_set(mm_kernel_space());
}

/* Forks, checks that the child keeps its values while the parent's change, and unmaps and
 * maps a page of the same span in the parent, SPAN_ROUNDS times. */
static void span_forker(struct span_race *r)
{
	if (!wait_for(&r->started, 1)) {
		count(&r->timeouts);
		return;
	}
	for (unsigned round = 0; round < SPAN_ROUNDS; round++) {
		mm_space_t child = mm_create_space(NULL);
		if (!child || mm_space_fork(child, r->parent, MM_FLG_CLONE_USER) != MM_OK) {
			count(&r->call_errors);
			mm_destroy_space(child);
			break;
		}
		uint64_t newest = 0;
		for (unsigned i = 0; i < SPAN_WRITTEN; i++) {
			uint64_t w = __atomic_load_n(&r->written[i], __ATOMIC_ACQUIRE);
			newest = w > newest ? w : newest;
		}
		uint64_t first[SPAN_WRITTEN];
		int error;
		for (unsigned i = 0; i < SPAN_WRITTEN; i++)
			first[i] = user_read64(child, SMP_VA + (uintptr_t)i * MM_PAGE_SIZE, &error);
		uintptr_t hole = SMP_VA + (uintptr_t)SPAN_HOLE * MM_PAGE_SIZE;
		if (mm_umap_range(r->parent, hole, MM_PAGE_SIZE, 0) != MM_OK ||
		    mm_map_range(r->parent, hole, MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US) != hole)
			count(&r->call_errors);
		for (unsigned i = 0; i < SPAN_WRITTEN; i++) {
			uint64_t again = user_read64(child, SMP_VA + (uintptr_t)i * MM_PAGE_SIZE, &error);
			if (again != first[i])
				count(&r->unstable);
			/* Written before the fork returned at the latest: a value the writer wrote
			 * well after it (more than a round of pages later) would be a leak. */
			if (first[i] > newest + 2 * SPAN_WRITTEN + 1)
				count(&r->too_new);
		}
		if (vmm_check_space(child) != MM_OK)
			count(&r->call_errors);
		mm_destroy_space(child);
	}
	publish(&r->stop, 1);
}

static void span_race_cpu(unsigned index, void *arg)
{
	if (index == 1)
		span_writer(arg);
	else if (index == 0)
		span_forker(arg);
}

TEST_F(leak_checked, smp, writes_race_forks_and_unmaps_in_one_span)
{
	if (!enough_cpus())
		return;
	static struct span_race r;
	r = (struct span_race){.parent = test_space(t)};
	ASSERT_NE((uintptr_t)r.parent, 0);
	struct mm_region_spec spec = {SMP_VA,
	                              SPAN_PAGES * MM_PAGE_SIZE,
	                              MM_FLG_WR | MM_FLG_US | MM_REGION_FIXED | MM_REGION_POPULATE,
	                              MM_SECTION_DATA,
	                              NULL,
	                              0};
	ASSERT_EQ(mm_region_map(r.parent, &spec), SMP_VA);
	mm_test_on_cpus(2, span_race_cpu, &r);
	EXPECT_EQ(r.timeouts, 0);
	EXPECT_EQ(r.fault_errors, 0);
	EXPECT_EQ(r.call_errors, 0);
	EXPECT_EQ(r.unstable, 0);
	EXPECT_EQ(r.too_new, 0);
	for (unsigned i = 0; i < SPAN_WRITTEN; i++) {
		int error;
		EXPECT_EQ(user_read64(r.parent, SMP_VA + (uintptr_t)i * MM_PAGE_SIZE, &error),
		          r.written[i]);
	}
	EXPECT_EQ(vmm_check_space(r.parent), MM_OK);
	struct vmm_ref_scope scope = {&r.parent, 1, NULL, 0, NULL, 0};
	EXPECT_EQ(vmm_check_references(&scope), MM_OK);
}

/* ---- More spaces than PCID slots, switched on every CPU -------------------------------- */

#define SWITCH_ITERATIONS 300

struct many_spaces {
	unsigned n;
	mm_space_t space[3 * 16 + 1];
	/* space i's page holds (i << 32 | version[i]); busy[i] while it is being replaced. */
	unsigned version[3 * 16 + 1];
	unsigned busy[3 * 16 + 1];
	unsigned wrong, unexpected_faults, errors;
};

static uint64_t tagged(unsigned space, unsigned version)
{
	return (uint64_t)space << 32 | version;
}

/* Gives space i a fresh frame holding its next version: the old frame is unmapped, so any
 * CPU still holding it in a TLB under the space's PCID must have flushed first. */
static void replace_page(struct many_spaces *m, unsigned i)
{
	publish(&m->busy[i], 1);
	unsigned next = m->version[i] + 1;
	if (mm_umap_range(m->space[i], SMP_VA, MM_PAGE_SIZE, 0) != MM_OK ||
	    mm_map_range(m->space[i], SMP_VA, MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US) != SMP_VA ||
	    user_write64(m->space[i], SMP_VA, tagged(i, next)) != MM_OK)
		count(&m->errors);
	publish(&m->version[i], next);
	publish(&m->busy[i], 0);
}

static void many_spaces_cpu(unsigned index, void *arg)
{
	struct many_spaces *m = arg;
	uint64_t seed = 0x9e3779b97f4a7c15ull * (index + 1);
	for (unsigned it = 0; it < SWITCH_ITERATIONS; it++) {
		unsigned i = (unsigned)(test_random(&seed) % m->n);
		if (index == 0 && it % 4 == 0) {
			mm_set(mm_kernel_space());
			replace_page(m, i);
			continue;
		}
		unsigned busy_before = __atomic_load_n(&m->busy[i], __ATOMIC_ACQUIRE);
		unsigned version_before = __atomic_load_n(&m->version[i], __ATOMIC_ACQUIRE);
		mm_set(m->space[i]);
		uint64_t v;
		bool ok = mm_test_probe_read(SMP_VA, &v);
		bool changing = busy_before || __atomic_load_n(&m->busy[i], __ATOMIC_ACQUIRE) ||
		                __atomic_load_n(&m->version[i], __ATOMIC_ACQUIRE) != version_before;
		if (!ok && !changing)
			count(&m->unexpected_faults);
		/* Never an older version than the one published before the switch: that would be
		 * a frame already unmapped, reached through a TLB entry that survived. While the
		 * page is being replaced the new frame may still read as zero (mapped, not yet
		 * written). */
		bool fresh_frame = changing && v == 0;
		if (ok && !fresh_frame && (v >> 32 != i || (unsigned)v < version_before))
			count(&m->wrong);
	}
	mm_set(mm_kernel_space());
}

TEST_F(leak_checked, smp, more_spaces_than_pcid_slots_switched_on_every_cpu)
{
	uint64_t frames = free_frames();
	struct mm_tlb_stats before, after;
	mm_tlb_get_stats(&before);
	static struct many_spaces m;
	m = (struct many_spaces){.n = 3 * before.pcid_slots + 1};
	if (m.n > sizeof m.space / sizeof m.space[0])
		m.n = sizeof m.space / sizeof m.space[0];
	for (unsigned i = 0; i < m.n; i++) {
		m.space[i] = mm_create_space(NULL);
		ASSERT_NE((uintptr_t)m.space[i], 0);
		ASSERT_EQ(mm_map_range(m.space[i], SMP_VA, MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US), SMP_VA);
		ASSERT_EQ(user_write64(m.space[i], SMP_VA, tagged(i, 0)), MM_OK);
	}
	mm_test_on_cpus(cpus_for_test(), many_spaces_cpu, &m);
	mm_tlb_get_stats(&after);
	EXPECT_EQ(m.errors, 0);
	EXPECT_EQ(m.wrong, 0);
	EXPECT_EQ(m.unexpected_faults, 0);
	EXPECT_GE(after.switches - before.switches, SWITCH_ITERATIONS / 2);
	/* Without PCIDs a switch can never keep the other space's entries. */
	if (!after.pcid)
		EXPECT_EQ(after.switches_kept, before.switches_kept);
	for (unsigned i = 0; i < m.n; i++) {
		EXPECT_EQ(vmm_check_space(m.space[i]), 0);
		mm_destroy_space(m.space[i]);
	}
	EXPECT_EQ(free_frames(), frames);
}

/* ---- Randomised stress: map, unmap, fork, fault and switch on every CPU ----------------- */

#define STRESS_STEPS 400
#define STRESS_SLOT_PAGES 8
#define STRESS_SLOTS 8 /* per CPU, in the shared space */

struct stress {
	mm_space_t shared;
	unsigned errors, wrong, stale;
};

/* CPU index's slot k of the shared space: no other CPU maps or unmaps it. */
static uintptr_t stress_va(unsigned index, unsigned k)
{
	return SMP_VA + ((uintptr_t)(index * STRESS_SLOTS + k) * STRESS_SLOT_PAGES) * MM_PAGE_SIZE;
}

/* A store as a program would make it: through the TLB, and the fault handler on a fault. */
static bool program_write(mm_space_t space, uintptr_t va, uint64_t value)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		if (mm_test_probe_write(va, value))
			return true;
		void *unused;
		if (user_access(space, va, true, &unused) != MM_OK)
			return false;
	}
	return false;
}

static void stress_cpu(unsigned index, void *arg)
{
	struct stress *s = arg;
	uint64_t seed = 0xd1b54a32d192ed03ull ^ index;
	bool mapped[STRESS_SLOTS] = {false};
	uint64_t value[STRESS_SLOTS] = {0};
	mm_space_t own = mm_create_space(NULL);
	if (!own) {
		count(&s->errors);
		return;
	}
	struct mm_region_spec spec = {
	    SMP_VA, 16 * MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US | MM_REGION_FIXED, MM_SECTION_DATA, NULL,
	    0};
	if (mm_region_map(own, &spec) != SMP_VA)
		count(&s->errors);
	for (unsigned step = 0; step < STRESS_STEPS; step++) {
		unsigned k = (unsigned)(test_random(&seed) % STRESS_SLOTS);
		uintptr_t va = stress_va(index, k);
		switch (test_random(&seed) % 6) {
		case 0: /* map or unmap a slot of the shared space */
			if (mapped[k]) {
				if (mm_umap_range(s->shared, va, STRESS_SLOT_PAGES * MM_PAGE_SIZE, 0) != MM_OK)
					count(&s->errors);
				mapped[k] = false;
			} else {
				if (mm_map_range(s->shared, va, STRESS_SLOT_PAGES * MM_PAGE_SIZE,
				                 MM_FLG_WR | MM_FLG_US) != va)
					count(&s->errors);
				mapped[k] = true;
				value[k] = 0; /* fresh frames are zeroed */
			}
			break;
		case 1: /* write and read back in the shared space */
			mm_set(s->shared);
			if (mapped[k]) {
				value[k] = test_random(&seed);
				if (!program_write(s->shared, va, value[k]))
					count(&s->errors);
			}
			{
				uint64_t v;
				bool ok = mm_test_probe_read(va, &v);
				if (ok != mapped[k])
					count(mapped[k] ? &s->errors : &s->stale);
				else if (ok && v != value[k])
					count(&s->wrong);
			}
			break;
		case 2: /* demand-zero and copy-on-write faults in the own space */
			mm_set(own);
			if (!program_write(own, SMP_VA + (test_random(&seed) % 16) * MM_PAGE_SIZE, step))
				count(&s->errors);
			break;
		case 3: { /* fork the own space, check and drop the child */
			mm_space_t child = mm_create_space(NULL);
			if (!child || mm_space_fork(child, own, MM_FLG_CLONE_USER) != MM_OK) {
				count(&s->errors);
			} else {
				mm_set(child);
				if (!program_write(child, SMP_VA, step))
					count(&s->errors);
				mm_set(mm_kernel_space());
			}
			if (child)
				mm_destroy_space(child);
			break;
		}
		case 4: /* write-protect and restore part of the own space */
			if (mm_region_protect(own, SMP_VA, 4 * MM_PAGE_SIZE, 0) != MM_OK ||
			    mm_region_protect(own, SMP_VA, 4 * MM_PAGE_SIZE, MM_FLG_WR) != MM_OK)
				count(&s->errors);
			break;
		default: /* switch */
			mm_set(test_random(&seed) & 1 ? own : s->shared);
			break;
		}
	}
	mm_set(mm_kernel_space());
	for (unsigned k = 0; k < STRESS_SLOTS; k++)
		if (mapped[k] && mm_umap_range(s->shared, stress_va(index, k),
		                               STRESS_SLOT_PAGES * MM_PAGE_SIZE, 0) != MM_OK)
			count(&s->errors);
	if (vmm_check_space(own) != 0)
		count(&s->errors);
	mm_destroy_space(own);
}

TEST_F(leak_checked, smp, randomised_stress_on_every_cpu_balances)
{
	struct stress s = {.shared = test_space(t)};
	ASSERT_NE((uintptr_t)s.shared, 0);
	mm_test_on_cpus(cpus_for_test(), stress_cpu, &s);
	EXPECT_EQ(s.errors, 0);
	EXPECT_EQ(s.wrong, 0);
	EXPECT_EQ(s.stale, 0);
	EXPECT_EQ(vmm_check_space(s.shared), 0);
}
