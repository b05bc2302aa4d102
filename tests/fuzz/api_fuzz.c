/*
 * libFuzzer target: random sequences of the memory manager's public API, checked against a
 * model (model.h) after every step.
 *
 * An input is a sequence of 8-byte operations: an opcode byte and seven parameter bytes
 * (tests/fuzz/make_corpus.py writes them by name). The operations work on four spaces and
 * the kernel space, at addresses drawn from a few small windows so that they collide:
 * mappings of fresh, given and device pages, unmaps (keeping the frames or not), single
 * pages, translations, virtual ranges, regions (anonymous, reserve-only, populated, stacks,
 * heaps, shared memory), permission changes, program reads and writes through the fault
 * handler, user copies, fork and clone, frame and heap allocations, dumps, statistics, cache
 * drains and the frame caches turned off, and fault injection (mm_phys_fail_after) for one
 * operation.
 *
 * Each call's outcome is predicted first (which error, or success and where), then compared;
 * a failed call must leave the frame and heap counts as they were. After every operation
 * vmm_check_space() passes for every space and pmm_check() for the frame allocator; at the
 * end of the input everything is torn down and the free frames and heap objects must be back
 * where the input started. Any difference aborts, so libFuzzer keeps the input.
 *
 * The memory manager is started once (LLVMFuzzerInitialize) and kept across inputs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "pmm/pmm_internal.h"
#include "tests/host/env.h"
#include "tests/suites/helpers.h"
#include "tests/suites/user_access.h"
#include "vmm/invariants.h"

#define OP_BYTES 8
#define MAX_OPS 256 /* per input: bounds the time one input takes */

static void op_inject(const uint8_t *a)
{
	inject_next = a[0] % 24;
}

static void op_check(const uint8_t *a)
{
	verify_all();
}

struct op {
	const char *name;
	void (*run)(const uint8_t *params);
};

/* The opcode is the index here, modulo the count: tests/fuzz/make_corpus.py has the same
 * list, and the corpus's meaning depends on the order, so new operations go at the end. */
static const struct op ops[] = {
    {"create", op_create},
    {"destroy", op_destroy},
    {"map_range", op_map_range},
    {"map_pages", op_map_pages},
    {"umap", op_umap},
    {"translate", op_translate},
    {"region_map", op_region_map},
    {"protect", op_protect},
    {"region_unmap", op_region_unmap},
    {"read", op_read},
    {"write", op_write},
    {"fork", op_fork},
    {"clone", op_clone},
    {"phys_alloc", op_phys_alloc},
    {"phys_free", op_phys_free},
    {"kmalloc", op_kmalloc},
    {"kfree", op_kfree},
    {"inject", op_inject},
    {"shm_create", op_shm_create},
    {"shm_ref", op_shm_ref},
    {"stack", op_stack},
    {"find_free", op_find_free},
    {"query", op_query},
    {"heap", op_heap},
    {"set", op_set},
    {"check", op_check},
    {"umap_single", op_umap_single},
    {"vm", op_vm},
    {"copy_out", op_copy_out},
    {"copy_in", op_copy_in},
    {"string", op_string},
    {"dump", op_dump},
    {"stats", op_stats},
    {"drain", op_drain},
    {"caching", op_caching},
    {"huge", op_huge},
};
#define OP_COUNT (sizeof ops / sizeof ops[0])

/* After every operation: the invariant checkers. */
static void check_invariants(void)
{
	for (int m = 0; m < USER_SLOTS; m++) {
		if (!models[m].space)
			continue;
		int error = vmm_check_space(models[m].space);
		if (error != MM_OK)
			fuzz_fail("vmm_check_space(slot %d): %s", m, mm_strerror(error));
	}
	if (vmm_check_space(mm_kernel_space()) != MM_OK)
		fuzz_fail("vmm_check_space(kernel space) failed");
	/* Exact references: each mapped frame's count is its mappings, the objects' page
	 * caches, and the references the fuzzer holds itself. */
	static struct vmm_held_ref held[MAX_RECS];
	struct mm_space *spaces[USER_SLOTS];
	struct mm_pager *pagers[MAX_SHM];
	struct vmm_ref_scope scope = {spaces, 0, pagers, 0, held, 0};
	for (unsigned i = 0; i < rec_count; i++)
		if (recs[i].owned > 0)
			held[scope.n_held++] = (struct vmm_held_ref){recs[i].phys, (uint32_t)recs[i].owned};
	for (int m = 0; m < USER_SLOTS; m++)
		if (models[m].space)
			spaces[scope.n_spaces++] = models[m].space;
	for (unsigned i = 0; i < shm_count; i++)
		if (shms[i].refs > 0)
			pagers[scope.n_pagers++] = shms[i].pager;
	int error = vmm_check_references(&scope);
	if (error != MM_OK)
		fuzz_fail("vmm_check_references: %s", mm_strerror(error));
	pmm_check();
}

/* Everything the input made goes; the counts must be back where they were. */
static void teardown(uint64_t frames, uint64_t objects)
{
	fuzz_op_name = "teardown";
	mm_phys_fail_after(-1);
	mm_phys_set_caching(1);
	inject = false;
	inject_next = -1;
	verify_all();
	mm_set(mm_kernel_space());
	current_slot = -1;
	for (int m = 0; m < USER_SLOTS; m++)
		if (models[m].space)
			destroy_slot(m);
	const struct window *k = &windows[W_KERN];
	int error = mm_umap_range(mm_kernel_space(), k->base, k->pages * PAGE, 0);
	if (error != MM_OK)
		fuzz_fail("unmapping the kernel window: %s", mm_strerror(error));
	model_reset(KSLOT);
	for (unsigned i = 0; i < shm_count; i++)
		while (shms[i].refs > 0) {
			mm_pager_put(shms[i].pager);
			shms[i].refs--;
		}
	for (unsigned i = 0; i < rec_count; i++) {
		if (recs[i].owned > 0)
			check_frame_contents(&recs[i], "after the teardown");
		while (recs[i].owned > 0)
			free_ref(&recs[i]);
	}
	kobjs_release();
	shm_count = rec_count = 0;
	forget_recent();
	next_group = 0;
	check_invariants();
	if (free_frames() != frames || heap_objects() != objects)
		fuzz_fail("after the teardown: free frames %llu (%llu at the start), heap objects %llu "
		          "(%llu at the start)",
		          (unsigned long long)free_frames(), (unsigned long long)frames,
		          (unsigned long long)heap_objects(), (unsigned long long)objects);
	if (mm_kmalloc_check() != MM_OK)
		fuzz_fail("mm_kmalloc_check failed");
}

/* The zero page's address, learnt the way a program meets it: a read of untouched
 * anonymous memory. */
static uintptr_t find_zero_page(void)
{
	mm_space_t s = mm_create_space(NULL);
	struct mm_region_spec spec = {windows[W_LOW].base, PAGE, MM_REGION_FIXED,
	                              MM_SECTION_DATA,     NULL, 0};
	int error = MM_EINVAL;
	uintptr_t zero = MM_NADDR;
	if (s && mm_region_map(s, &spec) != MM_NADDR) {
		user_read64(s, spec.start, &error);
		zero = mm_translate(s, spec.start, NULL);
	}
	if (error != MM_OK || zero == MM_NADDR) {
		fprintf(stderr, "api_fuzz: cannot find the zero page\n");
		abort();
	}
	mm_destroy_space(s);
	return zero;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Two nodes so that node choices and fallbacks have somewhere to go; an arena the
	 * operations cannot use up (an input holds at most a few tens of MiB), so that running
	 * out of memory happens only under fault injection, with an aligned 1 GiB block for
	 * the 1 GiB page operation (ops_huge.c). Frames nothing touches cost nothing: the host
	 * arena is reserved, not committed. */
	static const struct host_env_options machine = {2048ull << 20, "nodes=2,cpus=2,distance=21",
	                                                true};
	if (host_env_init(&machine) != 0)
		abort();
	model_init();
	zero_page = find_zero_page();
	/* The kernel window must start empty: the model says it is. */
	const struct window *k = &windows[W_KERN];
	if (mm_region_find_free(mm_kernel_space(), k->base, k->base + k->pages * PAGE, k->pages * PAGE,
	                        PAGE) != k->base) {
		fprintf(stderr, "api_fuzz: the kernel window is not empty at start-up\n");
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t frames = free_frames(), objects = heap_objects();
	size_t n = size / OP_BYTES;
	if (n > MAX_OPS)
		n = MAX_OPS;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *rec = data + i * OP_BYTES;
		const struct op *op = &ops[rec[0] % OP_COUNT];
		fuzz_op_index = (unsigned)i;
		fuzz_op_name = op->name;
		if (inject_next >= 0) {
			mm_phys_fail_after(inject_next);
			inject = true;
			inject_next = -1;
		}
		op->run(rec + 1);
		if (inject) {
			mm_phys_fail_after(-1);
			inject = false;
		}
		check_invariants();
	}
	teardown(frames, objects);
	return 0;
}
