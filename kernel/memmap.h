/* Sorted, disjoint lists of physical address ranges, for turning the memory map into RAM. */
#ifndef KERNEL_MEMMAP_H
#define KERNEL_MEMMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RANGE_LIST_MAX 128

/* [base, end) */
struct range {
	uint64_t base, end;
};

/* Invariant: r[0..n) sorted by base, non-empty, neither overlapping nor touching. */
struct range_list {
	size_t n;
	struct range r[RANGE_LIST_MAX];
};

/* Union with [base, end). Panics if the list would exceed RANGE_LIST_MAX. */
void range_add(struct range_list *l, uint64_t base, uint64_t end);

/* Difference with [base, end). */
void range_remove(struct range_list *l, uint64_t base, uint64_t end);

/* True when [base, end) lies inside one range of l. */
bool range_contains(const struct range_list *l, uint64_t base, uint64_t end);

/* True when [base, end) overlaps some range of l. */
bool range_intersects(const struct range_list *l, uint64_t base, uint64_t end);

/* Total bytes. */
uint64_t range_total(const struct range_list *l);

#endif /* KERNEL_MEMMAP_H */
