/*
 * Host-only: a corrupted frame table stops the kernel in every build, not only in debug
 * builds. A caller that frees the reference a mapping holds lets the frame go while it is
 * still mapped; the later unmap then drops a reference nobody holds, which must panic (in
 * a release build the count used to wrap silently, and the frame could be handed out
 * twice). The panic ends the process, so the sequence runs in a forked child.
 */
#include <mm/phys.h>
#include <mm/vmm.h>
#include <mmtest/test.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define VA ((uintptr_t)0x0000320000000000ull)

/* Runs fn in a child with its stderr silenced; returns its wait status. */
static int run_in_child(void (*fn)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, STDERR_FILENO);
		alarm(30); /* a hang is a failure too, not a stuck test run */
		fn();
		_exit(0);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static void free_a_mapped_frame_then_unmap(void)
{
	mm_space_t s = mm_create_space(NULL);
	uintptr_t frame = mm_phys_alloc_page();
	if (!s || frame == MM_NADDR || mm_map_range_pages(s, VA, &frame, 1, MM_FLG_WR) != MM_OK)
		_exit(2);
	mm_phys_free_page(frame); /* the caller's own reference */
	mm_phys_free_page(frame); /* the mapping's: a caller's bug, which no count can see */
	mm_umap_range(s, VA, MM_PAGE_SIZE, 0);
	_exit(0); /* reached only if the unmap went on */
}

static void unmap_normally(void)
{
	mm_space_t s = mm_create_space(NULL);
	uintptr_t frame = mm_phys_alloc_page();
	if (!s || frame == MM_NADDR || mm_map_range_pages(s, VA, &frame, 1, MM_FLG_WR) != MM_OK)
		_exit(2);
	mm_phys_free_page(frame);
	_exit(mm_umap_range(s, VA, MM_PAGE_SIZE, 0) == MM_OK ? 0 : 3);
}

TEST(host_frame_check, a_reference_nobody_holds_panics_in_every_build)
{
	int status = run_in_child(free_a_mapped_frame_then_unmap);
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(WIFSIGNALED(status) ? WTERMSIG(status) : 0, SIGABRT);
	/* The same steps without the bad free finish: the child itself works. */
	status = run_in_child(unmap_normally);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
}
