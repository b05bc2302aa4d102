/* The buddy allocator: free lists per zone and order, split on allocation, merge on free. */
#include "buddy.h"

struct buddy_zone buddy_zones[ARCH_MAX_NODES * BUDDY_ZONES_PER_NODE];
struct buddy_node buddy_nodes[ARCH_MAX_NODES];

void buddy_node_init(unsigned node, uint64_t lo, uint64_t hi)
{
	struct buddy_node *n = &buddy_nodes[node];
	n->first_chunk = lo >> BUDDY_CHUNK_ORDER;
	uint64_t chunks = hi > lo ? ((hi - 1) >> BUDDY_CHUNK_ORDER) - n->first_chunk + 1 : 1;
	n->shift = 0;
	while (((chunks - 1) >> n->shift) >= BUDDY_ZONES_PER_NODE)
		n->shift++;
	n->count = (unsigned)((chunks - 1) >> n->shift) + 1;
}

uint64_t buddy_zone_end(uint64_t pfn)
{
	const struct buddy_node *n = &buddy_nodes[pfn_frame(pfn)->node];
	uint64_t j = ((pfn >> BUDDY_CHUNK_ORDER) - n->first_chunk) >> n->shift;
	return (n->first_chunk + ((j + 1) << n->shift)) << BUDDY_CHUNK_ORDER;
}

void buddy_zone_init(struct buddy_zone *zone, unsigned node)
{
	zone->lock = (spinlock_t)SPINLOCK_INIT;
	zone->node = node;
	for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++) {
		zone->free_head[k] = FRAME_NIL;
		zone->count[k] = 0;
	}
	zone->free_frames = 0;
	zone->total_frames = 0;
}

static void list_push(struct buddy_zone *zone, uint64_t pfn, unsigned order)
{
	struct frame *f = pfn_frame(pfn);
	uint32_t head = zone->free_head[order];
	frame_set_state(f, FRAME_FREE);
	frame_set_order(f, order);
	f->list.prev = FRAME_NIL;
	f->list.next = head;
	if (head != FRAME_NIL)
		pfn_frame(head)->list.prev = (uint32_t)pfn;
	zone->free_head[order] = (uint32_t)pfn;
	zone->count[order]++;
}

static void list_remove(struct buddy_zone *zone, uint64_t pfn, unsigned order)
{
	struct frame *f = pfn_frame(pfn);
	MM_ASSERT(frame_state(f) == FRAME_FREE && frame_order(f) == order);
	if (f->list.prev != FRAME_NIL)
		pfn_frame(f->list.prev)->list.next = f->list.next;
	else
		zone->free_head[order] = f->list.next;
	if (f->list.next != FRAME_NIL)
		pfn_frame(f->list.next)->list.prev = f->list.prev;
	zone->count[order]--;
	frame_set_state(f, FRAME_INNER);
}

uint64_t buddy_alloc_locked(struct buddy_zone *zone, unsigned order)
{
	MM_ASSERT(spin_held(&zone->lock));
	unsigned k = order;
	while (k <= BUDDY_MAX_ORDER && zone->free_head[k] == FRAME_NIL)
		k++;
	if (k > BUDDY_MAX_ORDER)
		return FRAME_NIL;
	uint64_t pfn = zone->free_head[k];
	list_remove(zone, pfn, k);
	/* Split: the upper half of each level goes back on the list one order down. */
	while (k > order) {
		k--;
		list_push(zone, pfn + (1ull << k), k);
	}
	zone->free_frames -= 1ull << order;
	return pfn;
}

void buddy_free_locked(struct buddy_zone *zone, uint64_t pfn, unsigned order)
{
	MM_ASSERT(spin_held(&zone->lock));
	MM_ASSERT((pfn & ((1ull << order) - 1)) == 0);
	zone->free_frames += 1ull << order;
	while (order < BUDDY_MAX_ORDER) {
		uint64_t buddy = pfn ^ (1ull << order);
		if (buddy >= frame_table_count)
			break;
		struct frame *b = pfn_frame(buddy);
		if (frame_state(b) != FRAME_FREE || frame_order(b) != order || b->node != zone->node)
			break;
		list_remove(zone, buddy, order);
		pfn &= ~(1ull << order);
		order++;
	}
	list_push(zone, pfn, order);
	/* The merged block's other first frames are now INNER. */
}

void buddy_free_run_locked(struct buddy_zone *zone, uint64_t pfn, uint64_t count)
{
	MM_ASSERT(spin_held(&zone->lock));
	while (count) {
		unsigned order = 0;
		/* The largest block aligned at pfn that fits in what is left. */
		while (order < BUDDY_MAX_ORDER && (pfn & ((2ull << order) - 1)) == 0 &&
		       (2ull << order) <= count)
			order++;
		buddy_free_locked(zone, pfn, order);
		pfn += 1ull << order;
		count -= 1ull << order;
	}
}

void buddy_check_zone(struct buddy_zone *zone)
{
	uint64_t free_frames = 0;
	for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++) {
		uint64_t n = 0;
		uint32_t prev = FRAME_NIL;
		for (uint32_t pfn = zone->free_head[k]; pfn != FRAME_NIL; pfn = pfn_frame(pfn)->list.next) {
			const struct frame *f = pfn_frame(pfn);
			MM_CHECK(frame_state(f) == FRAME_FREE && frame_order(f) == k && f->node == zone->node);
			MM_CHECK(f->list.prev == prev);
			MM_CHECK((pfn & ((1ull << k) - 1)) == 0);
			if (k < BUDDY_MAX_ORDER) {
				uint64_t buddy = pfn ^ (1ull << k);
				MM_CHECK(
				    buddy >= frame_table_count || frame_state(pfn_frame(buddy)) != FRAME_FREE ||
				    frame_order(pfn_frame(buddy)) != k || pfn_frame(buddy)->node != zone->node);
			}
			prev = pfn;
			n++;
		}
		MM_CHECK(n == zone->count[k]);
		free_frames += n << k;
	}
	MM_CHECK(free_frames == zone->free_frames);
}
