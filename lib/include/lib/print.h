/*
 * Formatted output over arch_print(), the same code in the kernel and on the host.
 * Supports %d %i %u %x %X %p %s %c %% with the l, ll, z and h length modifiers, a width,
 * '0' and '-' flags and a precision for %s.
 */
#ifndef LIB_PRINT_H
#define LIB_PRINT_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* post: at most size - 1 characters and a NUL are written to buf (if size > 0);
 * returns the length the whole output would have had. */
int lib_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int lib_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Tests of what is printed: from lib_print_capture until lib_print_capture_end, everything
 * lib_printf prints goes to buf instead of the console (cut at size - 1 bytes, always
 * NUL-terminated), so a test of a failure path leaves no failure-looking lines in the log.
 * lib_print_capture_end returns the length kept. One capture at a time; pre: no other CPU
 * prints meanwhile.
 */
void lib_print_capture(char *buf, size_t size);
size_t lib_print_capture_end(void);

/* Formats into a stack buffer (lines longer than 512 bytes are cut) and prints it. */
int lib_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int lib_vprintf(const char *fmt, va_list ap);

#ifdef __cplusplus
}
#endif

#endif /* LIB_PRINT_H */
