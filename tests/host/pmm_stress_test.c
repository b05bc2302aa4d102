/*
 * Host-only: the frame allocator under threads playing CPUs. Every CPU allocates and frees
 * at once, a share of frames is freed by another CPU than the one that took it, and at the
 * end the frame accounting balances to zero and every invariant holds. Then memory
 * pressure: frames cached by another CPU are still handed out before an allocation fails.
 */
#include <mm/phys.h>
#include <mmtest/test.h>

#include <pthread.h>
#include <stdlib.h>

#include "pmm/pmm_internal.h"
#include "tests/suites/helpers.h"

#define STRESS_MAX_CPUS 4
#define STRESS_ROUNDS 20000
#define MAILBOX_SLOTS 256

/* Frames handed from one CPU to the next, to be freed there (remote frees). */
struct mailbox {
	uintptr_t slot[MAILBOX_SLOTS];
	unsigned head, tail; /* producer: head; consumer: tail; guarded by lock */
	pthread_mutex_t lock;
};

static struct mailbox boxes[STRESS_MAX_CPUS];
static unsigned stress_cpus;
static unsigned failures_seen;

static int post(struct mailbox *b, uintptr_t frame)
{
	pthread_mutex_lock(&b->lock);
	int ok = b->head - b->tail < MAILBOX_SLOTS;
	if (ok)
		b->slot[b->head++ % MAILBOX_SLOTS] = frame;
	pthread_mutex_unlock(&b->lock);
	return ok;
}

static uintptr_t take(struct mailbox *b)
{
	pthread_mutex_lock(&b->lock);
	uintptr_t frame = b->head != b->tail ? b->slot[b->tail++ % MAILBOX_SLOTS] : 0;
	pthread_mutex_unlock(&b->lock);
	return frame;
}

static void free_one(uintptr_t frame)
{
	/* The low bit marks a 2 MiB page. */
	int error = frame & 1 ? mm_free_physical_page(frame & ~(uintptr_t)1, MM_FLG_PS)
	                      : mm_phys_free_page(frame);
	if (error != MM_OK)
		__atomic_add_fetch(&failures_seen, 1, __ATOMIC_RELAXED);
}

static void *stress_cpu(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;
	uint64_t seed = 0x1234567ull + me;
	uintptr_t held[64];
	unsigned n = 0;
	for (int round = 0; round < STRESS_ROUNDS; round++) {
		uint64_t r = test_random(&seed);
		uintptr_t frame;
		while ((frame = take(&boxes[me])) != 0)
			free_one(frame);
		if (n < 64 && (r & 3) != 0) {
			uintptr_t p =
			    (r & 0xF0) == 0 ? mm_alloc_physical_page(MM_FLG_PS) : mm_phys_alloc_page();
			if (p == MM_NADDR) {
				__atomic_add_fetch(&failures_seen, 1, __ATOMIC_RELAXED);
				continue;
			}
			*(volatile uint64_t *)MM_VIRTUALIZE(p) = me; /* touched: it is ours */
			held[n++] = (r & 0xF0) == 0 ? p | 1 : p;
		} else if (n > 0) {
			uintptr_t frame_out = held[--n];
			/* One in four goes to the next CPU to be freed there. */
			if ((r & 0x300) != 0 || !post(&boxes[(me + 1) % stress_cpus], frame_out))
				free_one(frame_out);
		}
	}
	while (n > 0)
		free_one(held[--n]);
	return NULL;
}

TEST(host_pmm, every_cpu_at_once_balances_to_zero)
{
	mm_phys_drain_caches();
	uint64_t before = free_frames();
	failures_seen = 0;
	/* As many CPUs as the machine has beside this one (the topology decides), at most 4. */
	stress_cpus = arch_cpu_count() - 1 < STRESS_MAX_CPUS ? arch_cpu_count() - 1 : STRESS_MAX_CPUS;
	ASSERT_GE(stress_cpus, 1);
	for (unsigned i = 0; i < stress_cpus; i++) {
		boxes[i].head = boxes[i].tail = 0;
		pthread_mutex_init(&boxes[i].lock, NULL);
	}
	pthread_t threads[STRESS_MAX_CPUS];
	for (uintptr_t i = 0; i < stress_cpus; i++)
		ASSERT_EQ(pthread_create(&threads[i], NULL, stress_cpu, (void *)i), 0);
	for (unsigned i = 0; i < stress_cpus; i++)
		pthread_join(threads[i], NULL);
	/* What was still in flight between CPUs. */
	for (unsigned i = 0; i < stress_cpus; i++) {
		uintptr_t frame;
		while ((frame = take(&boxes[i])) != 0)
			free_one(frame);
	}
	EXPECT_EQ(failures_seen, 0);
	mm_phys_drain_caches();
	EXPECT_EQ(free_frames(), before);
	struct mm_phys_stats s;
	mm_phys_get_stats(&s);
	EXPECT_EQ(s.cached_frames, 0);
	pmm_check(); /* panics on a broken invariant */
}

struct hoarder {
	volatile int ready, stop;
};

/* Leaves frames in its CPU's cache and stays online (answering IPIs) until told to stop. */
static void *hoard(void *arg)
{
	struct hoarder *h = arg;
	uintptr_t pages[200];
	for (int i = 0; i < 200; i++)
		pages[i] = mm_phys_alloc_page();
	for (int i = 0; i < 200; i++)
		mm_phys_free_page(pages[i]);
	__atomic_store_n(&h->ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
	return NULL;
}

TEST(host_pmm, frames_cached_elsewhere_are_handed_out_before_failing)
{
	struct hoarder h = {0, 0};
	pthread_t thread;
	ASSERT_EQ(pthread_create(&thread, NULL, hoard, &h), 0);
	while (!__atomic_load_n(&h.ready, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
	struct mm_phys_stats s;
	mm_phys_get_stats(&s);
	uint64_t free_now = s.free_frames;
	ASSERT_GE(s.cached_frames, 200); /* the other CPU holds some */
	uintptr_t *pages = malloc(free_now * sizeof(uintptr_t));
	ASSERT_NE((uintptr_t)pages, 0);
	uint64_t n = 0;
	uintptr_t p;
	while (n < free_now && (p = mm_phys_alloc_page()) != MM_NADDR)
		pages[n++] = p;
	/* Every free frame, the other CPU's cached ones included, was handed out. */
	EXPECT_EQ(n, free_now);
	EXPECT_EQ(mm_phys_alloc_page(), MM_NADDR);
	EXPECT_EQ(mm_last_error(), MM_ENOMEM);
	for (uint64_t i = 0; i < n; i++)
		mm_phys_free_page(pages[i]);
	free(pages);
	__atomic_store_n(&h.stop, 1, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);
	mm_phys_get_stats(&s);
	EXPECT_EQ(s.free_frames, free_now);
}
