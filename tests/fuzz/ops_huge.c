/*
 * 1 GiB pages in the API fuzzer. One operation maps a 1 GiB page whole at HUGE_VA in a
 * space, works on it (cuts it by an unmap or a protect of any page range, forks the space,
 * unmaps it with mm_umap_single, queries and dumps it), checks each result against what the
 * calls promise, and takes it all down again. The window is empty between operations, so
 * the page-level model (windows of a few MiB) never has to follow 262,144 pages.
 *
 * The page is allocated by the operation and given to mm_map_range_pages, after which the
 * operation drops its own reference: the mapping holds the page alone, as a 1 GiB page of
 * fresh memory would be held, and can be split. Its contents are not zeroed (nothing is
 * asked of them but to stay where they were), so the operation costs no more than the
 * others. A fork shares the page: no second 1 GiB block is needed.
 */
#include "fuzz.h"
#include "tests/suites/helpers.h"

#define GIB MM_HUGE_PAGE_SIZE
#define HUGE_VA ((uintptr_t)0x0000400000000000ull) /* 1 GiB aligned, far from every window */
#define HUGE_PAGES (GIB / PAGE)

/* Words written at these offsets (and at the cut's edges) must stay where they were. */
static const uintptr_t marks[] = {0, GIB / 2 + 24, GIB - 8};

static uint64_t mark_value(uintptr_t offset)
{
	return 0x6A6A000000000000ull ^ offset;
}

static void write_mark(uintptr_t page, uintptr_t offset)
{
	*(uint64_t *)MM_VIRTUALIZE(page + offset) = mark_value(offset);
}

/* The page at HUGE_VA + offset maps page + offset with these size flags and permissions. */
static void expect_mapped(mm_space_t s, uintptr_t page, uintptr_t offset, uint32_t size_flags,
                          bool writable, const char *when)
{
	uint32_t f = 0;
	uintptr_t got = mm_translate(s, HUGE_VA + offset, &f);
	if (got != page + offset)
		fuzz_fail("%s: HUGE_VA + 0x%lx translates to 0x%lx, not 0x%lx", when, (unsigned long)offset,
		          (unsigned long)got, (unsigned long)(page + offset));
	uint32_t want = size_flags | MM_FLG_US | (writable ? MM_FLG_WR : 0);
	if (f != want)
		fuzz_fail("%s: HUGE_VA + 0x%lx has flags 0x%x, not 0x%x", when, (unsigned long)offset, f,
		          want);
	for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
		if (marks[i] == offset && *(uint64_t *)MM_VIRTUALIZE(page + offset) != mark_value(offset))
			fuzz_fail("%s: the word at HUGE_VA + 0x%lx changed", when, (unsigned long)offset);
}

static void expect_unmapped(mm_space_t s, uintptr_t offset, const char *when)
{
	if (mm_translate(s, HUGE_VA + offset, NULL) != MM_NADDR)
		fuzz_fail("%s: HUGE_VA + 0x%lx is still mapped", when, (unsigned long)offset);
}

/* The size of the leaf the page at offset ends up in after a cut at [first, end): 4 KiB in a
 * 2 MiB block that an end of the cut falls inside, 2 MiB elsewhere. */
static uint32_t size_after_cut(uintptr_t offset, uintptr_t first, uintptr_t end)
{
	uintptr_t block = offset & ~(LARGE - 1);
	bool first_cuts = (first & (LARGE - 1)) && (first & ~(LARGE - 1)) == block;
	bool end_cuts = (end & (LARGE - 1)) && (end & ~(LARGE - 1)) == block;
	return first_cuts || end_cuts ? 0 : MM_FLG_PS;
}

/* A call that succeeded or, under fault injection only, ran out of memory and changed
 * nothing. True when it succeeded. */
static bool succeeded(int error, const char *call, const struct snap *before)
{
	if (error == MM_OK)
		return true;
	if (error == MM_ENOMEM && inject) {
		expect_unchanged(before, call, false);
		return false;
	}
	fuzz_fail("%s on a 1 GiB page: %s", call, mm_strerror(error));
	return false;
}

/* The neighbours of the cut [first, end) keep their frames with the leaf size the cut left
 * and the permission they had (writable unless `protected_inside`), and so do the marks. */
static void check_around(mm_space_t s, uintptr_t page, uintptr_t first, uintptr_t end,
                         const char *when)
{
	if (first > 0)
		expect_mapped(s, page, first - PAGE, size_after_cut(first - PAGE, first, end), true, when);
	if (end < GIB)
		expect_mapped(s, page, end, size_after_cut(end, first, end), true, when);
	for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
		if (marks[i] < first || marks[i] >= end)
			expect_mapped(s, page, marks[i], size_after_cut(marks[i], first, end), true, when);
}

/*
 * a[0] the space (a user slot); a[1] % 6 the work: cut by an unmap, cut by a protect, fork
 * then try a cut (refused: the child shares the page; in a space of its own), mm_umap_single,
 * query, dump;
 * a[2], a[3] and a[4] bits 0..1 the cut's first page; a[5] and a[6] bits 0..5 its length
 * - 1 in pages; a[4] bit 2 rounds the cut out to 2 MiB; a[4] bit 3 maps with MM_FLG_PS
 * beside MM_FLG_PS1G (as the queries report a 1 GiB page).
 */
void op_huge(const uint8_t *a)
{
	int m = a[0] % USER_SLOTS;
	mm_space_t s = space_of(m);
	if (!s)
		return;
	uintptr_t first = (uintptr_t)(a[2] | a[3] << 8 | (a[4] & 3) << 16) * PAGE;
	uintptr_t pages = 1 + (uintptr_t)(a[5] | (a[6] & 0x3F) << 8);
	uintptr_t end = first + pages * PAGE > GIB ? GIB : first + pages * PAGE;
	if (a[4] & 4) {
		first &= ~(LARGE - 1);
		end = (end + LARGE - 1) & ~(LARGE - 1);
	}

	/* Frames freed one by one wait in the CPUs' caches and keep a 1 GiB block from forming
	 * again: bring them home first, as memory pressure would. */
	mm_phys_drain_caches();
	struct snap before = take_snap();
	/* A fork copies the whole space and write-protects every private page of the parent for
	 * good (copy-on-write), which the model of slot m would not know: the fork works on a
	 * space of the operation's own, made and destroyed here. */
	unsigned work = a[1] % 6;
	mm_space_t own = NULL;
	if (work == 2) {
		own = mm_create_space(NULL);
		if (!own) {
			if (!inject)
				fuzz_fail("mm_create_space: %s", mm_strerror(mm_last_error()));
			return;
		}
		s = own;
	}
	uintptr_t page = mm_alloc_physical_page(MM_FLG_PS1G);
	if (page == MM_NADDR) {
		if (mm_last_error() != MM_ENOMEM)
			fuzz_fail("mm_alloc_physical_page(MM_FLG_PS1G): %s", mm_strerror(mm_last_error()));
		mm_destroy_space(own);
		return; /* no free 1 GiB block now, or injected */
	}
	for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
		write_mark(page, marks[i]);
	uint32_t size_flags = (a[4] & 8) ? MM_FLG_PS | MM_FLG_PS1G : MM_FLG_PS1G;
	struct snap unmapped = take_snap();
	int error = mm_map_range_pages(s, HUGE_VA, &page, 1, size_flags | MM_FLG_WR | MM_FLG_US);
	if (!succeeded(error, "mm_map_range_pages", &unmapped)) {
		mm_free_physical_page(page, MM_FLG_PS1G);
		mm_destroy_space(own);
		return;
	}
	/* The mapping holds the page alone from now on. */
	if (mm_free_physical_page(page, MM_FLG_PS1G) != MM_OK)
		fuzz_fail("the fuzzer's reference to its 1 GiB page is gone");
	const uint32_t whole = MM_FLG_PS | MM_FLG_PS1G;
	expect_mapped(s, page, first, whole, true, "a 1 GiB page");
	expect_mapped(s, page, end - PAGE + 8, whole, true, "a 1 GiB page");

	struct snap mapped = take_snap();
	switch (work) {
	case 0:
		error = mm_umap_range(s, HUGE_VA + first, end - first, 0);
		if (succeeded(error, "mm_umap_range", &mapped)) {
			expect_unmapped(s, first, "after an unmap of part of it");
			expect_unmapped(s, end - PAGE, "after an unmap of part of it");
			check_around(s, page, first, end, "after an unmap of part of it");
		}
		break;
	case 1:
		error = mm_region_protect(s, HUGE_VA + first, end - first, MM_FLG_US);
		if (error == MM_EINVAL) /* MM_FLG_US is no protect flag: refused, nothing changed */
			expect_unchanged(&mapped, "a refused protect", false);
		else
			fuzz_fail("mm_region_protect took MM_FLG_US: %s", mm_strerror(error));
		error = mm_region_protect(s, HUGE_VA + first, end - first, 0);
		if (succeeded(error, "mm_region_protect", &mapped)) {
			uint32_t f = 0;
			mm_translate(s, HUGE_VA + first, &f);
			if (f & MM_FLG_WR)
				fuzz_fail("a protected part of a 1 GiB page is still writable");
			expect_mapped(s, page, first,
			              size_after_cut(first, first, end) |
			                  (first == 0 && end == GIB ? MM_FLG_PS1G : 0),
			              false, "after a protect of part of it");
			check_around(s, page, first, end, "after a protect of part of it");
		}
		break;
	case 2: {
		mm_space_t child = mm_create_space(NULL);
		if (!child) {
			if (!inject)
				fuzz_fail("mm_create_space: %s", mm_strerror(mm_last_error()));
			break;
		}
		struct snap forked = take_snap();
		error = mm_space_fork(child, s, MM_FLG_CLONE_USER);
		if (error == MM_OK) {
			expect_mapped(child, page, first, whole, true, "in a fork's child");
			/* Two spaces hold the page: no part of it can go without the rest. */
			bool cuts = (first & (GIB - 1)) || (end & (GIB - 1));
			forked = take_snap();
			error = mm_umap_range(s, HUGE_VA + first, end - first, 0);
			if (cuts && error != MM_ESIZE)
				fuzz_fail("a cut of a shared 1 GiB page gave %s, not MM_ESIZE", mm_strerror(error));
			if (cuts)
				expect_unchanged(&forked, "a refused cut of a shared 1 GiB page", false);
			else if (succeeded(error, "mm_umap_range", &forked))
				expect_mapped(child, page, first, whole, true,
				              "in the child after the parent's unmap");
		} else if (!(error == MM_ENOMEM && inject)) {
			fuzz_fail("mm_space_fork of a 1 GiB page: %s", mm_strerror(error));
		}
		mm_destroy_space(child);
		break;
	}
	case 3: {
		uintptr_t got = mm_umap_single(s, HUGE_VA + first, 1);
		if (got != MM_NADDR || (mm_last_error() != MM_ESIZE && !inject))
			fuzz_fail("mm_umap_single(size 1) of a 1 GiB page: 0x%lx, %s", (unsigned long)got,
			          mm_strerror(mm_last_error()));
		got = mm_umap_single(s, HUGE_VA + first, 0);
		if (got == MM_NADDR) {
			succeeded(mm_last_error(), "mm_umap_single", &mapped);
			break;
		}
		if (got != page)
			fuzz_fail("mm_umap_single of a 1 GiB page gave 0x%lx, not its base 0x%lx",
			          (unsigned long)got, (unsigned long)page);
		expect_unmapped(s, first, "after mm_umap_single");
		/* The reference handed over frees the page with the size flags the queries give. */
		if (mm_free_physical_page(got, MM_FLG_PS | MM_FLG_PS1G) != MM_OK)
			fuzz_fail("the 1 GiB page mm_umap_single handed over did not free");
		break;
	}
	case 4: {
		struct mm_region_info info;
		if (mm_region_query(s, HUGE_VA + first, &info) != MM_OK || info.start != HUGE_VA ||
		    info.end != HUGE_VA + GIB || info.resident_pages != HUGE_PAGES)
			fuzz_fail("mm_region_query of a 1 GiB page");
		uint64_t flags = 0;
		if (mm_map_get(s, HUGE_VA + first, &flags) != page || (flags & whole) != whole)
			fuzz_fail("mm_map_get of a 1 GiB page");
		break;
	}
	default:
		mm_dump_map(a[6] >> 6, s);
		expect_unchanged(&mapped, "a dump", false);
		break;
	}

	/* Down again, with no injection left: the space is as it was before the operation. */
	if (inject) {
		mm_phys_fail_after(-1);
		inject = false;
	}
	if (mm_umap_range(s, HUGE_VA, GIB, 0) != MM_OK)
		fuzz_fail("the unmap of a 1 GiB window: %s", mm_strerror(mm_last_error()));
	mm_destroy_space(own);
	expect_unchanged(&before, "a 1 GiB page mapped, worked on and unmapped", false);
}
