/* STORE/state.json: what happened to a store over time and is not evidence —
 * the daemon's last rounds, each TSA's last success and failure, the last
 * scrub, the alerts sent (docs/FORMAT.md). `kura status` reads it; losing it
 * loses history, never a document or its evidence.
 *
 * INVARIANTS
 * - The file is replaced whole (common/safefs.h: a temporary file, fsync'd,
 *   renamed, never through a link): a reader sees the old state or the new.
 * - Changes are read-modify-write under flock(LOCK_EX) on STORE/state.lock, so
 *   the daemon, a scrub and a seal that note things at once lose none of them.
 * - A state file that does not parse is started again (the reason logged): it
 *   is a cache of history, not a record. */
#ifndef KURA_STATE_H
#define KURA_STATE_H

#include <jansson.h>

#include "kura/error.h"

/* The state of the store at store (*out the caller's: json_decref); an empty
 * object when there is none yet. */
int kura_state_read(json_t **out, const char *store, kura_error *err);

/* Changes the state under its lock: fn gets it (borrowed) and edits it in
 * place; a non-zero return leaves the file as it was. */
typedef int (*kura_state_fn)(void *ud, json_t *state, kura_error *err);
int kura_state_change(const char *store, kura_state_fn fn, void *ud, kura_error *err);

/* Sets the members of fields (borrowed) into state[section] (key NULL) or
 * state[section][key], creating them as needed. */
int kura_state_merge(const char *store, const char *section, const char *key, json_t *fields, kura_error *err);

#endif
