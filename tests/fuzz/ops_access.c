/*
 * The API fuzzer's accesses to memory as programs and the kernel make them: reads and writes
 * through the page tables and mm_fault (user_access.h), and the user copies of <mm/copy.h>
 * (mm_memcpy_kernel_to_user, mm_memcpy_user_to_kernel, mm_strncpy_user_to_kernel,
 * mm_strdup_from_user). A page's first and last 8 bytes carry the value the model knows.
 */
#include <mm/copy.h>

#include <string.h>

#include "fuzz.h"
#include "tests/suites/helpers.h"
#include "tests/suites/user_access.h"

static int access64(int m, uintptr_t va, bool write, uint64_t *value, bool kernel)
{
	mm_space_t s = space_of(m);
	if (kernel) {
		void *where;
		int error = mode_access(s, va, write, 0, &where);
		volatile uint64_t *p = where;
		if (error == MM_OK) {
			if (write)
				*p = *value;
			else
				*value = *p;
		}
		return error;
	}
	if (write)
		return user_write64(s, va, *value);
	int error;
	*value = user_read64(s, va, &error);
	return error;
}

void touch_page(int m, uintptr_t va, bool write, uint64_t value)
{
	struct mpage *p = page_at(m, va);
	if (p && p->kind == K_DEVICE)
		return; /* device memory is not in the arena */
	if (!p && window_of(va) >= 0)
		return; /* a window another model holds (kernel slot, user address) */
	if (!space_of(m))
		return;
	bool kernel = kernel_mode(m, va, p);
	bool allowed = access_allowed(p, write);
	uint64_t first = value, last = value;
	/* A fault that fails changes nothing either: no table, no page, no frame (except an
	 * object's page, which the object keeps once made). */
	struct snap before = take_snap();
	int error = access64(m, va, write, &first, kernel);
	if (error != MM_OK)
		expect_unchanged(&before, write ? "a program write's fault" : "a program read's fault",
		                 p && (p->kind == K_OBJ || p->kind == K_SHM));
	if (error == MM_OK)
		error = access64(m, va + PAGE - 8, write, &last, kernel);
	const char *what = write ? "a program write" : "a program read";
	if (error > 0 ||
	    (error != MM_OK && error != MM_EFAULT && error != MM_EPERM && error != MM_ENOMEM))
		fuzz_fail("%s of %#lx failed with %s, not a fault handler's error", what, (unsigned long)va,
		          mm_strerror(error));
	if (!allowed) {
		if (error == MM_OK)
			fuzz_fail("%s of slot %d va %#lx succeeded; the model says it must fault (kind %u, "
			          "flags %#x, present %u)",
			          what, m, (unsigned long)va, p ? p->kind : 0, p ? p->flags : 0,
			          p ? p->present : 0);
		if (p)
			verify_page(m, va);
		return;
	}
	if (error != MM_OK) {
		if (error == MM_ENOMEM && inject) {
			verify_page(m, va);
			return;
		}
		fuzz_fail("%s of slot %d va %#lx failed with %s; the model allows it (kind %u, flags "
		          "%#x, present %u)",
		          what, m, (unsigned long)va, mm_strerror(error), p->kind, p->flags, p->present);
	}
	if (write) {
		apply_write(m, va, p, value);
		/* Every other space's page here: a write must reach exactly the spaces that
		 * share the frame. */
		for (int o = 0; o < USER_SLOTS; o++)
			if (o != m)
				verify_page(o, va);
	} else {
		p->present = 1;
		uint64_t want;
		if (expected_value(p, &want) && (first != want || last != want))
			fuzz_fail("a program read of slot %d va %#lx gave %#llx / %#llx; the model says "
			          "%#llx (kind %u, value state %u)",
			          m, (unsigned long)va, (unsigned long long)first, (unsigned long long)last,
			          (unsigned long long)want, p->kind, p->val);
	}
	verify_page(m, va);
}

void op_read(const uint8_t *a)
{
	touch_page(decode_slot(a[0]), decode_addr(a[1], a[2]) & ~(PAGE - 1), false, 0);
}

void op_write(const uint8_t *a)
{
	uint64_t value = ((uint64_t)a[3] << 56 | (uint64_t)a[4] << 48 | (uint64_t)a[5] << 40 |
	                  (uint64_t)a[6] << 32) ^
	                 ++value_seq;
	touch_page(decode_slot(a[0]), decode_addr(a[1], a[2]) & ~(PAGE - 1), true, value);
}

/* ---- User copies ------------------------------------------------------------------------ */

#define COPY_PAGES 4
static uint64_t copy_buffer[COPY_PAGES * 512 + 8];

/* How many pages of [va, va + pages pages) a copy may use, in order, before the first it
 * must fail on (pages when none). Pages outside the user half's windows are in no region. */
static size_t copy_reach(int m, uintptr_t va, size_t pages, bool write)
{
	for (size_t i = 0; i < pages; i++) {
		uintptr_t v = va + i * PAGE;
		const struct mpage *p = window_of(v) >= 0 && window_of(v) <= W_TOP ? page_at(m, v) : NULL;
		if (!copy_allowed(p, write))
			return i;
	}
	return pages;
}

/*
 * mm_memcpy_kernel_to_user of whole pages (a[3] & 3) + 1, each carrying a new value; a[4] % 8:
 * 0..4 as it is, 5 a count of 0, 6 a NULL source. On an error the pages before the one
 * refused are written.
 */
void op_copy_out(const uint8_t *a)
{
	int m = decode_slot(a[0]);
	uintptr_t va = decode_addr(a[1], a[2]);
	size_t pages = (size_t)(a[3] & 3) + 1;
	unsigned mode = a[4] % 8;
	mm_space_t s = space_of(m);
	size_t count = mode == 5 ? 0 : pages * PAGE;
	const void *src = mode == 6 ? NULL : copy_buffer;
	uint64_t values[COPY_PAGES];
	for (size_t i = 0; i < pages; i++) {
		values[i] = ((uint64_t)a[5] << 56 | (uint64_t)a[6] << 48) ^ ++value_seq;
		uint64_t *words = &copy_buffer[i * 512];
		for (int k = 0; k < 512; k++)
			words[k] = values[i] ^ (uint64_t)k << 20;
		words[0] = words[511] = values[i];
	}
	struct pred p = {MM_OK, 0};
	size_t reach = 0;
	if (!s || !src || !va || va + count < va)
		refuse(&p, MM_EINVAL);
	else if (va < MM_USER_BASE || va >= MM_USER_END || count > MM_USER_END - va)
		refuse(&p, MM_EFAULT);
	else if ((va & (PAGE - 1)) && count)
		return; /* the model knows whole pages only */
	else if (count) {
		reach = copy_reach(m, va, pages, true);
		if (reach < pages)
			refuse(&p, MM_EFAULT);
	}
	int error = mm_memcpy_kernel_to_user(s, (void *)va, src, count);
	judge("mm_memcpy_kernel_to_user", &p, error, ERR(MM_EINVAL) | ERR(MM_EFAULT) | ERR(MM_ENOMEM));
	/* The pages written: every one the copy could reach, or under fault injection those it
	 * did reach, which their values tell. */
	for (size_t i = 0; i < reach; i++) {
		uintptr_t v = va + i * PAGE;
		struct mpage *q = page_at(m, v);
		if (error != MM_OK && inject) {
			uintptr_t phys = mm_translate(s, v, NULL);
			const uint64_t *words = phys != MM_NADDR && mm_phys_is_managed(phys)
			                            ? MM_VIRTUALIZE(phys & ~(PAGE - 1))
			                            : NULL;
			if (!words || words[0] != values[i] || words[511] != values[i])
				continue;
		}
		apply_write(m, v, q, values[i]);
	}
	if (p.reasons == 0 || error == MM_OK || reach)
		verify_range(m, va, va + pages * PAGE);
}

/*
 * mm_memcpy_user_to_kernel of whole pages (a[3] & 3) + 1; a[4] % 8: 0..4 as it is, 5 the 16
 * bytes across the first page's end, 6 a count of 0, 7 a NULL destination.
 */
void op_copy_in(const uint8_t *a)
{
	int m = decode_slot(a[0]);
	uintptr_t va = decode_addr(a[1], a[2]) & ~(PAGE - 1);
	size_t pages = (size_t)(a[3] & 3) + 1;
	unsigned mode = a[4] % 8;
	mm_space_t s = space_of(m);
	uintptr_t src = mode == 5 ? va + PAGE - 8 : va;
	size_t count = mode == 5 ? 16 : mode == 6 ? 0 : pages * PAGE;
	if (mode == 5)
		pages = 2;
	void *dst = mode == 7 ? NULL : copy_buffer;
	struct pred p = {MM_OK, 0};
	size_t reach = 0;
	if (!s || !dst || !src || src + count < src)
		refuse(&p, MM_EINVAL);
	else if (src < MM_USER_BASE || src >= MM_USER_END || count > MM_USER_END - src)
		refuse(&p, MM_EFAULT);
	else if (count) {
		reach = copy_reach(m, va, pages, false);
		if (reach < pages)
			refuse(&p, MM_EFAULT);
	}
	memset(copy_buffer, 0xA5, sizeof copy_buffer);
	int error = mm_memcpy_user_to_kernel(s, dst, (const void *)src, count);
	bool ok = judge("mm_memcpy_user_to_kernel", &p, error,
	                ERR(MM_EINVAL) | ERR(MM_EFAULT) | ERR(MM_ENOMEM));
	for (size_t i = 0; i < reach; i++) {
		struct mpage *q = page_at(m, va + i * PAGE);
		if (error != MM_OK && inject)
			q->present = mm_translate(s, va + i * PAGE, NULL) != MM_NADDR;
		else
			q->present = 1;
		uint64_t want;
		if (!ok || !expected_value(q, &want))
			continue;
		/* What the copy holds of this page's first and last 8 bytes. */
		const uint64_t *first = mode == 5 ? (i ? &copy_buffer[1] : NULL) : &copy_buffer[i * 512];
		const uint64_t *last =
		    mode == 5 ? (i ? NULL : &copy_buffer[0]) : &copy_buffer[i * 512 + 511];
		if ((first && *first != want) || (last && *last != want))
			fuzz_fail("mm_memcpy_user_to_kernel: page %zu of %#lx copied %#llx / %#llx; the "
			          "model says %#llx",
			          i, (unsigned long)va, first ? (unsigned long long)*first : 0ull,
			          last ? (unsigned long long)*last : 0ull, (unsigned long long)want);
	}
	if (p.reasons == 0 || error == MM_OK || reach)
		verify_range(m, va, va + pages * PAGE);
}

/* The byte at user va as the model knows it: the first and last 8 bytes of a page. */
static bool known_byte(int m, uintptr_t va, unsigned char *byte, const struct mpage **page)
{
	const struct mpage *p = window_of(va) >= 0 && window_of(va) <= W_TOP ? page_at(m, va) : NULL;
	*page = p;
	unsigned offset = va & (PAGE - 1);
	uint64_t value;
	if (!p || (offset >= 8 && offset < PAGE - 8))
		return false;
	if (!copy_allowed(p, false))
		return true; /* the copy faults there: the byte does not matter */
	if (!expected_value(p, &value))
		return false;
	*byte = (unsigned char)(value >> (8 * (offset & 7)));
	return true;
}

/*
 * mm_strncpy_user_to_kernel (a[4] even) or mm_strdup_from_user (odd) of a string at the
 * start of a page or among its last 8 bytes (a[3] & 8, offset a[3] & 7), at most
 * (a[5] % 16) + 1 bytes: all of them bytes the model knows.
 */
void op_string(const uint8_t *a)
{
	int m = decode_slot(a[0]);
	uintptr_t page = decode_addr(a[1], a[2]) & ~(PAGE - 1);
	bool tail = (a[3] & 8) != 0;
	uintptr_t src = tail ? page + PAGE - 8 + (a[3] & 7) : page + (a[3] & 7);
	size_t count = (size_t)(a[5] % 16) + 1;
	bool dup = a[4] & 1;
	mm_space_t s = space_of(m);
	if (!s || m == KSLOT || src < MM_USER_BASE || src >= MM_USER_END)
		return;
	/* What the call reads: up to the NUL, count bytes (strdup: count + 1), or a fault. */
	size_t limit = dup ? count + 1 : count;
	unsigned char want[24];
	size_t n = 0;
	bool nul = false, fault = false;
	uintptr_t last_page = page;
	while (n < limit && !nul && !fault) {
		const struct mpage *p;
		if (!known_byte(m, src + n, &want[n], &p))
			return; /* a byte the model does not know: no prediction */
		last_page = (src + n) & ~(PAGE - 1);
		if (!copy_allowed(p, false)) {
			fault = true;
			break;
		}
		nul = want[n++] == 0;
	}
	unsigned char got[24];
	memset(got, 0xEE, sizeof got);
	const char *call = dup ? "mm_strdup_from_user" : "mm_strncpy_user_to_kernel";
	int error = MM_OK;
	long length = -1;
	char *copy = NULL;
	uint64_t objects = heap_objects();
	if (dup) {
		copy = mm_strdup_from_user(s, (const void *)src, count);
		if (!copy)
			error = mm_last_error();
	} else {
		length = mm_strncpy_user_to_kernel(s, got, (const void *)src, count);
		if (length < 0)
			error = mm_last_error();
	}
	struct pred p = {MM_OK, 0};
	if (fault)
		refuse(&p, MM_EFAULT);
	else if (dup && !nul)
		refuse(&p, MM_EINVAL); /* no NUL within max_len */
	if (judge(call, &p, error, ERR(MM_EINVAL) | ERR(MM_EFAULT) | ERR(MM_ENOMEM))) {
		size_t len = nul ? n - 1 : n;
		if (dup) {
			if (strlen(copy) != len || memcmp(copy, want, len) != 0)
				fuzz_fail("%s(%#lx, %zu) copied a string of %zu bytes, the model %zu", call,
				          (unsigned long)src, count, strlen(copy), len);
			kfree(copy);
		} else if ((size_t)length != len || memcmp(got, want, n) != 0) {
			fuzz_fail("%s(%#lx, %zu) = %ld; the model says %zu", call, (unsigned long)src, count,
			          length, len);
		}
	}
	if (heap_objects() != objects)
		fuzz_fail("%s left %lld heap objects behind", call, (long long)(heap_objects() - objects));
	/* The pages read were faulted in (under fault injection: those the tables show). */
	for (uintptr_t v = page; v <= last_page; v += PAGE) {
		struct mpage *q = page_at(m, v);
		if (!q || !copy_allowed(q, false))
			break;
		q->present = error == MM_OK || !inject ? 1 : mm_translate(s, v, NULL) != MM_NADDR;
		verify_page(m, v);
	}
}
