/* SPDX-License-Identifier: GPL-2.0 */
/* The --help text, generated from a benchmark's spec. */
#ifndef BENCH_HELP_H
#define BENCH_HELP_H

#include "bench_cli.h"

/*
 * Print usage, purpose, modes, options with their defaults, the output
 * format and the metric definitions to stdout.
 */
void bench_print_help(const struct bench_spec *spec);

#endif /* BENCH_HELP_H */
