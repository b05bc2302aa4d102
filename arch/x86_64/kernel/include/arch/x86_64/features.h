/* CPU features from CPUID, and the control-register bits this kernel turns on for them. */
#ifndef ARCH_X86_64_FEATURES_H
#define ARCH_X86_64_FEATURES_H

#include <stdbool.h>
#include <stdint.h>

struct x86_features {
	char vendor[13];
	char brand[49];
	uint32_t family, model, stepping;
	uint32_t max_leaf, max_ext_leaf;
	unsigned phys_addr_bits, virt_addr_bits;

	bool pcid, invpcid, nx, smep, smap, pge, page1g, apic, x2apic, tsc, invariant_tsc, erms, pat;

	/* What is switched on (set by x86_cpu_features_enable). */
	bool pcid_on, smep_on, smap_on, pge_on, nx_on;
	bool pcid_refused; /* the command line said nopcid: PCID stays off on every CPU */
};

extern struct x86_features x86_features;

/* Reads CPUID into x86_features. */
void x86_cpu_features_detect(void);

/*
 * Turns on, on the calling CPU, what x86_features says is present: EFER.NXE, CR4.PGE,
 * CR4.SMEP, CR4.PCIDE. SMAP is x86_cpu_enable_smap's.
 * pre: x86_cpu_features_detect() ran; CR3's PCID field is 0.
 */
void x86_cpu_features_enable(void);

/* Turns PCID off on this CPU and keeps it off on every CPU started later (the nopcid
 * command-line option: the same kernel measured with and without PCIDs).
 * pre: no address space loaded yet (CR3's PCID field is 0). */
void x86_cpu_refuse_pcid(void);

/* Turns CR4.SMAP on, on the calling CPU, if the CPU has it: ring 0 then faults on any
 * access to a user page. The kernel reaches user memory through the direct map only, so it
 * needs no x86_stac()/x86_clac() brackets; the test probes (probe.h) are the exception. */
void x86_cpu_enable_smap(void);

/* One line: vendor, brand, family/model and the feature names, for the banner. */
void x86_cpu_features_print(void);

#endif /* ARCH_X86_64_FEATURES_H */
