/*
 * Start-up of the frame allocator: size the frame table from the RAM ranges, carve it out
 * of the first range large enough, mark every frame, then give the RAM to the zones.
 */
#include <mm/phys.h>

#include <lib/string.h>

#include "buddy.h"
#include "node_order.h"
#include "pcache.h"

struct frame *frame_table;
uint64_t frame_table_count;

static int ranges_valid(const struct mm_phys_range *ranges, size_t count)
{
	if (!ranges || count == 0)
		return 0;
	for (size_t i = 0; i < count; i++) {
		if (ranges[i].node >= arch_node_count() || ranges[i].size == 0 ||
		    ranges[i].base + ranges[i].size < ranges[i].base)
			return 0;
		for (size_t j = 0; j < i; j++) {
			uintptr_t a0 = ranges[i].base, a1 = a0 + ranges[i].size;
			uintptr_t b0 = ranges[j].base, b1 = b0 + ranges[j].size;
			if (a0 < b1 && b0 < a1)
				return 0;
		}
	}
	return 1;
}

int mm_phys_init(const struct mm_phys_range *ranges, size_t count)
{
	if (frame_table)
		return mm_set_error(MM_EINVAL);
	if (!ranges_valid(ranges, count))
		return mm_set_error(MM_EINVAL);

	uint64_t end_pfn = 0;
	for (size_t i = 0; i < count; i++) {
		uint64_t last = phys_to_pfn(ranges[i].base + ranges[i].size);
		if (last > end_pfn)
			end_pfn = last;
	}
	/* Frame numbers are 32-bit in the free lists: 16 TiB of physical address space. */
	if (end_pfn >= FRAME_NIL)
		return mm_set_error(MM_EINVAL);
	uint64_t table_bytes = end_pfn * sizeof(struct frame);
	uint64_t table_frames = (table_bytes + MM_PAGE_SIZE - 1) >> MM_PAGE_SHIFT;

	/* The table goes at the start of the first range that holds it. */
	size_t home = count;
	uint64_t table_pfn = 0;
	for (size_t i = 0; i < count && home == count; i++) {
		uint64_t first = phys_to_pfn(ranges[i].base + MM_PAGE_SIZE - 1);
		uint64_t last = phys_to_pfn(ranges[i].base + ranges[i].size);
		if (last > first && last - first >= table_frames + 1) {
			home = i;
			table_pfn = first;
		}
	}
	if (home == count)
		return mm_set_error(MM_ENOMEM);

	frame_table = (struct frame *)MM_VIRTUALIZE(pfn_to_phys(table_pfn));
	frame_table_count = end_pfn;
	memset(frame_table, 0, table_bytes); /* every frame RESERVED */

	for (unsigned z = 0; z < ARCH_MAX_NODES * BUDDY_ZONES_PER_NODE; z++)
		buddy_zone_init(&buddy_zones[z], z / BUDDY_ZONES_PER_NODE);
	for (unsigned node = 0; node < ARCH_MAX_NODES; node++) {
		uint64_t lo = UINT64_MAX, hi = 0;
		for (size_t i = 0; i < count; i++) {
			if (ranges[i].node != node)
				continue;
			uint64_t first = phys_to_pfn(ranges[i].base),
			         last = phys_to_pfn(ranges[i].base + ranges[i].size);
			lo = first < lo ? first : lo;
			hi = last > hi ? last : hi;
		}
		buddy_node_init(node, lo == UINT64_MAX ? 0 : lo, hi);
	}
	node_order_init();

	for (size_t i = 0; i < count; i++) {
		uint64_t first = phys_to_pfn(ranges[i].base + MM_PAGE_SIZE - 1);
		uint64_t last = phys_to_pfn(ranges[i].base + ranges[i].size);
		if (i == home)
			first = table_pfn + table_frames;
		if (last <= first)
			continue;
		for (uint64_t pfn = first; pfn < last; pfn++) {
			frame_table[pfn].state = FRAME_INNER;
			frame_table[pfn].node = (uint8_t)ranges[i].node;
		}
		/* Each zone gets its part of the range. Nobody else runs yet, but the zone's
		 * functions are written for its lock. */
		for (uint64_t pfn = first; pfn < last;) {
			uint64_t end = buddy_zone_end(pfn);
			end = end < last ? end : last;
			struct buddy_zone *zone = buddy_zone_of(pfn);
			arch_irq_state_t irq = spin_lock_irqsave(&zone->lock);
			zone->total_frames += end - pfn;
			buddy_free_run_locked(zone, pfn, end - pfn);
			spin_unlock_irqrestore(&zone->lock, irq);
			pfn = end;
		}
	}
	return MM_OK;
}
