/*
 * The API fuzzer's observers and housekeeping: mm_dump_stats and mm_dump_map, the
 * statistics calls, cache drains and mm_phys_set_caching. None may change a mapping, a
 * region, a reference or the heap's objects, and the statistics must add up.
 */
#include "fuzz.h"
#include "tests/suites/helpers.h"

/* a[0] % 3 the level of both dumps; a[1] the space (decode_slot, NULL included). Printed
 * to stdout, which a long run closes (-close_fd_mask=1). */
void op_dump(const uint8_t *a)
{
	int m = decode_slot(a[1]);
	struct snap before = take_snap();
	mm_dump_stats(a[0] % 3);
	mm_dump_map(a[0] % 3, space_of(m));
	expect_unchanged(&before, "a dump", false);
}

/* Every statistics call: the frame counts per node add up to the totals, caches hold part of
 * what is free, the heap's classes hold what they hand out, and kept switches are switches. */
void op_stats(const uint8_t *a)
{
	struct snap before = take_snap();
	struct mm_phys_stats s;
	mm_phys_get_stats(&s);
	if (s.free_frames > s.total_frames || s.cached_frames > s.free_frames)
		fuzz_fail("mm_phys_get_stats: %llu free, %llu cached of %llu frames",
		          (unsigned long long)s.free_frames, (unsigned long long)s.cached_frames,
		          (unsigned long long)s.total_frames);
	uint64_t total = 0, free = 0, cached = 0;
	for (unsigned node = 0; node < 4; node++) {
		struct mm_phys_node_stats n;
		int error = mm_phys_get_node_stats(node, a[0] & 1 && node == 3 ? NULL : &n);
		bool valid = node < arch_node_count() && !(a[0] & 1 && node == 3);
		if (error != (valid ? MM_OK : MM_EINVAL))
			fuzz_fail("mm_phys_get_node_stats(%u) returned %s", node, mm_strerror(error));
		if (!valid)
			continue;
		total += n.total_frames;
		free += n.free_frames;
		cached += n.cached_frames;
		uint64_t in_blocks = 0;
		for (unsigned order = 0; order < 19; order++)
			in_blocks += n.free_blocks[order] << order;
		if (in_blocks + n.cached_frames != n.free_frames)
			fuzz_fail("node %u: %llu frames in free blocks and %llu cached, %llu free", node,
			          (unsigned long long)in_blocks, (unsigned long long)n.cached_frames,
			          (unsigned long long)n.free_frames);
	}
	if (total != s.total_frames || free != s.free_frames || cached != s.cached_frames)
		fuzz_fail("the nodes' frame counts (%llu, %llu free, %llu cached) are not the totals "
		          "(%llu, %llu, %llu)",
		          (unsigned long long)total, (unsigned long long)free, (unsigned long long)cached,
		          (unsigned long long)s.total_frames, (unsigned long long)s.free_frames,
		          (unsigned long long)s.cached_frames);
	struct mm_kmalloc_stats k;
	mm_kmalloc_get_stats(&k);
	for (int i = 0; i < MM_KMALLOC_CLASSES; i++)
		if (k.classes[i].slabs > k.classes[i].frames ||
		    (k.classes[i].in_use && !k.classes[i].slabs))
			fuzz_fail("kmalloc class %d: %llu slabs in %llu frames, %llu objects in use", i,
			          (unsigned long long)k.classes[i].slabs,
			          (unsigned long long)k.classes[i].frames,
			          (unsigned long long)k.classes[i].in_use);
	struct mm_tlb_stats t;
	mm_tlb_get_stats(&t);
	if (t.switches_kept > t.switches || t.pcid_slots == 0)
		fuzz_fail("mm_tlb_get_stats: %llu switches kept of %llu, %u PCID slots",
		          (unsigned long long)t.switches_kept, (unsigned long long)t.switches,
		          t.pcid_slots);
	expect_unchanged(&before, "the statistics calls", false);
}

/* a[0] % 3: every CPU's frame cache, the heap's caches and empty slabs, or the calling
 * CPU's heap caches. Memory moves between caches and lists; nothing is lost or mapped. */
void op_drain(const uint8_t *a)
{
	struct snap before = take_snap();
	switch (a[0] % 3) {
	case 0: {
		mm_phys_drain_caches();
		struct mm_phys_stats s;
		mm_phys_get_stats(&s);
		if (s.cached_frames != 0)
			fuzz_fail("mm_phys_drain_caches left %llu frames cached",
			          (unsigned long long)s.cached_frames);
		break;
	}
	case 1:
		mm_kmalloc_drain_caches();
		if (mm_kmalloc_check() != MM_OK)
			fuzz_fail("mm_kmalloc_check failed after mm_kmalloc_drain_caches");
		break;
	default:
		mm_kmalloc_drain_local();
		break;
	}
	expect_unchanged(&before, "a cache drain", false);
}

/* a[0] & 1: the per-CPU frame caches on or off (the teardown turns them back on). */
void op_caching(const uint8_t *a)
{
	struct snap before = take_snap();
	mm_phys_set_caching(a[0] & 1);
	expect_unchanged(&before, "mm_phys_set_caching", false);
}
