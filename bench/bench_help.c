// SPDX-License-Identifier: GPL-2.0
#include "bench_help.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define HELP_WIDTH	79
#define HELP_INDENT	2
#define HELP_LABEL	17	/* width of the option/mode/metric column */

/*
 * Print @text word-wrapped, continuing at column @col of the current line
 * and indenting continuation lines by @indent, so that the tables in the
 * spec can hold plain sentences of any length.
 */
static void print_wrapped(const char *text, int col, int indent)
{
	bool line_start = true;

	for (const char *word = text + strspn(text, " "); *word;
	     word += strspn(word, " ")) {
		int len = (int)strcspn(word, " ");

		if (!line_start && col + 1 + len > HELP_WIDTH) {
			col = printf("\n%*s", indent, "") - 1;
			line_start = true;
		}
		if (!line_start)
			col += printf(" ");
		col += printf("%.*s", len, word);
		line_start = false;
		word += len;
	}
	printf("\n");
}

/* "  LABEL  TEXT", TEXT wrapped in a column of its own. */
static void print_entry(const char *label, const char *text)
{
	const int text_col = HELP_INDENT + HELP_LABEL + 1;
	int col;

	/* A label too long for its column gets a line of its own. */
	if ((int)strlen(label) > HELP_LABEL) {
		printf("%*s%s\n%*s", HELP_INDENT, "", label, text_col, "");
		col = text_col;
	} else {
		col = printf("%*s%-*s ", HELP_INDENT, "", HELP_LABEL, label);
	}
	print_wrapped(text, col, text_col);
}

void bench_print_help(const struct bench_spec *spec)
{
	const char *unit = spec->sampled ? "interval" : "repetition";
	char text[256], flag[64];

	printf("Usage: %s --mode MODE --cpus N [OPTIONS]\n\n", spec->name);
	print_wrapped(spec->purpose, printf("%s: ", spec->name), HELP_INDENT);
	printf("\n");

	printf("Modes:\n");
	for (int i = 0; i < spec->nr_modes; i++)
		print_entry(spec->modes[i].name, spec->modes[i].help);

	printf("\nOptions:\n");
	print_entry("--mode MODE", "how the workers are run (required; see "
		    "Modes)");
	print_entry("--cpus N", spec->cpus_help ? spec->cpus_help :
		    "number of workers (required); worker i is pinned to the "
		    "i-th CPU of the initial affinity mask");
	if (spec->sampled) {
		snprintf(text, sizeof(text),
			 "number of measurement intervals (default %d)",
			 BENCH_DEFAULT_INTERVALS);
		print_entry("--intervals K", text);
		snprintf(text, sizeof(text),
			 "length of each interval in milliseconds (default %d)",
			 BENCH_DEFAULT_INTERVAL_MS);
		print_entry("--interval-ms MS", text);
		snprintf(text, sizeof(text),
			 "milliseconds of running before the first interval "
			 "(default %d)", BENCH_DEFAULT_WARMUP_MS);
		print_entry("--warmup-ms MS", text);
		print_entry("--ops-file PATH", "also write the number of "
			    "operations done over the whole run, warm-up "
			    "included, to PATH: the denominator for per-operation "
			    "counts taken around the run, such as lock_stat's");
	} else {
		snprintf(text, sizeof(text),
			 "measured repetitions, after one warm-up (default %d)",
			 BENCH_DEFAULT_INTERVALS);
		print_entry("--intervals K", text);
		print_entry("--interval-ms MS",
			    "accepted for a uniform interface; ignored");
		print_entry("--warmup-ms MS",
			    "accepted for a uniform interface; ignored");
	}
	for (int i = 0; i < spec->nr_options; i++) {
		const struct bench_option *opt = &spec->options[i];

		snprintf(flag, sizeof(flag), "--%s %s", opt->name,
			 opt->metavar);
		snprintf(text, sizeof(text), "%s (default %ld)", opt->help,
			 opt->def);
		print_entry(flag, text);
	}
	print_entry("--help", "show this text and exit");

	printf("\nOutput:\n"
	       "  On success, one CSV line per metric on stdout, without header:\n"
	       "    benchmark,mode,cpus,metric,value,spread\n"
	       "  value is the median over the K %ss and spread is\n"
	       "  (max - min) / median over the same K values ('nan' when the\n"
	       "  median is 0 but the values differ).\n",
	       unit);

	printf("\nMetrics:\n");
	for (int i = 0; i < spec->nr_metrics; i++)
		print_entry(spec->metrics[i].name, spec->metrics[i].definition);

	if (spec->notes) {
		printf("\nNotes:\n");
		for (int i = 0; spec->notes[i]; i++) {
			if (i)
				printf("\n");
			printf("%*s", HELP_INDENT, "");
			print_wrapped(spec->notes[i], HELP_INDENT, HELP_INDENT);
		}
	}

	printf("\nExit status: 0 on success, 1 if the run failed, "
	       "2 on a usage error,\n%d if the mode needs a kernel feature "
	       "that this kernel lacks.\n", BENCH_EXIT_UNSUPPORTED);
}
