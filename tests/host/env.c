/* Starting the memory manager on the host's simulated machine. */
#include "env.h"

#include <arch/host/machine.h>
#include <mm/phys.h>
#include <mm/vmm.h>

#include <stdio.h>

int host_env_init(uint64_t memory_bytes, unsigned nodes, unsigned cpus)
{
	struct host_machine_config config = {memory_bytes, nodes, cpus};
	if (host_machine_init(&config) != 0)
		return -1;
	struct host_ram_range ram[ARCH_MAX_NODES];
	size_t n = host_machine_ram(ram, ARCH_MAX_NODES);
	struct mm_phys_range ranges[ARCH_MAX_NODES];
	for (size_t i = 0; i < n; i++)
		ranges[i] = (struct mm_phys_range){ram[i].base, ram[i].size, ram[i].node};
	int error = mm_phys_init(ranges, n);
	if (error == MM_OK)
		error = mm_vm_init(MM_NADDR);
	if (error != MM_OK) {
		fprintf(stderr, "memory manager start-up failed: %s\n", mm_strerror(error));
		return -1;
	}
	return 0;
}
