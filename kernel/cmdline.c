/* Parsing the kernel command line into struct kernel_options. */
#include "kernel/cmdline.h"

#include <stddef.h>

#include <lib/print.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* A decimal number >= 1 that fits comfortably in an unsigned (else 0). */
static unsigned parse_count(const char *s)
{
	unsigned n = 0;
	if (!s || !*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > 100000000u)
			return 0;
		n = n * 10 + (unsigned)(*s - '0');
	}
	return n;
}

/* A hexadecimal 0x... address (else 0). */
static uint64_t parse_address(const char *s)
{
	if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2])
		return 0;
	uint64_t v = 0;
	for (s += 2; *s; s++) {
		unsigned digit;
		if (*s >= '0' && *s <= '9')
			digit = (unsigned)(*s - '0');
		else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
			digit = (unsigned)((*s | 0x20) - 'a' + 10);
		else
			return 0;
		if (v >> 60)
			return 0;
		v = v << 4 | digit;
	}
	return v;
}

/* Applies one word; false if its name is not an option. */
static bool apply(char *word, struct kernel_options *o, bool dry_run)
{
	char *value = NULL;
	for (char *p = word; *p; p++)
		if (*p == '=') {
			value = p + 1;
			break;
		}
	/* Compare the name without the "=value" part. */
	char name[16];
	size_t n = 0;
	for (const char *p = word; *p && *p != '=' && n + 1 < sizeof name; p++)
		name[n++] = *p;
	name[n] = 0;

	if (streq(name, "tests")) {
		if (!dry_run) {
			o->tests = true;
			o->tests_filter = value;
		}
	} else if (streq(name, "bench")) {
		if (!dry_run) {
			o->bench = true;
			o->bench_filter = value;
		}
	} else if (streq(name, "nopcid") && !value) {
		if (!dry_run)
			o->nopcid = true;
	} else if (streq(name, "acpi_rsdp")) {
		uint64_t phys = parse_address(value);
		if (!dry_run && phys == 0)
			lib_printf("cmdline: ignoring \"%s\": acpi_rsdp= takes a 0x... address\n", word);
		if (!dry_run)
			o->acpi_rsdp = phys;
	} else if (streq(name, "poweroff") && !value) {
		if (!dry_run)
			o->poweroff = true;
	} else if (streq(name, "quiet") && !value) {
		if (!dry_run)
			o->quiet = true;
	} else if (streq(name, "crashtest")) {
		if (!dry_run)
			o->crashtest = value ? value : "pf";
	} else if (streq(name, "cpus")) {
		unsigned cpus = parse_count(value);
		if (!dry_run && cpus == 0)
			lib_printf("cmdline: ignoring \"%s\": cpus= takes a number of CPUs, 1 or more\n", word);
		if (!dry_run && cpus)
			o->max_cpus = cpus;
	} else {
		return false;
	}
	return true;
}

void cmdline_parse(char *line, struct kernel_options *o)
{
	*o = (struct kernel_options){0};
	bool first = true;
	char *p = line;
	while (*p) {
		while (is_space(*p))
			p++;
		if (!*p)
			break;
		char *word = p;
		while (*p && !is_space(*p))
			p++;
		if (*p)
			*p++ = 0;
		if (first && !apply(word, o, true)) {
			first = false;
			continue; /* the image's path or URI */
		}
		first = false;
		if (!apply(word, o, false))
			lib_printf("cmdline: ignoring unknown option \"%s\"\n", word);
	}
	if (!o->tests && !o->bench && !o->crashtest)
		o->tests = true;
}
