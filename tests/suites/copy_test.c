/* Copies between kernel memory and a space's user half: bad input of every kind, copies
 * across pages and into large pages, memory faulted in on the way (reserve-only regions,
 * the zero page, copy-on-write after fork), strings with and without their NUL, and that a
 * failed copy never writes past the kernel buffer nor loses a frame. */
#include <lib/string.h>
#include <mm/copy.h>
#include <mm/kmalloc.h>
#include <mm/region.h>
#include <mmtest/test.h>

#include "fixtures.h"
#include "helpers.h"
#include "user_access.h"
#include "vmm/invariants.h"

#define C_VA ((uintptr_t)0x0000600000000000ull)
#define CANARY 0x5A

static uint8_t kbuf[4 * 4096 + 64];
static uint8_t pattern[4 * 4096];

static void fill_pattern(uint8_t seed)
{
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(seed + i * 7 + (i >> 9));
}

static bool canary_intact(size_t from)
{
	for (size_t i = from; i < sizeof(kbuf); i++)
		if (kbuf[i] != CANARY)
			return false;
	return true;
}

/* A region of user memory: reserve-only (faulted in on access) unless populate. */
static uintptr_t region(mm_space_t s, uintptr_t va, size_t bytes, uint32_t flags)
{
	struct mm_region_spec spec = {va, bytes, flags | MM_REGION_FIXED, MM_SECTION_DATA, NULL, 0};
	return mm_region_map(s, &spec);
}

TEST_F(leak_checked, copy, rejects_bad_input)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_EQ(region(s, C_VA, 2 * MM_PAGE_SIZE, MM_FLG_WR | MM_REGION_POPULATE), C_VA);
	/* The last page of the user half, and a read-only page. */
	ASSERT_EQ(region(s, MM_USER_END - MM_PAGE_SIZE, MM_PAGE_SIZE, MM_FLG_WR | MM_REGION_POPULATE),
	          MM_USER_END - MM_PAGE_SIZE);
	ASSERT_EQ(region(s, C_VA + 4 * MM_PAGE_SIZE, MM_PAGE_SIZE, MM_REGION_POPULATE),
	          C_VA + 4 * MM_PAGE_SIZE);
	uint64_t before = free_frames(), objects = heap_objects();
	void *user = (void *)C_VA;
	memset(kbuf, CANARY, sizeof(kbuf));

	/* NULL space and NULL pointers. */
	EXPECT_EQ(mm_memcpy_kernel_to_user(NULL, user, kbuf, 8), MM_EINVAL);
	EXPECT_EQ(mm_memcpy_user_to_kernel(NULL, kbuf, user, 8), MM_EINVAL);
	EXPECT_EQ(mm_memcpy_kernel_to_user(s, NULL, kbuf, 8), MM_EINVAL);
	EXPECT_EQ(mm_memcpy_kernel_to_user(s, user, NULL, 8), MM_EINVAL);
	EXPECT_EQ(mm_memcpy_user_to_kernel(s, NULL, user, 8), MM_EINVAL);
	EXPECT_EQ(mm_memcpy_user_to_kernel(s, kbuf, NULL, 8), MM_EINVAL);
	EXPECT_EQ(mm_strncpy_user_to_kernel(NULL, kbuf, user, 8), -1);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ(mm_strncpy_user_to_kernel(s, NULL, user, 8), -1);
	EXPECT_EQ(mm_strncpy_user_to_kernel(s, kbuf, NULL, 8), -1);
	EXPECT_EQ((uintptr_t)mm_strdup_from_user(NULL, user, 8), 0);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);
	EXPECT_EQ((uintptr_t)mm_strdup_from_user(s, NULL, 8), 0);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);

	/* Kernel addresses and page 0 are not user space. */
	const uintptr_t not_user[] = {MM_KERNEL_BASE, MM_KERNEL_MAP_BASE,
	                              MM_HW_BASE,     MM_USER_END,
	                              0x10,           (uintptr_t)MM_VIRTUALIZE(mm_space_root(s))};
	for (size_t i = 0; i < sizeof(not_user) / sizeof(not_user[0]); i++) {
		void *p = (void *)not_user[i];
		/* Unless the host put the direct map in its own user half. */
		bool user_half = not_user[i] >= MM_USER_BASE && not_user[i] < MM_USER_END;
		if (user_half)
			continue;
		EXPECT_EQ(mm_memcpy_kernel_to_user(s, p, kbuf, 8), MM_EFAULT);
		EXPECT_EQ(mm_memcpy_user_to_kernel(s, kbuf, p, 8), MM_EFAULT);
		EXPECT_EQ(mm_strncpy_user_to_kernel(s, kbuf, p, 8), -1);
		EXPECT_EQ(mm_last_error(), MM_EFAULT);
		EXPECT_EQ((uintptr_t)mm_strdup_from_user(s, p, 8), 0);
		EXPECT_EQ(mm_last_error(), MM_EFAULT);
	}

	/* Wrap-around, on either side. */
	EXPECT_EQ(mm_memcpy_kernel_to_user(s, user, kbuf, SIZE_MAX), MM_EINVAL);
	EXPECT_EQ(mm_memcpy_user_to_kernel(s, kbuf, user, SIZE_MAX - 8), MM_EINVAL);
	EXPECT_EQ(mm_memcpy_user_to_kernel(s, (void *)(UINTPTR_MAX - 16), user, 64), MM_EINVAL);
	EXPECT_EQ(mm_strncpy_user_to_kernel(s, kbuf, user, SIZE_MAX), -1);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);

	/* A range crossing the end of the user half: its first part is mapped. */
	void *last = (void *)(MM_USER_END - 8);
	EXPECT_EQ(mm_memcpy_kernel_to_user(s, last, kbuf, 8), MM_OK);
	EXPECT_EQ(mm_memcpy_kernel_to_user(s, last, kbuf, 16), MM_EFAULT);
	EXPECT_EQ(mm_memcpy_user_to_kernel(s, kbuf, last, 16), MM_EFAULT);
	EXPECT_EQ(mm_memcpy_user_to_kernel(s, kbuf, last, 8), MM_OK);
	/* A string running into the kernel half: no NUL in the user half's last 8 bytes. */
	EXPECT_EQ(mm_memcpy_kernel_to_user(s, last, "ABCDEFGH", 8), MM_OK);
	memset(kbuf, CANARY, sizeof(kbuf));
	EXPECT_EQ(mm_strncpy_user_to_kernel(s, kbuf, last, 64), -1);
	EXPECT_EQ(mm_last_error(), MM_EFAULT);
	EXPECT_TRUE(canary_intact(64));
	EXPECT_EQ(mm_strncpy_user_to_kernel(s, kbuf, last, 8), 8); /* count reached first */
	EXPECT_EQ((uintptr_t)mm_strdup_from_user(s, last, SIZE_MAX), 0);
	EXPECT_EQ(mm_last_error(), MM_EFAULT);

	/* Unmapped pages: nothing there, or past a mapped start. */
	void *hole = (void *)(C_VA + 2 * MM_PAGE_SIZE);
	EXPECT_EQ(mm_memcpy_kernel_to_user(s, hole, kbuf, 8), MM_EFAULT);
	EXPECT_EQ(mm_memcpy_user_to_kernel(s, kbuf, hole, 8), MM_EFAULT);
	memset(kbuf, CANARY, sizeof(kbuf));
	void *straddle = (void *)(C_VA + 2 * MM_PAGE_SIZE - 100);
	EXPECT_EQ(mm_memcpy_user_to_kernel(s, kbuf, straddle, 200), MM_EFAULT);
	EXPECT_TRUE(canary_intact(200)); /* the kernel buffer is never overrun */
	EXPECT_EQ(mm_memcpy_kernel_to_user(s, straddle, kbuf, 200), MM_EFAULT);

	/* A read-only destination: readable, not writable. */
	void *ro = (void *)(C_VA + 4 * MM_PAGE_SIZE);
	EXPECT_EQ(mm_memcpy_kernel_to_user(s, ro, kbuf, 8), MM_EFAULT);
	EXPECT_EQ(mm_memcpy_user_to_kernel(s, kbuf, ro, 8), MM_OK);

	/* Zero bytes: nothing is touched, anywhere. */
	EXPECT_EQ(mm_memcpy_kernel_to_user(s, hole, kbuf, 0), MM_OK);
	EXPECT_EQ(mm_memcpy_user_to_kernel(s, kbuf, hole, 0), MM_OK);
	EXPECT_EQ(mm_strncpy_user_to_kernel(s, kbuf, hole, 0), 0);

	EXPECT_EQ(free_frames(), before);
	EXPECT_EQ(heap_objects(), objects);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, copy, kernel_only_guard_and_device_pages_are_refused)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	/* A page of the user half that only the kernel may touch (no MM_FLG_US). */
	ASSERT_EQ(mm_map_range(s, C_VA, MM_PAGE_SIZE, MM_FLG_WR), C_VA);
	/* A stack: its guard page below it. */
	uintptr_t stack = mm_stack_create(s, C_VA + 64 * MM_PAGE_SIZE, 4 * MM_PAGE_SIZE);
	ASSERT_EQ(stack, C_VA + 60 * MM_PAGE_SIZE);
	/* Device memory: not RAM, so not in the direct map. */
	uintptr_t device = (uintptr_t)1 << 45;
	ASSERT_EQ(mm_map_range_pages(s, C_VA + 128 * MM_PAGE_SIZE, &device, 1,
	                             MM_FLG_WR | MM_FLG_US | MM_FLG_DMA),
	          MM_OK);
	uint64_t before = free_frames();
	memset(kbuf, CANARY, sizeof(kbuf));
	EXPECT_EQ(mm_memcpy_kernel_to_user(s, (void *)C_VA, kbuf, 8), MM_EFAULT);
	EXPECT_EQ(mm_memcpy_user_to_kernel(s, kbuf, (void *)C_VA, 8), MM_EFAULT);
	EXPECT_EQ(mm_memcpy_kernel_to_user(s, (void *)(stack - 8), kbuf, 8), MM_EFAULT);
	EXPECT_EQ(mm_memcpy_user_to_kernel(s, kbuf, (void *)(stack - 8), 16), MM_EFAULT);
	EXPECT_EQ(mm_memcpy_kernel_to_user(s, (void *)(C_VA + 128 * MM_PAGE_SIZE), kbuf, 8), MM_EFAULT);
	EXPECT_EQ(mm_memcpy_user_to_kernel(s, kbuf, (void *)(C_VA + 128 * MM_PAGE_SIZE), 8), MM_EFAULT);
	EXPECT_TRUE(canary_intact(0));
	EXPECT_EQ(free_frames(), before);
	/* The stack itself works (faulted in). */
	EXPECT_EQ(mm_memcpy_kernel_to_user(s, (void *)stack, "stack", 6), MM_OK);
	EXPECT_EQ(mm_strncpy_user_to_kernel(s, kbuf, (void *)stack, 16), 5);
	EXPECT_EQ(memcmp(kbuf, "stack", 6), 0);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, copy, round_trip_across_page_boundaries)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_EQ(mm_map_range(s, C_VA, 4 * MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US), C_VA);
	fill_pattern(3);
	/* 9000 bytes from 100 bytes before the first boundary: three pages touched. */
	uintptr_t at = C_VA + MM_PAGE_SIZE - 100;
	EXPECT_EQ(mm_memcpy_kernel_to_user(s, (void *)at, pattern, 9000), MM_OK);
	memset(kbuf, CANARY, sizeof(kbuf));
	EXPECT_EQ(mm_memcpy_user_to_kernel(s, kbuf, (void *)at, 9000), MM_OK);
	EXPECT_EQ(memcmp(kbuf, pattern, 9000), 0);
	EXPECT_TRUE(canary_intact(9000));
	/* What the program sees, page by page through its own translations. */
	for (size_t off = 0; off + 8 <= 9000; off += 1000) {
		int error;
		uint64_t expect;
		memcpy(&expect, pattern + off, 8);
		if (((at + off) & 7) == 0)
			EXPECT_EQ(user_read64(s, at + off, &error), expect);
	}
	/* Bytes around the copy are untouched (the pages were zeroed). */
	EXPECT_EQ(mm_memcpy_user_to_kernel(s, kbuf, (void *)C_VA, MM_PAGE_SIZE - 100), MM_OK);
	for (size_t i = 0; i < MM_PAGE_SIZE - 100; i++)
		if (kbuf[i] != 0)
			EXPECT_EQ(kbuf[i], 0);
	/* Every alignment and length near a boundary. */
	for (size_t start = MM_PAGE_SIZE - 9; start < MM_PAGE_SIZE + 1; start++) {
		for (size_t len = 1; len < 18; len++) {
			EXPECT_EQ(mm_memcpy_kernel_to_user(s, (void *)(C_VA + start), pattern + len, len),
			          MM_OK);
			memset(kbuf, CANARY, 32);
			EXPECT_EQ(mm_memcpy_user_to_kernel(s, kbuf, (void *)(C_VA + start), len), MM_OK);
			EXPECT_EQ(memcmp(kbuf, pattern + len, len), 0);
			EXPECT_EQ(kbuf[len], CANARY);
		}
	}
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, copy, faults_in_reserve_only_memory)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_EQ(region(s, C_VA, 16 * MM_PAGE_SIZE, MM_FLG_WR), C_VA);
	struct mm_region_info info;
	ASSERT_EQ(mm_region_query(s, C_VA, &info), MM_OK);
	EXPECT_EQ(info.resident_pages, 0);
	/* A read of untouched memory sees zeros (the zero page) and takes no frame for it. */
	memset(kbuf, CANARY, sizeof(kbuf));
	EXPECT_EQ(mm_memcpy_user_to_kernel(s, kbuf, (void *)C_VA, 2 * MM_PAGE_SIZE), MM_OK);
	for (size_t i = 0; i < 2 * MM_PAGE_SIZE; i++)
		if (kbuf[i] != 0)
			EXPECT_EQ(kbuf[i], 0);
	EXPECT_EQ(mm_translate(s, C_VA, NULL), mm_translate(s, C_VA + MM_PAGE_SIZE, NULL));
	uint64_t after_read = free_frames();
	/* A write over the zero page and into untouched pages: three frames of its own. */
	fill_pattern(11);
	uintptr_t at = C_VA + MM_PAGE_SIZE - 10;
	EXPECT_EQ(mm_memcpy_kernel_to_user(s, (void *)at, pattern, 2 * MM_PAGE_SIZE), MM_OK);
	EXPECT_EQ(after_read - free_frames(), 3);
	EXPECT_NE(mm_translate(s, C_VA + MM_PAGE_SIZE, NULL), mm_translate(s, C_VA, NULL));
	ASSERT_EQ(mm_region_query(s, C_VA, &info), MM_OK);
	EXPECT_EQ(info.resident_pages, 3);
	int error;
	uint64_t expect;
	memcpy(&expect, pattern + 10, 8);
	EXPECT_EQ(user_read64(s, C_VA + MM_PAGE_SIZE, &error), expect);
	EXPECT_EQ(mm_memcpy_user_to_kernel(s, kbuf, (void *)at, 2 * MM_PAGE_SIZE), MM_OK);
	EXPECT_EQ(memcmp(kbuf, pattern, 2 * MM_PAGE_SIZE), 0);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, copy, breaks_copy_on_write_in_the_target_only)
{
	mm_space_t parent = test_space(t), child = test_space(t);
	ASSERT_NE((uintptr_t)parent, 0);
	ASSERT_NE((uintptr_t)child, 0);
	ASSERT_EQ(region(parent, C_VA, 4 * MM_PAGE_SIZE, MM_FLG_WR | MM_REGION_POPULATE), C_VA);
	fill_pattern(1);
	ASSERT_EQ(mm_memcpy_kernel_to_user(parent, (void *)C_VA, pattern, 4 * MM_PAGE_SIZE), MM_OK);
	ASSERT_EQ(mm_space_fork(child, parent, MM_FLG_CLONE_USER), MM_OK);
	uintptr_t shared = mm_translate(parent, C_VA + MM_PAGE_SIZE, NULL);
	EXPECT_EQ(mm_translate(child, C_VA + MM_PAGE_SIZE, NULL), shared);

	/* A copy into the child's page 1: the child gets its own frame, the parent keeps it. */
	EXPECT_EQ(mm_memcpy_kernel_to_user(child, (void *)(C_VA + MM_PAGE_SIZE + 8), "child", 6),
	          MM_OK);
	EXPECT_NE(mm_translate(child, C_VA + MM_PAGE_SIZE, NULL), shared);
	EXPECT_EQ(mm_translate(parent, C_VA + MM_PAGE_SIZE, NULL), shared);
	uint32_t flags;
	mm_translate(parent, C_VA + MM_PAGE_SIZE, &flags);
	EXPECT_EQ(flags & MM_FLG_WR, 0); /* still copy-on-write in the parent */
	/* Other pages stay shared. */
	EXPECT_EQ(mm_translate(child, C_VA, NULL), mm_translate(parent, C_VA, NULL));

	/* The child sees the new bytes and the rest of the old page; the parent the old. */
	EXPECT_EQ(mm_memcpy_user_to_kernel(child, kbuf, (void *)(C_VA + MM_PAGE_SIZE), MM_PAGE_SIZE),
	          MM_OK);
	EXPECT_EQ(memcmp(kbuf, pattern + MM_PAGE_SIZE, 8), 0);
	EXPECT_EQ(memcmp(kbuf + 8, "child", 6), 0);
	EXPECT_EQ(memcmp(kbuf + 14, pattern + MM_PAGE_SIZE + 14, MM_PAGE_SIZE - 14), 0);
	EXPECT_EQ(mm_memcpy_user_to_kernel(parent, kbuf, (void *)C_VA, 4 * MM_PAGE_SIZE), MM_OK);
	EXPECT_EQ(memcmp(kbuf, pattern, 4 * MM_PAGE_SIZE), 0);
	EXPECT_EQ(mm_strncpy_user_to_kernel(child, kbuf, (void *)(C_VA + MM_PAGE_SIZE + 8), 64), 5);

	/* Reads from copy-on-write pages copy nothing. */
	uint64_t frames = free_frames();
	EXPECT_EQ(mm_memcpy_user_to_kernel(child, kbuf, (void *)(C_VA + 2 * MM_PAGE_SIZE), 64), MM_OK);
	EXPECT_EQ(free_frames(), frames);
	EXPECT_EQ(vmm_check_space(parent), MM_OK);
	EXPECT_EQ(vmm_check_space(child), MM_OK);
}

TEST_F(leak_checked, copy, large_pages)
{
	mm_space_t s = mm_create_space(NULL);
	ASSERT_NE((uintptr_t)s, 0);
	uintptr_t page = mm_alloc_physical_page(MM_FLG_PS);
	ASSERT_NE(page, MM_NADDR);
	uintptr_t va = C_VA + MM_LARGE_PAGE_SIZE;
	ASSERT_EQ(mm_map_range_pages(s, va, &page, 1, MM_FLG_PS | MM_FLG_WR | MM_FLG_US), MM_OK);
	fill_pattern(5);
	/* Across 4 KiB boundaries inside the 2 MiB page. */
	uintptr_t at = va + 5 * MM_PAGE_SIZE - 7;
	EXPECT_EQ(mm_memcpy_kernel_to_user(s, (void *)at, pattern, 3 * MM_PAGE_SIZE), MM_OK);
	EXPECT_EQ(memcmp(MM_VIRTUALIZE(page + 5 * MM_PAGE_SIZE - 7), pattern, 3 * MM_PAGE_SIZE), 0);
	EXPECT_EQ(mm_memcpy_user_to_kernel(s, kbuf, (void *)at, 3 * MM_PAGE_SIZE), MM_OK);
	EXPECT_EQ(memcmp(kbuf, pattern, 3 * MM_PAGE_SIZE), 0);
	/* Off the end of the large page into nothing. */
	EXPECT_EQ(mm_memcpy_user_to_kernel(s, kbuf, (void *)(va + MM_LARGE_PAGE_SIZE - 8), 16),
	          MM_EFAULT);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
	mm_destroy_space(s);
	EXPECT_EQ(mm_free_physical_page(page, MM_FLG_PS), MM_OK);
}

TEST_F(leak_checked, copy, strncpy_with_and_without_nul)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_EQ(region(s, C_VA, 2 * MM_PAGE_SIZE, MM_FLG_WR), C_VA);
	static const char text[] = "hello, pages";
	uintptr_t at = C_VA + MM_PAGE_SIZE - 5; /* "hello" | ", pages" across the boundary */
	ASSERT_EQ(mm_memcpy_kernel_to_user(s, (void *)at, text, sizeof(text)), MM_OK);

	memset(kbuf, CANARY, sizeof(kbuf));
	EXPECT_EQ(mm_strncpy_user_to_kernel(s, kbuf, (void *)at, 64), 12);
	EXPECT_EQ(memcmp(kbuf, text, sizeof(text)), 0); /* NUL included */
	EXPECT_TRUE(canary_intact(64));

	/* Exactly room for the NUL, and one short of it. */
	memset(kbuf, CANARY, sizeof(kbuf));
	EXPECT_EQ(mm_strncpy_user_to_kernel(s, kbuf, (void *)at, 13), 12);
	EXPECT_EQ(kbuf[12], 0);
	memset(kbuf, CANARY, sizeof(kbuf));
	EXPECT_EQ(mm_strncpy_user_to_kernel(s, kbuf, (void *)at, 12), 12);
	EXPECT_EQ(memcmp(kbuf, text, 12), 0);
	EXPECT_TRUE(canary_intact(12)); /* not terminated, nothing written past count */
	memset(kbuf, CANARY, sizeof(kbuf));
	EXPECT_EQ(mm_strncpy_user_to_kernel(s, kbuf, (void *)at, 3), 3);
	EXPECT_TRUE(canary_intact(3));

	/* An empty string, and a string that runs into unmapped memory. */
	EXPECT_EQ(mm_strncpy_user_to_kernel(s, kbuf, (void *)(at + 12), 64), 0);
	char fill[64];
	memset(fill, 'x', sizeof(fill));
	uintptr_t tail = C_VA + 2 * MM_PAGE_SIZE - sizeof(fill);
	ASSERT_EQ(mm_memcpy_kernel_to_user(s, (void *)tail, fill, sizeof(fill)), MM_OK);
	memset(kbuf, CANARY, sizeof(kbuf));
	EXPECT_EQ(mm_strncpy_user_to_kernel(s, kbuf, (void *)tail, 128), -1);
	EXPECT_EQ(mm_last_error(), MM_EFAULT);
	EXPECT_TRUE(canary_intact(128));
	EXPECT_EQ(mm_strncpy_user_to_kernel(s, kbuf, (void *)tail, 64), 64);
}

TEST_F(leak_checked, copy, strdup_from_user)
{
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_EQ(region(s, C_VA, 3 * MM_PAGE_SIZE, MM_FLG_WR), C_VA);
	/* A string of 5000 bytes crossing two page boundaries. */
	static char long_text[5001];
	for (size_t i = 0; i < 5000; i++)
		long_text[i] = (char)('a' + i % 26);
	long_text[5000] = '\0';
	uintptr_t at = C_VA + MM_PAGE_SIZE - 300;
	ASSERT_EQ(mm_memcpy_kernel_to_user(s, (void *)at, long_text, sizeof(long_text)), MM_OK);

	char *copy = mm_strdup_from_user(s, (void *)at, 8192);
	ASSERT_NE((uintptr_t)copy, 0);
	EXPECT_EQ(strlen(copy), 5000);
	EXPECT_EQ(memcmp(copy, long_text, sizeof(long_text)), 0);
	EXPECT_GE(kmalloc_usable_size(copy), 5001);
	kfree(copy);

	/* max_len is the longest string accepted: exactly 5000 works, 4999 does not. */
	copy = mm_strdup_from_user(s, (void *)at, 5000);
	ASSERT_NE((uintptr_t)copy, 0);
	EXPECT_EQ(strlen(copy), 5000);
	kfree(copy);
	EXPECT_EQ((uintptr_t)mm_strdup_from_user(s, (void *)at, 4999), 0);
	EXPECT_EQ(mm_last_error(), MM_EINVAL);

	/* The empty string, and one in untouched (zero) memory. */
	copy = mm_strdup_from_user(s, (void *)(at + 5000), 0);
	ASSERT_NE((uintptr_t)copy, 0);
	EXPECT_EQ(copy[0], 0);
	kfree(copy);
	copy = mm_strdup_from_user(s, (void *)(C_VA + 2 * MM_PAGE_SIZE + 2048), 16);
	ASSERT_NE((uintptr_t)copy, 0);
	EXPECT_EQ(copy[0], 0);
	kfree(copy);

	/* Unmapped: no region past the third page. */
	EXPECT_EQ((uintptr_t)mm_strdup_from_user(s, (void *)(C_VA + 3 * MM_PAGE_SIZE), 16), 0);
	EXPECT_EQ(mm_last_error(), MM_EFAULT);
	EXPECT_EQ(vmm_check_space(s), MM_OK);
}

TEST_F(leak_checked, copy, from_the_kernel_mapping_area)
{
	/* Kernel-half addresses are real memory only where the direct map lies in the kernel
	 * half (the kernel): on the host they are page-table entries and nothing more. A source
	 * there may be demand-paged, so it is staged through a buffer on the stack. */
	if ((uintptr_t)MM_VIRTUALIZE(mm_space_root(mm_kernel_space())) < MM_KERNEL_BASE)
		return;
	mm_space_t k = mm_kernel_space();
	struct mm_region_spec spec = {
	    0, 4 * MM_PAGE_SIZE, MM_FLG_WR | MM_REGION_POPULATE, MM_SECTION_KERNEL, NULL, 0};
	uintptr_t kva = mm_region_map(k, &spec);
	ASSERT_NE(kva, MM_NADDR);
	mm_space_t s = test_space(t);
	ASSERT_NE((uintptr_t)s, 0);
	ASSERT_EQ(region(s, C_VA, 4 * MM_PAGE_SIZE, MM_FLG_WR), C_VA);
	fill_pattern(9);
	memcpy((void *)kva, pattern, 3 * MM_PAGE_SIZE);
	EXPECT_EQ(mm_memcpy_kernel_to_user(s, (void *)(C_VA + 100), (void *)kva, 3 * MM_PAGE_SIZE),
	          MM_OK);
	EXPECT_EQ(mm_memcpy_user_to_kernel(s, kbuf, (void *)(C_VA + 100), 3 * MM_PAGE_SIZE), MM_OK);
	EXPECT_EQ(memcmp(kbuf, pattern, 3 * MM_PAGE_SIZE), 0);
	EXPECT_EQ(mm_region_unmap(k, kva), MM_OK);
}
