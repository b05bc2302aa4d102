/* Address spaces: start-up, creation, destruction, identity and switching. */
#include "space.h"

#include <arch/x86_64/pt_walk.h>
#include <lib/cpumask.h>
#include <lib/string.h>
#include <mm/kmalloc.h>

#include "pcid.h"
#include "region_tree.h"
#include "space_stats.h"

static struct mm_space kernel_space_object;
static struct mm_space *kernel_space;
static uint64_t next_space_id = 1;

uintptr_t vmm_zero_page;

static struct mm_space *space_object_alloc(void)
{
	struct mm_space *space = kmalloc(sizeof(*space));
	if (space) {
		memset(space, 0, sizeof(*space));
		space_regions_init(space);
	}
	return space;
}

static void space_object_free(struct mm_space *space)
{
	kfree(space);
}

int mm_vm_init(uintptr_t kernel_root)
{
	if (kernel_space)
		return mm_set_error(MM_EINVAL);
	struct mm_space *k = &kernel_space_object;
	k->lock = (spinlock_t)SPINLOCK_INIT;
	space_regions_init(k);
	vmm_zero_page = mm_phys_alloc(1, MM_NODE_LOCAL, MM_FLG_ZERO);
	if (vmm_zero_page == MM_NADDR)
		return mm_set_error(MM_ENOMEM);
	k->is_kernel = true;
	k->id = __atomic_fetch_add(&next_space_id, 1, __ATOMIC_RELAXED);
	if (kernel_root == MM_NADDR) {
		kernel_root = pt_alloc_table();
		if (kernel_root == MM_NADDR)
			return mm_set_error(MM_ENOMEM);
	}
	k->root = kernel_root;
	/* Every kernel-half PML4 entry gets its PDPT now, so that spaces created later can copy
	 * the entries once and share every later kernel mapping. */
	pte_t *pml4 = pt_table(kernel_root);
	for (unsigned i = KERNEL_PML4_FIRST; i < PT_ENTRIES; i++) {
		if (pte_present(pml4[i]))
			continue;
		uintptr_t pdpt = pt_alloc_table();
		if (pdpt == MM_NADDR)
			return mm_set_error(MM_ENOMEM);
		pml4[i] = pte_make_table(pdpt, false);
	}
	kernel_space = k;
	mm_cpu_online();
	return MM_OK;
}

mm_space_t mm_kernel_space(void)
{
	return kernel_space;
}

mm_space_t mm_create_space(uintptr_t *phys)
{
	if (!kernel_space) {
		mm_set_error(MM_EINVAL);
		return NULL;
	}
	struct mm_space *space = space_object_alloc();
	if (!space) {
		mm_set_error(MM_ENOMEM);
		return NULL;
	}
	uintptr_t root = pt_alloc_table();
	if (root == MM_NADDR) {
		space_object_free(space);
		mm_set_error(MM_ENOMEM);
		return NULL;
	}
	pte_t *dst = pt_table(root);
	const pte_t *src = pt_table(kernel_space->root);
	for (unsigned i = KERNEL_PML4_FIRST; i < PT_ENTRIES; i++)
		dst[i] = src[i];
	/* The kernel half's entries are shared, not owned: they do not count in pt_used, so
	 * the root is "empty" when its user half and hardware window are. */
	space->root = root;
	space->id = __atomic_fetch_add(&next_space_id, 1, __ATOMIC_RELAXED);
	space->table_pages = 1;
	if (phys)
		*phys = root;
	vmm_space_created();
	return space;
}

void mm_destroy_space(mm_space_t space)
{
	if (!space || space->is_kernel)
		return;
	/* Every CPU running the space must have switched away first (this one included): we
	 * cannot pull the tables from under them. */
	MM_CHECK(arch_space_current() != space->root);
	MM_CHECK(cpumask_is_empty(&space->active));
	/* Any CPU may still cache translations of this space: invalidate before freeing. */
	tlb_shootdown(space, 0, MM_USER_END, TLB_TABLES_FREED);
	pt_free_tree(space->root, 0, KERNEL_PML4_FIRST - 1);
	pt_free_table(space->root);
	region_remove_all(space);
	vmm_space_destroyed();
	space_object_free(space);
}

uint64_t mm_space_id(mm_space_t space)
{
	return space ? space->id : 0;
}

uintptr_t mm_space_root(mm_space_t space)
{
	return space ? space->root : MM_NADDR;
}

void mm_set(mm_space_t space)
{
	if (!space)
		return;
	arch_irq_state_t irq = arch_irq_save();
	tlb_load_space(space);
	arch_irq_restore(irq);
}

enum va_area va_area_of(uintptr_t start, uintptr_t end)
{
	if (start >= MM_USER_BASE && end <= MM_USER_END)
		return AREA_USER;
	if (start >= MM_HW_BASE && end <= MM_HW_END)
		return AREA_HW;
	if (start >= MM_KERNEL_MAP_BASE && end <= MM_KERNEL_MAP_END)
		return AREA_KERNEL;
	return AREA_NONE;
}

struct mm_space *area_owner(struct mm_space *space, enum va_area area)
{
	return area == AREA_KERNEL ? kernel_space : space;
}
