/* Building Evidence Records the way ERS-RULES says kura creates them: DER,
 * version 1, digestAlgorithms listing every chain's algorithm, no cryptoInfos,
 * encryptionInfo or attributes; each ATS with a digestAlgorithm (parameters
 * absent) equal to its token's imprint algorithm, and the token's bytes exactly as
 * the TSA sent them. */
#ifndef KURA_RECORD_H
#define KURA_RECORD_H

#include <stddef.h>

#include <openssl/evp.h>

#include "kura/error.h"

typedef struct kura_er_builder kura_er_builder;

int kura_er_builder_new(kura_er_builder **out, kura_error *err);
void kura_er_builder_free(kura_er_builder *b);

/* Starts a new ArchiveTimeStampChain (the first call starts the first). */
int kura_er_builder_chain(kura_er_builder *b, kura_error *err);

/* Appends an ArchiveTimeStamp to the current chain. The reduced hash tree has
 * nlists lists; list k holds counts[k] values of md's size, taken in order from
 * values. nlists 0 leaves the tree out (the imprint is then the hash itself). */
int kura_er_builder_ats(kura_er_builder *b, const EVP_MD *md, const unsigned char *values, const size_t *counts,
			size_t nlists, const unsigned char *token, size_t tlen, kura_error *err);

/* Starts the record being built with every chain of an existing record (DER),
 * kept as it is (its digestAlgorithms, cryptoInfos and encryptionInfo too); later
 * ATSs go into its last chain until kura_er_builder_chain starts a new one.
 * KURA_EVERIFY if der is not an Evidence Record. Only before any other call. */
int kura_er_builder_adopt(kura_er_builder *b, const unsigned char *der, size_t len, kura_error *err);

/* The DER record (malloc'd, the caller's). */
int kura_er_builder_finish(kura_er_builder *b, unsigned char **der, size_t *len, kura_error *err);

/* Calls fn for every time-stamp token of the DER record, chain by chain, with
 * chain and ats counted from 1, nats the number of ATSs in that chain, and the
 * token's bytes exactly as the record holds them (valid during the call).
 * KURA_EVERIFY when der is not an Evidence Record. */
typedef int (*kura_er_token_fn)(void *ud, size_t chain, size_t ats, size_t nats, const unsigned char *tok, size_t len,
				kura_error *err);
int kura_er_each_token(const unsigned char *der, size_t len, kura_er_token_fn fn, void *ud, size_t *nchains,
		       kura_error *err);

#endif
