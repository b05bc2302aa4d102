/* State shared between the host backend's files. */
#ifndef ARCH_HOST_INTERNAL_H
#define ARCH_HOST_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <arch/arch.h>

#include "soft_tlb_internal.h"

/* The signal that plays an IPI. */
#define HOST_IPI_SIGNAL SIGUSR1

/* One simulated CPU. Written by its own thread, except pending_ipis (any sender).
 * cr3 is 0 while no space is loaded (a thread has just taken the CPU); pcid is 0 while the
 * CPU has PCID off (tlb.pcide false). */
struct host_cpu {
	pthread_t thread;
	int online;
	uint32_t pending_ipis; /* bit per enum arch_ipi_vector, set by senders */
	uintptr_t cr3;         /* the root this CPU translates through */
	uint16_t pcid;         /* the current PCID (CR3 bits 11:0) */
	uint64_t flush_page, flush_pcid, flush_all, space_loads, ipis_sent, ipis_handled;
	struct soft_tlb tlb; /* soft_tlb.c, mmu.c */
} __attribute__((aligned(64)));

extern struct host_cpu host_cpus[ARCH_MAX_CPUS];


/* Writes a printf-style sentence into err (when err is not NULL). */
void host_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets every distance of t: 10 on the diagonal, `remote` elsewhere. */
struct host_topology;
void host_topology_default_distances(struct host_topology *t, unsigned remote);

/* Called by a thread that has just become CPU `cpu`: pins it to its PU when the machine is
 * bound to the real one. */
void host_machine_cpu_online(unsigned cpu);

#endif /* ARCH_HOST_INTERNAL_H */
