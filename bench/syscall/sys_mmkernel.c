/*
 * The system-call workloads as a ring-3 program for our kernel: the shim of
 * mmbench/sys_workloads.h over mmkernel/user.h, and the program's main. The runner
 * (bench/kernel/syscall_kbench.c) passes a struct mmb_sys_run in its argument pages; of kind
 * MMB_SYS_KEEP_CPU, the same program keeps a second CPU in the space until told to stop.
 */
#include <mmbench/sys_workloads.h>
#include <mmkernel/user.h>

void mmb_sys_null(void)
{
	mmk_null(0);
}

void *mmb_sys_mmap(size_t bytes, bool populate)
{
	uint64_t addr =
	    mmk_mmap(0, bytes, MMK_PROT_READ | MMK_PROT_WRITE, populate ? MMK_MAP_POPULATE : 0);
	return MMK_IS_ERROR(addr) ? NULL : (void *)addr;
}

int mmb_sys_munmap(void *addr, size_t bytes)
{
	return MMK_IS_ERROR(mmk_munmap((uint64_t)addr, bytes)) ? -1 : 0;
}

int mmb_sys_mprotect(void *addr, size_t bytes, bool writable)
{
	uint64_t prot = MMK_PROT_READ | (writable ? MMK_PROT_WRITE : 0);
	return MMK_IS_ERROR(mmk_mprotect((uint64_t)addr, bytes, prot)) ? -1 : 0;
}

long mmb_sys_fork(void)
{
	uint64_t handle = mmk_fork();
	return MMK_IS_ERROR(handle) ? -1 : (long)handle;
}

int mmb_sys_wait(long handle)
{
	return MMK_IS_ERROR(mmk_wait((uint64_t)handle)) ? -1 : 0;
}

/* Keeps this CPU in the space, in ring 3, until the runner sets stop: each shootdown the
 * other CPU's munmap sends lands here, as on a CPU running a thread of the program. */
static void spin(volatile struct mmb_sys_run *run)
{
	run->spinning = 1;
	while (!run->stop)
		__builtin_ia32_pause();
}

/* arg: the run. Exit value 0 when the workload finished, 1 when it failed (run->error). */
uint64_t mmk_main(uint64_t arg)
{
	struct mmb_sys_run *run = (struct mmb_sys_run *)arg;
	if (run->kind == MMB_SYS_KEEP_CPU) {
		spin(run);
		return 0;
	}
	return mmb_sys_run(run) == 0 ? 0 : 1;
}
