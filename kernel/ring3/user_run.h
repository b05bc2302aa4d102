/*
 * Ring 3 with address spaces: run a program in a given space with its page faults
 * resolved by mm_fault, and the small programs of user_programs.S loaded into a space (for
 * the kernel's user tests and the fault benchmarks). The ring-3 ABI is in user.h.
 */
#ifndef KERNEL_RING3_USER_RUN_H
#define KERNEL_RING3_USER_RUN_H

#include <stddef.h>
#include <stdint.h>

#include <arch/x86_64/user.h>
#include <mm/vmm.h>

/*
 * Installs the page-fault hook and the kernel's system calls (mmkernel/syscall.h).
 * The page-fault hook resolves faults from ring 3: mm_fault(the running
 * program's space, CR2, access) with MM_FAULT_WRITE / EXEC / USER / PRESENT from the error
 * code's W/R, I/D, U/S and P bits. MM_OK retries the instruction; an error ends the program
 * (x86_user_result.fault_error says which). Faults in ring 0 go to the hook that was there
 * before (none: fatal, as before). Once, after mm_vm_init.
 */
void x86_user_init(void);

/*
 * Runs a program in space: loads the space (mm_set), enters ring 3 at entry with RSP =
 * user_stack_top and RDI = arg, and returns when the program exits or takes a fault that
 * nobody resolves; *out has the exit value or the fault report. The kernel space is loaded
 * again afterwards, and the children the program forked and did not wait for are destroyed
 * (when no other CPU runs a program in the same space).
 * Returns X86_USER_EXITED, X86_USER_FAULTED, or MM_EINVAL (NULL, the kernel space, entry or
 * stack outside the user half) with nothing run.
 */
int x86_user_run(mm_space_t space, uintptr_t entry, uintptr_t user_stack_top, uint64_t arg,
                 struct x86_user_result *out);

/* The space of the program running on this CPU, NULL when none runs. */
mm_space_t x86_user_space(void);

/* Destroys the children the program of parent made with fork and did not wait for; the
 * runner calls it when a program ends (syscalls.c). */
void x86_user_reap_children(mm_space_t parent);

/* Installs the system-call hook (syscalls.c); x86_user_init calls it. */
void x86_user_syscalls_init(void);

/* ---- The programs (user_programs.S) ------------------------------------------------------ */

/* What x86_uprog_touch, _read and _time_* read through RDI. */
struct x86_uprog_args {
	uint64_t base;  /* the first page */
	uint64_t count; /* pages */
	uint64_t out;   /* _time_*: a u64 array of count entries, mapped and writable */
};

/* What x86_uprog_calls reads through RDI: a script of system calls, results written back. */
#define X86_UPROG_CALLS_MAX 24
/* An argument that stands for the previous call's result (0 before the first call). */
#define X86_UPROG_PREVIOUS 0xFEEDFACE00000001ull
/* A call number that is no system call: wait until the quadword at arg[0] is not zero (in
 * the program's memory; another CPU sets it); its result is the previous one again. */
#define X86_UPROG_SPIN 0xFEEDFACE00000002ull

struct x86_uprog_call {
	uint64_t nr;     /* RAX */
	uint64_t arg[4]; /* RDI, RSI, RDX, R10 */
	uint64_t result; /* RAX after the call */
};

struct x86_uprog_calls {
	uint64_t count; /* calls made: at most X86_UPROG_CALLS_MAX */
	struct x86_uprog_call call[X86_UPROG_CALLS_MAX];
};

/* The blob, and each program's entry in it (use x86_user_env_entry for the address in a
 * space). */
extern const char x86_uprog_start[], x86_uprog_end[];
extern const char x86_uprog_exit[];       /* exit(arg) */
extern const char x86_uprog_echo[];       /* echo(arg) + register checks; exit(arg) or -2 */
extern const char x86_uprog_touch[];      /* args: write 0xA5 at each page; exit(count) */
extern const char x86_uprog_read[];       /* args: exit(sum of each page's first u64) */
extern const char x86_uprog_write[];      /* *(u8 *)arg = 0x5A; exit(0) */
extern const char x86_uprog_load[];       /* exit(*(u64 *)arg) */
extern const char x86_uprog_call[];       /* call arg; exit(RAX) */
extern const char x86_uprog_hlt[];        /* #GP */
extern const char x86_uprog_ud2[];        /* #UD */
extern const char x86_uprog_div0[];       /* #DE */
extern const char x86_uprog_ret[];        /* a lone ret */
extern const char x86_uprog_time_write[]; /* args: out[i] = TSC cycles of a write to page i */
extern const char x86_uprog_time_read[];  /* args: the same for a read */
extern const char x86_uprog_calls[];      /* struct x86_uprog_calls: each call; exit(count) */

/* ---- A space ready to run them ------------------------------------------------------------ */

/* Where x86_user_env_init puts things. Tests use other addresses for their own regions. */
#define X86_USER_CODE_VA 0x0000000000400000ull /* the blob: read + execute */
#define X86_USER_ARGS_VA 0x0000000000600000ull /* argument and result pages: read + write */
#define X86_USER_ARGS_SIZE 0x10000ull
#define X86_USER_STACK_TOP 0x00007FFF00000000ull /* the stack's top: read + write */
#define X86_USER_STACK_SIZE 0x4000ull

struct x86_user_env {
	mm_space_t space;
	uintptr_t code;      /* X86_USER_CODE_VA (the blob); 0 for an ELF program */
	uintptr_t entry;     /* an ELF program's entry point; 0 for the blob */
	uintptr_t args;      /* X86_USER_ARGS_VA */
	uintptr_t stack_top; /* X86_USER_STACK_TOP */
};

/*
 * Maps, in space, a code region with a copy of the blob (MM_FLG_US | MM_FLG_EXEC, filled
 * while it was still writable and not executable), an argument region and a stack
 * (MM_FLG_US | MM_FLG_WR), all populated, at the addresses above. Returns 0 or the mm
 * error (part may have been mapped: destroying the space cleans up).
 */
int x86_user_env_init(struct x86_user_env *env, mm_space_t space);

/*
 * Loads a static ELF executable (image, size bytes: an x86-64 ELF file of type EXEC) into
 * space, with the argument region and the stack above: each PT_LOAD segment becomes a
 * region at its address (page-aligned, in the user half, clear of those two) with its
 * permissions (read-only, read + execute or read + write; write + execute is refused), the
 * file's bytes copied in and the rest zero, every page populated. env->entry is the file's
 * entry point; run it with x86_user_run(env->space, env->entry, env->stack_top, arg, ...).
 * Returns 0, MM_EINVAL for a file that is no such executable (nothing mapped), or the mm
 * error of a mapping (part may have been mapped: destroying the space cleans up).
 */
int x86_user_env_load_elf(struct x86_user_env *env, mm_space_t space, const void *image,
                          size_t size);

/* The address of program prog (one of the symbols above) in env's copy of the blob. */
static inline uintptr_t x86_user_env_entry(const struct x86_user_env *env, const char *prog)
{
	return env->code + (uintptr_t)(prog - x86_uprog_start);
}

/* x86_user_run of prog in env's space on env's stack. */
int x86_user_env_run(const struct x86_user_env *env, const char *prog, uint64_t arg,
                     struct x86_user_result *out);

/*
 * Copies between the kernel and the user half of space as the program's own reads and
 * writes would be served, but through the page tables and the direct map (the kernel never
 * touches user addresses: SMAP): a page not yet present or still copy-on-write goes to
 * mm_fault first. The permissions are the region's, as for the program (which is why the
 * loader fills the code region before making it executable). 0, or the error mm_fault gave
 * (MM_EFAULT, MM_EPERM, MM_ENOMEM) at the first page refused, the pages before it copied.
 */
int x86_user_poke(mm_space_t space, uintptr_t dst, const void *src, size_t len);
int x86_user_peek(mm_space_t space, void *dst, uintptr_t src, size_t len);

#endif /* KERNEL_RING3_USER_RUN_H */
