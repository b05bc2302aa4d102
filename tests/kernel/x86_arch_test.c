/* Kernel-only tests of the x86_64 backend: what the host build cannot show. */
#include <stdint.h>

#include <arch/arch.h>
#include <arch/x86_64/apic.h>
#include <arch/x86_64/boot.h>
#include <arch/x86_64/cpu.h>
#include <arch/x86_64/features.h>
#include <arch/x86_64/fixmap.h>
#include <arch/x86_64/percpu.h>
#include <arch/x86_64/trap.h>
#include <mmtest/test.h>

TEST(x86_arch, cpu_identity)
{
	/* The tests run on the bootstrap CPU, CPU 0; the APs are kernel/smp_tests.c's. */
	EXPECT_EQ(arch_cpu_id(), 0);
	EXPECT_GE(arch_cpu_count(), 1);
	EXPECT_LT(arch_cpu_node(0), arch_node_count());
	EXPECT_EQ(x86_this_cpu(), &x86_percpu[0]);
	EXPECT_EQ(x86_this_cpu()->apic_id, x86_apic_id());
}

TEST(x86_arch, irq_save_restore_nests)
{
	x86_sti();
	arch_irq_state_t outer = arch_irq_save();
	EXPECT_EQ(x86_rflags() & X86_RFLAGS_IF, 0);
	arch_irq_state_t inner = arch_irq_save();
	EXPECT_EQ(x86_rflags() & X86_RFLAGS_IF, 0);
	arch_irq_restore(inner);
	EXPECT_EQ(x86_rflags() & X86_RFLAGS_IF, 0);
	arch_irq_restore(outer);
	EXPECT_NE(x86_rflags() & X86_RFLAGS_IF, 0);
}

TEST(x86_arch, cycles)
{
	uint64_t a = arch_cycles();
	uint64_t b = arch_cycles();
	EXPECT_LE(a, b);
	uint64_t hz = arch_cycles_per_second();
	/* An emulator's TSC runs at its own pace: Bochs's at its instructions per second. */
	EXPECT_GE(hz, 10000000ull);
	EXPECT_LE(hz, 100000000000ull);
}

TEST(x86_arch, zero)
{
	static uint8_t buf[3 * 4096] __attribute__((aligned(64)));
	for (unsigned i = 0; i < sizeof buf; i++)
		buf[i] = 0xA5;
	arch_zero(buf + 64, 2 * 4096);
	EXPECT_EQ(buf[63], 0xA5);
	unsigned nonzero = 0;
	for (unsigned i = 64; i < 64 + 2 * 4096; i++)
		nonzero += buf[i] != 0;
	EXPECT_EQ(nonzero, 0);
	EXPECT_EQ(buf[64 + 2 * 4096], 0xA5);
}

TEST(x86_arch, direct_map_aliases_image)
{
	static volatile uint64_t cell = 0x1234;
	uintptr_t phys = (uintptr_t)x86_image_phys((const void *)&cell);
	volatile uint64_t *alias = arch_phys_to_virt(phys);
	EXPECT_EQ(*alias, 0x1234);
	*alias = 0x5678;
	EXPECT_EQ(cell, 0x5678);
	EXPECT_EQ(arch_virt_to_phys((const void *)alias), phys);
}

TEST(x86_arch, space_load_and_current)
{
	uintptr_t root = arch_space_current();
	EXPECT_EQ(root, x86_kernel_root());
	arch_space_load(root, 0, false);
	EXPECT_EQ(arch_space_current(), root);
	arch_space_load(root, 0, true);
	EXPECT_EQ(arch_space_current(), root);
	EXPECT_EQ(arch_has_pcid(), (x86_read_cr4() & X86_CR4_PCIDE) != 0);
}

TEST(x86_arch, features_enabled)
{
	EXPECT_NE(x86_read_cr0() & X86_CR0_WP, 0);
	if (x86_features.nx)
		EXPECT_NE(x86_rdmsr(X86_MSR_EFER) & X86_EFER_NXE, 0);
	if (x86_features.smep)
		EXPECT_NE(x86_read_cr4() & X86_CR4_SMEP, 0);
	if (x86_features.pge)
		EXPECT_NE(x86_read_cr4() & X86_CR4_PGE, 0);
	if (!x86_features.pcid)
		EXPECT_EQ(x86_read_cr4() & X86_CR4_PCIDE, 0);
}

/* ---- TLB: remap a fixmap slot behind the TLB's back, then flush ---------------------- */

static uint64_t page_a[512] __attribute__((aligned(4096))) = {0xAAAA};
static uint64_t page_b[512] __attribute__((aligned(4096))) = {0xBBBB};

static volatile uint64_t *tlb_setup(void)
{
	volatile uint64_t *va = x86_fixmap_set(X86_FIXMAP_TEST, x86_image_phys(page_a), 0, false);
	return va;
}

/* Changes the slot's frame without any flush (a later read may still see the old one). */
static void tlb_retarget(const uint64_t *page)
{
	uint64_t *pte = x86_fixmap_pte(X86_FIXMAP_TEST);
	*pte = (*pte & ~PTE_ADDR_MASK) | x86_image_phys(page);
}

TEST(x86_arch, tlb_flush_page)
{
	volatile uint64_t *va = tlb_setup();
	ASSERT_EQ(va[0], 0xAAAA);
	tlb_retarget(page_b);
	arch_tlb_flush_page((uintptr_t)va);
	EXPECT_EQ(va[0], 0xBBBB);
}

TEST(x86_arch, tlb_flush_pcid)
{
	volatile uint64_t *va = tlb_setup();
	ASSERT_EQ(va[0], 0xAAAA);
	tlb_retarget(page_b);
	arch_tlb_flush_pcid((uint16_t)(x86_read_cr3() & X86_CR3_PCID_MASK));
	EXPECT_EQ(va[0], 0xBBBB);
}

TEST(x86_arch, tlb_flush_all_drops_global)
{
	volatile uint64_t *va = x86_fixmap_set(X86_FIXMAP_TEST, x86_image_phys(page_a), 0, true);
	ASSERT_EQ(va[0], 0xAAAA);
	tlb_retarget(page_b);
	arch_tlb_flush_all();
	EXPECT_EQ(va[0], 0xBBBB);
}

/* ---- Page faults through the hook --------------------------------------------------- */

/* Faulting accesses at known instructions; the hook resumes after them. */
extern const char x86_test_read_insn[], x86_test_read_done[];
extern const char x86_test_write_insn[], x86_test_write_done[];

__attribute__((noinline)) static void probe_read(uintptr_t addr)
{
	__asm__ volatile(".globl x86_test_read_insn, x86_test_read_done\n"
	                 "x86_test_read_insn: movq (%0), %%rax\n"
	                 "x86_test_read_done:"
	                 :
	                 : "r"(addr)
	                 : "rax", "memory");
}

__attribute__((noinline)) static void probe_write(uintptr_t addr)
{
	__asm__ volatile(".globl x86_test_write_insn, x86_test_write_done\n"
	                 "x86_test_write_insn: movb $0, (%0)\n"
	                 "x86_test_write_done:"
	                 :
	                 : "r"(addr)
	                 : "memory");
}

static struct {
	unsigned hits;
	uint64_t error;
	uintptr_t addr;
	uintptr_t exec_target;
} probe;

static bool probe_hook(struct x86_trap_frame *f, uintptr_t addr)
{
	if (f->rip == (uintptr_t)x86_test_read_insn) {
		f->rip = (uintptr_t)x86_test_read_done;
	} else if (f->rip == (uintptr_t)x86_test_write_insn) {
		f->rip = (uintptr_t)x86_test_write_done;
	} else if (probe.exec_target && f->rip == probe.exec_target) {
		/* A call into a no-execute page: return to the caller. */
		f->rip = *(const uint64_t *)(uintptr_t)f->rsp;
		f->rsp += 8;
	} else {
		return false;
	}
	probe.hits++;
	probe.error = f->error;
	probe.addr = addr;
	return true;
}

static void probe_begin(void)
{
	probe.hits = 0;
	probe.error = 0;
	probe.addr = 0;
	probe.exec_target = 0;
}

TEST(x86_arch, pf_hook_not_present)
{
	probe_begin();
	x86_pf_hook_t old = x86_set_page_fault_hook(probe_hook);
	probe_read((uintptr_t)boot_stack_guard);
	x86_set_page_fault_hook(old);
	EXPECT_EQ(probe.hits, 1);
	EXPECT_EQ(probe.addr, (uintptr_t)boot_stack_guard);
	EXPECT_EQ(probe.error, 0); /* kernel read of a not-present page */
}

static const uint64_t read_only_cell = 42;

TEST(x86_arch, image_read_only)
{
	probe_begin();
	x86_pf_hook_t old = x86_set_page_fault_hook(probe_hook);
	probe_write((uintptr_t)&read_only_cell);
	probe_write((uintptr_t)kimage_start);
	x86_set_page_fault_hook(old);
	EXPECT_EQ(probe.hits, 2);
	EXPECT_EQ(probe.error, X86_PF_PRESENT | X86_PF_WRITE);
	EXPECT_EQ(read_only_cell, 42);
}

TEST(x86_arch, image_data_no_execute)
{
	if (!x86_features.nx_on)
		return;
	static uint8_t code[16] __attribute__((aligned(16))) = {0xC3}; /* ret */
	probe_begin();
	probe.exec_target = (uintptr_t)code;
	x86_pf_hook_t old = x86_set_page_fault_hook(probe_hook);
	((void (*)(void))(uintptr_t)code)();
	x86_set_page_fault_hook(old);
	EXPECT_EQ(probe.hits, 1);
	EXPECT_EQ(probe.error, X86_PF_PRESENT | X86_PF_FETCH);
}

TEST(x86_arch, self_ipi)
{
	EXPECT_TRUE(x86_apic_self_test());
}
