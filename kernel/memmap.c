/* Range-list arithmetic over physical addresses (union, difference, containment). */
#include "kernel/memmap.h"

#include <arch/arch.h>

static void insert_at(struct range_list *l, size_t i, struct range r)
{
	if (l->n == RANGE_LIST_MAX)
		arch_panic("memory map: too many ranges");
	for (size_t j = l->n; j > i; j--)
		l->r[j] = l->r[j - 1];
	l->r[i] = r;
	l->n++;
}

static void erase_at(struct range_list *l, size_t i)
{
	for (size_t j = i; j + 1 < l->n; j++)
		l->r[j] = l->r[j + 1];
	l->n--;
}

void range_add(struct range_list *l, uint64_t base, uint64_t end)
{
	if (base >= end)
		return;
	/* Ranges before i end strictly before base, so they neither overlap nor touch. */
	size_t i = 0;
	while (i < l->n && l->r[i].end < base)
		i++;
	insert_at(l, i, (struct range){base, end});
	/* Absorb every following range that overlaps or touches the new one (the first may
	 * start before base). */
	while (i + 1 < l->n && l->r[i + 1].base <= l->r[i].end) {
		if (l->r[i + 1].end > l->r[i].end)
			l->r[i].end = l->r[i + 1].end;
		if (l->r[i + 1].base < l->r[i].base)
			l->r[i].base = l->r[i + 1].base;
		erase_at(l, i + 1);
	}
}

void range_remove(struct range_list *l, uint64_t base, uint64_t end)
{
	if (base >= end)
		return;
	for (size_t i = 0; i < l->n;) {
		struct range r = l->r[i];
		if (r.end <= base || r.base >= end) {
			i++;
			continue;
		}
		erase_at(l, i);
		if (r.base < base)
			insert_at(l, i++, (struct range){r.base, base});
		if (r.end > end)
			insert_at(l, i++, (struct range){end, r.end});
	}
}

bool range_contains(const struct range_list *l, uint64_t base, uint64_t end)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->r[i].base <= base && end <= l->r[i].end)
			return true;
	return false;
}

bool range_intersects(const struct range_list *l, uint64_t base, uint64_t end)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->r[i].base < end && base < l->r[i].end)
			return true;
	return false;
}

uint64_t range_total(const struct range_list *l)
{
	uint64_t t = 0;
	for (size_t i = 0; i < l->n; i++)
		t += l->r[i].end - l->r[i].base;
	return t;
}
