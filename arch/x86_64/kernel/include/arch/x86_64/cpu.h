/* Inline wrappers for the privileged x86_64 instructions: ports, MSRs, control registers. */
#ifndef ARCH_X86_64_CPU_H
#define ARCH_X86_64_CPU_H

#include <stdint.h>

/* ---- Control-register and MSR bits this kernel sets or reads ------------------------ */
#define X86_CR0_PE (1ull << 0)
#define X86_CR0_WP (1ull << 16) /* ring 0 honours read-only pages (COW needs it) */
#define X86_CR0_PG (1ull << 31)

#define X86_CR4_PAE (1ull << 5)
#define X86_CR4_PGE (1ull << 7)    /* global pages survive CR3 writes */
#define X86_CR4_PCIDE (1ull << 17) /* CR3[11:0] is a PCID tag */
#define X86_CR4_SMEP (1ull << 20)  /* ring 0 may not execute user pages */
#define X86_CR4_SMAP (1ull << 21)  /* ring 0 may not touch user pages unless EFLAGS.AC */

#define X86_CR3_NOFLUSH (1ull << 63) /* with PCIDE: keep the PCID's TLB entries */
#define X86_CR3_PCID_MASK 0xFFFull
#define X86_CR3_ADDR_MASK 0x000FFFFFFFFFF000ull

#define X86_RFLAGS_TF (1ull << 8)
#define X86_RFLAGS_IF (1ull << 9)
#define X86_RFLAGS_DF (1ull << 10)
#define X86_RFLAGS_NT (1ull << 14)
#define X86_RFLAGS_AC (1ull << 18)

#define X86_MSR_APIC_BASE 0x1Bu
#define X86_MSR_PAT 0x277u /* page attribute table: the memory type of each PAT index */
#define X86_MSR_EFER 0xC0000080u
#define X86_MSR_STAR 0xC0000081u  /* SYSCALL/SYSRET selector bases */
#define X86_MSR_LSTAR 0xC0000082u /* SYSCALL entry point in 64-bit mode */
#define X86_MSR_FMASK 0xC0000084u /* RFLAGS bits SYSCALL clears */
#define X86_MSR_GS_BASE 0xC0000101u
#define X86_MSR_KERNEL_GS_BASE 0xC0000102u

#define X86_EFER_SCE (1ull << 0) /* SYSCALL/SYSRET enabled */
#define X86_EFER_LME (1ull << 8)
#define X86_EFER_NXE (1ull << 11)

/* ---- Port I/O ----------------------------------------------------------------------- */
static inline void x86_outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint8_t x86_inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline void x86_outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint16_t x86_inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

/* ---- MSRs and CPUID ----------------------------------------------------------------- */
static inline uint64_t x86_rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void x86_wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

struct x86_cpuid {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct x86_cpuid x86_cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct x86_cpuid r;
	__asm__ volatile("cpuid"
	                 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
	                 : "a"(leaf), "c"(subleaf));
	return r;
}

/* ---- Control registers -------------------------------------------------------------- */
#define X86_DEFINE_CR(n)                                                                           \
	static inline uint64_t x86_read_cr##n(void)                                                    \
	{                                                                                              \
		uint64_t v;                                                                                \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v) : : "memory");                             \
		return v;                                                                                  \
	}                                                                                              \
	static inline void x86_write_cr##n(uint64_t v)                                                 \
	{                                                                                              \
		__asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");                                 \
	}
X86_DEFINE_CR(0)
X86_DEFINE_CR(2)
X86_DEFINE_CR(3)
X86_DEFINE_CR(4)
#undef X86_DEFINE_CR

/* ---- Misc ----------------------------------------------------------------------------- */
static inline uint64_t x86_rflags(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0" : "=r"(f) : : "memory");
	return f;
}

static inline void x86_cli(void)
{
	__asm__ volatile("cli" : : : "memory");
}

static inline void x86_sti(void)
{
	__asm__ volatile("sti" : : : "memory");
}

static inline uint64_t x86_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* SMAP brackets for the user-copy code: between stac and clac ring 0 may touch user pages.
 * Only valid once x86_cpu_enable_smap() has run (the instructions #UD without SMAP). */
static inline void x86_stac(void)
{
	__asm__ volatile("stac" : : : "memory");
}

static inline void x86_clac(void)
{
	__asm__ volatile("clac" : : : "memory");
}

#endif /* ARCH_X86_64_CPU_H */
