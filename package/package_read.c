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
 *   skipped in silence. */
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

/* The group of the document root/file: its folder and the names used in messages. */
static void group_start(kura_package_group *g, char *folder, size_t cap, const char *root, const char *file)
{
	memset(g, 0, sizeof *g);
	snprintf(g->paths[0], sizeof g->paths[0], "%s/%s", root, file);
	g->files.member[0].path = g->paths[0];
	g->files.n = 1;
	const char *slash = strrchr(file, '/');
	snprintf(folder, cap, "%s/%.*s", root, slash ? (int)(slash - file) : 0, file);
}

int kura_package_group_parse(kura_package_group *g, const char *root, const char *file, const char *text, size_t len,
			     kura_error *err)
{
	char folder[4096], shown[4200];
	const char *slash = strrchr(file, '/'), *base = slash ? slash + 1 : file;
	group_start(g, folder, sizeof folder, root, file);
	snprintf(shown, sizeof shown, "%.*s%sobject.json", slash ? (int)(slash - file) : 0, file, slash ? "/" : "");
	json_error_t jerr;
	g->object = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!g->object)
		return kura_error_set(err, KURA_EINPUT, "%s cannot be read as JSON: %s (line %d)", shown, jerr.text, jerr.line);
	int rc = read_fields(g, shown, err);
	const char *folder_id = strncmp(file, "data/", 5) == 0 ? file + 5 : NULL;
	if (rc == 0 && g->id && folder_id && slash && strchr(folder_id, '/') == slash &&
	    (strlen(g->id) != (size_t)(slash - folder_id) || strncmp(g->id, folder_id, (size_t)(slash - folder_id)) != 0))
		rc = bad(err, shown, "\"id\" is not the name of its folder (data/<ID>/)");
	if (rc == 0)
		rc = read_members(g, folder, base, shown, err);
	if (rc == 0 && g->signed_doc != (g->signature != NULL))
		rc = bad(err, shown, "a signed document needs both \"signature\" and a validation-data member");
	return rc;
}

int kura_package_group_load(kura_package_group *g, const char *root, const char *file, kura_error *err)
{
	char folder[4096], path[8192], *text = NULL;
	size_t len;
	group_start(g, folder, sizeof folder, root, file);
	snprintf(path, sizeof path, "%s/object.json", folder);
	struct stat sb;
	if (lstat(path, &sb) != 0 && errno == ENOENT)
		return 0; /* not a kura package's object: a group of one */
	if (kura_fs_read_file(path, MAX_OBJECT_JSON, &text, &len) != 0)
		return kura_error_sys(err, KURA_EINPUT, "%s cannot be read (a file of at most 16 MiB)", path + strlen(root) + 1);
	int rc = kura_package_group_parse(g, root, file, text, len, err);
	free(text);
	return rc;
}

void kura_package_group_clear(kura_package_group *g)
{
	json_decref(g->object);
	memset(g, 0, sizeof *g);
}

/* ---------------------------------------------------------------- accounting */

/* data/tokens/ holds the tokens all records share (package/record_parts.c):
 * not an object folder; a problem there concerns the package as a whole. */
static int shared_folder(const char *name)
{
	return strcmp(name, "tokens") == 0;
}

/* "data/<ID>" of a path in a bag ("" when the path is not in an object folder). */
static void object_folder(char *out, size_t cap, const char *path)
{
	const char *slash = strncmp(path, "data/", 5) == 0 ? strchr(path + 5, '/') : NULL;
	if (slash && strncmp(path + 5, "tokens/", 7) == 0)
		slash = NULL;
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
	object_folder(folder, sizeof folder, path);
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

/* Every folder directly under data/ is an object folder, but data/tokens/. */
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

int kura_package_audit_run(kura_package_audit *a, const kura_package *p, kura_error *err)
{
	memset(a, 0, sizeof *a);
	a->problems = json_array();
	a->folders = json_object();
	if (!a->problems || !a->folders)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (!kura_package_is_bag(p))
		return 0; /* pairs only: no manifests, no object folders */
	size_t n = 0;
	int rc = kura_bag_check(p, on_problem, a, &n, err);
	if (rc == 0)
		rc = list_folders(a, kura_package_root(p), err);
	return rc;
}

void kura_package_audit_clear(kura_package_audit *a)
{
	json_decref(a->problems);
	json_decref(a->folders);
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
	object_folder(folder, sizeof folder, file);
	json_t *f = folder[0] ? json_object_get(w->a->folders, folder) : NULL;
	if (f)
		json_object_set_new(f, "pairs", json_integer(json_integer_value(json_object_get(f, "pairs")) + 1));
	return w->fn(w->ud, file, record, json_string_value(json_object_get(f, "why")), err);
}

int kura_package_each_object(kura_package_audit *a, const kura_package *p, kura_package_object_fn fn, void *ud,
			     kura_error *err)
{
	struct walk w = {a, fn, ud};
	int rc = kura_package_each_pair(p, kura_package_is_bag(p) ? "data" : "", on_pair, &w, err);
	const char *folder;
	json_t *f;
	json_object_foreach(a->folders, folder, f) {
		if (rc != 0 || json_integer_value(json_object_get(f, "pairs")) > 0)
			continue;
		rc = fn(ud, folder, NULL, json_string_value(json_object_get(f, "why")), err);
	}
	return rc;
}
