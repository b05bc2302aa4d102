/* Formatted output shared by the kernel and the host build (no libc in the kernel). */
#include <lib/print.h>

#include <stdbool.h>
#include <stdint.h>

#include <arch/arch.h>

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, int width, bool left, char pad)
{
	int fill = width > (int)n ? width - (int)n : 0;
	if (!left)
		while (fill-- > 0)
			put(o, pad);
	for (size_t i = 0; i < n; i++)
		put(o, s[i]);
	if (left)
		while (fill-- > 0)
			put(o, ' ');
}

static void put_number(struct out *o, uint64_t v, bool negative, unsigned base, bool upper,
                       int width, bool left, char pad)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (negative && pad == '0') {
		put(o, '-');
		if (width > 0)
			width--;
	} else if (negative) {
		tmp[n++] = '-';
	}
	char rev[24];
	for (size_t i = 0; i < n; i++)
		rev[i] = tmp[n - 1 - i];
	put_padded(o, rev, n, width, left, pad);
}

int lib_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {buf, size, 0};
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			put(&o, *p);
			continue;
		}
		p++;
		bool left = false;
		char pad = ' ';
		for (;; p++) {
			if (*p == '-')
				left = true;
			else if (*p == '0')
				pad = '0';
			else
				break;
		}
		int width = 0;
		while (*p >= '0' && *p <= '9')
			width = width * 10 + (*p++ - '0');
		int precision = -1;
		if (*p == '.') {
			p++;
			precision = 0;
			while (*p >= '0' && *p <= '9')
				precision = precision * 10 + (*p++ - '0');
		}
		int longs = 0;
		bool size_mod = false;
		for (;; p++) {
			if (*p == 'l')
				longs++;
			else if (*p == 'z')
				size_mod = true;
			else if (*p != 'h')
				break;
		}
		if (left)
			pad = ' ';
		switch (*p) {
		case 'd':
		case 'i': {
			int64_t v = size_mod || longs ? (longs >= 2 ? va_arg(ap, long long) : va_arg(ap, long))
			                              : va_arg(ap, int);
			uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
			put_number(&o, mag, v < 0, 10, false, width, left, pad);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = size_mod     ? va_arg(ap, size_t)
			             : longs >= 2 ? va_arg(ap, unsigned long long)
			             : longs == 1 ? va_arg(ap, unsigned long)
			                          : va_arg(ap, unsigned);
			put_number(&o, v, false, *p == 'u' ? 10 : 16, *p == 'X', width, left, pad);
			break;
		}
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_number(&o, (uintptr_t)va_arg(ap, void *), false, 16, false, 16, false, '0');
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			size_t n = 0;
			while (s[n] && (precision < 0 || n < (size_t)precision))
				n++;
			put_padded(&o, s, n, width, left, ' ');
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);
			put_padded(&o, &c, 1, width, left, ' ');
			break;
		}
		case '%':
			put(&o, '%');
			break;
		case '\0':
			p--;
			break;
		default:
			put(&o, '%');
			put(&o, *p);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int lib_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = lib_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static struct {
	char *buf;
	size_t size, used;
} capture;

void lib_print_capture(char *buf, size_t size)
{
	capture.buf = size ? buf : NULL;
	capture.size = size;
	capture.used = 0;
	if (capture.buf)
		buf[0] = 0;
}

size_t lib_print_capture_end(void)
{
	size_t used = capture.used;
	capture.buf = NULL;
	return used;
}

static void capture_append(const char *s, size_t len)
{
	if (!capture.buf)
		return;
	size_t room = capture.size - 1 - capture.used;
	if (len > room)
		len = room;
	for (size_t i = 0; i < len; i++)
		capture.buf[capture.used + i] = s[i];
	capture.used += len;
	capture.buf[capture.used] = 0;
}

int lib_vprintf(const char *fmt, va_list ap)
{
	char line[512];
	int n = lib_vsnprintf(line, sizeof(line), fmt, ap);
	size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	if (capture.buf)
		capture_append(line, len);
	else
		arch_print(line, len);
	return n;
}

int lib_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = lib_vprintf(fmt, ap);
	va_end(ap);
	return n;
}
