/*
 * The API fuzzer's model of what the memory manager must be doing: for every page of a few
 * address windows of each space, which region covers it, whether a leaf maps it and what a
 * program reads there; the frames, shared-memory objects and heap objects the fuzzer holds.
 * The operations (ops_*.c) predict each call's outcome from this model, make the call, and
 * compare; the checks here compare the model with the page tables.
 *
 * Only the windows are modelled, so operations that would make a mapping elsewhere are not
 * issued; everything outside the windows is known to be unmapped.
 */
#ifndef TESTS_FUZZ_MODEL_H
#define TESTS_FUZZ_MODEL_H

#include <mm/region.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Address windows ------------------------------------------------------------------ */

enum {
	W_LOW,   /* [4 KiB, 4 MiB): where regions placed "anywhere" land, one 2 MiB boundary */
	W_CROSS, /* 2 MiB either side of 512 GiB: a PML4, PDPT and PD boundary in the middle */
	W_TOP,   /* the last 2 MiB of the user half */
	W_HW,    /* the start of the hardware window (mm_map_range_pages only) */
	W_KERN,  /* the start of the kernel mapping area: shared by every space */
	W_COUNT
};

struct window {
	uintptr_t base;
	size_t pages;
};

extern const struct window windows[W_COUNT];

/* The window holding va, or -1. */
int window_of(uintptr_t va);

/* The part [*lo, *hi) of [first, end) that window w covers (empty when *lo >= *hi). */
void window_part(int w, uintptr_t first, uintptr_t end, uintptr_t *lo, uintptr_t *hi);

/* ---- Spaces and pages ---------------------------------------------------------------- */

#define USER_SLOTS 4     /* spaces the fuzzer creates and destroys */
#define KSLOT USER_SLOTS /* the kernel space: its model holds the kernel window */
#define MODELS (USER_SLOTS + 1)

enum page_kind {
	K_NONE = 0, /* no region */
	K_ANON,     /* anonymous private memory */
	K_OBJ,      /* a private mapping of a shared-memory object */
	K_SHM,      /* a shared mapping of one (MM_REGION_SHARED) */
	K_PAGES,    /* a RAM frame the fuzzer gave (mm_map_range_pages) */
	K_DEVICE,   /* a device address given to mm_map_range_pages: never accessed */
	K_GUARD,    /* a stack's guard page */
};

/* What a read of the page's first and last 8 bytes returns. */
enum page_value {
	V_KNOWN = 0, /* value */
	V_UNKNOWN,   /* another space may have written the same frame (clone) */
	V_OBJECT,    /* the object's current value at page `sub` (not yet copied) */
	V_FRAME,     /* the fuzzer's frame record `obj`, subpage `sub` */
};

/* The region flags a page model keeps (MM_FLG_WR, MM_FLG_US, MM_FLG_EXEC, MM_FLG_DMA). */
#define PAGE_FLAGS (MM_FLG_WR | MM_FLG_US | MM_FLG_EXEC | MM_FLG_DMA)

struct mpage {
	uint8_t kind;    /* enum page_kind */
	uint8_t flags;   /* PAGE_FLAGS of its region */
	uint8_t section; /* enum mm_section of its region */
	uint8_t present; /* a leaf maps it */
	uint8_t large;   /* that leaf is a 2 MiB page */
	uint8_t val;     /* enum page_value */
	uint16_t obj;    /* K_OBJ, K_SHM: object; K_PAGES: frame record */
	uint32_t group;  /* clone group (0: none): pages at this address in other spaces that
	                    may share its frame */
	uint32_t region; /* which region (new_region_id): regions are never merged, so pages of
	                    one region are one run of the same number */
	uint32_t serial; /* which call made its region: the pieces cuts leave keep it */
	uint32_t sub;    /* object page (may lie past the object's end) or record subpage */
	uint64_t value;  /* V_KNOWN: the value; K_DEVICE: the device address */
	uint64_t frame;  /* K_ANON in a 2 MiB leaf: the leaf's frame */
};

struct space_model {
	mm_space_t space;              /* NULL: the slot is empty */
	struct mpage *pages[W_COUNT];  /* per window; NULL where this model has none */
	uintptr_t heap_base, heap_end; /* mm_heap_init / mm_brk; 0: no heap */
	uint32_t heap_serial;          /* the serial of the region the heap grows, 0: none */
};

extern struct space_model models[MODELS];

/* Gives every model its page arrays; once, before anything else. */
void model_init(void);

/* The model (slot) whose tables hold va when a call names space slot m: the kernel model
 * for the kernel window, m otherwise. */
int owner_of(int m, uintptr_t va);

/* The page model of va in the owner's model, or NULL outside the windows (or outside the
 * windows that model has: a user slot's kernel-window pages live in the kernel model). */
struct mpage *page_at(int m, uintptr_t va);

/* The same, but only in m's own tree (mm_region_unmap and mm_region_query look there). */
struct mpage *page_in_tree(int m, uintptr_t va);

/* True when [first, end) lies inside one window that the owner's model has. */
bool range_modelled(int m, uintptr_t first, uintptr_t end);

/* True when some page of [first, end) in the owner's model is in a region. */
bool range_has_region(int m, uintptr_t first, uintptr_t end);

/* The lowest address in [lo, hi), aligned, where length bytes meet no region of model m
 * (mm_region_find_free's answer and mm_region_map's placement), or MM_NADDR. */
uintptr_t model_find_gap(int m, uintptr_t lo, uintptr_t hi, uintptr_t length, uintptr_t align);

/* Empties [first, end) of the owner's model (unmap). A region the hole cuts in two becomes
 * two: the part after the hole gets a region number of its own. */
void model_clear(int m, uintptr_t first, uintptr_t end);

/* [*start, *end): the region holding va in m's own tree, as the page models' region numbers
 * say. pre: va is in a region there. */
void model_region_extent(int m, uintptr_t va, uintptr_t *start, uintptr_t *end);

/* Gives every region [first, end) touches a new number there: a permission change cuts
 * regions at the range's ends. */
void model_cut_regions(int m, uintptr_t first, uintptr_t end);

/* A region number no region had before in this run. */
uint32_t new_region_id(void);

/* A fresh slot model (all pages K_NONE), or an emptied one. */
void model_reset(int m);

/* Byte ranges: [start, start + count) widened to page_size. false on count 0 or a
 * range that wraps (or touches the top page). */
bool model_page_range(uintptr_t start, size_t count, uintptr_t page_size, uintptr_t *first,
                      uintptr_t *end);

/* 0 (none) or the area of [first, end) as vmm/space.c decides it. */
enum area { A_NONE, A_USER, A_HW, A_KERNEL };
enum area model_area(uintptr_t first, uintptr_t end);

/* ---- What the fuzzer holds ------------------------------------------------------------- */

/* A frame (4 KiB) or 2 MiB page from the frame allocator, with the references the fuzzer
 * holds on it; the first and last 8 bytes of each 4 KiB part hold `values`. A foreign
 * record is a reference a NOPHYS unmap handed over: its contents are not tracked and it is
 * never mapped again (its frame may be copy-on-write shared or belong to an object). */
struct frec {
	uintptr_t phys;
	uint32_t pages; /* 1 or 512 */
	uint32_t size;  /* 0 or MM_FLG_PS */
	int owned;      /* references the fuzzer holds */
	bool foreign;
	bool split;       /* a 2 MiB page an unmap split into 4 KiB frames (vmm/split.c) */
	uint64_t *values; /* pages entries */
};

#define MAX_RECS 512
extern struct frec recs[MAX_RECS];
extern unsigned rec_count;

/* A new record (values left for the caller), or NULL when the pool is full. */
struct frec *rec_new(uintptr_t phys, uint32_t pages, uint32_t size, bool foreign);

/* A shared-memory object (mm_shm_create): its pages' values and, once seen, their frames. */
#define SHM_MAX_PAGES 64
struct shm_model {
	struct mm_pager *pager;
	uint32_t pages;
	int refs; /* references the fuzzer holds */
	uint64_t values[SHM_MAX_PAGES];
	uintptr_t frames[SHM_MAX_PAGES]; /* 0 until a mapping showed it */
};

#define MAX_SHM 8
extern struct shm_model shms[MAX_SHM];
extern unsigned shm_count;

/* The shared zero page: reads of untouched anonymous memory map it, without a reference. */
extern uintptr_t zero_page;

/* Clone groups are numbered per input. */
extern uint32_t next_group;

/* ---- Checks ---------------------------------------------------------------------------- */

/* The operation running, for failure reports. */
extern const char *fuzz_op_name;
extern unsigned fuzz_op_index;

/* Reports a broken expectation (which call, what was expected) and aborts, so that libFuzzer
 * records the input. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* The value a read of page p must return, or false when the model does not know it. */
bool expected_value(const struct mpage *p, uint64_t *value);

/* Compares what the page tables say about va (mm_translate, and the frame's contents read
 * through the direct map) with the page model of owner model m. No side effect. */
void verify_page(int m, uintptr_t va);

/* verify_page for every modelled page of [first, end) (clipped to the windows). */
void verify_range(int m, uintptr_t first, uintptr_t end);

/* verify_page for every page in a region of every live model. */
void verify_all(void);

/* After a write of page p at va in model m: other spaces' pages of its clone group no
 * longer know their value. */
void group_written(int m, uintptr_t va, const struct mpage *p);

#endif /* TESTS_FUZZ_MODEL_H */
