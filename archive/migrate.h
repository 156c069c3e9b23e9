/* kura migrate's parts (archive/migrate.c: the steps; archive/migrate_split.c:
 * the copy of a store whose segments are larger than the target keeps). */
#ifndef KURA_MIGRATE_H
#define KURA_MIGRATE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "archive/backend.h"
#include "kura/error.h"

#define KURA_MIGRATE_JOURNAL "migrate.json"

/* Kills the process at the Nth call when KURA_MIGRATE_CRASH_AT=N (tests only). */
void kura_migrate_crash_point(void);
/* 1 if backend configs a and b ({"type": "file"} for local files) name one place. */
int kura_migrate_same_place(const json_t *a, const json_t *b);

typedef struct kura_migrate_split kura_migrate_split;

/* Plans the copy of segments segs (n of them, ascending) of src into new
 * segments of dst, 1 on, each at most dst->max_segment_size: where new segments
 * start. KURA_EINPUT naming it when a record cannot fit one segment, KURA_EIO
 * when a record header does not check; nothing is written. */
int kura_migrate_split_plan(kura_migrate_split **out, kura_backend *src, kura_backend *dst, const uint32_t *segs,
			    size_t n, kura_error *err);
/* Copies as planned (dst holds no segments), reads the copy back and compares,
 * and builds its index in STORE/index.migrate (store: the store's folder). */
int kura_migrate_split_copy(kura_migrate_split *s, const char *store, kura_error *err);
/* Removes STORE/index.migrate, an interrupted attempt's (before its switch). */
int kura_migrate_split_clear(const char *store, kura_error *err);
void kura_migrate_split_free(kura_migrate_split *s);

#endif
