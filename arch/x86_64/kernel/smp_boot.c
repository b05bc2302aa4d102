/* Starting the application processors: trampoline, INIT-SIPI-SIPI, and each AP's set-up. */
#include <arch/x86_64/smp.h>

#include <stddef.h>

#include <arch/arch.h>
#include <arch/x86_64/apic.h>
#include <arch/x86_64/cpu.h>
#include <arch/x86_64/exit.h>
#include <arch/x86_64/features.h>
#include <arch/x86_64/fixmap.h>
#include <arch/x86_64/percpu.h>
#include <arch/x86_64/topology.h>
#include <arch/x86_64/trap.h>
#include <arch/x86_64/tsc.h>
#include <arch/x86_64/user.h>
#include <lib/assert.h>
#include <lib/print.h>
#include <lib/string.h>
#include <mm/phys.h>

#define PAGE 4096u
/*
 * Per AP, one contiguous allocation in the direct map: the three interrupt stacks, then the
 * kernel stack (as large as the BSP's boot stack). The direct map has no room for a guard
 * page, so the kernel stack's lowest page, filled with a pattern, stands in for one: an
 * overflow writes there before it reaches the interrupt stacks below (48 KiB of them) and is
 * caught when the work returns (x86_smp_stack_intact), though a frame with a large untouched
 * array could step over it.
 */
#define AP_IST_PAGES 4
#define AP_STACK_PAGES 16
#define AP_PAGES (X86_IST_COUNT * AP_IST_PAGES + AP_STACK_PAGES)
#define STACK_CANARY 0xC0DE57AC4B0770C5ull
#define CANARY_WORDS (PAGE / sizeof(uint64_t))

/* The waits of the start-up protocol. INIT then 10 ms is what the MP specification asks;
 * the rest are generous limits for a CPU that may be a host thread on a busy machine. */
#define INIT_DELAY_US 10000
#define FIRST_SIPI_WAIT_US 10000
#define START_TIMEOUT_US 2000000
#define ONLINE_TIMEOUT_US 5000000

#define TABLE_FLAGS (PTE_P | PTE_W)
#define STARTUP_VECTOR (X86_TRAMPOLINE_PHYS >> 12)

_Static_assert(X86_TRAMPOLINE_PHYS % PAGE == 0 && X86_TRAMPOLINE_END <= 0x100000,
               "a STARTUP IPI names a page below 1 MiB");
_Static_assert(X86_TRAMP_DATA + X86_TRAMP_DATA_SIZE <= PAGE, "the data block is in the page");

/* Where the AP that is starting stands. The AP claims the start (WAITING -> ARRIVED) when
 * it reaches C; a BSP that gave up first marks it ABANDONED, and a late AP then halts. */
enum start_state { START_NONE, START_WAITING, START_ARRIVED, START_ABANDONED };

/* What the BSP hands to the one AP starting now (written before its INIT, read by it). */
static struct {
	uint32_t state; /* enum start_state, atomic */
	uint32_t apic_id;
	unsigned cpu;
	uintptr_t ist_top[X86_IST_COUNT];
	uint64_t cr0, pat;
	x86_ap_online_fn ap_online;
} boot;

static unsigned cpus_wanted = 1;
static uint64_t *stack_canary[ARCH_MAX_CPUS];

bool x86_smp_stack_intact(unsigned cpu)
{
	if (cpu >= ARCH_MAX_CPUS || !stack_canary[cpu])
		return true;
	for (size_t i = 0; i < CANARY_WORDS; i++)
		if (stack_canary[cpu][i] != STACK_CANARY)
			return false;
	return true;
}

unsigned x86_smp_cpus_wanted(void)
{
	return cpus_wanted;
}

static volatile uint32_t *tramp_field32(unsigned off)
{
	return (volatile uint32_t *)((char *)arch_phys_to_virt(X86_TRAMPOLINE_PHYS) + X86_TRAMP_DATA +
	                             off);
}

static volatile uint64_t *tramp_field64(unsigned off)
{
	return (volatile uint64_t *)(uintptr_t)tramp_field32(off);
}

/*
 * The trampoline page and its temporary tables: PML4 slot 0 maps the low 2 MiB (the
 * trampoline's page among them) at their own addresses, so that turning paging on does not
 * pull the code away; the kernel half's slots are the kernel's, so the jump to the higher
 * half finds the image and the AP's stack (in the direct map).
 */
static void trampoline_install(void)
{
	size_t size = (size_t)(x86_trampoline_end - x86_trampoline_start);
	MM_CHECK(size == X86_TRAMP_DATA + X86_TRAMP_DATA_SIZE);
	memcpy(arch_phys_to_virt(X86_TRAMPOLINE_PHYS), x86_trampoline_start, size);

	uint64_t pml4_phys = X86_TRAMPOLINE_PHYS + PAGE;
	uint64_t pdpt_phys = pml4_phys + PAGE, pd_phys = pdpt_phys + PAGE;
	uint64_t *pml4 = arch_phys_to_virt(pml4_phys);
	uint64_t *pdpt = arch_phys_to_virt(pdpt_phys);
	uint64_t *pd = arch_phys_to_virt(pd_phys);
	memset(pml4, 0, PAGE);
	memset(pdpt, 0, PAGE);
	memset(pd, 0, PAGE);
	pd[0] = 0 | PTE_P | PTE_W | PTE_PS;
	pdpt[0] = pd_phys | TABLE_FLAGS;
	pml4[0] = pdpt_phys | TABLE_FLAGS;
	const uint64_t *kernel = arch_phys_to_virt(x86_kernel_root());
	for (unsigned i = 256; i < 512; i++)
		pml4[i] = kernel[i];

	*tramp_field32(X86_TRAMP_PML4) = (uint32_t)pml4_phys;
	*tramp_field32(X86_TRAMP_EFER) = x86_features.nx_on ? (uint32_t)X86_EFER_NXE : 0;
	*tramp_field64(X86_TRAMP_ENTRY) = (uint64_t)(uintptr_t)x86_ap_entry64;
	*tramp_field64(X86_TRAMP_CR3) = x86_kernel_root();
}

static bool wait_until(const volatile uint32_t *word, uint32_t at_least, uint64_t us)
{
	uint64_t start = x86_rdtsc(), limit = x86_tsc_cycles_for_us(us);
	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) < at_least) {
		if (x86_rdtsc() - start > limit)
			return false;
		arch_cpu_relax();
	}
	return true;
}

enum start_result { STARTED, NOT_STARTED, STUCK };

/* Starts the CPU with this APIC ID as CPU number x86_cpu_count.
 * pre: it has had its INIT and the INIT delay has passed (it waits for a STARTUP). */
static enum start_result start_one(uint32_t apic_id)
{
	unsigned cpu = __atomic_load_n(&x86_cpu_count, __ATOMIC_RELAXED);
	unsigned node = x86_topology_node_of_apic(apic_id);
	uintptr_t mem = mm_phys_alloc(AP_PAGES, node, 0);
	if (mem == MM_NADDR) {
		lib_printf("smp: no memory for the stacks of APIC ID %u; not started\n", apic_id);
		return NOT_STARTED;
	}
	char *base = arch_phys_to_virt(mem);
	for (int i = 0; i < X86_IST_COUNT; i++)
		boot.ist_top[i] = (uintptr_t)(base + (size_t)(i + 1) * AP_IST_PAGES * PAGE);
	uint64_t *canary = (uint64_t *)(base + (size_t)X86_IST_COUNT * AP_IST_PAGES * PAGE);
	for (size_t i = 0; i < CANARY_WORDS; i++)
		canary[i] = STACK_CANARY;
	stack_canary[cpu] = canary;
	x86_percpu[cpu].node = node;
	boot.apic_id = apic_id;
	boot.cpu = cpu;
	*tramp_field32(X86_TRAMP_STARTED) = 0;
	*tramp_field64(X86_TRAMP_STACK) = (uint64_t)(uintptr_t)(base + (size_t)AP_PAGES * PAGE);
	/* Release: everything above is visible to the AP before it can see WAITING (and the
	 * ICR write that starts it comes after these stores in any case). */
	__atomic_store_n(&boot.state, START_WAITING, __ATOMIC_RELEASE);

	x86_apic_send_startup(apic_id, STARTUP_VECTOR);
	/* A second STARTUP only if the first was not taken: one that reaches a CPU already
	 * running is ignored anyway. */
	if (!wait_until(tramp_field32(X86_TRAMP_STARTED), 1, FIRST_SIPI_WAIT_US))
		x86_apic_send_startup(apic_id, STARTUP_VECTOR);
	bool ran = wait_until(tramp_field32(X86_TRAMP_STARTED), 1, START_TIMEOUT_US);
	if (ran && wait_until(&x86_cpu_count, cpu + 1, ONLINE_TIMEOUT_US))
		return STARTED;

	uint32_t waiting = START_WAITING;
	if (__atomic_compare_exchange_n(&boot.state, &waiting, START_ABANDONED, false, __ATOMIC_ACQ_REL,
	                                __ATOMIC_ACQUIRE)) {
		/* It never reached C: INIT stops it wherever it is, and if it got further before
		 * the INIT landed it finds the start abandoned and halts. Its stacks stay
		 * allocated: nothing proves it stopped using them. */
		x86_apic_send_init(apic_id);
		lib_printf("smp: warning: APIC ID %u %s; going on without it\n", apic_id,
		           ran ? "started but never reached the kernel" : "did not answer INIT-SIPI");
		return NOT_STARTED;
	}
	/* It claimed CPU number cpu and may still publish it: no other CPU can be started
	 * under that number, so the bring-up stops here. */
	lib_printf("smp: warning: APIC ID %u started but did not come online in %u ms; no "
	           "further CPUs started\n",
	           apic_id, ONLINE_TIMEOUT_US / 1000);
	return STUCK;
}

/* The CPU's APIC ID can be sent to in the APIC's mode (xAPIC: 8 bits, 0xFF broadcasts). */
static bool addressable(uint32_t apic_id)
{
	return x86_apic_is_x2apic() || apic_id < 0xFF;
}

unsigned x86_smp_start(unsigned max_cpus, bool verbose, x86_ap_online_fn ap_online)
{
	const struct x86_cpu_list *list = x86_topology_cpus();
	uint64_t t0 = x86_rdtsc();
	unsigned limit = max_cpus && max_cpus < ARCH_MAX_CPUS ? max_cpus : ARCH_MAX_CPUS;
	unsigned wanted = 1;
	for (unsigned i = 0; i < list->count; i++)
		if (i != list->bsp && list->cpu[i].enabled && wanted < limit)
			wanted++;
	cpus_wanted = wanted;

	x86_cpu_work_init();
	boot.cr0 = x86_read_cr0();
	boot.pat = x86_features.pat ? x86_rdmsr(X86_MSR_PAT) : 0;
	boot.ap_online = ap_online;
	if (wanted > 1)
		trampoline_install();

	static uint32_t to_start[ARCH_MAX_CPUS];
	unsigned tried = 1, n = 0;
	for (unsigned i = 0; i < list->count && tried < wanted; i++) {
		const struct x86_cpu_desc *d = &list->cpu[i];
		if (i == list->bsp || !d->enabled)
			continue;
		tried++;
		if (!addressable(d->apic_id)) {
			lib_printf("smp: warning: APIC ID %u needs x2APIC mode; not started\n", d->apic_id);
			continue;
		}
		to_start[n++] = d->apic_id;
	}
	/*
	 * Every AP gets its INIT first and they wait out the INIT delay together; each then
	 * needs only its STARTUP, not INIT, 10 ms and STARTUP one after the other. An AP that
	 * has had INIT waits for a STARTUP as long as it takes. They still start one at a time:
	 * the trampoline and the start-up block serve one AP.
	 */
	for (unsigned i = 0; i < n; i++)
		x86_apic_send_init(to_start[i]);
	if (n)
		x86_tsc_delay_us(INIT_DELAY_US);
	for (unsigned i = 0; i < n; i++)
		if (start_one(to_start[i]) == STUCK)
			break; /* those left wait for a STARTUP that never comes, as if halted */

	uint64_t cycles = x86_rdtsc() - t0;
	unsigned count = arch_cpu_count();
	if (verbose) {
		uint64_t mhz = arch_cycles_per_second() / 1000000;
		lib_printf("smp: %u CPU%s up (APIC IDs", count, count == 1 ? "" : "s");
		for (unsigned cpu = 0; cpu < count; cpu++)
			lib_printf(" %u", x86_percpu[cpu].apic_id);
		if (mhz)
			lib_printf(") in %llu us\n", (unsigned long long)(cycles / mhz));
		else
			lib_printf(")\n");
	}
	return count;
}

/* ---- On the AP ------------------------------------------------------------------------ */

_Noreturn void x86_smp_ap_main(void)
{
	/* Only the CPU the BSP is waiting for goes on: one that answers after the BSP gave up
	 * on it (or any other) stops here, touching nothing. */
	uint32_t waiting = START_WAITING;
	if (x86_cpuid_apic_id() != __atomic_load_n(&boot.apic_id, __ATOMIC_RELAXED) ||
	    !__atomic_compare_exchange_n(&boot.state, &waiting, START_ARRIVED, false, __ATOMIC_ACQ_REL,
	                                 __ATOMIC_RELAXED))
		x86_halt_forever();
	unsigned cpu = boot.cpu;

	/* The BSP's CR0 (the trampoline set only PE, PG and WP); the rest as the BSP has it. */
	x86_write_cr0(boot.cr0);
	x86_percpu_init(cpu, boot.ist_top);
	x86_idt_load();
	x86_cpu_features_enable();
	if (x86_features.smap_on)
		x86_cpu_enable_smap();
	x86_syscall_init();
	if (x86_features.pat)
		x86_wrmsr(X86_MSR_PAT, boot.pat);
	x86_apic_init_ap();

	/* Interrupts are off until the idle loop. The CPU takes IPIs now, which the memory
	 * manager's start-up (in the kernel's hook) needs first. */
	boot.ap_online(cpu);
	x86_cpu_work_ap_ready();
	/*
	 * Published last, with release order: a CPU that reads the new count (acquire, in
	 * arch_cpu_count) sees this CPU's per-CPU data, its APIC ID and its idle slot. Until
	 * now no cross-CPU call could target it, and none was needed: the BSP does nothing
	 * but wait for this store, and the other APs idle.
	 */
	__atomic_store_n(&x86_cpu_count, cpu + 1, __ATOMIC_RELEASE);
	x86_cpu_idle();
}
