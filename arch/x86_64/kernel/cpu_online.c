/* arch_cpu_online: CPUs are numbered densely as they start, and none ever stops. */
#include <arch/arch.h>

bool arch_cpu_online(unsigned cpu)
{
	return cpu < arch_cpu_count();
}
