/* Who holds a store's writer lock for long: kura serve keeps the store open for
 * writing while it runs, and a command that would wait for the lock fails at
 * once instead, naming the service (docs/SERVICE.md).
 *
 * INVARIANTS
 * - STORE/holder.json ({"pid", "what"}) is written by a process only while it
 *   holds the writer lock (kura_store_hold), and removed before the lock is let
 *   go (kura_store_close). A process that takes the lock removes any it finds:
 *   one left by a holder that was killed is stale, since its lock went with it.
 * - So a writer that finds the lock taken and holder.json naming a live
 *   process fails at once (KURA_ELOCKED) instead of waiting; without the file
 *   (a short writer: an ingest, a daemon's round) it waits as before. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "archive/store_impl.h"
#include "common/safefs.h"

#define HOLDER_FILE "holder.json"

int kura_store_hold(kura_store *st, const char *what, kura_error *err)
{
	json_t *j = json_pack("{s:I, s:s}", "pid", (json_int_t)getpid(), "what", what);
	char *text = j ? json_dumps(j, JSON_ENSURE_ASCII) : NULL;
	int rc = text ? kura_store_files_write(kura_store_path(st), HOLDER_FILE, text, strlen(text), err)
		      : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	free(text);
	json_decref(j);
	return rc;
}

void kura_store_holder_clear(const char *store)
{
	int root = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root >= 0) {
		unlinkat(root, HOLDER_FILE, 0);
		close(root);
	}
}

int kura_store_holder_check(const char *store, kura_error *err)
{
	int root = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = root >= 0 ? kura_safefs_open_read(root, HOLDER_FILE) : -1;
	if (root >= 0)
		close(root);
	if (fd < 0)
		return 0;
	FILE *f = fdopen(fd, "r");
	json_t *j = f ? json_loadf(f, 0, NULL) : NULL;
	if (f)
		fclose(f);
	else
		close(fd);
	json_int_t pid = json_integer_value(json_object_get(j, "pid"));
	const char *what = json_string_value(json_object_get(j, "what"));
	int rc = 0;
	if (what && pid > 0 && pid <= INT32_MAX && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
		rc = kura_error_set(err, KURA_ELOCKED, "%s is held for writing by %s (process %lld) for as long as it runs",
				    store, what, (long long)pid);
	json_decref(j);
	return rc;
}
