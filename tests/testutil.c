/* Helpers shared by the Check unit tests: scratch folders and file contents. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"

char *kura_test_tmpdir(void)
{
	char tmpl[] = "/tmp/kura-test-XXXXXX";
	char *d = mkdtemp(tmpl);
	return d ? strdup(d) : NULL;
}

void kura_test_rmdir(char *dir)
{
	if (dir)
		kura_fs_remove_tree(dir);
	free(dir);
}

int kura_test_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
