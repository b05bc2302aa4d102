/*
 * Host-only: the simulated machine's topology (synthetic specs, hwloc on this machine and on
 * hwloc descriptions of multi-node machines, binding) and the split of the arena between
 * nodes, plus the running machine's agreement with both.
 */
#include <arch/host/machine.h>
#include <mm/phys.h>
#include <mmtest/test.h>

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define MIB (1ull << 20)
#define GIB (1ull << 30)

/* Two packages of two PUs, one NUMA node each (1 and 2 GiB), OS latencies 10/21: as
 * `lstopo --of xml` writes it, less what hwloc does not need. */
static const char two_node_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!DOCTYPE topology SYSTEM \"hwloc2.dtd\">\n"
    "<topology version=\"2.0\">\n"
    "<object type=\"Machine\" os_index=\"0\" cpuset=\"0xf\" complete_cpuset=\"0xf\""
    " nodeset=\"0x3\" complete_nodeset=\"0x3\">\n"
    "<object type=\"Package\" os_index=\"0\" cpuset=\"0x3\" complete_cpuset=\"0x3\""
    " nodeset=\"0x1\" complete_nodeset=\"0x1\">\n"
    "<object type=\"NUMANode\" os_index=\"0\" cpuset=\"0x3\" complete_cpuset=\"0x3\""
    " nodeset=\"0x1\" complete_nodeset=\"0x1\" local_memory=\"1073741824\"/>\n"
    "<object type=\"PU\" os_index=\"0\" cpuset=\"0x1\" complete_cpuset=\"0x1\""
    " nodeset=\"0x1\" complete_nodeset=\"0x1\"/>\n"
    "<object type=\"PU\" os_index=\"1\" cpuset=\"0x2\" complete_cpuset=\"0x2\""
    " nodeset=\"0x1\" complete_nodeset=\"0x1\"/>\n"
    "</object>\n"
    "<object type=\"Package\" os_index=\"1\" cpuset=\"0xc\" complete_cpuset=\"0xc\""
    " nodeset=\"0x2\" complete_nodeset=\"0x2\">\n"
    "<object type=\"NUMANode\" os_index=\"1\" cpuset=\"0xc\" complete_cpuset=\"0xc\""
    " nodeset=\"0x2\" complete_nodeset=\"0x2\" local_memory=\"2147483648\"/>\n"
    "<object type=\"PU\" os_index=\"2\" cpuset=\"0x4\" complete_cpuset=\"0x4\""
    " nodeset=\"0x2\" complete_nodeset=\"0x2\"/>\n"
    "<object type=\"PU\" os_index=\"3\" cpuset=\"0x8\" complete_cpuset=\"0x8\""
    " nodeset=\"0x2\" complete_nodeset=\"0x2\"/>\n"
    "</object>\n"
    "</object>\n"
    "<distances2 type=\"NUMANode\" nbobjs=\"2\" kind=\"5\" indexing=\"os\">\n"
    "<indexes length=\"4\">0 1 </indexes>\n"
    "<u64values length=\"12\">10 21 21 10 </u64values>\n"
    "</distances2>\n"
    "</topology>\n";

/* CPU indexes grouped by node, node numbers never going down, every CPU on a real node. */
static void expect_grouped(struct mm_test_ctx *t, const struct host_topology *topo)
{
	for (unsigned cpu = 0; cpu < topo->cpus; cpu++) {
		EXPECT_LT(topo->cpu_node[cpu], topo->nodes);
		if (cpu > 0)
			EXPECT_LE(topo->cpu_node[cpu - 1], topo->cpu_node[cpu]);
	}
}

TEST(topology, synthetic_specs)
{
	struct host_topology topo;
	char err[200];
	ASSERT_EQ(host_topology_parse("nodes=2,cpus=8,distance=21", &topo, err, sizeof err), 0);
	EXPECT_EQ(topo.nodes, 2);
	EXPECT_EQ(topo.cpus, 8);
	EXPECT_TRUE(topo.hwloc == NULL);
	EXPECT_FALSE(topo.this_system);
	host_topology_describe(&topo, err, sizeof err);
	EXPECT_EQ(strcmp(err, "synthetic: 2 nodes, 8 CPUs, distance 21"), 0);
	host_topology_release(&topo);

	/* Any order; what is left out takes its default (1 node, 8 CPUs, distance 20). */
	ASSERT_EQ(host_topology_parse("distance=30,cpus=7,nodes=3", &topo, err, sizeof err), 0);
	EXPECT_EQ(topo.nodes, 3);
	EXPECT_EQ(topo.cpus, 7);
	EXPECT_EQ(topo.distance[2][0], 30);
	ASSERT_EQ(host_topology_parse("nodes=2", &topo, err, sizeof err), 0);
	EXPECT_EQ(topo.cpus, 8);
	EXPECT_EQ(topo.distance[0][1], 20);
	ASSERT_EQ(host_topology_parse("cpus=1", &topo, err, sizeof err), 0);
	EXPECT_EQ(topo.nodes, 1);
	EXPECT_EQ(topo.cpus, 1);
	ASSERT_EQ(host_topology_parse("nodes=8,cpus=64,distance=10", &topo, err, sizeof err), 0);
	EXPECT_EQ(topo.distance[7][0], 10);
}

TEST(topology, bad_specs_are_refused_with_a_reason)
{
	static const struct {
		const char *spec, *reason; /* a word the message must hold */
	} bad[] = {
	    {"", "empty"},
	    {"nodes=0", "nodes=0"},
	    {"nodes=9", "1..8"},
	    {"cpus=0", "cpus=0"},
	    {"cpus=65", "1..64"},
	    {"nodes=4,cpus=3", "fewer"},
	    {"distance=9", "10..255"},
	    {"distance=256", "10..255"},
	    {"nodes=2,nodes=2", "twice"},
	    {"sockets=2", "unknown"},
	    {"nodes", "key=value"},
	    {"nodes=", "needs a number"},
	    {"nodes=x", "decimal"},
	    {"nodes=-1", "decimal"},
	    {"nodes=2,", "empty item"},
	    {",nodes=2", "empty item"},
	    {"nodes=99999999999999999999", "1..8"},
	    {"HWLOC", "key=value"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct host_topology topo;
		char err[200] = "";
		EXPECT_EQ(host_topology_parse(bad[i].spec, &topo, err, sizeof err), -1);
		EXPECT_TRUE(strstr(err, bad[i].reason) != NULL);
		EXPECT_EQ(topo.nodes, 0);
	}
	/* A NULL error buffer is allowed. */
	struct host_topology topo;
	EXPECT_EQ(host_topology_parse("nodes=0", &topo, NULL, 0), -1);
}

TEST(topology, synthetic_cpus_are_spread_evenly)
{
	for (unsigned nodes = 1; nodes <= ARCH_MAX_NODES; nodes++) {
		for (unsigned cpus = nodes; cpus <= ARCH_MAX_CPUS; cpus++) {
			char spec[64], err[200];
			snprintf(spec, sizeof spec, "nodes=%u,cpus=%u", nodes, cpus);
			struct host_topology topo;
			ASSERT_EQ(host_topology_parse(spec, &topo, err, sizeof err), 0);
			expect_grouped(t, &topo);
			unsigned count[ARCH_MAX_NODES] = {0};
			for (unsigned cpu = 0; cpu < cpus; cpu++)
				count[topo.cpu_node[cpu]]++;
			for (unsigned node = 0; node < nodes; node++) {
				EXPECT_GE(count[node], cpus / nodes);
				EXPECT_LE(count[node], (cpus + nodes - 1) / nodes);
			}
		}
	}
}

TEST(topology, synthetic_distance_matrix)
{
	struct host_topology topo;
	char err[200];
	ASSERT_EQ(host_topology_parse("nodes=4,cpus=8,distance=32", &topo, err, sizeof err), 0);
	for (unsigned a = 0; a < 4; a++)
		for (unsigned b = 0; b < 4; b++)
			EXPECT_EQ(topo.distance[a][b], a == b ? 10 : 32);
}

TEST(topology, hwloc_reads_this_machine)
{
	struct host_topology topo;
	char err[200] = "";
	ASSERT_EQ(host_topology_parse("hwloc", &topo, err, sizeof err), 0);
	EXPECT_TRUE(topo.hwloc != NULL);
	EXPECT_TRUE(topo.this_system);
	EXPECT_GE(topo.nodes, 1);
	EXPECT_LE(topo.nodes, ARCH_MAX_NODES);
	EXPECT_GE(topo.cpus, 1);
	EXPECT_LE(topo.cpus, ARCH_MAX_CPUS);
	expect_grouped(t, &topo);
	for (unsigned node = 0; node < topo.nodes; node++) {
		EXPECT_GE(topo.node_memory[node], MIB);
		EXPECT_EQ(topo.distance[node][node], 10);
		for (unsigned other = 0; other < topo.nodes; other++)
			if (other != node)
				EXPECT_GE(topo.distance[node][other], 10);
	}
	for (unsigned a = 0; a < topo.cpus; a++)
		for (unsigned b = a + 1; b < topo.cpus; b++)
			EXPECT_NE(topo.cpu_pu[a], topo.cpu_pu[b]);
	host_topology_describe(&topo, err, sizeof err);
	EXPECT_EQ(strncmp(err, "hwloc: ", 7), 0);
	host_topology_release(&topo);
	EXPECT_TRUE(topo.hwloc == NULL);
}

TEST(topology, hwloc_description_with_two_nodes_and_distances)
{
	struct host_topology topo;
	char err[200] = "";
	ASSERT_EQ(host_topology_load_hwloc(two_node_xml, &topo, err, sizeof err), 0);
	EXPECT_FALSE(topo.this_system);
	EXPECT_EQ(topo.nodes, 2);
	EXPECT_EQ(topo.cpus, 4);
	static const unsigned node_of[4] = {0, 0, 1, 1};
	for (unsigned cpu = 0; cpu < 4; cpu++) {
		EXPECT_EQ(topo.cpu_node[cpu], node_of[cpu]);
		EXPECT_EQ(topo.cpu_pu[cpu], cpu);
	}
	EXPECT_EQ(topo.node_memory[0], GIB);
	EXPECT_EQ(topo.node_memory[1], 2 * GIB);
	EXPECT_EQ(topo.distance[0][0], 10);
	EXPECT_EQ(topo.distance[0][1], 21);
	EXPECT_EQ(topo.distance[1][0], 21);
	EXPECT_EQ(topo.distance[1][1], 10);
	host_topology_describe(&topo, err, sizeof err);
	EXPECT_EQ(strcmp(err, "hwloc text: 2 nodes, 4 CPUs, distance 21"), 0);
	/* Not this machine: never bound. */
	EXPECT_EQ(host_topology_pin_thread(&topo, 0, err, sizeof err), -1);
	host_topology_release(&topo);
}

TEST(topology, hwloc_many_pus_are_shared_between_nodes)
{
	/* 96 PUs on two nodes: the 64 CPUs are taken half from each, and no distances given
	 * means 10 and 20. */
	struct host_topology topo;
	char err[200] = "";
	ASSERT_EQ(host_topology_load_hwloc("node:2 core:48 pu:1", &topo, err, sizeof err), 0);
	EXPECT_EQ(topo.nodes, 2);
	EXPECT_EQ(topo.cpus, ARCH_MAX_CPUS);
	expect_grouped(t, &topo);
	EXPECT_EQ(topo.cpu_node[ARCH_MAX_CPUS / 2 - 1], 0);
	EXPECT_EQ(topo.cpu_node[ARCH_MAX_CPUS / 2], 1);
	EXPECT_EQ(topo.cpu_pu[ARCH_MAX_CPUS / 2], 48); /* node 1's first PU */
	EXPECT_EQ(topo.distance[0][1], 20);
	host_topology_release(&topo);

	EXPECT_EQ(host_topology_load_hwloc("node:9 pu:1", &topo, err, sizeof err), -1);
	EXPECT_TRUE(strstr(err, "more than") != NULL);
	EXPECT_EQ(host_topology_load_hwloc("not a topology", &topo, err, sizeof err), -1);
	EXPECT_TRUE(topo.hwloc == NULL);
}

struct pin_check {
	const struct host_topology *topo;
	int result;
	int only_that_pu;
};

static void *pin_and_look(void *arg)
{
	struct pin_check *c = arg;
	char err[200];
	c->result = host_topology_pin_thread(c->topo, 0, err, sizeof err);
	cpu_set_t set;
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof set, &set) == 0)
		c->only_that_pu = CPU_COUNT(&set) == 1 && CPU_ISSET(c->topo->cpu_pu[0], &set);
	return NULL;
}

TEST(topology, binding_to_this_machine)
{
	struct host_topology topo;
	char err[200] = "";
	ASSERT_EQ(host_topology_parse("hwloc", &topo, err, sizeof err), 0);
	size_t len = 2 * MIB;
	void *area = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(area != MAP_FAILED);
	EXPECT_EQ(host_topology_bind_area(&topo, 0, area, len, err, sizeof err), 0);
	EXPECT_EQ(host_topology_bind_area(&topo, topo.nodes, area, len, err, sizeof err), -1);
	munmap(area, len);

	/* In a thread of its own, so that the test program's CPUs stay free to move. */
	struct pin_check check = {&topo, -1, 0};
	pthread_t thread;
	ASSERT_EQ(pthread_create(&thread, NULL, pin_and_look, &check), 0);
	pthread_join(thread, NULL);
	EXPECT_EQ(check.result, 0);
	EXPECT_TRUE(check.only_that_pu);
	host_topology_release(&topo);

	ASSERT_EQ(host_topology_parse("nodes=2,cpus=4", &topo, err, sizeof err), 0);
	EXPECT_EQ(host_topology_pin_thread(&topo, 0, err, sizeof err), -1);
}

TEST(topology, arena_split_gives_each_node_its_share)
{
	struct host_ram_range r[ARCH_MAX_NODES];
	ASSERT_EQ(host_arena_split(3 * GIB, 2, r), 2);
	EXPECT_EQ(r[0].base, MIB);
	EXPECT_EQ(r[0].size, 3 * GIB / 2 - MIB);
	EXPECT_EQ(r[1].base, 3 * GIB / 2);
	EXPECT_EQ(r[1].size, 3 * GIB / 2);
	EXPECT_EQ(r[1].node, 1);

	/* Parts are whole 2 MiB multiples; the rest of an uneven size is left out. */
	for (unsigned nodes = 1; nodes <= ARCH_MAX_NODES; nodes++) {
		uint64_t bytes = 5 * GIB / 2 + 12345 * 4096;
		ASSERT_EQ(host_arena_split(bytes, nodes, r), nodes);
		uint64_t part = (r[nodes - 1].base + r[nodes - 1].size) / nodes;
		EXPECT_EQ(part % (2 * MIB), 0);
		EXPECT_GE(part * nodes, bytes - nodes * 2 * MIB);
		EXPECT_LE(part * nodes, bytes);
		for (unsigned node = 0; node < nodes; node++) {
			EXPECT_EQ(r[node].node, node);
			EXPECT_EQ(r[node].base + r[node].size, (node + 1) * part);
			EXPECT_EQ(r[node].size, node == 0 ? part - MIB : part);
		}
	}
	EXPECT_EQ(host_arena_split(8 * MIB, 2, r), 2);
	EXPECT_EQ(host_arena_split(8 * MIB - 1, 2, r), 0);
	EXPECT_EQ(host_arena_split(GIB, 0, r), 0);
	EXPECT_EQ(host_arena_split(GIB, ARCH_MAX_NODES + 1, r), 0);
}

TEST(topology, the_running_machine_follows_its_topology)
{
	const struct host_topology *topo = host_machine_topology();
	ASSERT_EQ(arch_node_count(), topo->nodes);
	ASSERT_EQ(arch_cpu_count(), topo->cpus);
	for (unsigned cpu = 0; cpu < topo->cpus; cpu++)
		EXPECT_EQ(arch_cpu_node(cpu), topo->cpu_node[cpu]);
	for (unsigned a = 0; a < topo->nodes; a++)
		for (unsigned b = 0; b < topo->nodes; b++)
			EXPECT_EQ(arch_node_distance(a, b), topo->distance[a][b]);

	/* One RAM range per node, in the split's layout; the allocator has every frame of each
	 * node's share (less the frame table, carved from one node). */
	struct host_ram_range ram[ARCH_MAX_NODES];
	ASSERT_EQ(host_machine_ram(ram, ARCH_MAX_NODES), topo->nodes);
	uint64_t part = (ram[topo->nodes - 1].base + ram[topo->nodes - 1].size) / topo->nodes;
	struct mm_phys_stats all;
	mm_phys_get_stats(&all);
	uint64_t table_frames = (all.frame_table_bytes + 4095) / 4096;
	for (unsigned node = 0; node < topo->nodes; node++) {
		EXPECT_EQ(ram[node].node, node);
		EXPECT_EQ(ram[node].base + ram[node].size, (node + 1) * part);
		struct mm_phys_node_stats s;
		ASSERT_EQ(mm_phys_get_node_stats(node, &s), 0);
		EXPECT_LE(s.total_frames, ram[node].size / 4096);
		EXPECT_GE(s.total_frames + table_frames, ram[node].size / 4096);
	}
}
