/* A reader's refresh mark (archive/mark.c): the digest of the records of one
 * segment as a scan applies them, which a reader's next refresh compares
 * (archive/refresh.c). */
#ifndef KURA_MARK_H
#define KURA_MARK_H
#include <openssl/evp.h>

#include "archive/backend.h"
#include "archive/segment.h"

typedef struct kura_mark {
	EVP_MD_CTX *dg;   /* the records of segment segno so far; NULL: no mark is kept */
	EVP_MD_CTX *rec;  /* dg before the record being read */
	EVP_MD_CTX *held; /* dg before a record set aside (kura_mark_hold) */
	uint32_t segno;
	int open;         /* dg holds part of a record not yet seen whole */
} kura_mark;

/* Starts (again) a mark of segment segno. */
int kura_mark_begin(kura_mark *m, uint32_t segno, kura_error *err);
void kura_mark_free(kura_mark *m);
/* A piece of a record's body, as a scan streams it (off: within the body). */
void kura_mark_body(kura_mark *m, const kura_record_info *info, uint64_t off, const unsigned char *p, size_t n);
/* The end of a record that checked whole. */
void kura_mark_record(kura_mark *m, const kura_record_info *info);
/* A record that did not check whole (damaged, or still being written) is taken back out. */
void kura_mark_abandon(kura_mark *m);
/* Remembers the digest before the record just seen (a record the index does not take yet). */
void kura_mark_hold(kura_mark *m, const kura_record_info *info);
/* The digest so far (held: before the record kura_mark_hold remembered); the mark goes on. */
void kura_mark_digest(const kura_mark *m, int held, unsigned char out[32]);
/* The pool's generation (archive/backend.h; 0 for a backend that keeps none). */
int kura_mark_generation(kura_backend *be, uint64_t *gen, kura_error *err);
#endif
