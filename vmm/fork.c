/*
 * mm_space_clone and mm_space_fork: the child gets the parent's regions and, table by
 * table, its mappings.
 *
 * On-demand fork (the default): a leaf table whose 2 MiB span holds private memory only is
 * not copied; the child's page directory points at the parent's table, whose sharer count
 * goes up, and both spaces' page-directory entries lose W. The table is copied, its pages
 * made copy-on-write, the first time either space changes anything in its span or writes
 * through it (vmm/share.h).
 *
 * Eager fork (MM_FLG_CLONE_EAGER), and every table whose span holds other memory: entries
 * are copied. Private pages of both become copy-on-write (read-only with PTE_SW_COW; the
 * frame's reference count says how many mappings share it); clone, and fork for shared,
 * device and given-page regions, share the frames as they are.
 *
 * The parent is changed only once the child is whole (its page-directory entries and
 * entries lose W, invalidated once at the end): a fork that runs out of memory empties the
 * child and leaves the parent exactly as it was.
 */
#include "region_tree.h"
#include "share.h"

#include <arch/x86_64/pt_walk.h>
#include <lib/string.h>

#define CLONE_FLAGS (MM_FLG_CLONE_KERNEL | MM_FLG_CLONE_USER | MM_FLG_CLONE_HW | MM_FLG_CLONE_EAGER)

struct copy_ctx {
	struct mm_space *src, *dst;
	uint32_t flags;
	bool cow;   /* this region's private pages become copy-on-write */
	bool share; /* leaf tables of private memory are shared, not copied (on-demand fork) */
	int error;
};

/* A writable private entry made copy-on-write: read-only, with the mark the fault handler
 * looks for. Child and parent get the same. */
static pte_t cow_entry(pte_t e)
{
	return (e & ~PTE_W) | PTE_SW_COW;
}

/* The child's entry for a parent leaf: copy-on-write for a writable private page when cow
 * (the parent's own entry follows in write_protect, once the whole child is made). */
static inline pte_t share_entry(pte_t e, bool cow)
{
	if (cow && (e & PTE_W))
		e = cow_entry(e);
	if (e & PTE_SW_MANAGED)
		frame_get(frame_lookup(pte_addr(e)));
	return e;
}

/* Whether the child's page directory points at the parent's leaf table for this span: the
 * fork shared it. */
static bool shared_with_child(struct mm_space *dst, uintptr_t va, uintptr_t table)
{
	const pte_t *pde = vmm_pde_of(dst, va);
	return pde && pte_addr(*pde) == table;
}

/*
 * The parent's writable 4 KiB pages of [start, end) become copy-on-write, as the child's
 * already are (its private large pages were copied, not shared); a leaf table the fork
 * shared keeps its entries, and the parent's page-directory entry loses W instead. A table
 * the parent already shares with other spaces keeps its entries too: nobody writes through
 * it, and its last sharer marks what the child copied when it takes it back (vmm/share.c).
 * post: true when something lost its write permission. A pass of its own, after the copy,
 * so that a failed fork leaves the parent alone; a tight loop over each leaf table, since it
 * touches every page an eager fork shares.
 */
static bool write_protect(struct mm_space *dst, uintptr_t table, int level, uintptr_t start,
                          uintptr_t end)
{
	pte_t *entries = pt_table(table);
	bool changed = false;
	if (level == 1) {
		unsigned first = pt_index(start, 1);
		unsigned last = first + (unsigned)((end - start) >> MM_PAGE_SHIFT);
		for (unsigned i = first; i < last; i++) {
			pte_t e = entries[i];
			if ((e & (PTE_P | PTE_W)) == (PTE_P | PTE_W)) {
				__atomic_store_n(&entries[i], cow_entry(e), __ATOMIC_RELAXED);
				changed = true;
			}
		}
		return changed;
	}
	for (uintptr_t va = start, next; va < end; va = next) {
		next = pt_step_end(va, end, level);
		pte_t *slot = &entries[pt_index(va, level)];
		pte_t e = *slot;
		if (!pte_present(e) || pte_is_leaf(e, level))
			continue;
		if (level == 2 && shared_with_child(dst, va, pte_addr(e))) {
			if (e & PTE_W) {
				__atomic_fetch_and(slot, ~(pte_t)PTE_W, __ATOMIC_RELAXED);
				changed = true;
			}
			continue;
		}
		if (level == 2 && pde_needs_unshare(e))
			continue;
		changed |= write_protect(dst, pte_addr(e), level - 1, va, next);
	}
	return changed;
}

/* A private large page cannot be shared copy-on-write page by page (its frames are one
 * allocation): the child gets a physical copy (a copy where copy-on-write cannot apply). */
static pte_t copy_large(struct copy_ctx *c, pte_t e, int level)
{
	uintptr_t copy = mm_phys_alloc(1, MM_NODE_LOCAL, size_flags_of_order(pt_order(level)));
	if (copy == MM_NADDR) {
		c->error = MM_ENOMEM;
		return 0;
	}
	uintptr_t bytes = pt_span(level);
	memcpy(MM_VIRTUALIZE(copy), MM_VIRTUALIZE(pte_leaf_addr(e, level)), bytes);
	return pte_make_large(copy, pte_flags(e) & ~PTE_PS) | PTE_SW_MANAGED;
}

static void copy_leaf_table(struct copy_ctx *c, uintptr_t src_pt, uintptr_t start, uintptr_t end,
                            bool behind_protected)
{
	uintptr_t dst_pt = pt_get_or_create(c->dst, start, 1, &c->error);
	if (dst_pt == MM_NADDR)
		return;
	/* A table the parent shares (behind its write-protected page-directory entry) maps
	 * private memory the parent cannot write either: copy-on-write for clone too. */
	bool cow = c->cow || behind_protected;
	const pte_t *src = pt_table(src_pt);
	unsigned first = pt_index(start, 1);
	unsigned last = first + (unsigned)((end - start) >> MM_PAGE_SHIFT);
	for (unsigned i = first; i < last; i++) {
		if (!pte_present(src[i]))
			continue;
		pt_set(dst_pt, i, share_entry(src[i], cow));
		space_count_pages(c->dst, 1);
	}
}

static bool in_parts(const struct mm_region *r, uint32_t flags);

/* Whether the leaf table of the 2 MiB span at `span` may be shared by the fork: every region
 * in the span is private memory the fork takes (copy-on-write for both, so a shared table
 * never maps shared, device or given pages, nor anything the child does not get). */
static bool shareable(struct mm_space *src, uintptr_t span, uint32_t flags)
{
	uintptr_t span_end = span + MM_LARGE_PAGE_SIZE;
	for (struct mm_region *r = region_first_after(src, span); r && r->start < span_end;
	     r = region_next(r))
		if (!region_is_private(r) || !in_parts(r, flags))
			return false;
	return true;
}

/* The child's page directory points at the parent's leaf table for this span (once: a span
 * several regions cross is met once per region), write-protected; the table counts one
 * more sharer. */
static void share_leaf_table(struct copy_ctx *c, uintptr_t table, uintptr_t span)
{
	uintptr_t pd = pt_get_or_create(c->dst, span, 2, &c->error);
	if (pd == MM_NADDR)
		return;
	unsigned index = pt_index(span, 2);
	if (pte_present(pt_table(pd)[index]))
		return;
	/* Set with every shard of both held: a space's sharing checks read it under one. */
	c->src->shares_tables = true;
	c->dst->shares_tables = true;
	pt_add_sharer(table);
	pt_set(pd, index, pte_make_table(table, true) & ~(pte_t)PTE_W);
	__atomic_add_fetch(&c->dst->table_pages, 1, __ATOMIC_RELAXED);
	space_count_pages(c->dst, pt_frame(table)->table.pt_used);
}

static void copy_level(struct copy_ctx *c, uintptr_t table, int level, uintptr_t start,
                       uintptr_t end)
{
	pte_t *entries = pt_table(table);
	uint64_t span = pt_span(level);
	for (uintptr_t va = start; va < end && c->error == MM_OK;) {
		uintptr_t next = pt_step_end(va, end, level);
		pte_t *entry = &entries[pt_index(va, level)];
		if (pte_present(*entry)) {
			if (level == 2 && !(*entry & PTE_PS)) {
				uintptr_t base = va & ~(uintptr_t)(MM_LARGE_PAGE_SIZE - 1);
				if (c->share && shareable(c->src, base, c->flags))
					share_leaf_table(c, pte_addr(*entry), base);
				else
					copy_leaf_table(c, pte_addr(*entry), va, next, pde_needs_unshare(*entry));
			} else if (pte_is_leaf(*entry, level)) {
				pte_t e = c->cow ? copy_large(c, *entry, level) : share_entry(*entry, false);
				uintptr_t dst_table =
				    c->error == MM_OK ? pt_get_or_create(c->dst, va, level, &c->error) : MM_NADDR;
				if (dst_table != MM_NADDR) {
					pt_set(dst_table, pt_index(va, level), e);
					space_count_pages(c->dst, (int64_t)(span >> MM_PAGE_SHIFT));
				} else if (e & PTE_SW_MANAGED) {
					frame_put(frame_lookup(pte_leaf_addr(e, level)));
				}
			} else {
				copy_level(c, pte_addr(*entry), level - 1, va, next);
			}
		}
		va = next;
	}
}

static bool in_parts(const struct mm_region *r, uint32_t flags)
{
	enum va_area area = va_area_of(r->start, r->end);
	return (area == AREA_USER && (flags & MM_FLG_CLONE_USER)) ||
	       (area == AREA_HW && (flags & MM_FLG_CLONE_HW));
}

/* Empties dst's parts after a failure: what was copied goes, references dropped. */
static void undo_part(struct mm_space *dst, uintptr_t start, uintptr_t end)
{
	struct tlb_gather g;
	struct mm_region *spare = NULL;                     /* a whole part: no region is cut in two */
	vmm_range_lock_t all = {0, (1u << VMM_SHARDS) - 1}; /* the caller holds every shard */
	tlb_gather_init(&g, dst, start, end);
	vmm_unmap_range_locked(dst, start, end, false, &g, &spare);
	vmm_prune_pdpts(dst, start, end, &all, &g);
	tlb_gather_finish(&g);
}

static void undo(struct mm_space *dst, uint32_t flags)
{
	if (flags & MM_FLG_CLONE_USER)
		undo_part(dst, MM_USER_BASE, MM_USER_END);
	if (flags & MM_FLG_CLONE_HW)
		undo_part(dst, MM_HW_BASE, MM_HW_END);
}

static int copy_space(struct mm_space *dst, struct mm_space *src, uint32_t flags, bool fork)
{
	int error = vmm_check_user_space(dst);
	if (error == MM_OK)
		error = vmm_check_user_space(src);
	if (error == MM_OK)
		error = vmm_check_flags(flags, CLONE_FLAGS);
	/* An empty request is a caller's mistake, as everywhere (types.h). */
	if (error == MM_OK && (dst == src || flags == 0))
		error = MM_EINVAL;
	if (error != MM_OK)
		return mm_set_error(error);
	/* The kernel half is shared by every space already. */
	if (!(flags & (MM_FLG_CLONE_USER | MM_FLG_CLONE_HW)))
		return MM_OK;
	/* Every shard of both: the source's tree and tables stand still, and nothing else
	 * runs in the destination. Between two spaces, the lower id first, so two copies in
	 * opposite directions cannot deadlock. */
	struct mm_space *first = src->id < dst->id ? src : dst;
	struct mm_space *second = first == src ? dst : src;
	vmm_range_lock_t held_first = vmm_lock_all(first);
	vmm_range_lock_t held_second = vmm_lock_all(second);

	struct copy_ctx c = {src, dst, flags, false, fork && !(flags & MM_FLG_CLONE_EAGER), MM_OK};
	for (struct mm_region *r = region_first_after(dst, 0); r; r = region_next(r))
		if (in_parts(r, flags))
			c.error = MM_EEXIST;
	for (struct mm_region *r = region_first_after(src, 0); r && c.error == MM_OK;
	     r = region_next(r)) {
		if (!in_parts(r, flags))
			continue;
		struct mm_region *copy =
		    region_new(r->start, r->end, r->flags, r->section, r->kind, r->pager, r->offset);
		if (!copy) {
			c.error = MM_ENOMEM;
			break;
		}
		vmm_lock_regions(dst);
		region_insert(dst, copy);
		vmm_unlock_regions(dst);
		c.cow = fork && region_is_private(r);
		copy_level(&c, src->root, PT_LEVELS, r->start, r->end);
	}
	if (c.error != MM_OK && c.error != MM_EEXIST)
		undo(dst, flags);
	/* The child is whole: now the parent's private pages become copy-on-write too. */
	bool parent_changed = false;
	for (struct mm_region *r = region_first_after(src, 0); r && c.error == MM_OK && fork;
	     r = region_next(r))
		if (in_parts(r, flags) && region_is_private(r))
			parent_changed |= write_protect(dst, src->root, PT_LEVELS, r->start, r->end);
	/* The parent's writable entries turned read-only: one invalidation for the whole user
	 * half, before the locks go, so that no CPU of the parent can write a frame the child
	 * now shares through a stale writable entry. */
	if (parent_changed)
		tlb_shootdown(src, MM_USER_BASE, MM_USER_END, 0);

	vmm_unlock_range(second, held_second);
	vmm_unlock_range(first, held_first);
	return c.error == MM_OK ? MM_OK : mm_set_error(c.error);
}

int mm_space_clone(mm_space_t dst, const mm_space_t src, uint32_t flags)
{
	return copy_space(dst, src, flags, false);
}

int mm_space_fork(mm_space_t dst, const mm_space_t src, uint32_t flags)
{
	return copy_space(dst, src, flags, true);
}
