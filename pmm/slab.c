/* Slabs: the size classes, slab creation and release, and the free pools per-CPU caches
 * refill from and drain to, each class under its own lock. */
#include "slab.h"

#include <lib/string.h>
#include <mm/phys.h>

/* Object 0 sits at the first multiple of the size's largest power-of-two divisor past the
 * header, so that every object is aligned to that power of two. */
#define POW2_DIVISOR(size) ((size) & -(size))
#define FIRST(size)                                                                                \
	((SLAB_HEADER_SIZE + POW2_DIVISOR(size) - 1) / POW2_DIVISOR(size) * POW2_DIVISOR(size))
#define OBJECTS(size, frames) (((frames)*MM_PAGE_SIZE - FIRST(size)) / (size))
#define RECIP(size) ((uint32_t)((((uint64_t)1 << 32) + (size)-1) / (size)))

/*
 * X(size, frames per slab, per-CPU cache capacity, slot base). A slab's objects fit in a
 * per-CPU cache, so a refill takes whole slabs and two CPUs rarely cache objects of one slab
 * (they would share its header's cache line on every call: measured, that halves the
 * throughput of two CPUs instead of doubling it). The frames per slab are the fewest that
 * allow it with at most 6.25 % lost to the header and the tail (1.6 to 3.9 % up to 512
 * bytes, 6.25 % for 192 and from 768 up). A CPU hoards at most 157 KiB of objects. The
 * slot bases are the running sum of the capacities (mm_kmalloc_check verifies them).
 */
/* clang-format off */
#define SLAB_CLASS_LIST(X)                                                                    \
	X(16, 1, 256, 0) X(32, 1, 128, 256) X(48, 1, 96, 384) X(64, 1, 64, 480) X(96, 1, 64, 544) \
	X(128, 1, 64, 608) X(192, 1, 32, 672) X(256, 2, 32, 704) X(384, 2, 32, 736)            \
	X(512, 4, 32, 768) X(768, 2, 16, 800) X(1024, 4, 16, 816) X(1536, 4, 16, 832)         \
	X(2048, 8, 16, 848)
/* clang-format on */

#define GEOM(size, frames, cap, base)                                                              \
	{size, frames, FIRST(size), OBJECTS(size, frames), cap, (cap) / 2, base, RECIP(size)},

const struct slab_geom slab_geom[MM_KMALLOC_CLASSES] = {SLAB_CLASS_LIST(GEOM)};

#define CHECK_GEOM(size, frames, cap, base)                                                        \
	_Static_assert(OBJECTS(size, frames) <= SLAB_MAX_OBJECTS, "bitmap too small");                 \
	_Static_assert(OBJECTS(size, frames) <= (cap), "a slab fits in a per-CPU cache");              \
	_Static_assert((frames)*MM_PAGE_SIZE <= 32768, "slab_index's multiply needs < 2^15");
SLAB_CLASS_LIST(CHECK_GEOM)

/* Indexed by ceil(size / 16): the smallest class that holds size (size 0 takes 16). */
/* clang-format off */
const uint8_t slab_size_class[MM_KMALLOC_MAX_SMALL / 16 + 1] = {
	0,  0,  1,  2,  3,  4,  4,  5,  5,  6,  6,  6,  6,  7,  7,  7,  /*    0 ..  240 */
	7,  8,  8,  8,  8,  8,  8,  8,  8,  9,  9,  9,  9,  9,  9,  9,  /*  256 ..  496 */
	9,  10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, /*  512 ..  752 */
	10, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, /*  768 .. 1008 */
	11, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, /* 1024 .. 1264 */
	12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, /* 1280 .. 1520 */
	12, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, /* 1536 .. 1776 */
	13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, /* 1792 .. 2032 */
	13,                                                             /* 2048 */
};
/* clang-format on */

struct slab_class slab_classes[MM_KMALLOC_CLASSES];

/* ---- Lists (class lock held) ------------------------------------------------------------ */

static void list_push(struct slab **head, struct slab *s, enum slab_list which)
{
	s->prev = NULL;
	s->next = *head;
	if (*head)
		(*head)->prev = s;
	*head = s;
	s->list = (uint8_t)which;
}

static void list_remove(struct slab **head, struct slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		*head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
	s->list = 0;
}

static struct slab **list_of(struct slab_class *c, const struct slab *s)
{
	MM_ASSERT(s->list == SLAB_PARTIAL || s->list == SLAB_FULL);
	return s->list == SLAB_PARTIAL ? &c->partial : &c->full;
}

/* Debug builds: the slab's pool count matches its bitmap, and no object is both pooled and
 * allocated (the header invariant, cheap enough to assert at every change). */
static void slab_assert(const struct slab *s)
{
	if (!MM_DEBUG_ENABLED)
		return;
	unsigned pooled = 0;
	for (unsigned w = 0; w < SLAB_MAP_WORDS; w++) {
		pooled += (unsigned)__builtin_popcountll(s->pool[w]);
		MM_ASSERT(!(s->pool[w] & __atomic_load_n(&s->allocated[w], __ATOMIC_RELAXED)));
	}
	MM_ASSERT(pooled == s->pooled && pooled <= slab_geom[s->cls].objects);
	(void)pooled;
}

/* Changes c->slabs (lock held), which the statistics read without the lock. */
static void count_slabs(struct slab_class *c, int delta)
{
	__atomic_store_n(&c->slabs, c->slabs + (uint64_t)(int64_t)delta, __ATOMIC_RELAXED);
}

/* ---- Slabs and frames ------------------------------------------------------------------- */

/* A new slab of class cls, every object in its pool; NULL when frames are gone. */
static struct slab *slab_create(unsigned cls)
{
	const struct slab_geom *g = &slab_geom[cls];
	uintptr_t phys = mm_phys_alloc_contiguous(g->frames);
	if (phys == MM_NADDR)
		return NULL;
	uint64_t pfn = phys_to_pfn(phys);
	for (unsigned i = 0; i < g->frames; i++) {
		struct frame *f = pfn_frame(pfn + i);
		MM_ASSERT(frame_state(f) == FRAME_ALLOCATED && f->refcount == 1);
		f->slab.head = (uint32_t)pfn;
		f->slab.cls = (uint16_t)cls;
		f->slab.unused = 0;
		frame_set_state(f, FRAME_SLAB);
	}
	struct slab *s = (struct slab *)MM_VIRTUALIZE(phys);
	memset(s, 0, sizeof(*s));
	s->cls = (uint16_t)cls;
	s->pooled = g->objects;
	for (unsigned i = 0; i < g->objects; i += 64) {
		unsigned left = g->objects - i;
		s->pool[i / 64] = left >= 64 ? ~0ull : (1ull << left) - 1;
	}
	return s;
}

/* Gives an empty slab's frames back. pre: on no list; no object allocated or cached. */
static void slab_destroy(struct slab *s)
{
	const struct slab_geom *g = &slab_geom[s->cls];
	uintptr_t phys = MM_PHYS(s);
	uint64_t pfn = phys_to_pfn(phys);
	/* Back to plain allocated frames (refcount is still the 1 the allocation gave), which
	 * the frame allocator's public free takes. */
	for (unsigned i = 0; i < g->frames; i++) {
		struct frame *f = pfn_frame(pfn + i);
		MM_ASSERT(frame_state(f) == FRAME_SLAB && f->slab.head == pfn && f->refcount == 1);
		frame_set_state(f, FRAME_ALLOCATED);
	}
	for (unsigned i = 0; i < g->frames; i++) {
		int error = mm_phys_free_page(phys + i * MM_PAGE_SIZE);
		MM_ASSERT(error == MM_OK);
		(void)error;
	}
}

/* Moves up to n objects from s's pool to out, lowest addresses last (a per-CPU cache pops
 * from the end, so they are handed out first). post: how many. */
static size_t pool_take(struct slab *s, void **out, size_t n)
{
	size_t got = 0;
	for (unsigned w = 0; w < SLAB_MAP_WORDS && got < n; w++) {
		while (s->pool[w] && got < n) {
			unsigned bit = (unsigned)__builtin_ctzll(s->pool[w]);
			s->pool[w] &= s->pool[w] - 1;
			MM_ASSERT(!(__atomic_load_n(&s->allocated[w], __ATOMIC_RELAXED) & (1ull << bit)));
			out[got++] = slab_object(s, w * 64 + bit);
		}
	}
	/* Reverse, so that the lowest address is on top. */
	for (size_t i = 0; i < got / 2; i++) {
		void *t = out[i];
		out[i] = out[got - 1 - i];
		out[got - 1 - i] = t;
	}
	MM_ASSERT(got <= s->pooled);
	s->pooled = (uint16_t)(s->pooled - got);
	return got;
}

/* ---- Refill and drain ------------------------------------------------------------------- */

size_t slab_take(unsigned cls, void **out, size_t n, size_t room)
{
	struct slab_class *c = &slab_classes[cls];
	size_t got = 0;
	spin_lock(&c->lock);
	while (got < n) {
		struct slab *s = c->partial;
		if (!s) {
			s = c->spare;
			if (s) {
				c->spare = NULL;
			} else {
				/* The frame allocator is not called under the class lock: other CPUs may
				 * refill and drain meanwhile, and a racing CPU may add a slab too. */
				spin_unlock(&c->lock);
				s = slab_create(cls);
				spin_lock(&c->lock);
				if (!s)
					break;
				count_slabs(c, 1);
			}
			list_push(&c->partial, s, SLAB_PARTIAL);
		}
		/* A whole pool when it fits: then no other CPU caches objects of this slab, and the
		 * CPUs do not share its header's cache line (the allocated bitmap) as they work. */
		got += pool_take(s, out + got, got + s->pooled <= room ? s->pooled : n - got);
		slab_assert(s);
		if (s->pooled == 0) {
			list_remove(&c->partial, s);
			list_push(&c->full, s, SLAB_FULL);
		}
	}
	spin_unlock(&c->lock);
	return got;
}

void slab_give(unsigned cls, void *const *objs, size_t n)
{
	struct slab_class *c = &slab_classes[cls];
	const struct slab_geom *g = &slab_geom[cls];
	/* Slabs this batch empties beyond the spare are released after the lock is dropped;
	 * until then they wait in a chain through their next fields. */
	struct slab *dead = NULL;
	spin_lock(&c->lock);
	for (size_t i = 0; i < n; i++) {
		uintptr_t phys = MM_PHYS(objs[i]);
		const struct frame *f = pfn_frame(phys_to_pfn(phys));
		unsigned idx = 0;
		MM_ASSERT(frame_state(f) == FRAME_SLAB && f->slab.cls == cls);
		bool is_object = slab_index(f, phys, &idx);
		MM_ASSERT(is_object);
		(void)is_object;
		struct slab *s = slab_of_frame(f);
		uint64_t bit = 1ull << (idx % 64);
		MM_ASSERT(!(s->pool[idx / 64] & bit));
		MM_ASSERT(!(__atomic_load_n(&s->allocated[idx / 64], __ATOMIC_RELAXED) & bit));
		s->pool[idx / 64] |= bit;
		s->pooled++;
		slab_assert(s);
		if (s->list == SLAB_FULL) {
			list_remove(&c->full, s);
			list_push(&c->partial, s, SLAB_PARTIAL);
		}
		if (s->pooled == g->objects) {
			list_remove(list_of(c, s), s);
			if (!c->spare) {
				c->spare = s;
				s->list = SLAB_SPARE;
			} else {
				count_slabs(c, -1);
				s->next = dead;
				dead = s;
			}
		}
	}
	spin_unlock(&c->lock);
	while (dead) {
		struct slab *s = dead;
		dead = s->next;
		slab_destroy(s);
	}
}

void slab_release_spare(unsigned cls)
{
	struct slab_class *c = &slab_classes[cls];
	arch_irq_state_t irq = spin_lock_irqsave(&c->lock);
	struct slab *s = c->spare;
	if (s) {
		c->spare = NULL;
		count_slabs(c, -1);
		s->list = 0;
	}
	spin_unlock_irqrestore(&c->lock, irq);
	if (s)
		slab_destroy(s);
}

/* ---- Checker ---------------------------------------------------------------------------- */

static unsigned popcount_map(const uint64_t *map)
{
	unsigned n = 0;
	for (unsigned w = 0; w < SLAB_MAP_WORDS; w++)
		n += (unsigned)__builtin_popcountll(__atomic_load_n(&map[w], __ATOMIC_RELAXED));
	return n;
}

static const char *check_geometry(unsigned cls)
{
	const struct slab_geom *g = &slab_geom[cls];
	unsigned pow2 = g->size & -g->size;
	unsigned base = cls ? slab_geom[cls - 1].slot_base + slab_geom[cls - 1].cache_cap : 0;
	if (g->size % 16 || (cls && g->size <= slab_geom[cls - 1].size))
		return "class sizes are not increasing multiples of 16";
	if (g->first < SLAB_HEADER_SIZE || g->first % pow2 || g->objects > SLAB_MAX_OBJECTS ||
	    g->first + (size_t)g->objects * g->size > g->frames * MM_PAGE_SIZE)
		return "objects do not fit the slab, aligned, past the header";
	if (g->frames > SLAB_MAX_FRAMES || g->batch == 0 || g->batch * 2 != g->cache_cap ||
	    g->slot_base != base || base + g->cache_cap > SLAB_CACHE_SLOTS)
		return "bad slab size, batch or cache slots";
	if (cls == MM_KMALLOC_CLASSES - 1 && base + g->cache_cap != SLAB_CACHE_SLOTS)
		return "SLAB_CACHE_SLOTS is not the sum of the capacities";
	for (size_t size = 0; size <= MM_KMALLOC_MAX_SMALL; size++) {
		unsigned k = slab_class_of(size);
		if (slab_geom[k].size < size || (k && slab_geom[k - 1].size >= (size ? size : 1)))
			return "slab_size_class does not give the smallest class that fits";
	}
	return NULL;
}

/* One slab's frames and bitmaps; clears its marks for the cache visit. */
static const char *check_slab(unsigned cls, struct slab *s)
{
	const struct slab_geom *g = &slab_geom[cls];
	uintptr_t phys = MM_PHYS(s);
	uint64_t pfn = phys_to_pfn(phys);
	if (phys & (MM_PAGE_SIZE - 1) || pfn + g->frames > frame_table_count)
		return "slab header not at a frame in the table";
	for (unsigned i = 0; i < g->frames; i++) {
		const struct frame *f = pfn_frame(pfn + i);
		if (frame_state(f) != FRAME_SLAB || f->slab.head != pfn || f->slab.cls != cls ||
		    f->refcount != 1)
			return "slab frame descriptor does not name its slab and class";
	}
	if (s->cls != cls)
		return "slab header names another class";
	for (unsigned w = 0; w < SLAB_MAP_WORDS; w++) {
		uint64_t valid = g->objects >= (w + 1) * 64 ? ~0ull
		                 : g->objects <= w * 64     ? 0
		                                            : (1ull << (g->objects - w * 64)) - 1;
		uint64_t allocated = __atomic_load_n(&s->allocated[w], __ATOMIC_RELAXED);
		if ((s->pool[w] | allocated) & ~valid)
			return "bitmap bit past the last object";
		if (s->pool[w] & allocated)
			return "object both in the pool and allocated";
		s->mark[w] = 0;
	}
	if (popcount_map(s->pool) != s->pooled)
		return "pooled is not the pool's population";
	return NULL;
}

/* Walks one list: its links, its slabs' states, and each slab. post: NULL with *count. */
static const char *check_list(unsigned cls, struct slab *head, enum slab_list which, uint64_t limit,
                              uint64_t *count)
{
	const struct slab_geom *g = &slab_geom[cls];
	struct slab *prev = NULL;
	for (struct slab *s = head; s; prev = s, s = s->next) {
		if (++*count > limit)
			return "more slabs on the lists than counted (or a cycle)";
		if (s->prev != prev || s->list != which)
			return "slab list links or list tag broken";
		const char *why = check_slab(cls, s);
		if (why)
			return why;
		if (which == SLAB_PARTIAL && (s->pooled == 0 || s->pooled >= g->objects))
			return "a partial slab is full or empty";
		if (which == SLAB_FULL && s->pooled != 0)
			return "a full slab has pooled objects";
	}
	return NULL;
}

/* Every object of s is in exactly one place: pool, a per-CPU cache (marked), handed out. */
static const char *check_places(unsigned cls, const struct slab *head)
{
	for (const struct slab *s = head; s; s = s->next)
		if (popcount_map(s->pool) + popcount_map(s->allocated) + popcount_map(s->mark) !=
		    slab_geom[cls].objects)
			return "objects lost or in two places (pool + caches + allocated != objects)";
	return NULL;
}

const char *slab_mark(unsigned cls, const void *obj)
{
	uintptr_t phys = MM_PHYS(obj);
	if (phys_to_pfn(phys) >= frame_table_count)
		return "cached pointer outside the direct map";
	const struct frame *f = pfn_frame(phys_to_pfn(phys));
	unsigned idx;
	if (frame_state(f) != FRAME_SLAB || f->slab.cls != cls || !slab_index(f, phys, &idx))
		return "cached pointer is not an object of its class";
	struct slab *s = slab_of_frame(f);
	uint64_t bit = 1ull << (idx % 64);
	if (!s->list)
		return "cached object's slab is on no list";
	if (s->pool[idx / 64] & bit)
		return "cached object is also in its slab's pool";
	if (__atomic_load_n(&s->allocated[idx / 64], __ATOMIC_RELAXED) & bit)
		return "cached object is also allocated";
	if (s->mark[idx / 64] & bit)
		return "object cached twice";
	s->mark[idx / 64] |= bit;
	return NULL;
}

const char *slab_check_class(unsigned cls, const char *(*visit)(unsigned cls))
{
	const char *why = check_geometry(cls);
	if (why)
		return why;
	struct slab_class *c = &slab_classes[cls];
	arch_irq_state_t irq = spin_lock_irqsave(&c->lock);
	uint64_t count = 0;
	why = check_list(cls, c->partial, SLAB_PARTIAL, c->slabs, &count);
	if (!why)
		why = check_list(cls, c->full, SLAB_FULL, c->slabs, &count);
	if (!why && c->spare) {
		count++;
		why = check_slab(cls, c->spare);
		if (!why && (c->spare->list != SLAB_SPARE || c->spare->next || c->spare->prev))
			why = "the spare slab is on a list";
		if (!why && c->spare->pooled != slab_geom[cls].objects)
			why = "the spare slab is not empty";
	}
	if (!why && count != c->slabs)
		why = "slabs is not the number of slabs on the lists";
	if (!why)
		why = visit(cls);
	if (!why)
		why = check_places(cls, c->partial);
	if (!why)
		why = check_places(cls, c->full);
	if (!why && c->spare)
		why = check_places(cls, c->spare);
	spin_unlock_irqrestore(&c->lock, irq);
	return why;
}
