/* Compaction's own part of opening a store (archive/compact.c). */
#ifndef KURA_COMPACT_H
#define KURA_COMPACT_H

#include "archive/backend.h"
#include "index/index.h"

/* Finishes or undoes the compactions a crash interrupted (the index's journal,
 * 'K'): called by every open once the index is open. writable: the store is
 * opened for writing (the journal is cleared); a reader only puts a committed
 * replacement in place, and only when it can take the writer lock. */
int kura_compact_recover(kura_backend *be, kura_index *ix, int writable, kura_error *err);

#endif
