/*
 * Kernel-only tests of ring 3: entering and leaving user mode, system calls, page faults
 * from user mode resolved by mm_fault or ending the program with a report, other
 * exceptions from user mode, and the walls between the rings (supervisor pages, NX, SMEP,
 * SMAP). Each test runs the programs of user_programs.S in a fresh space.
 */
#include <stdbool.h>
#include <stdint.h>

#include <arch/arch.h>
#include <arch/x86_64/apic.h>
#include <arch/x86_64/boot.h>
#include <arch/x86_64/cpu.h>
#include <arch/x86_64/features.h>
#include <arch/x86_64/fixmap.h>
#include <arch/x86_64/percpu.h>
#include <arch/x86_64/trap.h>
#include <mm/kmalloc.h>
#include <mm/phys.h>
#include <mm/region.h>
#include <mmtest/test.h>

#include "kernel/ring3/user_run.h"

#include "tests/suites/helpers.h"

/* A test region, well away from the environment's code, arguments and stack. */
#define DATA_VA 0x0000000010000000ull
/* Nothing is ever mapped here. */
#define HOLE_VA 0x0000000020000000ull

#define PF_USER_WRITE (X86_PF_USER | X86_PF_WRITE)

static mm_space_t env_create(struct x86_user_env *env)
{
	mm_space_t space = mm_create_space(NULL);
	if (!space)
		return NULL;
	if (x86_user_env_init(env, space) != MM_OK) {
		mm_destroy_space(space);
		return NULL;
	}
	return space;
}

static uintptr_t region(mm_space_t space, uintptr_t start, size_t pages, uint32_t flags)
{
	struct mm_region_spec spec = {
	    .start = start,
	    .length = pages * MM_PAGE_SIZE,
	    .flags = flags | MM_FLG_US | MM_REGION_FIXED,
	    .section = MM_SECTION_DATA,
	};
	return mm_region_map(space, &spec);
}

static uint64_t resident(mm_space_t space, uintptr_t addr)
{
	struct mm_region_info info;
	return mm_region_query(space, addr, &info) == MM_OK ? info.resident_pages : ~0ull;
}

/* Runs prog with a struct x86_uprog_args {base, count} placed in the argument pages. */
static int run_args(const struct x86_user_env *env, const char *prog, uintptr_t base,
                    uint64_t count, struct x86_user_result *r)
{
	struct x86_uprog_args a = {base, count, 0};
	if (x86_user_poke(env->space, env->args, &a, sizeof a) != MM_OK)
		return MM_EFAULT;
	return x86_user_env_run(env, prog, env->args, r);
}

TEST(user, exit_value_comes_back)
{
	struct x86_user_env env;
	mm_space_t s = env_create(&env);
	ASSERT_TRUE(s);
	struct x86_user_result r;
	x86_sti();
	EXPECT_EQ(x86_user_env_run(&env, x86_uprog_exit, 0x123456789abcull, &r), X86_USER_EXITED);
	EXPECT_EQ(r.status, X86_USER_EXITED);
	EXPECT_EQ(r.value, 0x123456789abcull);
	EXPECT_EQ(r.faults_resolved, 0);
	/* Back with the caller's interrupt state and the kernel's tables. */
	EXPECT_NE(x86_rflags() & X86_RFLAGS_IF, 0);
	EXPECT_EQ(arch_space_current(), x86_kernel_root());
	x86_cli();
	EXPECT_EQ(x86_user_env_run(&env, x86_uprog_exit, 7, &r), X86_USER_EXITED);
	EXPECT_EQ(r.value, 7);
	EXPECT_EQ(x86_rflags() & X86_RFLAGS_IF, 0);
	x86_sti();
	mm_destroy_space(s);
}

TEST(user, syscall_round_trip_keeps_registers)
{
	struct x86_user_env env;
	mm_space_t s = env_create(&env);
	ASSERT_TRUE(s);
	struct x86_user_result r;
	/* The program checks every register SYSCALL/SYSRET must keep and the ENOSYS answer. */
	EXPECT_EQ(x86_user_env_run(&env, x86_uprog_echo, 0xFEEDull, &r), X86_USER_EXITED);
	EXPECT_EQ(r.value, 0xFEEDull);
	mm_destroy_space(s);
}

TEST(user, bad_arguments_run_nothing)
{
	struct x86_user_env env;
	mm_space_t s = env_create(&env);
	ASSERT_TRUE(s);
	struct x86_user_result r;
	uintptr_t entry = x86_user_env_entry(&env, x86_uprog_exit);
	EXPECT_EQ(x86_user_run(NULL, entry, env.stack_top, 0, &r), MM_EINVAL);
	EXPECT_EQ(x86_user_run(mm_kernel_space(), entry, env.stack_top, 0, &r), MM_EINVAL);
	EXPECT_EQ(x86_user_run(s, (uintptr_t)x86_uprog_exit, env.stack_top, 0, &r), MM_EINVAL);
	EXPECT_EQ(x86_user_run(s, entry, MM_KERNEL_BASE, 0, &r), MM_EINVAL);
	EXPECT_EQ(x86_user_run(s, entry, env.stack_top, 0, NULL), MM_EINVAL);
	mm_destroy_space(s);
}

TEST(user, demand_zero_pages_fault_in)
{
	enum { PAGES = 16 };
	struct x86_user_env env;
	mm_space_t s = env_create(&env);
	ASSERT_TRUE(s);
	ASSERT_EQ(region(s, DATA_VA, PAGES, MM_FLG_WR), DATA_VA);
	EXPECT_EQ(resident(s, DATA_VA), 0);

	/* Never written: every page reads as zero. */
	struct x86_user_result r;
	EXPECT_EQ(run_args(&env, x86_uprog_read, DATA_VA, PAGES, &r), X86_USER_EXITED);
	EXPECT_EQ(r.value, 0);
	EXPECT_EQ(r.faults_resolved, PAGES);

	EXPECT_EQ(run_args(&env, x86_uprog_touch, DATA_VA, PAGES, &r), X86_USER_EXITED);
	EXPECT_EQ(r.value, PAGES);
	EXPECT_EQ(r.faults_resolved, PAGES);
	EXPECT_EQ(resident(s, DATA_VA), PAGES);

	/* The program's bytes are in the frames, the rest of each page is still zero. */
	unsigned wrong = 0;
	for (unsigned i = 0; i < PAGES; i++) {
		uint8_t head[64];
		ASSERT_EQ(x86_user_peek(s, head, DATA_VA + i * MM_PAGE_SIZE, sizeof head), MM_OK);
		wrong += head[0] != 0xA5;
		for (unsigned j = 1; j < sizeof head; j++)
			wrong += head[j] != 0;
	}
	EXPECT_EQ(wrong, 0);

	/* Mapped now: no more faults, and the program sees its writes. */
	EXPECT_EQ(run_args(&env, x86_uprog_read, DATA_VA, PAGES, &r), X86_USER_EXITED);
	EXPECT_EQ(r.value, PAGES * 0xA5ull);
	EXPECT_EQ(r.faults_resolved, 0);
	mm_destroy_space(s);
}

TEST(user, write_to_read_only_region_faults)
{
	struct x86_user_env env;
	mm_space_t s = env_create(&env);
	ASSERT_TRUE(s);
	ASSERT_EQ(region(s, DATA_VA, 1, MM_REGION_POPULATE), DATA_VA);
	struct x86_user_result r;
	EXPECT_EQ(x86_user_env_run(&env, x86_uprog_write, DATA_VA + 8, &r), X86_USER_FAULTED);
	EXPECT_EQ(r.vector, X86_VEC_PF);
	EXPECT_EQ(r.error_code, X86_PF_PRESENT | PF_USER_WRITE);
	EXPECT_EQ(r.addr, DATA_VA + 8);
	EXPECT_EQ(r.rip, x86_user_env_entry(&env, x86_uprog_write));
	EXPECT_EQ(r.fault_error, MM_EPERM);
	uint8_t b = 1;
	EXPECT_EQ(x86_user_peek(s, &b, DATA_VA + 8, 1), MM_OK);
	EXPECT_EQ(b, 0);
	/* A read of the same page is fine. */
	EXPECT_EQ(x86_user_env_run(&env, x86_uprog_load, DATA_VA, &r), X86_USER_EXITED);
	EXPECT_EQ(r.value, 0);
	mm_destroy_space(s);
}

TEST(user, execute_from_no_execute_page_faults)
{
	if (!x86_features.nx_on)
		return; /* without NX every readable page is executable */
	struct x86_user_env env;
	mm_space_t s = env_create(&env);
	ASSERT_TRUE(s);
	ASSERT_EQ(region(s, DATA_VA, 1, MM_FLG_WR | MM_REGION_POPULATE), DATA_VA);
	static const uint8_t ret = 0xC3;
	ASSERT_EQ(x86_user_poke(s, DATA_VA, &ret, 1), MM_OK);
	struct x86_user_result r;
	EXPECT_EQ(x86_user_env_run(&env, x86_uprog_call, DATA_VA, &r), X86_USER_FAULTED);
	EXPECT_EQ(r.vector, X86_VEC_PF);
	EXPECT_EQ(r.error_code, X86_PF_PRESENT | X86_PF_USER | X86_PF_FETCH);
	EXPECT_EQ(r.addr, DATA_VA);
	EXPECT_EQ(r.rip, DATA_VA);
	EXPECT_EQ(r.fault_error, MM_EPERM);
	mm_destroy_space(s);
}

TEST(user, access_without_region_faults)
{
	struct x86_user_env env;
	mm_space_t s = env_create(&env);
	ASSERT_TRUE(s);
	struct x86_user_result r;
	EXPECT_EQ(x86_user_env_run(&env, x86_uprog_write, HOLE_VA + 3, &r), X86_USER_FAULTED);
	EXPECT_EQ(r.vector, X86_VEC_PF);
	EXPECT_EQ(r.error_code, PF_USER_WRITE);
	EXPECT_EQ(r.addr, HOLE_VA + 3);
	EXPECT_EQ(r.fault_error, MM_EFAULT);
	EXPECT_EQ(x86_user_env_run(&env, x86_uprog_load, HOLE_VA, &r), X86_USER_FAULTED);
	EXPECT_EQ(r.error_code, X86_PF_USER);
	EXPECT_EQ(r.addr, HOLE_VA);
	EXPECT_EQ(r.fault_error, MM_EFAULT);
	/* Page 0 is never mapped. */
	EXPECT_EQ(x86_user_env_run(&env, x86_uprog_load, 0, &r), X86_USER_FAULTED);
	EXPECT_EQ(r.addr, 0);
	EXPECT_EQ(r.fault_error, MM_EFAULT);
	mm_destroy_space(s);
}

static volatile uint64_t kernel_secret = 0x5EC2E7;

TEST(user, cannot_read_kernel_memory)
{
	struct x86_user_env env;
	mm_space_t s = env_create(&env);
	ASSERT_TRUE(s);
	struct x86_user_result r;
	/* The image's data, the direct map alias of the same cell, and the image's text. */
	uintptr_t targets[] = {
	    (uintptr_t)&kernel_secret,
	    (uintptr_t)arch_phys_to_virt(x86_image_phys((const void *)&kernel_secret)),
	    (uintptr_t)&x86_user_run,
	};
	for (unsigned i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		EXPECT_EQ(x86_user_env_run(&env, x86_uprog_load, targets[i], &r), X86_USER_FAULTED);
		EXPECT_EQ(r.vector, X86_VEC_PF);
		EXPECT_EQ(r.error_code, X86_PF_PRESENT | X86_PF_USER);
		EXPECT_EQ(r.addr, targets[i]);
		EXPECT_EQ(r.fault_error, MM_EFAULT);
		EXPECT_NE(r.value, 0x5EC2E7);
	}
	/* A write there is refused as well, and changes nothing. */
	EXPECT_EQ(x86_user_env_run(&env, x86_uprog_write, (uintptr_t)&kernel_secret, &r),
	          X86_USER_FAULTED);
	EXPECT_EQ(r.error_code, X86_PF_PRESENT | PF_USER_WRITE);
	EXPECT_EQ(kernel_secret, 0x5EC2E7);
	mm_destroy_space(s);
}

TEST(user, other_exceptions_end_the_program)
{
	struct x86_user_env env;
	mm_space_t s = env_create(&env);
	ASSERT_TRUE(s);
	struct {
		const char *prog;
		uint32_t vector;
	} cases[] = {
	    {x86_uprog_hlt, 13}, /* #GP: a privileged instruction */
	    {x86_uprog_ud2, 6},  /* #UD */
	    {x86_uprog_div0, 0}, /* #DE */
	};
	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct x86_user_result r;
		EXPECT_EQ(x86_user_env_run(&env, cases[i].prog, 0, &r), X86_USER_FAULTED);
		EXPECT_EQ(r.vector, cases[i].vector);
		EXPECT_EQ(r.error_code, 0);
		EXPECT_EQ(r.addr, 0);
		EXPECT_GE(r.rip, x86_user_env_entry(&env, cases[i].prog));
		EXPECT_LT(r.rip, x86_user_env_entry(&env, cases[i].prog) + 16);
		EXPECT_EQ(r.rsp, env.stack_top);
	}
	mm_destroy_space(s);
}

TEST(user, copy_on_write_after_fork)
{
	enum { PAGES = 4 };
	struct x86_user_env env;
	mm_space_t parent = env_create(&env);
	ASSERT_TRUE(parent);
	ASSERT_EQ(region(parent, DATA_VA, PAGES, MM_FLG_WR), DATA_VA);
	struct x86_user_result r;
	ASSERT_EQ(run_args(&env, x86_uprog_touch, DATA_VA, PAGES, &r), X86_USER_EXITED);

	mm_space_t child = mm_create_space(NULL);
	ASSERT_TRUE(child);
	ASSERT_EQ(mm_space_fork(child, parent, MM_FLG_CLONE_USER), MM_OK);
	struct x86_user_env child_env = env;
	child_env.space = child;

	/* The child's write breaks the sharing of that page only. */
	EXPECT_EQ(x86_user_env_run(&child_env, x86_uprog_write, DATA_VA + 1, &r), X86_USER_EXITED);
	EXPECT_EQ(r.faults_resolved, 1);
	uint8_t mine[2], theirs[2];
	EXPECT_EQ(x86_user_peek(child, mine, DATA_VA, 2), MM_OK);
	EXPECT_EQ(x86_user_peek(parent, theirs, DATA_VA, 2), MM_OK);
	EXPECT_EQ(mine[0], 0xA5);
	EXPECT_EQ(mine[1], 0x5A);
	EXPECT_EQ(theirs[0], 0xA5);
	EXPECT_EQ(theirs[1], 0);
	EXPECT_NE(mm_translate(child, DATA_VA, NULL), mm_translate(parent, DATA_VA, NULL));
	EXPECT_EQ(mm_translate(child, DATA_VA + MM_PAGE_SIZE, NULL),
	          mm_translate(parent, DATA_VA + MM_PAGE_SIZE, NULL));

	/* Both still read what the parent wrote before the fork. */
	EXPECT_EQ(run_args(&child_env, x86_uprog_read, DATA_VA + MM_PAGE_SIZE, PAGES - 1, &r),
	          X86_USER_EXITED);
	EXPECT_EQ(r.value, (PAGES - 1) * 0xA5ull);
	EXPECT_EQ(run_args(&env, x86_uprog_read, DATA_VA, PAGES, &r), X86_USER_EXITED);
	EXPECT_EQ(r.value, PAGES * 0xA5ull);
	mm_destroy_space(child);
	mm_destroy_space(parent);
}

/* ---- Interrupts arriving in ring 3 --------------------------------------------------------- */

/* A vector nothing else uses (the PICs sit at 0x20..0x2F, the kernel's own at 0xF0 and up). */
#define TEST_VECTOR 0xE0

static struct {
	unsigned hits;
	uint64_t cs;
	bool gs_ok;
} irq_seen;

static void test_irq(struct x86_trap_frame *frame)
{
	irq_seen.hits++;
	irq_seen.cs = frame->cs;
	/* The entry swapped GS back: the per-CPU data is this CPU's. */
	irq_seen.gs_ok = x86_this_cpu() == &x86_percpu[arch_cpu_id()];
	x86_apic_eoi();
}

TEST(user, interrupt_in_ring3_returns_to_the_program)
{
	struct x86_user_env env;
	mm_space_t s = env_create(&env);
	ASSERT_TRUE(s);
	irq_seen.hits = 0;
	x86_set_irq_handler(TEST_VECTOR, test_irq);
	/* Sent with interrupts off, the IPI waits until iretq turns them on in ring 3. */
	x86_cli();
	x86_apic_send_ipi(x86_apic_id(), TEST_VECTOR);
	struct x86_user_result r;
	int status = x86_user_env_run(&env, x86_uprog_echo, 99, &r);
	x86_sti();
	for (unsigned spin = 0; spin < 1000000 && irq_seen.hits == 0; spin++)
		arch_cpu_relax();
	x86_set_irq_handler(TEST_VECTOR, NULL);
	EXPECT_EQ(status, X86_USER_EXITED);
	EXPECT_EQ(r.value, 99);
	EXPECT_EQ(irq_seen.hits, 1);
	EXPECT_EQ(irq_seen.cs, X86_SEL_UCODE | X86_RPL_USER);
	EXPECT_TRUE(irq_seen.gs_ok);
	mm_destroy_space(s);
}

/* ---- The kernel against user pages: SMEP and SMAP ---------------------------------------- */

extern const char user_test_smap_insn[], user_test_smap_done[];

__attribute__((noinline)) static uint64_t kernel_read(uintptr_t addr)
{
	uint64_t v = 0;
	__asm__ volatile(".globl user_test_smap_insn, user_test_smap_done\n"
	                 "user_test_smap_insn: movq (%1), %0\n"
	                 "user_test_smap_done:"
	                 : "+r"(v)
	                 : "r"(addr)
	                 : "memory");
	return v;
}

static struct {
	unsigned hits;
	uint64_t error;
	uintptr_t addr;
	uintptr_t exec_target;
	x86_pf_hook_t next;
} probe;

/* Resumes after the two faults these tests provoke in ring 0; anything else goes on to the
 * hook that was installed before. */
static bool probe_hook(struct x86_trap_frame *f, uintptr_t addr)
{
	if (!(f->error & X86_PF_USER) && f->rip == (uintptr_t)user_test_smap_insn) {
		f->rip = (uintptr_t)user_test_smap_done;
	} else if (!(f->error & X86_PF_USER) && probe.exec_target && f->rip == probe.exec_target) {
		/* The call into the user page faulted on its first fetch: return to the caller,
		 * whose return address the call left at the top of the kernel stack. */
		f->rip = *(const uint64_t *)(uintptr_t)f->rsp;
		f->rsp += 8;
	} else {
		return probe.next ? probe.next(f, addr) : false;
	}
	probe.hits++;
	probe.error = f->error;
	probe.addr = addr;
	return true;
}

static void probe_begin(uintptr_t exec_target)
{
	probe.hits = 0;
	probe.error = 0;
	probe.addr = 0;
	probe.exec_target = exec_target;
	probe.next = x86_set_page_fault_hook(probe_hook);
}

static void probe_end(void)
{
	x86_set_page_fault_hook(probe.next);
}

TEST(user, smap_and_smep_are_on)
{
	if (x86_features.smep)
		EXPECT_NE(x86_read_cr4() & X86_CR4_SMEP, 0);
	if (x86_features.smap)
		EXPECT_NE(x86_read_cr4() & X86_CR4_SMAP, 0);
	EXPECT_EQ(x86_rflags() & X86_RFLAGS_AC, 0);
}

TEST(user, kernel_cannot_read_user_pages)
{
	if (!x86_features.smap_on)
		return;
	struct x86_user_env env;
	mm_space_t s = env_create(&env);
	ASSERT_TRUE(s);
	uint64_t cell = 0x600DF00D;
	ASSERT_EQ(x86_user_poke(s, env.args, &cell, sizeof cell), MM_OK);
	mm_set(s);
	probe_begin(0);
	uint64_t v = kernel_read(env.args);
	probe_end();
	mm_set(mm_kernel_space());
	EXPECT_EQ(probe.hits, 1);
	EXPECT_EQ(probe.error, X86_PF_PRESENT); /* a ring-0 read of a present page */
	EXPECT_EQ(probe.addr, env.args);
	EXPECT_EQ(v, 0);
	mm_destroy_space(s);
}

TEST(user, kernel_cannot_execute_user_pages)
{
	if (!x86_features.smep_on)
		return;
	struct x86_user_env env;
	mm_space_t s = env_create(&env);
	ASSERT_TRUE(s);
	/* A user page holding `ret`: if SMEP let the call through, it would just return, and
	 * the count below would say so. */
	uintptr_t target = x86_user_env_entry(&env, x86_uprog_ret);
	mm_set(s);
	probe_begin(target);
	((void (*)(void))target)();
	probe_end();
	mm_set(mm_kernel_space());
	EXPECT_EQ(probe.hits, 1);
	EXPECT_EQ(probe.error, X86_PF_PRESENT | X86_PF_FETCH);
	EXPECT_EQ(probe.addr, target);
	mm_destroy_space(s);
}

/* ---- Afterwards ---------------------------------------------------------------------------- */

TEST(user, kernel_state_survives_many_excursions)
{
	struct x86_user_env env;
	mm_space_t s = env_create(&env);
	ASSERT_TRUE(s);
	/* Values the compiler keeps in callee-saved registers across the calls. */
	uint64_t a = 0x0123456789ABCDEFull, b = ~a, c = a * 3, d = b ^ 0x55;
	unsigned wrong = 0;
	for (unsigned i = 0; i < 64; i++) {
		struct x86_user_result r;
		const char *prog = i % 2 ? x86_uprog_ud2 : x86_uprog_exit;
		int status = x86_user_env_run(&env, prog, i, &r);
		wrong += status != (i % 2 ? X86_USER_FAULTED : X86_USER_EXITED);
		wrong += i % 2 == 0 && r.value != i;
		a = a * 5 + 1;
		b ^= a;
		c += b;
		d -= c;
	}
	EXPECT_EQ(wrong, 0);
	/* The same arithmetic without excursions. */
	uint64_t ea = 0x0123456789ABCDEFull, eb = ~ea, ec = ea * 3, ed = eb ^ 0x55;
	for (unsigned i = 0; i < 64; i++) {
		ea = ea * 5 + 1;
		eb ^= ea;
		ec += eb;
		ed -= ec;
	}
	EXPECT_EQ(a, ea);
	EXPECT_EQ(b, eb);
	EXPECT_EQ(c, ec);
	EXPECT_EQ(d, ed);
	EXPECT_EQ(arch_space_current(), x86_kernel_root());
	mm_destroy_space(s);
}


TEST(user, spaces_leave_no_frames_behind)
{
	uint64_t before = 0;
	/* The first round lets caches and slabs settle; the second must give back all it took. */
	for (int round = 0; round < 2; round++) {
		if (round == 1)
			before = free_frames();
		struct x86_user_env env;
		mm_space_t s = env_create(&env);
		ASSERT_TRUE(s);
		ASSERT_EQ(region(s, DATA_VA, 8, MM_FLG_WR), DATA_VA);
		struct x86_user_result r;
		EXPECT_EQ(run_args(&env, x86_uprog_touch, DATA_VA, 8, &r), X86_USER_EXITED);
		EXPECT_EQ(x86_user_env_run(&env, x86_uprog_write, HOLE_VA, &r), X86_USER_FAULTED);
		mm_destroy_space(s);
	}
	EXPECT_EQ(free_frames(), before);
}
