/*
 * The API fuzzer's region operations: mm_region_map (anonymous, reserve-only, populated,
 * shared memory), mm_region_protect, mm_region_unmap, mm_region_query, mm_stack_create,
 * mm_heap_init and mm_brk, mm_region_find_free.
 */
#include "fuzz.h"

/* The region kind class of a page model: which struct mm_region kind backs it. */
static int region_class(const struct mpage *p)
{
	switch (p->kind) {
	case K_OBJ:
	case K_SHM:
		return 1;
	case K_PAGES:
	case K_DEVICE:
		return 2;
	case K_GUARD:
		return 3;
	default:
		return 0;
	}
}

static uint32_t region_flags_of(const struct mpage *p)
{
	return p->flags | (p->kind == K_SHM ? MM_REGION_SHARED : 0);
}

/* mm_region_query's answer for va against the model: the one region holding va, exactly as
 * the call that made it (and the cuts since) left it, never joined with a neighbour. */
static void check_region_info(int m, uintptr_t addr, const struct mm_region_info *info)
{
	uintptr_t va = addr & ~(PAGE - 1);
	const struct mpage *p = page_in_tree(m, va);
	uintptr_t start, end;
	model_region_extent(m, va, &start, &end);
	if (info->start != start || info->end != end)
		fuzz_fail("mm_region_query(%#lx) gave [%#lx, %#lx); the model's region is [%#lx, %#lx)",
		          (unsigned long)va, (unsigned long)info->start, (unsigned long)info->end,
		          (unsigned long)start, (unsigned long)end);
	if (info->flags != region_flags_of(p) || info->section != p->section)
		fuzz_fail("mm_region_query(%#lx): flags %#x section %d, the model has %#x and %d",
		          (unsigned long)va, info->flags, info->section, region_flags_of(p), p->section);
	bool object = region_class(p) == 1;
	if (info->pager != (object ? shms[p->obj].pager : NULL))
		fuzz_fail("mm_region_query(%#lx): another pager", (unsigned long)va);
	if (object && info->offset + (va - info->start) != (uint64_t)p->sub * PAGE)
		fuzz_fail("mm_region_query(%#lx): offset %#llx at %#lx, the model has page %u there",
		          (unsigned long)va, (unsigned long long)info->offset, (unsigned long)info->start,
		          p->sub);
	uint64_t resident = 0;
	for (uintptr_t v = info->start; v < info->end; v += PAGE) {
		const struct mpage *q = page_in_tree(m, v);
		if (!q || q->kind == K_NONE)
			fuzz_fail("mm_region_query(%#lx) gave [%#lx, %#lx), but %#lx is in no region",
			          (unsigned long)va, (unsigned long)info->start, (unsigned long)info->end,
			          (unsigned long)v);
		if (region_class(q) != region_class(p) || q->flags != p->flags ||
		    q->section != p->section ||
		    (object && (q->obj != p->obj ||
		                (int64_t)q->sub - p->sub != ((int64_t)v - (int64_t)va) / (int64_t)PAGE)))
			fuzz_fail("mm_region_query(%#lx) gave [%#lx, %#lx), which joins unlike pages "
			          "(%#lx differs)",
			          (unsigned long)va, (unsigned long)info->start, (unsigned long)info->end,
			          (unsigned long)v);
		resident += q->present && q->kind != K_GUARD;
	}
	if (info->resident_pages != resident)
		fuzz_fail("mm_region_query(%#lx): %llu resident pages, the model has %llu",
		          (unsigned long)va, (unsigned long long)info->resident_pages,
		          (unsigned long long)resident);
}

static uintptr_t placement_alignment(uintptr_t length)
{
	return length >= MM_HUGE_PAGE_SIZE ? MM_HUGE_PAGE_SIZE : length >= LARGE ? LARGE : PAGE;
}

static struct shm_model *pick_shm(uint8_t sel)
{
	for (unsigned i = 0; i < shm_count; i++) {
		struct shm_model *o = &shms[(sel + i) % shm_count];
		if (o->refs > 0)
			return o;
	}
	return NULL;
}

/* a[4]: WR, EXEC, US, DMA, POPULATE, SHARED, FIXED, and bit 7 "anywhere" (start 0);
 * a[5]: section (low nibble, one past the last is invalid) and object (high nibble);
 * a[6]: offset in pages (0..63), bit 6 an unaligned offset, bit 7 an unknown flag. */
void op_region_map(const uint8_t *a)
{
	int m = decode_slot(a[0]);
	uintptr_t hint = (a[4] & 0x80) ? 0 : decode_addr(a[1], a[2]);
	size_t len = decode_len(a[3]);
	uint32_t flags = 0;
	if (a[4] & 1)
		flags |= MM_FLG_WR;
	if (a[4] & 2)
		flags |= MM_FLG_EXEC;
	if (a[4] & 4)
		flags |= MM_FLG_US;
	if (a[4] & 8)
		flags |= MM_FLG_DMA;
	if (a[4] & 16)
		flags |= MM_REGION_POPULATE;
	if (a[4] & 32)
		flags |= MM_REGION_SHARED;
	if (a[4] & 64)
		flags |= MM_REGION_FIXED;
	if (a[6] & 0x80)
		flags |= 1u << 30;
	unsigned section = (a[5] & 0xF) % (MM_SECTION_COUNT + 1);
	struct shm_model *obj = (a[5] >> 4) % 4 ? pick_shm(a[5]) : NULL;
	uint64_t offset = (uint64_t)(a[6] & 0x3F) * PAGE + ((a[6] & 0x40) ? 0x10 : 0);
	if ((a[6] & 0x3F) == 0x3F)
		offset = 0xFFFFFFFFFFFFF000ull | ((a[6] & 0x40) ? 0x10 : 0); /* wraps with the length */
	mm_space_t s = space_of(m);
	struct mm_region_spec spec = {
	    hint, len, flags, (enum mm_section)section, obj ? obj->pager : NULL, offset};

	struct pred p = {MM_OK, 0};
	const uint32_t spec_flags = MM_FLG_WR | MM_FLG_EXEC | MM_FLG_US | MM_FLG_DMA |
	                            MM_REGION_POPULATE | MM_REGION_SHARED | MM_REGION_FIXED;
	uintptr_t ignored, length = 0;
	if (!s || len == 0 || (flags & ~spec_flags) || section >= MM_SECTION_COUNT ||
	    (offset & (PAGE - 1)) || ((flags & MM_REGION_SHARED) && !obj) ||
	    !model_page_range(0, len, PAGE, &ignored, &length))
		refuse(&p, MM_EINVAL);
	if ((flags & MM_FLG_WR) && (flags & MM_FLG_EXEC))
		refuse(&p, MM_EPERM);
	if ((flags & MM_REGION_FIXED) && (hint & (PAGE - 1)))
		refuse(&p, MM_EINVAL);
	if (m == KSLOT && (flags & MM_FLG_US) && s)
		refuse(&p, MM_EPERM); /* no user access to kernel regions */
	/* An object mapping lies inside its object: no wrap, no page past its end. */
	if (obj && length && !(offset & (PAGE - 1)) &&
	    (offset + length < offset || (offset + length) / PAGE > obj->pages))
		refuse(&p, MM_EINVAL);
	uintptr_t start = MM_NADDR;
	if (p.reasons == 0) {
		uintptr_t lo = m == KSLOT ? MM_KERNEL_MAP_BASE : MM_USER_BASE;
		uintptr_t hi = m == KSLOT ? MM_KERNEL_MAP_END : MM_USER_END;
		uintptr_t at = hint & ~(PAGE - 1);
		bool fits = at >= lo && at < hi && hi - at >= length;
		if (flags & MM_REGION_FIXED) {
			if (!fits) {
				refuse(&p, MM_EPERM);
			} else {
				if (!range_modelled(m, at, at + length))
					return;
				if (range_has_region(m, at, at + length))
					refuse(&p, MM_EEXIST);
				start = at;
			}
		} else if (fits && !range_has_region(m, at, at + length)) {
			start = at;
		} else {
			start = model_find_gap(m, lo, hi, length, placement_alignment(length));
			if (start == MM_NADDR)
				refuse(&p, MM_ENOMEM);
		}
		if (p.reasons == 0 && !range_modelled(m, start, start + length))
			return; /* it would land outside the windows */
	}

	struct snap before = take_snap();
	uintptr_t got = mm_region_map(s, &spec);
	int error = got == MM_NADDR ? mm_last_error() : MM_OK;
	unsigned documented = ERR(MM_EINVAL) | ERR(MM_EPERM) | ERR(MM_EEXIST) | ERR(MM_ENOMEM) |
	                      ((flags & MM_REGION_POPULATE) ? ERR(MM_EFAULT) : 0);
	if (!judge("mm_region_map", &p, error, documented)) {
		/* Populating made the object's pages it reached before failing: they are the
		 * object's now, whatever becomes of the region. */
		expect_unchanged(&before, "mm_region_map", obj && (flags & MM_REGION_POPULATE));
		if (start != MM_NADDR)
			verify_range(m, start, start + length);
		return;
	}
	if (got != start)
		fuzz_fail("mm_region_map placed the region at %#lx; the model expected %#lx",
		          (unsigned long)got, (unsigned long)start);
	remember(start);
	uint32_t rflags = (flags & PAGE_FLAGS) | (m == KSLOT ? 0 : MM_FLG_US);
	/* Populated anonymous pages get frames of their own (zeroed); object pages map the
	 * object's frames, copied on a private write. */
	bool populate = (flags & MM_REGION_POPULATE) != 0;
	uint32_t region = new_region_id();
	for (uintptr_t i = 0; i < length / PAGE; i++) {
		struct mpage *q = page_at(m, start + i * PAGE);
		*q = (struct mpage){.kind = K_ANON,
		                    .flags = (uint8_t)rflags,
		                    .section = (uint8_t)section,
		                    .present = populate,
		                    .val = V_KNOWN,
		                    .region = region,
		                    .serial = region};
		if (!obj)
			continue;
		q->kind = (flags & MM_REGION_SHARED) ? K_SHM : K_OBJ;
		q->obj = (uint16_t)(obj - shms);
		q->sub = (uint32_t)(offset / PAGE + i);
		q->val = V_OBJECT;
	}
	verify_range(m, start, start + length);
}

/* a[3]: the length (bit 7 clear: 1..4 pages); a[4]: WR, EXEC, and an unknown flag when
 * bits 2..4 are all set; bit 5: then touch the pages (write where writable, read elsewhere),
 * as a program does right after changing its permissions. */
void op_protect(const uint8_t *a)
{
	int m = decode_slot(a[0]);
	uintptr_t va = decode_addr(a[1], a[2]);
	size_t len = (a[3] & 0x80) ? decode_len(a[3]) : ((size_t)(a[3] & 3) + 1) * PAGE;
	uint32_t flags = (a[4] & 1 ? MM_FLG_WR : 0) | (a[4] & 2 ? MM_FLG_EXEC : 0);
	if (((a[4] >> 2) & 7) == 7)
		flags |= 1u << 20;
	mm_space_t s = space_of(m);
	struct pred p = {MM_OK, 0};
	uintptr_t first = 0, end = 0;
	bool range_ok = model_page_range(va, len, PAGE, &first, &end);
	if (!s || (flags & ~(MM_FLG_WR | MM_FLG_EXEC)) || !range_ok || (va & (PAGE - 1)))
		refuse(&p, MM_EINVAL);
	if ((flags & MM_FLG_WR) && (flags & MM_FLG_EXEC))
		refuse(&p, MM_EPERM);
	if (range_ok && p.reasons == 0)
		refuse_area(&p, m, model_area(first, end));
	/* The 2 MiB pages the range's ends cut are split first, as an unmap splits them (and
	 * stay split whatever happens next); then every page must be in a region. */
	struct cuts c = {0};
	if (p.reasons == 0) {
		c = plan_cuts(m, first, end);
		if (c.error)
			refuse(&p, c.error);
		bool covered = range_modelled(m, first, end);
		for (uintptr_t v = first; covered && v < end; v += PAGE) {
			const struct mpage *q = page_at(m, v);
			covered = q->kind != K_NONE && q->kind != K_GUARD;
		}
		if (!covered)
			refuse(&p, MM_ENOENT);
	}
	struct snap before = take_snap();
	int error = mm_region_protect(s, va, len, flags);
	if (judge("mm_region_protect", &p, error,
	          ERR(MM_EINVAL) | ERR(MM_EPERM) | ERR(MM_ENOENT) | ERR(MM_ENOMEM) | ERR(MM_ESIZE))) {
		settle_cuts(m, &c); /* a call that succeeded made every split it planned */
		for (uintptr_t v = first; v < end; v += PAGE) {
			struct mpage *q = page_at(m, v);
			q->flags = (uint8_t)((q->flags & ~(MM_FLG_WR | MM_FLG_EXEC)) | flags);
		}
		model_cut_regions(m, first, end);
		for (uintptr_t v = first; (a[4] & 0x20) && v < end && v < first + 4 * PAGE; v += PAGE)
			touch_page(m, v, (flags & MM_FLG_WR) != 0, 0x7000000000000000ull | ++value_seq);
	} else {
		expect_unchanged(&before, "mm_region_protect", false);
	}
	/* The 2 MiB pages around the range too: their other parts keep their permissions. */
	if (range_ok && range_modelled(m, first, end))
		verify_range(m, first & ~(LARGE - 1), (end + LARGE - 1) & ~(LARGE - 1));
}

void op_query(const uint8_t *a)
{
	int m = decode_slot(a[0]);
	uintptr_t va = decode_addr(a[1], a[2]);
	mm_space_t s = space_of(m);
	struct mm_region_info info;
	int error = mm_region_query(s, va, &info);
	const struct mpage *p = s ? page_in_tree(m, va) : NULL;
	struct pred pr = {MM_OK, 0};
	if (!s)
		refuse(&pr, MM_EINVAL);
	else if (!p || p->kind == K_NONE)
		refuse(&pr, MM_ENOENT);
	if (judge("mm_region_query", &pr, error, ERR(MM_EINVAL) | ERR(MM_ENOENT)))
		check_region_info(m, va, &info);
}

void op_region_unmap(const uint8_t *a)
{
	int m = decode_slot(a[0]);
	uintptr_t va = decode_addr(a[1], a[2]);
	mm_space_t s = space_of(m);
	const struct mpage *p = s ? page_in_tree(m, va) : NULL;
	struct pred pr = {MM_OK, 0};
	struct mm_region_info info = {0};
	struct cuts c = {0};
	if (!s) {
		refuse(&pr, MM_EINVAL);
	} else if (!p || p->kind == K_NONE) {
		refuse(&pr, MM_ENOENT);
	} else {
		int error = mm_region_query(s, va, &info);
		if (error != MM_OK)
			fuzz_fail("mm_region_query(%#lx) failed with %s; the model has a region there",
			          (unsigned long)va, mm_strerror(error));
		check_region_info(m, va, &info);
		/* A region whose end lies inside a 2 MiB page (a permission change split it
		 * there) cuts that page: split, or refused when the page is shared. */
		c = plan_cuts(m, info.start, info.end);
		if (c.error)
			refuse(&pr, c.error);
	}
	struct snap before = take_snap();
	int error = mm_region_unmap(s, va);
	if (judge("mm_region_unmap", &pr, error,
	          ERR(MM_EINVAL) | ERR(MM_ENOENT) | ERR(MM_ESIZE) | ERR(MM_ENOMEM))) {
		settle_cuts(m, &c); /* a call that succeeded made every split it planned */
		model_clear(m, info.start, info.end);
	} else {
		expect_unchanged(&before, "mm_region_unmap", false);
	}
	if (info.end)
		verify_range(m, info.start, info.end);
}

void op_stack(const uint8_t *a)
{
	int m = decode_slot(a[0]);
	uintptr_t stack_end = decode_addr(a[1], a[2]);
	size_t size = decode_len(a[3]);
	mm_space_t s = space_of(m);
	struct pred p = {MM_OK, 0};
	if (!s || m == KSLOT || size == 0 || (stack_end & (PAGE - 1)) || size > stack_end ||
	    stack_end - size < MM_USER_BASE + PAGE || stack_end > MM_USER_END)
		refuse(&p, MM_EINVAL);
	uintptr_t base = 0, guard = 0;
	if (p.reasons == 0) {
		base = (stack_end - size) & ~(PAGE - 1);
		guard = base - PAGE;
		if (!range_modelled(m, guard, stack_end))
			return;
		if (range_has_region(m, guard, stack_end))
			refuse(&p, MM_EEXIST);
	}
	struct snap before = take_snap();
	uintptr_t got = mm_stack_create(s, stack_end, size);
	int error = got == MM_NADDR ? mm_last_error() : MM_OK;
	if (judge("mm_stack_create", &p, error, ERR(MM_EINVAL) | ERR(MM_EEXIST) | ERR(MM_ENOMEM))) {
		if (got != base)
			fuzz_fail("mm_stack_create returned %#lx, the model expected %#lx", (unsigned long)got,
			          (unsigned long)base);
		uint32_t guard_region = new_region_id();
		*page_at(m, guard) = (struct mpage){.kind = K_GUARD,
		                                    .section = MM_SECTION_STACK,
		                                    .region = guard_region,
		                                    .serial = guard_region};
		remember(base);
		set_anon(m, base, stack_end, MM_FLG_WR | MM_FLG_US, MM_SECTION_STACK, false,
		         new_region_id());
	} else {
		expect_unchanged(&before, "mm_stack_create", false);
	}
	if (p.reasons == 0 || error == MM_OK)
		verify_range(m, guard, stack_end);
}

/* a[1] % 4: 0 mm_heap_init at a[2..3]; 1, 2 mm_brk to the base plus a[4]'s length (100
 * bytes short with a[2] odd); 3 mm_brk(0) or below the base. */
void op_heap(const uint8_t *a)
{
	int m = decode_slot(a[0]);
	mm_space_t s = space_of(m);
	struct space_model *sm = &models[m];
	unsigned kind = a[1] % 4;
	struct pred p = {MM_OK, 0};
	struct snap before = take_snap();
	if (kind == 0) {
		uintptr_t base = decode_addr(a[2], a[3]);
		if (!s || m == KSLOT || (base & (PAGE - 1)) || base < MM_USER_BASE || base >= MM_USER_END)
			refuse(&p, MM_EINVAL);
		else if (sm->heap_base)
			refuse(&p, MM_EEXIST);
		if (judge("mm_heap_init", &p, mm_heap_init(s, base), ERR(MM_EINVAL) | ERR(MM_EEXIST)))
			sm->heap_base = sm->heap_end = base;
		else
			expect_unchanged(&before, "mm_heap_init", false);
		return;
	}
	uintptr_t new_end;
	if (kind == 3)
		new_end = (a[2] & 1) ? 0 : sm->heap_base - PAGE;
	else
		new_end = sm->heap_base + decode_len(a[4]) - ((a[2] & 1) ? 100 : 0);
	bool has_heap = s && m != KSLOT && sm->heap_base;
	if (!has_heap) {
		refuse(&p, MM_EINVAL);
	} else if (new_end == 0) {
		uintptr_t got = mm_brk(s, 0);
		if (got != sm->heap_end)
			fuzz_fail("mm_brk(0) = %#lx, the heap ends at %#lx", (unsigned long)got,
			          (unsigned long)sm->heap_end);
		return;
	} else if (new_end < sm->heap_base || new_end > MM_USER_END) {
		refuse(&p, MM_EINVAL);
	}
	uintptr_t old_top = 0, new_top = 0;
	struct cuts c = {0};
	if (p.reasons == 0) {
		old_top = (sm->heap_end + PAGE - 1) & ~(PAGE - 1);
		new_top = (new_end + PAGE - 1) & ~(PAGE - 1);
		if (new_top > old_top) {
			if (!range_modelled(m, old_top, new_top))
				return;
			if (range_has_region(m, old_top, new_top))
				refuse(&p, MM_EEXIST);
		} else if (new_top < old_top) {
			c = plan_cuts(m, new_top, old_top);
			if (c.error)
				refuse(&p, c.error);
		}
	}
	uintptr_t got = mm_brk(s, new_end);
	int error = got == MM_NADDR ? mm_last_error() : MM_OK;
	if (judge("mm_brk", &p, error,
	          ERR(MM_EINVAL) | ERR(MM_EEXIST) | ERR(MM_ENOMEM) | ERR(MM_ESIZE))) {
		settle_cuts(m, &c); /* a call that succeeded made every split it planned */
		if (got != new_end)
			fuzz_fail("mm_brk(%#lx) returned %#lx", (unsigned long)new_end, (unsigned long)got);
		if (new_top > old_top) {
			/* The heap's own region grows when it ends here with the heap's permissions;
			 * otherwise the growth is a region of its own, and the heap's from now on. */
			const struct mpage *last = old_top > sm->heap_base ? page_at(m, old_top - PAGE) : NULL;
			bool grows = last && last->kind == K_ANON && last->serial == sm->heap_serial &&
			             last->flags == (MM_FLG_WR | MM_FLG_US);
			uint32_t region = grows ? last->region : new_region_id();
			uint32_t serial = grows ? last->serial : region;
			set_anon(m, old_top, new_top, MM_FLG_WR | MM_FLG_US, MM_SECTION_HEAP, false, region);
			for (uintptr_t v = old_top; v < new_top; v += PAGE)
				page_at(m, v)->serial = serial;
			sm->heap_serial = serial;
			remember(old_top);
		} else if (new_top < old_top) {
			model_clear(m, new_top, old_top);
		}
		sm->heap_end = new_end;
	} else {
		expect_unchanged(&before, "mm_brk", false);
	}
	if (old_top != new_top)
		verify_range(m, old_top < new_top ? old_top : new_top,
		             old_top < new_top ? new_top : old_top);
}

/* a[4]: the alignment (4 KiB, 2 MiB, 1 GiB, 12 KiB, 0, 8 KiB); a[5]: where the search
 * ends (the window's end, the area's end, just past the length, or at its start). */
void op_find_free(const uint8_t *a)
{
	int m = decode_slot(a[0]);
	uintptr_t from = decode_addr(a[1], a[2]);
	size_t len = decode_len(a[3]);
	static const uintptr_t aligns[6] = {PAGE, LARGE, MM_HUGE_PAGE_SIZE, 3 * PAGE, 0, 2 * PAGE};
	uintptr_t align = aligns[a[4] % 6];
	uintptr_t to;
	int w = window_of(from);
	switch (a[5] % 4) {
	case 0:
		to = w >= 0 ? windows[w].base + windows[w].pages * PAGE : from + 64 * PAGE;
		break;
	case 1:
		to = from < MM_USER_END ? MM_USER_END : from < MM_HW_END ? MM_HW_END : MM_KERNEL_MAP_END;
		break;
	case 2:
		to = from + len + (uintptr_t)(a[6] % 8) * PAGE;
		break;
	default:
		to = from;
		break;
	}
	mm_space_t s = space_of(m);
	struct pred p = {MM_OK, 0};
	if (!s || len == 0 || align < PAGE || (align & (align - 1)) || from >= to || len > to - from)
		refuse(&p, MM_EINVAL);
	else
		refuse_area(&p, m, model_area(from, to));
	uintptr_t want = MM_NADDR;
	if (p.reasons == 0) {
		uintptr_t length = (len + PAGE - 1) & ~(PAGE - 1);
		want = model_find_gap(owner_of(m, from), from, to, length, align);
		if (want == MM_NADDR)
			refuse(&p, MM_ENOMEM);
	}
	uintptr_t got = mm_region_find_free(s, from, to, len, align);
	int error = got == MM_NADDR ? mm_last_error() : MM_OK;
	if (judge("mm_region_find_free", &p, error, ERR(MM_EINVAL) | ERR(MM_EPERM) | ERR(MM_ENOMEM)) &&
	    got != want)
		fuzz_fail("mm_region_find_free(%#lx, %#lx, %#zx, %#lx) = %#lx; the model says %#lx",
		          (unsigned long)from, (unsigned long)to, len, (unsigned long)align,
		          (unsigned long)got, (unsigned long)want);
}
