/* A space ready to run the programs of user_programs.S, and copies through the direct map. */
#include "kernel/ring3/user_run.h"

#include <stdbool.h>

#include <lib/elf64.h>
#include <lib/string.h>
#include <mm/region.h>

/* The direct-map alias of user address va in space, for a read or a write as the program
 * would make it: what the page tables do not allow yet goes to mm_fault first (a page not
 * yet present, a copy-on-write page), and what mm_fault refuses is the error. */
static int user_page(mm_space_t space, uintptr_t va, bool write, char **alias)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		uint32_t flags = 0;
		uintptr_t phys = mm_translate(space, va, &flags);
		bool present = phys != MM_NADDR;
		/* A read-only entry may map a shared frame (the zero page, a copy-on-write page):
		 * writing it in place would change it for every space that maps it. */
		if (present && (!write || (flags & MM_FLG_WR))) {
			*alias = MM_VIRTUALIZE(phys);
			return MM_OK;
		}
		uint32_t access =
		    MM_FAULT_USER | (write ? MM_FAULT_WRITE : 0) | (present ? MM_FAULT_PRESENT : 0);
		int error = mm_fault(space, va, access);
		if (error != MM_OK)
			return error;
	}
	return MM_EFAULT;
}

/* Page by page: each user page is found in the space's tables and reached through the
 * direct map, never through its user address. */
static int copy_pages(mm_space_t space, uintptr_t user, void *kernel, size_t len, bool to_user)
{
	char *k = kernel;
	if (user >= MM_USER_END || len > MM_USER_END - user)
		return MM_EFAULT;
	while (len > 0) {
		char *alias;
		int error = user_page(space, user, to_user, &alias);
		if (error != MM_OK)
			return error;
		size_t chunk = MM_PAGE_SIZE - (user & (MM_PAGE_SIZE - 1));
		if (chunk > len)
			chunk = len;
		if (to_user)
			memcpy(alias, k, chunk);
		else
			memcpy(k, alias, chunk);
		user += chunk;
		k += chunk;
		len -= chunk;
	}
	return MM_OK;
}

int x86_user_poke(mm_space_t space, uintptr_t dst, const void *src, size_t len)
{
	return copy_pages(space, dst, (void *)(uintptr_t)src, len, true);
}

int x86_user_peek(mm_space_t space, void *dst, uintptr_t src, size_t len)
{
	return copy_pages(space, src, dst, len, false);
}

static int map_fixed(mm_space_t space, uintptr_t start, size_t length, uint32_t flags,
                     enum mm_section section)
{
	struct mm_region_spec spec = {
	    .start = start,
	    .length = length,
	    .flags = flags | MM_REGION_FIXED | MM_REGION_POPULATE | MM_FLG_US,
	    .section = section,
	};
	return mm_region_map(space, &spec) == start ? MM_OK : mm_last_error();
}

/*
 * A region at start holding bytes[0, len) and zeros up to length, with the permissions
 * `flags` in the end. It is made writable (and not executable: W^X) first, filled, then given
 * its permissions: writable first because a populated read-only anonymous region may be
 * backed by the shared zero page, and filling that through the direct map would change the
 * zero page of every space. Writable pages are the region's own.
 */
static int map_filled(mm_space_t space, uintptr_t start, size_t length, const void *bytes,
                      size_t len, uint32_t flags, enum mm_section section)
{
	int error = map_fixed(space, start, length, MM_FLG_WR, section);
	if (error == MM_OK && len)
		error = x86_user_poke(space, start, bytes, len);
	if (error == MM_OK && flags != MM_FLG_WR)
		error = mm_region_protect(space, start, length, flags);
	return error;
}

/* The argument region and the stack, and env's fields but the program's. */
static int map_args_and_stack(struct x86_user_env *env, mm_space_t space)
{
	env->space = space;
	env->args = X86_USER_ARGS_VA;
	env->stack_top = X86_USER_STACK_TOP;
	int error = map_fixed(space, env->args, X86_USER_ARGS_SIZE, MM_FLG_WR, MM_SECTION_DATA);
	if (error == MM_OK)
		error = map_fixed(space, env->stack_top - X86_USER_STACK_SIZE, X86_USER_STACK_SIZE,
		                  MM_FLG_WR, MM_SECTION_STACK);
	return error;
}

int x86_user_env_init(struct x86_user_env *env, mm_space_t space)
{
	size_t code_len = (size_t)(x86_uprog_end - x86_uprog_start);
	size_t code_pages_len = (code_len + MM_PAGE_SIZE - 1) & ~(MM_PAGE_SIZE - 1);
	env->code = X86_USER_CODE_VA;
	env->entry = 0;
	int error = map_filled(space, env->code, code_pages_len, x86_uprog_start, code_len, MM_FLG_EXEC,
	                       MM_SECTION_CODE);
	return error == MM_OK ? map_args_and_stack(env, space) : error;
}

/* Whether [start, end) misses the argument region and the stack. */
static bool clear_of_env(uintptr_t start, uintptr_t end)
{
	uintptr_t args_end = X86_USER_ARGS_VA + X86_USER_ARGS_SIZE;
	uintptr_t stack = X86_USER_STACK_TOP - X86_USER_STACK_SIZE;
	return (end <= X86_USER_ARGS_VA || start >= args_end) &&
	       (end <= stack || start >= X86_USER_STACK_TOP);
}

/* Whether every loadable segment of h is one a program may have: page-aligned, in the user
 * half, clear of the argument region and the stack, its bytes in the image, not both
 * writable and executable. */
static bool segments_valid(const struct elf64_header *h, size_t size)
{
	bool entry_in_code = false;
	for (unsigned i = 0; i < h->phnum; i++) {
		const struct elf64_segment *s = elf64_segment(h, i);
		if (s->type != ELF64_PT_LOAD)
			continue;
		if (!elf64_segment_in_image(s, size) || s->memsz == 0 || s->vaddr & (MM_PAGE_SIZE - 1) ||
		    s->vaddr < MM_USER_BASE || s->vaddr >= MM_USER_END ||
		    s->memsz > MM_USER_END - s->vaddr || !clear_of_env(s->vaddr, s->vaddr + s->memsz) ||
		    (s->flags & (ELF64_PF_W | ELF64_PF_X)) == (ELF64_PF_W | ELF64_PF_X))
			return false;
		if ((s->flags & ELF64_PF_X) && h->entry >= s->vaddr && h->entry < s->vaddr + s->memsz)
			entry_in_code = true;
	}
	return entry_in_code;
}

int x86_user_env_load_elf(struct x86_user_env *env, mm_space_t space, const void *image,
                          size_t size)
{
	const struct elf64_header *h = elf64_header(image, size);
	if (!space || !env || !h || h->type != ELF64_TYPE_EXEC || !segments_valid(h, size))
		return MM_EINVAL;
	env->code = 0;
	env->entry = h->entry;
	for (unsigned i = 0; i < h->phnum; i++) {
		const struct elf64_segment *s = elf64_segment(h, i);
		if (s->type != ELF64_PT_LOAD)
			continue;
		uint32_t flags = (s->flags & ELF64_PF_W) ? MM_FLG_WR : 0;
		flags |= (s->flags & ELF64_PF_X) ? MM_FLG_EXEC : 0;
		size_t length = (s->memsz + MM_PAGE_SIZE - 1) & ~(size_t)(MM_PAGE_SIZE - 1);
		int error = map_filled(space, s->vaddr, length, (const char *)image + s->offset, s->filesz,
		                       flags, (flags & MM_FLG_EXEC) ? MM_SECTION_CODE : MM_SECTION_DATA);
		if (error != MM_OK)
			return error;
	}
	return map_args_and_stack(env, space);
}

int x86_user_env_run(const struct x86_user_env *env, const char *prog, uint64_t arg,
                     struct x86_user_result *out)
{
	return x86_user_run(env->space, x86_user_env_entry(env, prog), env->stack_top, arg, out);
}
