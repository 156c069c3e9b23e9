/* Where `kura export` puts each document in a package: data/files/ followed by
 * the path ingest was given (an absolute one without its leading '/'), made
 * safe, so that an auditor who unpacks the package finds the documents in the
 * folders they came from. The object's folder data/<ID>/ keeps its
 * object.json (whose "file" names this path) and evidence (docs/FORMAT.md).
 *
 * INVARIANTS (what readers may rely on in a package kura wrote)
 * - A placed path is "files/" and one to MAX_DEPTH components, at most
 *   KURA_EXPORT_FILE_MAX bytes; no component is empty, "." or ".."; none holds
 *   a control character, '/', '\\', '%' or a character Windows refuses
 *   (<>:"|?*), ends in '.' or ' ', or is a Windows device name (CON, PRN, AUX,
 *   NUL, COM1-9, LPT1-9, with or without an extension); each is NFC and at most
 *   KURA_EXPORT_NAME_MAX bytes, cut between characters.
 * - No two documents of a package get paths equal when ASCII letters are
 *   folded to lower case (Windows and macOS folders ignore case), and no
 *   document's path is a folder of another's. Objects are placed in ID order:
 *   the first keeps its path; a later one gets "~<ID>" before the extension of
 *   its last component; if that is taken too, or the path cannot be used (none
 *   given, or "-" for standard input; nothing left once cleaned, too long or
 *   deep), it goes to
 *   files/<ID>/<name>, then files/<ID>~2/<name>, ... */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/unicode.h"
#include "package/export_paths.h"

#define MAX_DEPTH 32 /* components under files/ (readers walk at most 64 levels) */

struct kura_export_paths {
	json_t *used; /* lower-cased path -> 1 (a document) or 2 (a folder of documents) */
};

enum { KURA_NAMES = 1, WINDOWS = 2 };

static int device_name(const char *s)
{
	static const char *const names[] = {"CON", "PRN", "AUX", "NUL"};
	size_t n = strcspn(s, ".");
	for (size_t i = 0; i < 4; i++)
		if (n == 3 && strncasecmp(s, names[i], 3) == 0)
			return 1;
	return n == 4 && (strncasecmp(s, "COM", 3) == 0 || strncasecmp(s, "LPT", 3) == 0) && s[3] >= '1' && s[3] <= '9';
}

/* name (NFC) as one safe component (out: KURA_EXPORT_NAME_MAX + 2 bytes). */
static void clean(char *out, const char *name, int flags)
{
	char *nfc = NULL;
	kura_error ignored = {0};
	if (kura_unicode_nfc(&nfc, name, strlen(name), &ignored) == 0)
		name = nfc;
	size_t n = 0, i = 0;
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    ((flags & KURA_NAMES) && (strcmp(name, "object.json") == 0 || strcmp(name, "tokens") == 0)) ||
	    ((flags & WINDOWS) && device_name(name)))
		out[n++] = '_';
	for (; name[i] && n < KURA_EXPORT_NAME_MAX; i++) {
		unsigned char c = (unsigned char)name[i];
		int bad = c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c == '%' ||
			  ((flags & WINDOWS) && strchr("<>:\"|?*", c));
		out[n++] = (char)(bad ? '_' : c);
	}
	while (name[i] && i > 0 && ((unsigned char)name[i] & 0xC0) == 0x80) { /* shortened: cut between characters */
		i--;
		n--;
	}
	if ((flags & WINDOWS) && n > 0 && (out[n - 1] == '.' || out[n - 1] == ' '))
		out[n - 1] = '_';
	out[n] = '\0';
	free(nfc);
}

void kura_export_safe_name(char *out, const char *name)
{
	clean(out, name, KURA_NAMES);
}

int kura_export_paths_new(kura_export_paths **out, kura_error *err)
{
	kura_export_paths *p = calloc(1, sizeof *p);
	if (!p || !(p->used = json_object())) {
		free(p);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	*out = p;
	return 0;
}

void kura_export_paths_free(kura_export_paths *p)
{
	if (!p)
		return;
	json_decref(p->used);
	free(p);
}

/* path (as ingest was given it) as safe components joined by '/' into out
 * (without "files/"): '.' and empty components dropped, ".." taking the one
 * before it away. 0 when nothing usable is left or it is too long or deep. */
static int clean_path(char *out, const char *path)
{
	size_t n = 0, depth = 0, at[MAX_DEPTH + 1];
	out[0] = '\0';
	for (const char *p = path ? path : ""; *p;) {
		size_t len = strcspn(p, "/");
		char comp[KURA_EXPORT_NAME_MAX * 4 + 2], safe[KURA_EXPORT_NAME_MAX + 2];
		int dots = len == 2 && p[0] == '.' && p[1] == '.';
		if (len > 0 && !(len == 1 && p[0] == '.') && !dots) {
			if (depth == MAX_DEPTH)
				return out[0] = '\0', 0;
			snprintf(comp, sizeof comp, "%.*s", (int)(len < sizeof comp - 1 ? len : sizeof comp - 1), p);
			clean(safe, comp, WINDOWS);
			size_t s = strlen(safe);
			if (n + s + 2 > KURA_EXPORT_FILE_MAX - 8) /* room for "files/" */
				return out[0] = '\0', 0;
			at[depth++] = n;
			n += (size_t)sprintf(out + n, "%s%s", n ? "/" : "", safe);
		} else if (dots && depth > 0) {
			n = at[--depth];
			out[n] = '\0';
		}
		p += len + (p[len] == '/');
	}
	return depth > 0;
}

static void lower(char *out, const char *s)
{
	size_t i = 0;
	for (; s[i]; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = '\0';
}

/* Whether rel (under files/) is free: not a document or folder already, none
 * of its folders a document. */
static int is_free(const kura_export_paths *p, const char *rel)
{
	char key[KURA_EXPORT_FILE_MAX];
	lower(key, rel);
	if (json_object_get(p->used, key))
		return 0;
	for (char *s = strchr(key, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		json_int_t what = json_integer_value(json_object_get(p->used, key));
		*s = '/';
		if (what == 1)
			return 0;
	}
	return 1;
}

static int take(kura_export_paths *p, const char *rel, kura_error *err)
{
	char key[KURA_EXPORT_FILE_MAX];
	lower(key, rel);
	int rc = json_object_set_new(p->used, key, json_integer(1));
	for (char *s = strchr(key, '/'); rc == 0 && s; s = strchr(s + 1, '/')) {
		*s = '\0';
		rc = json_object_set_new(p->used, key, json_integer(2));
		*s = '/';
	}
	return rc == 0 ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
}

/* rel with "~id" before the extension of its last component, within the bounds. */
static int with_id(char *out, const char *rel, const char *id)
{
	const char *last = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel, *dot = strrchr(last, '.');
	size_t ext = dot && dot != last && strlen(dot) <= 32 ? strlen(dot) : 0, idlen = strlen(id) + 1;
	size_t stem = strlen(last) - ext, folder = (size_t)(last - rel);
	while (stem > 0 && stem + idlen + ext > KURA_EXPORT_NAME_MAX)
		stem--;
	while (stem > 0 && ((unsigned char)last[stem] & 0xC0) == 0x80) /* between characters */
		stem--;
	if (folder + stem + idlen + ext + 8 > KURA_EXPORT_FILE_MAX)
		return 0;
	sprintf(out, "%.*s%.*s~%s%s", (int)folder, rel, (int)stem, last, id, last + strlen(last) - ext);
	return 1;
}

int kura_export_paths_place(kura_export_paths *p, char *out, const char *id, const char *path, const char *name,
			    kura_error *err)
{
	char rel[KURA_EXPORT_FILE_MAX] = "", other[KURA_EXPORT_FILE_MAX], safe[KURA_EXPORT_NAME_MAX + 2];
	int found = path && strcmp(path, "-") != 0 && clean_path(rel, path) && is_free(p, rel); /* "-": stdin */
	if (!found && rel[0] && with_id(other, rel, id) && is_free(p, other)) {
		memcpy(rel, other, sizeof rel);
		found = 1;
	}
	clean(safe, name ? name : "", WINDOWS);
	for (unsigned k = 1; !found; k++) { /* files/<ID>/<name>, files/<ID>~2/<name>, ... */
		char folder[64];
		snprintf(folder, sizeof folder, k == 1 ? "%s" : "%s~%u", id, k);
		snprintf(rel, sizeof rel, "%s/%s", folder, safe);
		found = is_free(p, rel);
	}
	int rc = take(p, rel, err);
	if (rc == 0)
		snprintf(out, KURA_EXPORT_FILE_MAX, "files/%s", rel);
	return rc;
}
