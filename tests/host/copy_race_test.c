/*
 * Host-only: user copies racing with unmaps on another CPU. One thread copies into and out
 * of a range of space A over and over; the main thread unmaps that range, maps fresh
 * frames in space B (the ones A's range just gave back, from its CPU's cache), checks they
 * are still zero and marks them, then maps A's range again. A copy that used a frame after
 * its unmap would show: a write as a non-zero byte in B's fresh frames, a read as B's mark
 * in the bytes read.
 */
#include <lib/string.h>
#include <mm/copy.h>
#include <mm/vmm.h>
#include <mmtest/test.h>

#include <pthread.h>

#include "tests/suites/fixtures.h"
#include "tests/suites/helpers.h"
#include "vmm/invariants.h"

#define RACE_VA ((uintptr_t)0x0000310000000000ull)
#define RACE_PAGES 8
#define RACE_BYTES (RACE_PAGES * 4096)
#define RACE_ROUNDS 3000
#define MARK 0xEE
#define DATA 0x11

struct copier {
	mm_space_t space;
	int started, stop;
	uint64_t writes, reads, foreign; /* pages written and read, marked bytes seen */
};

static void *copy_loop(void *arg)
{
	struct copier *c = arg;
	static uint8_t src[4096], dst[4096];
	memset(src, DATA, sizeof(src));
	__atomic_store_n(&c->started, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		for (int p = 0; p < RACE_PAGES; p++) {
			void *user = (void *)(RACE_VA + (uintptr_t)p * 4096);
			if (mm_memcpy_kernel_to_user(c->space, user, src, sizeof(src)) == MM_OK)
				c->writes++;
			memset(dst, 0, sizeof(dst));
			if (mm_memcpy_user_to_kernel(c->space, dst, user, sizeof(dst)) == MM_OK)
				c->reads++;
			/* Whatever the outcome, no byte may come from B's frames. */
			for (size_t i = 0; i < sizeof(dst); i++)
				if (dst[i] == MARK)
					c->foreign++;
		}
	}
	return NULL;
}

static bool all_bytes(mm_space_t s, uintptr_t va, uint8_t value)
{
	for (int p = 0; p < RACE_PAGES; p++) {
		const uint8_t *bytes = MM_VIRTUALIZE(mm_translate(s, va + (uintptr_t)p * 4096, NULL));
		for (size_t i = 0; i < 4096; i++)
			if (bytes[i] != value)
				return false;
	}
	return true;
}

static void mark(mm_space_t s, uintptr_t va)
{
	for (int p = 0; p < RACE_PAGES; p++)
		memset(MM_VIRTUALIZE(mm_translate(s, va + (uintptr_t)p * 4096, NULL)), MARK, 4096);
}

TEST_F(leak_checked, host_copy, copies_never_reach_a_frame_after_its_unmap)
{
	mm_space_t a = test_space(t), b = test_space(t);
	ASSERT_NE((uintptr_t)a, 0);
	ASSERT_NE((uintptr_t)b, 0);
	ASSERT_EQ(mm_map_range(a, RACE_VA, RACE_BYTES, MM_FLG_WR | MM_FLG_US), RACE_VA);
	struct copier c = {a, 0, 0, 0, 0, 0};
	pthread_t thread;
	ASSERT_EQ(pthread_create(&thread, NULL, copy_loop, &c), 0);
	while (!__atomic_load_n(&c.started, __ATOMIC_ACQUIRE))
		;
	unsigned dirty = 0;
	for (int round = 0; round < RACE_ROUNDS; round++) {
		EXPECT_EQ(mm_umap_range(a, RACE_VA, RACE_BYTES, 0), MM_OK);
		if (mm_map_range(b, RACE_VA, RACE_BYTES, MM_FLG_WR) != RACE_VA) {
			EXPECT_EQ(round, -1);
			break;
		}
		/* Let a late copy land, if one could. */
		for (volatile int spin = 0; spin < 2000; spin++)
			;
		if (!all_bytes(b, RACE_VA, 0))
			dirty++;
		mark(b, RACE_VA);
		EXPECT_EQ(mm_map_range(a, RACE_VA, RACE_BYTES, MM_FLG_WR | MM_FLG_US), RACE_VA);
		for (volatile int spin = 0; spin < 2000; spin++)
			;
		EXPECT_EQ(mm_umap_range(b, RACE_VA, RACE_BYTES, 0), MM_OK);
	}
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);
	EXPECT_EQ(dirty, 0);
	EXPECT_EQ(c.foreign, 0);
	EXPECT_GE(c.writes, 1); /* the copier did get through */
	EXPECT_GE(c.reads, 1);
	EXPECT_EQ(vmm_check_space(a), MM_OK);
	EXPECT_EQ(vmm_check_space(b), MM_OK);
}
