/* Per-CPU data, the per-CPU GDT and TSS, GS base, and the contract's CPU count. */
#include <arch/x86_64/percpu.h>

#include <stddef.h>

#include <arch/x86_64/cpu.h>
#include <lib/string.h>

_Static_assert(offsetof(struct x86_percpu, cpu_index) == X86_PERCPU_CPU_INDEX_OFFSET,
               "arch_cpu_id() reads the CPU index at a fixed GS offset");
_Static_assert(offsetof(struct x86_percpu, self) == 0, "x86_this_cpu() reads gs:0");
_Static_assert(sizeof(struct x86_tss) == 104, "the hardware TSS layout");
_Static_assert(offsetof(struct x86_percpu, user_return_rsp) == X86_PERCPU_USER_RETURN_RSP,
               "user_entry.S saves the kernel stack at a fixed GS offset");
_Static_assert(offsetof(struct x86_percpu, syscall_rsp) == X86_PERCPU_SYSCALL_RSP,
               "the SYSCALL stub loads its stack from a fixed GS offset");
_Static_assert(offsetof(struct x86_percpu, syscall_user_rsp) == X86_PERCPU_SYSCALL_USER_RSP,
               "the SYSCALL stub parks the user stack at a fixed GS offset");
_Static_assert(offsetof(struct x86_percpu, tss) + offsetof(struct x86_tss, rsp) ==
                   X86_PERCPU_TSS_RSP0,
               "user_entry.S sets TSS.RSP0 at a fixed GS offset");

struct x86_percpu x86_percpu[ARCH_MAX_CPUS];
unsigned x86_cpu_count = 1;

/* Flat descriptors with the accessed bit preset, so the CPU never writes to the GDT. The
 * order of the user ones is what SYSRET requires (see the selectors in percpu.h). */
#define DESC_KCODE 0x00AF9B000000FFFFull   /* 64-bit code, DPL 0 */
#define DESC_KDATA 0x00CF93000000FFFFull   /* data, DPL 0 */
#define DESC_UCODE32 0x00CFFB000000FFFFull /* 32-bit code, DPL 3 (SYSRET layout only) */
#define DESC_UDATA 0x00CFF3000000FFFFull   /* data, DPL 3 */
#define DESC_UCODE 0x00AFFB000000FFFFull   /* 64-bit code, DPL 3 */

#define BSP_IST_STACK_SIZE 16384
static uint8_t bsp_ist_stacks[X86_IST_COUNT][BSP_IST_STACK_SIZE] __attribute__((aligned(16)));

static void gdt_fill(struct x86_percpu *pc)
{
	uint64_t *g = pc->gdt;
	g[0] = 0;
	g[X86_SEL_KCODE >> 3] = DESC_KCODE;
	g[X86_SEL_KDATA >> 3] = DESC_KDATA;
	g[X86_SEL_UCODE32 >> 3] = DESC_UCODE32;
	g[X86_SEL_UDATA >> 3] = DESC_UDATA;
	g[X86_SEL_UCODE >> 3] = DESC_UCODE;

	/* A 64-bit TSS descriptor spans two slots: type 9 (available TSS), present. */
	uint64_t base = (uint64_t)(uintptr_t)&pc->tss;
	uint64_t limit = sizeof(pc->tss) - 1;
	g[X86_SEL_TSS >> 3] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ull << 40) |
	                      (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
	g[(X86_SEL_TSS >> 3) + 1] = base >> 32;
}

static void gdt_load(struct x86_percpu *pc)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr = {sizeof(pc->gdt) - 1, (uint64_t)(uintptr_t)pc->gdt};

	/* CS can only be reloaded by a far transfer: push the selector and return to it. DS/ES/SS
	 * get the kernel data selector, FS/GS the null one (their bases come from MSRs). */
	__asm__ volatile("lgdt %0\n\t"
	                 "pushq %1\n\t"
	                 "leaq 1f(%%rip), %%rax\n\t"
	                 "pushq %%rax\n\t"
	                 "lretq\n"
	                 "1:\n\t"
	                 "movl %2, %%eax\n\t"
	                 "movw %%ax, %%ds\n\t"
	                 "movw %%ax, %%es\n\t"
	                 "movw %%ax, %%ss\n\t"
	                 "xorl %%eax, %%eax\n\t"
	                 "movw %%ax, %%fs\n\t"
	                 "movw %%ax, %%gs\n\t"
	                 "ltr %w3"
	                 :
	                 : "m"(gdtr), "i"(X86_SEL_KCODE), "i"(X86_SEL_KDATA), "r"(X86_SEL_TSS)
	                 : "rax", "memory");
}

void x86_percpu_init(unsigned cpu, const uintptr_t ist_top[X86_IST_COUNT])
{
	struct x86_percpu *pc = &x86_percpu[cpu];
	memset(&pc->tss, 0, sizeof pc->tss);
	pc->self = pc;
	pc->cpu_index = cpu;
	for (int i = 0; i < X86_IST_COUNT; i++)
		pc->tss.ist[i] = ist_top[i];
	/* No I/O permission bitmap: the offset points past the TSS limit. */
	pc->tss.iomap_base = sizeof pc->tss;
	gdt_fill(pc);
	gdt_load(pc);
	/* After the segment loads above, which clear the GS base on some CPUs. */
	x86_wrmsr(X86_MSR_GS_BASE, (uint64_t)(uintptr_t)pc);
	x86_wrmsr(X86_MSR_KERNEL_GS_BASE, 0);
}

void x86_percpu_init_bsp(void)
{
	uintptr_t tops[X86_IST_COUNT];
	for (int i = 0; i < X86_IST_COUNT; i++)
		tops[i] = (uintptr_t)&bsp_ist_stacks[i][BSP_IST_STACK_SIZE];
	x86_percpu_init(0, tops);
}

unsigned arch_cpu_count(void)
{
	return __atomic_load_n(&x86_cpu_count, __ATOMIC_ACQUIRE);
}

void x86_path_counts_sum(struct x86_path_counts *out)
{
	*out = (struct x86_path_counts){0};
	for (unsigned cpu = 0; cpu < arch_cpu_count(); cpu++) {
		const struct x86_path_counts *c = &x86_percpu[cpu].paths;
		out->invlpg += __atomic_load_n(&c->invlpg, __ATOMIC_RELAXED);
		out->invpcid += __atomic_load_n(&c->invpcid, __ATOMIC_RELAXED);
		out->cr3_flushes += __atomic_load_n(&c->cr3_flushes, __ATOMIC_RELAXED);
		out->x2apic_ipis += __atomic_load_n(&c->x2apic_ipis, __ATOMIC_RELAXED);
		out->xapic_ipis += __atomic_load_n(&c->xapic_ipis, __ATOMIC_RELAXED);
	}
}
