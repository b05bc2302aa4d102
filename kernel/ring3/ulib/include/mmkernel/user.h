/*
 * What a ring-3 program calls to reach the kernel: the system calls of mmkernel/syscall.h
 * as inline functions around the `syscall` instruction, and the entry it must define.
 */
#ifndef MMKERNEL_USER_H
#define MMKERNEL_USER_H

#include <stdint.h>

#include <mmkernel/syscall.h>

/* The program's main: gets the runner's argument (RDI at entry); returns the exit value. */
uint64_t mmk_main(uint64_t arg);

static inline uint64_t mmk_syscall4(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t r10 __asm__("r10") = a3;
	uint64_t result;
	__asm__ volatile("syscall"
	                 : "=a"(result)
	                 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10)
	                 : "rcx", "r11", "memory");
	return result;
}

static inline _Noreturn void mmk_exit(uint64_t value)
{
	mmk_syscall4(MMK_SYS_EXIT, value, 0, 0, 0);
	__builtin_unreachable();
}

static inline uint64_t mmk_null(uint64_t value)
{
	return mmk_syscall4(MMK_SYS_NULL, value, 0, 0, 0);
}

static inline uint64_t mmk_mmap(uint64_t addr, uint64_t length, uint64_t prot, uint64_t flags)
{
	return mmk_syscall4(MMK_SYS_MMAP, addr, length, prot, flags);
}

static inline uint64_t mmk_munmap(uint64_t addr, uint64_t length)
{
	return mmk_syscall4(MMK_SYS_MUNMAP, addr, length, 0, 0);
}

static inline uint64_t mmk_mprotect(uint64_t addr, uint64_t length, uint64_t prot)
{
	return mmk_syscall4(MMK_SYS_MPROTECT, addr, length, prot, 0);
}

static inline uint64_t mmk_fork(void)
{
	return mmk_syscall4(MMK_SYS_FORK, 0, 0, 0, 0);
}

static inline uint64_t mmk_wait(uint64_t handle)
{
	return mmk_syscall4(MMK_SYS_WAIT, handle, 0, 0, 0);
}

#endif /* MMKERNEL_USER_H */
