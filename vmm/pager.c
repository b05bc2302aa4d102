/* Pagers: reference counting, and the shared-memory object (pages made on first touch,
 * kept until the object goes, the same frames in every space that maps it). */
#include <mm/kmalloc.h>

#include "region_tree.h"

void mm_pager_get(struct mm_pager *pager)
{
	__atomic_add_fetch(&pager->refs, 1, __ATOMIC_RELAXED);
}

void mm_pager_put(struct mm_pager *pager)
{
	if (__atomic_sub_fetch(&pager->refs, 1, __ATOMIC_ACQ_REL) == 0 && pager->ops->release)
		pager->ops->release(pager);
}

struct shm {
	struct mm_pager pager;
	spinlock_t lock;
	size_t pages;
	uintptr_t *frames; /* 0 until the page is first touched; each holds one reference */
};

static uintptr_t shm_get_page(struct mm_pager *pager, uint64_t offset, int *error)
{
	struct shm *shm = (struct shm *)pager;
	uint64_t index = offset / MM_PAGE_SIZE;
	if (index >= shm->pages) {
		*error = MM_EFAULT;
		return MM_NADDR;
	}
	/* Allocated outside the lock, since zeroing is the slow part; a racing loser frees its
	 * frame. */
	uintptr_t fresh = MM_NADDR;
	if (!__atomic_load_n(&shm->frames[index], __ATOMIC_ACQUIRE)) {
		fresh = mm_phys_alloc(1, MM_NODE_LOCAL, MM_FLG_ZERO);
		if (fresh == MM_NADDR) {
			*error = MM_ENOMEM;
			return MM_NADDR;
		}
	}
	arch_irq_state_t irq = spin_lock_irqsave(&shm->lock);
	if (!shm->frames[index] && fresh != MM_NADDR) {
		__atomic_store_n(&shm->frames[index], fresh, __ATOMIC_RELEASE);
		fresh = MM_NADDR;
	}
	uintptr_t frame = shm->frames[index];
	mm_phys_ref(frame); /* the caller's reference */
	spin_unlock_irqrestore(&shm->lock, irq);
	if (fresh != MM_NADDR)
		mm_phys_free_page(fresh);
	return frame;
}

static void shm_release(struct mm_pager *pager)
{
	struct shm *shm = (struct shm *)pager;
	for (size_t i = 0; i < shm->pages; i++)
		if (shm->frames[i])
			mm_phys_free_page(shm->frames[i]);
	kfree(shm->frames);
	kfree(shm);
}

static void shm_for_each_page(struct mm_pager *pager, void (*visit)(uintptr_t phys, void *ctx),
                              void *ctx)
{
	struct shm *shm = (struct shm *)pager;
	arch_irq_state_t irq = spin_lock_irqsave(&shm->lock);
	for (size_t i = 0; i < shm->pages; i++)
		if (shm->frames[i])
			visit(shm->frames[i], ctx);
	spin_unlock_irqrestore(&shm->lock, irq);
}

static const struct mm_pager_ops shm_ops = {shm_get_page, shm_release, shm_for_each_page};

struct mm_pager *mm_shm_create(size_t bytes)
{
	if (bytes == 0 || bytes > MM_USER_END) {
		mm_set_error(MM_EINVAL);
		return NULL;
	}
	size_t pages = (bytes + MM_PAGE_SIZE - 1) / MM_PAGE_SIZE;
	struct shm *shm = kmalloc(sizeof(*shm));
	uintptr_t *frames = kcalloc(pages, sizeof(uintptr_t));
	if (!shm || !frames) {
		kfree(shm);
		kfree(frames);
		mm_set_error(MM_ENOMEM);
		return NULL;
	}
	*shm = (struct shm){
	    .pager = {&shm_ops, (uint64_t)pages * MM_PAGE_SIZE, 1, NULL},
	    .lock = SPINLOCK_INIT,
	    .pages = pages,
	    .frames = frames,
	};
	return &shm->pager;
}
