/*
 * Kernel-only tests of the NUMA topology: SRAT and SLIT parsing on tables built in memory
 * (valid, folded and corrupt), the RAM split by node, and the consistency of what the
 * machine that booted reports (node count, distances, the boot CPU's node, every frame's
 * node).
 */
#include <stdint.h>

#include <arch/arch.h>
#include <arch/x86_64/apic.h>
#include <arch/x86_64/topology.h>
#include <mm/phys.h>
#include <mmtest/test.h>

#include "kernel/acpi.h"
#include "kernel/acpi_builder.h"
#include "kernel/boot_topology.h"
#include "kernel/numa.h"

#define GIB (1ull << 30)
#define MIB (1ull << 20)

static uint8_t srat_buf[1024];
static uint8_t slit_buf[256];
static struct numa_info info;

static struct acpi_builder srat_begin(uint8_t revision)
{
	struct acpi_builder b;
	acpi_build_begin(&b, srat_buf, sizeof srat_buf, "SRAT", revision, 12);
	return b;
}

/* Domains 5 and 9 (nodes 0 and 1); entries that must not count: disabled ones. */
static const struct acpi_header *two_domain_srat(void)
{
	struct acpi_builder b = srat_begin(3);
	acpi_build_srat_cpu(&b, 5, 0, ACPI_SRAT_ENABLED);
	acpi_build_srat_x2apic(&b, 9, 300, ACPI_SRAT_ENABLED);
	acpi_build_srat_cpu(&b, 7, 1, 0); /* disabled: domain 7 does not exist */
	acpi_build_srat_mem(&b, 5, 0, 0xA0000, ACPI_SRAT_ENABLED);
	acpi_build_srat_mem(&b, 5, MIB, GIB - MIB, ACPI_SRAT_ENABLED);
	acpi_build_srat_mem(&b, 9, GIB, GIB, ACPI_SRAT_ENABLED);
	acpi_build_srat_mem(&b, 11, 2 * GIB, GIB, 0);              /* disabled */
	acpi_build_srat_mem(&b, 9, 3 * GIB, 0, ACPI_SRAT_ENABLED); /* empty */
	acpi_build_srat_mem(&b, 9, 4 * GIB, GIB, ACPI_SRAT_ENABLED | ACPI_SRAT_MEM_HOTPLUG);
	return acpi_build_finish(&b);
}

TEST(kernel_numa, srat_two_domains)
{
	struct fw_warnings w = {.silent = true};
	ASSERT_TRUE(numa_parse_srat(two_domain_srat(), &info, &w));
	EXPECT_EQ(w.count, 0);
	EXPECT_TRUE(info.from_srat);
	EXPECT_FALSE(info.folded);
	ASSERT_EQ(info.node_count, 2);
	EXPECT_EQ(info.node_domain[0], 5);
	EXPECT_EQ(info.node_domain[1], 9);
	EXPECT_EQ(info.mem_count, 4);
	EXPECT_EQ(info.cpu_count, 2);
	EXPECT_EQ(numa_node_of_apic(&info, 0), 0);
	EXPECT_EQ(numa_node_of_apic(&info, 300), 1);
	EXPECT_EQ(numa_node_of_apic(&info, 1), 0); /* disabled entry: not known */
	EXPECT_EQ(numa_node_of_addr(&info, 0x9F000), 0);
	EXPECT_EQ(numa_node_of_addr(&info, GIB - 1), 0);
	EXPECT_EQ(numa_node_of_addr(&info, GIB), 1);
	EXPECT_EQ(numa_node_of_addr(&info, 2 * GIB + 5), 0);   /* only a disabled entry */
	EXPECT_EQ(numa_node_of_addr(&info, 4 * GIB + MIB), 1); /* hot-pluggable, enabled */
	/* No SLIT: 10 / 20. */
	EXPECT_FALSE(numa_parse_slit(NULL, &info, &w));
	EXPECT_EQ(info.distance[0][0], 10);
	EXPECT_EQ(info.distance[0][1], 20);
	EXPECT_EQ(info.distance[1][0], 20);
	EXPECT_EQ(w.count, 0);

	static struct x86_cpu_list l;
	l.count = 3;
	l.cpu[0].apic_id = 300;
	l.cpu[1].apic_id = 0;
	l.cpu[2].apic_id = 42;
	numa_assign_cpus(&info, &l);
	EXPECT_EQ(l.cpu[0].node, 1);
	EXPECT_EQ(l.cpu[1].node, 0);
	EXPECT_EQ(l.cpu[2].node, 0);
}

TEST(kernel_numa, srat_revision_1_uses_8_bit_domains)
{
	struct acpi_builder b = srat_begin(1);
	acpi_build_srat_cpu(&b, 0x0301, 0, ACPI_SRAT_ENABLED);      /* high bytes ignored */
	acpi_build_srat_mem(&b, 0x0201, 0, GIB, ACPI_SRAT_ENABLED); /* domain 1 */
	acpi_build_srat_mem(&b, 0, GIB, GIB, ACPI_SRAT_ENABLED);
	struct fw_warnings w = {.silent = true};
	ASSERT_TRUE(numa_parse_srat(acpi_build_finish(&b), &info, &w));
	ASSERT_EQ(info.node_count, 2);
	EXPECT_EQ(info.node_domain[0], 0);
	EXPECT_EQ(info.node_domain[1], 1);
	EXPECT_EQ(numa_node_of_apic(&info, 0), 1);
	EXPECT_EQ(numa_node_of_addr(&info, 0), 1);
	EXPECT_EQ(numa_node_of_addr(&info, GIB), 0);
}

TEST(kernel_numa, srat_folds_domains_past_the_node_limit)
{
	struct acpi_builder b = srat_begin(3);
	/* Ten domains, 100..109, listed in reverse: nodes follow the domain numbers. */
	for (uint32_t i = 10; i-- > 0;)
		acpi_build_srat_mem(&b, 100 + i, i * GIB, GIB, ACPI_SRAT_ENABLED);
	struct fw_warnings w = {.silent = true};
	ASSERT_TRUE(numa_parse_srat(acpi_build_finish(&b), &info, &w));
	EXPECT_TRUE(info.folded);
	EXPECT_EQ(w.count, 1);
	ASSERT_EQ(info.node_count, ARCH_MAX_NODES);
	EXPECT_EQ(numa_node_of_addr(&info, 0), 0);
	EXPECT_EQ(numa_node_of_addr(&info, 7 * GIB), 7);
	EXPECT_EQ(numa_node_of_addr(&info, 8 * GIB), 0); /* domain 108 folds onto node 0 */
	EXPECT_EQ(numa_node_of_addr(&info, 9 * GIB), 1);
	EXPECT_EQ(info.node_domain[7], 107);
}

TEST(kernel_numa, srat_corrupt_gives_one_node)
{
	struct fw_warnings w = {.silent = true};

	struct acpi_builder b = srat_begin(3);
	acpi_build_srat_mem(&b, 1, 0, GIB, ACPI_SRAT_ENABLED);
	struct acpi_subtable bad = {ACPI_SRAT_MEMORY, 0}; /* length 0: the walk cannot go on */
	acpi_build_put(&b, &bad, sizeof bad);
	EXPECT_FALSE(numa_parse_srat(acpi_build_finish(&b), &info, &w));
	EXPECT_EQ(info.node_count, 1);
	EXPECT_FALSE(info.from_srat);
	EXPECT_EQ(info.mem_count, 0);
	EXPECT_GE(w.count, 1);

	b = srat_begin(3);
	acpi_build_srat_mem(&b, 1, 0, GIB, ACPI_SRAT_ENABLED);
	struct acpi_subtable short_mem = {ACPI_SRAT_MEMORY, 8}; /* fits, but too short */
	acpi_build_put(&b, &short_mem, sizeof short_mem);
	static const uint8_t pad[6];
	acpi_build_put(&b, pad, sizeof pad);
	unsigned before = w.count;
	EXPECT_FALSE(numa_parse_srat(acpi_build_finish(&b), &info, &w));
	EXPECT_EQ(info.node_count, 1);
	EXPECT_LT(before, w.count);

	b = srat_begin(3);
	acpi_build_srat_cpu(&b, 1, 0, 0);
	acpi_build_srat_mem(&b, 1, 0, GIB, 0);
	before = w.count;
	EXPECT_FALSE(numa_parse_srat(acpi_build_finish(&b), &info, &w)); /* nothing enabled */
	EXPECT_EQ(info.node_count, 1);
	EXPECT_LT(before, w.count);

	acpi_build_begin(&b, srat_buf, sizeof srat_buf, "SRAT", 3, 4);
	before = w.count;
	EXPECT_FALSE(numa_parse_srat(acpi_build_finish(&b), &info, &w)); /* too short */
	EXPECT_LT(before, w.count);
}

/* Three localities, SRAT domains 0 and 2: nodes 0 and 1 take rows and columns 0 and 2. */
static const uint8_t slit3[9] = {
    10, 15, 21, /* from 0 */
    15, 10, 30, /* from 1 */
    22, 30, 10, /* from 2: not symmetric with row 0 */
};

static void two_node_info(void)
{
	struct acpi_builder b = srat_begin(3);
	acpi_build_srat_mem(&b, 0, 0, GIB, ACPI_SRAT_ENABLED);
	acpi_build_srat_mem(&b, 2, GIB, GIB, ACPI_SRAT_ENABLED);
	struct fw_warnings w = {.silent = true};
	numa_parse_srat(acpi_build_finish(&b), &info, &w);
}

TEST(kernel_numa, slit_distances_follow_domains)
{
	two_node_info();
	ASSERT_EQ(info.node_count, 2);
	struct acpi_builder b;
	struct fw_warnings w = {.silent = true};
	ASSERT_TRUE(
	    numa_parse_slit(acpi_build_slit(&b, slit_buf, sizeof slit_buf, 3, slit3), &info, &w));
	EXPECT_TRUE(info.from_slit);
	EXPECT_EQ(info.distance[0][0], 10);
	EXPECT_EQ(info.distance[0][1], 21);
	EXPECT_EQ(info.distance[1][0], 22); /* row = from: asymmetry kept */
	EXPECT_EQ(info.distance[1][1], 10);
	EXPECT_EQ(w.count, 0);

	struct x86_numa_topology topo;
	numa_topology(&info, &topo);
	EXPECT_EQ(topo.node_count, 2);
	EXPECT_EQ(topo.distance[1][0], 22);
}

TEST(kernel_numa, slit_invalid_falls_back)
{
	two_node_info();
	struct acpi_builder b;
	struct fw_warnings w = {.silent = true};
	uint8_t m[9];

	for (int i = 0; i < 9; i++)
		m[i] = slit3[i];
	m[4] = 11; /* a diagonal entry other than 10 */
	EXPECT_FALSE(numa_parse_slit(acpi_build_slit(&b, slit_buf, sizeof slit_buf, 3, m), &info, &w));
	EXPECT_FALSE(info.from_slit);
	EXPECT_EQ(info.distance[0][1], 20);
	EXPECT_EQ(info.distance[1][0], 20);
	EXPECT_EQ(info.distance[1][1], 10);
	EXPECT_GE(w.count, 1);

	m[4] = 10;
	m[5] = 9; /* below 10 */
	unsigned before = w.count;
	EXPECT_FALSE(numa_parse_slit(acpi_build_slit(&b, slit_buf, sizeof slit_buf, 3, m), &info, &w));
	EXPECT_LT(before, w.count);

	/* Two localities, but node 1 stands for domain 2. */
	static const uint8_t m2[4] = {10, 20, 20, 10};
	before = w.count;
	EXPECT_FALSE(numa_parse_slit(acpi_build_slit(&b, slit_buf, sizeof slit_buf, 2, m2), &info, &w));
	EXPECT_LT(before, w.count);

	/* A locality count the table's length cannot hold. */
	struct acpi_header *h = acpi_build_slit(&b, slit_buf, sizeof slit_buf, 3, slit3);
	((struct acpi_slit *)h)->localities = 4;
	acpi_build_fix_checksum(h);
	before = w.count;
	EXPECT_FALSE(numa_parse_slit(h, &info, &w));
	EXPECT_LT(before, w.count);

	/* One node: the SLIT does not matter. */
	numa_single(&info);
	before = w.count;
	EXPECT_FALSE(
	    numa_parse_slit(acpi_build_slit(&b, slit_buf, sizeof slit_buf, 3, slit3), &info, &w));
	EXPECT_EQ(w.count, before);
	EXPECT_EQ(info.distance[0][0], 10);
}

TEST(kernel_numa, split_ram_by_node)
{
	struct acpi_builder b = srat_begin(3);
	acpi_build_srat_mem(&b, 0, 0, 0xA0000, ACPI_SRAT_ENABLED);
	acpi_build_srat_mem(&b, 0, MIB, GIB - MIB, ACPI_SRAT_ENABLED);
	acpi_build_srat_mem(&b, 1, GIB, GIB, ACPI_SRAT_ENABLED);
	acpi_build_srat_mem(&b, 1, 4 * GIB, GIB / 2, ACPI_SRAT_ENABLED);
	struct fw_warnings w = {.silent = true};
	ASSERT_TRUE(numa_parse_srat(acpi_build_finish(&b), &info, &w));

	static struct range_list ram;
	ram.n = 0;
	range_add(&ram, 0, 0x9FC00);
	range_add(&ram, MIB, 0x7FFE0000);
	range_add(&ram, 4 * GIB, 5 * GIB);
	struct mm_phys_range out[8];
	size_t n;
	ASSERT_TRUE(numa_split(&info, &ram, out, 8, &n));
	ASSERT_EQ(n, 5);
	EXPECT_EQ(out[0].base, 0);
	EXPECT_EQ(out[0].size, 0x9FC00);
	EXPECT_EQ(out[0].node, 0);
	EXPECT_EQ(out[1].base, MIB); /* the gap in the SRAT at 640 KiB is a boundary, not RAM */
	EXPECT_EQ(out[1].size, GIB - MIB);
	EXPECT_EQ(out[1].node, 0);
	EXPECT_EQ(out[2].base, GIB);
	EXPECT_EQ(out[2].size, 0x7FFE0000 - GIB);
	EXPECT_EQ(out[2].node, 1);
	EXPECT_EQ(out[3].base, 4 * GIB);
	EXPECT_EQ(out[3].size, GIB / 2);
	EXPECT_EQ(out[3].node, 1);
	EXPECT_EQ(out[4].base, 4 * GIB + GIB / 2); /* not in the SRAT: node 0 */
	EXPECT_EQ(out[4].size, GIB / 2);
	EXPECT_EQ(out[4].node, 0);

	EXPECT_FALSE(numa_split(&info, &ram, out, 4, &n));
	EXPECT_EQ(n, 4);

	/* Without an SRAT the ranges are the RAM's, all node 0. */
	numa_single(&info);
	ASSERT_TRUE(numa_split(&info, &ram, out, 8, &n));
	ASSERT_EQ(n, 3);
	EXPECT_EQ(out[1].base, MIB);
	EXPECT_EQ(out[1].size, 0x7FFE0000 - MIB);
	EXPECT_EQ(out[2].node, 0);
}

TEST(kernel_numa, split_merges_pieces_of_one_node)
{
	/* Two touching entries of node 0, and one of node 1 overlapping both: the overlap is
	 * warned about and the first entry wins, so the RAM stays one node-0 range. */
	struct acpi_builder b = srat_begin(3);
	acpi_build_srat_mem(&b, 0, 0, GIB, ACPI_SRAT_ENABLED);
	acpi_build_srat_mem(&b, 0, GIB, GIB, ACPI_SRAT_ENABLED);
	acpi_build_srat_mem(&b, 1, GIB / 2, GIB, ACPI_SRAT_ENABLED);
	struct fw_warnings w = {.silent = true};
	ASSERT_TRUE(numa_parse_srat(acpi_build_finish(&b), &info, &w));
	EXPECT_EQ(w.count, 1);
	EXPECT_EQ(info.node_count, 2);
	static struct range_list ram;
	ram.n = 0;
	range_add(&ram, MIB, 3 * GIB); /* the last GiB is in no entry: node 0 as well */
	struct mm_phys_range out[8];
	size_t n;
	ASSERT_TRUE(numa_split(&info, &ram, out, 8, &n));
	ASSERT_EQ(n, 1);
	EXPECT_EQ(out[0].base, MIB);
	EXPECT_EQ(out[0].size, 3 * GIB - MIB);
	EXPECT_EQ(out[0].node, 0);
}

/* ---- The machine that booted ------------------------------------------------------- */

TEST(kernel_numa, boot_node_count)
{
	const struct numa_info *ni = topology_numa();
	EXPECT_GE(arch_node_count(), 1);
	EXPECT_LE(arch_node_count(), ARCH_MAX_NODES);
	EXPECT_EQ(arch_node_count(), ni->node_count);
	if (!ni->from_srat)
		EXPECT_EQ(arch_node_count(), 1);
	if (!acpi_find(acpi_boot_dir(), "SRAT"))
		EXPECT_FALSE(ni->from_srat);
}

TEST(kernel_numa, boot_distances)
{
	const struct numa_info *ni = topology_numa();
	const struct acpi_slit *slit = (const struct acpi_slit *)acpi_find(acpi_boot_dir(), "SLIT");
	/* A SLIT in RAM the frame allocator got may be overwritten by now: not compared. */
	bool raw = slit && !mm_phys_is_managed(arch_virt_to_phys(slit));
	unsigned n = arch_node_count();
	for (unsigned a = 0; a < n; a++)
		for (unsigned b = 0; b < n; b++) {
			unsigned d = arch_node_distance(a, b);
			if (a == b) {
				EXPECT_EQ(d, 10);
				continue;
			}
			EXPECT_GE(d, 10);
			if (!ni->from_slit) {
				EXPECT_EQ(d, 20);
				continue;
			}
			if (!raw)
				continue;
			/* The table's own entries, so symmetric exactly where the table is. */
			uint64_t loc = slit->localities;
			uint32_t da = ni->node_domain[a], db = ni->node_domain[b];
			EXPECT_EQ(d, slit->entry[da * loc + db]);
			if (slit->entry[da * loc + db] == slit->entry[db * loc + da])
				EXPECT_EQ(d, arch_node_distance(b, a));
		}
}

TEST(kernel_numa, boot_cpu_node)
{
	const struct numa_info *ni = topology_numa();
	uint32_t apic = x86_apic_id();
	EXPECT_LT(arch_cpu_node(0), arch_node_count());
	EXPECT_EQ(arch_cpu_node(arch_cpu_id()), numa_node_of_apic(ni, apic));
	EXPECT_EQ(arch_cpu_node(0), x86_topology_node_of_apic(apic));
}

TEST(kernel_numa, boot_frames_on_their_srat_node)
{
	const struct numa_info *ni = topology_numa();
	size_t count;
	const struct mm_phys_range *r = topology_phys_ranges(&count);
	ASSERT_GE(count, 1);
	uint64_t end = 0;
	for (size_t i = 0; i < count; i++) {
		EXPECT_LT(r[i].node, arch_node_count());
		/* Every range lies on one node: its two ends agree with the SRAT. */
		EXPECT_EQ(r[i].node, numa_node_of_addr(ni, r[i].base));
		EXPECT_EQ(r[i].node, numa_node_of_addr(ni, r[i].base + r[i].size - 1));
		if (r[i].base + r[i].size > end)
			end = r[i].base + r[i].size;
	}
	/* Every managed frame lies in a range handed to the allocator, on the SRAT's node. */
	uint64_t managed = 0, unplaced = 0, wrong = 0, per_node[ARCH_MAX_NODES] = {0};
	size_t k = 0;
	for (uint64_t p = 0; p < end; p += 4096) {
		if (!mm_phys_is_managed(p))
			continue;
		managed++;
		if (k >= count || p < r[k].base || p >= r[k].base + r[k].size) {
			for (k = 0; k < count; k++)
				if (r[k].base <= p && p < r[k].base + r[k].size)
					break;
			if (k == count) {
				unplaced++;
				continue;
			}
		}
		if (r[k].node != numa_node_of_addr(ni, p))
			wrong++;
		per_node[r[k].node]++;
	}
	EXPECT_GE(managed, 1);
	EXPECT_EQ(unplaced, 0);
	EXPECT_EQ(wrong, 0);
	struct mm_phys_stats st;
	mm_phys_get_stats(&st);
	EXPECT_EQ(managed, st.total_frames);
	/* Every node that was handed a range (of two frames or more, so that rounding
	 * cannot empty it) manages frames. */
	for (size_t i = 0; i < count; i++)
		if (r[i].size >= 2 * 4096)
			EXPECT_GE(per_node[r[i].node], 1);
}

TEST(kernel_numa, boot_allocation_is_local)
{
	const struct numa_info *ni = topology_numa();
	uintptr_t p = mm_phys_alloc_page();
	ASSERT_NE(p, MM_NADDR);
	EXPECT_EQ(numa_node_of_addr(ni, p), arch_cpu_node(arch_cpu_id()));
	EXPECT_EQ(mm_phys_free_page(p), 0);
}
