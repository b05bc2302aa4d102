/*
 * Host-only: the kernel heap under threads playing CPUs. Producers allocate objects of
 * every class (and some whole-frame ones), stamp them and pass them through rings to
 * consumers, which check and free them on their own CPU: every object crosses CPUs, so
 * per-CPU caches fill on one side and drain to the slabs, refilling the other. At the end
 * the accounting must balance and every frame be back.
 */
#include <mm/kmalloc.h>
#include <mm/phys.h>
#include <mmtest/test.h>

#include <pthread.h>

#include <lib/print.h>

#define MAX_PAIRS 3 /* 6 threads + the main one: the 8 CPUs host_tests has by default */
#define PER_PRODUCER 60000
#define RING 1024 /* a power of two */

struct ring {
	void *slot[RING];
	uint64_t head; /* written by the producer */
	uint64_t tail; /* written by the consumer */
	int done;      /* set by the producer after its last object */
	unsigned corrupt, null_allocs;
} __attribute__((aligned(64)));

static struct ring rings[MAX_PAIRS];
static unsigned pairs;

/* The stamp: the object's size and sequence number in its first 16 bytes, and its last
 * byte, so that a consumer sees an object that was handed out twice or overwritten. */
struct stamp {
	uint64_t size;
	uint64_t seq;
};

static size_t size_for(uint64_t seq)
{
	if (seq % 997 == 0)
		return 3 * MM_PAGE_SIZE + seq % 100; /* now and then, whole frames */
	/* Past the stamp, so that its last byte is a byte of its own. */
	return sizeof(struct stamp) + 1 +
	       (seq * 2654435761u) % (MM_KMALLOC_MAX_SMALL - sizeof(struct stamp));
}

static void *producer(void *arg)
{
	struct ring *r = arg;
	for (uint64_t seq = 0; seq < PER_PRODUCER; seq++) {
		size_t size = size_for(seq);
		unsigned char *p = kmalloc(size);
		if (!p) {
			__atomic_add_fetch(&r->null_allocs, 1, __ATOMIC_RELAXED);
			continue;
		}
		*(struct stamp *)p = (struct stamp){size, seq};
		p[size - 1] = (unsigned char)seq;
		/* Also churn locally: an allocation freed on its own CPU. */
		kfree(kmalloc(seq % 300));
		uint64_t head = r->head;
		while (head - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) == RING)
			arch_cpu_relax();
		r->slot[head % RING] = p;
		__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *consumer(void *arg)
{
	struct ring *r = arg;
	uint64_t expect = 0;
	for (;;) {
		uint64_t tail = r->tail;
		int done = __atomic_load_n(&r->done, __ATOMIC_ACQUIRE);
		uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		if (tail == head) {
			if (done)
				break;
			arch_cpu_relax();
			continue;
		}
		unsigned char *p = r->slot[tail % RING];
		const struct stamp *s = (const struct stamp *)p;
		if (s->seq < expect || s->size != size_for(s->seq) ||
		    p[s->size - 1] != (unsigned char)s->seq || kmalloc_usable_size(p) < s->size)
			r->corrupt++;
		expect = s->seq + 1;
		kfree(p);
		__atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);
	}
	/* Half the consumers (rounded down) hand their cached objects back before leaving; the
	 * rest leave them on their CPU, for the final drain. */
	if ((unsigned)(r - rings) < pairs / 2)
		mm_kmalloc_drain_local();
	return NULL;
}

static uint64_t total(const struct mm_kmalloc_stats *s, int what)
{
	uint64_t n = 0;
	for (unsigned c = 0; c < MM_KMALLOC_CLASSES; c++)
		n += what == 0   ? s->classes[c].in_use
		     : what == 1 ? s->classes[c].allocs - s->classes[c].frees
		                 : s->classes[c].double_frees + s->classes[c].invalid_frees;
	return n;
}

TEST(host_smp, kmalloc_objects_freed_on_other_cpus)
{
	static struct mm_kmalloc_stats before, after;
	/* Each thread is a CPU while it runs, and the main thread is one: as many pairs as the
	 * simulated machine has CPUs for. */
	pairs = (arch_cpu_count() - 1) / 2;
	if (pairs > MAX_PAIRS)
		pairs = MAX_PAIRS;
	if (pairs == 0) {
		lib_printf("    skipped: a producer, a consumer and the main thread need 3 CPUs\n");
		return;
	}
	mm_kmalloc_drain_caches();
	struct mm_phys_stats phys_before, phys_after;
	mm_phys_get_stats(&phys_before);
	mm_kmalloc_get_stats(&before);

	pthread_t threads[2 * MAX_PAIRS];
	for (unsigned i = 0; i < pairs; i++) {
		rings[i] = (struct ring){0};
		ASSERT_EQ(pthread_create(&threads[2 * i], NULL, producer, &rings[i]), 0);
		ASSERT_EQ(pthread_create(&threads[2 * i + 1], NULL, consumer, &rings[i]), 0);
	}
	for (unsigned i = 0; i < 2 * pairs; i++)
		pthread_join(threads[i], NULL);

	for (unsigned i = 0; i < pairs; i++) {
		EXPECT_EQ(rings[i].corrupt, 0);
		EXPECT_EQ(rings[i].null_allocs, 0);
		EXPECT_EQ(rings[i].head, PER_PRODUCER);
		EXPECT_EQ(rings[i].tail, PER_PRODUCER);
	}
	/* The threads are gone: the system is quiescent, the checker may look everywhere. */
	EXPECT_EQ(mm_kmalloc_check(), MM_OK);
	mm_kmalloc_drain_caches();
	mm_kmalloc_get_stats(&after);
	mm_phys_get_stats(&phys_after);

	/* Balanced: as many frees as allocations in each class over all CPUs, none bad. */
	EXPECT_EQ(total(&after, 0), total(&before, 0));
	EXPECT_EQ(total(&after, 1), total(&before, 1));
	EXPECT_EQ(total(&after, 2), total(&before, 2));
	EXPECT_GE(after.classes[0].allocs - before.classes[0].allocs, 1);
	EXPECT_EQ(after.large_in_use, before.large_in_use);
	EXPECT_EQ(after.large_allocs - before.large_allocs, after.large_frees - before.large_frees);
	for (unsigned c = 0; c < MM_KMALLOC_CLASSES; c++) {
		EXPECT_EQ(after.classes[c].cached, 0);
		EXPECT_EQ(after.classes[c].slabs, before.classes[c].slabs);
	}
	EXPECT_EQ(phys_after.free_frames, phys_before.free_frames);
	EXPECT_EQ(mm_kmalloc_check(), MM_OK);
}
