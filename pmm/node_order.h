/*
 * The NUMA allocation policy: for each node, every node ordered by distance from it
 * (itself first, ties broken by node number). Computed once at start-up from the platform's
 * distances (ACPI SLIT in the kernel, hwloc or a synthetic topology on the host).
 */
#ifndef PMM_NODE_ORDER_H
#define PMM_NODE_ORDER_H

#include <stdint.h>

#include <arch/arch.h>

void node_order_init(void);

/* pre: node < arch_node_count(). post: arch_node_count() node numbers, nearest first. */
const uint8_t *node_order_of(unsigned node);

#endif /* PMM_NODE_ORDER_H */
