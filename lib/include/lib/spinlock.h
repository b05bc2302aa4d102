/*
 * A test-and-test-and-set spinlock for short critical sections, generic over the platform.
 *
 * The _irqsave forms also disable interrupts while the lock is held, so that a lock an IPI
 * handler or interrupt may take cannot deadlock against the CPU that holds it, and so the
 * holder cannot be moved off its CPU. Acquire/release ordering: everything written inside the section is visible to
 * the next holder.
 */
#ifndef LIB_SPINLOCK_H
#define LIB_SPINLOCK_H

#include <stdbool.h>

#include <arch/arch.h>
#include <lib/assert.h>
#include <lib/thread_safety.h>

/*
 * Debug builds (MM_DEBUG) record the holder, so that code can assert it holds the lock its
 * data needs (spin_held), and an unlock by a CPU that does not hold it stops at once.
 */
typedef struct TA_CAPABILITY("spinlock") {
	volatile int locked;
#if MM_DEBUG_ENABLED
	int owner; /* the holding CPU's id + 1; 0 when free */
#endif
} spinlock_t;

#define SPINLOCK_INIT                                                                              \
	{                                                                                              \
		0                                                                                          \
	}

static inline void spin_note_acquired(spinlock_t *lock)
{
#if MM_DEBUG_ENABLED
	lock->owner = (int)arch_cpu_id() + 1;
#else
	(void)lock;
#endif
}

static inline void spin_lock(spinlock_t *lock) TA_ACQUIRE(*lock) TA_NO_ANALYSIS
{
	while (__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&lock->locked, __ATOMIC_RELAXED))
			arch_cpu_relax();
	}
	spin_note_acquired(lock);
}

static inline bool spin_trylock(spinlock_t *lock) TA_TRY_ACQUIRE(true, *lock) TA_NO_ANALYSIS
{
	bool taken = !__atomic_load_n(&lock->locked, __ATOMIC_RELAXED) &&
	             !__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE);
	if (taken)
		spin_note_acquired(lock);
	return taken;
}

static inline void spin_unlock(spinlock_t *lock) TA_RELEASE(*lock) TA_NO_ANALYSIS
{
#if MM_DEBUG_ENABLED
	MM_CHECK(lock->owner == (int)arch_cpu_id() + 1);
	lock->owner = 0;
#endif
	__atomic_store_n(&lock->locked, 0, __ATOMIC_RELEASE);
}

static inline bool spin_is_locked(const spinlock_t *lock)
{
	return __atomic_load_n(&lock->locked, __ATOMIC_RELAXED) != 0;
}

/* For assertions: the calling CPU holds lock (debug builds); release builds can only say
 * that somebody does. */
static inline bool spin_held(const spinlock_t *lock)
{
#if MM_DEBUG_ENABLED
	return spin_is_locked(lock) && lock->owner == (int)arch_cpu_id() + 1;
#else
	return spin_is_locked(lock);
#endif
}

/*
 * While waiting, interrupts are taken if the caller had them on: the holder may be waiting
 * for this CPU to answer an IPI (a TLB shootdown under a space's lock), and a waiter that
 * never answered would deadlock with it. A caller that had them off (per-CPU cache paths)
 * spins with them off, and so must never wait for a lock whose holder makes cross-CPU calls.
 */
static inline arch_irq_state_t spin_lock_irqsave(spinlock_t *lock) TA_ACQUIRE(*lock) TA_NO_ANALYSIS
{
	arch_irq_state_t state = arch_irq_save();
	while (!spin_trylock(lock)) {
		arch_irq_restore(state);
		while (spin_is_locked(lock))
			arch_cpu_relax();
		state = arch_irq_save();
	}
	return state;
}

static inline void spin_unlock_irqrestore(spinlock_t *lock, arch_irq_state_t state)
    TA_RELEASE(*lock) TA_NO_ANALYSIS
{
	spin_unlock(lock);
	arch_irq_restore(state);
}

#endif /* LIB_SPINLOCK_H */
