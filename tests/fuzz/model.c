/* The API fuzzer's model: address windows, page models, gap search, and the comparison of
 * the model with the page tables (see model.h). */
#include "model.h"

#include <mm/phys.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE MM_PAGE_SIZE
#define LARGE MM_LARGE_PAGE_SIZE

const struct window windows[W_COUNT] = {
    [W_LOW] = {MM_USER_BASE, (4u << 20) / PAGE - 1},
    [W_CROSS] = {((uintptr_t)1 << 39) - LARGE, 2 * LARGE / PAGE},
    [W_TOP] = {MM_USER_END - LARGE, LARGE / PAGE},
    [W_HW] = {MM_HW_BASE, 2 * LARGE / PAGE},
    [W_KERN] = {MM_KERNEL_MAP_BASE, 2 * LARGE / PAGE},
};

struct space_model models[MODELS];
struct frec recs[MAX_RECS];
unsigned rec_count;
struct shm_model shms[MAX_SHM];
unsigned shm_count;
uintptr_t zero_page;
uint32_t next_group;
const char *fuzz_op_name = "start-up";
unsigned fuzz_op_index;

/* Every page model, carved into per-slot, per-window arrays by model_init. */
#define USER_WINDOW_PAGES                                                                          \
	((4u << 20) / PAGE - 1 + 2 * LARGE / PAGE + LARGE / PAGE + 2 * LARGE / PAGE)
static struct mpage page_store[USER_SLOTS * USER_WINDOW_PAGES + 2 * LARGE / PAGE];

void model_init(void)
{
	struct mpage *next = page_store;
	for (int m = 0; m < USER_SLOTS; m++) {
		for (int w = W_LOW; w <= W_HW; w++) {
			models[m].pages[w] = next;
			next += windows[w].pages;
		}
	}
	models[KSLOT].pages[W_KERN] = next;
}

void model_reset(int m)
{
	for (int w = 0; w < W_COUNT; w++)
		if (models[m].pages[w])
			memset(models[m].pages[w], 0, windows[w].pages * sizeof(struct mpage));
	models[m].heap_base = models[m].heap_end = 0;
	models[m].heap_serial = 0;
}

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "api_fuzz: operation %u (%s): ", fuzz_op_index, fuzz_op_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

int window_of(uintptr_t va)
{
	for (int w = 0; w < W_COUNT; w++)
		if (va - windows[w].base < windows[w].pages * PAGE)
			return w;
	return -1;
}

int owner_of(int m, uintptr_t va)
{
	return va >= MM_KERNEL_MAP_BASE && va < MM_KERNEL_MAP_END ? KSLOT : m;
}

static struct mpage *page_of(int o, int w, uintptr_t va)
{
	if (w < 0 || !models[o].pages[w])
		return NULL;
	return &models[o].pages[w][(va - windows[w].base) / PAGE];
}

struct mpage *page_at(int m, uintptr_t va)
{
	return page_of(owner_of(m, va), window_of(va), va);
}

struct mpage *page_in_tree(int m, uintptr_t va)
{
	return page_of(m, window_of(va), va);
}

bool range_modelled(int m, uintptr_t first, uintptr_t end)
{
	if (end <= first)
		return false;
	int w = window_of(first);
	return w >= 0 && window_of(end - 1) == w && models[owner_of(m, first)].pages[w];
}

void window_part(int w, uintptr_t first, uintptr_t end, uintptr_t *lo, uintptr_t *hi)
{
	*lo = windows[w].base;
	*hi = *lo + windows[w].pages * PAGE;
	if (first > *lo)
		*lo = first;
	if (end < *hi)
		*hi = end;
}

/* Calls fn for each modelled page of owner model o in [first, end), lowest first, until it
 * returns true; returns that page's address or MM_NADDR. */
typedef bool (*page_fn)(struct mpage *p, uintptr_t va, void *ctx);
static uintptr_t each_page(int o, uintptr_t first, uintptr_t end, page_fn fn, void *ctx)
{
	for (int w = 0; w < W_COUNT; w++) {
		if (!models[o].pages[w])
			continue;
		uintptr_t lo, hi;
		window_part(w, first, end, &lo, &hi);
		for (uintptr_t va = lo; va < hi; va += PAGE)
			if (fn(&models[o].pages[w][(va - windows[w].base) / PAGE], va, ctx))
				return va;
	}
	return MM_NADDR;
}

static bool in_region(struct mpage *p, uintptr_t va, void *ctx)
{
	return p->kind != K_NONE;
}

bool range_has_region(int m, uintptr_t first, uintptr_t end)
{
	return each_page(owner_of(m, first), first, end, in_region, NULL) != MM_NADDR;
}

/* The highest page of [first, end) in a region of model o, or MM_NADDR. */
static uintptr_t last_occupied(int o, uintptr_t first, uintptr_t end)
{
	for (int w = W_COUNT - 1; w >= 0; w--) {
		if (!models[o].pages[w])
			continue;
		uintptr_t lo, hi;
		window_part(w, first, end, &lo, &hi);
		for (uintptr_t va = hi; va > lo;) {
			va -= PAGE;
			if (models[o].pages[w][(va - windows[w].base) / PAGE].kind != K_NONE)
				return va;
		}
	}
	return MM_NADDR;
}

uintptr_t model_find_gap(int m, uintptr_t lo, uintptr_t hi, uintptr_t length, uintptr_t align)
{
	uintptr_t a = (lo + align - 1) & ~(align - 1);
	if (a < lo)
		return MM_NADDR;
	while (a < hi && hi - a >= length) {
		uintptr_t c = last_occupied(m, a, a + length);
		if (c == MM_NADDR)
			return a;
		uintptr_t next = (c + PAGE + align - 1) & ~(align - 1);
		if (next <= a)
			return MM_NADDR;
		a = next;
	}
	return MM_NADDR;
}

static bool clear_page(struct mpage *p, uintptr_t va, void *ctx)
{
	memset(p, 0, sizeof(*p));
	return false;
}

static uint32_t last_region_id;

uint32_t new_region_id(void)
{
	return ++last_region_id;
}

/* Gives the run of pages from va on that have region number `from` the number `to`. */
static void renumber_run(int o, uintptr_t va, uint32_t from, uint32_t to)
{
	int w = window_of(va);
	for (struct mpage *p; w >= 0 && window_of(va) == w && models[o].pages[w]; va += PAGE) {
		p = &models[o].pages[w][(va - windows[w].base) / PAGE];
		if (p->kind == K_NONE || p->region != from)
			break;
		p->region = to;
	}
}

/* The page model of va in owner model o, or NULL. */
static struct mpage *owned_page(int o, uintptr_t va)
{
	int w = window_of(va);
	return w >= 0 && models[o].pages[w] ? &models[o].pages[w][(va - windows[w].base) / PAGE] : NULL;
}

void model_clear(int m, uintptr_t first, uintptr_t end)
{
	int o = owner_of(m, first);
	each_page(o, first, end, clear_page, NULL);
	const struct mpage *before = owned_page(o, first - PAGE), *after = owned_page(o, end);
	if (before && after && after->kind != K_NONE && before->kind != K_NONE &&
	    before->region == after->region)
		renumber_run(o, end, after->region, new_region_id());
}

void model_cut_regions(int m, uintptr_t first, uintptr_t end)
{
	int o = owner_of(m, first);
	uint32_t old = 0, renamed = 0;
	for (uintptr_t va = first; va < end; va += PAGE) {
		struct mpage *p = owned_page(o, va);
		if (!p || p->kind == K_NONE)
			continue;
		if (!renamed || p->region != old) {
			old = p->region;
			renamed = new_region_id();
		}
		p->region = renamed;
	}
}

void model_region_extent(int m, uintptr_t va, uintptr_t *start, uintptr_t *end)
{
	va &= ~(PAGE - 1);
	const struct mpage *p = page_in_tree(m, va);
	uint32_t id = p->region;
	*start = va;
	for (const struct mpage *q;
	     (q = page_in_tree(m, *start - PAGE)) && q->kind != K_NONE && q->region == id;)
		*start -= PAGE;
	*end = va + PAGE;
	for (const struct mpage *q;
	     (q = page_in_tree(m, *end)) && q->kind != K_NONE && q->region == id;)
		*end += PAGE;
}

bool model_page_range(uintptr_t start, size_t count, uintptr_t page_size, uintptr_t *first,
                      uintptr_t *end)
{
	if (count == 0)
		return false;
	uintptr_t last = start + count - 1;
	if (last < start)
		return false;
	uintptr_t aligned_last = last | (page_size - 1);
	if (aligned_last + 1 == 0)
		return false;
	*first = start & ~(page_size - 1);
	*end = aligned_last + 1;
	return true;
}

enum area model_area(uintptr_t first, uintptr_t end)
{
	if (first >= MM_USER_BASE && end <= MM_USER_END)
		return A_USER;
	if (first >= MM_HW_BASE && end <= MM_HW_END)
		return A_HW;
	if (first >= MM_KERNEL_MAP_BASE && end <= MM_KERNEL_MAP_END)
		return A_KERNEL;
	return A_NONE;
}

struct frec *rec_new(uintptr_t phys, uint32_t pages, uint32_t size, bool foreign)
{
	static uint64_t value_pool[64 * 1024];
	static size_t value_used;
	if (rec_count == 0)
		value_used = 0; /* a new input */
	if (rec_count == MAX_RECS || value_used + pages > sizeof value_pool / sizeof value_pool[0])
		return NULL;
	struct frec *r = &recs[rec_count++];
	*r = (struct frec){phys, pages, size, 1, foreign, false, &value_pool[value_used]};
	value_used += pages;
	return r;
}

/* ---- Checks ------------------------------------------------------------------------------ */

bool expected_value(const struct mpage *p, uint64_t *value)
{
	switch (p->val) {
	case V_KNOWN:
		*value = p->value;
		return true;
	case V_OBJECT:
		if (p->sub >= shms[p->obj].pages)
			return false;
		*value = shms[p->obj].values[p->sub];
		return true;
	case V_FRAME:
		if (recs[p->obj].foreign)
			return false;
		*value = recs[p->obj].values[p->sub];
		return true;
	default:
		return false;
	}
}

/* The frame of an object page, learnt from the first mapping that shows it. */
static void check_object_frame(int m, uintptr_t va, const struct mpage *p, uintptr_t phys)
{
	struct shm_model *o = &shms[p->obj];
	if (p->sub >= o->pages)
		fuzz_fail("slot %d va %#lx: page %u past the end of object %u (%u pages) is mapped", m,
		          (unsigned long)va, p->sub, p->obj, o->pages);
	bool object_view = p->kind == K_SHM || p->val == V_OBJECT;
	if (!o->frames[p->sub]) {
		if (object_view)
			o->frames[p->sub] = phys;
		return;
	}
	if (object_view && phys != o->frames[p->sub])
		fuzz_fail("slot %d va %#lx maps %#lx, but object %u's page %u is frame %#lx", m,
		          (unsigned long)va, (unsigned long)phys, p->obj, p->sub,
		          (unsigned long)o->frames[p->sub]);
	if (!object_view && phys == o->frames[p->sub])
		fuzz_fail("slot %d va %#lx: a private page written by the program still maps object "
		          "%u's frame %#lx",
		          m, (unsigned long)va, p->obj, (unsigned long)phys);
}

void verify_page(int m, uintptr_t va)
{
	/* The page's first and last words: a range may start inside a page (an unaligned
	 * copy), and reading from there would run into the next frame. */
	va &= ~(PAGE - 1);
	const struct mpage *p = page_at(m, va);
	if (!p)
		return;
	mm_space_t s = m == KSLOT ? mm_kernel_space() : models[m].space;
	if (!s)
		return;
	uint32_t flags = 0;
	uintptr_t phys = mm_translate(s, va, &flags);
	bool mapped = p->present && p->kind != K_NONE && p->kind != K_GUARD;
	if (!mapped) {
		if (phys != MM_NADDR)
			fuzz_fail("slot %d va %#lx translates to %#lx (flags %#x); the model has no leaf "
			          "there (kind %u, present %u)",
			          m, (unsigned long)va, (unsigned long)phys, flags, p->kind, p->present);
		return;
	}
	if (phys == MM_NADDR)
		fuzz_fail("slot %d va %#lx: not mapped (%s); the model has a leaf (kind %u)", m,
		          (unsigned long)va, mm_strerror(mm_last_error()), p->kind);
	const uint32_t exact = MM_FLG_US | MM_FLG_EXEC | MM_FLG_DMA;
	if ((flags & exact) != (p->flags & exact))
		fuzz_fail("slot %d va %#lx: entry flags %#x, region flags %#x (US, EXEC, DMA differ)", m,
		          (unsigned long)va, flags, p->flags);
	if ((flags & MM_FLG_WR) && !(p->flags & MM_FLG_WR))
		fuzz_fail("slot %d va %#lx: writable entry in a read-only region (flags %#x)", m,
		          (unsigned long)va, flags);
	if (((flags & MM_FLG_PS) != 0) != (p->large != 0) || (flags & MM_FLG_PS1G))
		fuzz_fail("slot %d va %#lx: entry flags %#x, but the model's leaf is %s", m,
		          (unsigned long)va, flags, p->large ? "2 MiB" : "4 KiB");
	switch (p->kind) {
	case K_DEVICE:
		if (phys != p->value)
			fuzz_fail("slot %d va %#lx: device page %#lx translates to %#lx", m, (unsigned long)va,
			          (unsigned long)p->value, (unsigned long)phys);
		return;
	case K_PAGES: {
		uintptr_t want = recs[p->obj].phys + (uintptr_t)p->sub * PAGE;
		if (phys != want)
			fuzz_fail("slot %d va %#lx: given frame %#lx translates to %#lx", m, (unsigned long)va,
			          (unsigned long)want, (unsigned long)phys);
		break;
	}
	case K_OBJ:
	case K_SHM:
		check_object_frame(m, va, p, phys);
		break;
	case K_ANON:
		if (p->large && phys != p->frame + (va & (LARGE - 1)))
			fuzz_fail("slot %d va %#lx: its 2 MiB page was %#lx, it now translates to %#lx", m,
			          (unsigned long)va, (unsigned long)p->frame, (unsigned long)phys);
		break;
	default:
		break;
	}
	if (!mm_phys_is_managed(phys))
		fuzz_fail("slot %d va %#lx translates to %#lx, which is not RAM", m, (unsigned long)va,
		          (unsigned long)phys);
	if (phys == zero_page && (flags & MM_FLG_WR))
		fuzz_fail("slot %d va %#lx: the shared zero page is mapped writable", m, (unsigned long)va);
	uint64_t want;
	if (expected_value(p, &want)) {
		const volatile uint64_t *words = MM_VIRTUALIZE(phys);
		if (words[0] != want || words[511] != want)
			fuzz_fail("slot %d va %#lx (frame %#lx) holds %#llx / %#llx, the model says %#llx", m,
			          (unsigned long)va, (unsigned long)phys, (unsigned long long)words[0],
			          (unsigned long long)words[511], (unsigned long long)want);
	}
}

static bool verify_one(struct mpage *p, uintptr_t va, void *ctx)
{
	(void)p;
	verify_page(*(const int *)ctx, va);
	return false; /* on to the next page */
}

void verify_range(int m, uintptr_t first, uintptr_t end)
{
	each_page(owner_of(m, first), first, end, verify_one, &m);
}

void verify_all(void)
{
	for (int m = 0; m < MODELS; m++) {
		if (m != KSLOT && !models[m].space)
			continue;
		for (int w = 0; w < W_COUNT; w++) {
			if (!models[m].pages[w])
				continue;
			for (size_t i = 0; i < windows[w].pages; i++)
				if (models[m].pages[w][i].kind != K_NONE)
					verify_page(m, windows[w].base + i * PAGE);
		}
	}
}

void group_written(int m, uintptr_t va, const struct mpage *p)
{
	if (!p->group)
		return;
	for (int s = 0; s < USER_SLOTS; s++) {
		if (s == m || !models[s].space)
			continue;
		struct mpage *q = page_at(s, va);
		/* A page still mapping its object's frame (copy-on-write) keeps reading the
		 * object: only a private frame can be the one written. */
		if (q && q->group == p->group && q->val == V_KNOWN)
			q->val = V_UNKNOWN;
	}
}
