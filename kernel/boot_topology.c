/* Boot-time topology: the ACPI tables read, the CPU list and nodes installed, the banner. */
#include "kernel/boot_topology.h"

#include <arch/arch.h>
#include <arch/x86_64/topology.h>
#include <lib/print.h>

#include "kernel/acpi.h"
#include "kernel/madt.h"

#define MIB (1ull << 20)

static struct numa_info numa = {.node_count = 1, .distance = {{NUMA_LOCAL_DISTANCE}}};
static struct x86_cpu_list cpus;
static struct fw_warnings warnings;
static struct mm_phys_range phys_ranges[TOPOLOGY_RANGES_MAX];
static size_t phys_range_count;

void topology_init(const struct boot_info *bi)
{
	static struct range_list cached;
	acpi_memory_from_map(bi, &cached);
	uint32_t bsp_apic_id = x86_cpuid_apic_id();
	const struct acpi_dir *dir = acpi_boot_dir();
	acpi_init(&cached, &warnings); /* without ACPI, dir stays empty: the defaults */

	const struct acpi_header *madt = acpi_find(dir, "APIC");
	if (!madt || !madt_parse(madt, bsp_apic_id, &cpus, &warnings))
		madt_bsp_only(bsp_apic_id, &cpus);

	const struct acpi_header *srat = acpi_find(dir, "SRAT");
	if (!srat || !numa_parse_srat(srat, &numa, &warnings))
		numa_single(&numa);
	numa_parse_slit(acpi_find(dir, "SLIT"), &numa, &warnings);
	numa_assign_cpus(&numa, &cpus);

	struct x86_numa_topology t;
	numa_topology(&numa, &t);
	x86_topology_set(&cpus, &t);
}

const struct numa_info *topology_numa(void)
{
	return &numa;
}

const struct mm_phys_range *topology_split_ram(const struct range_list *ram, size_t *count)
{
	if (!numa_split(&numa, ram, phys_ranges, TOPOLOGY_RANGES_MAX, &phys_range_count))
		arch_panic("numa: too many RAM ranges after the split by node");
	*count = phys_range_count;
	return phys_ranges;
}

const struct mm_phys_range *topology_phys_ranges(size_t *count)
{
	*count = phys_range_count;
	return phys_ranges;
}

static void print_tables(void)
{
	const struct acpi_dir *dir = acpi_boot_dir();
	if (dir->rsdp_phys == 0) {
		lib_printf("acpi: no tables\n");
		return;
	}
	lib_printf("acpi: RSDP revision %u (%s) at 0x%llx, %s at 0x%llx:", dir->revision, dir->oem_id,
	           (unsigned long long)dir->rsdp_phys, dir->xsdt ? "XSDT" : "RSDT",
	           (unsigned long long)dir->root_phys);
	for (size_t i = 0; i < dir->count; i++)
		lib_printf(" %s", dir->table[i].sig);
	lib_printf("\n");
}

static void print_cpus(void)
{
	unsigned enabled = 0;
	for (unsigned i = 0; i < cpus.count; i++)
		enabled += cpus.cpu[i].enabled;
	lib_printf("cpu: %u CPU%s %s (%u enabled), boot CPU APIC ID %u on node %u\n", cpus.count,
	           cpus.count == 1 ? "" : "s", cpus.from_madt ? "in the MADT" : "(no MADT)", enabled,
	           cpus.cpu[cpus.bsp].apic_id, cpus.cpu[cpus.bsp].node);
}

static void print_nodes(const struct range_list *ram)
{
	uint64_t bytes[ARCH_MAX_NODES] = {0};
	size_t n;
	static struct mm_phys_range pieces[TOPOLOGY_RANGES_MAX];
	numa_split(&numa, ram, pieces, TOPOLOGY_RANGES_MAX, &n);
	for (size_t i = 0; i < n; i++)
		bytes[pieces[i].node] += pieces[i].size;

	lib_printf("numa: %u node%s (%s), distances from %s\n", numa.node_count,
	           numa.node_count == 1 ? "" : "s", numa.from_srat ? "SRAT" : "no SRAT",
	           numa.from_slit ? "the SLIT" : "defaults");
	for (unsigned node = 0; node < numa.node_count; node++) {
		unsigned ncpu = 0;
		for (unsigned i = 0; i < cpus.count; i++)
			ncpu += cpus.cpu[i].enabled && cpus.cpu[i].node == node;
		lib_printf("numa: node %u (domain %u): %llu MiB, %u CPU%s\n", node, numa.node_domain[node],
		           (unsigned long long)(bytes[node] / MIB), ncpu, ncpu == 1 ? "" : "s");
	}
	lib_printf("numa: distance");
	for (unsigned b = 0; b < numa.node_count; b++)
		lib_printf(" %4u", b);
	lib_printf("\n");
	for (unsigned a = 0; a < numa.node_count; a++) {
		lib_printf("numa: %8u", a);
		for (unsigned b = 0; b < numa.node_count; b++)
			lib_printf(" %4u", arch_node_distance(a, b));
		lib_printf("\n");
	}
}

void topology_print(const struct range_list *ram)
{
	print_tables();
	print_cpus();
	print_nodes(ram);
}
