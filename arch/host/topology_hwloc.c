/*
 * Reading a topology through hwloc: the NUMA nodes of this machine (or of an hwloc
 * description), the PUs of each, the distances between nodes, and what binding to them
 * needs (nodesets, cpusets, PU numbers).
 */
#include <arch/host/machine.h>

#include <errno.h>
#include <string.h>

#include <hwloc.h>

#include "host_internal.h"

/* The first matrix of OS latencies between NUMA nodes, if it covers every node and reads as
 * a SLIT (10 on the diagonal, 10..255 elsewhere). Anything else (no matrix, a partial one,
 * nanoseconds rather than SLIT units) leaves 10 and 20: a guessed scale would mislead
 * allocation fallback more than the platform's "nothing known". */
static void read_distances(struct host_topology *t, hwloc_topology_t topo)
{
	host_topology_default_distances(t, 20);
	struct hwloc_distances_s *d = NULL;
	unsigned nr = 1;
	if (hwloc_distances_get_by_type(
	        topo, HWLOC_OBJ_NUMANODE, &nr, &d,
	        HWLOC_DISTANCES_KIND_FROM_OS | HWLOC_DISTANCES_KIND_MEANS_LATENCY, 0) != 0 ||
	    nr == 0 || !d)
		return;

	unsigned m[ARCH_MAX_NODES][ARCH_MAX_NODES];
	bool covered[ARCH_MAX_NODES] = {false};
	bool usable = d->nbobjs == t->nodes;
	for (unsigned i = 0; usable && i < d->nbobjs; i++) {
		hwloc_obj_t a = d->objs[i];
		if (!a || a->logical_index >= t->nodes || covered[a->logical_index]) {
			usable = false;
			break;
		}
		covered[a->logical_index] = true;
		for (unsigned j = 0; j < d->nbobjs; j++) {
			hwloc_obj_t b = d->objs[j];
			hwloc_uint64_t v = d->values[i * d->nbobjs + j];
			if (!b || b->logical_index >= t->nodes ||
			    (i == j ? v != HOST_DISTANCE_LOCAL
			            : v < HOST_DISTANCE_LOCAL || v > HOST_DISTANCE_MAX)) {
				usable = false;
				break;
			}
			m[a->logical_index][b->logical_index] = (unsigned)v;
		}
	}
	if (usable)
		for (unsigned a = 0; a < t->nodes; a++)
			for (unsigned b = 0; b < t->nodes; b++)
				t->distance[a][b] = m[a][b];
	hwloc_distances_release(topo, d);
}

/* Walks the PUs of node `node` that no earlier node claimed (a PU can sit under several
 * NUMA nodes, as with a CPU's DRAM and high-bandwidth memory; it belongs to the first),
 * claiming them in `taken`. post: the next one, or NULL. */
static hwloc_obj_t next_pu(const struct host_topology *t, unsigned node, hwloc_obj_t prev,
                           hwloc_bitmap_t taken)
{
	hwloc_obj_t pu = prev;
	while ((pu = hwloc_get_next_obj_inside_cpuset_by_type(t->hwloc, t->cpuset[node], HWLOC_OBJ_PU,
	                                                      pu)) != NULL) {
		if (!hwloc_bitmap_isset(taken, pu->os_index)) {
			hwloc_bitmap_set(taken, pu->os_index);
			return pu;
		}
	}
	return NULL;
}

/* Numbers the CPUs node by node. Beyond ARCH_MAX_CPUS PUs, each node's share is taken
 * round-robin, so that a large machine's last nodes are not left without CPUs. */
static int assign_cpus(struct host_topology *t, char *err, size_t errlen)
{
	hwloc_bitmap_t taken = hwloc_bitmap_alloc();
	if (!taken) {
		host_error(err, errlen, "hwloc: out of memory");
		return -1;
	}
	unsigned available[ARCH_MAX_NODES] = {0}, quota[ARCH_MAX_NODES] = {0}, total = 0;
	for (unsigned node = 0; node < t->nodes; node++)
		for (hwloc_obj_t pu = NULL; (pu = next_pu(t, node, pu, taken)) != NULL;)
			available[node]++;
	for (bool more = true; more && total < ARCH_MAX_CPUS;) {
		more = false;
		for (unsigned node = 0; node < t->nodes && total < ARCH_MAX_CPUS; node++)
			if (quota[node] < available[node]) {
				quota[node]++;
				total++;
				more = true;
			}
	}
	if (total == 0) {
		hwloc_bitmap_free(taken);
		host_error(err, errlen, "hwloc found no PU in any NUMA node");
		return -1;
	}
	hwloc_bitmap_zero(taken);
	unsigned cpu = 0;
	for (unsigned node = 0; node < t->nodes; node++) {
		hwloc_obj_t pu = NULL;
		for (unsigned i = 0; i < quota[node]; i++) {
			pu = next_pu(t, node, pu, taken);
			t->cpu_node[cpu] = node;
			t->cpu_pu[cpu] = pu->os_index;
			cpu++;
		}
	}
	t->cpus = cpu;
	hwloc_bitmap_free(taken);
	return 0;
}

static int read_nodes(struct host_topology *t, char *err, size_t errlen)
{
	int nodes = hwloc_get_nbobjs_by_type(t->hwloc, HWLOC_OBJ_NUMANODE);
	if (nodes < 1) {
		host_error(err, errlen, "hwloc found no NUMA node");
		return -1;
	}
	if (nodes > ARCH_MAX_NODES) {
		host_error(err, errlen,
		           "hwloc found %d NUMA nodes, more than the %u the host build simulates: "
		           "give a synthetic topology such as 'nodes=%u,cpus=%u'",
		           nodes, ARCH_MAX_NODES, ARCH_MAX_NODES, ARCH_MAX_CPUS);
		return -1;
	}
	t->nodes = (unsigned)nodes;
	for (unsigned node = 0; node < t->nodes; node++) {
		hwloc_obj_t obj = hwloc_get_obj_by_type(t->hwloc, HWLOC_OBJ_NUMANODE, node);
		t->nodeset[node] = hwloc_bitmap_dup(obj->nodeset);
		t->cpuset[node] = hwloc_bitmap_dup(obj->cpuset);
		if (!t->nodeset[node] || !t->cpuset[node]) {
			host_error(err, errlen, "hwloc: out of memory");
			return -1;
		}
		t->node_memory[node] = obj->attr->numanode.local_memory;
	}
	return 0;
}

static int load(const char *description, struct host_topology *t, char *err, size_t errlen)
{
	hwloc_topology_t topo;
	if (hwloc_topology_init(&topo) != 0) {
		host_error(err, errlen, "hwloc_topology_init: %s", strerror(errno));
		return -1;
	}
	t->hwloc = topo;
	if (description) {
		int size = (int)strlen(description) + 1; /* hwloc wants the final NUL counted */
		bool xml = description[0] == '<';
		int r = xml ? hwloc_topology_set_xmlbuffer(topo, description, size)
		            : hwloc_topology_set_synthetic(topo, description);
		if (r != 0) {
			host_error(err, errlen, "hwloc cannot read the %s description",
			           xml ? "XML" : "synthetic");
			return -1;
		}
	}
	if (hwloc_topology_load(topo) != 0) {
		host_error(err, errlen, "hwloc_topology_load: %s", strerror(errno));
		return -1;
	}
	/* A description given here is never this machine, whatever HWLOC_THISSYSTEM says. */
	t->this_system = !description && hwloc_topology_is_thissystem(topo) != 0;
	if (read_nodes(t, err, errlen) != 0 || assign_cpus(t, err, errlen) != 0)
		return -1;
	read_distances(t, topo);
	return 0;
}

int host_topology_load_hwloc(const char *description, struct host_topology *out, char *err,
                             size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (load(description, out, err, errlen) != 0) {
		host_topology_release(out);
		memset(out, 0, sizeof *out);
		return -1;
	}
	return 0;
}
