/*
 * Running a function on other CPUs: the one cross-CPU mechanism, used by TLB shootdowns and
 * by draining per-CPU caches under memory pressure.
 *
 * Protocol (one call in flight at a time, under the call lock):
 *   1. smp_call_start() snapshots nothing itself: the caller passes the targets. It writes
 *      the request, sets each online target's mailbox and the acknowledgement count, then
 *      sends one IPI round;
 *   2. the caller does its own share of the work while the targets run theirs;
 *   3. each target runs fn(arg) with interrupts off, clears its mailbox and decrements the
 *      count (release);
 *   4. smp_call_finish() waits for the count to reach zero (acquire) and releases the lock.
 * A CPU waiting for the call lock, or for anything inside a call, keeps serving its own
 * mailbox, so CPUs that call each other with interrupts off cannot deadlock.
 */
#ifndef LIB_SMP_CALL_H
#define LIB_SMP_CALL_H

#include <arch/arch.h>

typedef void (*smp_call_fn)(void *arg);

/* pre: interrupts off on the caller (arch_irq_save); no spinlock held that fn or another
 * caller's fn may take. post: every target in `targets` other than the caller that is
 * online has been asked to run fn(arg). */
void smp_call_start(const arch_cpumask_t *targets, smp_call_fn fn, void *arg);

/* post: every CPU asked by smp_call_start has run fn; the call lock is free again. */
void smp_call_finish(void);

/* Runs fn on every other online CPU, then on the caller; returns when all are done.
 * pre: as smp_call_start. */
void smp_call_all(smp_call_fn fn, void *arg);

/* Runs this CPU's pending request, if any (the IPI entry, and every wait loop). */
void smp_call_serve(void);

/* Waits until no call in flight counts on this CPU, serving it meanwhile. For a CPU going
 * offline, after it has left every set that call targets are taken from. */
void smp_call_quiesce(void);

#endif /* LIB_SMP_CALL_H */
