/*
 * mm_dump_map: a space's regions, its mappings coalesced into ranges, and its page
 * tables, on the console, for a person to read.
 *
 * Printing is slow (a serial line in the kernel) and nothing is printed with a lock held:
 * regions and mappings are gathered in small batches under the locks, printed after the
 * locks go, and the walk resumes where it stopped. A space that changes meanwhile is shown
 * as it was batch by batch, which is what a debugging dump needs.
 */
#include "dump.h"

#include <arch/x86_64/pt_walk.h>
#include <lib/print.h>

#include "region_tree.h"

#define DUMP_BATCH 16
#define CHUNK_SIZE ((uintptr_t)1 << VMM_SHARD_SHIFT) /* what one shard lock guards */

void dump_format_size(char *buf, size_t size, uint64_t bytes)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
	unsigned unit = 0;
	while (unit + 1 < sizeof(units) / sizeof(units[0]) && bytes >= (1ull << (10 * (unit + 2))))
		unit++;
	uint64_t one = 1ull << (10 * (unit + 1));
	if (bytes % one == 0) {
		lib_snprintf(buf, size, "%llu %s", (unsigned long long)(bytes / one), units[unit]);
		return;
	}
	/* Not a whole number of units: one decimal, rounded. */
	uint64_t tenths = (bytes / (one / 1024) * 10 + 512) / 1024;
	lib_snprintf(buf, size, "%llu.%llu %s", (unsigned long long)(tenths / 10),
	             (unsigned long long)(tenths % 10), units[unit]);
}

/* ---- Regions ----------------------------------------------------------------------- */

static const char *section_name(enum mm_section section)
{
	static const char *const names[MM_SECTION_COUNT] = {
	    "none", "stack", "code", "data", "heap", "mmap", "kernel", "device",
	};
	return section < MM_SECTION_COUNT ? names[section] : "?";
}

static const char *kind_name(enum region_kind kind)
{
	switch (kind) {
	case REGION_ANON:
		return "anon";
	case REGION_OBJECT:
		return "object";
	case REGION_PAGES:
		return "pages";
	case REGION_GUARD:
		return "guard";
	}
	return "?";
}

static void print_region(struct mm_space *space, const struct mm_region *r)
{
	char size[24];
	dump_format_size(size, sizeof(size), r->end - r->start);
	char access[24];
	lib_snprintf(access, sizeof(access), "r%c%c%s%s", (r->flags & MM_FLG_WR) ? 'w' : '-',
	             (r->flags & MM_FLG_EXEC) ? 'x' : '-', (r->flags & MM_FLG_US) ? " user" : "",
	             (r->flags & MM_FLG_DMA) ? " dma" : "");
	struct mm_region_info info;
	/* Resident pages are counted by the region call, under the locks it needs. */
	bool known = mm_region_query(space, r->start, &info) == MM_OK && info.start == r->start;
	char resident[32];
	if (known)
		lib_snprintf(resident, sizeof(resident), "%llu resident",
		             (unsigned long long)info.resident_pages);
	else
		lib_snprintf(resident, sizeof(resident), "changed meanwhile");
	char object[48] = "";
	if (r->kind == REGION_OBJECT)
		lib_snprintf(object, sizeof(object), ", offset 0x%llx, %s", (unsigned long long)r->offset,
		             (r->flags & MM_REGION_SHARED) ? "shared" : "private");
	lib_printf("    %016lx-%016lx %10s  %-12s %-6s %-6s %s%s\n", (unsigned long)r->start,
	           (unsigned long)r->end, size, access, section_name(r->section), kind_name(r->kind),
	           resident, object);
}

void dump_regions(struct mm_space *space)
{
	struct mm_region batch[DUMP_BATCH];
	uintptr_t cursor = 0;
	uint64_t count = 0;
	for (;;) {
		size_t n = 0;
		/* The tree alone: its lock keeps it still (every change holds it). */
		arch_irq_state_t irq = spin_lock_irqsave(&space->lock);
		for (struct mm_region *r = region_first_after(space, cursor); r && n < DUMP_BATCH;
		     r = region_next(r))
			batch[n++] = *r;
		spin_unlock_irqrestore(&space->lock, irq);
		for (size_t i = 0; i < n; i++)
			print_region(space, &batch[i]);
		count += n;
		if (n < DUMP_BATCH)
			break;
		cursor = batch[n - 1].end;
	}
	if (count == 0)
		lib_printf("    (none)\n");
}

/* ---- Page-table walks, one 1 GiB chunk at a time under its shard lock ---------------- */

/* Consecutive leaves with the same attributes and contiguous frames (or all the zero page). */
struct run {
	uintptr_t va, last; /* last byte, inclusive: a run may end at the top of memory */
	uintptr_t pa;       /* of va */
	pte_t attrs;
	int level;
	bool zero;
};

struct table_line {
	int level;
	uintptr_t va, phys;
	unsigned present;
};

struct walk {
	struct mm_space *owner;
	uintptr_t resume; /* leaves: where the chunk being walked continues; 0: its start */
	unsigned next_pt; /* tables: the PD entry to go on from; 0: the PD itself first */
	struct run open;  /* the run being extended */
	bool has_open;
	struct run runs[DUMP_BATCH];
	struct table_line tables[DUMP_BATCH];
	size_t n; /* runs[] or tables[] gathered since the last print */
	uint64_t printed;
};

#define RUN_ATTRS                                                                                  \
	(PTE_W | PTE_U | PTE_NX | PTE_PCD | PTE_PWT | PTE_G | PTE_SW_MANAGED | PTE_SW_COW |            \
	 PTE_SW_SHARED)

static const char *page_size_name(int level)
{
	return level == 3 ? "1G" : level == 2 ? "2M" : "4K";
}

static void print_run(const struct run *r)
{
	uint64_t bytes = r->last - r->va + 1;
	uint64_t pages = bytes / pt_span(r->level);
	char target[48];
	if (r->zero)
		lib_snprintf(target, sizeof(target), "zero page %016lx", (unsigned long)r->pa);
	else
		lib_snprintf(target, sizeof(target), "%016lx-%016lx", (unsigned long)r->pa,
		             (unsigned long)(r->pa + bytes));
	pte_t a = r->attrs;
	lib_printf("    %016lx-%016lx -> %s %s x%llu %c%c%c%s%s%s%s%s%s\n", (unsigned long)r->va,
	           (unsigned long)(r->last + 1), target, page_size_name(r->level),
	           (unsigned long long)pages, 'r', (a & PTE_W) ? 'w' : '-', (a & PTE_NX) ? '-' : 'x',
	           (a & PTE_U) ? " user" : "", (a & PTE_SW_COW) ? " cow" : "",
	           (a & PTE_SW_SHARED) ? " shared" : "", (a & PTE_PCD) ? " dma" : "",
	           (a & PTE_G) ? " global" : "", (a & PTE_SW_MANAGED) || r->zero ? "" : " unmanaged");
}

static void print_table(const struct table_line *t)
{
	static const char *const names[] = {"", "PT", "PD", "PDPT"};
	static const char *const indents[] = {"", "      ", "    ", "  "};
	lib_printf("    %s%-4s %016lx covers %016lx: %u present\n", indents[t->level], names[t->level],
	           (unsigned long)t->phys, (unsigned long)t->va, t->present);
}

static void flush(struct walk *w, bool tables)
{
	for (size_t i = 0; i < w->n; i++) {
		if (tables)
			print_table(&w->tables[i]);
		else
			print_run(&w->runs[i]);
	}
	w->printed += w->n;
	w->n = 0;
}

/* Adds a leaf to the open run, or closes that run and opens another; false (nothing
 * done) when the batch is full. */
static bool add_leaf(struct walk *w, uintptr_t va, pte_t e, int level)
{
	uintptr_t pa = pte_leaf_addr(e, level);
	struct run r = {va,    va + (pt_span(level) - 1),
	                pa,    e & RUN_ATTRS,
	                level, !(e & PTE_SW_MANAGED) && pa == vmm_zero_page};
	struct run *o = &w->open;
	if (w->has_open && o->level == level && o->attrs == r.attrs && o->zero == r.zero &&
	    o->last + 1 == va && (r.zero || o->pa + (va - o->va) == pa)) {
		o->last = r.last;
		return true;
	}
	if (w->has_open) {
		if (w->n == DUMP_BATCH)
			return false;
		w->runs[w->n++] = *o;
	}
	*o = r;
	w->has_open = true;
	return true;
}

/* The leaves of [va, last] under table (at level) into runs. false when the batch filled
 * up: w->resume is the leaf to go on from. */
static bool walk_leaves(struct walk *w, uintptr_t table, int level, uintptr_t va, uintptr_t last)
{
	const pte_t *entries = pt_table(table);
	uint64_t span = pt_span(level);
	for (;;) {
		uintptr_t base = va & ~(span - 1);
		uintptr_t top = base + (span - 1);
		if (top > last)
			top = last;
		pte_t e = __atomic_load_n(&entries[pt_index(va, level)], __ATOMIC_ACQUIRE);
		if (pte_present(e)) {
			if (pte_is_leaf(e, level)) {
				if (!add_leaf(w, base, e, level)) {
					w->resume = base;
					return false;
				}
			} else if (!walk_leaves(w, pte_addr(e), level - 1, va, top)) {
				return false;
			}
		}
		if (top >= last)
			return true;
		va = top + 1;
	}
}

static unsigned present_entries(uintptr_t table)
{
	const pte_t *entries = pt_table(table);
	unsigned n = 0;
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		n += pte_present(__atomic_load_n(&entries[i], __ATOMIC_RELAXED));
	return n;
}

/* A chunk's leaves. pre: its shard held. */
static bool visit_leaves(struct walk *w, const pte_t *pdpt_entry, uintptr_t chunk)
{
	pte_t e = __atomic_load_n(pdpt_entry, __ATOMIC_ACQUIRE);
	if (!pte_present(e))
		return true;
	if (pte_is_leaf(e, 3)) {
		if (add_leaf(w, chunk, e, 3))
			return true;
		w->resume = chunk;
		return false;
	}
	uintptr_t from = w->resume > chunk ? w->resume : chunk;
	return walk_leaves(w, pte_addr(e), 2, from, chunk + (CHUNK_SIZE - 1));
}

/* A chunk's tables (its PD and PTs) in order. pre: its shard held. */
static bool visit_tables(struct walk *w, const pte_t *pdpt_entry, uintptr_t chunk)
{
	pte_t e = __atomic_load_n(pdpt_entry, __ATOMIC_ACQUIRE);
	if (!pte_present(e) || pte_is_leaf(e, 3))
		return true;
	uintptr_t pd = pte_addr(e);
	if (w->next_pt == 0)
		w->tables[w->n++] = (struct table_line){2, chunk, pd, present_entries(pd)};
	const pte_t *entries = pt_table(pd);
	for (unsigned i = w->next_pt; i < PT_ENTRIES; i++) {
		pte_t pde = __atomic_load_n(&entries[i], __ATOMIC_ACQUIRE);
		if (!pte_present(pde) || pte_is_leaf(pde, 2))
			continue;
		if (w->n == DUMP_BATCH) {
			w->next_pt = i;
			return false;
		}
		uintptr_t pt = pte_addr(pde);
		uintptr_t va = chunk + (uintptr_t)i * pt_span(2);
		w->tables[w->n++] = (struct table_line){1, va, pt, present_entries(pt)};
	}
	return true;
}

typedef bool (*chunk_visitor)(struct walk *w, const pte_t *pdpt_entry, uintptr_t chunk);

/* The PDPT under root entry `index`, or 0. pre: a shard of the space held (a PDPT is freed
 * only with every shard held). */
static uintptr_t pdpt_of(struct walk *w, unsigned index)
{
	pte_t e = __atomic_load_n(&pt_table(w->owner->root)[index], __ATOMIC_ACQUIRE);
	return pte_present(e) ? pte_addr(e) : 0;
}

/*
 * Runs visit on every 1 GiB chunk of [first, last] (chunk-aligned) under a present root
 * entry, with the chunk's shard held, printing what it gathered after each call (and
 * calling it again while it says it stopped half-way).
 */
static void for_each_chunk(struct walk *w, uintptr_t first, uintptr_t last, chunk_visitor visit,
                           bool tables)
{
	uint64_t span4 = pt_span(4);
	const pte_t *root = pt_table(w->owner->root);
	for (uintptr_t va = first;;) {
		uintptr_t base4 = va & ~(span4 - 1);
		uintptr_t top4 = base4 + (span4 - 1);
		if (top4 > last)
			top4 = last;
		unsigned index = pt_index(va, 4);
		/* The root itself never goes: a look without a lock skips empty entries. */
		bool present = pte_present(__atomic_load_n(&root[index], __ATOMIC_ACQUIRE));
		if (present && tables) {
			vmm_range_lock_t held = vmm_lock_va(w->owner, va);
			uintptr_t pdpt = pdpt_of(w, index);
			struct table_line line = {3, base4, pdpt, pdpt ? present_entries(pdpt) : 0};
			vmm_unlock_range(w->owner, held);
			if (pdpt) {
				print_table(&line);
				w->printed++;
			}
		}
		for (uintptr_t chunk = va; present;) {
			w->resume = 0;
			w->next_pt = 0;
			bool done;
			do {
				vmm_range_lock_t held = vmm_lock_va(w->owner, chunk);
				uintptr_t pdpt = pdpt_of(w, index);
				const pte_t *entry = pdpt ? &pt_table(pdpt)[pt_index(chunk, 3)] : NULL;
				done = !entry || visit(w, entry, chunk);
				vmm_unlock_range(w->owner, held);
				flush(w, tables);
			} while (!done);
			if (chunk + (CHUNK_SIZE - 1) >= top4)
				break;
			chunk += CHUNK_SIZE;
		}
		if (top4 >= last)
			return;
		va = top4 + 1;
	}
}

/* The halves of the space this dump walks: a user space's user half and hardware window,
 * or the kernel space's kernel half. */
struct area_span {
	uintptr_t first, last;
};

static size_t areas_of(struct mm_space *space, struct area_span out[2])
{
	if (space->is_kernel) {
		out[0] = (struct area_span){MM_KERNEL_BASE, UINTPTR_MAX};
		return 1;
	}
	out[0] = (struct area_span){0, MM_USER_END - 1};
	out[1] = (struct area_span){MM_HW_BASE, MM_HW_END - 1};
	return 2;
}

static void dump_mappings(struct mm_space *space)
{
	struct walk w = {.owner = space};
	struct area_span areas[2];
	size_t n = areas_of(space, areas);
	for (size_t i = 0; i < n; i++)
		for_each_chunk(&w, areas[i].first, areas[i].last, visit_leaves, false);
	if (w.has_open) {
		w.runs[w.n++] = w.open;
		flush(&w, false);
	}
	if (w.printed == 0)
		lib_printf("    (none)\n");
}

static void dump_tables(struct mm_space *space)
{
	struct walk w = {.owner = space};
	/* The root never goes: its entries are read without a lock. */
	unsigned present = present_entries(space->root);
	if (space->is_kernel)
		lib_printf("    PML4 %016lx: %u present\n", (unsigned long)space->root, present);
	else
		lib_printf("    PML4 %016lx: %u present, %u of them the shared kernel half\n",
		           (unsigned long)space->root, present, PT_ENTRIES - KERNEL_PML4_FIRST);
	struct area_span areas[2];
	size_t n = areas_of(space, areas);
	for (size_t i = 0; i < n; i++)
		for_each_chunk(&w, areas[i].first, areas[i].last, visit_tables, true);
}

void mm_dump_map(int level, mm_space_t space)
{
	if (!space) {
		lib_printf("mm_dump_map: no space\n");
		return;
	}
	uint64_t pages = __atomic_load_n(&space->mapped_pages, __ATOMIC_RELAXED);
	uint64_t tables = __atomic_load_n(&space->table_pages, __ATOMIC_RELAXED);
	if (space->is_kernel)
		lib_printf("kernel space %llu, root %016lx: the kernel half, every space's\n",
		           (unsigned long long)space->id, (unsigned long)space->root);
	else
		lib_printf("space %llu, root %016lx: %llu pages mapped, %llu page tables\n",
		           (unsigned long long)space->id, (unsigned long)space->root,
		           (unsigned long long)pages, (unsigned long long)tables);
	lib_printf("  regions:\n");
	dump_regions(space);
	if (level >= 1) {
		lib_printf("  mappings (va -> pa, page size x count, access):\n");
		dump_mappings(space);
	}
	if (level >= 2) {
		lib_printf("  page tables:\n");
		dump_tables(space);
	}
}
