/* The per-space region tree: lookup, insertion, removal with splitting, and
 * the O(log n) search for a free range through each subtree's largest gap. */
#include "region_tree.h"

#include <mm/kmalloc.h>

static struct mm_region *node_region(struct avl_node *n)
{
	return n ? avl_entry(n, struct mm_region, node) : NULL;
}

static int compare_start(const struct avl_node *a, const struct avl_node *b)
{
	uintptr_t x = node_region((struct avl_node *)a)->start;
	uintptr_t y = node_region((struct avl_node *)b)->start;
	return x < y ? -1 : x > y;
}

/* The tree's summary: the largest gap before any region of the subtree. */
static void update_gap(struct avl_node *n)
{
	struct mm_region *r = node_region(n);
	uintptr_t gap = r->gap_before;
	if (n->left && node_region(n->left)->max_gap > gap)
		gap = node_region(n->left)->max_gap;
	if (n->right && node_region(n->right)->max_gap > gap)
		gap = node_region(n->right)->max_gap;
	r->max_gap = gap;
}

void space_regions_init(struct mm_space *space);
void space_regions_init(struct mm_space *space)
{
	space->regions = (struct avl_tree)AVL_TREE_INIT(update_gap);
}

struct mm_region *region_next(struct mm_region *r)
{
	return node_region(avl_next(&r->node));
}

static struct mm_region *region_prev(struct mm_region *r)
{
	return node_region(avl_prev(&r->node));
}

/* Readers hold the region lock or every shard; writers the region lock and the shards of
 * the pages that join or leave a region (vmm/space.h). */
static void assert_readable(struct mm_space *space)
{
	MM_ASSERT(spin_held(&space->lock) || vmm_holds_all_shards(space));
}

static void assert_writable(struct mm_space *space, uintptr_t start, uintptr_t end)
{
	MM_ASSERT(spin_held(&space->lock));
	vmm_assert_shards_held(space, start, end);
}

struct mm_region *region_first_after(struct mm_space *space, uintptr_t va)
{
	assert_readable(space);
	struct avl_node *n = space->regions.root;
	struct mm_region *best = NULL;
	while (n) {
		struct mm_region *r = node_region(n);
		if (r->end > va) {
			best = r;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

struct mm_region *region_find(struct mm_space *space, uintptr_t va)
{
	struct mm_region *r = region_first_after(space, va);
	return r && r->start <= va ? r : NULL;
}

bool region_overlaps(struct mm_space *space, uintptr_t start, uintptr_t end)
{
	struct mm_region *r = region_first_after(space, start);
	return r && r->start < end;
}

struct mm_region *region_new(uintptr_t start, uintptr_t end, uint32_t flags,
                             enum mm_section section, enum region_kind kind, struct mm_pager *pager,
                             uint64_t offset)
{
	struct mm_region *r = kmalloc(sizeof(*r));
	if (!r)
		return NULL;
	*r = (struct mm_region){
	    .start = start,
	    .end = end,
	    .flags = flags,
	    .section = section,
	    .kind = kind,
	    .pager = pager,
	    .offset = offset,
	};
	if (pager)
		mm_pager_get(pager);
	return r;
}

void region_free(struct mm_region *r)
{
	if (r->pager)
		mm_pager_put(r->pager);
	kfree(r);
}

/* Recomputes r's gap to its predecessor, and the summaries above it. */
static void refresh_gap(struct mm_space *space, struct mm_region *r)
{
	if (!r)
		return;
	struct mm_region *prev = region_prev(r);
	r->gap_before = r->start - (prev ? prev->end : 0);
	avl_update_path(&space->regions, &r->node);
}

static void unlink_region(struct mm_space *space, struct mm_region *r)
{
	struct mm_region *next = region_next(r);
	avl_remove(&space->regions, &r->node);
	refresh_gap(space, next);
}

void region_insert(struct mm_space *space, struct mm_region *r)
{
	assert_writable(space, r->start, r->end);
	MM_ASSERT(!region_overlaps(space, r->start, r->end));
	r->serial = ++space->region_serial;
	r->gap_before = 0;
	r->max_gap = 0;
	avl_insert(&space->regions, &r->node, compare_start);
	refresh_gap(space, r);
	refresh_gap(space, region_next(r));
}

void region_extend(struct mm_space *space, struct mm_region *r, uintptr_t end)
{
	assert_writable(space, r->end, end);
	MM_ASSERT(end > r->end && !region_overlaps(space, r->end, end));
	r->end = end; /* r's own gap is unchanged: only its successor's shrinks */
	refresh_gap(space, region_next(r));
}

void region_remove_range(struct mm_space *space, uintptr_t start, uintptr_t end,
                         struct mm_region **spare)
{
	assert_writable(space, start, end);
	space->seq++;
	struct mm_region *r = region_first_after(space, start);
	while (r && r->start < end) {
		struct mm_region *next = region_next(r);
		if (r->start < start && r->end > end) {
			/* The hole is inside r: r keeps the head, the spare takes the tail. */
			struct mm_region *tail = *spare;
			*spare = NULL;
			MM_CHECK(tail);
			*tail = *r;
			tail->start = end;
			if (tail->kind == REGION_OBJECT)
				tail->offset += end - r->start;
			if (tail->pager)
				mm_pager_get(tail->pager);
			r->end = start;
			region_insert_split(space, r, tail);
			return;
		}
		if (r->start < start) {
			r->end = start; /* cut the tail off */
			refresh_gap(space, r);
			refresh_gap(space, next);
		} else if (r->end > end) {
			if (r->kind == REGION_OBJECT) /* cut the head off */
				r->offset += end - r->start;
			r->start = end;
			refresh_gap(space, r);
		} else {
			unlink_region(space, r);
			region_free(r);
		}
		r = next;
	}
}

void region_insert_split(struct mm_space *space, struct mm_region *head, struct mm_region *tail)
{
	/* The pages keep their properties, only the region object holding them changes: the
	 * region lock suffices (a fault reads regions under it). */
	MM_ASSERT(spin_held(&space->lock));
	refresh_gap(space, head);
	tail->gap_before = 0;
	avl_insert(&space->regions, &tail->node, compare_start);
	refresh_gap(space, tail);
	refresh_gap(space, region_next(tail));
}

void region_remove_all(struct mm_space *space)
{
	struct avl_node *n;
	while ((n = space->regions.root) != NULL) {
		avl_remove(&space->regions, n);
		region_free(node_region(n));
	}
	space->seq++;
}

/* ---- Finding a free range ------------------------------------------------------------ */

struct gap_query {
	uintptr_t from, to, length, align;
};

/* The lowest aligned fit for the query inside the gap [lo, hi), or MM_NADDR. */
static uintptr_t fit(const struct gap_query *q, uintptr_t lo, uintptr_t hi)
{
	if (lo < q->from)
		lo = q->from;
	if (hi > q->to)
		hi = q->to;
	uintptr_t aligned = (lo + q->align - 1) & ~(q->align - 1);
	if (aligned < lo || aligned >= hi || hi - aligned < q->length)
		return MM_NADDR;
	return aligned;
}

/* In-order search of the subtree, skipping subtrees whose largest gap is too small and
 * gaps that end below `from`. */
static uintptr_t search(const struct gap_query *q, struct avl_node *n)
{
	while (n) {
		struct mm_region *r = node_region(n);
		if (r->max_gap < q->length)
			return MM_NADDR;
		if (r->start > q->from) {
			uintptr_t found = search(q, n->left);
			if (found != MM_NADDR)
				return found;
			if (r->gap_before >= q->length) {
				found = fit(q, r->start - r->gap_before, r->start);
				if (found != MM_NADDR)
					return found;
			}
		}
		if (r->start >= q->to)
			return MM_NADDR;
		n = n->right;
	}
	return MM_NADDR;
}

uintptr_t region_find_gap(struct mm_space *space, uintptr_t from, uintptr_t to, uintptr_t length,
                          uintptr_t align)
{
	struct gap_query q = {from, to, length, align};
	uintptr_t found = search(&q, space->regions.root);
	if (found != MM_NADDR)
		return found;
	/* The gap after the last region. */
	struct mm_region *last = node_region(avl_last(&space->regions));
	return fit(&q, last ? last->end : 0, to);
}

bool region_check(struct mm_space *space)
{
	if (!avl_check(&space->regions, compare_start))
		return false;
	uintptr_t prev_end = 0;
	for (struct mm_region *r = node_region(avl_first(&space->regions)); r; r = region_next(r)) {
		if (r->start >= r->end || (r->start | r->end) & (MM_PAGE_SIZE - 1) || r->start < prev_end)
			return false;
		if (r->gap_before != r->start - prev_end)
			return false;
		uintptr_t gap = r->gap_before;
		if (r->node.left && node_region(r->node.left)->max_gap > gap)
			gap = node_region(r->node.left)->max_gap;
		if (r->node.right && node_region(r->node.right)->max_gap > gap)
			gap = node_region(r->node.right)->max_gap;
		if (r->max_gap != gap)
			return false;
		prev_end = r->end;
	}
	return true;
}
