/* What a reindex lost, told to the audit trail (archive/loss.c says how). */
#ifndef KURA_ARCHIVE_LOSS_H
#define KURA_ARCHIVE_LOSS_H

#include <stdint.h>

#include <jansson.h>

#include "index/index.h"
#include "kura/error.h"

/* An empty list (NULL when out of memory; json_decref it). */
json_t *kura_loss_new(void);
/* Bytes [from, to) of segment segno were lost (to UINT64_MAX: the whole
 * segment, of a size nobody knows); known: inside what the replaced index had
 * committed (so it would name what was there). */
void kura_loss_range(json_t *loss, uint32_t segno, uint64_t from, uint64_t to, int known);

/* If body (len bytes) is a "reindex-loss" audit record, appends the ranges it
 * records (its own and its earlier ones) to *ranges (made when NULL): the
 * ranges the trail says were lost before. 0, or -1 out of memory. */
int kura_loss_note_recorded(json_t **ranges, const char *body, size_t len);
/* Whether ranges (as kura_loss_note_recorded made them; may be NULL) hold
 * [from, to) of segment segno (to UINT64_MAX: the whole segment): the same
 * bytes found lost again, whose loss the trail holds already. */
int kura_loss_recorded(const json_t *ranges, uint32_t segno, uint64_t from, uint64_t to);

/* The replaced index knew this inside a lost range (kura_lost_fn's arguments). */
void kura_loss_named(json_t *loss, const char *what, const char *id, const char *record, uint32_t segno,
		     uint64_t offset);
/* Into the batch of the index being built: the list, with what replaced (may be
 * NULL) still had unrecorded; nothing when neither lost anything. */
int kura_loss_put(kura_index_batch *b, json_t *loss, kura_index *replaced, kura_error *err);
/* Whether loss must go into the trail (after kura_loss_put, which knows
 * whether there was a replaced index to name what the ranges held). */
int kura_loss_any(const json_t *loss);
/* Once the new index is in place: the audit record "reindex-loss", if its 'l'
 * names a loss or the chain lacks records no earlier "reindex-loss" lists
 * (*unrecorded: how many), committed with 'l' deleted. It lists in "gaps"
 * every record the chain lacks: a checkpoint's lost_by line and disposal count
 * a gap as recorded only when a loss record lists it (archive/audit_checkpoint.c).
 * Opens the store for writing. */
int kura_loss_record(const char *path, uint64_t *unrecorded, kura_error *err);

#endif
