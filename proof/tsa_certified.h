/* Certified TSAs, the store's side (format and invariants in tsa_certified.c;
 * the public part is in kura/tsa.h). */
#ifndef KURA_TSA_CERTIFIED_H
#define KURA_TSA_CERTIFIED_H

#include <stddef.h>

#include "kura/evidence.h"
#include "kura/store.h"
#include "kura/tsa.h"

/* The TSA mark for a token obtained now, to be stored with its evidence record
 * (kura_store_add_evidence_marked): KURA_EVIDENCE_TSA_CERTIFIED when its signer
 * is certified in the store's list at its genTime, else _UNCERTIFIED; 0 (and a
 * warning through the log) when that cannot be told (the list unreadable). */
char kura_tsa_judge(kura_store *st, const unsigned char *token, size_t tlen);

/* kura_tsa_certified_report with the caller's evidence cache (verification's). */
int kura_tsa_certified_report_with(json_t *report, kura_store *st, const char *id, kura_evidence_cache *cache,
				   kura_error *err);

#endif
