/* Printing and counting warnings about firmware tables. */
#include "kernel/fw_warn.h"

#include <stdarg.h>

#include <lib/print.h>

void fw_warn(struct fw_warnings *w, const char *fmt, ...)
{
	w->count++;
	if (w->silent)
		return;
	va_list ap;
	va_start(ap, fmt);
	lib_vprintf(fmt, ap);
	va_end(ap);
}
