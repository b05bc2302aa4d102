/* Kernel heap tests: size classes, alignment, contents, kcalloc, large allocations, frame
 * accounting, bad frees detected without harm, and a long churn. */
#include <mm/kmalloc.h>
#include <mm/phys.h>
#include <mmtest/test.h>

#include <lib/string.h>

#include "fixtures.h"
#include "helpers.h"

static const size_t class_sizes[MM_KMALLOC_CLASSES] = {16,  32,  48,  64,  96,   128,  192,
                                                       256, 384, 512, 768, 1024, 1536, 2048};

/* A snapshot of the statistics (static: the structure is about 1 KiB). */
static const struct mm_kmalloc_stats *stats(void)
{
	static struct mm_kmalloc_stats s;
	mm_kmalloc_get_stats(&s);
	return &s;
}

/* Every bad free counted anywhere in the statistics. */
static uint64_t bad_frees(void)
{
	const struct mm_kmalloc_stats *s = stats();
	uint64_t n = s->invalid_frees + s->large_invalid_frees;
	for (unsigned c = 0; c < MM_KMALLOC_CLASSES; c++)
		n += s->classes[c].double_frees + s->classes[c].invalid_frees;
	return n;
}

static uint64_t in_use(void)
{
	const struct mm_kmalloc_stats *s = stats();
	uint64_t n = s->large_in_use;
	for (unsigned c = 0; c < MM_KMALLOC_CLASSES; c++)
		n += s->classes[c].in_use;
	return n;
}

/* Free frames with the heap's caches and spare slabs emptied: the heap holds only what is
 * allocated. */
static uint64_t settled_free_frames(void)
{
	mm_kmalloc_drain_caches();
	return free_frames();
}

/* A byte pattern unique to (seed, offset), so overlapping objects show. */
static uint8_t pattern(uint32_t seed, size_t i)
{
	return (uint8_t)(seed * 2654435761u + i * 40503u + (i >> 8));
}

static void fill(void *p, size_t n, uint32_t seed)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		b[i] = pattern(seed, i);
}

static bool intact(const void *p, size_t n, uint32_t seed)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != pattern(seed, i))
			return false;
	return true;
}

/* The largest power of two dividing n. */
static size_t pow2_divisor(size_t n)
{
	return n & -n;
}

static uint32_t next_random(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

TEST_F(leak_checked, kmalloc, every_class_and_its_boundaries)
{
	uint64_t before = settled_free_frames();
	for (unsigned c = 0; c < MM_KMALLOC_CLASSES; c++) {
		size_t size = class_sizes[c];
		size_t below = c ? class_sizes[c - 1] : 0;
		const size_t asks[] = {below + 1, (below + size) / 2, size};
		for (unsigned i = 0; i < 3; i++) {
			void *p = kmalloc(asks[i]);
			ASSERT_NE((uintptr_t)p, 0);
			EXPECT_EQ(kmalloc_usable_size(p), size);
			EXPECT_EQ((uintptr_t)p % pow2_divisor(size), 0);
			fill(p, size, c);
			EXPECT_TRUE(intact(p, size, c));
			kfree(p);
			EXPECT_EQ(kmalloc_usable_size(p), 0); /* freed */
		}
	}
	/* Just past the largest class: a whole frame. */
	void *p = kmalloc(MM_KMALLOC_MAX_SMALL + 1);
	ASSERT_NE((uintptr_t)p, 0);
	EXPECT_EQ(kmalloc_usable_size(p), MM_PAGE_SIZE);
	kfree(p);
	EXPECT_EQ(settled_free_frames(), before);
	EXPECT_EQ(mm_kmalloc_check(), MM_OK);
}

TEST_F(leak_checked, kmalloc, each_size_gets_the_smallest_class_that_fits)
{
	unsigned c = 0;
	for (size_t size = 1; size <= MM_KMALLOC_MAX_SMALL; size++) {
		while (class_sizes[c] < size)
			c++;
		void *p = kmalloc(size);
		ASSERT_NE((uintptr_t)p, 0);
		EXPECT_EQ(kmalloc_usable_size(p), class_sizes[c]);
		kfree(p);
	}
	const struct mm_kmalloc_stats *s = stats();
	for (unsigned k = 0; k < MM_KMALLOC_CLASSES; k++)
		EXPECT_EQ(s->classes[k].size, class_sizes[k]);
}

TEST_F(leak_checked, kmalloc, alignment_is_16_and_natural_for_powers_of_two)
{
	enum { N = 100 }; /* several slabs of the larger classes */
	static void *p[N];
	for (unsigned c = 0; c < MM_KMALLOC_CLASSES; c++) {
		for (int i = 0; i < N; i++) {
			p[i] = kmalloc(class_sizes[c]);
			ASSERT_NE((uintptr_t)p[i], 0);
			EXPECT_EQ((uintptr_t)p[i] % 16, 0);
			EXPECT_EQ((uintptr_t)p[i] % pow2_divisor(class_sizes[c]), 0);
		}
		for (int i = 0; i < N; i++)
			kfree(p[i]);
	}
	/* A power-of-two request n <= 4096 is aligned to n; above the classes, to a page. */
	for (size_t n = 1; n <= 4 * MM_PAGE_SIZE; n *= 2) {
		void *q = kmalloc(n);
		ASSERT_NE((uintptr_t)q, 0);
		EXPECT_EQ((uintptr_t)q % (n < MM_PAGE_SIZE ? (n < 16 ? 16 : n) : MM_PAGE_SIZE), 0);
		kfree(q);
	}
}

TEST_F(leak_checked, kmalloc, contents_are_kept_and_live_objects_do_not_overlap)
{
	enum { N = 3000 };
	static void *p[N];
	static size_t n[N];
	uint32_t rng = 12345;
	uint64_t before = settled_free_frames();
	for (int i = 0; i < N; i++) {
		n[i] = 1 + next_random(&rng) % (i % 50 == 0 ? 3 * MM_PAGE_SIZE : MM_KMALLOC_MAX_SMALL);
		p[i] = kmalloc(n[i]);
		ASSERT_NE((uintptr_t)p[i], 0);
		/* The whole usable size is the caller's: fill it all. */
		n[i] = kmalloc_usable_size(p[i]);
		fill(p[i], n[i], (uint32_t)i);
	}
	unsigned broken = 0;
	for (int i = 0; i < N; i++)
		broken += !intact(p[i], n[i], (uint32_t)i);
	EXPECT_EQ(broken, 0);
	/* Free every other one, reuse, and check again. */
	for (int i = 0; i < N; i += 2)
		kfree(p[i]);
	for (int i = 0; i < N; i += 2) {
		p[i] = kmalloc(n[i]);
		ASSERT_NE((uintptr_t)p[i], 0);
		fill(p[i], n[i], (uint32_t)i + N);
	}
	broken = 0;
	for (int i = 0; i < N; i++)
		broken += !intact(p[i], n[i], (uint32_t)(i % 2 ? i : i + N));
	EXPECT_EQ(broken, 0);
	EXPECT_EQ(mm_kmalloc_check(), MM_OK);
	for (int i = 0; i < N; i++)
		kfree(p[i]);
	EXPECT_EQ(settled_free_frames(), before);
}

TEST_F(leak_checked, kmalloc, kcalloc_zeroes_and_refuses_overflow)
{
	/* Dirty an object, free it, and take the same class again: it comes back zeroed. */
	uint8_t *dirty = kmalloc(200);
	ASSERT_NE((uintptr_t)dirty, 0);
	memset(dirty, 0xA5, 256);
	kfree(dirty);
	uint8_t *z = kcalloc(25, 8);
	ASSERT_NE((uintptr_t)z, 0);
	EXPECT_EQ((uintptr_t)z, (uintptr_t)dirty); /* the per-CPU cache hands the hot one back */
	unsigned nonzero = 0;
	for (int i = 0; i < 200; i++)
		nonzero += z[i] != 0;
	EXPECT_EQ(nonzero, 0);
	kfree(z);

	uint8_t *big = kcalloc(3, MM_PAGE_SIZE + 1);
	ASSERT_NE((uintptr_t)big, 0);
	nonzero = 0;
	for (size_t i = 0; i < 3 * MM_PAGE_SIZE + 3; i++)
		nonzero += big[i] != 0;
	EXPECT_EQ(nonzero, 0);
	kfree(big);

	uint64_t before = free_frames();
	EXPECT_EQ((uintptr_t)kcalloc(SIZE_MAX / 2, 3), 0);
	EXPECT_EQ(mm_last_error(), MM_ENOMEM);
	EXPECT_EQ((uintptr_t)kcalloc((size_t)1 << 33, (size_t)1 << 31), 0);
	EXPECT_EQ((uintptr_t)kcalloc(SIZE_MAX, SIZE_MAX), 0);
	EXPECT_EQ(free_frames(), before);

	void *none = kcalloc(0, 16);
	EXPECT_NE((uintptr_t)none, 0);
	kfree(none);
}

TEST_F(leak_checked, kmalloc, zero_bytes_give_unique_pointers_and_null_frees_nothing)
{
	uint64_t bad = bad_frees(), live = in_use();
	void *a = kmalloc(0), *b = kmalloc(0);
	ASSERT_NE((uintptr_t)a, 0);
	ASSERT_NE((uintptr_t)b, 0);
	EXPECT_NE((uintptr_t)a, (uintptr_t)b);
	EXPECT_EQ(kmalloc_usable_size(a), 16);
	EXPECT_EQ(in_use(), live + 2);
	kfree(a);
	kfree(b);
	kfree(NULL);
	EXPECT_EQ(kmalloc_usable_size(NULL), 0);
	EXPECT_EQ(in_use(), live);
	EXPECT_EQ(bad_frees(), bad);
}

TEST_F(leak_checked, kmalloc, large_allocations_are_whole_frames)
{
	const size_t sizes[] = {
	    MM_KMALLOC_MAX_SMALL + 1, MM_PAGE_SIZE, MM_PAGE_SIZE + 1, 12345, 65536, (1u << 20) + 1};
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t frames = (sizes[i] + MM_PAGE_SIZE - 1) / MM_PAGE_SIZE;
		static struct mm_kmalloc_stats s0;
		s0 = *stats();
		uint64_t before = free_frames();
		uint8_t *p = kmalloc(sizes[i]);
		ASSERT_NE((uintptr_t)p, 0);
		EXPECT_EQ((uintptr_t)p % MM_PAGE_SIZE, 0);
		EXPECT_EQ(kmalloc_usable_size(p), frames * MM_PAGE_SIZE);
		EXPECT_EQ(free_frames(), before - frames);
		static struct mm_kmalloc_stats s1;
		s1 = *stats();
		EXPECT_EQ(s1.large_in_use, s0.large_in_use + 1);
		EXPECT_EQ(s1.large_frames, s0.large_frames + frames);
		fill(p, frames * MM_PAGE_SIZE, i);
		EXPECT_TRUE(intact(p, frames * MM_PAGE_SIZE, i));
		kfree(p);
		EXPECT_EQ(free_frames(), before);
		EXPECT_EQ(stats()->large_in_use, s0.large_in_use);
	}
	/* More than the frame allocator can ever give: NULL, nothing taken. */
	uint64_t before = free_frames();
	EXPECT_EQ((uintptr_t)kmalloc(SIZE_MAX), 0);
	EXPECT_EQ(mm_last_error(), MM_ENOMEM);
	EXPECT_EQ((uintptr_t)kmalloc((size_t)1 << 40), 0);
	EXPECT_EQ(free_frames(), before);
}

TEST_F(leak_checked, kmalloc, statistics_count_objects_and_slabs)
{
	enum { N = 100, CLS = 5 }; /* 128 bytes: 31 objects per one-frame slab */
	static void *p[N];
	settled_free_frames();
	static struct mm_kmalloc_stats s0;
	s0 = *stats();
	for (int i = 0; i < N; i++) {
		p[i] = kmalloc(128);
		ASSERT_NE((uintptr_t)p[i], 0);
	}
	static struct mm_kmalloc_stats s1;
	s1 = *stats();
	EXPECT_EQ(s1.classes[CLS].in_use, s0.classes[CLS].in_use + N);
	EXPECT_EQ(s1.classes[CLS].allocs, s0.classes[CLS].allocs + N);
	EXPECT_GE(s1.classes[CLS].slabs, s0.classes[CLS].slabs + (N + 30) / 31);
	EXPECT_EQ(s1.classes[CLS].frames, s1.classes[CLS].slabs);
	for (int i = 0; i < N; i++)
		kfree(p[i]);
	static struct mm_kmalloc_stats s2;
	s2 = *stats();
	EXPECT_EQ(s2.classes[CLS].in_use, s0.classes[CLS].in_use);
	EXPECT_EQ(s2.classes[CLS].frees, s0.classes[CLS].frees + N);
	EXPECT_GE(s2.classes[CLS].cached, 1);
	mm_kmalloc_drain_caches();
	static struct mm_kmalloc_stats s3;
	s3 = *stats();
	EXPECT_EQ(s3.classes[CLS].cached, 0);
	EXPECT_EQ(s3.classes[CLS].slabs, s0.classes[CLS].slabs);
}

TEST_F(leak_checked, kmalloc, frames_go_back_after_everything_is_freed)
{
	enum { N = 5000 };
	static void *p[N];
	uint64_t before = settled_free_frames();
	uint64_t live = in_use();
	for (int i = 0; i < N; i++) {
		size_t size = i % 100 == 99 ? 3 * MM_PAGE_SIZE : class_sizes[i % MM_KMALLOC_CLASSES];
		p[i] = kmalloc(size);
		ASSERT_NE((uintptr_t)p[i], 0);
	}
	EXPECT_LT(free_frames(), before);
	for (int i = N - 1; i >= 0; i--)
		kfree(p[i]);
	EXPECT_EQ(in_use(), live);
	EXPECT_EQ(settled_free_frames(), before);
	const struct mm_kmalloc_stats *s = stats();
	for (unsigned c = 0; c < MM_KMALLOC_CLASSES; c++)
		EXPECT_EQ(s->classes[c].cached, 0);
	EXPECT_EQ(mm_kmalloc_check(), MM_OK);
}

TEST_F(leak_checked, kmalloc, double_free_is_caught_wherever_the_object_went)
{
	uint64_t before = settled_free_frames();
	static struct mm_kmalloc_stats s0;
	s0 = *stats();
	enum { CLS = 3 }; /* 64 bytes */

	/* The first free went into this CPU's cache. */
	void *p = kmalloc(64);
	ASSERT_NE((uintptr_t)p, 0);
	kfree(p);
	kfree(p);
	EXPECT_EQ(stats()->classes[CLS].double_frees, s0.classes[CLS].double_frees + 1);

	/* The first free went back to the slab's pool (another object keeps the slab). */
	void *keep = kmalloc(64);
	void *q = kmalloc(64);
	ASSERT_NE((uintptr_t)keep, 0);
	ASSERT_NE((uintptr_t)q, 0);
	kfree(q);
	mm_kmalloc_drain_local();
	kfree(q);
	EXPECT_EQ(stats()->classes[CLS].double_frees, s0.classes[CLS].double_frees + 2);

	/* The first free emptied the slab, which went back to the frame allocator: the frame
	 * is no longer the heap's, so the second free is refused as a foreign pointer. */
	kfree(keep);
	mm_kmalloc_drain_local();
	kfree(keep);
	EXPECT_EQ(stats()->invalid_frees, s0.invalid_frees + 1);

	/* Not corrupted: the object is in one place only, handed out once. */
	EXPECT_EQ(mm_kmalloc_check(), MM_OK);
	enum { N = 200 };
	static void *r[N];
	for (int i = 0; i < N; i++) {
		r[i] = kmalloc(64);
		ASSERT_NE((uintptr_t)r[i], 0);
		fill(r[i], 64, (uint32_t)i);
	}
	unsigned broken = 0;
	for (int i = 0; i < N; i++)
		broken += !intact(r[i], 64, (uint32_t)i);
	EXPECT_EQ(broken, 0);
	for (int i = 0; i < N; i++)
		kfree(r[i]);

	/* A large allocation freed twice: its frames went back, so the second is refused. */
	void *big = kmalloc(3 * MM_PAGE_SIZE);
	ASSERT_NE((uintptr_t)big, 0);
	kfree(big);
	kfree(big);
	EXPECT_EQ(stats()->invalid_frees, s0.invalid_frees + 2);

	EXPECT_EQ(stats()->classes[CLS].in_use, s0.classes[CLS].in_use);
	EXPECT_EQ(mm_kmalloc_check(), MM_OK);
	EXPECT_EQ(settled_free_frames(), before);
}

TEST_F(leak_checked, kmalloc, invalid_pointers_are_reported_and_refused)
{
	uint64_t before = settled_free_frames();
	static struct mm_kmalloc_stats s0;
	s0 = *stats();
	enum { CLS = 3 }; /* 64 bytes: one-frame slabs */
	uint8_t *obj = kmalloc(64);
	uint8_t *big = kmalloc(2 * MM_PAGE_SIZE);
	ASSERT_NE((uintptr_t)obj, 0);
	ASSERT_NE((uintptr_t)big, 0);
	fill(obj, 64, 1);
	fill(big, 2 * MM_PAGE_SIZE, 2);

	int local = 0;
	kfree(&local);                    /* the stack: outside the direct map */
	kfree((void *)(uintptr_t)0x1000); /* a user address */
	kfree(MM_VIRTUALIZE(0));          /* frame 0: not RAM the allocator has */
	uintptr_t page = mm_phys_alloc_page();
	ASSERT_NE(page, MM_NADDR);
	kfree(MM_VIRTUALIZE(page)); /* a frame allocated, but not by the heap */
	EXPECT_EQ(mm_phys_free_page(page), MM_OK);
	kfree(MM_VIRTUALIZE(page)); /* a free frame */
	EXPECT_EQ(stats()->invalid_frees, s0.invalid_frees + 5);

	kfree(obj + 8);                                                   /* inside an object */
	kfree((void *)((uintptr_t)obj & ~(uintptr_t)(MM_PAGE_SIZE - 1))); /* the slab header */
	EXPECT_EQ(stats()->classes[CLS].invalid_frees, s0.classes[CLS].invalid_frees + 2);

	kfree(big + 16);
	kfree(big + MM_PAGE_SIZE);
	EXPECT_EQ(stats()->large_invalid_frees, s0.large_invalid_frees + 2);

	/* Nothing was freed or changed. */
	EXPECT_EQ(kmalloc_usable_size(obj), 64);
	EXPECT_EQ(kmalloc_usable_size(big), 2 * MM_PAGE_SIZE);
	EXPECT_EQ(kmalloc_usable_size(obj + 8), 0);
	EXPECT_EQ(kmalloc_usable_size(big + MM_PAGE_SIZE), 0);
	EXPECT_TRUE(intact(obj, 64, 1));
	EXPECT_TRUE(intact(big, 2 * MM_PAGE_SIZE, 2));
	EXPECT_EQ(mm_kmalloc_check(), MM_OK);
	kfree(obj);
	kfree(big);
	EXPECT_EQ(stats()->classes[CLS].double_frees, s0.classes[CLS].double_frees);
	EXPECT_EQ(settled_free_frames(), before);
}

TEST_F(leak_checked, kmalloc, out_of_frames_gives_null)
{
	enum { N = 4096 };
	static void *p[N];
	uint64_t before = settled_free_frames();
	/* No slab of the class is left partial after the drain, so a new slab is needed at
	 * once or after the spare objects of a partial one are used up. */
	mm_phys_fail_after(0);
	int n = 0;
	while (n < N && (p[n] = kmalloc(2048)) != NULL)
		n++;
	void *big = kmalloc(3 * MM_PAGE_SIZE);
	mm_phys_fail_after(-1);
	EXPECT_LT(n, N);
	EXPECT_EQ(mm_last_error(), MM_ENOMEM);
	EXPECT_EQ((uintptr_t)big, 0);
	for (int i = 0; i < n; i++)
		kfree(p[i]);
	EXPECT_EQ(mm_kmalloc_check(), MM_OK);
	EXPECT_EQ(settled_free_frames(), before);
}

TEST_F(leak_checked, kmalloc, tens_of_thousands_of_objects_churned)
{
	enum { N = 20000, ROUNDS = 150000 };
	static void *p[N];
	static uint16_t n[N];
	uint32_t rng = 777;
	uint64_t before = settled_free_frames();
	uint64_t bad = bad_frees();
	unsigned broken = 0, failed = 0;
	for (int i = 0; i < N; i++) {
		n[i] = (uint16_t)(1 + next_random(&rng) % 1024);
		p[i] = kmalloc(n[i]);
		failed += p[i] == NULL;
		if (p[i])
			fill(p[i], n[i] < 16 ? n[i] : 16, (uint32_t)i);
	}
	/* Random slots: check and free, then allocate another size there. */
	for (int r = 0; r < ROUNDS; r++) {
		uint32_t i = next_random(&rng) % N;
		if (p[i]) {
			broken += !intact(p[i], n[i] < 16 ? n[i] : 16, i);
			kfree(p[i]);
		}
		n[i] = (uint16_t)(1 + next_random(&rng) % (r % 64 ? 512 : MM_KMALLOC_MAX_SMALL));
		p[i] = kmalloc(n[i]);
		failed += p[i] == NULL;
		if (p[i])
			fill(p[i], n[i] < 16 ? n[i] : 16, i);
	}
	EXPECT_EQ(failed, 0);
	EXPECT_EQ(mm_kmalloc_check(), MM_OK);
	for (int i = 0; i < N; i++) {
		if (p[i]) {
			broken += !intact(p[i], n[i] < 16 ? n[i] : 16, (uint32_t)i);
			kfree(p[i]);
		}
	}
	EXPECT_EQ(broken, 0);
	EXPECT_EQ(bad_frees(), bad);
	EXPECT_EQ(settled_free_frames(), before);
	EXPECT_EQ(mm_kmalloc_check(), MM_OK);
}
