/* arch_cpu_online: CPUs are numbered densely in start order and published by raising
 * x86_cpu_count (smp_boot.c), and none ever stops: online means started. */
#include <arch/arch.h>

bool arch_cpu_online(unsigned cpu)
{
	return cpu < arch_cpu_count();
}
