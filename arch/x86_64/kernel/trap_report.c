/* The report printed for a fatal exception: what, where, the registers, a backtrace. */
#include <arch/x86_64/trap.h>

#include <arch/arch.h>
#include <arch/x86_64/console.h>
#include <arch/x86_64/cpu.h>
#include <arch/x86_64/exit.h>
#include <lib/print.h>

static const char *const exception_names[X86_VEC_EXCEPTIONS] = {
    "#DE divide error",
    "#DB debug",
    "NMI",
    "#BP breakpoint",
    "#OF overflow",
    "#BR bound range exceeded",
    "#UD invalid opcode",
    "#NM device not available",
    "#DF double fault",
    "coprocessor segment overrun",
    "#TS invalid TSS",
    "#NP segment not present",
    "#SS stack-segment fault",
    "#GP general protection",
    "#PF page fault",
    "reserved (15)",
    "#MF x87 floating-point error",
    "#AC alignment check",
    "#MC machine check",
    "#XM SIMD floating-point",
    "#VE virtualization exception",
    "#CP control protection",
    "reserved (22)",
    "reserved (23)",
    "reserved (24)",
    "reserved (25)",
    "reserved (26)",
    "reserved (27)",
    "#HV hypervisor injection",
    "#VC VMM communication",
    "#SX security exception",
    "reserved (31)",
};

/* Only the first fatal report runs in full; a fault while reporting stops at once. */
static int reporting;

static bool plausible_frame(uint64_t rbp)
{
	/* Kernel half, 8-byte aligned, not the very top of the address space. */
	return rbp >= 0xFFFF800000000000ull && rbp < 0xFFFFFFFFFFFFF000ull && (rbp & 7) == 0;
}

static void backtrace(uint64_t rip, uint64_t rbp)
{
	lib_printf("  backtrace: %016llx", (unsigned long long)rip);
	/* Every function keeps a frame pointer (-fno-omit-frame-pointer): [rbp] is the caller's
	 * rbp, [rbp + 8] the return address. Frames grow upwards; stop at anything else. */
	for (int depth = 0; depth < 16 && plausible_frame(rbp); depth++) {
		const uint64_t *fp = (const uint64_t *)(uintptr_t)rbp;
		uint64_t ret = fp[1], next = fp[0];
		if (ret == 0)
			break;
		lib_printf(" %016llx", (unsigned long long)ret);
		if (next <= rbp)
			break;
		rbp = next;
	}
	lib_printf("\n");
}

_Noreturn void x86_trap_fatal(const struct x86_trap_frame *f, uintptr_t cr2, const char *why)
{
	x86_cli();
	x86_console_panic_mode();
	if (__atomic_fetch_add(&reporting, 1, __ATOMIC_ACQ_REL) != 0) {
		lib_printf("\n*** nested fault while reporting: vector %llu rip %016llx cr2 %016llx\n",
		           (unsigned long long)f->vector, (unsigned long long)f->rip,
		           (unsigned long long)x86_read_cr2());
		kernel_exit(false);
	}

	const char *name = f->vector < X86_VEC_EXCEPTIONS ? exception_names[f->vector] : "interrupt";
	lib_printf("\n*** FATAL %s: vector %llu (%s) on CPU %u, error code 0x%llx\n", why,
	           (unsigned long long)f->vector, name, arch_cpu_id(), (unsigned long long)f->error);
	if (f->vector == X86_VEC_PF) {
		uint64_t e = f->error;
		lib_printf("  CR2 %016llx  (%s %s, %s mode%s%s)\n", (unsigned long long)cr2,
		           e & X86_PF_FETCH   ? "instruction fetch"
		           : e & X86_PF_WRITE ? "write"
		                              : "read",
		           e & X86_PF_PRESENT ? "on a protected page" : "of a not-present page",
		           e & X86_PF_USER ? "user" : "kernel", e & X86_PF_RSVD ? ", reserved bit set" : "",
		           e & X86_PF_PK ? ", protection key" : "");
	}
	if (f->vector == 8)
		lib_printf("  (a double fault in the kernel is most often a stack overflow into the guard "
		           "page: see RSP)\n");
	lib_printf("  RIP %016llx  CS %04llx  RFLAGS %016llx\n", (unsigned long long)f->rip,
	           (unsigned long long)f->cs, (unsigned long long)f->rflags);
	lib_printf("  RSP %016llx  SS %04llx\n", (unsigned long long)f->rsp, (unsigned long long)f->ss);
	lib_printf("  CR0 %016llx  CR3 %016llx  CR4 %016llx\n", (unsigned long long)x86_read_cr0(),
	           (unsigned long long)x86_read_cr3(), (unsigned long long)x86_read_cr4());
	lib_printf("  RAX %016llx  RBX %016llx  RCX %016llx  RDX %016llx\n", (unsigned long long)f->rax,
	           (unsigned long long)f->rbx, (unsigned long long)f->rcx, (unsigned long long)f->rdx);
	lib_printf("  RSI %016llx  RDI %016llx  RBP %016llx\n", (unsigned long long)f->rsi,
	           (unsigned long long)f->rdi, (unsigned long long)f->rbp);
	lib_printf("  R8  %016llx  R9  %016llx  R10 %016llx  R11 %016llx\n", (unsigned long long)f->r8,
	           (unsigned long long)f->r9, (unsigned long long)f->r10, (unsigned long long)f->r11);
	lib_printf("  R12 %016llx  R13 %016llx  R14 %016llx  R15 %016llx\n", (unsigned long long)f->r12,
	           (unsigned long long)f->r13, (unsigned long long)f->r14, (unsigned long long)f->r15);
	backtrace(f->rip, f->rbp);
	lib_printf("FAIL: fatal exception\n");
	kernel_exit(false);
}
