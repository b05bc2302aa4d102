/* Sorting without a C library: an in-place heapsort of 64-bit keys, O(n log n) with no
 * allocation and no recursion, for checkers that count equal keys. */
#ifndef LIB_SORT_H
#define LIB_SORT_H

#include <stddef.h>
#include <stdint.h>

/* Sorts a[0..n) ascending. */
void sort_u64(uint64_t *a, size_t n);

#endif /* LIB_SORT_H */
