/* SPDX-License-Identifier: GPL-2.0 */
#ifndef COREY_RUN_PRELOAD_PATH_H
#define COREY_RUN_PRELOAD_PATH_H

/*
 * The absolute path of libcorey-run.so, malloc'ed; NULL after printing why
 * it was not found.
 */
char *find_preload(void);

#endif /* COREY_RUN_PRELOAD_PATH_H */
