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
	} else if (streq(name, "quiet") && !value) {
		if (!dry_run)
			o->quiet = true;
	} else if (streq(name, "crashtest")) {
		if (!dry_run)
			o->crashtest = value ? value : "pf";
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
