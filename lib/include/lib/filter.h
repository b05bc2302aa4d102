/*
 * Name filters: one language wherever tests and benchmarks are chosen by name (the
 * kernel's tests= and bench=, host_tests, the Linux benchmark program's mmbench=, and
 * tools/mmtool/filters.py, which mirrors it). A filter is a comma-separated list of terms
 * matched as substrings of the name: a name is selected when it contains one of the plain
 * terms (or there is none) and none of the terms written with a leading '-'. Empty terms
 * and a lone '-' mean nothing; NULL or "" selects every name.
 * Example: "smp,vmm.,-vmm.map_until".
 */
#ifndef LIB_FILTER_H
#define LIB_FILTER_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

bool lib_filter_selects(const char *filter, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* LIB_FILTER_H */
