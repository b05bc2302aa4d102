/* What the map, unmap, fault and fork code share (vmm/map.c, vmm/unmap.c): leaf bits and
 * taking mappings down under the caller's locks. */
#ifndef VMM_MAPPING_H
#define VMM_MAPPING_H

#include "pt.h"
#include "tlb.h"

/* The leaf entry bits (present, W, U, NX, cache, global) for mm flags in an area. */
pte_t vmm_leaf_bits(uint32_t flags, enum va_area area);

struct mm_region;

/* Clears the leaf entries of [start, end) into g (frames' references dropped when g
 * finishes, unless keep_frames), pruning emptied tables. MM_ESIZE (nothing changed) if a
 * large page is covered in part. pre: the owner's shards of the range held (asserted in
 * debug builds). */
int vmm_unmap_ptes_locked(struct mm_space *owner, uintptr_t start, uintptr_t end, bool keep_frames,
                          struct tlb_gather *g);

/* The same, and the regions of [start, end) removed (one may be split: *spare). */
int vmm_unmap_range_locked(struct mm_space *owner, uintptr_t start, uintptr_t end, bool keep_frames,
                           struct tlb_gather *g, struct mm_region **spare);

/* Frees the PDPTs of [start, end) that the unmap left empty, when every shard can be taken
 * at once without waiting (a PDPT is every shard's); otherwise they stay until a later
 * unmap or the space's end. They go into g, freed after its invalidation. */
void vmm_prune_pdpts(struct mm_space *owner, uintptr_t start, uintptr_t end, vmm_range_lock_t *held,
                     struct tlb_gather *g);

#endif /* VMM_MAPPING_H */
