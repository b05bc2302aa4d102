/* TLB invalidation and address-space loads (CR3, with PCID tags when the CPU has them). */
#include <arch/arch.h>

#include <arch/x86_64/cpu.h>
#include <arch/x86_64/features.h>
#include <arch/x86_64/fixmap.h>
#include <arch/x86_64/percpu.h>

static uint64_t kernel_root;

void x86_set_kernel_root(uint64_t root_phys)
{
	kernel_root = root_phys;
}

uint64_t x86_kernel_root(void)
{
	return kernel_root;
}

bool arch_has_pcid(void)
{
	return x86_features.pcid_on;
}

/* INVLPG drops va's translations in the current PCID and global ones; it serialises, so the
 * page-table stores before it are seen by the next walk. */
void arch_tlb_flush_page(uintptr_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
	x86_this_cpu()->paths.invlpg++;
}

/* INVPCID type 1: every non-global translation tagged pcid. */
static void invpcid_single_context(uint16_t pcid)
{
	struct {
		uint64_t pcid;
		uint64_t addr;
	} desc = {pcid, 0};
	__asm__ volatile("invpcid %0, %1" : : "m"(desc), "r"(1ull) : "memory");
}

void arch_tlb_flush_pcid(uint16_t pcid)
{
	struct x86_path_counts *paths = &x86_this_cpu()->paths;
	if (!x86_features.pcid_on) {
		/* One tag only: rewriting CR3 drops every non-global entry, including pcid's. */
		x86_write_cr3(x86_read_cr3());
		paths->cr3_flushes++;
		return;
	}
	if (x86_features.invpcid) {
		invpcid_single_context(pcid);
		paths->invpcid++;
		return;
	}
	paths->cr3_flushes++;
	arch_irq_state_t st = arch_irq_save();
	uint64_t cur = x86_read_cr3();
	if ((cur & X86_CR3_PCID_MASK) == pcid) {
		/* The current PCID (what every shootdown flushes): rewriting CR3 without the
		 * no-flush bit (it reads as 0) drops exactly its non-global entries. */
		x86_write_cr3(cur);
	} else {
		/*
		 * Another PCID, without INVPCID: a CR3 write without the no-flush bit drops the
		 * entries of the PCID it loads. Load pcid with the kernel's PML4 (whose user half
		 * is empty: only the kernel half, the same in every space, can be cached under pcid
		 * meanwhile), then return to the current space keeping its entries.
		 */
		uint64_t root = kernel_root ? kernel_root : (cur & X86_CR3_ADDR_MASK);
		x86_write_cr3(root | (pcid & X86_CR3_PCID_MASK));
		x86_write_cr3(cur | X86_CR3_NOFLUSH);
	}
	arch_irq_restore(st);
}

void arch_tlb_flush_all(void)
{
	arch_irq_state_t st = arch_irq_save();
	if (x86_features.pge_on) {
		/* Any change of CR4.PGE flushes every entry: global ones and all PCIDs. */
		uint64_t cr4 = x86_read_cr4();
		x86_write_cr4(cr4 ^ X86_CR4_PGE);
		x86_write_cr4(cr4);
	} else {
		/* No global entries and no PCIDs without PGE (PCID is only enabled with it). */
		x86_write_cr3(x86_read_cr3());
	}
	arch_irq_restore(st);
}

void arch_space_load(uintptr_t root_phys, uint16_t pcid, bool keep_tlb)
{
	uint64_t cr3 = root_phys & X86_CR3_ADDR_MASK;
	/* Bit 63 and the PCID field are reserved (#GP) unless CR4.PCIDE is on. */
	if (x86_features.pcid_on) {
		cr3 |= pcid & X86_CR3_PCID_MASK;
		if (keep_tlb)
			cr3 |= X86_CR3_NOFLUSH;
	}
	x86_write_cr3(cr3);
}

uintptr_t arch_space_current(void)
{
	return x86_read_cr3() & X86_CR3_ADDR_MASK;
}
