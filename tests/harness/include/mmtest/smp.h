/*
 * Running a test on several CPUs at once, and touching memory the way a CPU does.
 *
 * The same test sources use these on the host (threads play CPUs, the software TLB plays
 * the MMU: arch/host/soft_tlb.h) and in the kernel (the application processors run the
 * work, loads and stores go through the real MMU). GN links the implementation that fits
 * the build (tests/harness/smp_host.c or smp_kernel.c).
 */
#ifndef MMTEST_SMP_H
#define MMTEST_SMP_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* post: how many CPUs mm_test_on_cpus can use at once, the caller's included (>= 1). */
unsigned mm_test_cpu_count(void);

typedef void (*mm_test_cpu_fn)(unsigned index, void *arg);

/*
 * Runs fn(i, arg) for every i in [0, n), each on a different CPU, all at the same time:
 * index 0 on the calling CPU, the others on CPUs that were idle. Returns when every one has
 * returned. The functions run with interrupts enabled, so they take shootdown IPIs.
 * pre: 1 <= n <= mm_test_cpu_count(); fn leaves the CPU in the kernel space (mm_set) when
 *      it switched to another.
 */
void mm_test_on_cpus(unsigned n, mm_test_cpu_fn fn, void *arg);

/*
 * One 8-byte load or store at va through this CPU's MMU, in the space this CPU has loaded
 * (mm_set), with the CPU's TLB: what a program running here would see. A translation that
 * is missing or forbids the access returns false (the access would fault; nothing calls
 * mm_fault). pre: va is 8-byte aligned.
 */
bool mm_test_probe_read(uintptr_t va, uint64_t *value);
bool mm_test_probe_write(uintptr_t va, uint64_t value);

#ifdef __cplusplus
}
#endif

#endif /* MMTEST_SMP_H */
