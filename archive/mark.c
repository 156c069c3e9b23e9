/* A reader's refresh mark: a SHA-256 over each record of one segment (its type,
 * place, length and body) in the order a scan applies them to an index. A
 * reader's index keeps it with the pool's generation ('R'); its next refresh
 * scans the segment again up to where it stopped and compares (archive/refresh.c).
 *
 * INVARIANTS
 * - The digest covers exactly the records the scan saw whole: a record whose
 *   body was streamed but did not check (damaged, or still being written) is
 *   taken back out (kura_mark_abandon), so a torn tail never enters it.
 * - A failure of OpenSSL leaves a digest that matches no mark: the next refresh
 *   reads the pool whole, never less. */
#include <string.h>

#include "archive/mark.h"
#include "common/endian.h"

int kura_mark_begin(kura_mark *m, uint32_t segno, kura_error *err)
{
	if (!m->dg && (!(m->dg = EVP_MD_CTX_new()) || !(m->rec = EVP_MD_CTX_new()) || !(m->held = EVP_MD_CTX_new())))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	m->segno = segno;
	m->open = 0;
	if (EVP_DigestInit_ex(m->dg, EVP_sha256(), NULL) != 1)
		return kura_error_set(err, KURA_EINTERNAL, "SHA-256 is not available");
	return 0;
}

void kura_mark_free(kura_mark *m)
{
	EVP_MD_CTX_free(m->dg);
	EVP_MD_CTX_free(m->rec);
	EVP_MD_CTX_free(m->held);
	memset(m, 0, sizeof *m);
}

static int marked(const kura_mark *m, const kura_record_info *info)
{
	return m->dg && info->segno == m->segno;
}

/* Before a record's first byte: its type, place and length. */
static void start(kura_mark *m, const kura_record_info *info)
{
	unsigned char h[17];
	h[0] = info->type;
	kura_le64_put(h + 1, info->offset);
	kura_le64_put(h + 9, info->body_len);
	EVP_MD_CTX_copy_ex(m->rec, m->dg);
	EVP_DigestUpdate(m->dg, h, sizeof h);
	m->open = 1;
}

void kura_mark_body(kura_mark *m, const kura_record_info *info, uint64_t off, const unsigned char *p, size_t n)
{
	if (!marked(m, info))
		return;
	if (off == 0)
		start(m, info);
	EVP_DigestUpdate(m->dg, p, n);
}

void kura_mark_record(kura_mark *m, const kura_record_info *info)
{
	if (marked(m, info) && info->body_len == 0)
		start(m, info);
	m->open = 0;
}

void kura_mark_abandon(kura_mark *m)
{
	if (m->open)
		EVP_MD_CTX_copy_ex(m->dg, m->rec);
	m->open = 0;
}

void kura_mark_hold(kura_mark *m, const kura_record_info *info)
{
	if (marked(m, info))
		EVP_MD_CTX_copy_ex(m->held, m->rec);
}

void kura_mark_digest(const kura_mark *m, int held, unsigned char out[32])
{
	unsigned int n;
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	if (!copy || !m->dg || EVP_MD_CTX_copy_ex(copy, held ? m->held : m->dg) != 1 || EVP_DigestFinal_ex(copy, out, &n) != 1)
		memset(out, 0, 32);
	EVP_MD_CTX_free(copy);
}

int kura_mark_generation(kura_backend *be, uint64_t *gen, kura_error *err)
{
	char where[4096];
	if (!be->generation) {
		*gen = 0;
		return 0;
	}
	if (be->generation(be, gen) == 0)
		return 0;
	be->name(be, 0, where, sizeof where);
	return kura_segment_io_error(be, err, "reading the generation of %s", where);
}
