/* SRAT and SLIT parsing, proximity domains to dense nodes, RAM split by node. */
#include "kernel/numa.h"

#include <lib/string.h>

/* The node a domain stands for: its place among the sorted domains, folded. Domains past
 * NUMA_DOMAIN_MAX were never recorded and land on node 0. */
static unsigned node_of_domain(const struct numa_info *info, uint32_t domain)
{
	for (size_t i = 0; i < info->domain_count; i++)
		if (info->domain[i] == domain)
			return (unsigned)(i % ARCH_MAX_NODES);
	return 0;
}

/* Adds domain to the sorted set; false when the set is full. */
static bool note_domain(struct numa_info *info, uint32_t domain)
{
	size_t i = 0;
	while (i < info->domain_count && info->domain[i] < domain)
		i++;
	if (i < info->domain_count && info->domain[i] == domain)
		return true;
	if (info->domain_count == NUMA_DOMAIN_MAX)
		return false;
	for (size_t j = info->domain_count; j > i; j--)
		info->domain[j] = info->domain[j - 1];
	info->domain[i] = domain;
	info->domain_count++;
	return true;
}

static void default_distances(struct numa_info *info)
{
	for (unsigned a = 0; a < ARCH_MAX_NODES; a++)
		for (unsigned b = 0; b < ARCH_MAX_NODES; b++)
			info->distance[a][b] = a == b ? NUMA_LOCAL_DISTANCE : NUMA_REMOTE_DISTANCE;
}

void numa_single(struct numa_info *info)
{
	memset(info, 0, sizeof *info);
	info->node_count = 1;
	default_distances(info);
}

static void add_cpu(struct numa_info *info, uint32_t apic_id, uint32_t domain,
                    struct fw_warnings *w)
{
	if (!note_domain(info, domain))
		fw_warn(w, "srat: more than %d proximity domains, domain %u put on node 0\n",
		        NUMA_DOMAIN_MAX, domain);
	if (info->cpu_count == NUMA_CPU_MAX) {
		fw_warn(w, "srat: more than %d processor entries, APIC ID %u ignored\n", NUMA_CPU_MAX,
		        apic_id);
		return;
	}
	info->cpu[info->cpu_count++] = (struct numa_cpu){.apic_id = apic_id, .domain = domain};
}

static void add_mem(struct numa_info *info, uint64_t base, uint64_t len, uint32_t domain,
                    struct fw_warnings *w)
{
	if (len == 0)
		return;
	if (!note_domain(info, domain))
		fw_warn(w, "srat: more than %d proximity domains, domain %u put on node 0\n",
		        NUMA_DOMAIN_MAX, domain);
	if (info->mem_count == NUMA_MEM_MAX) {
		fw_warn(w, "srat: more than %d memory entries, [0x%llx, +0x%llx) ignored\n", NUMA_MEM_MAX,
		        (unsigned long long)base, (unsigned long long)len);
		return;
	}
	uint64_t end = base + len < base ? UINT64_MAX : base + len;
	info->mem[info->mem_count++] = (struct numa_mem){.base = base, .end = end, .domain = domain};
}

/* Walks the entries; false when one does not fit the table (the table is then unusable). */
static bool read_entries(const struct acpi_header *srat, struct numa_info *info,
                         struct fw_warnings *w)
{
	bool rev2 = srat->revision >= 2;
	const uint8_t *p = (const uint8_t *)srat + sizeof(struct acpi_srat);
	const uint8_t *end = (const uint8_t *)srat + srat->length;
	while (p + sizeof(struct acpi_subtable) <= end) {
		const struct acpi_subtable *s = (const struct acpi_subtable *)p;
		unsigned offset = (unsigned)(p - (const uint8_t *)srat);
		if (s->length < sizeof *s || p + s->length > end) {
			fw_warn(w, "srat: entry of length %u at offset %u runs out of the table\n", s->length,
			        offset);
			return false;
		}
		if (s->type == ACPI_SRAT_CPU) {
			const struct acpi_srat_cpu *e = (const void *)p;
			if (s->length < sizeof *e) {
				fw_warn(w, "srat: short processor entry at offset %u\n", offset);
				return false;
			}
			uint32_t domain = e->domain_lo;
			if (rev2)
				domain |= (uint32_t)e->domain_hi[0] << 8 | (uint32_t)e->domain_hi[1] << 16 |
				          (uint32_t)e->domain_hi[2] << 24;
			if (e->flags & ACPI_SRAT_ENABLED)
				add_cpu(info, e->apic_id, domain, w);
		} else if (s->type == ACPI_SRAT_X2APIC) {
			const struct acpi_srat_x2apic *e = (const void *)p;
			if (s->length < sizeof *e) {
				fw_warn(w, "srat: short x2APIC entry at offset %u\n", offset);
				return false;
			}
			if (e->flags & ACPI_SRAT_ENABLED)
				add_cpu(info, e->x2apic_id, e->domain, w);
		} else if (s->type == ACPI_SRAT_MEMORY) {
			const struct acpi_srat_memory *e = (const void *)p;
			if (s->length < sizeof *e) {
				fw_warn(w, "srat: short memory entry at offset %u\n", offset);
				return false;
			}
			uint32_t domain = rev2 ? e->domain : e->domain & 0xFF;
			if (e->flags & ACPI_SRAT_ENABLED)
				add_mem(info, e->base, e->length, domain, w);
		}
		p += s->length;
	}
	return true;
}

static void warn_overlaps(const struct numa_info *info, struct fw_warnings *w)
{
	for (size_t i = 0; i < info->mem_count; i++)
		for (size_t j = 0; j < i; j++) {
			const struct numa_mem *a = &info->mem[j], *b = &info->mem[i];
			if (a->base < b->end && b->base < a->end && a->node != b->node) {
				fw_warn(w, "srat: [0x%llx, 0x%llx) is in domains %u and %u; the first wins\n",
				        (unsigned long long)(a->base > b->base ? a->base : b->base),
				        (unsigned long long)(a->end < b->end ? a->end : b->end), a->domain,
				        b->domain);
				return;
			}
		}
}

bool numa_parse_srat(const struct acpi_header *srat, struct numa_info *info, struct fw_warnings *w)
{
	numa_single(info);
	if (srat->length < sizeof(struct acpi_srat)) {
		fw_warn(w, "srat: table too short (%u bytes), one NUMA node\n", srat->length);
		return false;
	}
	if (!read_entries(srat, info, w) || info->domain_count == 0) {
		if (info->domain_count == 0)
			fw_warn(w, "srat: no enabled entries, one NUMA node\n");
		else
			fw_warn(w, "srat: malformed, one NUMA node\n");
		numa_single(info);
		return false;
	}
	info->from_srat = true;
	info->node_count =
	    info->domain_count < ARCH_MAX_NODES ? (unsigned)info->domain_count : ARCH_MAX_NODES;
	if (info->domain_count > ARCH_MAX_NODES) {
		info->folded = true;
		fw_warn(w, "srat: %zu proximity domains but %d nodes at most: folded\n", info->domain_count,
		        ARCH_MAX_NODES);
	}
	for (unsigned n = 0; n < info->node_count; n++)
		info->node_domain[n] = info->domain[n];
	for (size_t i = 0; i < info->mem_count; i++)
		info->mem[i].node = node_of_domain(info, info->mem[i].domain);
	for (size_t i = 0; i < info->cpu_count; i++)
		info->cpu[i].node = node_of_domain(info, info->cpu[i].domain);
	warn_overlaps(info, w);
	return true;
}

/* The SLIT's checks: the matrix fits the table, its diagonal is 10, no entry is below 10,
 * and it has a row for every domain a node stands for. */
static bool slit_valid(const struct acpi_header *h, const struct numa_info *info,
                       struct fw_warnings *w)
{
	const struct acpi_slit *s = (const struct acpi_slit *)h;
	if (h->length < sizeof *s) {
		fw_warn(w, "slit: table too short (%u bytes)\n", h->length);
		return false;
	}
	uint64_t n = s->localities;
	/* n <= 1024 keeps n * n from overflowing and inside ACPI_TABLE_MAX_LEN's reach. */
	if (n == 0 || n > 1024 || sizeof *s + n * n > h->length) {
		fw_warn(w, "slit: %llu localities do not fit its %u bytes\n", (unsigned long long)n,
		        h->length);
		return false;
	}
	for (uint64_t i = 0; i < n; i++)
		for (uint64_t j = 0; j < n; j++) {
			uint8_t d = s->entry[i * n + j];
			if (i == j ? d != NUMA_LOCAL_DISTANCE : d < NUMA_LOCAL_DISTANCE) {
				fw_warn(w, "slit: distance %u from locality %llu to %llu is invalid\n", d,
				        (unsigned long long)i, (unsigned long long)j);
				return false;
			}
		}
	for (unsigned a = 0; a < info->node_count; a++)
		if (info->node_domain[a] >= n) {
			fw_warn(w, "slit: %llu localities, but the SRAT has domain %u\n", (unsigned long long)n,
			        info->node_domain[a]);
			return false;
		}
	return true;
}

bool numa_parse_slit(const struct acpi_header *slit, struct numa_info *info, struct fw_warnings *w)
{
	default_distances(info);
	info->from_slit = false;
	if (!slit || !info->from_srat)
		return false;
	if (!slit_valid(slit, info, w)) {
		fw_warn(w, "slit: ignored, distances 10 local and 20 remote\n");
		return false;
	}
	const struct acpi_slit *s = (const struct acpi_slit *)slit;
	uint64_t n = s->localities;
	for (unsigned a = 0; a < info->node_count; a++)
		for (unsigned b = 0; b < info->node_count; b++)
			info->distance[a][b] = s->entry[info->node_domain[a] * n + info->node_domain[b]];
	info->from_slit = true;
	return true;
}

unsigned numa_node_of_addr(const struct numa_info *info, uint64_t addr)
{
	for (size_t i = 0; i < info->mem_count; i++)
		if (info->mem[i].base <= addr && addr < info->mem[i].end)
			return info->mem[i].node;
	return 0;
}

unsigned numa_node_of_apic(const struct numa_info *info, uint32_t apic_id)
{
	for (size_t i = 0; i < info->cpu_count; i++)
		if (info->cpu[i].apic_id == apic_id)
			return info->cpu[i].node;
	return 0;
}

void numa_assign_cpus(const struct numa_info *info, struct x86_cpu_list *l)
{
	for (unsigned i = 0; i < l->count; i++)
		l->cpu[i].node = (uint8_t)numa_node_of_apic(info, l->cpu[i].apic_id);
}

void numa_topology(const struct numa_info *info, struct x86_numa_topology *out)
{
	memset(out, 0, sizeof *out);
	out->node_count = info->node_count;
	for (unsigned a = 0; a < info->node_count; a++)
		for (unsigned b = 0; b < info->node_count; b++)
			out->distance[a][b] = info->distance[a][b];
}

/* The first SRAT boundary (a range's base or end) above pos, or limit. */
static uint64_t next_boundary(const struct numa_info *info, uint64_t pos, uint64_t limit)
{
	uint64_t next = limit;
	for (size_t i = 0; i < info->mem_count; i++) {
		if (info->mem[i].base > pos && info->mem[i].base < next)
			next = info->mem[i].base;
		if (info->mem[i].end > pos && info->mem[i].end < next)
			next = info->mem[i].end;
	}
	return next;
}

bool numa_split(const struct numa_info *info, const struct range_list *ram,
                struct mm_phys_range *out, size_t cap, size_t *count)
{
	size_t n = 0;
	for (size_t r = 0; r < ram->n; r++) {
		bool first_piece = true;
		/* Between two boundaries numa_node_of_addr is constant: each piece has one node. */
		for (uint64_t pos = ram->r[r].base; pos < ram->r[r].end;) {
			uint64_t stop = next_boundary(info, pos, ram->r[r].end);
			unsigned node = numa_node_of_addr(info, pos);
			if (!first_piece && out[n - 1].node == node) {
				out[n - 1].size += stop - pos;
			} else {
				if (n == cap) {
					*count = n;
					return false;
				}
				out[n++] = (struct mm_phys_range){.base = pos, .size = stop - pos, .node = node};
			}
			first_piece = false;
			pos = stop;
		}
	}
	*count = n;
	return true;
}
