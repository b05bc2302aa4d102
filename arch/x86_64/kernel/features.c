/* CPUID feature detection and the CR4/EFER bits that follow from it. */
#include <arch/x86_64/features.h>

#include <arch/x86_64/cpu.h>
#include <lib/print.h>

struct x86_features x86_features;

static void put_reg(char *dst, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		dst[i] = (char)(v >> (8 * i));
}

void x86_cpu_features_detect(void)
{
	struct x86_features *f = &x86_features;
	struct x86_cpuid r = x86_cpuid(0, 0);
	f->max_leaf = r.eax;
	put_reg(f->vendor, r.ebx);
	put_reg(f->vendor + 4, r.edx);
	put_reg(f->vendor + 8, r.ecx);
	f->vendor[12] = 0;

	r = x86_cpuid(1, 0);
	f->stepping = r.eax & 0xF;
	f->family = (r.eax >> 8) & 0xF;
	f->model = (r.eax >> 4) & 0xF;
	if (f->family == 0xF)
		f->family += (r.eax >> 20) & 0xFF;
	if (f->family >= 6)
		f->model |= ((r.eax >> 16) & 0xF) << 4;
	f->pcid = r.ecx & (1u << 17);
	f->x2apic = r.ecx & (1u << 21);
	f->tsc = r.edx & (1u << 4);
	f->apic = r.edx & (1u << 9);
	f->pge = r.edx & (1u << 13);
	f->pat = r.edx & (1u << 16);

	if (f->max_leaf >= 7) {
		r = x86_cpuid(7, 0);
		f->smep = r.ebx & (1u << 7);
		f->erms = r.ebx & (1u << 9);
		f->invpcid = r.ebx & (1u << 10);
		f->smap = r.ebx & (1u << 20);
	}

	r = x86_cpuid(0x80000000u, 0);
	f->max_ext_leaf = r.eax;
	if (f->max_ext_leaf >= 0x80000001u) {
		r = x86_cpuid(0x80000001u, 0);
		f->nx = r.edx & (1u << 20);
		f->page1g = r.edx & (1u << 26);
	}
	if (f->max_ext_leaf >= 0x80000004u) {
		for (uint32_t i = 0; i < 3; i++) {
			r = x86_cpuid(0x80000002u + i, 0);
			put_reg(f->brand + 16 * i, r.eax);
			put_reg(f->brand + 16 * i + 4, r.ebx);
			put_reg(f->brand + 16 * i + 8, r.ecx);
			put_reg(f->brand + 16 * i + 12, r.edx);
		}
	}
	f->brand[48] = 0;
	if (f->max_ext_leaf >= 0x80000007u)
		f->invariant_tsc = x86_cpuid(0x80000007u, 0).edx & (1u << 8);
	f->phys_addr_bits = 36;
	f->virt_addr_bits = 48;
	if (f->max_ext_leaf >= 0x80000008u) {
		r = x86_cpuid(0x80000008u, 0);
		f->phys_addr_bits = r.eax & 0xFF;
		f->virt_addr_bits = (r.eax >> 8) & 0xFF;
	}
}

void x86_cpu_features_enable(void)
{
	struct x86_features *f = &x86_features;

	/* NX: without EFER.NXE, bit 63 of a page-table entry is reserved and faults. The boot
	 * code already set it when CPUID offered it; APs come through here as well. */
	if (f->nx) {
		x86_wrmsr(X86_MSR_EFER, x86_rdmsr(X86_MSR_EFER) | X86_EFER_NXE);
		f->nx_on = true;
	}

	uint64_t cr4 = x86_read_cr4();
	if (f->pge) {
		cr4 |= X86_CR4_PGE;
		f->pge_on = true;
	}
	if (f->smep) {
		cr4 |= X86_CR4_SMEP;
		f->smep_on = true;
	}
	x86_write_cr4(cr4);

	/*
	 * PCID only when CPUID says so: QEMU's TCG accepts CR4.PCIDE without offering PCID and
	 * then hangs on the first CR3 write with bit 63 set. Setting PCIDE requires CR3[11:0] to
	 * be 0, which holds for the kernel's PML4 loaded by the boot code. The TLB code relies on
	 * PGE to flush everything, so PCID without PGE (no such CPU exists) stays off.
	 */
	if (f->pcid && f->pge && !f->pcid_refused) {
		x86_write_cr4(x86_read_cr4() | X86_CR4_PCIDE);
		f->pcid_on = true;
	}
}

void x86_cpu_refuse_pcid(void)
{
	struct x86_features *f = &x86_features;
	f->pcid_refused = true;
	if (!f->pcid_on)
		return;
	/* Clearing PCIDE is allowed while CR3's PCID field is 0: the boot tables are loaded
	 * with PCID 0, and no space has been loaded yet. */
	x86_write_cr4(x86_read_cr4() & ~X86_CR4_PCIDE);
	f->pcid_on = false;
}

void x86_cpu_enable_smap(void)
{
	if (!x86_features.smap)
		return;
	x86_write_cr4(x86_read_cr4() | X86_CR4_SMAP);
	x86_features.smap_on = true;
}

void x86_cpu_features_print(void)
{
	const struct x86_features *f = &x86_features;
	const char *brand = f->brand;
	while (*brand == ' ')
		brand++;
	lib_printf("cpu: %s \"%s\" family %u model %u stepping %u, %u-bit phys, %u-bit virt\n",
	           f->vendor, brand, f->family, f->model, f->stepping, f->phys_addr_bits,
	           f->virt_addr_bits);
	lib_printf("cpu: features:%s%s%s%s%s%s%s%s%s%s%s\n", f->pcid ? " pcid" : " -pcid",
	           f->invpcid ? " invpcid" : " -invpcid", f->nx ? " nx" : " -nx",
	           f->smep ? " smep" : " -smep", f->smap ? " smap" : " -smap",
	           f->pge ? " pge" : " -pge", f->page1g ? " 1g-pages" : " -1g-pages",
	           f->x2apic ? " x2apic" : " -x2apic",
	           f->invariant_tsc ? " invariant-tsc" : " -invariant-tsc",
	           f->erms ? " erms" : " -erms", f->tsc ? "" : " -tsc");
	/* What the kernel uses, not only what the CPU has: INVPCID needs PCID on, and the local
	 * APIC runs in x2APIC mode wherever the CPU has it (apic.c). */
	lib_printf("cpu: enabled:%s%s%s%s%s%s%s%s\n", f->nx_on ? " nx" : "", f->pge_on ? " pge" : "",
	           f->smep_on ? " smep" : "", f->pcid_on ? " pcid" : "",
	           f->pcid_on && f->invpcid ? " invpcid" : "", f->smap_on ? " smap" : "",
	           f->page1g ? " 1g-pages" : "", f->x2apic ? " x2apic" : "");
}
