/* kernel_main: bring the machine up, hand memory to pmm/vmm, run what the command line asks. */
#include <stdbool.h>
#include <stdint.h>

#include <arch/arch.h>
#include <arch/x86_64/apic.h>
#include <arch/x86_64/boot.h>
#include <arch/x86_64/cpu.h>
#include <arch/x86_64/exit.h>
#include <arch/x86_64/features.h>
#include <arch/x86_64/fixmap.h>
#include <arch/x86_64/percpu.h>
#include <arch/x86_64/serial.h>
#include <arch/x86_64/smp.h>
#include <arch/x86_64/trap.h>
#include <arch/x86_64/tsc.h>
#include <arch/x86_64/user.h>
#include <lib/print.h>
#include <mm/phys.h>
#include <mm/vmm.h>
#include <mmbench/kbench.h>
#include <mmtest/test.h>

#include "kernel/acpi_poweroff.h"
#include "kernel/boot_topology.h"
#include "kernel/bootmem.h"
#include "kernel/cmdline.h"
#include "kernel/crashtest.h"
#include "kernel/memmap.h"
#include "kernel/multiboot.h"
#include "kernel/paging.h"
#include "kernel/ring3/user_run.h"

#define MIB (1ull << 20)
#define LOW_MEMORY_END MIB
#define DIRECT_MAP_SIZE (1ull << 39)

static struct boot_info boot_info;
static struct kernel_options options;
/* Usable RAM, what the direct map covers, and what the frame allocator gets. */
static struct range_list ram, mapped, free_ram;

#define say(...)                                                                                   \
	do {                                                                                           \
		if (!options.quiet)                                                                        \
			lib_printf(__VA_ARGS__);                                                               \
	} while (0)

static void cpu_early_init(void)
{
	x86_serial_init();
	x86_percpu_init_bsp();
	x86_idt_init();
	x86_idt_load();
	x86_cpu_features_detect();
	x86_cpu_features_enable();
	/* The kernel reaches user memory only through the direct map, never through user
	 * addresses: SMAP can be on from the start. */
	x86_cpu_enable_smap();
	x86_syscall_init();
}

/* The end of a map entry, saturated: a bogus length must not wrap around. */
static uint64_t entry_end(const struct boot_mmap_entry *e)
{
	uint64_t end = e->base + e->len;
	return end < e->base ? UINT64_MAX : end;
}

/* RAM from the memory map (or, without one, from mem_lower/mem_upper). Reserved ranges win
 * over usable ones where a map overlaps itself. */
static void read_memory_map(void)
{
	const struct boot_info *bi = &boot_info;
	if (bi->has_mmap) {
		for (size_t i = 0; i < bi->mmap_count; i++) {
			const struct boot_mmap_entry *e = &bi->mmap[i];
			if (e->type == BOOT_MEM_RAM)
				range_add(&ram, e->base, entry_end(e));
			if (e->type == BOOT_MEM_RAM || e->type == BOOT_MEM_ACPI_RECLAIM ||
			    e->type == BOOT_MEM_ACPI_NVS)
				range_add(&mapped, e->base, entry_end(e));
		}
		for (size_t i = 0; i < bi->mmap_count; i++) {
			const struct boot_mmap_entry *e = &bi->mmap[i];
			if (e->type != BOOT_MEM_RAM)
				range_remove(&ram, e->base, entry_end(e));
		}
	} else if (bi->has_memory) {
		range_add(&ram, 0, (uint64_t)bi->mem_lower_kib << 10);
		range_add(&ram, LOW_MEMORY_END, LOW_MEMORY_END + ((uint64_t)bi->mem_upper_kib << 10));
		for (size_t i = 0; i < ram.n; i++)
			range_add(&mapped, ram.r[i].base, ram.r[i].end);
	} else {
		arch_panic("the boot loader gave no memory information");
	}
	/* The direct map ends at 512 GiB; RAM beyond it is not used. */
	if (range_intersects(&ram, DIRECT_MAP_SIZE, UINT64_MAX)) {
		lib_printf("mem: RAM above 512 GiB ignored\n");
		range_remove(&ram, DIRECT_MAP_SIZE, UINT64_MAX);
	}
	range_remove(&mapped, DIRECT_MAP_SIZE, UINT64_MAX);
}

static void print_banner(void)
{
	say("\nmmkernel: x86_64 virtual-memory manager test kernel\n");
	say("boot: loader \"%s\", command line \"%s\"\n", boot_info.loader[0] ? boot_info.loader : "?",
	    boot_info.cmdline);
	if (!options.quiet)
		x86_cpu_features_print();
	for (size_t i = 0; i < boot_info.mmap_count; i++) {
		const struct boot_mmap_entry *e = &boot_info.mmap[i];
		say("mem: [%016llx, %016llx) %s\n", (unsigned long long)e->base,
		    (unsigned long long)(e->base + e->len), multiboot_mem_type_name(e->type));
	}
	say("mem: %llu MiB usable RAM in %zu ranges\n", (unsigned long long)(range_total(&ram) / MIB),
	    ram.n);
}

/* What the run's switches, flushes and IPIs came to, and which hardware path each took:
 * the figures that show PCID, INVPCID and x2APIC at work on a machine that has them. */
static void print_tlb_paths(void)
{
	struct mm_tlb_stats t;
	mm_tlb_get_stats(&t);
	struct x86_path_counts p;
	x86_path_counts_sum(&p);
	say("tlb: %llu switches, %llu kept their entries (PCID %s); %llu shootdowns; flushes: "
	    "%llu by page, %llu of a PCID, %llu of all, %llu lazy, %llu skipped\n",
	    (unsigned long long)t.switches, (unsigned long long)t.switches_kept, t.pcid ? "on" : "off",
	    (unsigned long long)t.shootdowns, (unsigned long long)t.flush_pages,
	    (unsigned long long)t.flush_pcid, (unsigned long long)t.flush_all,
	    (unsigned long long)t.flush_lazy, (unsigned long long)t.flush_skipped);
	say("paths: %llu INVLPG, %llu INVPCID, %llu CR3 rewrites; IPIs: %llu x2APIC, %llu xAPIC\n",
	    (unsigned long long)p.invlpg, (unsigned long long)p.invpcid,
	    (unsigned long long)p.cr3_flushes, (unsigned long long)p.x2apic_ipis,
	    (unsigned long long)p.xapic_ipis);
}

/* The ACPI soft-off state, read while the tables are still mapped and not yet the frame
 * allocator's. */
static struct acpi_s5 soft_off;

static void power_off(void)
{
	acpi_s5_enter(&soft_off);
}

static void power_off_init(void)
{
	struct fw_warnings w = {0};
	if (acpi_s5_read(acpi_boot_dir(), &soft_off, &w))
		x86_set_power_off(power_off);
	else
		lib_printf("poweroff: this machine's ACPI tables give no soft-off state (S5): the run "
		           "will halt at the end\n");
}

/* Page tables: direct map, image permissions, fixmap; then the identity map goes. The ACPI
 * tables are read while bootmem can still map their pages, and before the frame allocator
 * starts: it needs each RAM range's node. */
static void memory_init(void)
{
	uint64_t image_start = x86_image_phys(kimage_start);
	uint64_t image_end = x86_image_phys(kimage_end);
	if (!range_contains(&ram, image_start, image_end))
		arch_panic("the kernel image is not in usable RAM");

	bootmem_init(image_end, &ram);
	struct direct_map_stats dm;
	paging_build_direct_map(&mapped, &dm);
	paging_map_image();
	paging_map_fixmap();
	paging_drop_identity();
	topology_init(&boot_info);
	if (options.poweroff)
		power_off_init();
	uint64_t boot_end = bootmem_close();
	x86_set_kernel_root(paging_kernel_root());

	say("mem: direct map of [0, %llu MiB) at %016llx: %u x 1 GiB + %u x 2 MiB pages\n",
	    (unsigned long long)(dm.end / MIB), (unsigned long long)X86_DIRECT_MAP_BASE, dm.pages_1g,
	    dm.pages_2m);
	say("mem: kernel image [%016llx, %016llx), boot page tables to %016llx\n",
	    (unsigned long long)image_start, (unsigned long long)image_end,
	    (unsigned long long)boot_end);

	/* The frame allocator gets usable RAM except the real-mode area (BIOS data, the
	 * AP trampoline of <arch/x86_64/smp.h>), the image and the boot page tables. The Multiboot data was
	 * copied into the image, so its memory is free. */
	free_ram = ram;
	range_remove(&free_ram, 0, LOW_MEMORY_END);
	range_remove(&free_ram, image_start, boot_end);
	size_t nranges;
	const struct mm_phys_range *phys_ranges = topology_split_ram(&free_ram, &nranges);
	say("mem: %llu MiB in %zu ranges to the frame allocator\n",
	    (unsigned long long)(range_total(&free_ram) / MIB), nranges);
	if (!options.quiet)
		topology_print(&ram);

	int rc = mm_phys_init(phys_ranges, nranges);
	if (rc != 0) {
		lib_printf("mm_phys_init: %d\n", rc);
		arch_panic("mm_phys_init failed");
	}
	struct mm_phys_stats ps;
	mm_phys_get_stats(&ps);
	/* The frame table covers frame 0 up to the last RAM frame, holes included: its cost per
	 * managed frame is the honest overhead figure. */
	say("pmm: %llu frames managed, frame table %llu KiB (%llu.%02llu bytes per managed frame)\n",
	    (unsigned long long)ps.total_frames, (unsigned long long)(ps.frame_table_bytes >> 10),
	    (unsigned long long)(ps.frame_table_bytes / ps.total_frames),
	    (unsigned long long)(ps.frame_table_bytes * 100 / ps.total_frames % 100));
	rc = mm_vm_init(paging_kernel_root());
	if (rc != 0) {
		lib_printf("mm_vm_init: %d\n", rc);
		arch_panic("mm_vm_init failed");
	}
	x86_user_init();
}

static void devices_init(void)
{
	uint64_t hz = x86_tsc_calibrate();
	if (hz)
		say("tsc: %llu.%03llu MHz (PIT)%s\n", (unsigned long long)(hz / 1000000),
		    (unsigned long long)(hz / 1000 % 1000),
		    x86_features.invariant_tsc ? ", invariant" : "");
	else
		lib_printf("tsc: the PIT did not answer, frequency unknown\n");

	x86_pic_disable();
	x86_apic_init_bsp();
	if (!x86_apic_self_test())
		arch_panic("local APIC: a self-IPI was not delivered");
	say("apic: %s, BSP APIC ID %u, self-IPI delivered\n", x86_apic_is_x2apic() ? "x2APIC" : "xAPIC",
	    x86_apic_id());
}

/* An AP's start-up, as the contract orders it: it takes IPIs already, and makes no other
 * memory-manager call before this one. */
static void ap_online(unsigned cpu)
{
	(void)cpu;
	mm_cpu_online();
}

/* The application processors, once the BSP's APIC, the TSC (for the start-up's timeouts)
 * and the memory manager (their stacks, and the kernel space they join) are up. */
static void smp_init(void)
{
	if (!range_contains(&ram, X86_TRAMPOLINE_PHYS, X86_TRAMPOLINE_END)) {
		lib_printf("smp: [0x%x, 0x%x) is not RAM, no room for the AP trampoline: running on "
		           "the bootstrap CPU only\n",
		           X86_TRAMPOLINE_PHYS, X86_TRAMPOLINE_END);
		return;
	}
	x86_smp_start(options.max_cpus, !options.quiet, ap_online);
}

_Noreturn void kernel_main(uint32_t mb_magic, uint32_t mb_info_phys)
{
	uint64_t t0 = x86_rdtsc();
	cpu_early_init();
	if (mb_magic != MULTIBOOT_BOOTLOADER_MAGIC)
		arch_panic("not started by a Multiboot 1 loader");
	multiboot_copy(mb_info_phys, &boot_info);

	/* Parsed from a copy: the options point into it, the banner prints the original. */
	static char cmdline[BOOT_CMDLINE_MAX];
	for (size_t i = 0; i < sizeof cmdline; i++)
		cmdline[i] = boot_info.cmdline[i];
	cmdline_parse(cmdline, &options);
	if (options.nopcid)
		x86_cpu_refuse_pcid();
	acpi_use_rsdp(options.acpi_rsdp);

	read_memory_map();
	print_banner();
	memory_init();
	devices_init();
	smp_init();
	x86_sti();

	uint64_t mhz = arch_cycles_per_second() / 1000000;
	if (mhz)
		say("boot: ready after %llu us\n", (unsigned long long)((x86_rdtsc() - t0) / mhz));

	unsigned failures = 0;
	if (options.crashtest) {
		crashtest_run(options.crashtest);
		failures++;
	}
	if (options.tests)
		failures += mm_test_run_all(options.tests_filter);
	if (options.bench)
		failures += mm_kbench_run_all(options.bench_filter);
	print_tlb_paths();
	lib_printf("mmkernel: %s, %u failure%s\n", failures ? "FAIL" : "PASS", failures,
	           failures == 1 ? "" : "s");
	kernel_exit(failures == 0);
}
