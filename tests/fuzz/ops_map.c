/*
 * The API fuzzer's mapping operations: mm_map_range, mm_map_range_pages and mm_map_single,
 * mm_umap_range and mm_umap_single, mm_translate and mm_map_get, vmfind, vmalloc and vmfree.
 */
#include "fuzz.h"

/* The prediction for mapping [first, end) once the arguments are right: refused where
 * something is mapped (MM_EEXIST), or, with MM_FLG_REPLACE, where the unmap of what is there
 * cannot cut a 2 MiB page. false when the range lies outside the model. */
static bool predict_room(int m, uintptr_t first, uintptr_t end, uint32_t flags, struct pred *p,
                         struct cuts *c)
{
	if (!range_modelled(m, first, end))
		return false;
	if (range_has_region(m, first, end)) {
		if (!(flags & MM_FLG_REPLACE)) {
			refuse(p, MM_EEXIST);
		} else {
			*c = plan_cuts(m, first, end);
			if (c->error)
				refuse(p, c->error);
		}
	}
	return true;
}

void op_map_range(const uint8_t *a)
{
	int m = decode_slot(a[0]);
	uintptr_t va = decode_addr(a[1], a[2]);
	size_t len = decode_len(a[3]);
	uint32_t flags = decode_map_flags(a[4]);
	mm_space_t s = space_of(m);
	const uint32_t allowed =
	    MM_FLG_WR | MM_FLG_US | MM_FLG_EXEC | MM_FLG_DMA | MM_FLG_REPLACE | MM_FLG_PS | MM_FLG_PS1G;
	struct pred p = {MM_OK, 0};
	uintptr_t first = 0, end = 0;
	enum area area = A_NONE;
	bool range_ok = model_page_range(va, len, PAGE, &first, &end);
	if (!s || (flags & ~allowed) || !range_ok ||
	    (flags & (MM_FLG_PS | MM_FLG_PS1G)) == (MM_FLG_PS | MM_FLG_PS1G))
		refuse(&p, MM_EINVAL);
	if (!(flags & ~allowed))
		refuse_wx(&p, flags);
	if (range_ok) {
		area = model_area(first, end);
		refuse_area(&p, m, area);
		if (area != A_NONE && (flags & MM_FLG_US) && area != A_USER)
			refuse(&p, MM_EPERM);
		if (area == A_HW)
			refuse(&p, MM_EPERM);
	}
	struct cuts c = {0};
	if (p.reasons == 0 && !predict_room(m, first, end, flags, &p, &c))
		return; /* it would map outside the windows */
	struct snap before = take_snap();
	uintptr_t got = mm_map_range(s, va, len, flags);
	int error = got == MM_NADDR ? mm_last_error() : MM_OK;
	unsigned documented = ERR(MM_EINVAL) | ERR(MM_EPERM) | ERR(MM_EEXIST) | ERR(MM_ENOMEM) |
	                      ((flags & MM_FLG_REPLACE) ? ERR(MM_ESIZE) : 0);
	if (judge("mm_map_range", &p, error, documented)) {
		settle_cuts(m, &c); /* a call that succeeded made every split it planned */
		if (got != first)
			fuzz_fail("mm_map_range returned %#lx for a range starting at %#lx", (unsigned long)got,
			          (unsigned long)first);
		model_clear(m, first, end);
		set_anon(m, first, end, flags, section_for(area, flags), true, new_region_id());
		remember(first);
		if (flags & (MM_FLG_PS | MM_FLG_PS1G))
			observe_large(m, first, end);
	} else {
		expect_unchanged(&before, "mm_map_range", false);
	}
	if (range_ok)
		verify_range(m, first, end);
}

/*
 * mm_map_range_pages, and mm_map_single when bit 7 of a[3] is set (one 4 KiB page, flags
 * MM_PAGE_* only). The pages: given frames, device addresses, or something wrong (a[4]: 6 an
 * unaligned first page; 7 frames of either size, and one past 2^52 when they all fit).
 */
void op_map_pages(const uint8_t *a)
{
	int m = decode_slot(a[0]);
	uintptr_t va = decode_addr(a[1], a[2]);
	uint32_t flags = decode_map_flags(a[6]);
	bool single = (a[3] & 0x80) != 0;
	mm_space_t s = space_of(m);
	uint32_t size_flags = flags & (MM_FLG_PS | MM_FLG_PS1G);
	bool large = !single && size_flags == MM_FLG_PS;
	uintptr_t page_size = single                      ? PAGE
	                      : size_flags == MM_FLG_PS1G ? MM_HUGE_PAGE_SIZE
	                      : large                     ? LARGE
	                                                  : PAGE;
	size_t count = single ? 1 : large ? (size_t)(a[3] & 1) + 1 : (size_t)(a[3] & 7) + 1;
	unsigned source = a[4] % 8;

	uintptr_t pages[8];
	struct frec *from[8] = {0};
	uint32_t want_size = large ? MM_FLG_PS : 0;
	for (size_t i = 0; i < count; i++) {
		bool device = source == 4 || (source == 5 && (i & 1));
		if (device) {
			pages[i] = DEVICE_BASE + ((uintptr_t)a[5] + i) * page_size;
			continue;
		}
		struct frec *r = pick_rec((uint8_t)(a[5] + i), source == 7 ? -1 : (long)want_size, false);
		if (!r)
			return; /* nothing suitable held: the operation does nothing */
		from[i] = r;
		pages[i] = r->phys + (source == 6 && i == 0 ? 0x10 : 0);
	}
	bool mismatch = false;
	for (size_t i = 0; i < count; i++)
		mismatch |= from[i] && from[i]->size != want_size;
	if (source == 7 && !mismatch) {
		pages[count - 1] = (uintptr_t)1 << 52;
		from[count - 1] = NULL;
	}

	struct pred p = {MM_OK, 0};
	const uint32_t allowed =
	    MM_FLG_WR | MM_FLG_US | MM_FLG_EXEC | MM_FLG_DMA | MM_FLG_REPLACE | MM_FLG_PS | MM_FLG_PS1G;
	const uint32_t single_flags = MM_PAGE_USER | MM_PAGE_WRITE | MM_PAGE_EXEC;
	uintptr_t first = 0, end = 0;
	bool range_ok = false;
	if (!s ||
	    (single ? (flags & ~single_flags) != 0
	            : size_flags == (MM_FLG_PS | MM_FLG_PS1G) || (flags & ~allowed)) ||
	    (va & (page_size - 1)))
		refuse(&p, MM_EINVAL);
	else if (!(range_ok = model_page_range(va, count * page_size, page_size, &first, &end)))
		refuse(&p, MM_EINVAL);
	if (single ? !(flags & ~single_flags) : !(flags & ~allowed))
		refuse_wx(&p, flags);
	enum area area = range_ok ? model_area(first, end) : A_NONE;
	if (range_ok)
		refuse_area(&p, m, area);
	if (range_ok && (flags & MM_FLG_US) && area != A_USER && area != A_NONE)
		refuse(&p, MM_EPERM);
	for (size_t i = 0; i < count; i++) {
		if ((pages[i] & (page_size - 1)) || pages[i] >= (uintptr_t)1 << 52)
			refuse(&p, MM_EINVAL);
		else if (from[i] && from[i]->size != want_size)
			refuse(&p, MM_ENOTALLOC); /* RAM, but not a page of that size */
	}
	struct cuts c = {0};
	if (p.reasons == 0 && !predict_room(m, first, end, flags, &p, &c))
		return;
	struct snap before = take_snap();
	int error = single ? mm_map_single(s, va, pages[0], flags)
	                   : mm_map_range_pages(s, va, pages, count, flags);
	if (judge(single ? "mm_map_single" : "mm_map_range_pages", &p, error, ANY_ERRORS)) {
		settle_cuts(m, &c); /* a call that succeeded made every split it planned */
		model_clear(m, first, end);
		remember(first);
		uint32_t region = new_region_id();
		for (size_t i = 0; i < count; i++) {
			for (uintptr_t j = 0; j < page_size / PAGE; j++) {
				struct mpage *q = page_at(m, first + i * page_size + j * PAGE);
				*q = (struct mpage){.flags = (uint8_t)(flags & PAGE_FLAGS),
				                    .section = (uint8_t)section_for(area, flags),
				                    .present = 1,
				                    .large = large,
				                    .sub = (uint32_t)j,
				                    .region = region,
				                    .serial = region};
				if (from[i]) {
					q->kind = K_PAGES;
					q->val = V_FRAME;
					q->obj = (uint16_t)(from[i] - recs);
				} else {
					q->kind = K_DEVICE;
					q->val = V_UNKNOWN;
					q->value = pages[i] + j * PAGE;
				}
			}
		}
	} else {
		expect_unchanged(&before, single ? "mm_map_single" : "mm_map_range_pages", false);
	}
	if (range_ok)
		verify_range(m, first, end);
}

/* The references an unmap of [first, end) with its frames kept hands over. */
static size_t handed_refs(int m, uintptr_t first, uintptr_t end, const struct cuts *c,
                          struct handed *out)
{
	size_t n = 0;
	int o = owner_of(m, first);
	for (int w = 0; w < W_COUNT; w++) {
		if (!models[o].pages[w])
			continue;
		uintptr_t lo, hi;
		window_part(w, first, end, &lo, &hi);
		for (uintptr_t v = lo; v < hi; v += PAGE) {
			const struct mpage *q = page_at(m, v);
			bool whole = q->large && !planned_split(c, v);
			if (whole && (v & (LARGE - 1)))
				continue; /* one reference for the whole 2 MiB page */
			if (leaf_reference(m, v, whole, &out[n]))
				n++;
		}
	}
	return n;
}

/* mm_umap_range, or vmfree of whole pages (vmfree: true). */
static void unmap_range(int m, uintptr_t va, size_t len, uint32_t flags, bool vmfree_call)
{
	mm_space_t s = space_of(m);
	struct pred p = {MM_OK, 0};
	uintptr_t first = 0, end = 0;
	bool range_ok = model_page_range(va, len, PAGE, &first, &end);
	if (vmfree_call && (!s || (va & (PAGE - 1)) || len == 0 || va + len < va))
		refuse(&p, MM_EINVAL);
	else if (!s || (flags & ~MM_FLG_NOPHYS) || !range_ok)
		refuse(&p, MM_EINVAL);
	else
		refuse_area(&p, m, model_area(first, end));
	struct cuts c = {0};
	if (p.reasons == 0) {
		c = plan_cuts(m, first, end);
		if (c.error)
			refuse(&p, c.error);
	}
	/* What NOPHYS hands over: one reference per managed leaf (not the zero page, not
	 * device memory). */
	static struct handed handed[4 * 1024];
	size_t n =
	    p.reasons == 0 && (flags & MM_FLG_NOPHYS) ? handed_refs(m, first, end, &c, handed) : 0;
	struct snap before = take_snap();
	int error = vmfree_call ? vmfree(s, va, len / PAGE) : mm_umap_range(s, va, len, flags);
	if (judge(vmfree_call ? "vmfree" : "mm_umap_range", &p, error, ANY_ERRORS)) {
		settle_cuts(m, &c); /* a call that succeeded made every split it planned */
		take_handed(handed, n);
		model_clear(m, first, end);
	} else {
		expect_unchanged(&before, vmfree_call ? "vmfree" : "mm_umap_range", false);
	}
	if (range_ok) {
		verify_range(m, first, end);
		for (int i = 0; i < c.n; i++)
			verify_range(m, c.leaf[i], c.leaf[i] + LARGE);
	}
}

void op_umap(const uint8_t *a)
{
	static const uint32_t choices[4] = {0, MM_FLG_NOPHYS, MM_FLG_NOPHYS, MM_FLG_WR};
	unmap_range(decode_slot(a[0]), decode_addr(a[1], a[2]), decode_len(a[3]), choices[a[4] % 4],
	            false);
}

void op_umap_single(const uint8_t *a)
{
	int m = decode_slot(a[0]);
	uintptr_t va = decode_addr(a[1], a[2]);
	uint32_t size = a[3] % 3; /* 2: not a size */
	mm_space_t s = space_of(m);
	uintptr_t page = va & ~(PAGE - 1);
	bool canonical = va < ((uintptr_t)1 << 47) || va >= MM_HW_BASE;
	struct pred p = {MM_OK, 0};
	if (!s || size > 1 || !canonical)
		refuse(&p, MM_EINVAL);
	else if (page + PAGE == 0)
		refuse(&p, MM_EPERM);
	else
		refuse_area(&p, m, model_area(page, page + PAGE));
	const struct mpage *q = p.reasons == 0 ? page_at(m, page) : NULL;
	if (p.reasons == 0 && (!q || !q->present || q->kind == K_NONE || q->kind == K_GUARD))
		refuse(&p, MM_ENOENT);
	else if (p.reasons == 0 && size == 1 && q->large)
		refuse(&p, MM_ESIZE);
	uintptr_t leaf = page, span = PAGE, want = MM_NADDR;
	struct handed h;
	bool hands = false, zero = false;
	if (p.reasons == 0) {
		if (q->large) {
			leaf = page & ~(LARGE - 1);
			span = LARGE;
		}
		uintptr_t phys = mm_translate(s, leaf, NULL);
		zero = phys == zero_page;
		want = q->kind == K_DEVICE ? page_at(m, leaf)->value : phys;
		hands = leaf_reference(m, leaf, q->large, &h);
	}
	struct snap before = take_snap();
	uintptr_t got = mm_umap_single(s, va, size);
	int error = got == MM_NADDR ? mm_last_error() : MM_OK;
	if (judge("mm_umap_single", &p, error,
	          ERR(MM_EINVAL) | ERR(MM_EPERM) | ERR(MM_ENOENT) | ERR(MM_ENOMEM) | ERR(MM_ESIZE))) {
		if (zero) {
			/* The zero page's place: a zeroed frame of the caller's own. */
			const uint64_t *words = mm_phys_is_managed(got) ? MM_VIRTUALIZE(got) : NULL;
			if (!words || got == zero_page || (got & (PAGE - 1)) || words[0] || words[511])
				fuzz_fail("mm_umap_single of a zero-page mapping returned %#lx, not a zeroed "
				          "frame of the caller's own",
				          (unsigned long)got);
			h = (struct handed){NULL, got, 0};
			hands = true;
		} else if (got != want) {
			fuzz_fail("mm_umap_single(%#lx) returned %#lx; the leaf maps %#lx", (unsigned long)va,
			          (unsigned long)got, (unsigned long)want);
		}
		if (hands)
			take_handed(&h, 1);
		model_clear(m, leaf, leaf + span);
	} else {
		expect_unchanged(&before, "mm_umap_single", false);
	}
	if (p.reasons == 0 || error == MM_OK)
		verify_range(m, leaf, leaf + span);
}

void op_translate(const uint8_t *a)
{
	int m = decode_slot(a[0]);
	uintptr_t va = decode_addr(a[1], a[2]);
	mm_space_t s = space_of(m);
	uint32_t flags = 0;
	uintptr_t phys = mm_translate(s, va, &flags);
	uint64_t get_flags = 0;
	uintptr_t got = mm_map_get(s, va, &get_flags);
	if (phys == MM_NADDR ? got != MM_NADDR
	                     : got != (phys & ~((flags & MM_FLG_PS1G) ? MM_HUGE_PAGE_SIZE - 1
	                                        : (flags & MM_FLG_PS) ? LARGE - 1
	                                                              : PAGE - 1)) ||
	                           get_flags != flags)
		fuzz_fail("mm_map_get(%#lx) = %#lx flags %#llx; mm_translate says %#lx flags %#x",
		          (unsigned long)va, (unsigned long)got, (unsigned long long)get_flags,
		          (unsigned long)phys, flags);
	if (!s) {
		if (phys != MM_NADDR || mm_last_error() != MM_EINVAL)
			fuzz_fail("mm_translate(NULL) did not fail with MM_EINVAL");
		return;
	}
	if (!page_at(m, va)) {
		if (phys != MM_NADDR)
			fuzz_fail("mm_translate(slot %d, %#lx) = %#lx outside every window", m,
			          (unsigned long)va, (unsigned long)phys);
		return;
	}
	verify_page(m, va & ~(PAGE - 1));
	uintptr_t page = mm_translate(s, va & ~(PAGE - 1), NULL);
	if (page != MM_NADDR && phys != page + (va & (PAGE - 1)))
		fuzz_fail("mm_translate of %#lx is %#lx, of its page %#lx", (unsigned long)va,
		          (unsigned long)phys, (unsigned long)page);
}

/* vmfind's answer for a window (vm/vrange.c's rules), with the error it fails with. */
static uintptr_t predict_vmfind(int m, uintptr_t from, uintptr_t to, size_t npages, struct pred *p)
{
	if (from < MM_USER_BASE && to > MM_USER_BASE)
		from = MM_USER_BASE; /* a window from 0 starts at the first page */
	if (!space_of(m) || from >= to || (from & (PAGE - 1)) || (to & (PAGE - 1)) || npages == 0 ||
	    npages > (SIZE_MAX >> MM_PAGE_SHIFT)) {
		refuse(p, MM_EINVAL);
		return MM_NADDR;
	}
	uintptr_t bytes = npages << MM_PAGE_SHIFT;
	if (bytes > to - from) {
		refuse(p, MM_ENOMEM);
		return MM_NADDR;
	}
	int reasons = p->reasons;
	refuse_area(p, m, model_area(from, to));
	if (p->reasons != reasons)
		return MM_NADDR;
	uintptr_t found = model_find_gap(owner_of(m, from), from, to, bytes, PAGE);
	if (found == MM_NADDR)
		refuse(p, MM_ENOMEM);
	return found;
}

/* (a[4] & 3) % 3: vmfind, vmalloc or vmfree; (a[4] >> 2) % 4: the window's end (the
 * address window's end, just past the pages, the area's end, or the start); a[5] vmalloc's
 * flags (USER, WRITE, EXEC, an unknown one when bits 3 and 4 are set). */
void op_vm(const uint8_t *a)
{
	int m = decode_slot(a[0]);
	uintptr_t from = decode_addr(a[1], a[2]);
	size_t npages = decode_len(a[3]) / PAGE;
	unsigned kind = (a[4] & 3) % 3;
	if (kind == 2) {
		size_t len = npages << MM_PAGE_SHIFT;
		if (npages > (SIZE_MAX >> MM_PAGE_SHIFT))
			len = 0; /* vmfree's own check refuses the count: any failing length will do */
		unmap_range(m, from, len, 0, true);
		return;
	}
	uintptr_t to;
	int w = window_of(from);
	switch ((a[4] >> 2) % 4) {
	case 0:
		to = w >= 0 ? windows[w].base + windows[w].pages * PAGE : from + 64 * PAGE;
		break;
	case 1:
		to = from + npages * PAGE + (uintptr_t)(a[6] % 4) * PAGE;
		break;
	case 2:
		to = from < MM_USER_END ? MM_USER_END : from < MM_HW_END ? MM_HW_END : MM_KERNEL_MAP_END;
		break;
	default:
		to = from;
		break;
	}
	mm_space_t s = space_of(m);
	struct pred p = {MM_OK, 0};
	if (kind == 0) {
		uintptr_t want = predict_vmfind(m, from, to, npages, &p);
		uintptr_t got = vmfind(s, from, to, npages);
		int error = got == MM_NADDR ? mm_last_error() : MM_OK;
		if (judge("vmfind", &p, error, ERR(MM_EINVAL) | ERR(MM_EPERM) | ERR(MM_ENOMEM)) &&
		    got != want)
			fuzz_fail("vmfind(%#lx, %#lx, %zu) = %#lx; the model says %#lx", (unsigned long)from,
			          (unsigned long)to, npages, (unsigned long)got, (unsigned long)want);
		return;
	}
	uint32_t flags = (a[5] & 1 ? MM_PAGE_USER : 0) | (a[5] & 2 ? MM_PAGE_WRITE : 0) |
	                 (a[5] & 4 ? MM_PAGE_EXEC : 0) | ((a[5] & 0x18) == 0x18 ? 1u << 20 : 0);
	uintptr_t want = MM_NADDR;
	if (flags & ~(MM_PAGE_USER | MM_PAGE_WRITE | MM_PAGE_EXEC))
		refuse(&p, MM_EINVAL);
	else if ((flags & MM_PAGE_WRITE) && (flags & MM_PAGE_EXEC))
		refuse(&p, MM_EPERM);
	else
		want = predict_vmfind(m, from, to, npages, &p);
	enum area area = A_NONE;
	if (p.reasons == 0) {
		area = model_area(want, want + npages * PAGE);
		if ((flags & MM_FLG_US) && area != A_USER)
			refuse(&p, MM_EPERM);
		else if (area == A_HW)
			refuse(&p, MM_EPERM);
		else if (!range_modelled(m, want, want + npages * PAGE))
			return;
	}
	struct snap before = take_snap();
	uintptr_t got = vmalloc(s, from, to, npages, flags);
	int error = got == MM_NADDR ? mm_last_error() : MM_OK;
	if (judge("vmalloc", &p, error, ANY_ERRORS)) {
		if (got != want)
			fuzz_fail("vmalloc(%#lx, %#lx, %zu) = %#lx; the model says %#lx", (unsigned long)from,
			          (unsigned long)to, npages, (unsigned long)got, (unsigned long)want);
		set_anon(m, want, want + npages * PAGE, flags, section_for(area, flags), true,
		         new_region_id());
		remember(want);
		verify_range(m, want, want + npages * PAGE);
	} else {
		expect_unchanged(&before, "vmalloc", false);
	}
}
