/* Cross-CPU function calls over the platform's IPIs (see lib/smp_call.h for the protocol). */
#include <lib/smp_call.h>

#include <lib/cpumask.h>
#include <lib/spinlock.h>

static spinlock_t call_lock = SPINLOCK_INIT;
static struct {
	smp_call_fn fn;
	void *arg;
} request;
static uint32_t mailbox[ARCH_MAX_CPUS];
static uint32_t acks_pending;

void smp_call_serve(void)
{
	unsigned cpu = arch_cpu_id();
	/* Wait loops call this on every spin: a plain read first, so an empty mailbox costs no
	 * locked write to a line other CPUs' mailboxes share. Then taken, not just read: an
	 * IPI that lands while this CPU serves the call from a wait loop must find the mailbox
	 * empty, or the call would run (and be acknowledged) twice. The initiator cannot post
	 * another call before this one's acknowledgement below. */
	if (!__atomic_load_n(&mailbox[cpu], __ATOMIC_RELAXED) ||
	    !__atomic_exchange_n(&mailbox[cpu], 0, __ATOMIC_ACQUIRE))
		return;
	request.fn(request.arg);
	__atomic_sub_fetch(&acks_pending, 1, __ATOMIC_RELEASE);
}

void mm_ipi_handler(enum arch_ipi_vector vector)
{
	(void)vector; /* every vector carries a call: the mailbox says what to run */
	smp_call_serve();
}

static void lock_call(void) TA_ACQUIRE(call_lock)
{
	while (!spin_trylock(&call_lock)) {
		smp_call_serve();
		arch_cpu_relax();
	}
}

/* The call lock is held from here to smp_call_finish: one call in flight at a time. */
void smp_call_start(const arch_cpumask_t *targets, smp_call_fn fn, void *arg) TA_ACQUIRE(call_lock)
{
	lock_call();
	unsigned self = arch_cpu_id();
	arch_cpumask_t sent = {{0}};
	unsigned count = 0;
	request.fn = fn;
	request.arg = arg;
	/* Only the set bits are visited: a one-page shootdown with no other CPU in the space
	 * costs a few instructions here, not a walk over every possible CPU. */
	for (unsigned w = 0; w < CPUMASK_WORDS; w++) {
		uint64_t bits = __atomic_load_n(&targets->bits[w], __ATOMIC_RELAXED);
		while (bits) {
			unsigned cpu = w * 64 + (unsigned)__builtin_ctzll(bits);
			bits &= bits - 1;
			if (cpu == self || !arch_cpu_online(cpu))
				continue;
			sent.bits[w] |= 1ull << (cpu % 64);
			count++;
		}
	}
	/*
	 * The count before any mailbox: a target that polls its mailbox (waiting for the call
	 * lock, or taking a late IPI) may serve the call as soon as its mailbox is set, and its
	 * acknowledgement must not be overwritten by the count. Each mailbox store releases the
	 * request and the count to the target's acquire; the IPIs go last.
	 */
	__atomic_store_n(&acks_pending, count, __ATOMIC_RELAXED);
	for (unsigned w = 0; w < CPUMASK_WORDS; w++)
		for (uint64_t bits = sent.bits[w]; bits; bits &= bits - 1)
			__atomic_store_n(&mailbox[w * 64 + (unsigned)__builtin_ctzll(bits)], 1,
			                 __ATOMIC_RELEASE);
	if (count)
		arch_ipi_send(&sent, ARCH_IPI_CALL);
}

void smp_call_finish(void) TA_RELEASE(call_lock)
{
	while (__atomic_load_n(&acks_pending, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
	spin_unlock(&call_lock);
}

void smp_call_all(smp_call_fn fn, void *arg)
{
	arch_cpumask_t all;
	for (unsigned w = 0; w < CPUMASK_WORDS; w++)
		all.bits[w] = ~0ull;
	smp_call_start(&all, fn, arg);
	fn(arg);
	smp_call_finish();
}

void smp_call_quiesce(void)
{
	lock_call();
	spin_unlock(&call_lock);
}
