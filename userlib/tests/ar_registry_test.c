// SPDX-License-Identifier: GPL-2.0
/*
 * ar_registry_test: libcorey's record of address-range mappings
 * (lib/ar_registry.c) against a model, one flag per granule, through
 * random adds and removes.  It needs no kernel feature, so the span
 * arithmetic that corey_ar_unmap() and corey_cfork() rely on is checked
 * on every host.  Exit status 0 if it passed, 1 if not.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../lib/internal.h"
#include "expect.h"

#define GRANULES 64
#define ROUNDS 20000
/* Granule i of the model is at BASE + i * G. */
#define G COREY_ADDR_RANGE_GRANULE
#define BASE (16 * G)

static bool model[GRANULES];

static uintptr_t addr(unsigned int granule)
{
	return BASE + (uintptr_t)granule * G;
}

/* The record is the model: sorted, disjoint, adjacent spans merged. */
static bool matches(void)
{
	size_t nr, i, k = 0;
	const struct corey_ar_span *s = corey_ar_spans(&nr);
	unsigned int g = 0;

	while (g < GRANULES) {
		unsigned int end;

		if (!model[g]) {
			g++;
			continue;
		}
		for (end = g; end < GRANULES && model[end]; end++)
			;
		if (k >= nr || s[k].start != addr(g) || s[k].end != addr(end))
			return false;
		k++;
		g = end;
	}
	for (i = 0; i < nr; i++)
		if (s[i].start >= s[i].end)
			return false;
	return k == nr;
}

static bool model_covers(unsigned int from, unsigned int to)
{
	unsigned int g;

	for (g = from; g < to; g++)
		if (!model[g])
			return false;
	return true;
}

int main(void)
{
	unsigned int round, g;

	srand(1);
	for (round = 0; round < ROUNDS && !failed; round++) {
		unsigned int from = (unsigned int)rand() % GRANULES;
		unsigned int to = from + 1 +
			(unsigned int)rand() % (GRANULES - from);
		bool add = rand() % 2;

		/* As the callers do: reserve first, then change. */
		EXPECT(corey_ar_reserve(1) == 0);
		if (add)
			corey_ar_add(addr(from), addr(to));
		else
			corey_ar_remove(addr(from), addr(to));
		for (g = from; g < to; g++)
			model[g] = add;
		if (!matches()) {
			fprintf(stderr, "round %u: %s [%u, %u) left the record "
				"unlike the model\n", round,
				add ? "add" : "remove", from, to);
			failed = true;
		}
		from = (unsigned int)rand() % GRANULES;
		to = from + 1 + (unsigned int)rand() % (GRANULES - from);
		EXPECT(corey_ar_covers(addr(from), addr(to)) ==
		       model_covers(from, to));
	}
	/* Adopting replaces the record. */
	{
		struct corey_ar_span *one = malloc(sizeof(*one));

		EXPECT(one != NULL);
		if (one) {
			one->start = addr(3);
			one->end = addr(5);
			corey_ar_adopt(one, 1);
			EXPECT(corey_ar_covers(addr(3), addr(5)));
			EXPECT(!corey_ar_covers(addr(2), addr(4)));
		}
		corey_ar_adopt(NULL, 0);
		EXPECT(!corey_ar_covers(addr(3), addr(4)));
	}
	printf("ar_registry_test: %u rounds, %s\n", round,
	       failed ? "FAILED" : "ok");
	return failed ? 1 : 0;
}
