/* Small helpers shared by the suites. */
#ifndef TESTS_SUITES_HELPERS_H
#define TESTS_SUITES_HELPERS_H

#include <mm/kmalloc.h>
#include <mm/phys.h>

/*
 * Free frames now, per-CPU caches included, plus the frames the small-object heap keeps
 * in its slabs: what every error test checks is unchanged. Slab frames count as free here
 * because the heap keeps them across calls; the objects in them are counted by
 * heap_objects(), which the balance tests check as well.
 */
static inline uint64_t free_frames(void)
{
	struct mm_phys_stats s;
	mm_phys_get_stats(&s);
	struct mm_kmalloc_stats k;
	mm_kmalloc_get_stats(&k);
	uint64_t slab_frames = 0;
	for (int i = 0; i < MM_KMALLOC_CLASSES; i++)
		slab_frames += k.classes[i].frames;
	return s.free_frames + slab_frames;
}

/* Live kmalloc objects (small and large): a leaked region or space shows here. */
static inline uint64_t heap_objects(void)
{
	struct mm_kmalloc_stats k;
	mm_kmalloc_get_stats(&k);
	uint64_t n = k.large_in_use;
	for (int i = 0; i < MM_KMALLOC_CLASSES; i++)
		n += k.classes[i].in_use;
	return n;
}

/* A small deterministic generator (xorshift64*): the same sequence on every platform. */
static inline uint64_t test_random(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

#endif /* TESTS_SUITES_HELPERS_H */
