/*
 * The API fuzzer's allocations: frames (mm_phys_alloc and the 002/003 calls, frees, refused
 * frees, references), the kernel heap (kmalloc, kcalloc, kfree and refused kfrees) and
 * shared-memory objects (mm_shm_create, mm_pager_get / mm_pager_put).
 */
#include <string.h>

#include "fuzz.h"
#include "tests/suites/helpers.h"

/* a[0] % 5: mm_phys_alloc_page, mm_phys_alloc of 4 KiB pages, of 2 MiB pages,
 * mm_phys_alloc_contiguous, mm_alloc_physical_page; a[1] the count, a[2] the node, a[3] the
 * flags. */
/* count 1 GiB pages: MM_OK, every page aligned, managed and of the node asked for, then
 * all freed; or MM_ENOMEM (no free block, or injected) with nothing changed. */
static void alloc_gib_pages(size_t count, unsigned node, uint32_t flags, bool single)
{
	struct snap before = take_snap();
	uintptr_t got = single ? mm_alloc_physical_page(flags) : mm_phys_alloc(count, node, flags);
	if (got == MM_NADDR) {
		if (mm_last_error() != MM_ENOMEM)
			fuzz_fail("a 1 GiB allocation failed with %s", mm_strerror(mm_last_error()));
		expect_unchanged(&before, "a refused 1 GiB allocation", false);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		uintptr_t page = got + i * MM_HUGE_PAGE_SIZE;
		if (page & (MM_HUGE_PAGE_SIZE - 1) || !mm_phys_is_managed(page))
			fuzz_fail("a 1 GiB allocation gave %#lx", (unsigned long)page);
		if ((flags & MM_FLG_NODE_STRICT) && node != MM_NODE_LOCAL && mm_phys_node_of(page) != node)
			fuzz_fail("a 1 GiB page for node %u only came from node %u", node,
			          mm_phys_node_of(page));
		if (mm_free_physical_page(page, flags & (MM_FLG_PS | MM_FLG_PS1G)) != MM_OK)
			fuzz_fail("a 1 GiB page did not free with the flags it was allocated with");
	}
	expect_unchanged(&before, "a 1 GiB allocation given back", false);
}

void op_phys_alloc(const uint8_t *a)
{
	static const unsigned nodes[4] = {MM_NODE_LOCAL, 0, 1, 2};
	static const uint32_t flag_choices[8] = {
	    0,
	    MM_FLG_ZERO,
	    MM_FLG_NODE_STRICT,
	    MM_FLG_ZERO | MM_FLG_NODE_STRICT,
	    MM_FLG_PS1G,
	    MM_FLG_PS | MM_FLG_PS1G,
	    1u << 20,
	    MM_FLG_WR,
	};
	unsigned kind = a[0] % 5;
	unsigned node = nodes[a[2] % 4];
	size_t count = 1;
	uint32_t flags = 0;
	struct pred p = {MM_OK, 0};
	const uint32_t known = MM_FLG_PS | MM_FLG_PS1G | MM_FLG_NODE_STRICT | MM_FLG_ZERO;
	switch (kind) {
	case 1:
		count = a[1] % 17;
		flags = flag_choices[a[3] % 8];
		break;
	case 2:
		count = a[1] % 3;
		flags = MM_FLG_PS | (a[3] & 1 ? MM_FLG_ZERO : 0) | (a[3] & 2 ? MM_FLG_NODE_STRICT : 0);
		break;
	case 3:
		count = a[1] % 17;
		node = MM_NODE_LOCAL;
		break;
	case 4: {
		static const uint32_t sizes[4] = {0, MM_FLG_PS, MM_FLG_PS1G, 1u << 20};
		flags = sizes[a[3] % 4];
		node = MM_NODE_LOCAL;
		break;
	}
	default:
		node = MM_NODE_LOCAL;
		break;
	}
	if (count == 0 || (flags & ~known) || (node != MM_NODE_LOCAL && node >= 2))
		refuse(&p, MM_EINVAL);
	/* 1 GiB pages (MM_FLG_PS beside MM_FLG_PS1G changes nothing): the arena holds one
	 * aligned block at most, so they are checked and given back here; the 1 GiB page
	 * operation (ops_huge.c) maps them. */
	if (p.reasons == 0 && (flags & MM_FLG_PS1G) && kind != 0 && kind != 3) {
		alloc_gib_pages(count, node, flags, kind == 4);
		return;
	}
	bool large = (flags & (MM_FLG_PS | MM_FLG_PS1G)) == MM_FLG_PS;
	if (p.reasons == 0 && large && live_large_recs() + count > 16)
		return; /* enough 2 MiB pages held already */
	struct snap before = take_snap();
	uintptr_t got;
	switch (kind) {
	case 0:
		got = mm_phys_alloc_page();
		break;
	case 3:
		got = mm_phys_alloc_contiguous(count);
		break;
	case 4:
		got = mm_alloc_physical_page(flags);
		break;
	default:
		got = mm_phys_alloc(count, node, flags);
		break;
	}
	int error = got == MM_NADDR ? mm_last_error() : MM_OK;
	if (!judge("mm_phys_alloc", &p, error, ERR(MM_EINVAL) | ERR(MM_ENOMEM))) {
		expect_unchanged(&before, "mm_phys_alloc", false);
		return;
	}
	uintptr_t page_size = large ? LARGE : PAGE;
	uint32_t pages = large ? 512 : 1;
	if (got & (page_size - 1))
		fuzz_fail("mm_phys_alloc returned %#lx, not aligned to %#lx", (unsigned long)got,
		          (unsigned long)page_size);
	for (size_t i = 0; i < count; i++) {
		uintptr_t phys = got + i * page_size;
		if (!mm_phys_is_managed(phys))
			fuzz_fail("mm_phys_alloc returned %#lx, which is not RAM", (unsigned long)phys);
		if ((flags & MM_FLG_NODE_STRICT) && node != MM_NODE_LOCAL && mm_phys_node_of(phys) != node)
			fuzz_fail("mm_phys_alloc for node %u only gave %#lx of node %u", node,
			          (unsigned long)phys, mm_phys_node_of(phys));
		if (flags & MM_FLG_ZERO) {
			for (uint32_t j = 0; j < pages; j++) {
				const uint64_t *words = MM_VIRTUALIZE(phys + (uintptr_t)j * PAGE);
				if (words[0] || words[255] || words[511])
					fuzz_fail("mm_phys_alloc with MM_FLG_ZERO: frame %#lx is not zero",
					          (unsigned long)(phys + (uintptr_t)j * PAGE));
			}
		}
		struct frec *r = rec_new(phys, pages, large ? MM_FLG_PS : 0, false);
		if (!r) {
			struct frec tmp = {phys, pages, large ? MM_FLG_PS : 0, 1, true, false, NULL};
			free_ref(&tmp);
			continue;
		}
		tag_frame(r);
	}
}

/* a[1] % 8: 0..3 drop a reference the fuzzer holds, 4 take one more (mm_phys_ref), 5..7
 * frees that must be refused (unaligned, not RAM or frame 0, the wrong size). */
void op_phys_free(const uint8_t *a)
{
	unsigned mode = a[1] % 8;
	struct frec *r = pick_rec(a[0], -1, mode < 4);
	struct snap before = take_snap();
	int error;
	if (mode < 4) {
		if (!r)
			return;
		check_frame_contents(r, "before a free");
		free_ref(r);
		return;
	}
	if (mode == 4) {
		if (!r)
			return;
		error = mm_phys_ref(r->phys);
		if (r->size == 0) {
			if (error != MM_OK)
				fuzz_fail("mm_phys_ref(%#lx) of a held frame: %s", (unsigned long)r->phys,
				          mm_strerror(error));
			r->owned++;
			return;
		}
		if (error == MM_OK)
			fuzz_fail("mm_phys_ref took a reference on the head of a 2 MiB page");
		expect_unchanged(&before, "mm_phys_ref", false);
		return;
	}
	const char *what;
	switch (mode) {
	case 5:
		if (!r)
			return;
		what = "mm_phys_free_page of an unaligned address";
		error = mm_phys_free_page(r->phys + 8);
		break;
	case 6:
		what = (a[2] & 1) ? "mm_phys_free_page(0)" : "mm_phys_free_page of a device address";
		error = mm_phys_free_page((a[2] & 1) ? 0 : DEVICE_BASE);
		break;
	default:
		if (!r)
			return;
		if (r->size) {
			what = "mm_phys_free_page of a 2 MiB page's head";
			error = mm_phys_free_page(r->phys);
		} else if (a[2] & 1) {
			what = "mm_free_physical_page of a 4 KiB frame as 1 GiB";
			error = mm_free_physical_page(r->phys, MM_FLG_PS | MM_FLG_PS1G);
		} else {
			what = "mm_free_physical_page of a 4 KiB frame as 2 MiB";
			error = mm_free_physical_page(r->phys, MM_FLG_PS);
		}
		break;
	}
	if (error != MM_EINVAL && error != MM_ENOTALLOC)
		fuzz_fail("%s returned %s", what, mm_strerror(error));
	expect_unchanged(&before, what, false);
}

/* ---- Heap ------------------------------------------------------------------------------- */

static uint64_t bad_frees(void)
{
	struct mm_kmalloc_stats k;
	mm_kmalloc_get_stats(&k);
	uint64_t n = k.large_invalid_frees + k.invalid_frees;
	for (int i = 0; i < MM_KMALLOC_CLASSES; i++)
		n += k.classes[i].double_frees + k.classes[i].invalid_frees;
	return n;
}

static void check_kobj(const struct kobj *o)
{
	for (size_t i = 0; i < o->size; i++)
		if (o->p[i] != o->pattern)
			fuzz_fail("heap object %p (%zu bytes) changed at byte %zu", (void *)o->p, o->size, i);
}

/* a[0..1] the size, a[2] % 4: kmalloc, kcalloc, an overflowing kcalloc, kmalloc(0); a[3] the
 * fill byte (kcalloc: also the count). */
void op_kmalloc(const uint8_t *a)
{
	size_t size = (a[0] | (size_t)a[1] << 8) % 9000;
	unsigned kind = a[2] % 4;
	void *p;
	bool zeroed = false;
	switch (kind) {
	case 1:
		size = size % 1024;
		p = kcalloc(a[3] % 8, size);
		size *= a[3] % 8;
		zeroed = true;
		break;
	case 2:
		p = kcalloc(SIZE_MAX / 2, 3);
		if (p)
			fuzz_fail("kcalloc of an overflowing size succeeded");
		return;
	case 3:
		size = 0;
		p = kmalloc(0);
		break;
	default:
		p = kmalloc(size);
		break;
	}
	if (!p) {
		if (!inject)
			fuzz_fail("kmalloc(%zu) failed", size);
		return;
	}
	uintptr_t addr = (uintptr_t)p;
	size_t align = 16;
	if (size && !(size & (size - 1)) && size <= 4096)
		align = size > 16 ? size : 16;
	if (size > MM_KMALLOC_MAX_SMALL)
		align = PAGE;
	if (addr & (align - 1))
		fuzz_fail("kmalloc(%zu) = %p, not aligned to %zu", size, p, align);
	if (kmalloc_usable_size(p) < (size ? size : 1))
		fuzz_fail("kmalloc_usable_size(%p) = %zu for %zu bytes", p, kmalloc_usable_size(p), size);
	if (zeroed)
		for (size_t i = 0; i < size; i++)
			if (((unsigned char *)p)[i])
				fuzz_fail("kcalloc memory is not zero at byte %zu", i);
	if (kobj_count == MAX_KOBJS) {
		kfree(p);
		return;
	}
	struct kobj *o = &kobjs[kobj_count++];
	*o = (struct kobj){p, size, (unsigned char)(a[3] | 1)};
	memset(o->p, o->pattern, size);
}

/* a[0] picks the object; a[1] % 4: 0, 1 kfree; 2 kfree twice; 3 kfree inside it. */
void op_kfree(const uint8_t *a)
{
	if (kobj_count == 0)
		return;
	unsigned i = a[0] % kobj_count;
	struct kobj o = kobjs[i];
	check_kobj(&o);
	unsigned mode = a[1] % 4;
	uint64_t objects = heap_objects(), bad = bad_frees();
	if (mode == 3) {
		/* Reported and counted, nothing freed. Objects are 16-byte aligned, so p + 8 is
		 * never another object's start. */
		kfree(o.p + 8);
		if (heap_objects() != objects || bad_frees() != bad + 1)
			fuzz_fail("kfree(%p + 8) was not refused and counted", (void *)o.p);
		check_kobj(&o);
		return;
	}
	kfree(o.p);
	kobjs[i] = kobjs[--kobj_count];
	if (heap_objects() != objects - 1)
		fuzz_fail("kfree(%p) left %llu heap objects, %llu before", (void *)o.p,
		          (unsigned long long)heap_objects(), (unsigned long long)objects);
	if (mode == 2) {
		kfree(o.p); /* again, before anything else is allocated: caught */
		if (heap_objects() != objects - 1 || bad_frees() != bad + 1)
			fuzz_fail("a second kfree(%p) was not refused and counted", (void *)o.p);
	}
}

void kobjs_release(void)
{
	for (unsigned i = 0; i < kobj_count; i++) {
		check_kobj(&kobjs[i]);
		kfree(kobjs[i].p);
	}
	kobj_count = 0;
}

/* ---- Shared memory ---------------------------------------------------------------------- */

/* a[0]: pages (0 is refused); a[1]: bit 0 a size 100 bytes short of whole pages, bit 1 one
 * past the user half (refused). */
void op_shm_create(const uint8_t *a)
{
	size_t pages = a[0] % (SHM_MAX_PAGES + 1);
	size_t bytes = pages * PAGE - ((a[1] & 1) && pages ? 100 : 0);
	if (a[1] & 2)
		bytes = MM_USER_END + 1;
	struct mm_pager *pager = mm_shm_create(bytes);
	bool valid = bytes != 0 && bytes <= MM_USER_END;
	if (!pager) {
		if (valid && !inject)
			fuzz_fail("mm_shm_create(%zu) failed: %s", bytes, mm_strerror(mm_last_error()));
		return;
	}
	if (!valid)
		fuzz_fail("mm_shm_create(%zu) succeeded", bytes);
	if (pager->size != pages * PAGE)
		fuzz_fail("mm_shm_create(%zu): object of %llu bytes", bytes,
		          (unsigned long long)pager->size);
	if (shm_count == MAX_SHM) {
		mm_pager_put(pager);
		return;
	}
	shms[shm_count++] = (struct shm_model){.pager = pager, .pages = (uint32_t)pages, .refs = 1};
}

/* a[1] bit 0: take a reference (mm_pager_get), else drop one. */
void op_shm_ref(const uint8_t *a)
{
	for (unsigned i = 0; i < shm_count; i++) {
		struct shm_model *o = &shms[(a[0] + i) % shm_count];
		if (o->refs <= 0)
			continue;
		if (a[1] & 1) {
			mm_pager_get(o->pager);
			o->refs++;
		} else {
			mm_pager_put(o->pager);
			o->refs--;
		}
		return;
	}
}
