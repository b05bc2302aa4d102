/*
 * mmtest/smp.h on the host: threads play the CPUs (each becomes one on its first call into
 * the memory manager), and accesses go through the calling CPU's software TLB
 * (arch/host/soft_tlb.h), which caches translations until they are flushed, as an MMU does.
 */
#include <mmtest/smp.h>

#include <arch/arch.h>
#include <arch/host/soft_tlb.h>
#include <mm/vmm.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct worker {
	pthread_t thread;
	unsigned index;
	mm_test_cpu_fn fn;
	void *arg;
};

static void *run_worker(void *p)
{
	struct worker *w = p;
	(void)arch_cpu_id(); /* become a CPU before the work starts */
	w->fn(w->index, w->arg);
	return NULL;
}

unsigned mm_test_cpu_count(void)
{
	return arch_cpu_count();
}

void mm_test_on_cpus(unsigned n, mm_test_cpu_fn fn, void *arg)
{
	if (n == 0 || n > mm_test_cpu_count()) {
		fprintf(stderr, "mm_test_on_cpus: %u CPUs asked, %u available\n", n, mm_test_cpu_count());
		abort();
	}
	struct worker workers[ARCH_MAX_CPUS];
	for (unsigned i = 1; i < n; i++) {
		workers[i] = (struct worker){.index = i, .fn = fn, .arg = arg};
		if (pthread_create(&workers[i].thread, NULL, run_worker, &workers[i]) != 0) {
			perror("mm_test_on_cpus: pthread_create");
			abort();
		}
	}
	fn(0, arg);
	for (unsigned i = 1; i < n; i++)
		pthread_join(workers[i].thread, NULL);
}

/*
 * Ring 0 accesses: supervisor, allowed to user pages (the kernel's probe lifts SMAP).
 * The translation and the load or store are one instruction on a real CPU, which takes an
 * IPI before or after it, never in between: with IPIs held off across both, a shootdown
 * cannot complete (and the frame be freed) between the TLB hit and the access.
 */
static bool probe(uintptr_t va, bool write, uint64_t *value)
{
	arch_irq_state_t irq = arch_irq_save();
	uintptr_t phys;
	bool ok = host_mmu_access(va, write, false, &phys);
	if (ok) {
		uint64_t *p = arch_phys_to_virt(phys);
		if (write)
			__atomic_store_n(p, *value, __ATOMIC_RELAXED);
		else
			*value = __atomic_load_n(p, __ATOMIC_RELAXED);
	}
	arch_irq_restore(irq);
	return ok;
}

bool mm_test_probe_read(uintptr_t va, uint64_t *value)
{
	return probe(va, false, value);
}

bool mm_test_probe_write(uintptr_t va, uint64_t value)
{
	return probe(va, true, &value);
}
