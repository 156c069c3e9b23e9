/* Reading the objects of a package, shared by `kura verify-export` and `kura
 * import` so that both account for a package in exactly the same way.
 *
 * INVARIANTS
 * - object.json is outside input (anyone can edit a package): it is parsed here
 *   only, duplicated keys are refused, and every field kura reads from it is
 *   type-checked before use; its "id" is the name of its folder data/<ID>/ (the
 *   import.id an imported object keeps). What a kura_package_group holds from it is borrowed
 *   from g->object, which the group owns until kura_package_group_clear.
 * - The bag's manifests are checked once (kura_bag_check) and every problem is
 *   charged to the object folder it concerns ("data/<ID>") or, when it lies
 *   outside any object folder, to the package as a whole.
 * - Every object folder is accounted for: one in which no (FILE, FILE.ers) pair
 *   is found (its document or record missing) is reported to the caller, never
 *   skipped in silence.
 * - A document under data/files/ (docs/FORMAT.md) is read only when exactly
 *   one object.json names it with "file": a path under files/ without empty,
 *   "." or ".." components, control characters or '\\', of a regular file
 *   reached through folders only (no link), its record a plain name
 *   ("record_parts") in the object's folder. Any other "file" is a problem of
 *   that object, as a missing document is; a file of data/files/ that no
 *   object names is a problem of the package, as a file outside the manifest
 *   is. A package without "file" (made before kura kept the original paths)
 *   is read as before: each document beside its record. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "package/bag.h"
#include "common/escape.h"
#include "common/fsutil.h"
#include "common/unicode.h"
#include "kura/ingest.h"
#include "package/package.h"

#define MAX_OBJECT_JSON (16u << 20)
#define MAX_META 256 /* metadata fields of one object (as package/import.c adopts) */

/* ---------------------------------------------------------------- object.json */

static int bad(kura_error *err, const char *path, const char *what)
{
	return kura_error_set(err, KURA_EINPUT, "%s: %s (the package was altered after export, or not made by kura)",
			      path, what);
}

/* A member's file: a plain name beside the document. */
static int plain_name(const char *name)
{
	return name && *name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
	       strcmp(name, "object.json") != 0 && strcmp(name, "tokens") != 0;
}

/* Reads "members": the document first, then at most one signature and one
 * validation data, each a plain file name beside the document. */
static int read_members(kura_package_group *g, const char *folder, const char *base, const char *path,
			kura_error *err)
{
	json_t *members = json_object_get(g->object, "members"), *m;
	if (!members)
		return 0;
	if (!json_is_array(members) || json_array_size(members) == 0 || json_array_size(members) > 3)
		return bad(err, path, "\"members\" is not a list of one to three members");
	const char *files[2] = {NULL, NULL}; /* signature, validation data */
	size_t k;
	json_array_foreach(members, k, m) {
		json_t *role_j = json_object_get(m, "role"), *file_j = json_object_get(m, "file");
		if (!json_is_object(m) || !json_is_string(role_j) || !json_is_string(file_j))
			return bad(err, path, "a member is not an object with a \"role\" and a \"file\" (strings)");
		const char *role = json_string_value(role_j), *file = json_string_value(file_j);
		int r = strcmp(role, "signature") == 0 ? 0 : strcmp(role, "validation-data") == 0 ? 1 : -1;
		if (k == 0 && (strcmp(role, "document") != 0 || !kura_unicode_same_nfc(file, base)))
			return bad(err, path, "the first member is not the document itself");
		if (k == 0)
			continue;
		if (r < 0 || files[r])
			return bad(err, path, "a member has an unknown or repeated role (signature and validation-data, once each)");
		if (!plain_name(file) || kura_unicode_same_nfc(file, base) || (files[1 - r] && kura_unicode_same_nfc(file, files[1 - r])))
			return bad(err, path, "a member is not a file of its own beside the document");
		files[r] = file;
	}
	for (int r = 0; r < 2; r++) {
		if (!files[r])
			continue;
		snprintf(g->paths[g->files.n], sizeof g->paths[0], "%s/%s", folder, files[r]);
		g->files.member[g->files.n].path = g->paths[g->files.n];
		g->files.n++;
	}
	g->detached = files[0] != NULL;
	g->signed_doc = files[1] != NULL;
	return 0;
}

/* Two metadata keys that are one key in NFC (as ingest keeps them): which value
 * was meant cannot be told, so verify-export and import both refuse the object. */
static int check_meta_keys(json_t *meta, const char *path, kura_error *err)
{
	const char *k1, *k2;
	json_t *v1, *v2;
	json_object_foreach(meta, k1, v1) {
		json_object_foreach(meta, k2, v2) {
			if (k1 == k2)
				break;
			if (kura_unicode_same_nfc(k1, k2))
				return kura_error_set(err, KURA_EINPUT, "%s: metadata keys '%s' and '%s' are one key (in NFC)", path,
						      k2, k1);
		}
	}
	return 0;
}

/* The fields kura reads, each of the type it must have (absent: NULL). */
static int read_fields(kura_package_group *g, const char *path, kura_error *err)
{
	json_t *o = g->object, *v;
	const char *key;
	if (!json_is_object(o))
		return bad(err, path, "is not a JSON object");
	json_t *id = json_object_get(o, "id"), *name = json_object_get(o, "name");
	if ((id && !json_is_string(id)) || (name && !json_is_string(name)))
		return bad(err, path, "\"id\" or \"name\" is not a string");
	g->id = json_string_value(id);
	g->name = json_string_value(name);
	g->meta = json_object_get(o, "meta");
	if (g->meta && !json_is_object(g->meta))
		return bad(err, path, "\"meta\" is not an object");
	if (json_object_size(g->meta) > MAX_META)
		return bad(err, path, "\"meta\" holds more than 256 fields");
	json_object_foreach(g->meta, key, v) {
		if (!json_is_string(v))
			return kura_error_set(err, KURA_EINPUT, "%s: metadata '%s' is not a string", path, key);
		if (kura_ingest_check_meta(&(kura_meta){key, json_string_value(v)}, err) != 0)
			return kura_error_wrap(err, "%s", path);
	}
	int rc = check_meta_keys(g->meta, path, err);
	if (rc != 0)
		return rc;
	g->signature = json_object_get(o, "signature");
	if (g->signature && !json_is_object(g->signature))
		return bad(err, path, "\"signature\" is not an object");
	return 0;
}

/* The group of the document root/file whose record is root/record (NULL: beside
 * file): the object's folder (root/folder_rel) and the names used in messages. */
static void group_start(kura_package_group *g, char *folder, size_t cap, char *rel, size_t rcap, const char *root,
			const char *file, const char *record)
{
	memset(g, 0, sizeof *g);
	snprintf(g->paths[0], sizeof g->paths[0], "%s/%s", root, file);
	g->files.member[0].path = g->paths[0];
	g->files.n = 1;
	const char *in = record ? record : file, *slash = strrchr(in, '/');
	snprintf(rel, rcap, "%.*s", slash ? (int)(slash - in) : 0, in);
	snprintf(folder, cap, "%s/%s", root, rel);
}

/* object.json's "file" against the document handed over (file, relative to the
 * bag's folder): a document under data/files/ is the one it names, one beside
 * its record has none. */
static int check_file(const kura_package_group *g, const char *file, const char *rel, const char *shown,
		      kura_error *err)
{
	json_t *f = json_object_get(g->object, "file");
	size_t n = strlen(rel);
	int beside = strncmp(file, rel, n) == 0 && file[n] == '/' && !strchr(file + n + 1, '/');
	if (f && !json_is_string(f))
		return bad(err, shown, "\"file\" is not a string");
	if (f && beside)
		return bad(err, shown, "names its document under data/files/, but a document lies beside its record");
	if (!f && !beside)
		return bad(err, shown, "has no \"file\" naming its document under data/files/");
	if (f && (strncmp(file, "data/", 5) != 0 || !kura_unicode_same_nfc(file + 5, json_string_value(f))))
		return bad(err, shown, "\"file\" does not name this document");
	return 0;
}

int kura_package_group_parse(kura_package_group *g, const char *root, const char *file, const char *record,
			     const char *text, size_t len, kura_error *err)
{
	char folder[4096], rel[4096], shown[4200];
	const char *slash = strrchr(file, '/'), *base = slash ? slash + 1 : file;
	group_start(g, folder, sizeof folder, rel, sizeof rel, root, file, record);
	snprintf(shown, sizeof shown, "%s%sobject.json", rel, rel[0] ? "/" : "");
	json_error_t jerr;
	g->object = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!g->object)
		return kura_error_set(err, KURA_EINPUT, "%s cannot be read as JSON: %s (line %d)", shown, jerr.text, jerr.line);
	int rc = read_fields(g, shown, err);
	const char *folder_id = strncmp(rel, "data/", 5) == 0 ? rel + 5 : NULL;
	if (rc == 0 && g->id && folder_id && !strchr(folder_id, '/') && strcmp(g->id, folder_id) != 0)
		rc = bad(err, shown, "\"id\" is not the name of its folder (data/<ID>/)");
	if (rc == 0 && record)
		rc = check_file(g, file, rel, shown, err);
	if (rc == 0)
		rc = read_members(g, folder, base, shown, err);
	if (rc == 0 && g->signed_doc != (g->signature != NULL))
		rc = bad(err, shown, "a signed document needs both \"signature\" and a validation-data member");
	return rc;
}

int kura_package_group_load(kura_package_group *g, const char *root, const char *file, const char *record,
			    kura_error *err)
{
	char folder[4096], rel[4096], path[8192], *text = NULL;
	size_t len;
	group_start(g, folder, sizeof folder, rel, sizeof rel, root, file, record);
	snprintf(path, sizeof path, "%s/object.json", folder);
	struct stat sb;
	if (lstat(path, &sb) != 0 && errno == ENOENT)
		return strncmp(file, "data/files/", 11) == 0 ? bad(err, path + strlen(root) + 1, "is missing") : 0;
	if (kura_fs_read_file(path, MAX_OBJECT_JSON, &text, &len) != 0)
		return kura_error_sys(err, KURA_EINPUT, "%s cannot be read (a file of at most 16 MiB)", path + strlen(root) + 1);
	int rc = kura_package_group_parse(g, root, file, record, text, len, err);
	free(text);
	return rc;
}

void kura_package_group_clear(kura_package_group *g)
{
	json_decref(g->object);
	memset(g, 0, sizeof *g);
}

/* ---------------------------------------------------------------- accounting */

/* data/tokens/ holds the tokens all records share (package/record_parts.c),
 * data/files/ the documents under their original paths: not object folders. */
static int shared_folder(const char *name)
{
	return strcmp(name, "tokens") == 0 || strcmp(name, "files") == 0;
}

/* "data/<ID>" of a path in a bag ("" when the path is not in an object folder;
 * a document under data/files/: the folder whose object.json names it). */
static void object_folder(const kura_package_audit *a, char *out, size_t cap, const char *path)
{
	const char *slash = strncmp(path, "data/", 5) == 0 ? strchr(path + 5, '/') : NULL;
	if (slash && strncmp(path + 5, "tokens/", 7) == 0)
		slash = NULL;
	if (slash && strncmp(path + 5, "files/", 6) == 0) {
		snprintf(out, cap, "%s", json_string_value(json_object_get(a->claims, path)) ?: "");
		return;
	}
	snprintf(out, cap, "%.*s", slash ? (int)(slash - path) : 0, path);
}

static json_t *folder_entry(kura_package_audit *a, const char *folder)
{
	json_t *f = json_object_get(a->folders, folder);
	if (!f && json_object_set_new_nocheck(a->folders, folder, json_pack("{s:n, s:i}", "why", "pairs", 0)) == 0)
		f = json_object_get(a->folders, folder);
	return f;
}

static void on_problem(void *ud, const char *path, const char *problem)
{
	kura_package_audit *a = ud;
	char folder[4096], why[4200];
	object_folder(a, folder, sizeof folder, path);
	snprintf(why, sizeof why, "%s %s", path, problem);
	json_t *o = json_pack("{s:s, s:s}", "file", "", "problem", problem);
	kura_json_set_name(o, "file", path); /* a name that is not UTF-8 too: a problem is never dropped */
	json_array_append_new(a->problems, o);
	if (!folder[0]) { /* data/tsa-anchors.pem and the tag files too */
		if (!a->package_problem[0])
			snprintf(a->package_problem, sizeof a->package_problem, "%s", why);
		return;
	}
	json_t *f = folder_entry(a, folder);
	if (f && json_is_null(json_object_get(f, "why")))
		json_object_set_new(f, "why", json_string_nocheck(why)); /* names need not be UTF-8 */
}

/* Every folder directly under data/ is an object folder, but data/tokens/ and data/files/. */
static int list_folders(kura_package_audit *a, const char *root, kura_error *err)
{
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/data", root);
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : kura_error_sys(err, KURA_EINPUT, "cannot read %s", dir);
	struct dirent *de;
	while ((de = readdir(d))) {
		char path[8400], folder[4200];
		struct stat sb;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		snprintf(folder, sizeof folder, "data/%s", de->d_name);
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 && !shared_folder(de->d_name) &&
		    lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
			folder_entry(a, folder);
	}
	closedir(d);
	return 0;
}

/* The folders' names in byte order (an array the caller frees), so that every
 * reader hears of them in the same order, whatever the file system's. */
static json_t *sorted_folders(const kura_package_audit *a)
{
	json_t *names = json_array();
	const char *key;
	json_t *v;
	json_object_foreach(a->folders, key, v)
		json_array_append_new(names, json_string_nocheck(key));
	size_t n = json_array_size(names);
	for (size_t i = 1; i < n; i++) /* insertion sort: a package's folders come sorted from kura */
		for (size_t j = i; j > 0 && strcmp(json_string_value(json_array_get(names, j - 1)),
						    json_string_value(json_array_get(names, j))) > 0; j--) {
			json_t *t = json_incref(json_array_get(names, j));
			json_array_set(names, j, json_array_get(names, j - 1));
			json_array_set_new(names, j - 1, t);
		}
	return names;
}

/* What is wrong with "file" (f) of an object.json as a path under data/, or NULL. */
static const char *bad_file(json_t *f)
{
	const char *s = json_string_value(f);
	if (!s)
		return "\"file\" is not a string";
	if (strncmp(s, "files/", 6) != 0 || strlen(s) >= 4000)
		return "\"file\" does not name a file under data/files/";
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return "\"file\" has an empty, '.' or '..' component";
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\')
				return "\"file\" holds a control character or '\\'";
		p += n + (p[n] == '/');
	}
	return NULL;
}

/* Whether root/rel is a regular file reached through folders only (no link). */
static const char *bad_target(const char *root, const char *rel)
{
	char path[8400];
	size_t base = (size_t)snprintf(path, sizeof path, "%s/", root);
	struct stat sb;
	for (const char *p = rel;;) {
		size_t n = strcspn(p, "/");
		snprintf(path + base, sizeof path - base, "%.*s", (int)(p + n - rel), rel);
		if (lstat(path, &sb) != 0)
			return "is missing";
		if (!p[n])
			return S_ISREG(sb.st_mode) ? NULL : "is not a regular file (a link or a folder)";
		if (!S_ISDIR(sb.st_mode))
			return "lies under something that is not a folder (a link or a file)";
		p += n + 1;
	}
}

/* The document folder (an object folder) names in its object.json's "file",
 * checked and claimed; none (no object.json, unreadable: group_load says why;
 * no "file": a package of earlier kura) leaves the folder as it is. */
static int resolve(kura_package_audit *a, const char *root, const char *folder, kura_error *err)
{
	char path[8400], shown[4200], file[4100], record[4400], why[4400], *text = NULL;
	size_t len;
	struct stat sb;
	snprintf(path, sizeof path, "%s/%s/object.json", root, folder);
	snprintf(shown, sizeof shown, "%s/object.json", folder);
	if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || kura_fs_read_file(path, MAX_OBJECT_JSON, &text, &len) != 0)
		return 0;
	json_error_t jerr;
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *f = json_object_get(o, "file");
	free(text);
	if (!json_is_object(o)) { /* which document it had cannot be told: the folder says why it has none */
		if (o)
			snprintf(why, sizeof why, "%s: is not a JSON object (the package was altered after export, or not "
				 "made by kura)", shown);
		else
			snprintf(why, sizeof why, "%s cannot be read as JSON: %s (line %d)", shown, jerr.text, jerr.line);
		json_object_set_new_nocheck(folder_entry(a, folder), "unusable", json_string_nocheck(why));
		a->unusable++;
		json_decref(o);
		return 0;
	}
	const char *problem = f ? bad_file(f) : NULL, *parts = json_string_value(json_object_get(o, "record_parts"));
	if (f && !problem && (!parts || !*parts || strchr(parts, '/') || strcmp(parts, "..") == 0 || strcmp(parts, ".") == 0))
		problem = "\"record_parts\" is not the name of a file beside it";
	if (problem)
		on_problem(a, shown, problem);
	if (!f || problem) {
		json_decref(o);
		return 0;
	}
	snprintf(file, sizeof file, "data/%s", json_string_value(f));
	snprintf(record, sizeof record, "%s/%s", folder, parts);
	json_decref(o);
	const char *other = json_string_value(json_object_get(a->claims, file));
	if (other) { /* two objects, one document: neither is read */
		json_object_del(folder_entry(a, other), "file");
		snprintf(why, sizeof why, "names as its document %s, which %s/object.json names too", file, other);
		on_problem(a, shown, why);
		snprintf(why, sizeof why, "names as its document %s, which %s names too", file, shown);
		snprintf(path, sizeof path, "%s/object.json", other);
		on_problem(a, path, why);
		return 0;
	}
	json_t *e = folder_entry(a, folder);
	if (json_object_set_new_nocheck(a->claims, file, json_string_nocheck(folder)) != 0 || !e ||
	    json_object_set_new_nocheck(e, "file", json_string_nocheck(file)) != 0 ||
	    json_object_set_new_nocheck(e, "record", json_string_nocheck(record)) != 0)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	return 0;
}

/* After the manifests: a claimed document that is not a regular file reached
 * through folders (missing, a link) is not read; its folder has none. */
static void check_target(const char *root, json_t *e, const char *folder)
{
	const char *file = json_string_value(json_object_get(e, "file")), *problem = file ? bad_target(root, file) : NULL;
	char why[8400], found[4100];
	snprintf(found, sizeof found, "%s", file ? file : "");
	if (problem && kura_bag_find_normalised(found, sizeof found, root) == 0 && !bad_target(root, found)) {
		json_object_set_new_nocheck(e, "file", json_string_nocheck(found)); /* its name in NFD, say */
		problem = NULL;
	}
	struct stat sb;
	snprintf(found, sizeof found, "%s", json_string_value(json_object_get(e, "record")) ?: "");
	snprintf(why, sizeof why, "%s/%s", root, found);
	if (!problem && lstat(why, &sb) != 0 && kura_bag_find_normalised(found, sizeof found, root) == 0)
		json_object_set_new_nocheck(e, "record", json_string_nocheck(found)); /* the record's name in NFD */
	if (!problem)
		return;
	snprintf(why, sizeof why, "holds no document with its evidence record: %s/object.json names as its document %s, "
		 "which %s", folder, file, problem);
	json_object_set_new_nocheck(e, "unusable", json_string_nocheck(why));
	json_object_del(e, "file");
}

/* A file under data/files/ that no object.json names: the package's problem. */
static int unclaimed(void *ud, const char *file, kura_error *err)
{
	kura_package_audit *a = ud;
	(void)err;
	static const char *const problem = "is no object's document (no object.json names it as its \"file\")";
	char *nfc = NULL;
	kura_error ignored = {0};
	int named = json_object_get(a->claims, file) ||
		    (kura_unicode_nfc(&nfc, file, strlen(file), &ignored) == 0 && json_object_get(a->claims, nfc));
	free(nfc);
	if (named) /* in NFC, as object.json names it, or in another normalisation */
		return 0;
	if (!a->unusable) {
		on_problem(a, file, problem);
		return 0;
	}
	/* perhaps the document of an object whose object.json cannot be read, which is refused */
	json_t *o = json_pack("{s:s, s:s}", "file", "", "problem", problem);
	kura_json_set_name(o, "file", file);
	json_array_append_new(a->problems, o);
	return 0;
}

int kura_package_audit_run(kura_package_audit *a, const kura_package *p, kura_error *err)
{
	memset(a, 0, sizeof *a);
	a->problems = json_array();
	a->folders = json_object();
	a->claims = json_object();
	if (!a->problems || !a->folders || !a->claims)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (!kura_package_is_bag(p))
		return 0; /* pairs only: no manifests, no object folders */
	size_t n = 0;
	int rc = list_folders(a, kura_package_root(p), err);
	json_t *names = rc == 0 ? sorted_folders(a) : NULL, *name;
	size_t i;
	json_array_foreach(names, i, name) {
		if (rc == 0)
			rc = resolve(a, kura_package_root(p), json_string_value(name), err);
	}
	if (rc == 0)
		rc = kura_bag_check(p, on_problem, a, &n, err);
	json_array_foreach(names, i, name)
		check_target(kura_package_root(p), json_object_get(a->folders, json_string_value(name)),
			     json_string_value(name));
	json_decref(names);
	if (rc == 0)
		rc = kura_package_each_file(p, "data/files", unclaimed, a, err);
	return rc;
}

void kura_package_audit_clear(kura_package_audit *a)
{
	json_decref(a->problems);
	json_decref(a->folders);
	json_decref(a->claims);
	memset(a, 0, sizeof *a);
}

struct walk {
	kura_package_audit *a;
	kura_package_object_fn fn;
	void *ud;
};

static int on_pair(void *ud, const char *file, const char *record, kura_error *err)
{
	struct walk *w = ud;
	char folder[4096];
	if (strncmp(file, "data/files/", 11) == 0)
		return 0; /* documents, paired with their records through object.json */
	object_folder(w->a, folder, sizeof folder, file);
	json_t *f = folder[0] ? json_object_get(w->a->folders, folder) : NULL;
	if (f)
		json_object_set_new(f, "pairs", json_integer(json_integer_value(json_object_get(f, "pairs")) + 1));
	if (f && json_object_get(f, "file"))
		on_problem(w->a, file, "lies beside its record, but object.json names its document under data/files/");
	return w->fn(w->ud, file, record, json_string_value(json_object_get(f, "why")), err);
}

int kura_package_each_object(kura_package_audit *a, const kura_package *p, kura_package_object_fn fn, void *ud,
			     kura_error *err)
{
	struct walk w = {a, fn, ud};
	int rc = kura_package_each_pair(p, kura_package_is_bag(p) ? "data" : "", on_pair, &w, err);
	json_t *names = rc == 0 ? sorted_folders(a) : NULL, *name;
	size_t i;
	json_array_foreach(names, i, name) {
		const char *folder = json_string_value(name);
		json_t *f = json_object_get(a->folders, folder);
		if (rc != 0 || json_integer_value(json_object_get(f, "pairs")) > 0)
			continue;
		const char *file = json_string_value(json_object_get(f, "file"));
		const char *why = json_string_value(json_object_get(f, "why"));
		rc = fn(ud, file ? file : folder, file ? json_string_value(json_object_get(f, "record")) : NULL,
			why ? why : json_string_value(json_object_get(f, "unusable")), err);
	}
	json_decref(names);
	return rc;
}
