/*
 * Copies between kernel memory and the user half of any space (mm_memcpy_*,
 * mm_strncpy_user_to_kernel, mm_strdup_from_user; docs/api.md maps the seed APIs' copy
 * calls to them): page by page through the space's own tables and the direct map, so they work
 * whichever space the CPU runs. A page that is not there, or not writable for a write
 * (copy-on-write, the zero page), goes through mm_fault first, as the program's own access
 * would; what mm_fault refuses is the copy's error.
 *
 * What may happen to a page between its translation and the copy, and why it is safe:
 *   - Another CPU unmaps it: the frame goes back to the allocator after the TLB
 *     invalidation and may be handed out again at once, so a copy through a bare physical
 *     address could read or overwrite somebody else's memory.
 *   - Another CPU forks the space: the page becomes copy-on-write, its frame shared with the
 *     child, and a store into the frame after that would show in the child.
 * Both change the entry only with the page's shard lock held. So a read takes a reference
 * on the frame together with the translation, under that lock: the frame cannot be freed
 * until the reference goes, whatever happens to the mapping, and the copy runs with no lock
 * held, free to fault on the kernel buffer. (Reading a frame that fork has just shared is
 * harmless: its bytes are the same.) A reference would not do for a write, which after a
 * fork would land in the child too; a write stores into the frame with the lock held, so it
 * lands before or after an unmap or a fork, never in between. What could fault under the
 * lock, a kernel source in the kernel mapping area (its regions may be demand-paged), is
 * staged in a small stack buffer first.
 */
#include <lib/string.h>
#include <mm/copy.h>
#include <mm/kmalloc.h>
#include <mm/region.h>

#include <arch/x86_64/pt_walk.h>

#include "space.h"

/* Bytes of a kernel source staged per step when reading it might fault. */
#define COPY_BOUNCE 512

/* How many times one page is faulted in before the copy gives up: mm_fault succeeded and
 * the page went again each time, which only an unmap racing with the copy does. */
#define COPY_FAULT_TRIES 4

/* A user page found usable, its shard lock held. */
struct user_page {
	uintptr_t phys;      /* of the byte asked for */
	size_t avail;        /* bytes from it to the end of the leaf */
	struct frame *frame; /* the leaf's frame (head of a large page); NULL: the zero page */
	vmm_range_lock_t held;
};

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/*
 * Under the shard lock: is the leaf at va usable for this access? MM_OK (use it),
 * MM_ENOENT (fault it in: *present says whether an entry is there), or MM_EFAULT.
 */
static int inspect(struct mm_space *space, uintptr_t va, bool write, struct user_page *out,
                   bool *present)
{
	int level;
	bool path_writable;
	const pte_t *entry = pt_walk_slot_writable(space->root, va, &level, &path_writable);
	pte_t e = __atomic_load_n(entry, __ATOMIC_RELAXED);
	*present = pte_present(e);
	if (!*present)
		return MM_ENOENT;
	if (!(e & PTE_U))
		return MM_EFAULT; /* a kernel-only page in the user half */
	/* Writable as the MMU sees it: W in the leaf and above it (a leaf table a fork shares is
	 * behind a page-directory entry without W: the fault makes it the space's own). */
	if (write && (!(e & PTE_W) || !path_writable))
		return MM_ENOENT;
	uintptr_t base = pte_leaf_addr(e, level);
	struct frame *f = NULL;
	if (e & PTE_SW_MANAGED) {
		f = frame_lookup(base);
	} else if (base != vmm_zero_page) {
		/* Device memory: not RAM, not in the direct map. */
		return MM_EFAULT;
	}
	uintptr_t offset = va & (pt_span(level) - 1);
	out->phys = base + offset;
	out->avail = pt_span(level) - offset;
	out->frame = f;
	return MM_OK;
}

/*
 * Finds the page of user va usable for a read or write, faulting it in if needed.
 * post: MM_OK with *out filled and the page's shard lock held (the caller unlocks), or an
 *       error (MM_EFAULT, MM_ENOMEM) with nothing held.
 */
static int user_page_lock(struct mm_space *space, uintptr_t va, bool write, struct user_page *out)
{
	uintptr_t page = va & ~(MM_PAGE_SIZE - 1);
	for (int attempt = 0; attempt < COPY_FAULT_TRIES; attempt++) {
		/* A leaf never spans two 1 GiB chunks: the page's shard guards the whole leaf, and
		 * the tables above it (a PDPT goes only with every shard held). */
		vmm_range_lock_t held = vmm_lock_va(space, page);
		bool present;
		int error = inspect(space, va, write, out, &present);
		if (error == MM_OK) {
			out->held = held;
			return MM_OK;
		}
		vmm_unlock_range(space, held);
		if (error != MM_ENOENT)
			return error;
		uint32_t access =
		    MM_FAULT_USER | (write ? MM_FAULT_WRITE : 0) | (present ? MM_FAULT_PRESENT : 0);
		error = mm_fault(space, va, access);
		if (error == MM_ENOMEM)
			return MM_ENOMEM;
		if (error != MM_OK)
			return MM_EFAULT; /* no region, a guard page, or the region forbids it */
	}
	return MM_EFAULT;
}

/* True when reading [p, p + n) may fault: kernel memory there can be demand-paged. */
static bool may_fault(const void *p, size_t n)
{
	uintptr_t start = (uintptr_t)p;
	return start < MM_KERNEL_MAP_END && start + n > MM_KERNEL_MAP_BASE;
}

static int write_user(struct mm_space *space, uintptr_t dst, const uint8_t *src, size_t count)
{
	uint8_t bounce[COPY_BOUNCE];
	for (size_t done = 0; done < count;) {
		uintptr_t va = dst + done;
		size_t n = min_size(count - done, MM_PAGE_SIZE - (va & (MM_PAGE_SIZE - 1)));
		const uint8_t *from = src + done;
		if (may_fault(from, n)) {
			n = min_size(n, sizeof(bounce));
			memcpy(bounce, from, n);
			from = bounce;
		}
		struct user_page page;
		int error = user_page_lock(space, va, true, &page);
		if (error != MM_OK)
			return error;
		/* Under the shard lock: see the top of the file. */
		memcpy(MM_VIRTUALIZE(page.phys), from, n);
		vmm_unlock_range(space, page.held);
		done += n;
	}
	return MM_OK;
}

/*
 * Reads up to count bytes at user src into dst, or only looks at them when dst is NULL;
 * with until_nul it stops after the first NUL. *done: the bytes read (the NUL included),
 * *nul: whether one was found. A read past the user half is MM_EFAULT.
 */
static int read_user(struct mm_space *space, uintptr_t src, uint8_t *dst, size_t count,
                     bool until_nul, size_t *done, bool *nul)
{
	*done = 0;
	*nul = false;
	while (*done < count && !*nul) {
		uintptr_t va = src + *done;
		if (va >= MM_USER_END)
			return MM_EFAULT;
		struct user_page page;
		int error = user_page_lock(space, va, false, &page);
		if (error != MM_OK)
			return error;
		/* The reference keeps the frame ours after the lock goes (top of the file). */
		if (page.frame)
			frame_get(page.frame);
		vmm_unlock_range(space, page.held);
		size_t n = min_size(count - *done, page.avail);
		const uint8_t *from = MM_VIRTUALIZE(page.phys);
		if (until_nul) {
			for (size_t i = 0; i < n; i++) {
				if (from[i] == 0) {
					n = i + 1;
					*nul = true;
					break;
				}
			}
		}
		if (dst) {
			memcpy(dst + *done, from, n);
			/* The program may have changed the byte since it was seen as the NUL. */
			if (*nul)
				dst[*done + n - 1] = 0;
		}
		if (page.frame)
			frame_put(page.frame);
		*done += n;
	}
	return MM_OK;
}

/* The checks every call shares: MM_OK, or the error to report. */
static int check_args(const struct mm_space *space, const void *kernel, const void *user,
                      size_t count)
{
	if (!space || !kernel || !user)
		return MM_EINVAL;
	uintptr_t k = (uintptr_t)kernel, u = (uintptr_t)user;
	if (k + count < k || u + count < u)
		return MM_EINVAL; /* wraps around */
	if (u < MM_USER_BASE || u >= MM_USER_END)
		return MM_EFAULT;
	return MM_OK;
}

/* The user range [user, user + count) must lie in the user half. */
static int check_user_range(const void *user, size_t count)
{
	return count <= MM_USER_END - (uintptr_t)user ? MM_OK : MM_EFAULT;
}

int mm_memcpy_kernel_to_user(mm_space_t dst_space, void *dst, const void *src, size_t count)
{
	int error = check_args(dst_space, src, dst, count);
	if (error == MM_OK)
		error = check_user_range(dst, count);
	if (error == MM_OK)
		error = write_user(dst_space, (uintptr_t)dst, src, count);
	return error == MM_OK ? MM_OK : mm_set_error(error);
}

int mm_memcpy_user_to_kernel(mm_space_t src_space, void *dst, const void *src, size_t count)
{
	int error = check_args(src_space, dst, src, count);
	if (error == MM_OK)
		error = check_user_range(src, count);
	size_t done;
	bool nul;
	if (error == MM_OK)
		error = read_user(src_space, (uintptr_t)src, dst, count, false, &done, &nul);
	return error == MM_OK ? MM_OK : mm_set_error(error);
}

long mm_strncpy_user_to_kernel(mm_space_t src_space, void *dst, const void *src, size_t count)
{
	/* The string may end before the user half does: only the bytes read must lie in it,
	 * which read_user checks as it goes. */
	int error = check_args(src_space, dst, src, count);
	size_t done = 0;
	bool nul = false;
	if (error == MM_OK)
		error = read_user(src_space, (uintptr_t)src, dst, count, true, &done, &nul);
	if (error != MM_OK) {
		mm_set_error(error);
		return -1;
	}
	return nul ? (long)(done - 1) : (long)done;
}

char *mm_strdup_from_user(mm_space_t src_space, const void *src, size_t max_len)
{
	int error = check_args(src_space, src, src, 0);
	/* max_len bytes and the NUL; reading stops at the end of the user half in any case. */
	size_t limit = max_len == SIZE_MAX ? max_len : max_len + 1;
	size_t done = 0;
	bool nul = false;
	if (error == MM_OK)
		error = read_user(src_space, (uintptr_t)src, NULL, limit, true, &done, &nul);
	if (error == MM_OK && !nul)
		error = MM_EINVAL; /* no NUL within max_len */
	char *copy = NULL;
	if (error == MM_OK) {
		/* The string is copied by a second pass: the program may have changed it
		 * meanwhile, so the buffer is terminated here whatever the copy brought. */
		size_t length = done - 1;
		copy = kmalloc(length + 1);
		if (!copy)
			error = MM_ENOMEM;
		else
			error =
			    read_user(src_space, (uintptr_t)src, (uint8_t *)copy, length, false, &done, &nul);
		if (copy && error == MM_OK)
			copy[length] = '\0';
	}
	if (error != MM_OK) {
		kfree(copy);
		mm_set_error(error);
		return NULL;
	}
	return copy;
}
