/* Evidence records in the store: opaque payloads framed with what they concern.
 *
 * Body of an 'E' segment record:
 *   u8 kind | 3 reserved zero bytes | record ID (26 characters)
 *   | u32 number of subjects n | n subject IDs (26 characters each) | payload
 * The payload belongs to the evidence layer; the store only indexes the frame:
 * 'E' + record ID -> where it is, 'e' + subject + record ID -> the subject's
 * position, and a seal ('S') or an imported record ('I') ends the pending state
 * of its subjects.
 * The pending entry of an object holds its digests, each as
 *   u8 name length | name (e.g. "sha256") | u8 digest length | digest
 * (none for a data object group: its seal reads the members' digests).
 * Like everything in a segment, an evidence record is never rewritten: renewals
 * add new records. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "archive/evidence_frame.h"
#include "archive/store_impl.h"
#include "common/hash.h"
#include "common/hex.h"
#include "common/id.h"

#define FRAME_HEAD (4 + KURA_ID_CHARS + 4)

void kura_evidence_index(kura_index_batch *b, const unsigned char *body, size_t len, uint32_t segno, uint64_t offset)
{
	char record[KURA_ID_CHARS + 1];
	memcpy(record, body + 4, KURA_ID_CHARS);
	record[KURA_ID_CHARS] = '\0';
	uint32_t n = (uint32_t)body[30] | (uint32_t)body[31] << 8 | (uint32_t)body[32] << 16 | (uint32_t)body[33] << 24;
	kura_index_batch_put_record(b, record, segno, offset);
	kura_index_link l;
	memcpy(l.record, record, sizeof l.record);
	l.segno = segno;
	l.offset = offset;
	l.kind = (char)body[0];
	for (uint32_t i = 0; i < n && FRAME_HEAD + (size_t)(i + 1) * KURA_ID_CHARS <= len; i++) {
		char subject[KURA_ID_CHARS + 1];
		memcpy(subject, body + FRAME_HEAD + (size_t)i * KURA_ID_CHARS, KURA_ID_CHARS);
		subject[KURA_ID_CHARS] = '\0';
		l.position = i;
		kura_index_batch_put_link(b, subject, &l);
		if (body[0] == KURA_EVIDENCE_SEAL || body[0] == KURA_EVIDENCE_IMPORTED)
			kura_index_batch_del_pending(b, subject);
	}
}

int kura_evidence_frame_check(const unsigned char *body, size_t len)
{
	if (len < FRAME_HEAD)
		return -1;
	uint32_t n = (uint32_t)body[30] | (uint32_t)body[31] << 8 | (uint32_t)body[32] << 16 | (uint32_t)body[33] << 24;
	char id[KURA_ID_CHARS + 1];
	memcpy(id, body + 4, KURA_ID_CHARS);
	id[KURA_ID_CHARS] = '\0';
	if (kura_id_parse(id, id, NULL) != 0)
		return -1;
	return (uint64_t)n * KURA_ID_CHARS <= len - FRAME_HEAD ? 0 : -1;
}

int kura_evidence_append(kura_segment_writer *w, kura_index_batch *b, char kind, const char *record_id,
			 const char *subjects, size_t n, const unsigned char *payload, size_t len, kura_error *err)
{
	unsigned char head[FRAME_HEAD] = {(unsigned char)kind};
	memcpy(head + 4, record_id, KURA_ID_CHARS);
	for (int i = 0; i < 4; i++)
		head[30 + i] = (unsigned char)((uint32_t)n >> (8 * i));
	kura_record_writer rec;
	uint64_t at = kura_segment_writer_tell(w);
	int rc = kura_record_begin(w, &rec, KURA_RECORD_EVIDENCE, err);
	if (rc == 0 && (rc = kura_record_append(w, &rec, head, sizeof head, err)) == 0 &&
	    (rc = kura_record_append(w, &rec, subjects, n * KURA_ID_CHARS, err)) == 0 &&
	    (rc = kura_record_append(w, &rec, payload, len, err)) == 0)
		rc = kura_record_finish(w, &rec, err);
	if (rc != 0)
		return rc;
	/* index from the frame as written, exactly as recovery and reindex will */
	size_t flen = sizeof head + n * KURA_ID_CHARS;
	unsigned char *frame = malloc(flen);
	if (!frame)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	memcpy(frame, head, sizeof head);
	memcpy(frame + sizeof head, subjects, n * KURA_ID_CHARS);
	kura_evidence_index(b, frame, flen, kura_segment_writer_segno(w), at);
	free(frame);
	return 0;
}

int kura_store_add_evidence(kura_store *st, char kind, const char *record_id, const char *subjects, size_t n,
			    const unsigned char *payload, size_t len, kura_error *err)
{
	kura_segment_writer *w = kura_store_writer(st);
	if (!w)
		return kura_error_set(err, KURA_EINTERNAL, "evidence needs a store opened for writing");
	kura_index_batch *b = NULL;
	int rc = kura_index_batch_new(&b, err);
	if (rc == 0)
		rc = kura_evidence_append(w, b, kind, record_id, subjects, n, payload, len, err);
	if (rc == 0)
		rc = kura_store_commit(st, b, err);
	if (rc != 0)
		kura_store_rollback(st, NULL);
	kura_index_batch_free(b);
	return rc;
}

void kura_evidence_clear(kura_evidence *e)
{
	free(e->subjects);
	free(e->payload);
	memset(e, 0, sizeof *e);
}

struct collect {
	unsigned char *buf;
	size_t len;
};

static int collect_body(void *ud, uint64_t off, const unsigned char *p, size_t n, kura_error *err)
{
	(void)err;
	struct collect *c = ud;
	memcpy(c->buf + off, p, n);
	c->len = (size_t)off + n;
	return 0;
}

int kura_store_read_evidence(kura_evidence *out, kura_store *st, const char *record_id, kura_error *err)
{
	uint32_t segno;
	uint64_t offset;
	memset(out, 0, sizeof *out);
	int rc = kura_index_get_record(kura_store_index(st), record_id, &segno, &offset, err);
	if (rc != 0)
		return rc;
	char path[4096];
	kura_segment_path(path, sizeof path, kura_store_segdir(st), segno);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kura_error_sys(err, KURA_EIO, "opening %s", path);
	struct stat sb;
	kura_record_info info;
	struct collect c = {0};
	rc = fstat(fd, &sb) != 0 ? kura_error_sys(err, KURA_EIO, "stat %s", path)
				 : kura_record_read_header(&info, fd, segno, offset, (uint64_t)sb.st_size, err);
	if (rc == 0 && (info.type != KURA_RECORD_EVIDENCE || info.body_len < FRAME_HEAD || info.body_len > SIZE_MAX / 2))
		rc = kura_error_set(err, KURA_EVERIFY, "evidence record %s: the index points at something else", record_id);
	if (rc == 0 && !(c.buf = malloc((size_t)info.body_len)))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = kura_record_read_body(fd, &info, collect_body, &c, err);
	close(fd);
	if (rc == 0 && kura_evidence_frame_check(c.buf, (size_t)info.body_len) != 0)
		rc = kura_error_set(err, KURA_EVERIFY, "evidence record %s is malformed", record_id);
	if (rc != 0) {
		free(c.buf);
		if (rc == KURA_EVERIFY)
			kura_error_wrap(err, "segment %08u offset %llu", segno, (unsigned long long)offset);
		return rc;
	}
	uint32_t n = (uint32_t)c.buf[30] | (uint32_t)c.buf[31] << 8 | (uint32_t)c.buf[32] << 16 | (uint32_t)c.buf[33] << 24;
	size_t subj = (size_t)n * KURA_ID_CHARS, plen = (size_t)info.body_len - FRAME_HEAD - subj;
	out->kind = (char)c.buf[0];
	memcpy(out->id, c.buf + 4, KURA_ID_CHARS);
	out->nsubjects = n;
	out->subjects = malloc(subj + 1);
	out->payload = malloc(plen + 1);
	if (!out->subjects || !out->payload) {
		free(c.buf);
		kura_evidence_clear(out);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	memcpy(out->subjects, c.buf + FRAME_HEAD, subj);
	memcpy(out->payload, c.buf + FRAME_HEAD + subj, plen);
	out->len = plen;
	free(c.buf);
	return 0;
}

static void pending_add(unsigned char *value, size_t *len, const char *name, const unsigned char *digest, size_t dlen)
{
	size_t nlen = strlen(name);
	if (*len + 2 + nlen + dlen > KURA_PENDING_MAX || nlen > 255 || dlen > 255)
		return; /* not noted: the seal computes it */
	value[(*len)++] = (unsigned char)nlen;
	memcpy(value + *len, name, nlen);
	*len += nlen;
	value[(*len)++] = (unsigned char)dlen;
	memcpy(value + *len, digest, dlen);
	*len += dlen;
}

size_t kura_pending_digests(unsigned char value[KURA_PENDING_MAX], json_t *object)
{
	unsigned char d[KURA_HASH_MAX];
	size_t len = 0;
	const char *name;
	json_t *hex;
	if (json_object_get(object, "members"))
		return 0;
	json_object_foreach(json_object_get(object, "digests"), name, hex) {
		const EVP_MD *md = kura_hash_by_name(name);
		size_t n = md ? (size_t)EVP_MD_get_size(md) : 0;
		if (n && json_is_string(hex) && kura_hex_decode(d, n, json_string_value(hex)) == 0)
			pending_add(value, &len, name, d, n);
	}
	return len;
}

struct pending_relay {
	const char *hash;
	kura_store_pending_fn fn;
	void *ud;
};

static int relay_pending(void *ud, const char *id, const unsigned char *v, size_t len, kura_error *err)
{
	struct pending_relay *r = ud;
	size_t want = strlen(r->hash);
	const unsigned char *digest = NULL;
	for (size_t i = 0; !digest && i + 1 < len;) {
		size_t nlen = v[i], dlen = i + 1 + nlen < len ? v[i + 1 + nlen] : 0;
		if (i + 2 + nlen + dlen > len)
			break; /* damaged: computed instead */
		if (nlen == want && memcmp(v + i + 1, r->hash, nlen) == 0)
			digest = v + i + 2 + nlen;
		i += 2 + nlen + dlen;
	}
	return r->fn(r->ud, id, digest, err);
}

int kura_store_each_pending(kura_store *st, const char *hash, kura_store_pending_fn fn, void *ud, kura_error *err)
{
	struct pending_relay r = {hash, fn, ud};
	return kura_index_each_pending(kura_store_index(st), relay_pending, &r, err);
}

struct link_relay {
	kura_store_link_fn fn;
	void *ud;
};

static int relay_link(void *ud, const kura_index_link *l, kura_error *err)
{
	struct link_relay *r = ud;
	return r->fn(r->ud, l->record, l->kind, l->position, err);
}

int kura_store_each_evidence_of(kura_store *st, const char *subject, kura_store_link_fn fn, void *ud, kura_error *err)
{
	struct link_relay r = {fn, ud};
	return kura_index_each_link(kura_store_index(st), subject, relay_link, &r, err);
}

struct any_relay {
	kura_store_any_link_fn fn;
	void *ud;
};

static int relay_any(void *ud, const char *subject, const kura_index_link *l, kura_error *err)
{
	struct any_relay *r = ud;
	return r->fn(r->ud, subject, l->record, l->kind, l->position, err);
}

int kura_store_each_link(kura_store *st, kura_store_any_link_fn fn, void *ud, kura_error *err)
{
	struct any_relay r = {fn, ud};
	return kura_index_each_link_all(kura_store_index(st), relay_any, &r, err);
}
