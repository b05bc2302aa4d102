/* Starting the memory manager on the host's simulated machine, and the options that shape
 * that machine (--topology, --memory, MM_HOST_TOPOLOGY). */
#include "env.h"

#include <arch/host/machine.h>
#include <arch/host/soft_tlb.h>
#include <mm/phys.h>
#include <mm/vmm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t arena_bytes;

int host_env_parse_size(const char *text, uint64_t *out)
{
	if (!text || *text < '0' || *text > '9')
		return -1;
	uint64_t value = 0;
	const char *p = text;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (value > (UINT64_MAX - 9) / 10)
			return -1;
		value = value * 10 + (uint64_t)(*p - '0');
	}
	unsigned shift = 0;
	if (*p) {
		const char *units = "KMGT";
		const char *unit = strchr(units, *p >= 'a' ? *p - 'a' + 'A' : *p);
		if (!unit || p[1] != '\0')
			return -1;
		shift = 10 * (unsigned)(unit - units + 1);
	}
	if (value == 0 || value > (UINT64_MAX >> 1) >> shift)
		return -1;
	*out = value << shift;
	return 0;
}

/* If argv[*i] is `--name=VALUE` or `--name VALUE`, returns VALUE (moving *i past a separate
 * value); NULL otherwise. *missing is set when the option has no value. */
static const char *option_value(int argc, char **argv, int *i, const char *name, int *missing)
{
	const char *arg = argv[*i];
	size_t len = strlen(name);
	if (strncmp(arg, name, len) != 0)
		return NULL;
	if (arg[len] == '=')
		return arg + len + 1;
	if (arg[len] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

int host_env_take_options(int *argc, char **argv, struct host_env_options *opt)
{
	const char *from_env = getenv(HOST_ENV_TOPOLOGY_VAR);
	if (from_env && *from_env)
		opt->topology = from_env;
	int kept = 1;
	for (int i = 1; i < *argc; i++) {
		int missing = 0;
		const char *value;
		if ((value = option_value(*argc, argv, &i, "--topology", &missing)) != NULL) {
			opt->topology = value;
		} else if ((value = option_value(*argc, argv, &i, "--pcid", &missing)) != NULL) {
			if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0) {
				fprintf(stderr, "--pcid=%s: on or off\n", value);
				return -1;
			}
			opt->pcid = strcmp(value, "on") == 0;
		} else if ((value = option_value(*argc, argv, &i, "--memory", &missing)) != NULL) {
			if (host_env_parse_size(value, &opt->memory_bytes) != 0) {
				fprintf(stderr, "--memory=%s: not a size such as 2560M or 4G\n", value);
				return -1;
			}
		} else if (missing) {
			fprintf(stderr, "%s needs a value\n", argv[i]);
			return -1;
		} else {
			argv[kept++] = argv[i];
		}
	}
	argv[kept] = NULL;
	*argc = kept;
	return 0;
}

void host_env_print_usage(const struct host_env_options *defaults)
{
	printf("Simulated machine:\n"
	       "  --topology=SPEC  'hwloc' (this machine's NUMA nodes and CPUs; bound to them\n"
	       "                   when there are several)\n"
	       "                   or nodes=N,cpus=N,distance=D (synthetic, any host);\n"
	       "                   default: $%s, else %s\n"
	       "  --memory=SIZE    the arena, split evenly between nodes (e.g. 2560M, 4G);\n"
	       "                   default: %llu MiB\n"
	       "  --pcid=on|off    whether the simulated CPUs tag TLB entries with PCIDs;\n"
	       "                   default: %s\n",
	       HOST_ENV_TOPOLOGY_VAR, defaults->topology,
	       (unsigned long long)(defaults->memory_bytes >> 20), defaults->pcid ? "on" : "off");
}

int host_env_init(const struct host_env_options *opt)
{
	struct host_machine_config config = {opt->memory_bytes, opt->topology};
	if (host_machine_init(&config) != 0)
		return -1;
	host_set_pcid(opt->pcid);
	arena_bytes = opt->memory_bytes;
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

void host_env_describe(char *buf, size_t len)
{
	char topology[200];
	host_topology_describe(host_machine_topology(), topology, sizeof topology);
	snprintf(buf, len, "%s, %llu MiB, PCID %s", topology, (unsigned long long)(arena_bytes >> 20),
	         arch_has_pcid() ? "on" : "off");
}
