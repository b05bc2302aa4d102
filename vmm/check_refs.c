/*
 * The exact reference check: each managed frame that a mapping reaches has exactly as many
 * references as there are mappings of it in the spaces given, plus the references the
 * objects behind those mappings keep (their page caches), plus those the caller says it
 * holds. vmm_check_space() only asks for at least one; this one counts.
 */
#include "region_tree.h"
#include "share.h"

#include <arch/x86_64/pt_walk.h>
#include <lib/print.h>
#include <lib/sort.h>
#include <mm/kmalloc.h>

#include "invariants.h"

/* A reference is kept as its frame's address; bit 0 marks one that is only a lower bound
 * (a mapping through a pager that cannot list the pages it keeps). */
#define REF_AT_LEAST 1u

#define MAX_SPACES 64
#define MAX_PAGERS 256
#define MAX_SHARED_TABLES 4096

struct ref_list {
	uint64_t *refs; /* NULL in the counting pass */
	size_t n, capacity;
	struct mm_pager *pagers[MAX_PAGERS];
	size_t n_pagers;
	bool too_many_pagers;
	/* Leaf tables spaces share (on-demand fork): each holds one reference per managed entry
	 * however many spaces point at it, so its leaves are counted in the first space met. */
	struct {
		uintptr_t table;
		const struct mm_space *space;
	} shared[MAX_SHARED_TABLES];
	size_t n_shared;
	bool too_many_shared;
};

static void add_ref(struct ref_list *l, uint64_t ref)
{
	if (l->refs && l->n < l->capacity)
		l->refs[l->n] = ref;
	l->n++;
}

static void add_pager_page(uintptr_t phys, void *ctx)
{
	add_ref(ctx, phys);
}

struct leaf_refs {
	struct ref_list *list;
	uint64_t flag;
	const struct mm_space *space;
	uintptr_t last_table; /* the leaf table of the last leaf, and whether it counts here */
	bool last_counts;
};

/* Whether the leaves of this shared table count in space: they do in the first space met. */
static bool shared_counts_in(struct ref_list *l, uintptr_t table, const struct mm_space *space)
{
	for (size_t i = 0; i < l->n_shared; i++)
		if (l->shared[i].table == table)
			return l->shared[i].space == space;
	if (l->n_shared == MAX_SHARED_TABLES) {
		l->too_many_shared = true;
		return false;
	}
	l->shared[l->n_shared].table = table;
	l->shared[l->n_shared++].space = space;
	return true;
}

/* A managed leaf: one reference, once per table. */
static int add_leaf(pte_t *entry, int level, uintptr_t va, void *ctx)
{
	struct leaf_refs *r = ctx;
	if (level == 1) {
		uintptr_t table = pt_table_of_entry(entry);
		if (table != r->last_table) {
			r->last_table = table;
			r->last_counts = !pt_is_shared(table) || shared_counts_in(r->list, table, r->space);
		}
		if (!r->last_counts)
			return 0;
	}
	if (*entry & PTE_SW_MANAGED)
		add_ref(r->list, pte_leaf_addr(*entry, level) | r->flag);
	return 0;
}

/* The pager's page cache, once. */
static void add_pager(struct ref_list *l, struct mm_pager *pager)
{
	if (!pager->ops->for_each_page)
		return;
	size_t k = 0;
	while (k < l->n_pagers && l->pagers[k] != pager)
		k++;
	if (k < l->n_pagers)
		return;
	if (k == MAX_PAGERS) {
		l->too_many_pagers = true;
		return;
	}
	l->pagers[l->n_pagers++] = pager;
	pager->ops->for_each_page(pager, add_pager_page, l);
}

/* Every space's mappings, region by region, each pager's page cache once, and the
 * caller's own references. */
static void collect(struct ref_list *l, struct mm_space *const *spaces, size_t n_spaces,
                    const struct vmm_ref_scope *scope)
{
	l->n = 0;
	l->n_pagers = 0;
	l->n_shared = 0;
	for (size_t i = 0; i < scope->n_pagers; i++)
		add_pager(l, scope->pagers[i]);
	for (size_t i = 0; i < scope->n_held; i++)
		for (uint32_t k = 0; k < scope->held[i].refs; k++)
			add_ref(l, scope->held[i].phys);
	for (size_t i = 0; i < n_spaces; i++) {
		struct mm_space *s = spaces[i];
		for (struct mm_region *r = region_first_after(s, 0); r; r = region_next(r)) {
			bool listed = !r->pager || r->pager->ops->for_each_page;
			struct leaf_refs refs = {l, listed ? 0 : REF_AT_LEAST, s, 0, false};
			pt_visit_leaves(s->root, PT_LEVELS, r->start, r->end, add_leaf, &refs);
			if (r->pager)
				add_pager(l, r->pager);
		}
	}
}

/* MM_OK when every frame of the sorted list has as many references as it is listed. */
static int compare_counts(const uint64_t *refs, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint64_t phys = refs[i] & ~(uint64_t)REF_AT_LEAST;
		size_t count = 0;
		bool at_least = false;
		for (; i < n && (refs[i] & ~(uint64_t)REF_AT_LEAST) == phys; i++) {
			count++;
			at_least |= (refs[i] & REF_AT_LEAST) != 0;
		}
		const struct frame *f = frame_lookup(phys);
		if (!f || (frame_state(f) != FRAME_ALLOCATED && frame_state(f) != FRAME_HEAD)) {
			lib_printf("vmm_check_references: frame %llx is referenced but not allocated\n",
			           (unsigned long long)phys);
			return MM_EINVAL;
		}
		uint32_t refcount = __atomic_load_n(&f->refcount, __ATOMIC_RELAXED);
		if (at_least ? refcount < count : refcount != count) {
			lib_printf("vmm_check_references: frame %llx has %u references, %s%llu found\n",
			           (unsigned long long)phys, refcount, at_least ? "at least " : "",
			           (unsigned long long)count);
			return MM_EINVAL;
		}
	}
	return MM_OK;
}

int vmm_check_references(const struct vmm_ref_scope *scope)
{
	struct mm_space *const *spaces = scope->spaces;
	size_t n_spaces = scope->n_spaces;
	/* Every space once, the kernel space among them, locked by ascending id (the lock
	 * order between spaces), each whole: the tables and trees stand still. */
	struct mm_space *sorted[MAX_SPACES];
	size_t n = 0;
	sorted[n++] = mm_kernel_space();
	for (size_t i = 0; i < n_spaces; i++) {
		if (!spaces[i])
			return MM_EINVAL;
		bool seen = false;
		for (size_t j = 0; j < n; j++)
			seen |= sorted[j] == spaces[i];
		if (seen)
			continue;
		if (n == MAX_SPACES)
			return MM_EINVAL;
		size_t j = n++;
		for (; j > 0 && sorted[j - 1]->id > spaces[i]->id; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = spaces[i];
	}
	vmm_range_lock_t held_locks[MAX_SPACES];
	for (size_t i = 0; i < n; i++)
		held_locks[i] = vmm_lock_all(sorted[i]);

	static struct ref_list list; /* large (the pager set): not on a kernel stack */
	static spinlock_t list_lock = SPINLOCK_INIT;
	spin_lock(&list_lock);
	list = (struct ref_list){0};
	collect(&list, sorted, n, scope);
	size_t capacity = list.n;
	int error = list.too_many_pagers || list.too_many_shared ? MM_EINVAL : MM_OK;
	uint64_t *refs = NULL;
	if (error == MM_OK && capacity) {
		refs = kmalloc(capacity * sizeof(*refs));
		if (!refs)
			error = MM_ENOMEM;
	}
	if (error == MM_OK && capacity) {
		list.refs = refs;
		list.capacity = capacity;
		collect(&list, sorted, n, scope);
		MM_CHECK(list.n == capacity); /* nothing could change under the locks */
		sort_u64(refs, capacity);
		error = compare_counts(refs, capacity);
	}
	spin_unlock(&list_lock);
	for (size_t i = n; i-- > 0;)
		vmm_unlock_range(sorted[i], held_locks[i]);
	kfree(refs);
	return error;
}
