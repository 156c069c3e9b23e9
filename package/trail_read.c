/* The audit trail a package carries (data/audit/, docs/FORMAT.md), read the same
 * way by verify-export and import: data/audit/trail.jsonl holds audit records,
 * one per line, exactly as the exporting store had them; data/audit/<ID>/ the
 * checkpoints that hold them, each an object with its evidence record. A record
 * is proven when it is, as a whole line, in a checkpoint whose evidence record
 * verified. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "package/package.h"

#define MAX_TRAIL (256u << 20)

int kura_package_is_trail(const char *file)
{
	return strncmp(file, "data/audit/", 11) == 0;
}

static int push_lines(char ***v, size_t *n, char *text, size_t len, kura_error *err)
{
	for (char *p = text, *end = text + len; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break; /* a last line without its end is not a whole record */
		*nl = '\0';
		char **g = realloc(*v, (*n + 1) * sizeof **v);
		if (!g)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		*v = g;
		(*v)[(*n)++] = p;
		p = nl + 1;
	}
	return 0;
}

int kura_package_trail_add_checkpoint(kura_package_trail *t, const char *root, const char *file, kura_error *err)
{
	char path[8192], *text = NULL;
	size_t len = 0;
	snprintf(path, sizeof path, "%s/%s", root, file);
	if (kura_fs_read_file(path, MAX_TRAIL, &text, &len) != 0)
		return kura_error_sys(err, KURA_EINPUT, "cannot read %s", file);
	char **g = realloc(t->texts, (t->ntexts + 1) * sizeof *g);
	if (!g) {
		free(text);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	t->texts = g;
	t->texts[t->ntexts++] = text;
	t->checkpoints++;
	return push_lines(&t->proven, &t->nproven, text, len, err);
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int kura_package_trail_finish(kura_package_trail *t, const char *root, kura_error *err)
{
	char path[8192];
	size_t len = 0;
	snprintf(path, sizeof path, "%s/data/audit/trail.jsonl", root);
	if (kura_fs_read_file(path, MAX_TRAIL, &t->text, &len) != 0)
		return 0; /* no trail: a package from before, or objects without one */
	int rc = push_lines(&t->lines, &t->nlines, t->text, len, err);
	if (rc == 0 && t->nproven > 1)
		qsort(t->proven, t->nproven, sizeof *t->proven, cmp_line);
	for (size_t i = 0; rc == 0 && i < t->nlines; i++)
		t->covered += t->nproven && bsearch(&t->lines[i], t->proven, t->nproven, sizeof *t->proven, cmp_line) != NULL;
	return rc;
}

int kura_package_trail_proven(const kura_package_trail *t, size_t i)
{
	return t->nproven && bsearch(&t->lines[i], t->proven, t->nproven, sizeof *t->proven, cmp_line) != NULL;
}

void kura_package_trail_clear(kura_package_trail *t)
{
	for (size_t i = 0; i < t->ntexts; i++)
		free(t->texts[i]);
	free(t->texts);
	free(t->proven);
	free(t->lines);
	free(t->text);
	memset(t, 0, sizeof *t);
}
