/*
 * Kernel-only tests of the ring-3 program loader (x86_user_env_load_elf): a small ELF file
 * built here is mapped segment by segment with its permissions and runs; every malformed
 * or unsafe file is refused with nothing mapped.
 */
#include <stddef.h>
#include <stdint.h>

#include <arch/x86_64/cpu.h>
#include <lib/elf64.h>
#include <lib/string.h>
#include <mm/region.h>
#include <mmtest/test.h>

#include "kernel/ring3/user_run.h"

#include "tests/suites/fixtures.h"
#include "tests/suites/helpers.h"

#define CODE_VA 0x0000000010000000ull
#define DATA_VA 0x0000000010001000ull

/* An executable with a code segment (exit(42) through the system call) and a zero-filled
 * data segment of two pages. */
struct image {
	struct elf64_header h;
	struct elf64_segment seg[2];
	uint8_t code[16];
};

static void make_image(struct image *im)
{
	static const uint8_t exit42[] = {
	    0xBF, 0x2A, 0x00, 0x00, 0x00, /* mov $42, %edi */
	    0x31, 0xC0,                   /* xor %eax, %eax (exit) */
	    0x0F, 0x05,                   /* syscall */
	    0x0F, 0x0B,                   /* ud2 */
	};
	memset(im, 0, sizeof *im);
	static const unsigned char ident[] = {
	    0x7F, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* little-endian */, 1 /* version */};
	memcpy(im->h.ident, ident, sizeof ident);
	im->h.type = ELF64_TYPE_EXEC;
	im->h.machine = ELF64_MACHINE_X86_64;
	im->h.version = 1;
	im->h.entry = CODE_VA;
	im->h.phoff = offsetof(struct image, seg);
	im->h.ehsize = sizeof im->h;
	im->h.phentsize = sizeof im->seg[0];
	im->h.phnum = 2;
	im->seg[0] = (struct elf64_segment){
	    .type = ELF64_PT_LOAD,
	    .flags = ELF64_PF_R | ELF64_PF_X,
	    .offset = offsetof(struct image, code),
	    .vaddr = CODE_VA,
	    .filesz = sizeof exit42,
	    .memsz = MM_PAGE_SIZE,
	};
	im->seg[1] = (struct elf64_segment){
	    .type = ELF64_PT_LOAD,
	    .flags = ELF64_PF_R | ELF64_PF_W,
	    .vaddr = DATA_VA,
	    .memsz = 2 * MM_PAGE_SIZE,
	};
	memcpy(im->code, exit42, sizeof exit42);
}

static uint32_t page_flags(mm_space_t space, uintptr_t va)
{
	uint32_t flags = 0;
	return mm_translate(space, va, &flags) == MM_NADDR ? ~0u : flags;
}

TEST_F(leak_checked, elf_load, maps_each_segment_with_its_permissions_and_runs)
{
	static struct image im;
	make_image(&im);
	mm_space_t s = test_space(t);
	ASSERT_TRUE(s);
	struct x86_user_env env;
	ASSERT_EQ(x86_user_env_load_elf(&env, s, &im, sizeof im), MM_OK);
	EXPECT_EQ(env.entry, CODE_VA);
	EXPECT_EQ(env.args, X86_USER_ARGS_VA);
	EXPECT_EQ(env.stack_top, X86_USER_STACK_TOP);
	uint32_t code = page_flags(s, CODE_VA), data = page_flags(s, DATA_VA + MM_PAGE_SIZE);
	EXPECT_TRUE((code & MM_FLG_EXEC) && !(code & MM_FLG_WR) && (code & MM_FLG_US));
	EXPECT_TRUE((data & MM_FLG_WR) && !(data & MM_FLG_EXEC) && (data & MM_FLG_US));
	/* The file's bytes, then zeros to the segment's end. */
	uint8_t bytes[sizeof im.code + 4];
	ASSERT_EQ(x86_user_peek(s, bytes, CODE_VA, sizeof bytes), MM_OK);
	EXPECT_EQ(memcmp(bytes, im.code, sizeof im.code), 0);
	uint64_t tail = 1, bss = 1;
	EXPECT_EQ(x86_user_peek(s, &tail, CODE_VA + MM_PAGE_SIZE - 8, 8), MM_OK);
	EXPECT_EQ(x86_user_peek(s, &bss, DATA_VA + 2 * MM_PAGE_SIZE - 8, 8), MM_OK);
	EXPECT_EQ(tail, 0u);
	EXPECT_EQ(bss, 0u);
	struct x86_user_result r;
	x86_sti();
	EXPECT_EQ(x86_user_run(s, env.entry, env.stack_top, 0, &r), X86_USER_EXITED);
	EXPECT_EQ(r.value, 42u);
}

TEST_F(leak_checked, elf_load, refuses_bad_files_and_maps_nothing)
{
	static struct image im;
	mm_space_t s = test_space(t);
	ASSERT_TRUE(s);
	uint64_t before = free_frames();
	struct x86_user_env env;
	/* Each case spoils one thing of a good file. */
	for (int which = 0; which < 13; which++) {
		make_image(&im);
		size_t size = sizeof im;
		switch (which) {
		case 0: /* no ELF magic */
			im.h.ident[0] = 0;
			break;
		case 1: /* 32-bit */
			im.h.ident[4] = 1;
			break;
		case 2: /* i386 */
			im.h.machine = 3;
			break;
		case 3: /* a shared object */
			im.h.type = 3;
			break;
		case 4: /* program headers outside the file */
			im.h.phoff = ~0ull - 8;
			break;
		case 5: /* a segment's bytes outside the file */
			im.seg[0].offset = sizeof im;
			im.seg[0].filesz = 1;
			break;
		case 6: /* more bytes in the file than in memory */
			im.seg[0].filesz = 2 * MM_PAGE_SIZE;
			break;
		case 7: /* unaligned */
			im.seg[1].vaddr += 8;
			break;
		case 8: /* in the kernel half */
			im.seg[1].vaddr = MM_USER_END;
			break;
		case 9: /* writable and executable */
			im.seg[1].flags |= ELF64_PF_X;
			break;
		case 10: /* over the argument pages */
			im.seg[1].vaddr = X86_USER_ARGS_VA;
			break;
		case 11: /* the entry outside the code */
			im.h.entry = DATA_VA;
			break;
		case 12: /* cut short */
			size = sizeof im.h - 1;
			break;
		}
		EXPECT_EQ(x86_user_env_load_elf(&env, s, &im, size), MM_EINVAL);
		struct mm_region_info info;
		EXPECT_EQ(mm_region_query(s, CODE_VA, &info), MM_ENOENT);
		EXPECT_EQ(mm_region_query(s, X86_USER_ARGS_VA, &info), MM_ENOENT);
	}
	EXPECT_EQ(x86_user_env_load_elf(&env, s, NULL, sizeof im), MM_EINVAL);
	EXPECT_EQ(free_frames(), before);
}
