/*
 * Topologies of the simulated machine: the spec parser, synthetic topologies (any number of
 * nodes and CPUs, whatever the host has, so that multi-node code runs on a one-node host),
 * and what every topology shares (release, description). Reading the real machine is in
 * topology_hwloc.c.
 */
#include <arch/host/machine.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <hwloc.h>

#include "host_internal.h"

void host_error(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void host_topology_default_distances(struct host_topology *t, unsigned remote)
{
	for (unsigned a = 0; a < ARCH_MAX_NODES; a++)
		for (unsigned b = 0; b < ARCH_MAX_NODES; b++)
			t->distance[a][b] = a == b ? HOST_DISTANCE_LOCAL : remote;
}

/* CPU i on node i * nodes / cpus: equal shares, contiguous per node, the larger shares first
 * when cpus does not divide evenly. */
static void spread_cpus(struct host_topology *t)
{
	for (unsigned cpu = 0; cpu < t->cpus; cpu++)
		t->cpu_node[cpu] = cpu * t->nodes / t->cpus;
}

/* One key's value as given (for messages) and as read. */
struct value {
	const char *text;
	int len;
	unsigned long n;
};

/* Reads the decimal value of `key` in [s, end). Values past every valid range are read as
 * ULONG_MAX, so that the range check refuses them by their own text. post: 0, or -1 with
 * err set. */
static int parse_value(const char *key, const char *s, const char *end, struct value *out,
                       char *err, size_t errlen)
{
	if (s == end) {
		host_error(err, errlen, "'%s=' needs a number", key);
		return -1;
	}
	unsigned long n = 0;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9') {
			host_error(err, errlen, "'%s=%.*s' is not a decimal number", key, (int)(end - s), s);
			return -1;
		}
		n = n > 100000000ul ? ULONG_MAX : n * 10 + (unsigned long)(*p - '0');
	}
	*out = (struct value){s, (int)(end - s), n};
	return 0;
}

static int parse_synthetic(const char *spec, struct host_topology *t, char *err, size_t errlen)
{
	static const char *const keys[] = {"nodes", "cpus", "distance"};
	struct value value[3] = {{"1", 1, 1}, {"8", 1, 8}, {"20", 2, 20}};
	bool seen[3] = {false, false, false};

	const char *p = spec;
	for (;;) {
		const char *item_end = strchr(p, ',');
		if (!item_end)
			item_end = p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(item_end - p));
		if (p == item_end) {
			host_error(err, errlen, "empty item in topology '%s'", spec);
			return -1;
		}
		if (!eq) {
			host_error(err, errlen,
			           "'%.*s' is not key=value (topology is 'hwloc' or a list such as "
			           "'nodes=2,cpus=8,distance=21')",
			           (int)(item_end - p), p);
			return -1;
		}
		size_t key_len = (size_t)(eq - p);
		unsigned k = 0;
		while (k < 3 && !(strlen(keys[k]) == key_len && memcmp(keys[k], p, key_len) == 0))
			k++;
		if (k == 3) {
			host_error(err, errlen, "unknown key '%.*s' (known: nodes, cpus, distance)",
			           (int)key_len, p);
			return -1;
		}
		if (seen[k]) {
			host_error(err, errlen, "'%s' is given twice", keys[k]);
			return -1;
		}
		seen[k] = true;
		if (parse_value(keys[k], eq + 1, item_end, &value[k], err, errlen) != 0)
			return -1;
		if (*item_end == '\0')
			break;
		p = item_end + 1;
	}

	const struct value *nodes = &value[0], *cpus = &value[1], *distance = &value[2];
	if (nodes->n < 1 || nodes->n > ARCH_MAX_NODES) {
		host_error(err, errlen, "nodes=%.*s is outside 1..%u", nodes->len, nodes->text,
		           ARCH_MAX_NODES);
		return -1;
	}
	if (cpus->n < 1 || cpus->n > ARCH_MAX_CPUS) {
		host_error(err, errlen, "cpus=%.*s is outside 1..%u", cpus->len, cpus->text, ARCH_MAX_CPUS);
		return -1;
	}
	if (cpus->n < nodes->n) {
		host_error(err, errlen, "cpus=%lu is fewer than nodes=%lu: every node needs a CPU", cpus->n,
		           nodes->n);
		return -1;
	}
	if (distance->n < HOST_DISTANCE_LOCAL || distance->n > HOST_DISTANCE_MAX) {
		host_error(err, errlen, "distance=%.*s is outside %u..%u (10 means local)", distance->len,
		           distance->text, HOST_DISTANCE_LOCAL, HOST_DISTANCE_MAX);
		return -1;
	}
	t->nodes = (unsigned)nodes->n;
	t->cpus = (unsigned)cpus->n;
	spread_cpus(t);
	host_topology_default_distances(t, (unsigned)distance->n);
	return 0;
}

int host_topology_parse(const char *spec, struct host_topology *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (!spec || !*spec) {
		host_error(err, errlen, "empty topology (give 'hwloc' or e.g. 'nodes=2,cpus=8')");
		return -1;
	}
	if (strcmp(spec, "hwloc") == 0)
		return host_topology_load_hwloc(NULL, out, err, errlen);
	if (parse_synthetic(spec, out, err, errlen) != 0) {
		memset(out, 0, sizeof *out);
		return -1;
	}
	return 0;
}

void host_topology_release(struct host_topology *t)
{
	if (!t->hwloc)
		return;
	for (unsigned node = 0; node < ARCH_MAX_NODES; node++) {
		hwloc_bitmap_free(t->nodeset[node]);
		hwloc_bitmap_free(t->cpuset[node]);
		t->nodeset[node] = t->cpuset[node] = NULL;
	}
	hwloc_topology_destroy(t->hwloc);
	t->hwloc = NULL;
	t->this_system = false;
}

void host_topology_describe(const struct host_topology *t, char *buf, size_t len)
{
	const char *source = !t->hwloc ? "synthetic" : t->this_system ? "hwloc" : "hwloc text";
	int n = snprintf(buf, len, "%s: %u node%s, %u CPU%s", source, t->nodes,
	                 t->nodes == 1 ? "" : "s", t->cpus, t->cpus == 1 ? "" : "s");
	if (t->nodes < 2 || n < 0 || (size_t)n >= len)
		return;
	/* The distances: one number when they are all the same, else the matrix row by row. */
	bool uniform = true;
	for (unsigned a = 0; a < t->nodes; a++)
		for (unsigned b = 0; b < t->nodes; b++)
			if (a != b && t->distance[a][b] != t->distance[0][1])
				uniform = false;
	if (uniform) {
		snprintf(buf + n, len - (size_t)n, ", distance %u", t->distance[0][1]);
		return;
	}
	for (unsigned a = 0; a < t->nodes; a++)
		for (unsigned b = 0; b < t->nodes; b++) {
			const char *sep = b > 0 ? " " : a > 0 ? "/" : ", distances ";
			int m = snprintf(buf + n, len - (size_t)n, "%s%u", sep, t->distance[a][b]);
			if (m < 0 || (size_t)m >= len - (size_t)n)
				return;
			n += m;
		}
}
