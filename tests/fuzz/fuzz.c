/* The API fuzzer's shared helpers: decoding, predictions, counts, frame records, large-page
 * splits and access rules (see fuzz.h). */
#include "fuzz.h"

#include <stdio.h>
#include <string.h>

#include "tests/suites/helpers.h"
#include "vmm/invariants.h"

bool inject;
long inject_next = -1;
int current_slot = -1;
uint64_t value_seq;
uint64_t last_space_id;
struct kobj kobjs[MAX_KOBJS];
unsigned kobj_count;

/* ---- Decoding -------------------------------------------------------------------------- */

static const uintptr_t special_addresses[] = {
    0,
    0x800,
    MM_USER_END - PAGE,
    MM_USER_END,
    (uintptr_t)1 << 47, /* non-canonical */
    MM_HW_BASE - PAGE,  /* non-canonical */
    MM_HW_END - PAGE,   /* hardware window, outside W_HW */
    MM_DIRECT_MAP_BASE + LARGE,
    MM_KERNEL_MAP_END - PAGE, /* kernel mapping area, outside W_KERN */
    MM_KERNEL_IMAGE_BASE,
    (uintptr_t)0x100000000000ull, /* user half, between the windows */
    ~(uintptr_t)0xFFF,
};
#define N_SPECIALS (sizeof special_addresses / sizeof special_addresses[0])

/* Each window's two hot spots, as page indexes: pages are drawn from 16 around one of them
 * half the time, so that operations meet on the same pages (the window's start, and its
 * 2 MiB, 512 GiB or top boundary). */
static const unsigned hot[W_COUNT][2] = {
    [W_LOW] = {8, 511}, [W_CROSS] = {8, 512}, [W_TOP] = {8, 504},
    [W_HW] = {8, 512},  [W_KERN] = {8, 512},
};

/* Where the input's last mappings and regions start: operations that name one of them
 * meet what is there far more often than random pages would. */
#define RECENT 8
static uintptr_t recent[RECENT];
static unsigned recent_count;

void remember(uintptr_t va)
{
	recent[recent_count++ % RECENT] = va;
}

void forget_recent(void)
{
	recent_count = 0;
}

uintptr_t decode_addr(uint8_t lo, uint8_t hi)
{
	unsigned v = lo | (unsigned)hi << 8;
	unsigned index = v & 0x7FF, w = (v >> 12) & 7;
	uintptr_t va;
	if (v & 0x8000) {
		unsigned n = recent_count < RECENT ? recent_count : RECENT;
		uintptr_t base = n ? recent[(v & 7) % n] : windows[W_LOW].base;
		va = base + (uintptr_t)((v >> 3) & 0xF) * PAGE;
	} else if (w == W_COUNT) {
		va = special_addresses[(index & 0x3FF) % N_SPECIALS];
	} else {
		w = w > W_COUNT ? w - W_COUNT - 1 : w; /* 6, 7: the low and crossing windows again */
		if (index & 0x400)
			va = windows[w].base + (uintptr_t)((index & 0x3FF) % (windows[w].pages + 16)) * PAGE;
		else
			va = windows[w].base + (uintptr_t)(hot[w][(index >> 4) & 1] - 8 + (index & 0xF)) * PAGE;
	}
	if (v & 0x800)
		va = (index & 8) ? va + 0x123 : va & ~(LARGE - 1);
	return va;
}

size_t decode_len(uint8_t b)
{
	if (!(b & 0x80))
		return ((size_t)(b & 0x0F) + 1) * PAGE;
	switch (b & 7) {
	case 0:
		return 0;
	case 1:
		return LARGE;
	case 2:
		return LARGE + PAGE;
	case 3:
		return 2 * LARGE;
	case 4:
		return (size_t)((b >> 3) & 0xF) * PAGE + 100;
	case 5:
		return SIZE_MAX - PAGE;
	case 6:
		return ((size_t)((b >> 3) & 0xF) + 17) * PAGE;
	default:
		return 64 * PAGE;
	}
}

uint32_t decode_map_flags(uint8_t b)
{
	static const uint32_t extra[8] = {0, 0, 0, 0, 0, MM_FLG_PS, MM_FLG_PS1G, 1u << 20};
	uint32_t f = extra[b >> 5];
	if (b & 1)
		f |= MM_FLG_WR;
	if (b & 2)
		f |= MM_FLG_US;
	if (b & 4)
		f |= MM_FLG_EXEC;
	if (b & 8)
		f |= MM_FLG_DMA;
	if (b & 16)
		f |= MM_FLG_REPLACE;
	return f;
}

int decode_slot(uint8_t b)
{
	int m = (b & 0x7F) % MODELS;
	if (m == KSLOT || models[m].space || (b & 0x80))
		return m;
	/* An empty slot would make the call fail on its NULL space, which bit 7 asks for; else
	 * the next live space takes the operation. */
	for (int i = 1; i < USER_SLOTS; i++)
		if (models[(m + i) % USER_SLOTS].space)
			return (m + i) % USER_SLOTS;
	return m;
}

mm_space_t space_of(int m)
{
	return m == KSLOT ? mm_kernel_space() : models[m].space;
}

/* ---- Predictions and judgements --------------------------------------------------------- */

void refuse(struct pred *p, int error)
{
	p->want = p->reasons++ ? ANY_ERROR : error;
}

bool judge(const char *call, const struct pred *p, int got, unsigned documented)
{
	if (got > 0 || got < MM_ESIZE)
		fuzz_fail("%s returned %d, not an mm error code", call, got);
	if (got == MM_ENOMEM && inject)
		return false;
	if (got != MM_OK && !(documented & ERR(got)))
		fuzz_fail("%s failed with %s, which its header does not list", call, mm_strerror(got));
	if (p->want == MM_OK) {
		if (got != MM_OK)
			fuzz_fail("%s failed with %s; the model expected success", call, mm_strerror(got));
		return true;
	}
	if (got == MM_OK)
		fuzz_fail("%s succeeded; the model expected %s", call,
		          p->want == ANY_ERROR ? "an error" : mm_strerror(p->want));
	if (p->want != ANY_ERROR && got != p->want)
		fuzz_fail("%s failed with %s; the model expected %s", call, mm_strerror(got),
		          mm_strerror(p->want));
	return false;
}

struct snap take_snap(void)
{
	struct snap s = {free_frames(), heap_objects(), {0}};
	for (int m = 0; m < MODELS; m++)
		s.digest[m] = space_of(m) ? vmm_space_digest(space_of(m)) : 0;
	return s;
}

void expect_unchanged(const struct snap *s, const char *call, bool object_pages)
{
	uint64_t frames = free_frames(), objects = heap_objects();
	if ((!object_pages && frames != s->frames) || objects != s->objects)
		fuzz_fail("failed %s changed the counts: free frames %llu -> %llu, heap objects %llu -> "
		          "%llu",
		          call, (unsigned long long)s->frames, (unsigned long long)frames,
		          (unsigned long long)s->objects, (unsigned long long)objects);
	for (int m = 0; m < MODELS; m++) {
		uint64_t now = space_of(m) ? vmm_space_digest(space_of(m)) : 0;
		if (now != s->digest[m])
			fuzz_fail("failed %s (%s) changed slot %d's space: its page tables, regions or "
			          "counters differ",
			          call, mm_strerror(mm_last_error()), m);
	}
}

void refuse_area(struct pred *p, int m, enum area area)
{
	if (area == A_NONE || (m == KSLOT && area != A_KERNEL))
		refuse(p, MM_EPERM);
}

void refuse_wx(struct pred *p, uint32_t flags)
{
	if ((flags & MM_FLG_WR) && (flags & MM_FLG_EXEC))
		refuse(p, MM_EPERM);
}

uint32_t section_for(enum area area, uint32_t flags)
{
	return area == A_KERNEL       ? MM_SECTION_KERNEL
	       : (flags & MM_FLG_DMA) ? MM_SECTION_DEVICE
	                              : MM_SECTION_MMAP;
}

void set_anon(int m, uintptr_t first, uintptr_t end, uint32_t flags, uint32_t section, bool present,
              uint32_t region)
{
	for (uintptr_t va = first; va < end; va += PAGE) {
		struct mpage *p = page_at(m, va);
		*p = (struct mpage){.kind = K_ANON,
		                    .flags = (uint8_t)(flags & PAGE_FLAGS),
		                    .section = (uint8_t)section,
		                    .present = present,
		                    .val = V_KNOWN,
		                    .region = region,
		                    .serial = region};
	}
}

void observe_large(int m, uintptr_t first, uintptr_t end)
{
	mm_space_t s = space_of(m);
	for (uintptr_t base = (first + LARGE - 1) & ~(LARGE - 1); base + LARGE <= end; base += LARGE) {
		uint32_t flags = 0;
		uintptr_t phys = mm_translate(s, base, &flags);
		if (phys == MM_NADDR || !(flags & MM_FLG_PS))
			continue;
		for (uintptr_t va = base; va < base + LARGE; va += PAGE) {
			struct mpage *p = page_at(m, va);
			p->large = 1;
			p->frame = phys;
		}
	}
}

/* ---- Frames the fuzzer holds ------------------------------------------------------------ */

void tag_frame(struct frec *r)
{
	for (uint32_t i = 0; i < r->pages; i++) {
		uint64_t *words = MM_VIRTUALIZE(r->phys + (uintptr_t)i * PAGE);
		r->values[i] = 0xF00D000000000000ull | ++value_seq;
		words[0] = words[511] = r->values[i];
	}
}

void check_frame_contents(const struct frec *r, const char *when)
{
	if (r->foreign)
		return;
	for (uint32_t i = 0; i < r->pages; i++) {
		const uint64_t *words = MM_VIRTUALIZE(r->phys + (uintptr_t)i * PAGE);
		if (words[0] != r->values[i] || words[511] != r->values[i])
			fuzz_fail("%s: frame %#lx holds %#llx / %#llx, the fuzzer's records say %#llx", when,
			          (unsigned long)(r->phys + (uintptr_t)i * PAGE), (unsigned long long)words[0],
			          (unsigned long long)words[511], (unsigned long long)r->values[i]);
	}
}

struct frec *pick_rec(uint8_t sel, long size, bool foreign_ok)
{
	for (unsigned i = 0; i < rec_count; i++) {
		struct frec *r = &recs[(sel + i) % rec_count];
		if (r->owned > 0 && !r->split && (foreign_ok || !r->foreign) &&
		    (size < 0 || r->size == (uint32_t)size))
			return r;
	}
	return NULL;
}

unsigned live_large_recs(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < rec_count; i++)
		n += recs[i].size && recs[i].owned > 0;
	return n;
}

void free_ref(struct frec *r)
{
	int error = r->size ? mm_free_physical_page(r->phys, r->size) : mm_phys_free_page(r->phys);
	if (error != MM_OK)
		fuzz_fail("freeing a reference the fuzzer holds on %#lx: %s", (unsigned long)r->phys,
		          mm_strerror(error));
	r->owned--;
}

void take_handed(const struct handed *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (h[i].rec) {
			h[i].rec->owned++;
			continue;
		}
		struct frec *r = rec_new(h[i].phys, h[i].size ? 512 : 1, h[i].size, true);
		if (!r) {
			struct frec tmp = {h[i].phys, 1, h[i].size, 1, true, false, NULL};
			free_ref(&tmp);
		}
	}
}

bool leaf_reference(int m, uintptr_t va, bool whole, struct handed *out)
{
	const struct mpage *p = page_at(m, va);
	if (!p || !p->present || p->kind == K_NONE || p->kind == K_GUARD || p->kind == K_DEVICE)
		return false;
	if (p->kind == K_PAGES) {
		struct frec *r = &recs[p->obj];
		if (r->size && !whole) /* a piece of a split 2 MiB page: a frame of its own now */
			*out = (struct handed){NULL, r->phys + (uintptr_t)p->sub * PAGE, 0};
		else
			*out = (struct handed){r, 0, 0};
		return true;
	}
	if (whole) {
		*out = (struct handed){NULL, p->frame, MM_FLG_PS};
		return true;
	}
	uintptr_t phys = mm_translate(space_of(m), va, NULL);
	if (phys == MM_NADDR || phys == zero_page)
		return false;
	*out = (struct handed){NULL, phys & ~(PAGE - 1), 0};
	return true;
}

/* ---- Large pages ------------------------------------------------------------------------ */

/* The first address of the 2 MiB leaf holding va in model m, or MM_NADDR. */
static uintptr_t large_leaf(int m, uintptr_t va)
{
	const struct mpage *p = page_at(m, va);
	return p && p->kind != K_NONE && p->present && p->large ? va & ~(LARGE - 1) : MM_NADDR;
}

/* References on the frame of the 2 MiB leaf at base: every model's leaf of the same frame,
 * and the fuzzer's own. */
static int leaf_refs(int m, uintptr_t base)
{
	const struct mpage *p = page_at(m, base);
	int refs = 0;
	for (int n = 0; n < MODELS; n++) {
		for (int w = 0; w < W_COUNT; w++) {
			if (!models[n].pages[w] || (n < USER_SLOTS && !models[n].space))
				continue;
			uintptr_t lo = (windows[w].base + LARGE - 1) & ~(LARGE - 1);
			uintptr_t hi = windows[w].base + windows[w].pages * PAGE;
			for (uintptr_t va = lo; va + LARGE <= hi; va += LARGE) {
				const struct mpage *q = &models[n].pages[w][(va - windows[w].base) / PAGE];
				if (q->kind != p->kind || !q->large || !q->present)
					continue;
				refs += p->kind == K_PAGES ? q->obj == p->obj : q->frame == p->frame;
			}
		}
	}
	if (p->kind == K_PAGES)
		return refs + recs[p->obj].owned;
	for (unsigned i = 0; i < rec_count; i++)
		if (recs[i].size && recs[i].phys == p->frame)
			refs += recs[i].owned;
	return refs;
}

struct cuts plan_cuts(int m, uintptr_t first, uintptr_t end)
{
	struct cuts c = {0, {0, 0}, {0, 0}, MM_OK};
	const uintptr_t at[2] = {first, end};
	for (int i = 0; i < 2; i++) {
		uintptr_t leaf = large_leaf(m, at[i]);
		if (leaf == MM_NADDR || leaf == at[i] || (c.n && c.leaf[c.n - 1] == leaf))
			continue;
		if (page_at(m, at[i])->kind != K_DEVICE && leaf_refs(m, leaf) != 1) {
			c.error = MM_ESIZE;
			break;
		}
		c.seen[c.n] = i == 0 ? leaf : end;
		c.leaf[c.n++] = leaf;
	}
	return c;
}

bool planned_split(const struct cuts *c, uintptr_t va)
{
	for (int i = 0; i < c->n; i++)
		if ((va & ~(LARGE - 1)) == c->leaf[i])
			return true;
	return false;
}

void settle_cuts(int m, const struct cuts *c)
{
	for (int i = 0; i < c->n; i++) {
		uint32_t flags = 0;
		uintptr_t phys = mm_translate(space_of(m), c->seen[i], &flags);
		if (phys == MM_NADDR || (flags & MM_FLG_PS))
			fuzz_fail("the 2 MiB page at %#lx was not split (translate %#lx, flags %#x)",
			          (unsigned long)c->leaf[i], (unsigned long)phys, flags);
		for (uintptr_t va = c->leaf[i]; va < c->leaf[i] + LARGE; va += PAGE) {
			struct mpage *p = page_at(m, va);
			if (p->kind == K_PAGES)
				recs[p->obj].split = true;
			p->large = 0;
		}
	}
}

/* ---- Program accesses ------------------------------------------------------------------- */

bool access_allowed(const struct mpage *p, bool write)
{
	if (!p || p->kind == K_NONE || p->kind == K_GUARD)
		return false;
	if (p->present)
		return !write || (p->flags & MM_FLG_WR);
	if (write && !(p->flags & MM_FLG_WR))
		return false;
	if ((p->kind == K_OBJ || p->kind == K_SHM) && p->sub >= shms[p->obj].pages)
		return false;          /* past the object's end */
	return p->kind != K_PAGES; /* a hole in given pages stays a hole */
}

bool kernel_mode(int m, uintptr_t va, const struct mpage *p)
{
	return m == KSLOT || window_of(va) == W_KERN ||
	       (p && p->kind != K_NONE && !(p->flags & MM_FLG_US));
}

bool copy_allowed(const struct mpage *p, bool write)
{
	if (!p || p->kind == K_DEVICE || !(p->flags & MM_FLG_US))
		return false;
	return access_allowed(p, write);
}

void apply_write(int m, uintptr_t va, struct mpage *p, uint64_t value)
{
	p->present = 1;
	switch (p->kind) {
	case K_SHM:
		shms[p->obj].values[p->sub] = value;
		break;
	case K_PAGES:
		recs[p->obj].values[p->sub] = value;
		break;
	default:
		p->val = V_KNOWN;
		p->value = value;
		group_written(m, va, p);
		break;
	}
}
