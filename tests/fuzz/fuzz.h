/*
 * What the API fuzzer's operation files share: decoding of parameter bytes, predictions and
 * their judgement, frame and heap counts, the planning of large-page splits, and the
 * references a NOPHYS unmap hands over. The operations themselves are in ops_*.c; the entry
 * points and the operation table in api_fuzz.c.
 */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <mm/kmalloc.h>
#include <mm/phys.h>
#include <mm/region.h>
#include <mm/vmm.h>

#include "model.h"

#define PAGE MM_PAGE_SIZE
#define LARGE MM_LARGE_PAGE_SIZE

/* A device address: above the arena, below 2^52, 1 GiB aligned. */
#define DEVICE_BASE ((uintptr_t)1 << 46)

/* ---- Per-input state ------------------------------------------------------------------- */

extern bool inject;        /* this operation runs under mm_phys_fail_after */
extern long inject_next;   /* the budget for the next operation, or -1 */
extern int current_slot;   /* the space mm_set made current (-1: the kernel space) */
extern uint64_t value_seq; /* makes every written value different */
extern uint64_t last_space_id;

struct kobj {
	unsigned char *p;
	size_t size;
	unsigned char pattern;
};
#define MAX_KOBJS 64
extern struct kobj kobjs[MAX_KOBJS];
extern unsigned kobj_count;

/* ---- Decoding -------------------------------------------------------------------------- */

/* Two bytes. Bit 15 set: a page (bits 3..6) from the start of one of the input's recent
 * mappings (bits 0..2), so that half the operations meet what earlier ones made. Clear: bits
 * 12..14 the window (5: a special address, bits 0..9 pick it; 6, 7: the low and crossing
 * windows again), bits 0..10 the page (bit 10 set: any page of the window or a little past
 * its end, bits 0..9; clear: one of 16 pages, bits 0..3, around one of the window's two hot
 * spots, bit 4). Bit 11: unaligned when bit 3 is set too, else 2 MiB-aligned. */
uintptr_t decode_addr(uint8_t lo, uint8_t hi);

/* A mapping or region that an operation made starts at va; forget_recent: a new input. */
void remember(uintptr_t va);
void forget_recent(void);

/* Mostly 1..16 pages; sometimes 0, 2 MiB and around, an odd byte count, or one that wraps. */
size_t decode_len(uint8_t b);

/* mm_map_range / mm_map_range_pages flags: WR, US, EXEC, DMA, REPLACE, then bits 5..7 pick
 * nothing, a page size, or a flag no map call takes. */
uint32_t decode_map_flags(uint8_t b);

/* (b & 0x7F) % 5: 0..3 a user slot, 4 the kernel space. An empty user slot gives way to the
 * next live one unless bit 7 is set (then the call gets a NULL space). */
int decode_slot(uint8_t b);

/* The slot's space (NULL for an empty slot). */
mm_space_t space_of(int m);

/* ---- Predictions and judgements --------------------------------------------------------- */

/* A failure whose error code depends on which of several checks the call makes first. */
#define ANY_ERROR 1

#define ERR(e) (1u << -(e))
#define ANY_ERRORS (~0u)

/* The prediction of one call: MM_OK, one error, or ANY_ERROR when several checks fail. */
struct pred {
	int want;
	int reasons;
};

void refuse(struct pred *p, int error);

/* Compares a call's result (MM_OK or its error) with the prediction; `documented` holds the
 * errors the call's header allows. Under fault injection MM_ENOMEM may replace any outcome.
 * Returns true when the call succeeded. */
bool judge(const char *call, const struct pred *p, int got, unsigned documented);

/* What a failed call must leave as it was: the frame and heap counts, and a fingerprint of
 * each live space (vmm_space_digest: its page tables, regions and counters). */
struct snap {
	uint64_t frames, objects;
	uint64_t digest[MODELS];
};

struct snap take_snap(void);

/* A failed call changes nothing: no page-table entry, region, frame or heap object. When
 * object_pages, the frame count may differ: pages an object made on first touch (populating
 * part of a shared-memory mapping) stay with the object. */
void expect_unchanged(const struct snap *s, const char *call, bool object_pages);

/* The space-kind and W^X rules every mapping call keeps (vmm/args.h): the kernel space has
 * its kernel half alone (MM_EPERM for the rest, as for no area at all); no mapping is
 * writable and executable (MM_EPERM). */
void refuse_area(struct pred *p, int m, enum area area);
void refuse_wx(struct pred *p, uint32_t flags);

/* The section mm_map_range and mm_map_range_pages give a region. */
uint32_t section_for(enum area area, uint32_t flags);

/* Page models for a new region of anonymous memory. */
void set_anon(int m, uintptr_t first, uintptr_t end, uint32_t flags, uint32_t section, bool present,
              uint32_t region);

/* After a mapping of fresh frames: which of its pages the allocator gave as 2 MiB pages. */
void observe_large(int m, uintptr_t first, uintptr_t end);

/* ---- Frames the fuzzer holds ------------------------------------------------------------ */

void tag_frame(struct frec *r);
void check_frame_contents(const struct frec *r, const char *when);

/* A record the fuzzer holds a reference on, starting the search at sel; size: 0 (4 KiB),
 * MM_FLG_PS, or -1 for either. Foreign records only when allowed. */
struct frec *pick_rec(uint8_t sel, long size, bool foreign_ok);
void free_ref(struct frec *r);
unsigned live_large_recs(void);

/* A reference handed to the fuzzer: its own record, or a foreign frame (4 KiB or 2 MiB). */
struct handed {
	struct frec *rec;
	uintptr_t phys;
	uint32_t size;
};

/* Takes the references over (or gives them straight back when no record is free). */
void take_handed(const struct handed *h, size_t n);

/* What one leaf at va hands over when it is unmapped with its frames kept: `whole` for a
 * 2 MiB leaf going at once. false for device memory and the zero page. */
bool leaf_reference(int m, uintptr_t va, bool whole, struct handed *out);

/* ---- Large pages ------------------------------------------------------------------------ */

/* The splits an unmap of [first, end) makes at its ends (vmm/split.c): a 2 MiB page that an
 * end cuts is split when it is device memory or only this mapping holds its frame; otherwise
 * the call fails with MM_ESIZE and splits nothing, at either end. */
struct cuts {
	int n;
	uintptr_t leaf[2]; /* the leaves split, in order */
	uintptr_t seen[2]; /* a page of each that the unmap leaves mapped */
	int error;         /* MM_OK or MM_ESIZE */
};

struct cuts plan_cuts(int m, uintptr_t first, uintptr_t end);

/* True when the page at va is part of a leaf that the plan splits. */
bool planned_split(const struct cuts *c, uintptr_t va);

/* After a call that succeeded: its planned splits, which must all have happened (the tables
 * say), applied to the model. A call that fails splits nothing. */
void settle_cuts(int m, const struct cuts *c);

/* ---- Program accesses ------------------------------------------------------------------- */

/* Whether a program's (user-mode) access, or the kernel's, to page p must succeed. */
bool access_allowed(const struct mpage *p, bool write);

/* True when the access is made from kernel mode: the kernel window, the kernel slot, and
 * pages of regions without MM_FLG_US. */
bool kernel_mode(int m, uintptr_t va, const struct mpage *p);

/* Whether the user copies (mm_memcpy_*, strings) may use page p: a program page they can
 * fault in, readable, or writable for a write. */
bool copy_allowed(const struct mpage *p, bool write);

/* A read or write of va's first and last 8 bytes as a program (or for kernel-mode pages the
 * kernel) makes it, faulting as needed; checked against the model and applied to it. */
void touch_page(int m, uintptr_t va, bool write, uint64_t value);

/* The model's side of a successful write of value to page p at va. */
void apply_write(int m, uintptr_t va, struct mpage *p, uint64_t value);

/* ---- Operations ------------------------------------------------------------------------- */

void op_create(const uint8_t *a);
void op_destroy(const uint8_t *a);
void op_set(const uint8_t *a);
void op_map_range(const uint8_t *a);
void op_map_pages(const uint8_t *a);
void op_umap(const uint8_t *a);
void op_umap_single(const uint8_t *a);
void op_translate(const uint8_t *a);
void op_vm(const uint8_t *a);
void op_region_map(const uint8_t *a);
void op_protect(const uint8_t *a);
void op_region_unmap(const uint8_t *a);
void op_query(const uint8_t *a);
void op_stack(const uint8_t *a);
void op_heap(const uint8_t *a);
void op_find_free(const uint8_t *a);
void op_read(const uint8_t *a);
void op_write(const uint8_t *a);
void op_copy_out(const uint8_t *a);
void op_copy_in(const uint8_t *a);
void op_string(const uint8_t *a);
void op_fork(const uint8_t *a);
void op_clone(const uint8_t *a);
void op_phys_alloc(const uint8_t *a);
void op_phys_free(const uint8_t *a);
void op_kmalloc(const uint8_t *a);
void op_kfree(const uint8_t *a);
void op_shm_create(const uint8_t *a);
void op_shm_ref(const uint8_t *a);
void op_dump(const uint8_t *a);
void op_huge(const uint8_t *a);
void op_stats(const uint8_t *a);
void op_drain(const uint8_t *a);
void op_caching(const uint8_t *a);

void destroy_slot(int m);

/* Frees what the fuzzer holds of the heap, checking each object first. */
void kobjs_release(void);

#endif /* TESTS_FUZZ_FUZZ_H */
