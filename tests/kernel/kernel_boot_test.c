/* Tests of the kernel's boot helpers: range-list arithmetic and command-line parsing. */
#include <stdint.h>

#include <mmtest/test.h>

#include "kernel/cmdline.h"
#include "kernel/memmap.h"

static bool same(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

TEST(kernel_boot, range_add_merges_overlapping_and_touching)
{
	static struct range_list l;
	l.n = 0;
	range_add(&l, 0x5000, 0x6000);
	range_add(&l, 0x1000, 0x2000);
	range_add(&l, 0x2000, 0x3000); /* touches the second */
	range_add(&l, 0x8000, 0x9000);
	ASSERT_EQ(l.n, 3);
	EXPECT_EQ(l.r[0].base, 0x1000);
	EXPECT_EQ(l.r[0].end, 0x3000);
	range_add(&l, 0x2800, 0x8800); /* swallows the middle one, joins the last */
	ASSERT_EQ(l.n, 1);
	EXPECT_EQ(l.r[0].base, 0x1000);
	EXPECT_EQ(l.r[0].end, 0x9000);
	range_add(&l, 0x100, 0x1000);
	ASSERT_EQ(l.n, 1);
	EXPECT_EQ(l.r[0].base, 0x100);
}

TEST(kernel_boot, range_remove_splits_and_trims)
{
	static struct range_list l;
	l.n = 0;
	range_add(&l, 0x0, 0x10000);
	range_add(&l, 0x20000, 0x30000);
	range_remove(&l, 0x4000, 0x5000);
	range_remove(&l, 0xF000, 0x21000);
	ASSERT_EQ(l.n, 3);
	EXPECT_EQ(l.r[0].end, 0x4000);
	EXPECT_EQ(l.r[1].base, 0x5000);
	EXPECT_EQ(l.r[1].end, 0xF000);
	EXPECT_EQ(l.r[2].base, 0x21000);
	EXPECT_TRUE(range_contains(&l, 0x6000, 0x7000));
	EXPECT_FALSE(range_contains(&l, 0x3000, 0x6000));
	EXPECT_TRUE(range_intersects(&l, 0x3000, 0x6000));
	EXPECT_FALSE(range_intersects(&l, 0x4000, 0x5000));
	EXPECT_EQ(range_total(&l), 0x4000 + 0xA000 + 0xF000);
	range_remove(&l, 0, UINT64_MAX);
	EXPECT_EQ(l.n, 0);
}

TEST(kernel_boot, cmdline_skips_the_image_name)
{
	char line[] = "tftp://10.0.2.2/mmkernel.elf  bench=map quiet tests=vmm.";
	struct kernel_options o;
	cmdline_parse(line, &o);
	EXPECT_TRUE(o.bench);
	EXPECT_TRUE(same(o.bench_filter, "map"));
	EXPECT_TRUE(o.quiet);
	EXPECT_TRUE(o.tests);
	EXPECT_TRUE(same(o.tests_filter, "vmm."));
	EXPECT_TRUE(o.crashtest == NULL);
}

TEST(kernel_boot, cmdline_defaults_to_tests)
{
	char line[] = "out/kernel/mmkernel.elf";
	struct kernel_options o;
	cmdline_parse(line, &o);
	EXPECT_TRUE(o.tests);
	EXPECT_TRUE(o.tests_filter == NULL);
	EXPECT_FALSE(o.bench);

	char empty[] = "";
	cmdline_parse(empty, &o);
	EXPECT_TRUE(o.tests);
}

TEST(kernel_boot, cmdline_first_word_may_be_an_option)
{
	char line[] = "bench crashtest";
	struct kernel_options o;
	cmdline_parse(line, &o);
	EXPECT_TRUE(o.bench);
	EXPECT_TRUE(o.bench_filter == NULL);
	EXPECT_FALSE(o.tests);
	EXPECT_TRUE(same(o.crashtest, "pf"));
}

TEST(kernel_boot, cmdline_nopcid)
{
	char line[] = "mmkernel.elf nopcid bench";
	struct kernel_options o;
	cmdline_parse(line, &o);
	EXPECT_TRUE(o.nopcid);
	EXPECT_TRUE(o.bench);

	char none[] = "mmkernel.elf bench";
	cmdline_parse(none, &o);
	EXPECT_FALSE(o.nopcid);
}

TEST(kernel_boot, cmdline_cpus_caps_the_cpus_started)
{
	char line[] = "mmkernel.elf cpus=2 tests";
	struct kernel_options o;
	cmdline_parse(line, &o);
	EXPECT_EQ(o.max_cpus, 2);
	EXPECT_TRUE(o.tests);

	char none[] = "mmkernel.elf tests";
	cmdline_parse(none, &o);
	EXPECT_EQ(o.max_cpus, 0); /* every enabled CPU */

	/* Not a count of CPUs: reported and ignored. */
	char bad[] = "cpus=0 cpus=two cpus= cpus=-1 cpus";
	cmdline_parse(bad, &o);
	EXPECT_EQ(o.max_cpus, 0);
	EXPECT_TRUE(o.tests);
}

TEST(kernel_boot, cmdline_poweroff_and_the_rsdp_address)
{
	char line[] = "mmkernel.efi tests poweroff acpi_rsdp=0x3f77D014";
	struct kernel_options o;
	cmdline_parse(line, &o);
	EXPECT_TRUE(o.poweroff);
	EXPECT_EQ(o.acpi_rsdp, 0x3f77d014);
	EXPECT_TRUE(o.tests);

	char none[] = "mmkernel.elf tests";
	cmdline_parse(none, &o);
	EXPECT_FALSE(o.poweroff);
	EXPECT_EQ(o.acpi_rsdp, 0);

	/* Not a 0x... address, or one too long for 64 bits: reported and ignored. */
	char bad[] = "acpi_rsdp=1234 acpi_rsdp=0x acpi_rsdp=0xfeg acpi_rsdp=0x12345678123456789 "
	             "acpi_rsdp poweroff=1";
	cmdline_parse(bad, &o);
	EXPECT_EQ(o.acpi_rsdp, 0);
	EXPECT_FALSE(o.poweroff);
}
