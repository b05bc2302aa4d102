/* The kernel command line: which suites run, and a few debugging switches. */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Options, separated by spaces:
 *   tests[=FILTER]       run the test suites (FILTER: comma-separated substrings of
 *                        "suite.name", a leading '-' to leave out; see mmtest/test.h)
 *   bench[=FILTER]       run the in-kernel benchmarks
 *   quiet                print only results, not the boot banner
 *   crashtest[=KIND]     fault on purpose to check the exception report (pf, gp, ud, de,
 *                        stack, panic; default pf)
 *   cpus=N               start at most N CPUs, the bootstrap CPU included (N >= 1; default:
 *                        every enabled CPU the MADT lists)
 *   nopcid               leave PCID off even where the CPU has it (every switch flushes)
 *   acpi_rsdp=0xADDR     the ACPI RSDP's physical address, for loaders that know it (the
 *                        UEFI stub passes the firmware's); otherwise it is searched for
 *   poweroff             at the end, power the machine off through ACPI (S5) instead of
 *                        halting (where no isa-debug-exit device ended the run: Bochs, a
 *                        lab's servers)
 * With neither tests, bench nor crashtest, the tests run. Loaders put the image's path or
 * URI first (QEMU -kernel, iPXE, GRUB): a first word that is no option is skipped.
 */
struct kernel_options {
	bool tests, bench, quiet, nopcid, poweroff;
	const char *tests_filter; /* NULL: all */
	const char *bench_filter; /* NULL: all */
	const char *crashtest;    /* NULL: none */
	unsigned max_cpus;        /* 0: no limit */
	uint64_t acpi_rsdp;       /* 0: search the BIOS areas */
};

/* Parses line in place (words are cut with NULs; the options point into it). Unknown
 * words are reported and ignored. */
void cmdline_parse(char *line, struct kernel_options *out);

#endif /* KERNEL_CMDLINE_H */
