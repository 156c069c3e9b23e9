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

/* Records are put together from parts encoded once: the objects of one chain
 * share its renewals' ATSs, its first ATS's token and algorithm, and most lists
 * of their reduced trees (neighbours in a tree share most siblings), so a record
 * per object costs little more than its own leaf. Every part is encoded by
 * OpenSSL through the templates of ers_asn1.c, and a record has exactly the bytes
 * it would have if it were encoded whole. */

/* An ArchiveTimeStamp, encoded. The reduced hash tree has nlists lists; list k
 * holds counts[k] values of md's size, taken in order from values. nlists 0
 * leaves the tree out (the imprint is then the hash itself). */
typedef struct kura_er_ats kura_er_ats;
int kura_er_ats_new(kura_er_ats **out, const EVP_MD *md, const unsigned char *values, const size_t *counts,
		    size_t nlists, const unsigned char *token, size_t tlen, kura_error *err);
void kura_er_ats_free(kura_er_ats *a);

/* The first ATS of one chain, for each of its objects in turn: the token and the
 * algorithm are held encoded, and of each object's reduced tree only the lists
 * that differ from the previous object's (at the same place) are encoded. */
typedef struct kura_er_first kura_er_first;
int kura_er_first_new(kura_er_first **out, const EVP_MD *md, const unsigned char *token, size_t tlen,
		      kura_error *err);
void kura_er_first_free(kura_er_first *f);
/* The ATS for one object's reduced tree (values, counts and nlists as for
 * kura_er_ats_new), owned by f and valid until the next call. */
int kura_er_first_ats(const kura_er_ats **out, kura_er_first *f, const unsigned char *values, const size_t *counts,
		      size_t nlists, kura_error *err);

/* An existing record (DER), parsed and its ATSs encoded for reuse: its chains go
 * into a record as they are (its version, digestAlgorithms, cryptoInfos and
 * encryptionInfo too). KURA_EVERIFY if der is not an Evidence Record. */
typedef struct kura_er_adopted kura_er_adopted;
int kura_er_adopted_new(kura_er_adopted **out, const unsigned char *der, size_t len, kura_error *err);
void kura_er_adopted_free(kura_er_adopted *a);

/* Puts one record together; after finish it is empty again for the next one. */
typedef struct kura_er_builder kura_er_builder;

int kura_er_builder_new(kura_er_builder **out, kura_error *err);
void kura_er_builder_free(kura_er_builder *b);

/* Starts a new ArchiveTimeStampChain (the first ATS starts the first). */
int kura_er_builder_chain(kura_er_builder *b, kura_error *err);

/* Appends an ATS to the current chain. The builder lends it: it must live until
 * kura_er_builder_finish. Its algorithm joins digestAlgorithms unless there. */
int kura_er_builder_put(kura_er_builder *b, const kura_er_ats *ats, kura_error *err);

/* Appends a new ATS (as kura_er_ats_new), owned by the builder. */
int kura_er_builder_ats(kura_er_builder *b, const EVP_MD *md, const unsigned char *values, const size_t *counts,
			size_t nlists, const unsigned char *token, size_t tlen, kura_error *err);

/* Starts the record with every chain of an adopted record (lent, as for put);
 * later ATSs go into its last chain until kura_er_builder_chain starts a new one.
 * Only as the first call for a record. */
int kura_er_builder_adopt(kura_er_builder *b, const kura_er_adopted *a, kura_error *err);

/* The DER record (malloc'd, the caller's). */
int kura_er_builder_finish(kura_er_builder *b, unsigned char **der, size_t *len, kura_error *err);
/* Drops the record being built (after a failure). */
void kura_er_builder_clear(kura_er_builder *b);

/* Calls fn for every time-stamp token of the DER record, chain by chain, with
 * chain and ats counted from 1, nats the number of ATSs in that chain, and the
 * token's bytes exactly as the record holds them (valid during the call).
 * KURA_EVERIFY when der is not an Evidence Record. */
typedef int (*kura_er_token_fn)(void *ud, size_t chain, size_t ats, size_t nats, const unsigned char *tok, size_t len,
				kura_error *err);
int kura_er_each_token(const unsigned char *der, size_t len, kura_er_token_fn fn, void *ud, size_t *nchains,
		       kura_error *err);

#endif
