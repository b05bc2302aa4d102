#!/usr/bin/env python3
"""Writes the API fuzzer's seed corpus (tests/fuzz/corpus/) and its regression inputs
(tests/fuzz/regressions/) from the readable descriptions below.

An input is a sequence of 8-byte operations: the opcode (its index in OPS, the table of
tests/fuzz/api_fuzz.c, in the same order) and seven parameter bytes, decoded as
tests/fuzz/fuzz.c and the ops_*.c files say. Run it after changing either; the files are
committed, so the fuzzer needs no Python.

    python3 tests/fuzz/make_corpus.py [--check]

--check only compares what it would write with what is there (exit 1 on a difference).
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

OPS = ["create", "destroy", "map_range", "map_pages", "umap", "translate", "region_map",
       "protect", "region_unmap", "read", "write", "fork", "clone", "phys_alloc", "phys_free",
       "kmalloc", "kfree", "inject", "shm_create", "shm_ref", "stack", "find_free", "query",
       "heap", "set", "check", "umap_single", "vm", "copy_out", "copy_in", "string", "dump",
       "stats", "drain", "caching", "huge"]

# Windows (fuzz.c, decode_addr): the low 4 MiB, 2 MiB either side of 512 GiB, the top of the
# user half, the hardware window, the kernel mapping area; 5 picks a special address.
LOW, CROSS, TOP, HW, KERN, SPECIAL, RECENT = range(7)
KSLOT = 4  # the kernel space

# mm_map_range / mm_map_range_pages flags (decode_map_flags).
WR, US, EXEC, DMA, REPLACE = 1, 2, 4, 8, 16
PS, PS1G, BADFLAG = 5 << 5, 6 << 5, 7 << 5

# mm_region_map flags (op_region_map's a[4]).
R_WR, R_EXEC, R_US, R_DMA, R_POPULATE, R_SHARED, R_FIXED, R_ANYWHERE = (1, 2, 4, 8, 16, 32,
                                                                        64, 128)
SECTION_DATA, SECTION_HEAP, SECTION_MMAP = 3, 4, 5


# Each window's hot spots (fuzz.c): 16 pages around each are drawn from with a short code.
HOT = {LOW: (8, 511), CROSS: (8, 512), TOP: (8, 504), HW: (8, 512), KERN: (8, 512)}


def addr(window: int, page: int = 0, large_aligned: bool = False, unaligned: bool = False,
         recent: int = 0):
    """The two address bytes (fuzz.c, decode_addr): a page of a window; SPECIAL: the page-th
    special address; RECENT: the page-th page of the recent-th mapping the input made."""
    if window == RECENT:
        v = 0x8000 | recent | page << 3
        index = page
    else:
        if window == SPECIAL:
            index = page
        elif HOT[window][0] - 8 <= page < HOT[window][0] + 8:
            index = page - (HOT[window][0] - 8)
        elif HOT[window][1] - 8 <= page < HOT[window][1] + 8:
            index = 0x10 | (page - (HOT[window][1] - 8))
        else:
            assert page < 0x400, page
            index = 0x400 | page
        v = window << 12 | index
    if unaligned:
        assert index & 8, "an unaligned address needs bit 3 of the page index"
        v |= 0x800
    elif large_aligned:
        assert not index & 8, "a 2 MiB-aligned address needs bit 3 of the page index clear"
        v |= 0x800
    return [v & 0xFF, v >> 8]


def pages(n: int) -> int:
    """A length byte (decode_len) of n pages: 1..16, 17..32, 64, 512 or 1024."""
    if 1 <= n <= 16:
        return n - 1
    if 17 <= n <= 32:
        return 0x86 | (n - 17) << 3
    return {0: 0x80, 64: 0x87, 512: 0x81, 513: 0x82, 1024: 0x83}[n]


def op(name: str, *params: int) -> bytes:
    body = list(params) + [0] * (7 - len(params))
    assert len(body) == 7, (name, params)
    return bytes([OPS.index(name)] + [b & 0xFF for b in body])


# ---- Operations by name, with the parameters each takes -------------------------------------

def create(slot):
    return op("create", slot)


def destroy(slot):
    return op("destroy", slot)


def map_range(slot, where, n, flags):
    return op("map_range", slot, *where, pages(n), flags)


def map_pages(slot, where, count, source, pick, flags, single=False):
    """source: 0..3 frames the fuzzer holds, 4 device, 5 mixed, 6 unaligned, 7 wrong size."""
    return op("map_pages", slot, *where, (count - 1) | (0x80 if single else 0), source, pick,
              flags)


def umap(slot, where, n, nophys=False):
    return op("umap", slot, *where, pages(n), 1 if nophys else 0)


def translate(slot, where):
    return op("translate", slot, *where)


def region_map(slot, where, n, flags, section=SECTION_DATA, shm=False, offset=0):
    return op("region_map", slot, *where, pages(n), flags, section | (0x10 if shm else 0), offset)


def protect(slot, where, n, wr=False, exec_=False, touch=False):
    """n: 1..4 pages, or one of decode_len's long lengths (512, 513, 1024, 64, 17..32);
    touch: then read or write the pages."""
    length = n - 1 if 1 <= n <= 4 else pages(n)
    assert 1 <= n <= 4 or length & 0x80, n
    return op("protect", slot, *where, length,
              (1 if wr else 0) | (2 if exec_ else 0) | (0x20 if touch else 0))


def region_unmap(slot, where):
    return op("region_unmap", slot, *where)


def read(slot, where):
    return op("read", slot, *where)


def write(slot, where, tag=0x11):
    return op("write", slot, *where, tag, tag ^ 0x5A, 0x77, 0x01)


def fork(src, dst, user=True, hw=False):
    return op("fork", src, dst, (1 if user else 0) | (2 if hw else 0))


def clone(src, dst, user=True, hw=False):
    return op("clone", src, dst, (1 if user else 0) | (2 if hw else 0))


def phys_alloc(kind, count=1, node=0, flags=0):
    """kind: 0 page, 1 mm_phys_alloc 4 KiB, 2 of 2 MiB, 3 contiguous, 4 002's call."""
    return op("phys_alloc", kind, count, node, flags)


def phys_free(pick, mode=0, extra=0):
    """mode: 0..3 free, 4 mm_phys_ref, 5 unaligned, 6 not RAM, 7 wrong size."""
    return op("phys_free", pick, mode, extra)


def kmalloc(size, kind=0, fill=0x3C):
    return op("kmalloc", size & 0xFF, size >> 8, kind, fill)


def kfree(pick, mode=0):
    """mode: 0, 1 kfree; 2 twice; 3 inside the object."""
    return op("kfree", pick, mode)


def inject(frames):
    return op("inject", frames)


def shm_create(n, short=False):
    return op("shm_create", n, 1 if short else 0)


def shm_ref(pick, take=False):
    return op("shm_ref", pick, 1 if take else 0)


def stack(slot, end, n):
    return op("stack", slot, *end, pages(n))


def find_free(slot, where, n, align=0, until=0, extra=0):
    """align: 4 KiB, 2 MiB, 1 GiB, 12 KiB, 0, 8 KiB; until: window end, area end, just past,
    the start."""
    return op("find_free", slot, *where, pages(n), align, until, extra)


def query(slot, where):
    return op("query", slot, *where)


def heap_init(slot, where):
    return op("heap", slot, 0, *where)


def brk(slot, n, short=False):
    return op("heap", slot, 1, 1 if short else 0, 0, pages(n))


def brk_query(slot):
    return op("heap", slot, 3, 1)


def set_space(slot):
    return op("set", slot)


def check():
    return op("check")


def umap_single(slot, where, size=0):
    return op("umap_single", slot, *where, size)


def vm(kind, slot, where, n, until=0, flags=0, extra=0):
    """kind: 0 vmfind, 1 vmalloc, 2 vmfree; until: window end, just past, area end, start."""
    return op("vm", slot, *where, pages(n), kind | until << 2, flags, extra)


def copy_out(slot, where, n, mode=0, tag=0x42):
    return op("copy_out", slot, *where, n - 1, mode, tag, tag ^ 0xFF)


def copy_in(slot, where, n, mode=0):
    """mode: 0..4 whole pages, 5 the 16 bytes across a page end, 6 count 0, 7 NULL."""
    return op("copy_in", slot, *where, n - 1, mode)


def string(slot, where, offset=0, tail=False, count=8, dup=False):
    return op("string", slot, *where, offset | (8 if tail else 0), 1 if dup else 0, count - 1)


def dump(level, slot):
    return op("dump", level, slot)


def stats(null_node=False):
    return op("stats", 1 if null_node else 0)


def drain(kind):
    """kind: 0 every CPU's frame cache, 1 the heap's caches and empty slabs, 2 this CPU's."""
    return op("drain", kind)


def caching(on):
    return op("caching", 1 if on else 0)


def huge(slot, work, first_page=0, pages=1, round_2m=False, ps_too=False):
    """work: 0 cut by an unmap, 1 by a protect, 2 fork then a cut, 3 mm_umap_single, 4 query,
    5 dump; the cut is [first_page, first_page + pages) of the 1 GiB page (ops_huge.c)."""
    n = pages - 1
    flags = (first_page >> 16) & 3 | (4 if round_2m else 0) | (8 if ps_too else 0)
    return op("huge", slot, work, first_page & 0xFF, (first_page >> 8) & 0xFF, flags, n & 0xFF,
              (n >> 8) & 0x3F)


# ---- Seeds: each exercises a family of operations --------------------------------------------

SEEDS = {
    "map_unmap": [
        create(0), map_range(0, addr(LOW, 0), 4, WR | US), write(0, addr(LOW, 1)),
        read(0, addr(LOW, 1)), translate(0, addr(LOW, 9, unaligned=True)),
        umap(0, addr(LOW, 0), 2, nophys=True), phys_free(0), phys_free(1),
        map_range(0, addr(LOW, 2), 4, WR | US), map_range(0, addr(LOW, 3), 2, WR | REPLACE),
        map_range(0, addr(TOP, 510), 4, WR), map_range(0, addr(HW, 0), 1, WR),
        map_range(KSLOT, addr(KERN, 4), 3, WR), write(KSLOT, addr(KERN, 5)),
        read(0, addr(KERN, 5)), umap(0, addr(KERN, 4), 3), check(), destroy(0),
    ],
    "regions": [
        create(0), region_map(0, addr(LOW, 16), 8, R_WR | R_FIXED), write(0, addr(LOW, 17)),
        read(0, addr(LOW, 18)), protect(0, addr(LOW, 16), 4), read(0, addr(LOW, 17)),
        write(0, addr(LOW, 17)), query(0, addr(LOW, 20)), region_map(0, addr(LOW, 0), 3, R_WR),
        region_map(0, addr(SPECIAL, 0), 2, R_WR | R_ANYWHERE | R_POPULATE),
        region_unmap(0, addr(LOW, 17)), region_map(KSLOT, addr(KERN, 0), 4, R_WR),
        write(KSLOT, addr(KERN, 1)), query(KSLOT, addr(KERN, 2)), region_unmap(KSLOT, addr(KERN, 3)),
        destroy(0),
    ],
    "shared_memory": [
        shm_create(4), create(0), create(1),
        region_map(0, addr(LOW, 32), 4, R_WR | R_SHARED | R_FIXED, shm=True),
        region_map(1, addr(LOW, 40), 4, R_WR | R_SHARED | R_FIXED, shm=True),
        write(0, addr(LOW, 33)), read(1, addr(LOW, 41)),
        region_map(1, addr(LOW, 48), 6, R_WR | R_FIXED, shm=True, offset=1),
        read(1, addr(LOW, 48)), write(1, addr(LOW, 49)), read(0, addr(LOW, 34)),
        read(1, addr(LOW, 53)), shm_ref(0), shm_ref(0, take=True), check(),
        region_map(0, addr(LOW, 60), 8, R_FIXED | R_POPULATE, shm=True),
    ],
    "fork_clone": [
        create(0), region_map(0, addr(LOW, 8), 8, R_WR | R_FIXED), write(0, addr(LOW, 8)),
        write(0, addr(LOW, 9)), read(0, addr(LOW, 10)), fork(0, 1), write(1, addr(LOW, 8)),
        read(0, addr(LOW, 8)), read(1, addr(LOW, 9)), clone(0, 2), write(2, addr(LOW, 9)),
        read(0, addr(LOW, 9)), protect(0, addr(LOW, 8), 2), fork(0, 3), read(3, addr(LOW, 8)),
        fork(0, 1), destroy(0), read(1, addr(LOW, 8)), check(),
    ],
    "given_pages": [
        create(0), phys_alloc(0), phys_alloc(1, 3, 2, 1), map_pages(0, addr(LOW, 64), 3, 0, 0, WR | US),
        write(0, addr(LOW, 65)), read(0, addr(LOW, 64)), phys_alloc(2, 1, 1, 0),
        map_pages(0, addr(CROSS, 0), 1, 0, 0, WR | US | PS),
        write(0, addr(CROSS, 3)), map_pages(0, addr(HW, 0), 2, 4, 0, WR | DMA),
        map_pages(0, addr(HW, 8), 1, 4, 0, WR, single=True), fork(0, 1, hw=True),
        read(1, addr(LOW, 65)), umap(0, addr(CROSS, 4), 2), umap(0, addr(LOW, 64), 3, nophys=True),
        phys_free(0, 4), phys_free(0, 5), phys_free(1, 6), phys_free(2, 7), destroy(1),
    ],
    "large_anonymous": [
        create(0), map_range(0, addr(CROSS, 0), 512, WR | US | PS), write(0, addr(CROSS, 7)),
        fork(0, 1), read(1, addr(CROSS, 7)), clone(0, 2), umap(2, addr(CROSS, 1), 1),
        umap(0, addr(CROSS, 510), 4), umap(1, addr(CROSS, 0), 8),
        umap_single(1, addr(CROSS, 9), 1), umap_single(1, addr(CROSS, 9)), check(),
    ],
    "stack_heap_ranges": [
        create(0), stack(0, addr(LOW, 200), 8), write(0, addr(LOW, 199)), read(0, addr(LOW, 191)),
        heap_init(0, addr(LOW, 300)), brk(0, 4), write(0, addr(LOW, 301)), brk(0, 2, short=True),
        brk_query(0), find_free(0, addr(LOW, 0), 4), find_free(0, addr(CROSS, 0), 512, 1, 1),
        vm(0, 0, addr(LOW, 0), 4), vm(1, 0, addr(LOW, 100), 4, flags=3),
        vm(2, 0, addr(LOW, 100), 4), vm(1, KSLOT, addr(KERN, 0), 2, flags=2), query(0, addr(LOW, 198)),
    ],
    "fault_injection": [
        create(0), inject(2), map_range(0, addr(LOW, 0), 16, WR | US), inject(0),
        region_map(0, addr(LOW, 40), 4, R_WR | R_FIXED | R_POPULATE), map_range(0, addr(LOW, 80), 4, WR | US),
        inject(1), fork(0, 1), inject(0), write(0, addr(LOW, 81)), inject(3), clone(0, 2),
        inject(0), umap(0, addr(LOW, 81), 1), inject(0), protect(0, addr(LOW, 80), 2), inject(1),
        kmalloc(3000), inject(0), shm_create(2), inject(0), create(3),
    ],
    "heap_frames": [
        kmalloc(24), kmalloc(4096), kmalloc(0, 3), kmalloc(100, 1, 5), kmalloc(7000),
        kmalloc(0, 2), kfree(0, 3), kfree(1, 2), kfree(0), phys_alloc(3, 5), phys_alloc(4, 0, 0, 1),
        phys_alloc(1, 2, 1, 2), phys_alloc(1, 0), phys_alloc(1, 1, 3), phys_alloc(4, 0, 0, 2),
        phys_free(0, 7, 1), phys_free(3), phys_free(1, 4), check(),
    ],
    "user_copies": [
        create(0), region_map(0, addr(LOW, 120), 6, R_WR | R_FIXED), copy_out(0, addr(LOW, 120), 3),
        copy_in(0, addr(LOW, 120), 4), copy_in(0, addr(LOW, 121), 1, mode=5),
        write(0, addr(LOW, 124), 0), string(0, addr(LOW, 124), count=9),
        string(0, addr(LOW, 124), 3, tail=True, count=12, dup=True),
        copy_out(0, addr(LOW, 124), 4), copy_in(0, addr(KERN, 0), 1), copy_out(0, addr(LOW, 0), 1),
        region_map(0, addr(LOW, 130), 2, R_FIXED), copy_out(0, addr(LOW, 130), 2),
        copy_in(0, addr(LOW, 130), 2),
    ],
    "recent_mappings": [
        create(0), region_map(0, addr(SPECIAL, 0), 4, R_WR | R_ANYWHERE),
        write(0, addr(RECENT, 0)), read(0, addr(RECENT, 1)),
        region_map(0, addr(SPECIAL, 0), 2, R_ANYWHERE), read(0, addr(RECENT, 0, recent=1)),
        protect(0, addr(RECENT, 0), 2, touch=True), fork(0, 1), write(1, addr(RECENT, 2)),
        query(0, addr(RECENT, 1, recent=1)), umap(0, addr(RECENT, 3), 1, nophys=True),
        region_unmap(1, addr(RECENT, 0)), protect(1, addr(RECENT, 1), 2, wr=True, touch=True),
    ],
    "observers_and_drains": [
        create(0), map_range(0, addr(LOW, 0), 4, WR | US), region_map(0, addr(LOW, 8), 4, R_WR | R_FIXED),
        write(0, addr(LOW, 9)), stats(), stats(null_node=True), dump(0, 0), dump(1, 0), dump(2, KSLOT),
        kmalloc(100), drain(1), drain(0), caching(False), map_range(0, addr(LOW, 20), 4, WR | US),
        umap(0, addr(LOW, 0), 2), stats(), drain(2), caching(True), fork(0, 1), dump(1, 1), check(),
    ],
    "gib_pages": [
        create(0), huge(0, 0, 600, 3), huge(0, 1, 512, 1024, round_2m=True), huge(0, 2, 7, 2),
        create(1), huge(1, 3, 1000, ps_too=True), huge(1, 4), huge(0, 5), huge(0, 0, 0, 16384),
        huge(1, 1, 262143, 1), fork(0, 2), huge(2, 0, 131072, 9000),
    ],
    "single_pages": [
        create(0), map_range(0, addr(LOW, 10), 4, WR | US), umap_single(0, addr(LOW, 11)),
        umap_single(0, addr(LOW, 11)), region_map(0, addr(LOW, 20), 2, R_FIXED), read(0, addr(LOW, 20)),
        umap_single(0, addr(LOW, 20)), phys_alloc(0), map_pages(0, addr(LOW, 30), 1, 0, 0, US, single=True),
        umap_single(0, addr(LOW, 30), 1), map_pages(0, addr(HW, 4), 1, 4, 0, 0),
        umap_single(0, addr(HW, 4)), translate(0, addr(LOW, 12)), set_space(0), destroy(0),
    ],
}

# ---- Regressions: inputs that found a bug, replayed by every run -----------------------------

REGRESSIONS = {
    # The 1 GiB page operation forked the slot's own space: the fork write-protected the
    # slot's other private pages for good (copy-on-write), so the space no longer matched
    # its fingerprint, nor the model (ops_huge.c; the fork now works on a space of its own).
    "gib_fork_write_protects_the_slot": [
        create(0), map_range(0, addr(LOW, 0), 4, WR | US), write(0, addr(LOW, 1)),
        huge(0, 2, 133887, 1149, ps_too=True),
    ],
    # pmm_check after one 2 MiB allocation from the local node: the per-CPU 2 MiB cache's
    # refill leaves the second block with its buddy order (pcache.c, refill).
    "pcache_large_order": [phys_alloc(2, 1, 1, 0)],
    # vmm_check_space after mm_region_protect of one page of a 2 MiB page that mm_map_range
    # made: the region is split there but the leaf is not, so one leaf lies in two regions
    # and the whole 2 MiB page takes the new permissions (region_api.c, reprotect).
    "protect_part_of_large_page": [
        create(0), map_range(0, addr(CROSS, 0), 512, WR | US | PS), protect(0, addr(CROSS, 0), 1),
    ],
    # mm_map_range with MM_FLG_REPLACE that runs out of memory: the pages it was to replace
    # are already unmapped and freed when it fails, though a failed call changes nothing
    # (map.c, make_room before the allocation).
    # mm_region_protect making read-only anonymous memory writable: a page read while it was
    # read-only maps the shared zero page with no copy-on-write mark, reprotect leaves the zero
    # page read-only, and the program's write then faults with MM_EPERM for ever
    # (region_api.c, reprotect; fault.c, fault_present).
    "write_after_protect_of_zero_page": [
        create(0), region_map(0, addr(SPECIAL, 0), 4, R_ANYWHERE), protect(0, addr(RECENT, 0), 2, touch=True),
        protect(0, addr(RECENT, 1), 2, wr=True, touch=True),
    ],
    # The same in a fork child: read-only private pages are shared with the parent without a
    # copy-on-write mark (fork.c, share_entry marks writable pages only), so making them
    # writable in the child lets its writes reach the parent's memory.
    "protect_writable_shares_fork_frames": [
        create(0), map_range(0, addr(LOW, 3), 9, 0), fork(0, 1),
        protect(1, addr(LOW, 8), 2, wr=True, touch=True),
    ],
    # And in a private mapping of shared memory: a page read while the mapping was read-only
    # maps the object's frame without a copy-on-write mark, so after the mapping is made
    # writable a write lands in the object itself, for every space that maps it.
    "protect_writable_private_object_page": [
        shm_create(1), create(0), region_map(0, addr(LOW, 0), 1, R_FIXED, shm=True),
        read(0, addr(LOW, 0)), region_map(0, addr(LOW, 4), 1, R_WR | R_SHARED | R_FIXED, shm=True),
        protect(0, addr(LOW, 0), 1, wr=True, touch=True), read(0, addr(LOW, 4)),
    ],
    "replace_failure_loses_old_mapping": [
        create(0), map_range(0, addr(LOW, 0), 4, WR | US), inject(3),
        map_range(0, addr(LOW, 3), 512, WR | REPLACE),
    ],
    # Hostile input, a failed call changes nothing and one call never undoes another:
    # mm_region_unmap of a one-page region took the four-page region a separate call had
    # made right before it (region.c merged neighbours with the same properties).
    "region_unmap_takes_neighbour": [
        create(0), region_map(0, addr(LOW, 0), 4, R_WR | R_FIXED | R_POPULATE),
        region_map(0, addr(LOW, 4), 1, R_WR | R_FIXED | R_POPULATE), region_unmap(0, addr(LOW, 4)),
        read(0, addr(LOW, 1)),
    ],
    # mm_region_protect past a 2 MiB page's region: MM_ENOENT, but the page was split first.
    "failed_protect_splits_large_page": [
        create(0), map_range(0, addr(CROSS, 0), 512, WR | US | PS), protect(0, addr(CROSS, 1), 512),
    ],
    # mm_umap_range whose start cuts an anonymous 2 MiB page (splittable) and whose end cuts
    # the caller's own 2 MiB page (not): MM_ESIZE, but the first page was split.
    "failed_unmap_splits_large_page": [
        create(0), map_range(0, addr(CROSS, 0), 512, WR | US | PS), phys_alloc(2, 1, 0, 0),
        map_pages(0, addr(CROSS, 512), 1, 0, 0, WR | US | PS), umap(0, addr(CROSS, 1), 512),
    ],
    # The kernel space took a user-half mapping (and then the fuzzer's model missed it).
    "kernel_space_user_mapping": [map_range(KSLOT, addr(LOW, 0), 1, WR), umap(KSLOT, addr(LOW, 0), 1)],
    # A shared mapping of a two-page object at an offset that wraps with the length.
    "object_offset_wraps": [
        shm_create(2), create(0), region_map(0, addr(LOW, 0), 2, R_WR | R_SHARED | R_FIXED, shm=True,
                                             offset=0x3F), write(0, addr(LOW, 1)),
    ],
    # Writable + executable through the range call, and fork with no part named.
    "wx_map_and_empty_fork": [
        create(0), map_range(0, addr(LOW, 0), 1, WR | EXEC | US), fork(0, 1, user=False),
    ],
    # A fork that ran out of memory after sharing the first region's pages: the child was
    # emptied, but the parent's pages stayed copy-on-write (fork.c, share_entry).
    "failed_fork_changes_parent": [
        create(0), map_range(0, addr(LOW, 0), 4, WR | US), map_range(0, addr(CROSS, 600), 4, WR | US),
        create(1), inject(4), fork(0, 1),
    ],
    # The exact reference check: an object's page handed out by an unmap with NOPHYS, its
    # region gone, is still in the object's page cache (the checker must be told of the
    # objects the fuzzer holds).
    "handed_object_page_references": [
        shm_create(1), create(0),
        region_map(0, addr(LOW, 0), 1, R_WR | R_SHARED | R_POPULATE | R_FIXED, shm=True),
        umap(0, addr(LOW, 0), 1, nophys=True), check(),
    ],
    # A map that ran out of memory undid its tables but not the space's table count.
    "failed_map_table_count": [create(0), inject(2), map_range(0, addr(LOW, 0), 16, WR | US)],
}


def files() -> dict[Path, bytes]:
    out = {}
    for name, ops in SEEDS.items():
        out[HERE / "corpus" / name] = b"".join(ops)
    for name, ops in REGRESSIONS.items():
        out[HERE / "regressions" / name] = b"".join(ops)
    return out


def main(argv: list[str]) -> int:
    check_only = "--check" in argv
    stale = []
    for path, data in files().items():
        if path.exists() and path.read_bytes() == data:
            continue
        stale.append(path)
        if not check_only:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    for path in stale:
        print(f"{'differs' if check_only else 'wrote'}: {path.relative_to(HERE.parent.parent)}")
    return 1 if check_only and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
