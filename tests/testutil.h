/* Helpers shared by the Check unit tests. */
#ifndef KURA_TESTUTIL_H
#define KURA_TESTUTIL_H

/* A new empty folder under /tmp (malloc'd path). */
char *kura_test_tmpdir(void);
/* Removes the folder and frees the path. */
void kura_test_rmdir(char *dir);

#include <check.h>

/* Runs every test of the suite; the process exit status. */
int kura_test_run(Suite *s);

#endif
