/*
 * Binding the simulated machine to the real one: a node's part of the arena to that node's
 * memory, a CPU's thread to its PU. Only for topologies hwloc read from this machine; the
 * caller (machine.c) decides when binding is worth it.
 */
#include <arch/host/machine.h>

#include <errno.h>
#include <string.h>

#include <hwloc.h>

#include "host_internal.h"

int host_topology_bind_area(const struct host_topology *t, unsigned node, void *addr, size_t len,
                            char *err, size_t errlen)
{
	if (!t->hwloc || !t->this_system || node >= t->nodes) {
		host_error(err, errlen, "node %u is not a node of this machine's topology", node);
		return -1;
	}
	/* BIND, not PREFERRED: a page that landed on another node would make the simulated
	 * node's memory silently remote. STRICT: fail rather than settle for less. */
	if (hwloc_set_area_membind(t->hwloc, addr, len, t->nodeset[node], HWLOC_MEMBIND_BIND,
	                           HWLOC_MEMBIND_BYNODESET | HWLOC_MEMBIND_STRICT) != 0) {
		host_error(err, errlen, "binding %zu bytes to node %u: %s", len, node, strerror(errno));
		return -1;
	}
	return 0;
}

int host_topology_pin_thread(const struct host_topology *t, unsigned cpu, char *err, size_t errlen)
{
	if (!t->hwloc || !t->this_system || cpu >= t->cpus) {
		host_error(err, errlen, "CPU %u is not a CPU of this machine's topology", cpu);
		return -1;
	}
	hwloc_bitmap_t set = hwloc_bitmap_alloc();
	if (!set) {
		host_error(err, errlen, "hwloc: out of memory");
		return -1;
	}
	hwloc_bitmap_only(set, t->cpu_pu[cpu]);
	int r = hwloc_set_cpubind(t->hwloc, set, HWLOC_CPUBIND_THREAD);
	int saved = errno;
	hwloc_bitmap_free(set);
	if (r != 0) {
		host_error(err, errlen, "pinning CPU %u to PU %u: %s", cpu, t->cpu_pu[cpu],
		           strerror(saved));
		return -1;
	}
	return 0;
}
