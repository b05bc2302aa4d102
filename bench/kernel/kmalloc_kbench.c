/* In-kernel heap benchmarks: one kmalloc + kfree pair per timed iteration, 16 bytes to
 * 4 KiB (the per-CPU cache's hot path up to 2048 bytes, a whole frame above). */
#include <mmbench/kbench.h>

#include <mm/kmalloc.h>

static void kmalloc_kfree(struct kbench_state *s)
{
	size_t bytes = (size_t)s->arg;
	/* One untimed round first, so the per-CPU cache holds the class's objects. */
	for (unsigned i = 0; i <= s->iterations; i++) {
		uint64_t t0 = arch_cycles();
		void *p = kmalloc(bytes);
		kfree(p);
		uint64_t t1 = arch_cycles();
		if (!p) {
			s->error = "kmalloc failed";
			break;
		}
		if (i > 0)
			kbench_record(s, t1 - t0);
	}
}

KBENCH("BM_kmalloc_kfree/bytes", kmalloc_kfree, 16, 1000);
KBENCH("BM_kmalloc_kfree/bytes", kmalloc_kfree, 32, 1000);
KBENCH("BM_kmalloc_kfree/bytes", kmalloc_kfree, 64, 1000);
KBENCH("BM_kmalloc_kfree/bytes", kmalloc_kfree, 128, 1000);
KBENCH("BM_kmalloc_kfree/bytes", kmalloc_kfree, 256, 1000);
KBENCH("BM_kmalloc_kfree/bytes", kmalloc_kfree, 512, 1000);
KBENCH("BM_kmalloc_kfree/bytes", kmalloc_kfree, 1024, 1000);
KBENCH("BM_kmalloc_kfree/bytes", kmalloc_kfree, 2048, 1000);
KBENCH("BM_kmalloc_kfree/bytes", kmalloc_kfree, 4096, 1000);

/* 256 objects out, then all back: refills and drains between the caches and the slabs.
 * One sample per round; the report is per round of 256 pairs. */
static void kmalloc_batch(struct kbench_state *s)
{
	enum { N = 256 };
	static void *p[N];
	size_t bytes = (size_t)s->arg;
	for (unsigned i = 0; i <= s->iterations; i++) {
		uint64_t t0 = arch_cycles();
		for (int k = 0; k < N; k++)
			p[k] = kmalloc(bytes);
		for (int k = 0; k < N; k++)
			kfree(p[k]);
		uint64_t t1 = arch_cycles();
		for (int k = 0; k < N; k++) {
			if (!p[k])
				s->error = "kmalloc failed";
		}
		if (i > 0)
			kbench_record(s, t1 - t0);
	}
}

KBENCH("BM_kmalloc_batch256/bytes", kmalloc_batch, 64, 200);
KBENCH("BM_kmalloc_batch256/bytes", kmalloc_batch, 1024, 200);
