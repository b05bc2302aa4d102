/* The suites' fixtures: see fixtures.h. */
#include "fixtures.h"

#include "helpers.h"

enum { FRAMES_AT_START, OBJECTS_AT_START };

static void record_memory(struct mm_test_ctx *t)
{
	t->fixture_state[FRAMES_AT_START] = free_frames();
	t->fixture_state[OBJECTS_AT_START] = heap_objects();
}

static void expect_memory_as_recorded(struct mm_test_ctx *t)
{
	uint64_t frames = free_frames(), objects = heap_objects();
	if (frames != t->fixture_state[FRAMES_AT_START])
		mm_test_fail(t, __FILE__, __LINE__, "free frames at the end == free frames at the start",
		             frames, t->fixture_state[FRAMES_AT_START]);
	if (objects != t->fixture_state[OBJECTS_AT_START])
		mm_test_fail(t, __FILE__, __LINE__, "heap objects at the end == heap objects at the start",
		             objects, t->fixture_state[OBJECTS_AT_START]);
}

const struct mm_test_fixture leak_checked = {record_memory, expect_memory_as_recorded};

static void destroy_space(void *space)
{
	mm_destroy_space(space);
}

mm_space_t test_owns_space(struct mm_test_ctx *t, mm_space_t space)
{
	if (space)
		mm_test_defer(t, destroy_space, space);
	return space;
}

mm_space_t test_space(struct mm_test_ctx *t)
{
	mm_space_t space = mm_create_space(NULL);
	if (!space)
		mm_test_fail(t, __FILE__, __LINE__, "mm_create_space(NULL) != NULL", 0, 0);
	return test_owns_space(t, space);
}
