/*
 * The x86_64 page-table entry format (4-level paging, Intel SDM vol. 3A, 4.5), declared
 * once and reached only through these accessors. Pure C: the kernel and the host build use
 * the same encoding, so host tests check the real bits.
 */
#ifndef ARCH_X86_64_PTE_H
#define ARCH_X86_64_PTE_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t pte_t;

/* Hardware bits. */
#define PTE_P (1ull << 0)   /* present */
#define PTE_W (1ull << 1)   /* writable */
#define PTE_U (1ull << 2)   /* user */
#define PTE_PWT (1ull << 3) /* write-through */
#define PTE_PCD (1ull << 4) /* cache disable */
#define PTE_A (1ull << 5)   /* accessed */
#define PTE_D (1ull << 6)   /* dirty (leaf) */
#define PTE_PS (1ull << 7)  /* page size: a 2 MiB (PD) or 1 GiB (PDPT) leaf */
#define PTE_G (1ull << 8)   /* global (leaf) */
#define PTE_NX (1ull << 63) /* no-execute (needs EFER.NXE) */

/* Software bits (ignored by the MMU: 9-11 and 52-58). */
#define PTE_SW_MANAGED (1ull << 9) /* the frame is RAM and the mapping holds one reference */
#define PTE_SW_COW (1ull << 10)    /* copy-on-write: writable once the copy is made */
#define PTE_SW_SHARED (1ull << 11) /* shared mapping: fork shares it, never COW */

/* Bits 12..51 hold the physical address (M = 52, the architectural maximum). */
#define PTE_ADDR_MASK 0x000FFFFFFFFFF000ull
/* A large leaf's address starts higher: bit 12 of a PS entry is PAT, not address. */
#define PTE_ADDR_MASK_2M 0x000FFFFFFFE00000ull
#define PTE_ADDR_MASK_1G 0x000FFFFFC0000000ull

_Static_assert((PTE_ADDR_MASK & (PTE_P | PTE_W | PTE_U | PTE_PS | PTE_SW_MANAGED | PTE_SW_COW |
                                 PTE_SW_SHARED | PTE_NX)) == 0,
               "flag bits overlap the address field");

/* ---- Levels -------------------------------------------------------------------------
 * Level 4 is the PML4, 3 the PDPT, 2 the PD, 1 the PT. Each table holds 512 entries and
 * an entry at level L covers 2^(12 + 9 (L - 1)) bytes.
 */
#define PT_ENTRIES 512u
#define PT_LEVELS 4

static inline unsigned pt_shift(int level)
{
	return 12u + 9u * (unsigned)(level - 1);
}

static inline uint64_t pt_span(int level)
{
	return 1ull << pt_shift(level);
}

/* Where the part of [va, end) under the entry of `level` that covers va stops: the entry's
 * next boundary, or end (also when that boundary wraps past the top of the address space).
 * The step of every walk over a range. */
static inline uint64_t pt_step_end(uint64_t va, uint64_t end, int level)
{
	uint64_t next = (va & ~(pt_span(level) - 1)) + pt_span(level);
	return next > end || next == 0 ? end : next;
}

/* A leaf's size as a buddy order of 4 KiB frames: 0, 9 (2 MiB), 18 (1 GiB). */
static inline unsigned pt_order(int level)
{
	return pt_shift(level) - 12u;
}

static inline unsigned pt_index(uint64_t va, int level)
{
	return (unsigned)(va >> pt_shift(level)) & (PT_ENTRIES - 1);
}

/* A canonical address has bits 63..47 all equal (48-bit virtual addresses). */
static inline bool va_is_canonical(uint64_t va)
{
	uint64_t top = va >> 47;
	return top == 0 || top == 0x1FFFF;
}

/* ---- Constructors and accessors ---------------------------------------------------- */

static inline pte_t pte_make(uint64_t phys, uint64_t flags)
{
	return (phys & PTE_ADDR_MASK) | flags;
}

/* A 2 MiB (level 2) or 1 GiB (level 3) leaf. */
static inline pte_t pte_make_large(uint64_t phys, uint64_t flags)
{
	return (phys & PTE_ADDR_MASK) | flags | PTE_PS;
}

/* A pointer to a next-level table. Intermediate entries are as permissive as possible
 * (writable, user): the leaf decides, and the NX/U/W bits combine with AND semantics. */
static inline pte_t pte_make_table(uint64_t table_phys, bool user)
{
	return (table_phys & PTE_ADDR_MASK) | PTE_P | PTE_W | (user ? PTE_U : 0);
}

static inline bool pte_present(pte_t e)
{
	return (e & PTE_P) != 0;
}

/* True when the entry at this level maps memory itself rather than pointing to a table. */
static inline bool pte_is_leaf(pte_t e, int level)
{
	return level == 1 || (e & PTE_PS) != 0;
}

static inline uint64_t pte_addr(pte_t e)
{
	return e & PTE_ADDR_MASK;
}

static inline uint64_t pte_leaf_addr(pte_t e, int level)
{
	if (level == 3 && (e & PTE_PS))
		return e & PTE_ADDR_MASK_1G;
	if (level == 2 && (e & PTE_PS))
		return e & PTE_ADDR_MASK_2M;
	return e & PTE_ADDR_MASK;
}

static inline uint64_t pte_flags(pte_t e)
{
	return e & ~PTE_ADDR_MASK;
}

#endif /* ARCH_X86_64_PTE_H */
