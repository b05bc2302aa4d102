/*
 * Warnings about firmware tables. They are printed even in quiet mode (a broken table
 * changes what the kernel does, so the reader of a log must see it) and counted, so that
 * tests of deliberately corrupt tables check them without printing.
 */
#ifndef KERNEL_FW_WARN_H
#define KERNEL_FW_WARN_H

#include <stdbool.h>

struct fw_warnings {
	bool silent;    /* count only */
	unsigned count; /* warnings so far */
};

void fw_warn(struct fw_warnings *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* KERNEL_FW_WARN_H */
