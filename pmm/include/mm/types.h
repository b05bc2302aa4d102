/*
 * Types, constants, flags and error codes shared by every public mm_ header.
 * Includable from C and C++.
 */
#ifndef MM_TYPES_H
#define MM_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include <arch/arch.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MM_PAGE_SHIFT 12
#define MM_PAGE_SIZE ((uintptr_t)1 << MM_PAGE_SHIFT) /* 4 KiB */
#define MM_LARGE_PAGE_SIZE ((uintptr_t)1 << 21)      /* 2 MiB: MM_FLG_PS */
#define MM_HUGE_PAGE_SIZE ((uintptr_t)1 << 30)       /* 1 GiB: MM_FLG_PS1G */

/* The failure value of every call that returns an address. */
#define MM_NADDR ((uintptr_t)-1)

/* ---- Virtual memory layout (x86_64, 4-level paging) --------------------------------- */

/* User space: [MM_USER_BASE, MM_USER_END). Page 0 is never mapped. */
#define MM_USER_BASE ((uintptr_t)0x1000)
#define MM_USER_END ((uintptr_t)0x0000800000000000ull)
/* The hardware window (the "hardware space"): device mappings only. */
#define MM_HW_BASE ((uintptr_t)0xFFFF800000000000ull)
#define MM_HW_END ((uintptr_t)0xFFFFFF0000000000ull)
/* The kernel half (the user/kernel boundary), shared by every space. */
#define MM_KERNEL_BASE ((uintptr_t)0xFFFFFF0000000000ull)
/* The direct map of physical memory: 512 GiB from MM_KERNEL_BASE. */
#define MM_DIRECT_MAP_BASE MM_KERNEL_BASE
#define MM_DIRECT_MAP_END ((uintptr_t)0xFFFFFF8000000000ull)
/* Kernel mappings made through the mm_ API (heap, vmalloc area). */
#define MM_KERNEL_MAP_BASE MM_DIRECT_MAP_END
#define MM_KERNEL_MAP_END ((uintptr_t)0xFFFFFFFF80000000ull)
/* The kernel image (-mcmodel=kernel): the top 2 GiB. */
#define MM_KERNEL_IMAGE_BASE MM_KERNEL_MAP_END

/* Physical <-> direct-map virtual. No bounds check: the caller knows phys is RAM. */
#define MM_VIRTUALIZE(phys) arch_phys_to_virt((uintptr_t)(phys))
#define MM_PHYS(virt) arch_virt_to_phys((const void *)(virt))

/* ---- Flags --------------------------------------------------------------------------
 * One flag space for every call; each call documents which flags it accepts and refuses
 * the others with MM_EINVAL.
 */
#define MM_FLG_WR (1u << 0)   /* writable */
#define MM_FLG_US (1u << 1)   /* reachable from user mode */
#define MM_FLG_EXEC (1u << 2) /* executable; no-execute is the default */
#define MM_FLG_DMA (1u << 3)  /* device / DMA memory: uncached */
#define MM_FLG_PS (1u << 4)   /* alternate page size: 2 MiB */
/* 1 GiB pages. With MM_FLG_PS beside it, still 1 GiB: the queries report both for a 1 GiB
 * page (MM_FLG_PS there means "not 4 KiB"), and what they report may be passed back. */
#define MM_FLG_PS1G (1u << 5)
/* unmap: keep the frames (the mapping's reference passes to the caller) */
#define MM_FLG_NOPHYS (1u << 6)
#define MM_FLG_REPLACE (1u << 12) /* map: replace what is mapped in the range instead of refusing */
#define MM_FLG_NODE_STRICT (1u << 7) /* mm_phys_alloc: the node asked for, no fallback */
#define MM_FLG_CLONE_KERNEL (1u << 8)
#define MM_FLG_CLONE_USER (1u << 9)
#define MM_FLG_CLONE_HW (1u << 10)
#define MM_FLG_ZERO (1u << 11) /* mm_phys_alloc: zeroed pages */
/* mm_space_fork: copy every leaf table now instead of sharing those of private memory until
 * either space changes them (on-demand fork, the default). mm_space_clone accepts it. */
#define MM_FLG_CLONE_EAGER (1u << 13)

/* The names mm_map_single and mm_map_get use for the permission bits. */
#define MM_PAGE_USER MM_FLG_US
#define MM_PAGE_WRITE MM_FLG_WR
#define MM_PAGE_EXEC MM_FLG_EXEC

/* ---- Errors -------------------------------------------------------------------------
 * Calls that return int return 0 or one of these (negative). Calls that return an address
 * return MM_NADDR and leave the reason in mm_last_error().
 */
enum mm_error {
	MM_OK = 0,
	MM_EINVAL = -1, /* a bad argument: NULL, unaligned, wrapping, unknown flag, empty */
	MM_ENOMEM = -2, /* no memory left for frames or page tables */
	MM_EEXIST = -3, /* part of the range is already mapped */
	MM_ENOENT = -4, /* nothing is mapped there */
	/* the range lies where this call may not map (wrong half, hardware space, direct map) */
	MM_EPERM = -5,
	MM_EFAULT = -6,    /* a user address is not mapped or not user space */
	MM_ENOTALLOC = -7, /* the frame is not allocated (double free) or is not RAM */
	MM_ESIZE = -8      /* the mapping there has another page size than asked */
};

/* post: the error of the calling CPU's last failed call. */
int mm_last_error(void);

/* post: a short English name for an error code ("MM_EINVAL: bad argument"). */
const char *mm_strerror(int error);

#ifdef __cplusplus
}
#endif

#endif /* MM_TYPES_H */
