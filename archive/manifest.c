/* A manifest (kura/ingest.h): a CSV file that names the files of one ingest,
 * each with its own metadata. The text is read by common/csv.c; here its rows
 * become files and metadata, and the files are looked at.
 *
 * INVARIANTS
 * - The whole manifest is read and checked before the store is touched: every
 *   problem is KURA_EINPUT naming the manifest's line (and column), and the
 *   caller gets either a manifest of files that were all there or nothing.
 * - A key is in one place only: a column, or the metadata given to every file
 *   (--meta); never both, so no value overrides another. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/csv.h"
#include "common/fsutil.h"
#include "common/unicode.h"
#include "kura/ingest.h"

#define MANIFEST_MAX_BYTES (256u << 20)

struct kura_manifest {
	char **paths;     /* as ingest opens them: the manifest's folder joined in front */
	size_t *lines;    /* of each file's row */
	kura_meta **meta; /* of each file: one allocation, the values after the array */
	size_t *nmeta;
	size_t n, cap;
	/* while parsing */
	const char *name, *dir;
	char **keys; /* the header's, cells 1..; the files' meta points to them */
	size_t ncols;
	const kura_meta *common; /* borrowed until kura_manifest_free */
	size_t ncommon;
};

static int grow(kura_manifest *m, kura_error *err)
{
	if (m->n < m->cap)
		return 0;
	size_t cap = m->cap ? 2 * m->cap : 64;
	char **p = realloc(m->paths, cap * sizeof *p);
	if (p)
		m->paths = p;
	size_t *l = p ? realloc(m->lines, cap * sizeof *l) : NULL;
	if (l)
		m->lines = l;
	kura_meta **mt = l ? realloc(m->meta, cap * sizeof *mt) : NULL;
	if (mt)
		m->meta = mt;
	size_t *nm = mt ? realloc(m->nmeta, cap * sizeof *nm) : NULL;
	if (!nm)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	m->nmeta = nm;
	m->cap = cap;
	return 0;
}

/* The first row: "path", then metadata keys, each once and not also given to every file. */
static int header(kura_manifest *m, char *const *cells, size_t n, size_t line, kura_error *err)
{
	if (strcmp(cells[0], "path") != 0)
		return kura_error_set(err, KURA_EINPUT, "%s line %zu, column 1: the first row names the columns: 'path' "
				      "(the files), then metadata keys; not '%s'", m->name, line, cells[0]);
	if (!(m->keys = calloc(n, sizeof *m->keys)))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t c = 1; c < n; c++) {
		kura_meta k = {cells[c], ""};
		int rc = kura_ingest_check_meta(&k, err);
		if (rc != 0)
			return kura_error_wrap(err, "%s line %zu, column %zu", m->name, line, c + 1);
		for (size_t d = 1; d < c; d++)
			if (kura_unicode_same_nfc(cells[d], cells[c]))
				return kura_error_set(err, KURA_EINPUT, "%s line %zu, column %zu: '%s' is also column %zu: "
						      "name each column once", m->name, line, c + 1, cells[c], d + 1);
		for (size_t i = 0; i < m->ncommon; i++)
			if (kura_unicode_same_nfc(m->common[i].key, cells[c]))
				return kura_error_set(err, KURA_EINPUT, "%s line %zu, column %zu: '%s' is also given with "
						      "--meta: give it in one place", m->name, line, c + 1, cells[c]);
		if (!(m->keys[m->ncols++] = strdup(cells[c])))
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	return 0;
}

/* The path ingest opens: relative ones start in the manifest's folder. */
static int join(kura_manifest *m, const char *path, size_t line, kura_error *err)
{
	char p[4096];
	const char *dir = path[0] == '/' ? "" : m->dir;
	const char *sep = dir[0] && dir[strlen(dir) - 1] != '/' ? "/" : "";
	if (!dir[0] && strcmp(path, "-") == 0) /* a file named "-", not standard input */
		dir = ".", sep = "/";
	if (snprintf(p, sizeof p, "%s%s%s", dir, sep, path) >= (int)sizeof p)
		return kura_error_set(err, KURA_EINPUT, "%s line %zu, column 1: the path is too long", m->name, line);
	if (!(m->paths[m->n] = strdup(p)))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	return 0;
}

/* A file's metadata: its row's values that are not empty, then the common ones. */
static int row_meta(kura_manifest *m, char *const *cells, size_t line, kura_error *err)
{
	size_t k = m->ncommon, bytes = 0;
	for (size_t c = 1; c <= m->ncols; c++)
		if (cells[c][0]) {
			kura_meta v = {m->keys[c - 1], cells[c]};
			if (kura_ingest_check_meta(&v, err) != 0)
				return kura_error_wrap(err, "%s line %zu, column %zu", m->name, line, c + 1);
			k++;
			bytes += strlen(cells[c]) + 1;
		}
	kura_meta *mt = malloc(k * sizeof *mt + bytes + 1);
	if (!mt)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	char *s = (char *)(mt + k);
	size_t i = 0;
	for (size_t c = 1; c <= m->ncols; c++)
		if (cells[c][0]) {
			mt[i++] = (kura_meta){m->keys[c - 1], strcpy(s, cells[c])};
			s += strlen(s) + 1;
		}
	for (size_t j = 0; j < m->ncommon; j++)
		mt[i++] = m->common[j];
	m->meta[m->n] = mt;
	m->nmeta[m->n] = k;
	return 0;
}

static int on_row(void *ud, char *const *cells, size_t n, size_t line, kura_error *err)
{
	kura_manifest *m = ud;
	size_t filled = 0;
	for (size_t c = 0; c < n; c++)
		filled += cells[c][0] != '\0';
	if (filled == 0) /* a blank line, or a row a spreadsheet left with empty cells: not a file */
		return 0;
	if (!m->keys)
		return header(m, cells, n, line, err);
	if (n != m->ncols + 1)
		return kura_error_set(err, KURA_EINPUT, "%s line %zu: %zu cells, but the first row names %zu columns",
				      m->name, line, n, m->ncols + 1);
	if (!cells[0][0])
		return kura_error_set(err, KURA_EINPUT, "%s line %zu, column 1: no path (the first column names the file)",
				      m->name, line);
	int rc = grow(m, err);
	if (rc == 0)
		rc = join(m, cells[0], line, err);
	if (rc == 0 && (rc = row_meta(m, cells, line, err)) != 0)
		free(m->paths[m->n]);
	if (rc == 0)
		m->lines[m->n++] = line;
	return rc;
}

int kura_manifest_parse(kura_manifest **out, const char *text, size_t len, const char *name, const char *dir,
			const kura_meta *meta, size_t nmeta, kura_error *err)
{
	*out = NULL;
	kura_manifest *m = calloc(1, sizeof *m);
	if (!m)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	*m = (kura_manifest){.name = name, .dir = dir, .common = meta, .ncommon = nmeta};
	int rc = kura_csv_read(text, len, name, on_row, m, err);
	if (rc == 0 && !m->keys)
		rc = kura_error_set(err, KURA_EINPUT, "%s is empty: its first row names the columns ('path', then metadata "
						      "keys), each further row a file", name);
	else if (rc == 0 && m->n == 0)
		rc = kura_error_set(err, KURA_EINPUT, "%s names no files: after the first row, one row per file", name);
	if (rc != 0) {
		kura_manifest_free(m);
		return rc;
	}
	m->name = m->dir = NULL; /* the caller's, for this call */
	*out = m;
	return 0;
}

/* What is wrong with file i, or 0; st gets what lstat says of it. */
static int check_file(const kura_manifest *m, size_t i, struct stat *st, kura_error *err)
{
	const char *p = m->paths[i];
	size_t line = m->lines[i];
	if (lstat(p, st) != 0)
		return kura_error_sys(err, KURA_EINPUT, "%s line %zu: cannot ingest %s (a relative path starts in the "
				      "manifest's folder)", m->name, line, p);
	if (S_ISLNK(st->st_mode))
		return kura_error_set(err, KURA_EINPUT, "%s line %zu: %s is a symbolic link: name the file it leads to",
				      m->name, line, p);
	if (!S_ISREG(st->st_mode))
		return kura_error_set(err, KURA_EINPUT, "%s line %zu: %s is not a regular file (a manifest names each file "
				      "itself, not a folder)", m->name, line, p);
	if (access(p, R_OK) != 0)
		return kura_error_sys(err, KURA_EINPUT, "%s line %zu: cannot read %s", m->name, line, p);
	return 0;
}

struct file_id {
	dev_t dev;
	ino_t ino;
	size_t i;
};

static int by_file(const void *a, const void *b)
{
	const struct file_id *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Every file there, a regular file, named once. */
static int check_files(const kura_manifest *m, kura_error *err)
{
	struct file_id *ids = malloc(m->n * sizeof *ids);
	if (!ids)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < m->n; i++) {
		struct stat st;
		rc = check_file(m, i, &st, err);
		ids[i] = (struct file_id){st.st_dev, st.st_ino, i};
	}
	if (rc == 0)
		qsort(ids, m->n, sizeof *ids, by_file);
	for (size_t i = 1; rc == 0 && i < m->n; i++)
		if (ids[i].dev == ids[i - 1].dev && ids[i].ino == ids[i - 1].ino)
			rc = kura_error_set(err, KURA_EINPUT, "%s line %zu: %s is the file of line %zu again: a manifest "
					    "names each file once", m->name, m->lines[ids[i].i], m->paths[ids[i].i],
					    m->lines[ids[i - 1].i]);
	free(ids);
	return rc;
}

int kura_manifest_load(kura_manifest **out, const char *file, const kura_meta *meta, size_t nmeta, kura_error *err)
{
	char *text = NULL, dir[4096];
	size_t len = 0;
	*out = NULL;
	if (kura_fs_read_file(file, MANIFEST_MAX_BYTES, &text, &len) != 0)
		return errno == EFBIG ? kura_error_set(err, KURA_EINPUT, "manifest %s is larger than %u MiB", file,
						       MANIFEST_MAX_BYTES >> 20)
				      : kura_error_sys(err, KURA_EINPUT, "cannot read manifest %s", file);
	const char *slash = strrchr(file, '/');
	size_t dlen = slash ? (size_t)(slash - file) + 1 : 0; /* with its slash: "/" stays "/" */
	if (dlen >= sizeof dir)
		dlen = 0;
	memcpy(dir, file, dlen);
	dir[dlen] = '\0';
	kura_manifest *m = NULL;
	int rc = kura_manifest_parse(&m, text, len, file, dir, meta, nmeta, err);
	free(text);
	if (rc == 0) {
		m->name = file;
		rc = check_files(m, err);
		m->name = m->dir = NULL;
	}
	if (rc != 0) {
		kura_manifest_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void kura_manifest_free(kura_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->paths[i]);
		free(m->meta[i]);
	}
	for (size_t c = 0; c < m->ncols; c++)
		free(m->keys[c]);
	free(m->keys);
	free(m->paths);
	free(m->lines);
	free(m->meta);
	free(m->nmeta);
	free(m);
}

size_t kura_manifest_count(const kura_manifest *m) { return m->n; }
const char *const *kura_manifest_paths(const kura_manifest *m) { return (const char *const *)m->paths; }
size_t kura_manifest_line(const kura_manifest *m, size_t i) { return m->lines[i]; }

const kura_meta *kura_manifest_meta(const kura_manifest *m, size_t i, size_t *n)
{
	*n = m->nmeta[i];
	return m->meta[i];
}
