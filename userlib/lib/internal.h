/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by libcorey's source files; not installed.  Everything
 * here is hidden from the shared library's symbol table by libcorey.map.
 */
#ifndef COREY_INTERNAL_H
#define COREY_INTERNAL_H

/*
 * The kernel's answer to the feature probe, asked once per process: 1 if
 * it has descriptor shares, otherwise minus the errno that says why not
 * (-ENOSYS on a kernel without them).
 */
int corey_probe_shares(void);

/*
 * 0 if the kernel has descriptor shares; otherwise -1 with errno set to
 * why not.  For wrappers whose underlying call would not fail cleanly on
 * a kernel without them.
 */
int corey_require_shares(void);

#endif /* COREY_INTERNAL_H */
