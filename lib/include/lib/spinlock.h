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

typedef struct {
	volatile int locked;
} spinlock_t;

#define SPINLOCK_INIT {0}

static inline void spin_lock(spinlock_t *lock)
{
	while (__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&lock->locked, __ATOMIC_RELAXED))
			arch_cpu_relax();
	}
}

static inline bool spin_trylock(spinlock_t *lock)
{
	return !__atomic_load_n(&lock->locked, __ATOMIC_RELAXED) &&
	       !__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE);
}

static inline void spin_unlock(spinlock_t *lock)
{
	__atomic_store_n(&lock->locked, 0, __ATOMIC_RELEASE);
}

static inline bool spin_is_locked(const spinlock_t *lock)
{
	return __atomic_load_n(&lock->locked, __ATOMIC_RELAXED) != 0;
}

/*
 * While waiting, interrupts are taken if the caller had them on: the holder may be waiting
 * for this CPU to answer an IPI (a TLB shootdown under a space's lock), and a waiter that
 * never answered would deadlock with it. A caller that had them off (per-CPU cache paths)
 * spins with them off, and so must never wait for a lock whose holder makes cross-CPU calls.
 */
static inline arch_irq_state_t spin_lock_irqsave(spinlock_t *lock)
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
{
	spin_unlock(lock);
	arch_irq_restore(state);
}

#endif /* LIB_SPINLOCK_H */
