/* Where `kura export` puts each document: data/files/<its original path, made
 * safe> (package/export_paths.c; docs/FORMAT.md). */
#ifndef KURA_EXPORT_PATHS_H
#define KURA_EXPORT_PATHS_H

#include <stddef.h>

#include "kura/error.h"

#define KURA_EXPORT_NAME_MAX 200   /* bytes of one file or folder name in a package */
#define KURA_EXPORT_FILE_MAX 1024  /* bytes of a document's path under data/ ("files/...") */

/* name made a file name of a package (NFC; control characters, '/', '\\', '%'
 * become '_'; "", ".", "..", "object.json" and "tokens" get a leading '_'; cut
 * to KURA_EXPORT_NAME_MAX bytes between characters). out holds
 * KURA_EXPORT_NAME_MAX + 2 bytes. */
void kura_export_safe_name(char *out, const char *name);

/* The documents placed so far in one package: kura_export_paths_free. */
typedef struct kura_export_paths kura_export_paths;
int kura_export_paths_new(kura_export_paths **out, kura_error *err);
void kura_export_paths_free(kura_export_paths *p);

/* out (KURA_EXPORT_FILE_MAX bytes): "files/..." (relative to data/) for the
 * document of object id, ingested from path (NULL or "" when none: stdin, the
 * API) under name. Call in ID order: the first of two objects with one path
 * keeps it. */
int kura_export_paths_place(kura_export_paths *p, char *out, const char *id, const char *path, const char *name,
			    kura_error *err);

#endif
