/* Evidence records in the store: opaque payloads framed with what they concern.
 *
 * Body of an 'E' segment record:
 *   u8 kind | u8 TSA mark | 2 reserved zero bytes | record ID (26 characters)
 *   | u32 number of subjects n | n subject IDs (26 characters each) | payload
 * The payload belongs to the evidence layer; the store only indexes the frame:
 * 'E' + record ID -> where it is, and for every subject its position in the
 * record. The TSA mark (kura/store.h: whether the TSA of the record's new token
 * was certified when it stamped; 0 in records made before kura kept it, which
 * is "unknown") is the evidence layer's judgement, kept as given and indexed
 * ('Y' + record ID) when not 0. A seal ('S') or an imported record ('I') ends the pending state of its
 * subjects.
 *
 * A seal whose subjects ascend -- every seal kura makes: it takes every pending
 * object in ID order, and IDs only grow -- is indexed by ONE range entry (first
 * and last subject) instead of a link per subject, and ends the pending state of
 * the IDs from first to last with one range deletion: a million-object seal
 * writes three index entries, not two million. A subject's position is then
 * found by binary search in the seal's subject list (the list looked at last is
 * kept by the open store). Invariant this rests on: seal ranges never overlap,
 * and an object inside a seal's range that is not its subject is not pending
 * (imported objects, whose 'I' record ended that). Any other record, or a seal
 * whose subjects do not ascend, gets a link per subject.
 *
 * The pending entry of an object holds its digests, each as
 *   u8 name length | name (e.g. "sha256") | u8 digest length | digest
 * (none for a data object group: its seal reads the members' digests).
 * Like everything in a segment, an evidence record is never rewritten: renewals
 * add new records. */
#include <stdlib.h>
#include <string.h>

#include "archive/evidence_frame.h"
#include "archive/store_impl.h"
#include "common/bigmem.h"
#include "common/endian.h"
#include "common/hash.h"
#include "common/hex.h"
#include "common/id.h"

static uint32_t frame_count(const unsigned char *head)
{
	return kura_le32_get(head + 30);
}

static int ascending(const char *subjects, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (memcmp(subjects + (i - 1) * KURA_ID_LEN, subjects + i * KURA_ID_LEN, KURA_ID_LEN) >= 0)
			return 0;
	return 1;
}

void kura_evidence_index(kura_index_batch *b, const unsigned char *head, const char *subjects, uint32_t segno,
			 uint64_t offset)
{
	char record[KURA_ID_LEN + 1];
	memcpy(record, head + 4, KURA_ID_LEN);
	record[KURA_ID_LEN] = '\0';
	uint32_t n = frame_count(head);
	kura_index_batch_put_record(b, record, segno, offset);
	if (head[1])
		kura_index_batch_put_mark(b, record, (char)head[1]);
	if (head[0] == KURA_EVIDENCE_SEAL && n > 0 && ascending(subjects, n)) {
		kura_index_range r = {.segno = segno, .offset = offset, .n = n, .kind = (char)head[0]};
		memcpy(r.record, record, sizeof r.record);
		memcpy(r.first, subjects, KURA_ID_LEN);
		r.first[KURA_ID_LEN] = '\0';
		memcpy(r.last, subjects + (size_t)(n - 1) * KURA_ID_LEN, KURA_ID_LEN);
		r.last[KURA_ID_LEN] = '\0';
		kura_index_batch_put_range(b, &r);
		kura_index_batch_del_pending_range(b, r.first, r.last);
		return;
	}
	kura_index_link l;
	memcpy(l.record, record, sizeof l.record);
	l.segno = segno;
	l.offset = offset;
	l.kind = (char)head[0];
	for (uint32_t i = 0; i < n; i++) {
		char subject[KURA_ID_LEN + 1];
		memcpy(subject, subjects + (size_t)i * KURA_ID_LEN, KURA_ID_LEN);
		subject[KURA_ID_LEN] = '\0';
		l.position = i;
		kura_index_batch_put_link(b, subject, &l);
		if (head[0] == KURA_EVIDENCE_SEAL || head[0] == KURA_EVIDENCE_IMPORTED)
			kura_index_batch_del_pending(b, subject);
	}
}

int kura_evidence_frame_check(const unsigned char *body, size_t len)
{
	if (len < KURA_EVIDENCE_FRAME_HEAD)
		return -1;
	char id[KURA_ID_LEN + 1];
	memcpy(id, body + 4, KURA_ID_LEN);
	id[KURA_ID_LEN] = '\0';
	if (kura_id_parse(id, id, NULL) != 0)
		return -1;
	return (uint64_t)frame_count(body) * KURA_ID_LEN <= len - KURA_EVIDENCE_FRAME_HEAD ? 0 : -1;
}

int kura_evidence_append(kura_segment_writer *w, kura_index_batch *b, char kind, char mark, const char *record_id,
			 const char *subjects, size_t n, const kura_store_part *payload, size_t nparts, kura_error *err)
{
	unsigned char head[KURA_EVIDENCE_FRAME_HEAD] = {(unsigned char)kind, (unsigned char)mark};
	memcpy(head + 4, record_id, KURA_ID_LEN);
	kura_le32_put(head + 30, (uint32_t)n);
	kura_record_writer rec;
	uint64_t at = kura_segment_writer_tell(w);
	int rc = kura_record_begin(w, &rec, KURA_RECORD_EVIDENCE, err);
	if (rc == 0 && (rc = kura_record_append(w, &rec, head, sizeof head, err)) == 0)
		rc = kura_record_append(w, &rec, subjects, n * KURA_ID_LEN, err);
	for (size_t i = 0; rc == 0 && i < nparts; i++)
		rc = kura_record_append(w, &rec, payload[i].p, payload[i].len, err);
	if (rc == 0)
		rc = kura_record_finish(w, &rec, err);
	if (rc == 0) /* indexed from the frame as written, exactly as recovery and reindex will */
		kura_evidence_index(b, head, subjects, kura_segment_writer_segno(w), at);
	return rc;
}

int kura_store_add_evidence(kura_store *st, char kind, const char *record_id, const char *subjects, size_t n,
			    const kura_store_part *payload, size_t nparts, kura_error *err)
{
	return kura_store_add_evidence_marked(st, kind, 0, record_id, subjects, n, payload, nparts, err);
}

int kura_store_evidence_mark(char *mark, kura_store *st, const char *record_id, kura_error *err)
{
	return kura_index_get_mark(kura_store_index(st), record_id, mark, err);
}

int kura_store_add_evidence_marked(kura_store *st, char kind, char mark, const char *record_id, const char *subjects,
				   size_t n, const kura_store_part *payload, size_t nparts, kura_error *err)
{
	kura_segment_writer *w = kura_store_writer(st);
	if (!w)
		return kura_error_set(err, KURA_EINTERNAL, "evidence needs a store opened for writing");
	kura_index_batch *b = NULL;
	int rc = kura_index_batch_new(&b, err);
	if (rc == 0)
		rc = kura_evidence_append(w, b, kind, mark, record_id, subjects, n, payload, nparts, err);
	if (rc == 0)
		rc = kura_store_commit(st, b, err);
	if (rc != 0)
		kura_store_rollback(st, NULL);
	kura_index_batch_free(b);
	return rc;
}

void kura_evidence_clear(kura_evidence *e)
{
	free(e->payload);
	memset(e, 0, sizeof *e);
}

/* ---------------------------------------------------------------- reading */

/* Keeps one part of a record's body while its CRC is checked: the subject IDs
 * or the payload (a ten-million-object seal need not be in memory twice). */
enum { WANT_SUBJECTS, WANT_PAYLOAD };

struct collect {
	int want;
	const char *record_id;
	uint64_t total;
	unsigned char head[KURA_EVIDENCE_FRAME_HEAD];
	unsigned char *buf; /* once the head is complete */
	uint64_t from, len;
};

static int collect_body(void *ud, uint64_t off, const unsigned char *p, size_t n, kura_error *err)
{
	struct collect *c = ud;
	for (uint64_t i = off; i < off + n && i < KURA_EVIDENCE_FRAME_HEAD; i++)
		c->head[i] = p[i - off];
	if (!c->buf && off + n >= KURA_EVIDENCE_FRAME_HEAD) {
		uint64_t subjects = (uint64_t)frame_count(c->head) * KURA_ID_LEN;
		if (memcmp(c->head + 4, c->record_id, KURA_ID_LEN) != 0 ||
		    subjects > c->total - KURA_EVIDENCE_FRAME_HEAD)
			return kura_error_set(err, KURA_EVERIFY, "malformed");
		c->from = KURA_EVIDENCE_FRAME_HEAD + (c->want == WANT_PAYLOAD ? subjects : 0);
		c->len = c->want == WANT_PAYLOAD ? c->total - c->from : subjects;
		if (!(c->buf = malloc((size_t)c->len + 1)))
			return kura_error_set(err, KURA_EINTERNAL, "out of memory for evidence record %s", c->record_id);
		kura_bigmem_advise(c->buf, (size_t)c->len);
	}
	uint64_t lo = off > c->from ? off : c->from, hi = off + n < c->from + c->len ? off + n : c->from + c->len;
	if (c->buf && hi > lo)
		memcpy(c->buf + (lo - c->from), p + (lo - off), (size_t)(hi - lo));
	return 0;
}

static int frame_room(void *ud, const kura_record_info *info, kura_error *err)
{
	struct collect *c = ud;
	if (info->type != KURA_RECORD_EVIDENCE || info->body_len < KURA_EVIDENCE_FRAME_HEAD || info->body_len > SIZE_MAX / 2)
		return kura_error_set(err, KURA_EVERIFY, "the index points at something else");
	c->total = info->body_len;
	return 0;
}

static int read_part(struct collect *c, kura_store *st, const char *record_id, kura_error *err)
{
	uint32_t segno;
	uint64_t offset;
	c->record_id = record_id;
	int rc = kura_index_get_record(kura_store_index(st), record_id, &segno, &offset, err);
	if (rc == 0)
		rc = kura_record_read_at(kura_store_backend(st), segno, offset, frame_room, collect_body, c, err);
	if (rc == KURA_EVERIFY)
		kura_error_wrap(err, "evidence record %s", record_id);
	if (rc != 0) {
		free(c->buf);
		c->buf = NULL;
	}
	return rc;
}

int kura_store_read_evidence(kura_evidence *out, kura_store *st, const char *record_id, kura_error *err)
{
	struct collect c = {.want = WANT_PAYLOAD};
	memset(out, 0, sizeof *out);
	int rc = read_part(&c, st, record_id, err);
	if (rc != 0)
		return rc;
	out->kind = (char)c.head[0];
	memcpy(out->id, c.head + 4, KURA_ID_LEN);
	out->nsubjects = frame_count(c.head);
	out->payload = c.buf;
	out->len = (size_t)c.len;
	return 0;
}

/* The subject list of one seal, kept by the store for the next lookup. */
struct kura_subject_list {
	char record[KURA_ID_LEN + 1];
	char *ids;
	size_t n;
};

void kura_subject_list_free(kura_subject_list *l)
{
	if (l)
		free(l->ids);
	free(l);
}

/* Reads the subject list of seal r into l (replacing what l held). */
static int subjects_load(kura_subject_list *l, kura_store *st, const kura_index_range *r, kura_error *err)
{
	struct collect c = {.want = WANT_SUBJECTS};
	int rc = read_part(&c, st, r->record, err);
	if (rc != 0)
		return rc;
	if (c.len != (uint64_t)r->n * KURA_ID_LEN || !ascending((char *)c.buf, r->n)) {
		free(c.buf);
		return kura_error_set(err, KURA_EIO, "the index entry of seal %s does not match the seal; run kura reindex",
				      r->record);
	}
	free(l->ids);
	memcpy(l->record, r->record, sizeof l->record);
	l->ids = (char *)c.buf;
	l->n = r->n;
	return 0;
}

/* The subject list of seal r, from the store's one kept list. */
static int subject_list(const kura_subject_list **out, kura_store *st, const kura_index_range *r, kura_error *err)
{
	kura_subject_list **slot = kura_store_subject_list(st);
	if (!*slot && !(*slot = calloc(1, sizeof **slot)))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	int rc = strcmp((*slot)->record, r->record) == 0 ? 0 : subjects_load(*slot, st, r, err);
	*out = *slot;
	return rc;
}

/* The position of subject in the seal r spans; 1 if it is not one of its subjects. */
static int seal_position(uint32_t *pos, kura_store *st, const kura_index_range *r, const char *subject,
			 kura_error *err)
{
	const kura_subject_list *l = NULL;
	int rc = subject_list(&l, st, r, err);
	if (rc != 0)
		return rc;
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(l->ids + mid * KURA_ID_LEN, subject, KURA_ID_LEN);
		if (c == 0) {
			*pos = (uint32_t)mid;
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 1;
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

/* ---------------------------------------------------------------- links */

/* One object's links, with its seal (found by range) merged in by record ID. */
struct link_relay {
	kura_store_link_fn fn;
	void *ud;
	int have_seal;
	kura_index_range seal;
	uint32_t seal_pos;
};

static int emit_seal(struct link_relay *r, kura_error *err)
{
	r->have_seal = 0;
	return r->fn(r->ud, r->seal.record, r->seal.kind, r->seal_pos, err);
}

static int relay_link(void *ud, const kura_index_link *l, kura_error *err)
{
	struct link_relay *r = ud;
	int rc = r->have_seal && strcmp(r->seal.record, l->record) < 0 ? emit_seal(r, err) : 0;
	return rc != 0 ? rc : r->fn(r->ud, l->record, l->kind, l->position, err);
}

int kura_store_each_evidence_of(kura_store *st, const char *subject, kura_store_link_fn fn, void *ud, kura_error *err)
{
	struct link_relay r = {.fn = fn, .ud = ud};
	int rc = kura_index_find_range(&r.seal, kura_store_index(st), subject, err);
	if (rc == 0)
		rc = seal_position(&r.seal_pos, st, &r.seal, subject, err);
	if (rc == 1) /* no seal spans it, or it is not one of that seal's subjects */
		rc = 0;
	else if (rc == 0)
		r.have_seal = 1;
	if (rc == 0)
		rc = kura_index_each_link(kura_store_index(st), subject, relay_link, &r, err);
	if (rc == 0 && r.have_seal)
		rc = emit_seal(&r, err);
	return rc;
}

/* Every link: the walk over the links in the index, with each seal's subjects
 * merged in (seals' ranges ascend and never overlap, so their subjects come in
 * ID order). */
struct any_relay {
	kura_store *st;
	kura_store_any_link_fn fn;
	void *ud;
	kura_index_range *ranges;
	size_t nranges, cap, range; /* ranges[range] is being merged */
	kura_subject_list list;     /* its subjects (its own: fn may look other seals up) */
	size_t at;                  /* the next one */
};

static int keep_range(void *ud, const kura_index_range *r, kura_error *err)
{
	struct any_relay *a = ud;
	if (a->nranges == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		kura_index_range *g = realloc(a->ranges, cap * sizeof *g);
		if (!g)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		a->ranges = g;
		a->cap = cap;
	}
	a->ranges[a->nranges++] = *r;
	return 0;
}

/* The next seal subject into id (1: none left). */
static int next_sealed(struct any_relay *a, char id[KURA_ID_LEN + 1], kura_error *err)
{
	while (!a->list.ids || a->at == a->list.n) {
		if (a->list.ids)
			a->range++;
		free(a->list.ids);
		a->list.ids = NULL;
		a->at = 0;
		if (a->range == a->nranges)
			return 1;
		int rc = subjects_load(&a->list, a->st, &a->ranges[a->range], err);
		if (rc != 0)
			return rc;
	}
	memcpy(id, a->list.ids + a->at * KURA_ID_LEN, KURA_ID_LEN);
	id[KURA_ID_LEN] = '\0';
	return 0;
}

/* Emits the seal links that come before (subject, record); all of them when subject is NULL. */
static int emit_sealed_before(struct any_relay *a, const char *subject, const char *record, kura_error *err)
{
	char id[KURA_ID_LEN + 1];
	int rc;
	while ((rc = next_sealed(a, id, err)) == 0) {
		const kura_index_range *r = &a->ranges[a->range];
		int c = subject ? strcmp(id, subject) : -1;
		if (c > 0 || (c == 0 && strcmp(r->record, record) > 0))
			return 0;
		if ((rc = a->fn(a->ud, id, r->record, r->kind, (uint32_t)a->at, err)) != 0)
			return rc;
		a->at++;
	}
	return rc == 1 ? 0 : rc;
}

static int relay_any(void *ud, const char *subject, const kura_index_link *l, kura_error *err)
{
	struct any_relay *a = ud;
	int rc = emit_sealed_before(a, subject, l->record, err);
	return rc != 0 ? rc : a->fn(a->ud, subject, l->record, l->kind, l->position, err);
}

int kura_store_each_link(kura_store *st, kura_store_any_link_fn fn, void *ud, kura_error *err)
{
	struct any_relay a = {.st = st, .fn = fn, .ud = ud};
	int rc = kura_index_each_range(kura_store_index(st), keep_range, &a, err);
	if (rc == 0)
		rc = kura_index_each_link_all(kura_store_index(st), relay_any, &a, err);
	if (rc == 0)
		rc = emit_sealed_before(&a, NULL, NULL, err);
	free(a.ranges);
	free(a.list.ids);
	return rc;
}
