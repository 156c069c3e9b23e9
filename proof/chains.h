/* An object's archive time-stamp chains, assembled from the store's evidence
 * records, and the payloads of those records.
 *
 * Kinds (the store's evidence frame carries them):
 *   'S' seal               starts chain 0 for its subjects (objects)
 *   'H' hash-tree renewal  starts a new chain, with a new hash algorithm, for its
 *                          subjects (objects): leaf = H'(H'(data) || H'(earlier chains))
 *   'T' time-stamp renewal adds an ATS to the chains whose start records are its
 *                          subjects: leaf = the hashes of all earlier tokens of the chain
 *   'I' imported record    an RFC 4998 record adopted with its object (kura import):
 *                          its chains come first in the object's record, byte for
 *                          byte, and its last chain is the one T records extend
 *                          (its tokens are never augmented: they stay as imported)
 * Payload of S and H ("KSEAL1\n\0" / "KHASH1\n\0"), and of T ("KTSR1\n\0\0"):
 *   magic (8) | u8 k | hash name (k bytes) | u32 n | n leaves
 *   | T only: n times (u32 m | m bytes: the chain's previous token with its validation
 *     data added, or m = 0 when it was complete already)
 *   | u32 t | the new token (ContentInfo, exactly as the TSA sent it)
 * Payload of I ("KIMP1\n\0\0"): magic (8) | the Evidence Record (DER) exactly as imported.
 * Every record's tree is binary over its leaves in subject order (ERS-RULES).
 *
 * S and H records over data object groups (a signed document: document,
 * signature, validation data) use the magics "KSEAL2\n\0" / "KHASH2\n\0" and
 * add, after the leaves:
 *   u32 g | g times (u32 subject index | u8 m | m member values)
 * where the subject's leaf is the group node: H(its member values sorted and
 * concatenated), and its record's first list holds the member values. */
#ifndef KURA_CHAINS_H
#define KURA_CHAINS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "evidence/hashtree.h"
#include "kura/evidence.h"
#include "kura/ingest.h"
#include "kura/store.h"

#define KURA_EVIDENCE_HASHTREE 'H'
#define KURA_EVIDENCE_TIMESTAMP 'T'

/* The payload of an 'I' record for an imported Evidence Record (malloc'd, the caller's). */
int kura_chain_imported_payload(unsigned char **out, size_t *len, const unsigned char *der, size_t dlen, kura_error *err);

/* A parsed evidence record. */
typedef struct kura_chain_record {
	char id[KURA_ID_LEN + 1];
	char kind;
	const EVP_MD *md;
	size_t n;
	const unsigned char *leaves; /* n digests of md, in payload */
	unsigned char *payload;      /* the record's, owned */
	kura_hashtree *tree;   /* NULL unless the record was got with its tree */
	unsigned char *token;
	size_t tlen;
	unsigned char **aug; /* T only: n augmented previous tokens (NULL: unchanged) */
	size_t *auglen;
	uint8_t *members;        /* n member counts (0: not a group), or NULL */
	unsigned char **values;  /* n pointers to each group's member values */
	size_t ntokens;      /* the tokens this record brings to its chain: 1, or for I those of
				the imported record's last chain (token is the last of them) */
	unsigned char **tokens; /* I only */
	size_t *toklens;
	unsigned char *er;   /* I only: the imported record */
	size_t erlen;
} kura_chain_record;

/* Members of the data object groups among a record's subjects. */
typedef struct kura_chain_groups {
	const uint8_t *count;         /* n entries: members of subject i (0: not a group) */
	unsigned char *const *values; /* n entries: count[i] values of md's size */
} kura_chain_groups;

/* A payload in three parts for kura_store_add_evidence: what comes before the
 * leaves, the leaves (borrowed, not copied: a seal may have ten million) and
 * what follows them. head and tail are malloc'd; kura_chain_parts_clear. */
typedef struct kura_chain_parts {
	unsigned char *head, *tail;
	kura_store_part part[3];
} kura_chain_parts;

/* Builds a payload over leaves, which must outlive out. groups (S and H, may be
 * NULL) and aug/auglen (T only) as the format above says. */
int kura_chain_payload(kura_chain_parts *out, char kind, const EVP_MD *md, const unsigned char *leaves, size_t n,
		       const kura_chain_groups *groups, unsigned char *const *aug, const size_t *auglen,
		       const unsigned char *token, size_t tlen, kura_error *err);
void kura_chain_parts_clear(kura_chain_parts *p);

/* The digests under md of an object's data object group, document first, then
 * its members (signature, validation data): *count values, at most
 * 1 + KURA_INGEST_MAX_MEMBERS. reread: always from the stored bytes (checked);
 * else from the object's description where ingest computed them. */
int kura_object_digests(unsigned char *out, size_t *count, kura_store *st, const char *id, const EVP_MD *md,
			int reread, kura_error *err);

/* The parsed record (owned by the cache, valid until the next call). */
int kura_chain_record_get(const kura_chain_record **out, kura_evidence_cache *c, kura_store *st, const char *id,
			  kura_error *err);
/* The same with its hash tree, built on first use: only reduced trees need it,
 * and planning and renewing a million objects' chains does not. */
int kura_chain_record_get_tree(const kura_chain_record **out, kura_evidence_cache *c, kura_store *st, const char *id,
			       kura_error *err);

/* The object's chain starts (S/H records) and, for each, its position in it;
 * the newest last. *ids holds n * KURA_ID_LEN characters (malloc'd). */
int kura_object_chain_starts(char **ids, uint32_t **positions, size_t *n, kura_store *st, const char *id,
			     kura_error *err);

/* The tokens of a chain as the exported record carries them, oldest first: the
 * start record's, then each renewal's (augmented versions where a later renewal
 * added validation data). Pointers into cache-owned memory are copied out:
 * *tokens and each element are malloc'd. upto: only renewals with IDs below it
 * (NULL: all). *fixed (may be NULL): how many leading tokens must stay byte for
 * byte as they are (an imported chain's), so renewal must not augment them. */
void kura_free_tokens(unsigned char **tokens, size_t count);
int kura_chain_tokens(unsigned char ***tokens, size_t **lens, size_t *count, size_t *fixed, const EVP_MD **md,
		      kura_store *st, kura_evidence_cache *cache, const char *start, const char *upto, kura_error *err);

#endif
