/*
 * The platform contract: everything the generic memory manager (pmm/, vmm/) needs from the
 * machine under it, and nothing more.
 *
 * Two backends implement it: arch/x86_64/kernel (the real CPU, ring 0) and arch/host (a
 * simulated machine inside a Linux process: an mmap'ed arena is physical memory, registered
 * threads are CPUs, signals are IPIs). GN links exactly one of them; generic code includes
 * this header and never asks which one it got.
 *
 * The backend also provides <arch/backend.h> (found through the include path) with the
 * calls that must be inline to be fast: arch_phys_to_virt(), arch_virt_to_phys(),
 * arch_cpu_id(), arch_cpu_relax() and the ARCH_MAX_CPUS / ARCH_MAX_NODES limits.
 *
 * Each call lists its preconditions (pre) and what holds after it returns (post).
 */
#ifndef ARCH_ARCH_H
#define ARCH_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Direct map (inline, in <arch/backend.h>) -----------------------------------------
 *
 * void *arch_phys_to_virt(uintptr_t phys)
 *   pre:  phys lies in memory handed to the frame allocator (or its frame table).
 *   post: returns the kernel-virtual address at which phys is readable and writable.
 * uintptr_t arch_virt_to_phys(const void *virt)
 *   pre:  virt was returned by arch_phys_to_virt (plus an offset inside the same memory).
 *   post: the inverse of arch_phys_to_virt.
 *
 * ---- CPUs (inline, in <arch/backend.h>) -----------------------------------------------
 *
 * unsigned arch_cpu_id(void)
 *   pre:  the caller runs on a registered CPU with preemption or interrupts held off
 *         whenever the answer must stay true (per-CPU data).
 *   post: a dense index in [0, arch_cpu_count()).
 * void arch_cpu_relax(void)
 *   post: a spin-wait hint (PAUSE); no memory-ordering effect.
 *
 * ---- Interrupts (inline, in <arch/backend.h>) ---------------------------------------
 *
 * arch_irq_state_t arch_irq_save(void)
 *   post: interrupts (on the host: the signal that plays IPIs) are off on the calling CPU;
 *         returns the previous state. While off, the caller cannot migrate to another CPU,
 *         so per-CPU data is safe to touch without atomics.
 * void arch_irq_restore(arch_irq_state_t state)
 *   pre:  state came from arch_irq_save on this CPU (nesting works by save and restore).
 *   post: the state is back; an IPI that arrived meanwhile is taken now if it is on.
 * Inline because the per-CPU fast paths of the frame allocator pay for them on every call.
 */
typedef unsigned long arch_irq_state_t;

#include <arch/backend.h>

/* post: the number of CPUs that may call into the memory manager, <= ARCH_MAX_CPUS. */
unsigned arch_cpu_count(void);

/* post: true while `cpu` takes IPIs (kernel: started; host: a thread plays it). */
bool arch_cpu_online(unsigned cpu);

/* pre: cpu < arch_cpu_count(). post: the NUMA node of that CPU, < arch_node_count(). */
unsigned arch_cpu_node(unsigned cpu);

/* post: the number of NUMA nodes, 1 <= n <= ARCH_MAX_NODES. */
unsigned arch_node_count(void);

/* pre: a, b < arch_node_count(). post: the ACPI SLIT-style relative distance from node a to
 * node b: 10 for a == b, larger for farther nodes (20 where the platform says nothing). */
unsigned arch_node_distance(unsigned a, unsigned b);

/* ---- TLB (local CPU only) ------------------------------------------------------------
 *
 * Each call affects only the calling CPU's TLB; remote CPUs are reached through
 * arch_ipi_send(). All three are full barriers for the page-table stores before them:
 * pre:  the page-table entries concerned are already written.
 * post: no translation of the named scope cached before the call can be used after it.
 */
void arch_tlb_flush_page(uintptr_t va);  /* one page, in the current PCID */
void arch_tlb_flush_pcid(uint16_t pcid); /* every non-global entry tagged with pcid */
void arch_tlb_flush_all(void);           /* everything, global entries included */

/* True when the CPU tags TLB entries with PCIDs (CR4.PCIDE on). When false, pcid arguments
 * are ignored and arch_space_load() always flushes non-global entries. */
bool arch_has_pcid(void);

/* ---- Address spaces ------------------------------------------------------------------
 *
 * pre:  root_phys is the physical address of a 4 KiB-aligned PML4 whose kernel half
 *       matches every other space's; pcid < 4096.
 * post: the calling CPU translates through root_phys. With keep_tlb and PCID support, the
 *       entries already tagged pcid stay valid (CR3 bit 63); otherwise they are dropped.
 */
void arch_space_load(uintptr_t root_phys, uint16_t pcid, bool keep_tlb);

/* post: the physical address of the PML4 the calling CPU translates through. */
uintptr_t arch_space_current(void);

/* ---- Inter-processor interrupts ------------------------------------------------------
 *
 * pre:  every cpu in the mask is < arch_cpu_count() and is not the caller.
 * post: each target will run mm_ipi_handler(vector) (declared below) with interrupts
 *       disabled, soon and exactly once per delivery; the send does not wait for it.
 */
enum arch_ipi_vector {
	ARCH_IPI_TLB = 0, /* run the pending TLB shootdown work */
	ARCH_IPI_CALL = 1 /* run a cross-CPU call */
};
typedef struct {
	uint64_t bits[(ARCH_MAX_CPUS + 63) / 64];
} arch_cpumask_t;
void arch_ipi_send(const arch_cpumask_t *targets, enum arch_ipi_vector vector);

/* Implemented by the generic code; the backend calls it from its IPI entry. */
void mm_ipi_handler(enum arch_ipi_vector vector);

/* Implemented by the generic code; called on a CPU that has just started (by the kernel's
 * start-up hook on an application processor, by the host backend on a thread that became a
 * CPU), with interrupts off, after it takes IPIs and before any other memory-manager call.
 * post: the CPU runs the kernel space, with an empty TLB as far as the generic code knows. */
void mm_cpu_online(void);

/* Implemented by the generic code; the backend calls it on a CPU that is about to stop
 * taking IPIs for good (a host thread that exits). post: no shootdown waits for it. */
void mm_cpu_offline(void);

/* ---- Memory fill ---------------------------------------------------------------------
 *
 * pre:  va is 64-byte aligned and writable, bytes is a multiple of 64.
 * post: [va, va + bytes) reads as zero. The backend picks the fastest method the CPU has.
 */
void arch_zero(void *va, size_t bytes);

/* ---- Time ----------------------------------------------------------------------------
 *
 * post: a monotonic cycle counter (TSC), and its frequency in Hz (0 if unknown).
 */
uint64_t arch_cycles(void);
uint64_t arch_cycles_per_second(void);

/* ---- Console -------------------------------------------------------------------------
 *
 * post: the len bytes at s are written to the console (serial port, or stdout) in order;
 *       safe from any CPU, lines from different CPUs may interleave.
 */
void arch_print(const char *s, size_t len);

/* pre: the system cannot go on. post: does not return (kernel: prints and halts or exits
 * QEMU with a failure status; host: abort()). */
_Noreturn void arch_panic(const char *why);

#ifdef __cplusplus
}
#endif

#endif /* ARCH_ARCH_H */
