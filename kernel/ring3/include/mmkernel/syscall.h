/*
 * The kernel's system calls, as a ring-3 program sees them: the numbers, the flags, what each
 * call returns. Shared by the kernel (kernel/ring3/syscalls.c) and the programs it runs
 * (kernel/ring3/ulib/); freestanding, no other header needed.
 *
 * The instruction is `syscall`: the number in RAX, the arguments in RDI, RSI, RDX, R10, R8
 * (Linux's order), the result in RAX; RCX and R11 are clobbered, every other register kept.
 * A result in [-4095, -1] is an error: the negated value is one of the memory manager's
 * errors (mm/types.h; the MMK_E* below name those the calls give), and no address a call returns is in that range.
 *
 * Every call acts on the address space the program runs in, through the memory manager's
 * public API, and validates its arguments as that API does: a refused call changes nothing.
 */
#ifndef MMKERNEL_SYSCALL_H
#define MMKERNEL_SYSCALL_H

/* ---- Numbers -------------------------------------------------------------------------------- */

/* exit(value): ends the program; the runner gets value. Does not return. */
#define MMK_SYS_EXIT 0
/* null(value): returns value and does nothing else: one round trip through the kernel. */
#define MMK_SYS_NULL 1
/*
 * mmap(addr, length, prot, flags): anonymous private zero-filled memory, length bytes
 * rounded up to pages. addr is a hint (0: anywhere), or with MMK_MAP_FIXED the address
 * required, which must be free: a mapping is never replaced. MMK_MAP_POPULATE maps every
 * page now (each its own zeroed frame) instead of on first access. Returns the address.
 * Errors: EINVAL (length 0, unaligned fixed address, range wrapping or leaving the user
 * half, unknown prot or flag), EPERM (write with exec), EEXIST (fixed over a mapping),
 * ENOMEM.
 */
#define MMK_SYS_MMAP 2
/*
 * munmap(addr, length): removes the one mapping that starts at addr and is length bytes
 * long (rounded up to pages), as one mmap made it: a mapping is never cut in part, nor two
 * removed by one call. Its TLB entries on every CPU running the space are gone when the call
 * returns. Errors: EINVAL (unaligned, length 0 or not that mapping's), ENOENT (no mapping
 * at addr).
 */
#define MMK_SYS_MUNMAP 3
/*
 * mprotect(addr, length, prot): the permissions of every page of [addr, addr + length),
 * which mappings must cover without a gap; mappings are split at the ends. Errors: EINVAL
 * (unaligned, length 0, wrapping, unknown prot), EPERM (write with exec), ENOENT (a page
 * without a mapping), ENOMEM or ESIZE (a large page an end cuts cannot be split).
 */
#define MMK_SYS_MPROTECT 4
/*
 * fork(): a copy of the calling program's address space (its user half, copy-on-write),
 * which is not run: the parent side of a fork. Returns a handle (> 0) for wait. A program
 * holds at most MMK_MAX_CHILDREN at once (ENOMEM beyond, and when memory runs out).
 */
#define MMK_SYS_FORK 5
/* wait(handle): destroys the child fork made, its frames freed. Errors: EINVAL (not a
 * handle of this program's, or one already waited for). */
#define MMK_SYS_WAIT 6

#define MMK_MAX_CHILDREN 16

/* ---- mmap and mprotect -------------------------------------------------------------------- */

/* prot: Linux's values. Read is implied (x86 pages are readable when present), so READ may
 * be given or not; exec with write is refused (W^X). */
#define MMK_PROT_READ 0x1u
#define MMK_PROT_WRITE 0x2u
#define MMK_PROT_EXEC 0x4u

/* mmap flags. */
#define MMK_MAP_FIXED 0x1u    /* addr is required (Linux's MAP_FIXED_NOREPLACE) */
#define MMK_MAP_POPULATE 0x2u /* every page mapped now */

/* ---- Errors (negated in the result) ------------------------------------------------------- */

#define MMK_EINVAL 1
#define MMK_ENOMEM 2
#define MMK_EEXIST 3
#define MMK_ENOENT 4
#define MMK_EPERM 5
#define MMK_EFAULT 6
#define MMK_ESIZE 8 /* mprotect: a large page an end cuts cannot be split */

/* Whether a result is an error. */
#define MMK_IS_ERROR(result) ((unsigned long)(result) > (unsigned long)-4096)

#endif /* MMKERNEL_SYSCALL_H */
