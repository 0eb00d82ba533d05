/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Look up kernel command-line parameters in /proc/cmdline.
 *
 * The VM launcher tells the guest what to expect (CPU count, fake NUMA
 * nodes, Corey options) through kernel parameters, so tests read them to
 * learn what they should find.
 */
#ifndef SELFTESTS_KCMDLINE_H
#define SELFTESTS_KCMDLINE_H

#include <stddef.h>

/*
 * Find "@name=value" among the kernel's parameters (words before a bare
 * "--", which starts init's arguments).  The last occurrence wins, as it
 * does for most kernel parameters.
 *
 * Returns 1 and copies the value into @value, 0 if @name is absent, or a
 * negative errno (-ENOSPC if the value does not fit in @size bytes).
 */
int kcmdline_param(const char *name, char *value, size_t size);

#endif /* SELFTESTS_KCMDLINE_H */
