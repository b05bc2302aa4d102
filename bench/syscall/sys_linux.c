/*
 * The shim of mmbench/sys_workloads.h for Linux: each call is the system call itself,
 * issued with the `syscall` instruction (no C library wrapper in the timed path), as our
 * kernel's programs issue theirs. Linked into the Linux benchmark program (bench/linux/).
 */
#include <mmbench/sys_workloads.h>

#include <sys/mman.h>
#include <sys/syscall.h>

static inline long raw_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;
	register long r9 __asm__("r9") = a5;
	long result;
	__asm__ volatile("syscall"
	                 : "=a"(result)
	                 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
	                 : "rcx", "r11", "memory");
	return result;
}

static inline bool failed(long result)
{
	return (unsigned long)result > (unsigned long)-4096;
}

/* getppid: the customary null call (lmbench's), nothing but the entry and exit. */
void mmb_sys_null(void)
{
	raw_syscall(SYS_getppid, 0, 0, 0, 0, 0, 0);
}

void *mmb_sys_mmap(size_t bytes, bool populate)
{
	long flags = MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0);
	long addr = raw_syscall(SYS_mmap, 0, (long)bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
	return failed(addr) ? NULL : (void *)addr;
}

int mmb_sys_munmap(void *addr, size_t bytes)
{
	return failed(raw_syscall(SYS_munmap, (long)addr, (long)bytes, 0, 0, 0, 0)) ? -1 : 0;
}

int mmb_sys_mprotect(void *addr, size_t bytes, bool writable)
{
	long prot = PROT_READ | (writable ? PROT_WRITE : 0);
	return failed(raw_syscall(SYS_mprotect, (long)addr, (long)bytes, prot, 0, 0, 0)) ? -1 : 0;
}

/* The child leaves at once, through exit_group: nothing of the C library runs in it. */
long mmb_sys_fork(void)
{
	long pid = raw_syscall(SYS_fork, 0, 0, 0, 0, 0, 0);
	if (pid == 0)
		for (;;)
			raw_syscall(SYS_exit_group, 0, 0, 0, 0, 0, 0);
	return failed(pid) ? -1 : pid;
}

int mmb_sys_wait(long handle)
{
	return raw_syscall(SYS_wait4, handle, 0, 0, 0, 0, 0) == handle ? 0 : -1;
}
