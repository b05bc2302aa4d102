/*
 * Ways to zero memory on x86_64 without SSE (the kernel is built with general registers
 * only). Each is a candidate for arch_zero(); bench/host/zero_bench.cc measures them, hot
 * (the page stays in cache) and cold (a working set far larger than the caches), against
 * the machine's memory bandwidth, and docs/design.md records which one won and why.
 *
 * pre (all): va is 64-byte aligned, bytes a multiple of 64.
 */
#ifndef ARCH_X86_64_ZERO_H
#define ARCH_X86_64_ZERO_H

#include <stddef.h>

/* `rep stosb`: fast-string microcode (ERMS/FSRM), cache-allocating. */
void x86_zero_rep_stosb(void *va, size_t bytes);

/* `rep stosq`: the same microcode in 8-byte steps. */
void x86_zero_rep_stosq(void *va, size_t bytes);

/* `movnti` 8-byte non-temporal stores, then `sfence`: bypasses the caches, so the zeroed
 * memory does not evict the working set, but the next touch misses. */
void x86_zero_movnti(void *va, size_t bytes);

/* Plain 8-byte stores, eight per 64-byte line, not vectorised. */
void x86_zero_stores(void *va, size_t bytes);

#endif /* ARCH_X86_64_ZERO_H */
