/* The COM1 serial port (0x3F8, 115200 8N1, polled): the kernel's console. */
#ifndef ARCH_X86_64_SERIAL_H
#define ARCH_X86_64_SERIAL_H

#include <stddef.h>

/* Programs the UART. Safe to call again (APs do not need to). */
void x86_serial_init(void);

/* Writes len bytes, "\n" as "\r\n", without locking (the caller serialises). */
void x86_serial_write(const char *s, size_t len);

#endif /* ARCH_X86_64_SERIAL_H */
