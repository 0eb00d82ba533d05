// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Address ranges: the record of the addresses corey_ar_map() mapped (see
 * internal.h).  A process maps a few ranges, not thousands, so the spans
 * are a sorted array searched linearly; merging adjacent spans keeps
 * "is this range inside the mappings" a question about one span.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <corey.h>
#include "internal.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct corey_ar_span *spans;
static size_t nr_spans;
static size_t cap_spans;

void corey_ar_lock(void)
{
	pthread_mutex_lock(&lock);
}

void corey_ar_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

int corey_ar_reserve(size_t more)
{
	size_t cap = cap_spans ? cap_spans : 8;
	struct corey_ar_span *grown;

	if (more <= cap_spans - nr_spans)
		return 0;
	if (more > SIZE_MAX / sizeof(*spans) / 2 - nr_spans) {
		errno = ENOMEM;
		return -1;
	}
	while (cap < nr_spans + more)
		cap *= 2;
	grown = realloc(spans, cap * sizeof(*spans));
	if (!grown) {
		errno = ENOMEM;
		return -1;
	}
	spans = grown;
	cap_spans = cap;
	return 0;
}

static void insert_at(size_t i, uintptr_t start, uintptr_t end)
{
	memmove(&spans[i + 1], &spans[i], (nr_spans - i) * sizeof(*spans));
	spans[i].start = start;
	spans[i].end = end;
	nr_spans++;
}

static void delete_at(size_t i, size_t count)
{
	memmove(&spans[i], &spans[i + count],
		(nr_spans - i - count) * sizeof(*spans));
	nr_spans -= count;
}

void corey_ar_add(uintptr_t start, uintptr_t end)
{
	size_t i = 0, j;

	/* Spans i..j-1 overlap or touch [start, end): they merge with it. */
	while (i < nr_spans && spans[i].end < start)
		i++;
	for (j = i; j < nr_spans && spans[j].start <= end; j++)
		;
	if (i == j) {
		insert_at(i, start, end);
		return;
	}
	if (spans[i].start < start)
		start = spans[i].start;
	if (spans[j - 1].end > end)
		end = spans[j - 1].end;
	spans[i].start = start;
	spans[i].end = end;
	delete_at(i + 1, j - i - 1);
}

void corey_ar_remove(uintptr_t start, uintptr_t end)
{
	size_t i = 0;

	while (i < nr_spans && spans[i].end <= start)
		i++;
	while (i < nr_spans && spans[i].start < end) {
		struct corey_ar_span *s = &spans[i];

		if (s->start < start && s->end > end) {
			/* A hole in the middle: the one case that grows. */
			insert_at(i + 1, end, s->end);
			spans[i].end = start;
			return;
		}
		if (s->start < start) {
			s->end = start;
			i++;
		} else if (s->end > end) {
			s->start = end;
			return;
		} else {
			delete_at(i, 1);
		}
	}
}

bool corey_ar_covers(uintptr_t start, uintptr_t end)
{
	size_t i = 0;

	while (i < nr_spans && spans[i].end <= start)
		i++;
	return i < nr_spans && spans[i].start <= start && spans[i].end >= end;
}

const struct corey_ar_span *corey_ar_spans(size_t *nr)
{
	*nr = nr_spans;
	return spans;
}

void corey_ar_adopt(struct corey_ar_span *new_spans, size_t nr)
{
	free(spans);
	spans = new_spans;
	nr_spans = nr;
	cap_spans = nr;
}
