/*
 * Touching an address the way a CPU does, without the consequences of a fault: one 8-byte
 * load or store through the MMU (the space loaded now, this CPU's TLB) that returns false
 * where the access faults (#PF: not mapped or not allowed; #GP: non-canonical). The fault
 * is answered before the page-fault hook, so nothing calls mm_fault.
 *
 * User-half addresses need SMAP lifted around the call (x86_stac / x86_clac, when
 * x86_features.smap_on): the probe itself is plain ring-0 code.
 */
#ifndef ARCH_X86_64_PROBE_H
#define ARCH_X86_64_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include <arch/x86_64/trap.h>

/* pre: va is 8-byte aligned. post: true with *value read (or value written), or false
 * with nothing read or written. */
bool x86_probe_read64(uintptr_t va, uint64_t *value);
bool x86_probe_write64(uintptr_t va, uint64_t value);

/*
 * For the trap dispatcher: when frame is a ring-0 #PF or #GP at a probe's access, points
 * its RIP at the probe's failure return and answers true (the fault is handled); false
 * for any other fault.
 */
bool x86_probe_fixup(struct x86_trap_frame *frame);

#endif /* ARCH_X86_64_PROBE_H */
