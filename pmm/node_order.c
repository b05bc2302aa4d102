/* The NUMA fallback order: nearest node first. */
#include "node_order.h"

static uint8_t fallback[ARCH_MAX_NODES][ARCH_MAX_NODES];

void node_order_init(void)
{
	unsigned nodes = arch_node_count();
	for (unsigned from = 0; from < nodes; from++) {
		uint8_t *order = fallback[from];
		for (unsigned i = 0; i < nodes; i++)
			order[i] = (uint8_t)i;
		/* Insertion sort by (distance, node): stable, and nodes are few. */
		for (unsigned i = 1; i < nodes; i++) {
			uint8_t n = order[i];
			unsigned d = from == n ? 0 : arch_node_distance(from, n);
			unsigned j = i;
			while (j > 0) {
				uint8_t m = order[j - 1];
				unsigned dm = from == m ? 0 : arch_node_distance(from, m);
				if (dm <= d)
					break;
				order[j] = m;
				j--;
			}
			order[j] = n;
		}
	}
}

const uint8_t *node_order_of(unsigned node)
{
	return fallback[node];
}
