/* The API fuzzer's space operations: create, destroy, mm_set, fork and clone. */
#include "fuzz.h"

void op_create(const uint8_t *a)
{
	int m = a[0] % USER_SLOTS;
	if (models[m].space)
		return;
	struct snap before = take_snap();
	uintptr_t root = 0;
	mm_space_t s = mm_create_space(&root);
	if (!s) {
		if (!inject)
			fuzz_fail("mm_create_space failed: %s", mm_strerror(mm_last_error()));
		expect_unchanged(&before, "mm_create_space", false);
		return;
	}
	if (root != mm_space_root(s) || root == MM_NADDR)
		fuzz_fail("mm_create_space gave root %#lx, mm_space_root says %#lx", (unsigned long)root,
		          (unsigned long)mm_space_root(s));
	uint64_t id = mm_space_id(s);
	if (id <= last_space_id)
		fuzz_fail("space id %llu after %llu: ids must never repeat", (unsigned long long)id,
		          (unsigned long long)last_space_id);
	last_space_id = id;
	models[m].space = s;
	model_reset(m);
}

void destroy_slot(int m)
{
	if (current_slot == m) {
		mm_set(mm_kernel_space());
		current_slot = -1;
	}
	mm_destroy_space(models[m].space);
	models[m].space = NULL;
	model_reset(m);
}

void op_destroy(const uint8_t *a)
{
	int v = a[0] % (MODELS + 1);
	if (v < USER_SLOTS) {
		if (models[v].space)
			destroy_slot(v);
		else
			mm_destroy_space(NULL);
		return;
	}
	/* The kernel space and NULL are refused: nothing may change. */
	struct snap before = take_snap();
	mm_destroy_space(v == KSLOT ? mm_kernel_space() : NULL);
	expect_unchanged(&before, "mm_destroy_space of the kernel space or NULL", false);
	verify_range(KSLOT, windows[W_KERN].base, windows[W_KERN].base + windows[W_KERN].pages * PAGE);
}

void op_set(const uint8_t *a)
{
	int m = decode_slot(a[0]);
	mm_space_t s = space_of(m);
	mm_set(s);
	if (s)
		current_slot = m == KSLOT ? -1 : m;
}

static bool is_private(const struct mpage *p)
{
	return p->kind == K_ANON || p->kind == K_OBJ;
}

static void copy_op(const uint8_t *a, bool fork)
{
	const char *call = fork ? "mm_space_fork" : "mm_space_clone";
	int src = decode_slot(a[0]);
	int dst = a[1] % (MODELS + 1); /* MODELS: NULL */
	/* Fork shares leaf tables unless eager (0x08); 0x18 adds an unknown flag. The model
	 * is the same for both: what each space reads does not depend on tables being shared. */
	uint32_t flags = (a[2] & 1 ? MM_FLG_CLONE_USER : 0) | (a[2] & 2 ? MM_FLG_CLONE_HW : 0) |
	                 (a[2] & 4 ? MM_FLG_CLONE_KERNEL : 0) |
	                 ((a[2] & 0x18) == 0x08 ? MM_FLG_CLONE_EAGER : 0) |
	                 ((a[2] & 0x18) == 0x18 ? 1u << 20 : 0);
	if (dst < USER_SLOTS && !models[dst].space && dst != src) {
		/* Into a fresh space. */
		mm_space_t fresh = mm_create_space(NULL);
		if (!fresh) {
			if (!inject)
				fuzz_fail("mm_create_space failed: %s", mm_strerror(mm_last_error()));
			return;
		}
		models[dst].space = fresh;
		model_reset(dst);
	}
	mm_space_t s = space_of(src), d = dst < MODELS ? space_of(dst) : NULL;
	struct pred p = {MM_OK, 0};
	const uint32_t all =
	    MM_FLG_CLONE_USER | MM_FLG_CLONE_HW | MM_FLG_CLONE_KERNEL | MM_FLG_CLONE_EAGER;
	if (!s || !d || s == d || src == KSLOT || dst == KSLOT || (flags & ~all) || flags == 0)
		refuse(&p, MM_EINVAL);
	/* The windows of the parts named. */
	bool parts[W_COUNT] = {0};
	for (int w = W_LOW; w <= W_TOP; w++)
		parts[w] = (flags & MM_FLG_CLONE_USER) != 0;
	parts[W_HW] = (flags & MM_FLG_CLONE_HW) != 0;
	if (p.reasons == 0) {
		for (int w = 0; w < W_COUNT; w++)
			if (parts[w] &&
			    range_has_region(dst, windows[w].base, windows[w].base + windows[w].pages * PAGE))
				refuse(&p, MM_EEXIST);
	}
	struct snap before = take_snap();
	int error = fork ? mm_space_fork(d, s, flags) : mm_space_clone(d, s, flags);
	if (judge(call, &p, error, ERR(MM_EINVAL) | ERR(MM_EEXIST) | ERR(MM_ENOMEM))) {
		for (int w = 0; w < W_COUNT; w++) {
			if (!parts[w])
				continue;
			for (size_t i = 0; i < windows[w].pages; i++) {
				struct mpage *sp = &models[src].pages[w][i];
				struct mpage *dp = &models[dst].pages[w][i];
				*dp = *sp;
				if (sp->kind == K_NONE || !is_private(sp))
					continue;
				if (!fork && !sp->group)
					sp->group = ++next_group;
				/* A fork child shares with the parent's clone group: a clone partner's
				 * writable entry still reaches the frame both now map copy-on-write. */
				dp->group = sp->group;
				/* A fork copies a private 2 MiB page at once (it cannot be shared
				 * copy-on-write page by page): the child's frame is new. */
				if (fork && sp->large && sp->present)
					dp->frame = mm_translate(d, windows[w].base + i * PAGE, NULL) & ~(LARGE - 1);
			}
		}
	} else {
		expect_unchanged(&before, call, false);
	}
	for (int m = 0; m < USER_SLOTS; m++)
		if ((m == src || m == dst) && models[m].space)
			for (int w = 0; w < W_COUNT; w++)
				if (models[m].pages[w])
					verify_range(m, windows[w].base, windows[w].base + windows[w].pages * PAGE);
}

void op_fork(const uint8_t *a)
{
	copy_op(a, true);
}

void op_clone(const uint8_t *a)
{
	copy_op(a, false);
}
