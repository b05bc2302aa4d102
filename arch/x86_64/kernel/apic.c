/* The local APIC: enable, EOI, and inter-processor interrupts through the ICR. */
#include <arch/x86_64/apic.h>

#include <arch/arch.h>
#include <arch/x86_64/cpu.h>
#include <arch/x86_64/features.h>
#include <arch/x86_64/fixmap.h>
#include <arch/x86_64/percpu.h>
#include <arch/x86_64/trap.h>
#include <lib/assert.h>
#include <lib/print.h>

/* Register offsets in the xAPIC page; the x2APIC MSR is 0x800 + offset / 16. */
#define REG_ID 0x020
#define REG_TPR 0x080
#define REG_EOI 0x0B0
#define REG_SVR 0x0F0
#define REG_ESR 0x280
#define REG_ICR_LO 0x300
#define REG_ICR_HI 0x310
#define REG_LVT_TIMER 0x320
#define REG_LVT_LINT0 0x350
#define REG_LVT_ERROR 0x370

#define APIC_BASE_EXTD (1ull << 10) /* x2APIC mode */
#define APIC_BASE_EN (1ull << 11)
#define APIC_BASE_ADDR_MASK 0x000FFFFFFFFFF000ull
#define SVR_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define ICR_DELIVERY_PENDING (1u << 12) /* xAPIC only */
#define ICR_ASSERT (1u << 14)
#define ICR_DM_INIT (5u << 8)    /* reset the target to wait-for-STARTUP */
#define ICR_DM_STARTUP (6u << 8) /* start it in real mode at page (vector) << 12 */
/* Fixed delivery (0 << 8), physical destination (0 << 11), edge: the zero bits. */

static bool x2apic;
static volatile uint32_t *xapic;
static volatile unsigned self_test_hits;

static uint32_t reg_read(unsigned reg)
{
	if (x2apic)
		return (uint32_t)x86_rdmsr(0x800 + reg / 16);
	return xapic[reg / 4];
}

static void reg_write(unsigned reg, uint32_t v)
{
	if (x2apic)
		x86_wrmsr(0x800 + reg / 16, v);
	else
		xapic[reg / 4] = v;
}

bool x86_apic_is_x2apic(void)
{
	return x2apic;
}

uint32_t x86_apic_id(void)
{
	return x2apic ? reg_read(REG_ID) : reg_read(REG_ID) >> 24;
}

void x86_apic_eoi(void)
{
	reg_write(REG_EOI, 0);
}

/* One write of the ICR: destination apic_id, the low word's delivery mode and vector. */
static void icr_send(uint32_t apic_id, uint32_t low)
{
	arch_irq_state_t st = arch_irq_save();
	if (x2apic) {
		/*
		 * A WRMSR to the x2APIC ICR is not serialising: without the fence the IPI could
		 * overtake the stores that tell the target what to do (a shootdown request).
		 */
		__asm__ volatile("mfence" : : : "memory");
		x86_wrmsr(0x800 + REG_ICR_LO / 16, ((uint64_t)apic_id << 32) | low);
		x86_this_cpu()->paths.x2apic_ipis++;
	} else {
		/* One ICR, two halves: interrupts stay off so no handler's send interleaves.
		 * The uncached MMIO store is ordered after earlier stores by itself. */
		for (unsigned spins = 0; reg_read(REG_ICR_LO) & ICR_DELIVERY_PENDING; spins++) {
			if (spins > 10000000u) {
				lib_printf("apic: ICR still busy, sending anyway\n");
				break;
			}
			arch_cpu_relax();
		}
		reg_write(REG_ICR_HI, apic_id << 24);
		reg_write(REG_ICR_LO, low);
		x86_this_cpu()->paths.xapic_ipis++;
	}
	arch_irq_restore(st);
}

void x86_apic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	icr_send(apic_id, ICR_ASSERT | vector);
}

void x86_apic_send_init(uint32_t apic_id)
{
	/* Edge-triggered assert: the level de-assert only mattered to the 82489DX and is
	 * reserved in x2APIC mode. */
	icr_send(apic_id, ICR_DM_INIT | ICR_ASSERT);
}

void x86_apic_send_startup(uint32_t apic_id, uint8_t page)
{
	icr_send(apic_id, ICR_DM_STARTUP | ICR_ASSERT | page);
}

static void ipi_entry(struct x86_trap_frame *frame)
{
	mm_ipi_handler((enum arch_ipi_vector)(frame->vector - X86_VEC_IPI_BASE));
	x86_apic_eoi();
}

static void self_test_entry(struct x86_trap_frame *frame)
{
	__atomic_fetch_add(&self_test_hits, 1, __ATOMIC_RELEASE);
	x86_apic_eoi();
}

static void error_entry(struct x86_trap_frame *frame)
{
	/* The ESR latches on a write; report and go on: a lost IPI shows up as a timeout. */
	reg_write(REG_ESR, 0);
	lib_printf("apic: error interrupt on CPU %u, ESR 0x%x\n", arch_cpu_id(), reg_read(REG_ESR));
	x86_apic_eoi();
}

static void enable_this_cpu(void)
{
	uint64_t base = x86_rdmsr(X86_MSR_APIC_BASE) | APIC_BASE_EN;
	/* xAPIC to x2APIC is a legal transition with EN already set. */
	if (x2apic)
		base |= APIC_BASE_EXTD;
	x86_wrmsr(X86_MSR_APIC_BASE, base);

	reg_write(REG_TPR, 0); /* accept every priority class */
	reg_write(REG_LVT_TIMER, LVT_MASKED);
	reg_write(REG_LVT_LINT0, LVT_MASKED); /* the PICs are not used */
	reg_write(REG_LVT_ERROR, X86_VEC_APIC_ERROR);
	reg_write(REG_ESR, 0);
	reg_write(REG_SVR, SVR_ENABLE | X86_VEC_SPURIOUS);
	x86_this_cpu()->apic_id = x86_apic_id();
}

void x86_apic_init_bsp(void)
{
	MM_CHECK(x86_features.apic);
	x2apic = x86_features.x2apic;
	if (!x2apic) {
		uint64_t phys = x86_rdmsr(X86_MSR_APIC_BASE) & APIC_BASE_ADDR_MASK;
		/* Device registers: uncached (PCD | PWT selects UC with the power-on PAT). */
		xapic = x86_fixmap_set(X86_FIXMAP_LAPIC, phys, PTE_W | PTE_PCD | PTE_PWT, true);
	}
	x86_set_irq_handler(X86_VEC_IPI_BASE + ARCH_IPI_TLB, ipi_entry);
	x86_set_irq_handler(X86_VEC_IPI_BASE + ARCH_IPI_CALL, ipi_entry);
	x86_set_irq_handler(X86_VEC_SELFTEST, self_test_entry);
	x86_set_irq_handler(X86_VEC_APIC_ERROR, error_entry);
	enable_this_cpu();
}

void x86_apic_init_ap(void)
{
	enable_this_cpu();
}

bool x86_apic_self_test(void)
{
	unsigned before = __atomic_load_n(&self_test_hits, __ATOMIC_ACQUIRE);
	arch_irq_state_t st = arch_irq_save();
	x86_apic_send_ipi(x86_apic_id(), X86_VEC_SELFTEST);
	x86_sti();
	bool seen = false;
	for (unsigned spins = 0; spins < 10000000u && !seen; spins++) {
		seen = __atomic_load_n(&self_test_hits, __ATOMIC_ACQUIRE) != before;
		arch_cpu_relax();
	}
	x86_cli();
	arch_irq_restore(st);
	return seen;
}

void arch_ipi_send(const arch_cpumask_t *targets, enum arch_ipi_vector vector)
{
	unsigned count = arch_cpu_count();
	for (unsigned w = 0; w < sizeof targets->bits / sizeof targets->bits[0]; w++) {
		uint64_t bits = targets->bits[w];
		while (bits) {
			unsigned cpu = w * 64 + (unsigned)__builtin_ctzll(bits);
			bits &= bits - 1;
			MM_CHECK(cpu < count);
			x86_apic_send_ipi(x86_percpu[cpu].apic_id, (uint8_t)(X86_VEC_IPI_BASE + vector));
		}
	}
}
