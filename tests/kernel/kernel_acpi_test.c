/*
 * Kernel-only tests of the ACPI code: checksums, the RSDP search, the RSDT/XSDT walk and
 * the MADT on tables built in memory (valid and corrupt), the firmware-page mapper on a
 * scratch page table, and the tables of the machine that booted.
 */
#include <stdint.h>

#include <arch/arch.h>
#include <arch/x86_64/apic.h>
#include <arch/x86_64/boot.h>
#include <arch/x86_64/cpu.h>
#include <arch/x86_64/features.h>
#include <arch/x86_64/fixmap.h>
#include <arch/x86_64/percpu.h>
#include <arch/x86_64/pt_walk.h>
#include <arch/x86_64/topology.h>
#include <lib/string.h>
#include <mm/phys.h>
#include <mmtest/test.h>

#include "kernel/acpi.h"
#include "kernel/acpi_builder.h"
#include "kernel/acpi_poweroff.h"
#include "kernel/madt.h"
#include "kernel/paging.h"

static void fill_rsdp(struct acpi_rsdp *r, uint8_t revision, uint32_t rsdt, uint64_t xsdt)
{
	memset(r, 0, sizeof *r);
	memcpy(r->signature, ACPI_RSDP_SIG, 8);
	memcpy(r->oem_id, "MMTEST", 6);
	r->revision = revision;
	r->rsdt_address = rsdt;
	r->length = ACPI_RSDP_V2_LEN;
	r->xsdt_address = xsdt;
	uint8_t sum = 0;
	for (int i = 0; i < ACPI_RSDP_V1_LEN; i++)
		sum = (uint8_t)(sum + ((uint8_t *)r)[i]);
	r->checksum = (uint8_t)-sum;
	sum = 0;
	for (int i = 0; i < ACPI_RSDP_V2_LEN; i++)
		sum = (uint8_t)(sum + ((uint8_t *)r)[i]);
	r->extended_checksum = (uint8_t)-sum;
}

TEST(kernel_acpi, checksum)
{
	uint8_t b[8] = {1, 2, 3, 4, 5, 6, 7, 0};
	b[7] = (uint8_t) - (1 + 2 + 3 + 4 + 5 + 6 + 7);
	EXPECT_TRUE(acpi_checksum_ok(b, sizeof b));
	b[3] ^= 0x10;
	EXPECT_FALSE(acpi_checksum_ok(b, sizeof b));
	EXPECT_TRUE(acpi_checksum_ok(b, 0));
}

TEST(kernel_acpi, rsdp_validation)
{
	static struct acpi_rsdp r;
	fill_rsdp(&r, 0, 0x1000, 0);
	EXPECT_TRUE(acpi_rsdp_ok(&r, ACPI_RSDP_V1_LEN));
	fill_rsdp(&r, 2, 0x1000, 0x2000);
	EXPECT_TRUE(acpi_rsdp_ok(&r, sizeof r));
	EXPECT_FALSE(acpi_rsdp_ok(&r, ACPI_RSDP_V1_LEN)); /* the v2 part must be readable */
	r.extended_checksum++;
	EXPECT_FALSE(acpi_rsdp_ok(&r, sizeof r));
	fill_rsdp(&r, 2, 0x1000, 0x2000);
	r.length = 20; /* shorter than a v2 RSDP: refused */
	EXPECT_FALSE(acpi_rsdp_ok(&r, sizeof r));
	fill_rsdp(&r, 0, 0x1000, 0);
	r.checksum++;
	EXPECT_FALSE(acpi_rsdp_ok(&r, sizeof r));
	fill_rsdp(&r, 0, 0x1000, 0);
	r.signature[0] = 'X';
	r.checksum = (uint8_t)(r.checksum - ('X' - 'R')); /* sums to 0, wrong signature */
	EXPECT_FALSE(acpi_rsdp_ok(&r, sizeof r));
}

TEST(kernel_acpi, rsdp_scan_skips_corrupt_and_unaligned)
{
	static uint8_t area[256] __attribute__((aligned(16)));
	struct acpi_rsdp r;
	memset(area, 0, sizeof area);
	fill_rsdp(&r, 0, 0x1000, 0);
	memcpy(area + 8, &r, ACPI_RSDP_V1_LEN); /* valid but not on a 16-byte boundary */
	EXPECT_TRUE(acpi_rsdp_scan(area, sizeof area) == NULL);

	r.checksum++;
	memcpy(area + 32, &r, ACPI_RSDP_V1_LEN); /* corrupt */
	fill_rsdp(&r, 2, 0x1000, 0x2000);
	r.extended_checksum++;
	memcpy(area + 64, &r, sizeof r); /* corrupt in the v2 part only */
	fill_rsdp(&r, 0, 0x3000, 0);
	memcpy(area + 128, &r, ACPI_RSDP_V1_LEN);
	EXPECT_TRUE(acpi_rsdp_scan(area, sizeof area) == (const void *)(area + 128));
	/* One that does not fit in the area is not read past its end. */
	EXPECT_TRUE(acpi_rsdp_scan(area, 128 + ACPI_RSDP_V1_LEN - 1) == NULL);
}

TEST(kernel_acpi, table_validation)
{
	static uint8_t buf[64];
	struct acpi_builder b;
	acpi_build_begin(&b, buf, sizeof buf, "TEST", 1, 4);
	struct acpi_header *h = acpi_build_finish(&b);
	EXPECT_TRUE(acpi_table_ok(h, sizeof buf));
	EXPECT_FALSE(acpi_table_ok(h, ACPI_HEADER_LEN)); /* the length says 40 */
	buf[38] = 1;
	EXPECT_FALSE(acpi_table_ok(h, sizeof buf));
	acpi_build_fix_checksum(h);
	EXPECT_TRUE(acpi_table_ok(h, sizeof buf));
	h->length = ACPI_HEADER_LEN - 1;
	acpi_build_fix_checksum(h);
	EXPECT_FALSE(acpi_table_ok(h, sizeof buf));
}

/* ---- The root-table walk, on tables in the kernel image (RAM: already mapped) -------- */

static struct {
	struct acpi_rsdp rsdp __attribute__((aligned(16)));
	uint8_t rsdt[64], xsdt[64], good[64], bad[64];
} fw;

static uint64_t phys_of(const void *p)
{
	return x86_image_phys(p);
}

static void build_root_tables(void)
{
	struct acpi_builder b;
	acpi_build_begin(&b, fw.good, sizeof fw.good, "GOOD", 1, 0);
	acpi_build_finish(&b);
	acpi_build_begin(&b, fw.bad, sizeof fw.bad, "BADC", 1, 0);
	((struct acpi_header *)acpi_build_finish(&b))->checksum ^= 0x55;

	uint64_t x[3] = {phys_of(fw.good), 0, phys_of(fw.bad)};
	acpi_build_begin(&b, fw.xsdt, sizeof fw.xsdt, "XSDT", 1, 0);
	acpi_build_put(&b, x, sizeof x);
	acpi_build_finish(&b);

	uint32_t r[2] = {(uint32_t)phys_of(fw.bad), (uint32_t)phys_of(fw.good)};
	acpi_build_begin(&b, fw.rsdt, sizeof fw.rsdt, "RSDT", 1, 0);
	acpi_build_put(&b, r, sizeof r);
	acpi_build_finish(&b);

	fill_rsdp(&fw.rsdp, 2, (uint32_t)phys_of(fw.rsdt), phys_of(fw.xsdt));
}

TEST(kernel_acpi, read_root_prefers_xsdt_and_drops_corrupt_tables)
{
	build_root_tables();
	static struct acpi_dir dir;
	struct fw_warnings w = {.silent = true};
	ASSERT_TRUE(acpi_read_root(phys_of(&fw.rsdp), &dir, &w));
	EXPECT_TRUE(dir.xsdt);
	EXPECT_EQ(dir.root_phys, phys_of(fw.xsdt));
	EXPECT_EQ(dir.revision, 2);
	ASSERT_EQ(dir.count, 1);
	EXPECT_EQ(dir.table[0].phys, phys_of(fw.good));
	EXPECT_TRUE(acpi_find(&dir, "GOOD") == (const void *)arch_phys_to_virt(phys_of(fw.good)));
	EXPECT_TRUE(acpi_find(&dir, "BADC") == NULL);
	EXPECT_EQ(w.count, 1); /* the corrupt table */
}

TEST(kernel_acpi, read_root_falls_back_to_rsdt)
{
	build_root_tables();
	static struct acpi_dir dir;
	struct fw_warnings w = {.silent = true};
	fw.xsdt[ACPI_HEADER_LEN] ^= 1; /* the XSDT's checksum no longer holds */
	ASSERT_TRUE(acpi_read_root(phys_of(&fw.rsdp), &dir, &w));
	EXPECT_FALSE(dir.xsdt);
	EXPECT_EQ(dir.root_phys, phys_of(fw.rsdt));
	ASSERT_EQ(dir.count, 1);
	EXPECT_TRUE(acpi_find(&dir, "GOOD") != NULL);
	EXPECT_GE(w.count, 2); /* the XSDT, the corrupt table */

	/* Revision 0 never looks at the XSDT address. */
	build_root_tables();
	fill_rsdp(&fw.rsdp, 0, (uint32_t)phys_of(fw.rsdt), phys_of(fw.xsdt));
	ASSERT_TRUE(acpi_read_root(phys_of(&fw.rsdp), &dir, &w));
	EXPECT_FALSE(dir.xsdt);

	/* A corrupt RSDP gives nothing. */
	fw.rsdp.checksum++;
	EXPECT_FALSE(acpi_read_root(phys_of(&fw.rsdp), &dir, &w));
	EXPECT_EQ(dir.count, 0);
}

TEST(kernel_acpi, map_refuses_the_interrupt_controllers)
{
	/* The local APIC's registers: never mapped, whatever a table says. */
	EXPECT_TRUE(acpi_map(0xFEE00000ull, ACPI_HEADER_LEN) == NULL);
	EXPECT_TRUE(acpi_map(0xFEC00000ull, 16) == NULL);
	EXPECT_TRUE(acpi_map(0xFEBFFFF0ull, 32) == NULL);  /* runs into the window */
	EXPECT_TRUE(acpi_map(UINT64_MAX - 8, 16) == NULL); /* wraps */
	EXPECT_TRUE(acpi_map(phys_of(fw.good), 0) == NULL);
	EXPECT_TRUE(acpi_map(phys_of(fw.good), 16) != NULL); /* RAM: the image */
}

/* ---- MADT ------------------------------------------------------------------------- */

static uint8_t madt_buf[256];

static struct acpi_builder madt_begin(void)
{
	struct acpi_builder b;
	acpi_build_begin(&b, madt_buf, sizeof madt_buf, "APIC", 5, 8);
	((struct acpi_madt *)madt_buf)->lapic_address = 0xFEE00000u;
	return b;
}

TEST(kernel_acpi, madt_cpu_list)
{
	struct acpi_builder b = madt_begin();
	acpi_build_madt_lapic(&b, 0, 0, ACPI_MADT_ENABLED);
	acpi_build_madt_lapic(&b, 1, 1, ACPI_MADT_ONLINE_CAPABLE); /* kept, not enabled */
	acpi_build_madt_lapic(&b, 2, 2, 0);                        /* not present */
	acpi_build_madt_lapic(&b, 3, 0xFF, ACPI_MADT_ENABLED);     /* broadcast ID */
	acpi_build_madt_x2apic(&b, 300, 300, ACPI_MADT_ENABLED);
	acpi_build_madt_x2apic(&b, 4, 0, ACPI_MADT_ENABLED); /* a repeat of APIC ID 0 */
	struct acpi_madt_lapic_override o = {{ACPI_MADT_LAPIC_OVERRIDE, sizeof o}, 0, 0xFEE10000ull};
	acpi_build_put(&b, &o, sizeof o);
	const struct acpi_header *h = acpi_build_finish(&b);

	static struct x86_cpu_list l;
	struct fw_warnings w = {.silent = true};
	ASSERT_TRUE(madt_parse(h, 300, &l, &w));
	EXPECT_TRUE(l.from_madt);
	EXPECT_EQ(l.lapic_phys, 0xFEE10000ull);
	ASSERT_EQ(l.count, 3);
	EXPECT_EQ(l.cpu[0].apic_id, 0);
	EXPECT_TRUE(l.cpu[0].enabled);
	EXPECT_FALSE(l.cpu[0].x2apic_entry);
	EXPECT_EQ(l.cpu[1].apic_id, 1);
	EXPECT_FALSE(l.cpu[1].enabled);
	EXPECT_TRUE(l.cpu[1].online_capable);
	EXPECT_EQ(l.cpu[2].apic_id, 300);
	EXPECT_EQ(l.cpu[2].acpi_uid, 300);
	EXPECT_TRUE(l.cpu[2].x2apic_entry);
	EXPECT_EQ(l.bsp, 2);
	EXPECT_EQ(w.count, 1); /* the repeat */
}

TEST(kernel_acpi, madt_before_revision_5_keeps_disabled_cpus)
{
	struct acpi_builder b;
	acpi_build_begin(&b, madt_buf, sizeof madt_buf, "APIC", 3, 8);
	acpi_build_madt_lapic(&b, 0, 0, ACPI_MADT_ENABLED);
	acpi_build_madt_lapic(&b, 1, 1, 0); /* a CPU that may be hot-added */
	static struct x86_cpu_list l;
	struct fw_warnings w = {.silent = true};
	ASSERT_TRUE(madt_parse(acpi_build_finish(&b), 0, &l, &w));
	ASSERT_EQ(l.count, 2);
	EXPECT_FALSE(l.cpu[1].enabled);
	EXPECT_TRUE(l.cpu[1].online_capable);
	EXPECT_EQ(w.count, 0);
}

TEST(kernel_acpi, madt_adds_a_missing_boot_cpu_and_stops_at_a_bad_entry)
{
	struct acpi_builder b = madt_begin();
	acpi_build_madt_lapic(&b, 0, 0, ACPI_MADT_ENABLED);
	acpi_build_madt_lapic(&b, 1, 1, ACPI_MADT_ONLINE_CAPABLE);
	struct acpi_subtable bad = {ACPI_MADT_LAPIC, 200}; /* runs past the table */
	acpi_build_put(&b, &bad, sizeof bad);
	const struct acpi_header *h = acpi_build_finish(&b);

	static struct x86_cpu_list l;
	struct fw_warnings w = {.silent = true};
	ASSERT_TRUE(madt_parse(h, 7, &l, &w));
	ASSERT_EQ(l.count, 3);
	EXPECT_EQ(l.cpu[l.bsp].apic_id, 7);
	EXPECT_TRUE(l.cpu[l.bsp].enabled);
	EXPECT_EQ(w.count, 2); /* the bad entry, the missing boot CPU */

	/* The boot CPU listed as disabled is enabled (it is running this test). */
	w.count = 0;
	ASSERT_TRUE(madt_parse(h, 1, &l, &w));
	EXPECT_EQ(l.bsp, 1);
	EXPECT_TRUE(l.cpu[1].enabled);
	EXPECT_EQ(w.count, 2);

	/* Too short to be a MADT: the boot CPU alone. */
	struct acpi_builder s;
	acpi_build_begin(&s, madt_buf, sizeof madt_buf, "APIC", 5, 0);
	h = acpi_build_finish(&s);
	EXPECT_FALSE(madt_parse(h, 5, &l, &w));
	ASSERT_EQ(l.count, 1);
	EXPECT_EQ(l.cpu[0].apic_id, 5);
	EXPECT_FALSE(l.from_madt);
}

/* ---- The firmware-page mapper on a scratch PDPT -------------------------------------- */

#define SCRATCH_MAX 8
static uint64_t scratch[SCRATCH_MAX];
static unsigned scratch_n;

static uint64_t scratch_alloc(void)
{
	if (scratch_n == SCRATCH_MAX)
		arch_panic("scratch page tables exhausted");
	uintptr_t p = mm_phys_alloc_page();
	if (p == MM_NADDR)
		arch_panic("scratch page table: out of memory");
	memset(arch_phys_to_virt(p), 0, 4096);
	scratch[scratch_n++] = p;
	return p;
}

TEST(kernel_acpi, firmware_pages_mapped_read_only_around_large_pages)
{
	scratch_n = 0;
	uint64_t *pdpt = arch_phys_to_virt(scratch_alloc());
	const uint64_t gib = 1ull << 30, mib2 = 1ull << 21;
	uint64_t dm = X86_DIRECT_MAP_BASE;
	/* GiB 3 is a 1 GiB page; in GiB 2, the 2 MiB chunk 5 is a large page. */
	pdpt[pt_index(dm + 3 * gib, 3)] = 3 * gib | PTE_P | PTE_W | PTE_PS;
	uint64_t pd_phys = scratch_alloc();
	pdpt[pt_index(dm + 2 * gib, 3)] = pd_phys | PTE_P | PTE_W;
	uint64_t *pd = arch_phys_to_virt(pd_phys);
	uint64_t big = 2 * gib + 5 * mib2;
	pd[pt_index(dm + big, 2)] = big | PTE_P | PTE_W | PTE_PS;

	EXPECT_EQ(paging_fill_firmware(pdpt, 3 * gib + 0x1234, 3 * gib + 0x5000, 0, scratch_alloc), 0);
	/* Two pages under the large page, then two (the second partly) after it. */
	uint64_t base = big + mib2 - 0x2000, end = big + mib2 + 0x1800;
	EXPECT_EQ(paging_fill_firmware(pdpt, base, end, 0, scratch_alloc), 2);
	EXPECT_EQ(scratch_n, 3); /* one new page table */
	EXPECT_EQ(pd[pt_index(dm + big, 2)], big | PTE_P | PTE_W | PTE_PS);
	uint64_t pde = pd[pt_index(dm + big + mib2, 2)];
	ASSERT_TRUE(pde & PTE_P);
	EXPECT_FALSE(pde & PTE_PS);
	uint64_t *pt = arch_phys_to_virt(pde & PTE_ADDR_MASK);
	for (unsigned i = 0; i < 2; i++) {
		uint64_t e = pt[i];
		EXPECT_EQ(e & PTE_ADDR_MASK, big + mib2 + i * 0x1000ull);
		EXPECT_TRUE(e & PTE_P);
		EXPECT_FALSE(e & PTE_W);
		EXPECT_FALSE(e & (PTE_PCD | PTE_PWT));
		EXPECT_EQ(!!(e & PTE_NX), x86_features.nx_on);
	}
	EXPECT_EQ(pt[2], 0);
	/* Mapping again adds nothing. */
	EXPECT_EQ(paging_fill_firmware(pdpt, base, end, 0, scratch_alloc), 0);
	/* An uncached page (what a hole in the memory map gets). */
	uint64_t uc = PTE_PCD | PTE_PWT;
	EXPECT_EQ(paging_fill_firmware(pdpt, end + 0x800, end + 0x900, uc, scratch_alloc), 1);
	EXPECT_EQ(pt[2] & (PTE_ADDR_MASK | uc | PTE_W), (end & ~0xFFFull) + 0x1000 + uc);

	for (unsigned i = 0; i < scratch_n; i++)
		EXPECT_EQ(mm_phys_free_page(scratch[i]), 0);
}

/* ---- The machine that booted ------------------------------------------------------- */

TEST(kernel_acpi, boot_tables_valid_and_read_only)
{
	const struct acpi_dir *dir = acpi_boot_dir();
	ASSERT_NE(dir->rsdp_phys, 0); /* every PC, and QEMU's pc machine, has ACPI */
	ASSERT_TRUE(acpi_find(dir, "APIC") != NULL);
	uint64_t root = x86_kernel_root();
	for (size_t i = 0; i < dir->count; i++) {
		const struct acpi_table_ref *ref = &dir->table[i];
		if (mm_phys_is_managed(ref->phys))
			continue; /* in RAM the frame allocator got: it may be overwritten by now */
		EXPECT_TRUE(acpi_table_ok(ref->hdr, ref->len));
		EXPECT_EQ(memcmp(ref->hdr->signature, ref->sig, 4), 0);
		/* Each page is mapped; the ones this code mapped (4 KiB leaves) read-only, and
		 * uncached where the memory map does not call them memory. */
		for (uint64_t p = ref->phys & ~0xFFFull; p < ref->phys + ref->len; p += 0x1000) {
			int level;
			pte_t *e = pt_walk_leaf(root, X86_DIRECT_MAP_BASE + p, &level);
			ASSERT_TRUE(e != NULL);
			if (level != 1)
				continue;
			EXPECT_FALSE(*e & PTE_W);
			if (!acpi_memory_cached(p, p + 0x1000))
				EXPECT_EQ(*e & (PTE_PCD | PTE_PWT), PTE_PCD | PTE_PWT);
		}
	}
}

TEST(kernel_acpi, boot_interrupt_controllers_not_in_the_direct_map)
{
	const struct x86_cpu_list *l = x86_topology_cpus();
	uint64_t root = x86_kernel_root();
	int level;
	EXPECT_TRUE(pt_walk_leaf(root, X86_DIRECT_MAP_BASE + 0xFEC00000ull, &level) == NULL);
	if (l->lapic_phys)
		EXPECT_TRUE(pt_walk_leaf(root, X86_DIRECT_MAP_BASE + l->lapic_phys, &level) == NULL);
}

TEST(kernel_acpi, boot_cpu_list)
{
	const struct x86_cpu_list *l = x86_topology_cpus();
	ASSERT_GE(l->count, 1);
	EXPECT_TRUE(l->from_madt);
	EXPECT_LT(l->bsp, l->count);
	EXPECT_EQ(l->cpu[l->bsp].apic_id, x86_apic_id());
	EXPECT_EQ(x86_cpuid_apic_id(), x86_apic_id());
	EXPECT_TRUE(l->cpu[l->bsp].enabled);
	for (unsigned i = 0; i < l->count; i++) {
		EXPECT_LT(l->cpu[i].node, arch_node_count());
		for (unsigned j = 0; j < i; j++)
			EXPECT_NE(l->cpu[i].apic_id, l->cpu[j].apic_id);
	}
	if (!x86_apic_is_x2apic() && l->lapic_phys)
		EXPECT_EQ(l->lapic_phys, x86_rdmsr(X86_MSR_APIC_BASE) & 0x000FFFFFFFFFF000ull);
}

/* ---- The soft-off state (acpi_poweroff.h) --------------------------------------------- */

TEST(kernel_acpi, s5_package_in_aml)
{
	uint8_t a = 9, b = 9;
	/* Name(_S5, Package(4){0x05, 0x05, Zero, Zero}), as many BIOSes write it. */
	static const uint8_t bytes[] = {0x10, 0x08, '_',  'S',  '5',  '_',  0x12, 0x0A,
	                                0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00};
	EXPECT_TRUE(acpi_aml_find_s5(bytes, sizeof bytes, &a, &b));
	EXPECT_EQ(a, 5);
	EXPECT_EQ(b, 5);
	/* Name(\_S5, Package(2){Zero, One}) with a two-byte package length. */
	static const uint8_t rooted[] = {0x08, '\\', '_',  'S',  '5',  '_',
	                                 0x12, 0x40, 0x00, 0x02, 0x00, 0x01};
	EXPECT_TRUE(acpi_aml_find_s5(rooted, sizeof rooted, &a, &b));
	EXPECT_EQ(a, 0);
	EXPECT_EQ(b, 1);
	/* A word constant: its low byte. */
	static const uint8_t word[] = {0x08, '_',  'S',  '5',  '_',  0x12, 0x08,
	                               0x02, 0x0B, 0x07, 0x00, 0x0A, 0x03};
	EXPECT_TRUE(acpi_aml_find_s5(word, sizeof word, &a, &b));
	EXPECT_EQ(a, 7);
	EXPECT_EQ(b, 3);
}

TEST(kernel_acpi, s5_refused_when_absent_or_cut)
{
	uint8_t a = 9, b = 9;
	/* A reference to _S5_ (no NameOp before it) is not its definition. */
	static const uint8_t reference[] = {0x70, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x00, 0x00};
	EXPECT_FALSE(acpi_aml_find_s5(reference, sizeof reference, &a, &b));
	/* The package runs past the end, at each byte. */
	static const uint8_t whole[] = {0x08, '_',  'S',  '5',  '_',  0x12,
	                                0x06, 0x02, 0x0A, 0x05, 0x0A, 0x05};
	EXPECT_TRUE(acpi_aml_find_s5(whole, sizeof whole, &a, &b));
	for (size_t len = 0; len < sizeof whole; len++)
		EXPECT_FALSE(acpi_aml_find_s5(whole, len, &a, &b));
	/* One element only, or something other than a constant. */
	static const uint8_t one[] = {0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x01, 0x0A, 0x05};
	EXPECT_FALSE(acpi_aml_find_s5(one, sizeof one, &a, &b));
	static const uint8_t method[] = {0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x14, 0x00, 0x00};
	EXPECT_FALSE(acpi_aml_find_s5(method, sizeof method, &a, &b));
	EXPECT_EQ(a, 5); /* untouched by the refusals */
}

TEST(kernel_acpi, the_machine_has_a_soft_off_state)
{
	/* QEMU's and Bochs's firmware both describe S5 with PIIX4-style PM1 control ports. */
	const struct acpi_dir *dir = acpi_boot_dir();
	if (!acpi_find(dir, "FACP"))
		return; /* a loader that passed no ACPI tables */
	struct acpi_s5 s5;
	struct fw_warnings w = {.silent = true};
	ASSERT_TRUE(acpi_s5_read(dir, &s5, &w));
	EXPECT_TRUE(s5.ok);
	EXPECT_NE(s5.pm1a_cnt, 0);
	EXPECT_LE(s5.slp_typa, 7);
	EXPECT_EQ(w.count, 0);
}
