/*
 * The kernel's system calls (the ABI is mmkernel/syscall.h): each turns its registers into
 * one call of the memory manager's public API on the calling program's space, which
 * validates them as it does for any caller, so a refused call changes nothing. What is left
 * here is the ABI's own checks (flags it does not know, lengths that are not one mapping's)
 * and the children fork made, which belong to the program until it waits for them or ends.
 */
#include <mmkernel/syscall.h>

#include <arch/arch.h>
#include <arch/x86_64/cpu.h>
#include <lib/spinlock.h>
#include <mm/region.h>

#include "kernel/ring3/user_run.h"

_Static_assert(MMK_SYS_EXIT == X86_SYS_EXIT && MMK_SYS_NULL == X86_SYS_ECHO,
               "exit and null are the backend's own calls");
_Static_assert(-MMK_EINVAL == MM_EINVAL && -MMK_ENOMEM == MM_ENOMEM && -MMK_EEXIST == MM_EEXIST &&
                   -MMK_ENOENT == MM_ENOENT && -MMK_EPERM == MM_EPERM && -MMK_EFAULT == MM_EFAULT &&
                   -MMK_ESIZE == MM_ESIZE,
               "the ABI's errors are the memory manager's");

/* ---- Children ------------------------------------------------------------------------------
 * A slot per child, any program's: a handle is its index + 1, good only for the space that
 * made it. The lock guards the table, never a space: the fork and the destroy run outside. */

#define CHILD_SLOTS (MMK_MAX_CHILDREN * 4)

struct child_slot {
	mm_space_t parent; /* NULL: free; a slot being filled holds its parent and no child */
	mm_space_t child;
};

static struct child_slot children[CHILD_SLOTS];
static spinlock_t children_lock = SPINLOCK_INIT;

/* A free slot for parent, marked taken (child still NULL), or -1: the program holds
 * MMK_MAX_CHILDREN already, or every slot is taken. */
static int child_slot_take(mm_space_t parent)
{
	int found = -1;
	unsigned held = 0;
	arch_irq_state_t irq = spin_lock_irqsave(&children_lock);
	for (int i = 0; i < CHILD_SLOTS; i++) {
		if (children[i].parent == parent)
			held++;
		else if (!children[i].parent && found < 0)
			found = i;
	}
	if (held >= MMK_MAX_CHILDREN)
		found = -1;
	if (found >= 0)
		children[found].parent = parent;
	spin_unlock_irqrestore(&children_lock, irq);
	return found;
}

/* Takes the child of handle out of the table if parent made it: the child, or NULL. */
static mm_space_t child_slot_release(mm_space_t parent, uint64_t handle)
{
	mm_space_t child = NULL;
	arch_irq_state_t irq = spin_lock_irqsave(&children_lock);
	if (handle >= 1 && handle <= CHILD_SLOTS) {
		struct child_slot *slot = &children[handle - 1];
		if (slot->parent == parent && slot->child) {
			child = slot->child;
			slot->child = NULL;
			slot->parent = NULL;
		}
	}
	spin_unlock_irqrestore(&children_lock, irq);
	return child;
}

void x86_user_reap_children(mm_space_t parent)
{
	for (uint64_t handle = 1; handle <= CHILD_SLOTS; handle++) {
		mm_space_t child = child_slot_release(parent, handle);
		if (child)
			mm_destroy_space(child);
	}
}

/* ---- The calls ---------------------------------------------------------------------------- */

static uint64_t result_of(int error)
{
	return (uint64_t)(int64_t)error;
}

/* Whether [addr, addr + length) lies in the user half without wrapping: the calls act on
 * the program's own half only, whatever the space holds above it. */
static bool user_range(uint64_t addr, uint64_t length)
{
	return addr >= MM_USER_BASE && addr < MM_USER_END && length <= MM_USER_END - addr;
}

/* prot as region permission flags, or false for a bit the ABI does not define. */
static bool prot_flags(uint64_t prot, uint32_t *flags)
{
	if (prot & ~(uint64_t)(MMK_PROT_READ | MMK_PROT_WRITE | MMK_PROT_EXEC))
		return false;
	*flags = MM_FLG_US | ((prot & MMK_PROT_WRITE) ? MM_FLG_WR : 0) |
	         ((prot & MMK_PROT_EXEC) ? MM_FLG_EXEC : 0);
	return true;
}

static uint64_t sys_mmap(mm_space_t space, uint64_t addr, uint64_t length, uint64_t prot,
                         uint64_t flags)
{
	struct mm_region_spec spec = {.start = addr, .length = length, .section = MM_SECTION_MMAP};
	if (flags & ~(uint64_t)(MMK_MAP_FIXED | MMK_MAP_POPULATE) || !prot_flags(prot, &spec.flags))
		return result_of(MM_EINVAL);
	/* A hint the region code would refuse is only a hint: anywhere instead. */
	if (!(flags & MMK_MAP_FIXED) && (addr & (MM_PAGE_SIZE - 1) || addr >= MM_USER_END))
		spec.start = 0;
	if (flags & MMK_MAP_FIXED) {
		if (!user_range(addr, length))
			return result_of(MM_EINVAL);
		spec.flags |= MM_REGION_FIXED;
	}
	if (flags & MMK_MAP_POPULATE)
		spec.flags |= MM_REGION_POPULATE;
	uintptr_t start = mm_region_map(space, &spec);
	return start == MM_NADDR ? result_of(mm_last_error()) : start;
}

static uint64_t sys_munmap(mm_space_t space, uint64_t addr, uint64_t length)
{
	/* One mapping, whole: addr is its start and length its length, so that the call
	 * cannot remove more than the program asked for. */
	struct mm_region_info info;
	if (length == 0 || addr & (MM_PAGE_SIZE - 1) || !user_range(addr, length))
		return result_of(MM_EINVAL);
	int error = mm_region_query(space, addr, &info);
	if (error != MM_OK)
		return result_of(error);
	uint64_t pages_length = (length + MM_PAGE_SIZE - 1) & ~(uint64_t)(MM_PAGE_SIZE - 1);
	if (info.start != addr || info.end - info.start != pages_length)
		return result_of(MM_EINVAL);
	return result_of(mm_region_unmap(space, addr));
}

static uint64_t sys_mprotect(mm_space_t space, uint64_t addr, uint64_t length, uint64_t prot)
{
	uint32_t flags;
	if (!prot_flags(prot, &flags) || !user_range(addr, length))
		return result_of(MM_EINVAL);
	/* The region keeps MM_FLG_US: mprotect changes what the program may do, not whose the
	 * pages are. */
	return result_of(mm_region_protect(space, addr, length, flags & ~MM_FLG_US));
}

static uint64_t sys_fork(mm_space_t space)
{
	int slot = child_slot_take(space);
	if (slot < 0)
		return result_of(MM_ENOMEM);
	mm_space_t child = mm_create_space(NULL);
	int error = child ? mm_space_fork(child, space, MM_FLG_CLONE_USER) : MM_ENOMEM;
	if (error != MM_OK) {
		if (child)
			mm_destroy_space(child);
		arch_irq_state_t irq = spin_lock_irqsave(&children_lock);
		children[slot].parent = NULL;
		spin_unlock_irqrestore(&children_lock, irq);
		return result_of(error);
	}
	arch_irq_state_t irq = spin_lock_irqsave(&children_lock);
	children[slot].child = child;
	spin_unlock_irqrestore(&children_lock, irq);
	return (uint64_t)slot + 1;
}

static uint64_t sys_wait(mm_space_t space, uint64_t handle)
{
	mm_space_t child = child_slot_release(space, handle);
	if (!child)
		return result_of(MM_EINVAL);
	mm_destroy_space(child);
	return 0;
}

static bool syscall_hook(struct x86_trap_frame *frame)
{
	mm_space_t space = x86_user_space();
	if (!space)
		return false;
	/*
	 * The program had interrupts on: they are on again while the memory manager works, as
	 * for its page faults, so that a CPU waiting on this one (a shootdown while this one
	 * waits for a space lock) gets its answer. Off again before SYSRET's path resumes.
	 */
	bool irq = frame->rflags & X86_RFLAGS_IF;
	if (irq)
		x86_sti();
	bool known = true;
	switch (frame->rax) {
	case MMK_SYS_MMAP:
		frame->rax = sys_mmap(space, frame->rdi, frame->rsi, frame->rdx, frame->r10);
		break;
	case MMK_SYS_MUNMAP:
		frame->rax = sys_munmap(space, frame->rdi, frame->rsi);
		break;
	case MMK_SYS_MPROTECT:
		frame->rax = sys_mprotect(space, frame->rdi, frame->rsi, frame->rdx);
		break;
	case MMK_SYS_FORK:
		frame->rax = sys_fork(space);
		break;
	case MMK_SYS_WAIT:
		frame->rax = sys_wait(space, frame->rdi);
		break;
	default:
		known = false;
		break;
	}
	if (irq)
		x86_cli();
	return known;
}

void x86_user_syscalls_init(void)
{
	x86_set_syscall_hook(syscall_hook);
}
