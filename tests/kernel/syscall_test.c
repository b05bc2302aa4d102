/*
 * Kernel-only tests of the system calls (mmkernel/syscall.h), made from ring 3 by the
 * script program x86_uprog_calls: what each call does to the space, every refusal changing
 * nothing, fork's children belonging to the program that made them and going with it.
 * Every test is leak_checked: no frame or heap object outlives it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <arch/arch.h>
#include <arch/x86_64/cpu.h>
#include <lib/string.h>
#include <mm/region.h>
#include <mmkernel/syscall.h>
#include <mmtest/smp.h>
#include <mmtest/test.h>

#include "kernel/ring3/user_run.h"

#include "tests/suites/fixtures.h"
#include "tests/suites/helpers.h"

/* Addresses for fixed mappings, away from the environment's code, arguments and stack. */
#define FIXED_VA 0x0000000010000000ull
#define PAGE MM_PAGE_SIZE

#define RW (MMK_PROT_READ | MMK_PROT_WRITE)
#define ERR(e) ((uint64_t) - (int64_t)(e))

/* A space with the ring-3 environment, owned by the test. */
static mm_space_t env_space(struct mm_test_ctx *t, struct x86_user_env *env)
{
	mm_space_t space = test_space(t);
	if (space && x86_user_env_init(env, space) != MM_OK)
		return NULL;
	return space;
}

/* Runs the calls in env's space; their results come back in *c. true when the script
 * ran to its end. */
static bool run_calls(const struct x86_user_env *env, struct x86_uprog_calls *c)
{
	struct x86_user_result r;
	if (x86_user_poke(env->space, env->args, c, sizeof *c) != MM_OK)
		return false;
	int status = x86_user_env_run(env, x86_uprog_calls, env->args, &r);
	if (status != X86_USER_EXITED || r.value != c->count)
		return false;
	return x86_user_peek(env->space, c, env->args, sizeof *c) == MM_OK;
}

/* One call from ring 3: its result (~0 with a failed test when the program did not run). */
static uint64_t call1(struct mm_test_ctx *t, const struct x86_user_env *env, uint64_t nr,
                      uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct x86_uprog_calls c = {.count = 1};
	c.call[0] = (struct x86_uprog_call){nr, {a0, a1, a2, a3}, 0};
	if (!run_calls(env, &c)) {
		EXPECT_TRUE(!"the script program did not finish");
		return ~0ull;
	}
	return c.call[0].result;
}

static uint64_t resident(mm_space_t space, uintptr_t addr)
{
	struct mm_region_info info;
	return mm_region_query(space, addr, &info) == MM_OK ? info.resident_pages : ~0ull;
}

static bool mapped_at(mm_space_t space, uintptr_t addr)
{
	struct mm_region_info info;
	return mm_region_query(space, addr, &info) == MM_OK;
}

/* Runs x86_uprog_touch over count pages from base: whether it wrote them all. */
static bool touch(const struct x86_user_env *env, uintptr_t base, uint64_t count,
                  struct x86_user_result *r)
{
	struct x86_uprog_args a = {base, count, 0};
	if (x86_user_poke(env->space, env->args, &a, sizeof a) != MM_OK)
		return false;
	return x86_user_env_run(env, x86_uprog_touch, env->args, r) == X86_USER_EXITED &&
	       r->value == count;
}

TEST_F(leak_checked, syscall, null_returns_its_argument)
{
	struct x86_user_env env;
	ASSERT_TRUE(env_space(t, &env));
	x86_sti();
	EXPECT_EQ(call1(t, &env, MMK_SYS_NULL, 0x1234, 0, 0, 0), 0x1234u);
	EXPECT_EQ(call1(t, &env, 0x7000, 0, 0, 0, 0), X86_SYS_ENOSYS);
}

TEST_F(leak_checked, syscall, mmap_gives_memory_on_first_touch)
{
	struct x86_user_env env;
	mm_space_t s = env_space(t, &env);
	ASSERT_TRUE(s);
	x86_sti();
	uint64_t addr = call1(t, &env, MMK_SYS_MMAP, 0, 3 * PAGE, RW, 0);
	ASSERT_FALSE(MMK_IS_ERROR(addr));
	EXPECT_EQ(addr & (PAGE - 1), 0u);
	EXPECT_TRUE(addr >= MM_USER_BASE && addr + 3 * PAGE <= MM_USER_END);
	EXPECT_EQ(resident(s, addr), 0u);
	struct x86_user_result r;
	EXPECT_TRUE(touch(&env, addr, 3, &r));
	EXPECT_EQ(r.faults_resolved, 3u);
	EXPECT_EQ(resident(s, addr), 3u);
	/* A length short of a page is a page. */
	uint64_t small = call1(t, &env, MMK_SYS_MMAP, 0, 100, RW, 0);
	ASSERT_FALSE(MMK_IS_ERROR(small));
	EXPECT_EQ(call1(t, &env, MMK_SYS_MUNMAP, small, PAGE, 0, 0), 0u);
}

TEST_F(leak_checked, syscall, populate_maps_every_page_now)
{
	struct x86_user_env env;
	mm_space_t s = env_space(t, &env);
	ASSERT_TRUE(s);
	x86_sti();
	uint64_t addr = call1(t, &env, MMK_SYS_MMAP, 0, 4 * PAGE, RW, MMK_MAP_POPULATE);
	ASSERT_FALSE(MMK_IS_ERROR(addr));
	EXPECT_EQ(resident(s, addr), 4u);
	struct x86_user_result r;
	EXPECT_TRUE(touch(&env, addr, 4, &r));
	EXPECT_EQ(r.faults_resolved, 0u);
}

TEST_F(leak_checked, syscall, fixed_goes_where_asked_and_never_replaces)
{
	struct x86_user_env env;
	mm_space_t s = env_space(t, &env);
	ASSERT_TRUE(s);
	x86_sti();
	EXPECT_EQ(
	    call1(t, &env, MMK_SYS_MMAP, FIXED_VA, 2 * PAGE, RW, MMK_MAP_FIXED | MMK_MAP_POPULATE),
	    FIXED_VA);
	EXPECT_EQ(resident(s, FIXED_VA), 2u);
	/* Over it, whole or in part: refused, and the mapping keeps its pages. */
	EXPECT_EQ(call1(t, &env, MMK_SYS_MMAP, FIXED_VA, PAGE, RW, MMK_MAP_FIXED), ERR(MMK_EEXIST));
	EXPECT_EQ(call1(t, &env, MMK_SYS_MMAP, FIXED_VA - PAGE, 2 * PAGE, RW, MMK_MAP_FIXED),
	          ERR(MMK_EEXIST));
	EXPECT_EQ(resident(s, FIXED_VA), 2u);
	EXPECT_FALSE(mapped_at(s, FIXED_VA - PAGE));
	/* A hint that is taken is only a hint: the call still succeeds elsewhere. */
	uint64_t other = call1(t, &env, MMK_SYS_MMAP, FIXED_VA, PAGE, RW, 0);
	EXPECT_FALSE(MMK_IS_ERROR(other));
	EXPECT_NE(other, FIXED_VA);
}

TEST_F(leak_checked, syscall, mmap_refusals_change_nothing)
{
	struct x86_user_env env;
	mm_space_t s = env_space(t, &env);
	ASSERT_TRUE(s);
	x86_sti();
	uint64_t before = free_frames();
	const uint64_t fixed = MMK_MAP_FIXED;
	struct {
		uint64_t addr, length, prot, flags, error;
	} refused[] = {
	    {0, 0, RW, 0, MMK_EINVAL},                             /* empty */
	    {0, PAGE, RW, 0x100, MMK_EINVAL},                      /* unknown flag */
	    {0, PAGE, 0x8, 0, MMK_EINVAL},                         /* unknown prot */
	    {0, PAGE, RW | MMK_PROT_EXEC, 0, MMK_EPERM},           /* W^X */
	    {FIXED_VA + 1, PAGE, RW, fixed, MMK_EINVAL},           /* unaligned */
	    {0, PAGE, RW, fixed, MMK_EINVAL},                      /* page 0 */
	    {MM_USER_END, PAGE, RW, fixed, MMK_EINVAL},            /* kernel half */
	    {MM_USER_END - PAGE, 2 * PAGE, RW, fixed, MMK_EINVAL}, /* leaves the half */
	    {FIXED_VA, ~0ull - PAGE, RW, fixed, MMK_EINVAL},       /* wraps */
	    {0, MM_USER_END, RW, 0, MMK_ENOMEM},                   /* no room */
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
		EXPECT_EQ(call1(t, &env, MMK_SYS_MMAP, refused[i].addr, refused[i].length, refused[i].prot,
		                refused[i].flags),
		          ERR(refused[i].error));
	EXPECT_FALSE(mapped_at(s, FIXED_VA));
	EXPECT_FALSE(mapped_at(s, MM_USER_END - PAGE));
	EXPECT_EQ(free_frames(), before);
}

TEST_F(leak_checked, syscall, munmap_takes_one_whole_mapping)
{
	struct x86_user_env env;
	mm_space_t s = env_space(t, &env);
	ASSERT_TRUE(s);
	x86_sti();
	ASSERT_EQ(
	    call1(t, &env, MMK_SYS_MMAP, FIXED_VA, 4 * PAGE, RW, MMK_MAP_FIXED | MMK_MAP_POPULATE),
	    FIXED_VA);
	ASSERT_EQ(call1(t, &env, MMK_SYS_MMAP, FIXED_VA + 4 * PAGE, PAGE, RW,
	                MMK_MAP_FIXED | MMK_MAP_POPULATE),
	          FIXED_VA + 4 * PAGE);
	uint64_t before = free_frames();
	/* Part of it, its inside, two mappings at once, a bad range: refused, nothing gone. */
	EXPECT_EQ(call1(t, &env, MMK_SYS_MUNMAP, FIXED_VA, 2 * PAGE, 0, 0), ERR(MMK_EINVAL));
	EXPECT_EQ(call1(t, &env, MMK_SYS_MUNMAP, FIXED_VA + PAGE, 3 * PAGE, 0, 0), ERR(MMK_EINVAL));
	EXPECT_EQ(call1(t, &env, MMK_SYS_MUNMAP, FIXED_VA, 5 * PAGE, 0, 0), ERR(MMK_EINVAL));
	EXPECT_EQ(call1(t, &env, MMK_SYS_MUNMAP, FIXED_VA, 0, 0, 0), ERR(MMK_EINVAL));
	EXPECT_EQ(call1(t, &env, MMK_SYS_MUNMAP, FIXED_VA + 8, 4 * PAGE, 0, 0), ERR(MMK_EINVAL));
	EXPECT_EQ(call1(t, &env, MMK_SYS_MUNMAP, MM_USER_END, PAGE, 0, 0), ERR(MMK_EINVAL));
	EXPECT_EQ(call1(t, &env, MMK_SYS_MUNMAP, ~0ull - PAGE + 1, PAGE, 0, 0), ERR(MMK_EINVAL));
	EXPECT_EQ(call1(t, &env, MMK_SYS_MUNMAP, FIXED_VA + 8 * PAGE, PAGE, 0, 0), ERR(MMK_ENOENT));
	EXPECT_EQ(resident(s, FIXED_VA), 4u);
	EXPECT_EQ(resident(s, FIXED_VA + 4 * PAGE), 1u);
	EXPECT_EQ(free_frames(), before);
	/* The first mapping whole (length rounded up to pages): its frames are free again,
	 * the neighbour stays. */
	EXPECT_EQ(call1(t, &env, MMK_SYS_MUNMAP, FIXED_VA, 4 * PAGE - 100, 0, 0), 0u);
	EXPECT_FALSE(mapped_at(s, FIXED_VA));
	EXPECT_EQ(resident(s, FIXED_VA + 4 * PAGE), 1u);
	EXPECT_TRUE(free_frames() >= before + 4);
	/* And the program can no longer reach it. */
	struct x86_user_result r;
	EXPECT_FALSE(touch(&env, FIXED_VA, 1, &r));
	EXPECT_EQ(r.status, X86_USER_FAULTED);
	EXPECT_EQ(r.addr, FIXED_VA);
}

TEST_F(leak_checked, syscall, mprotect_changes_what_the_program_may_do)
{
	struct x86_user_env env;
	mm_space_t s = env_space(t, &env);
	ASSERT_TRUE(s);
	x86_sti();
	ASSERT_EQ(
	    call1(t, &env, MMK_SYS_MMAP, FIXED_VA, 3 * PAGE, RW, MMK_MAP_FIXED | MMK_MAP_POPULATE),
	    FIXED_VA);
	struct x86_user_result r;
	EXPECT_TRUE(touch(&env, FIXED_VA, 3, &r));
	/* The middle page read-only: writes there fault, the others still work. */
	EXPECT_EQ(call1(t, &env, MMK_SYS_MPROTECT, FIXED_VA + PAGE, PAGE, MMK_PROT_READ, 0), 0u);
	EXPECT_FALSE(touch(&env, FIXED_VA, 3, &r));
	EXPECT_EQ(r.status, X86_USER_FAULTED);
	EXPECT_EQ(r.addr, FIXED_VA + PAGE);
	EXPECT_TRUE(touch(&env, FIXED_VA + 2 * PAGE, 1, &r));
	/* Refusals change nothing: the page stays read-only. */
	EXPECT_EQ(call1(t, &env, MMK_SYS_MPROTECT, FIXED_VA, PAGE, 0x10, 0), ERR(MMK_EINVAL));
	EXPECT_EQ(call1(t, &env, MMK_SYS_MPROTECT, FIXED_VA, 3 * PAGE, RW | MMK_PROT_EXEC, 0),
	          ERR(MMK_EPERM));
	EXPECT_EQ(call1(t, &env, MMK_SYS_MPROTECT, FIXED_VA, 4 * PAGE, RW, 0), ERR(MMK_ENOENT));
	EXPECT_EQ(call1(t, &env, MMK_SYS_MPROTECT, FIXED_VA + 1, PAGE, RW, 0), ERR(MMK_EINVAL));
	EXPECT_EQ(call1(t, &env, MMK_SYS_MPROTECT, FIXED_VA, 0, RW, 0), ERR(MMK_EINVAL));
	EXPECT_EQ(call1(t, &env, MMK_SYS_MPROTECT, MM_USER_END - PAGE, 2 * PAGE, RW, 0),
	          ERR(MMK_EINVAL));
	EXPECT_EQ(call1(t, &env, MMK_SYS_MPROTECT, X86_USER_STACK_TOP, PAGE, RW, 0), ERR(MMK_ENOENT));
	EXPECT_FALSE(touch(&env, FIXED_VA + PAGE, 1, &r));
	/* Writable again. */
	EXPECT_EQ(call1(t, &env, MMK_SYS_MPROTECT, FIXED_VA, 3 * PAGE, RW, 0), 0u);
	EXPECT_TRUE(touch(&env, FIXED_VA, 3, &r));
}

TEST_F(leak_checked, syscall, fork_makes_a_copy_on_write_child_that_wait_frees)
{
	struct x86_user_env env;
	mm_space_t s = env_space(t, &env);
	ASSERT_TRUE(s);
	x86_sti();
	ASSERT_EQ(call1(t, &env, MMK_SYS_MMAP, FIXED_VA, PAGE, RW, MMK_MAP_FIXED | MMK_MAP_POPULATE),
	          FIXED_VA);
	uint32_t flags = 0;
	ASSERT_TRUE(mm_translate(s, FIXED_VA, &flags) != MM_NADDR);
	EXPECT_TRUE(flags & MM_FLG_WR);
	uint64_t before = free_frames();
	struct x86_uprog_calls c = {.count = 3};
	c.call[0] = (struct x86_uprog_call){MMK_SYS_FORK, {0}, 0};
	c.call[1] = (struct x86_uprog_call){MMK_SYS_WAIT, {X86_UPROG_PREVIOUS}, 0};
	c.call[2] = (struct x86_uprog_call){MMK_SYS_WAIT, {X86_UPROG_PREVIOUS}, 0};
	ASSERT_TRUE(run_calls(&env, &c));
	EXPECT_TRUE(c.call[0].result >= 1 && !MMK_IS_ERROR(c.call[0].result));
	EXPECT_EQ(c.call[1].result, 0u);
	EXPECT_EQ(c.call[2].result, ERR(MMK_EINVAL)); /* 0 is no handle */
	/* The parent's page was made copy-on-write by the fork, and the child is gone. */
	ASSERT_TRUE(mm_translate(s, FIXED_VA, &flags) != MM_NADDR);
	EXPECT_FALSE(flags & MM_FLG_WR);
	EXPECT_EQ(free_frames(), before);
	/* A handle waited for is gone; so are handles never given. */
	EXPECT_EQ(call1(t, &env, MMK_SYS_WAIT, c.call[0].result, 0, 0, 0), ERR(MMK_EINVAL));
	EXPECT_EQ(call1(t, &env, MMK_SYS_WAIT, 9999, 0, 0, 0), ERR(MMK_EINVAL));
	EXPECT_EQ(call1(t, &env, MMK_SYS_WAIT, ~0ull, 0, 0, 0), ERR(MMK_EINVAL));
}

TEST_F(leak_checked, syscall, children_not_waited_for_go_with_the_program)
{
	struct x86_user_env env;
	mm_space_t s = env_space(t, &env);
	ASSERT_TRUE(s);
	x86_sti();
	ASSERT_EQ(
	    call1(t, &env, MMK_SYS_MMAP, FIXED_VA, 8 * PAGE, RW, MMK_MAP_FIXED | MMK_MAP_POPULATE),
	    FIXED_VA);
	uint64_t before = free_frames();
	/* One more fork than a program may hold: the last is refused, the others all differ. */
	struct x86_uprog_calls c = {.count = MMK_MAX_CHILDREN + 1};
	for (unsigned i = 0; i < c.count; i++)
		c.call[i] = (struct x86_uprog_call){MMK_SYS_FORK, {0}, 0};
	ASSERT_TRUE(run_calls(&env, &c));
	for (unsigned i = 0; i < MMK_MAX_CHILDREN; i++) {
		EXPECT_FALSE(MMK_IS_ERROR(c.call[i].result));
		for (unsigned j = 0; j < i; j++)
			EXPECT_NE(c.call[i].result, c.call[j].result);
	}
	EXPECT_EQ(c.call[MMK_MAX_CHILDREN].result, ERR(MMK_ENOMEM));
	/* Every child's tables and the references on the parent's frames went with the
	 * program's end. */
	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(call1(t, &env, MMK_SYS_WAIT, c.call[0].result, 0, 0, 0), ERR(MMK_EINVAL));
}

/* ---- A handle is good only in the program that forked ---------------------------------- */

struct two_programs {
	struct x86_user_env parent, other;
	struct x86_uprog_calls parent_calls, other_calls;
	bool parent_ran;
	const char *error;
};

/* Index 1 runs the parent (fork, wait for the flag, wait for its child); index 0 runs the
 * other program's wait on the parent's handle while the parent still holds it. */
static void two_programs_cpu(unsigned index, void *arg)
{
	struct two_programs *p = arg;
	if (index == 1) {
		p->parent_ran = run_calls(&p->parent, &p->parent_calls);
		return;
	}
	uint64_t handle = 0;
	uintptr_t result = p->parent.args + offsetof(struct x86_uprog_calls, call[0].result);
	for (uint64_t polls = 0; handle == 0; polls++) {
		if (polls == 200000000ull ||
		    x86_user_peek(p->parent.space, &handle, result, sizeof handle) != MM_OK) {
			p->error = "the parent did not fork";
			break;
		}
	}
	p->other_calls.count = 1;
	p->other_calls.call[0] = (struct x86_uprog_call){MMK_SYS_WAIT, {handle}, 0};
	if (!p->error && !run_calls(&p->other, &p->other_calls))
		p->error = "the other program did not run";
	uint64_t go = 1;
	uintptr_t flag = p->parent.args + sizeof(struct x86_uprog_calls);
	if (x86_user_poke(p->parent.space, flag, &go, sizeof go) != MM_OK)
		p->error = "cannot release the parent";
}

TEST_F(leak_checked, syscall, another_program_cannot_wait_for_a_child)
{
	if (mm_test_cpu_count() < 2)
		return; /* the parent must hold its child while the other program runs */
	static struct two_programs p;
	memset(&p, 0, sizeof p);
	ASSERT_TRUE(env_space(t, &p.parent));
	ASSERT_TRUE(env_space(t, &p.other));
	uintptr_t flag = p.parent.args + sizeof(struct x86_uprog_calls);
	p.parent_calls.count = 3;
	p.parent_calls.call[0] = (struct x86_uprog_call){MMK_SYS_FORK, {0}, 0};
	p.parent_calls.call[1] = (struct x86_uprog_call){X86_UPROG_SPIN, {flag}, 0};
	p.parent_calls.call[2] = (struct x86_uprog_call){MMK_SYS_WAIT, {X86_UPROG_PREVIOUS}, 0};
	mm_test_on_cpus(2, two_programs_cpu, &p);
	EXPECT_FALSE(p.error);
	ASSERT_TRUE(p.parent_ran);
	EXPECT_EQ(p.other_calls.call[0].result, ERR(MMK_EINVAL));
	/* The refusal took nothing: the parent still had its child to wait for. */
	EXPECT_FALSE(MMK_IS_ERROR(p.parent_calls.call[0].result));
	EXPECT_EQ(p.parent_calls.call[2].result, 0u);
}
