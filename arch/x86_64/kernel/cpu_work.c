/* The runner: one work slot per CPU, handed out to idle APs, and the APs' idle loop. */
#include <arch/x86_64/smp.h>

#include <arch/arch.h>
#include <arch/x86_64/apic.h>
#include <arch/x86_64/cpu.h>
#include <arch/x86_64/percpu.h>
#include <arch/x86_64/trap.h>
#include <arch/x86_64/tsc.h>
#include <lib/print.h>

#define WAIT_LIMIT_US 60000000ull /* a minute: far beyond any test's work */

/*
 * A slot's life: OFFLINE (the BSP, CPUs not started) or IDLE; x86_cpu_run takes an IDLE
 * slot with a compare-and-swap (CLAIMED: only that caller writes fn and arg), then makes
 * it READY (release: fn and arg are visible with it); the AP sees READY (acquire), sets
 * RUNNING, runs the work and sets IDLE (release: what the work wrote is visible to the
 * waiter that sees IDLE).
 */
enum slot_state { SLOT_OFFLINE, SLOT_IDLE, SLOT_CLAIMED, SLOT_READY, SLOT_RUNNING };

struct work_slot {
	uint32_t state;
	void (*fn)(void *);
	void *arg;
} __attribute__((aligned(64)));

static struct work_slot slots[ARCH_MAX_CPUS];

static void wake_entry(struct x86_trap_frame *frame)
{
	/* Nothing to do but end the hlt: the idle loop looks at its slot. */
	x86_apic_eoi();
}

void x86_cpu_work_init(void)
{
	x86_set_irq_handler(X86_VEC_WAKE, wake_entry);
}

void x86_cpu_work_ap_ready(void)
{
	__atomic_store_n(&slots[arch_cpu_id()].state, SLOT_IDLE, __ATOMIC_RELEASE);
}

bool x86_cpu_run(unsigned cpu, void (*fn)(void *), void *arg)
{
	if (cpu >= arch_cpu_count())
		return false;
	struct work_slot *s = &slots[cpu];
	uint32_t idle = SLOT_IDLE;
	if (!__atomic_compare_exchange_n(&s->state, &idle, SLOT_CLAIMED, false, __ATOMIC_ACQUIRE,
	                                 __ATOMIC_RELAXED))
		return false;
	s->fn = fn;
	s->arg = arg;
	__atomic_store_n(&s->state, SLOT_READY, __ATOMIC_RELEASE);
	/* The AP may be in hlt, which no memory write ends. */
	x86_apic_send_ipi(x86_percpu[cpu].apic_id, X86_VEC_WAKE);
	return true;
}

static bool busy(const struct work_slot *s)
{
	uint32_t st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
	return st == SLOT_CLAIMED || st == SLOT_READY || st == SLOT_RUNNING;
}

void x86_cpu_wait(unsigned cpu)
{
	if (cpu >= ARCH_MAX_CPUS)
		return;
	const struct work_slot *s = &slots[cpu];
	arch_irq_state_t st = arch_irq_save();
	x86_sti();
	uint64_t start = x86_rdtsc(), limit = x86_tsc_cycles_for_us(WAIT_LIMIT_US);
	while (busy(s)) {
		if (x86_rdtsc() - start > limit) {
			lib_printf("smp: CPU %u still runs its work after %llu s\n", cpu,
			           WAIT_LIMIT_US / 1000000);
			arch_panic("x86_cpu_wait: the work never returned");
		}
		arch_cpu_relax();
	}
	x86_cli();
	arch_irq_restore(st);
}

_Noreturn void x86_cpu_idle(void)
{
	unsigned cpu = arch_cpu_id();
	struct work_slot *s = &slots[cpu];
	for (;;) {
		x86_cli();
		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SLOT_READY) {
			/*
			 * STI takes effect after the next instruction, so no interrupt lands between
			 * it and HLT: a wake-up sent after the check above ends this HLT, it cannot be
			 * taken just before it and leave the CPU asleep with work waiting. Other
			 * interrupts (cross-CPU calls) are served here too and end the HLT.
			 */
			__asm__ volatile("sti; hlt" : : : "memory");
			continue;
		}
		__atomic_store_n(&s->state, SLOT_RUNNING, __ATOMIC_RELAXED);
		x86_sti();
		s->fn(s->arg);
		if (!x86_smp_stack_intact(cpu)) {
			lib_printf("smp: CPU %u overflowed its kernel stack\n", cpu);
			arch_panic("kernel stack overflow");
		}
		__atomic_store_n(&s->state, SLOT_IDLE, __ATOMIC_RELEASE);
	}
}
