/* A space ready to run the programs of user_programs.S, and copies through the direct map. */
#include "kernel/ring3/user_run.h"

#include <stdbool.h>

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

int x86_user_env_init(struct x86_user_env *env, mm_space_t space)
{
	size_t code_len = (size_t)(x86_uprog_end - x86_uprog_start);
	env->space = space;
	env->code = X86_USER_CODE_VA;
	env->args = X86_USER_ARGS_VA;
	env->stack_top = X86_USER_STACK_TOP;
	/*
	 * The code region is made writable (and not executable: W^X), filled, then turned
	 * into read + execute. Writable first because a populated read-only anonymous region
	 * may be backed by the shared zero page: filling that through the direct map would
	 * change the zero page of every space. Writable pages are the region's own.
	 */
	size_t code_pages_len = (code_len + MM_PAGE_SIZE - 1) & ~(MM_PAGE_SIZE - 1);
	int error = map_fixed(space, env->code, code_pages_len, MM_FLG_WR, MM_SECTION_CODE);
	if (error == MM_OK)
		error = x86_user_poke(space, env->code, x86_uprog_start, code_len);
	if (error == MM_OK)
		error = mm_region_protect(space, env->code, code_pages_len, MM_FLG_EXEC);
	if (error == MM_OK)
		error = map_fixed(space, env->args, X86_USER_ARGS_SIZE, MM_FLG_WR, MM_SECTION_DATA);
	if (error == MM_OK)
		error = map_fixed(space, env->stack_top - X86_USER_STACK_SIZE, X86_USER_STACK_SIZE,
		                  MM_FLG_WR, MM_SECTION_STACK);
	return error;
}

int x86_user_env_run(const struct x86_user_env *env, const char *prog, uint64_t arg,
                     struct x86_user_result *out)
{
	return x86_user_run(env->space, x86_user_env_entry(env, prog), env->stack_top, arg, out);
}
