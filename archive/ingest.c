/* Ingest: documents into blob and object records, committed in batches.
 *
 * INVARIANTS
 * - done() is called for an object only after kura_store_commit() returned, i.e.
 *   after the segment's fdatasync (archive/store.c: the index may lag it after a
 *   power loss, and is rolled forward): a printed ID survives kill -9 and power loss.
 * - Content is stored once: a document whose SHA-256 is in the index or earlier
 *   in this batch gets only an object record. Small documents are hashed before
 *   anything is written; a large one is streamed into a blob record at once and
 *   the record is cut off again if its content turns out to be known.
 * - Memory is bounded by one read buffer and the zstd window, whatever the size
 *   of the document.
 * - An adopted object (kura_ingest_adopt) and its evidence record are in the
 *   same commit, and the record follows the object record directly; the object's
 *   JSON names the record ("adopted_with"), and the index is rebuilt from the
 *   segments with such an object only when that record follows it
 *   (archive/rebuild.c): a crash keeps both or neither. A failure to append the
 *   record drops everything not committed yet (none of it was reported done).
 * - A held ingest (kura_ingest_hold) commits only when its caller does: what it
 *   added is durable all together, or dropped all together.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive/blob.h"
#include "archive/evidence_frame.h"
#include "archive/ingest_impl.h"
#include "archive/prefetch.h"
#include "archive/store_impl.h"
#include "kura/clock.h"
#include "common/escape.h"
#include "common/fsutil.h"
#include "common/hash.h"
#include "common/hex.h"
#include "common/id.h"
#include "kura/ingest.h"

#define READ_CHUNK (1u << 20)
#define BATCH_OBJECTS 1024
#define BATCH_BLOBS (BATCH_OBJECTS * (1 + KURA_INGEST_MAX_MEMBERS))
#define BATCH_BYTES (64u << 20)
#define BATCH_MS 200 /* a slow trickle is reported promptly: a batch this old commits */
#define SYNC_SHARE 4 /* once also this many times older than the last commit took */

static int64_t ms_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

int kura_ingest_new(kura_ingest **out, kura_store *st, kura_ingest_done_fn done, void *ud, kura_error *err)
{
	if (!kura_store_writer(st))
		return kura_error_set(err, KURA_EINTERNAL, "ingest needs a store opened for writing");
	kura_ingest *in = calloc(1, sizeof *in);
	if (!in)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	in->st = st;
	in->w = kura_store_writer(st);
	in->done = done;
	in->ud = ud;
	in->pending = malloc(BATCH_OBJECTS * sizeof *in->pending);
	in->blobs = malloc(BATCH_BLOBS * sizeof *in->blobs);
	in->cap_pending = BATCH_OBJECTS;
	in->origin_ms = -1;
	in->cap_blobs = BATCH_BLOBS;
	in->slots = calloc(2 * BATCH_BLOBS, sizeof *in->slots);
	in->buf = malloc(READ_CHUNK);
	int rc = in->buf && in->pending && in->blobs && in->slots ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = kura_blob_writer_new(&in->bw, kura_store_zstd_level(st), err);
	if (rc == 0)
		rc = kura_hasher_new(&in->hasher, kura_store_hash(st), err);
	if (rc == 0)
		rc = kura_index_batch_new(&in->batch, err);
	if (rc == 0 && !(in->versions = json_array()))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc != 0) {
		kura_ingest_free(in);
		return rc;
	}
	*out = in;
	return 0;
}

static void drop_pending(kura_ingest *in)
{
	for (size_t i = 0; i < in->npending; i++)
		free(in->pending[i].path);
	in->npending = 0;
	in->audited = 0;
	in->records = 0;
	in->nblobs = 0;
	if (in->nslots_used)
		memset(in->slots, 0, 2 * in->cap_blobs * sizeof *in->slots);
	in->nslots_used = 0;
	in->pending_bytes = 0;
	json_array_clear(in->versions);
	kura_index_batch_clear(in->batch);
}

void kura_ingest_drop(kura_ingest *in)
{
	if (in->npending || in->records)
		kura_store_rollback(in->st, NULL);
	drop_pending(in);
}

void kura_ingest_free(kura_ingest *in)
{
	if (!in)
		return;
	kura_ingest_drop(in);
	kura_blob_writer_free(in->bw);
	kura_hasher_free(in->hasher);
	kura_index_batch_free(in->batch);
	json_decref(in->fields);
	json_decref(in->audit_fields);
	json_decref(in->versions);
	free(in->pending);
	free(in->blobs);
	free(in->slots);
	free(in->buf);
	free(in);
}

void kura_ingest_hold(kura_ingest *in) { in->held = 1; }

/* Notes blobs[i] in the first free slot from its digest's first bytes (linear probing). */
static void slot_put(kura_ingest *in, size_t i)
{
	uint64_t h;
	size_t mask = 2 * in->cap_blobs - 1;
	memcpy(&h, in->blobs[i].sha256, sizeof h);
	size_t s = (size_t)h & mask;
	while (in->slots[s])
		s = (s + 1) & mask;
	in->slots[s] = i + 1;
	in->nslots_used++;
}

static void slots_rebuild(kura_ingest *in)
{
	memset(in->slots, 0, 2 * in->cap_blobs * sizeof *in->slots);
	in->nslots_used = 0;
	for (size_t i = 0; i < in->nblobs; i++)
		slot_put(in, i);
}

/* Room for one more object and its blobs (only a held ingest needs more than a batch's). */
static int reserve(kura_ingest *in, kura_error *err)
{
	if (in->npending == in->cap_pending) {
		struct done_entry *p = realloc(in->pending, 2 * in->cap_pending * sizeof *p);
		if (!p)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		in->pending = p;
		in->cap_pending *= 2;
	}
	if (in->nblobs + 1 + KURA_INGEST_MAX_MEMBERS > in->cap_blobs) {
		struct new_blob *b = realloc(in->blobs, 2 * in->cap_blobs * sizeof *b);
		size_t *slots = b ? malloc(4 * in->cap_blobs * sizeof *slots) : NULL;
		if (b)
			in->blobs = b;
		if (!slots)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		free(in->slots);
		in->slots = slots;
		in->cap_blobs *= 2;
		slots_rebuild(in);
	} else if (in->nslots_used + 1 + KURA_INGEST_MAX_MEMBERS > in->cap_blobs) {
		slots_rebuild(in); /* what dropped documents left */
	}
	return 0;
}

void kura_ingest_set_fields(kura_ingest *in, json_t *fields)
{
	json_decref(in->fields);
	in->fields = json_incref(fields);
}

void kura_ingest_set_origin(kura_ingest *in, const char *id, int64_t ingested_ms)
{
	snprintf(in->origin_id, sizeof in->origin_id, "%s", id ? id : "");
	in->origin_ms = ingested_ms;
}

/* The next object's ID and ingest time: new ones, or what kura_ingest_set_origin gave (once). */
static int next_identity(kura_ingest *in, char id[KURA_ID_LEN + 1], int64_t *now, kura_error *err)
{
	int rc = kura_clock_now(now, err);
	if (rc == 0 && in->origin_id[0])
		kura_id_floor(memcpy(id, in->origin_id, KURA_ID_LEN + 1)); /* IDs made later still sort after it */
	else if (rc == 0)
		rc = kura_id_new(id, *now, err);
	*now = in->origin_ms >= 0 ? in->origin_ms : *now;
	in->origin_id[0] = '\0';
	in->origin_ms = -1;
	return rc;
}

void kura_ingest_set_audit(kura_ingest *in, const char *action, json_t *fields)
{
	in->action = action;
	json_decref(in->audit_fields);
	in->audit_fields = json_incref(fields);
}

/* The commit's audit record: the objects it made (since the last such record),
 * the versions among them. */
static int append_audit(kura_ingest *in, kura_error *err)
{
	json_t *ids = json_array(), *f = ids ? json_pack("{s:o}", "objects", ids) : NULL;
	for (size_t i = in->audited; f && i < in->npending; i++)
		if (json_array_append_new(ids, json_string(in->pending[i].id)) != 0)
			json_decref(f), f = NULL;
	if (f && json_array_size(in->versions))
		json_object_set(f, "versions", in->versions);
	if (f && in->audit_fields)
		json_object_update_missing(f, in->audit_fields);
	char id[KURA_ID_LEN + 1];
	int rc = f ? kura_audit_append(in->st, in->batch, in->action ? in->action : "ingest", f, id, err)
		   : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	json_decref(f);
	if (rc == 0) {
		in->audited = in->npending;
		json_array_clear(in->versions);
	}
	return rc;
}

int kura_ingest_audit(kura_ingest *in, kura_error *err)
{
	return in->audited < in->npending ? append_audit(in, err) : 0;
}

int kura_ingest_add_audit(kura_ingest *in, const char *action, json_t *fields, kura_error *err)
{
	char id[KURA_ID_LEN + 1];
	int rc = kura_audit_append(in->st, in->batch, action, fields, id, err);
	if (rc == 0)
		in->records++;
	return rc;
}

size_t kura_ingest_pending(const kura_ingest *in) { return in->npending; }
const char *kura_ingest_pending_id(const kura_ingest *in, size_t i) { return in->pending[i].id; }

int kura_ingest_commit(kura_ingest *in, kura_error *err)
{
	if (in->npending == 0 && in->records == 0)
		return 0;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int rc = kura_ingest_audit(in, err);
	if (rc == 0)
		rc = kura_store_commit(in->st, in->batch, err);
	in->last_commit_ms = ms_since(&start);
	if (rc != 0) {
		kura_store_rollback(in->st, NULL);
		drop_pending(in);
		return rc;
	}
	for (size_t i = 0; i < in->npending; i++)
		if (in->done)
			in->done(in->ud, in->pending[i].id, in->pending[i].sha256_hex, in->pending[i].path);
	drop_pending(in);
	return 0;
}

/* Where the content with this digest is stored already, if it is. */
static int known_blob(kura_ingest *in, const unsigned char sha[32], kura_index_blob *loc, kura_error *err)
{
	uint64_t h;
	size_t mask = 2 * in->cap_blobs - 1;
	memcpy(&h, sha, sizeof h);
	for (size_t s = (size_t)h & mask; in->slots[s]; s = (s + 1) & mask) {
		size_t i = in->slots[s] - 1;
		if (i < in->nblobs && memcmp(in->blobs[i].sha256, sha, 32) == 0) {
			*loc = in->blobs[i].loc;
			return 1;
		}
	}
	int rc = kura_index_get_blob(kura_store_index(in->st), sha, loc, err);
	if (rc == KURA_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	/* content is shared only with a copy that is still good: re-ingesting the
	 * original of a damaged object stores it afresh (and heals the index) */
	kura_error why;
	rc = kura_blob_read(kura_store_backend(in->st), loc->segno, loc->offset, sha, NULL, NULL, &why);
	if (rc == KURA_EVERIFY)
		return 0;
	if (rc != 0) {
		if (err)
			*err = why;
		return rc;
	}
	return 1;
}

/* Where content comes from: a file descriptor, bytes in memory, or a document
 * a prefetch worker read, hashed and packed already. */
struct source {
	int fd;
	const unsigned char *mem;
	size_t left;
	const kura_prefetched *packed;
};

static int read_chunk(struct source *src, unsigned char *buf, size_t *got, const char *path, kura_error *err)
{
	if (src->mem) {
		*got = src->left < READ_CHUNK ? src->left : READ_CHUNK;
		memcpy(buf, src->mem, *got);
		src->mem += *got;
		src->left -= *got;
		return 0;
	}
	if (kura_fs_read_full(src->fd, buf, READ_CHUNK, got) != 0)
		return kura_error_sys(err, KURA_EIO, "reading %s", path);
	return 0;
}

/* Notes a blob record written from start on as new content of this batch. */
static void note_blob(kura_ingest *in, const unsigned char sha[32], uint64_t start, uint64_t size)
{
	struct new_blob *nb = &in->blobs[in->nblobs];
	memcpy(nb->sha256, sha, 32);
	slot_put(in, in->nblobs++);
	nb->loc.segno = kura_segment_writer_segno(in->w);
	nb->loc.offset = start;
	nb->loc.size = size;
	nb->loc.stored = kura_segment_writer_tell(in->w) - start - KURA_RECORD_OVERHEAD;
	kura_index_batch_put_blob(in->batch, sha, &nb->loc);
	in->pending_bytes += nb->loc.stored;
}

/* store_content for a packed document: its blob body is written as it is. */
static int store_packed(kura_ingest *in, const kura_prefetched *d, kura_error *err)
{
	kura_index_blob loc;
	int rc = known_blob(in, d->sha256, &loc, err);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	uint64_t start = kura_segment_writer_tell(in->w);
	if ((rc = kura_blob_put(in->w, d->body, d->len, d->crc, err)) != 0)
		return rc;
	note_blob(in, d->sha256, start, d->size);
	return 0;
}

/* Stores the document's content (unless known) and sets its digests and size. */
static int store_content(kura_ingest *in, struct source *src, const char *path, unsigned char sha[32],
			 unsigned char extra[KURA_HASH_MAX], size_t *extra_len, uint64_t *size, kura_error *err)
{
	size_t got;
	int rc = kura_hasher_reset(in->hasher, err);
	if (rc == 0)
		rc = read_chunk(src, in->buf, &got, path, err);
	if (rc != 0)
		return rc;
	kura_index_blob loc;
	uint64_t start = kura_segment_writer_tell(in->w);
	*size = got;
	if (got < READ_CHUNK) { /* the whole document is in memory: hash before writing */
		if ((rc = kura_hasher_update(in->hasher, in->buf, got, err)) != 0 ||
		    (rc = kura_hasher_final(in->hasher, sha, extra, extra_len, err)) != 0)
			return rc;
		if ((rc = known_blob(in, sha, &loc, err)) != 0)
			return rc < 0 ? rc : 0;
		if ((rc = kura_blob_begin(in->bw, in->w, err)) != 0 ||
		    (rc = kura_blob_update(in->bw, in->buf, got, err)) != 0)
			return rc;
	} else {
		if ((rc = kura_blob_begin(in->bw, in->w, err)) != 0)
			return rc;
		while (got > 0) {
			if ((rc = kura_hasher_update(in->hasher, in->buf, got, err)) != 0 ||
			    (rc = kura_blob_update(in->bw, in->buf, got, err)) != 0 ||
			    (rc = read_chunk(src, in->buf, &got, path, err)) != 0)
				return rc;
			*size += got;
		}
		if ((rc = kura_hasher_final(in->hasher, sha, extra, extra_len, err)) != 0)
			return rc;
		if ((rc = known_blob(in, sha, &loc, err)) != 0) {
			if (rc < 0)
				return rc;
			return kura_segment_writer_truncate(in->w, start, err);
		}
	}
	if ((rc = kura_blob_finish(in->bw, *size, sha, err)) != 0)
		return rc;
	note_blob(in, sha, start, *size);
	return 0;
}

static json_t *digests_json(const char *sha_hex, const char *extra_name, const char *extra_hex)
{
	json_t *digests = json_pack("{s:s}", "sha256", sha_hex);
	if (digests && extra_name)
		json_object_set_new(digests, extra_name, json_string(extra_hex));
	return digests;
}

static json_t *object_record(kura_ingest *in, const char *id, const char *name, const char *path, uint64_t size,
			     int64_t now, const char *sha_hex, json_t *digests, const kura_meta *meta, size_t nmeta,
			     const char *adopted_with, kura_error *err)
{
	char when[KURA_TIME_BUFSZ];
	kura_time_format(when, now);
	json_t *m = json_object();
	for (size_t i = 0; m && i < nmeta; i++) { /* keys in NFC: one key however it was typed */
		char *key = NULL;
		int rc = kura_meta_key_nfc(&key, meta[i].key, err);
		if (rc == 0 && json_object_get(m, key))
			rc = kura_error_set(err, KURA_EINPUT, "metadata key '%s' given twice", key);
		if (rc == 0)
			json_object_set_new(m, key, json_string(meta[i].value));
		free(key);
		if (rc != 0) {
			json_decref(m);
			json_decref(digests);
			return NULL;
		}
	}
	/* a new version keeps its record's metadata (fields "meta") where meta does not say otherwise */
	if (m && in->fields && json_object_update_missing(m, json_object_get(in->fields, "meta")) != 0 &&
	    json_is_object(json_object_get(in->fields, "meta"))) {
		json_decref(m);
		m = NULL;
	}
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:o, s:o}", "id", id, "name", "", "path", "", "size",
			      (json_int_t)size, "ingested", when, "sha256", sha_hex, "digests", digests, "meta", m);
	/* names are kept as given; one that is not UTF-8 also as its bytes (common/escape.h) */
	if (o && (kura_json_set_name(o, "name", name) != 0 || kura_json_set_name(o, "path", path) != 0)) {
		json_decref(o);
		o = NULL;
	}
	if (o && adopted_with)
		json_object_set_new(o, "adopted_with", json_string(adopted_with));
	json_t *actor = in->fields ? json_object_get(in->fields, "actor") : NULL; /* an import keeps the one it had */
	if (o && (json_object_set_new(o, "actor", actor ? json_incref(actor) : json_string(kura_store_actor(in->st))) != 0 ||
		  (in->fields && json_object_update_missing(o, in->fields) != 0))) {
		json_decref(o);
		o = NULL;
	}
	if (!o) {
		kura_error_set(err, KURA_EINTERNAL, "out of memory");
		return NULL;
	}
	/* typed fields: checked for what kura makes, kept as they were for what it adopts */
	if (!adopted_with && kura_fields_check_json(kura_store_fields(in->st), json_string_value(json_object_get(o, "class")),
						    json_object_get(o, "meta"), err) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Stores content from src; *desc (the caller's) gets its sha256, digests and size. */
static int add_content(json_t **desc, char sha_hex[65], kura_ingest *in, struct source *src, const char *path,
		       kura_error *err)
{
	unsigned char sha[32], extra[KURA_HASH_MAX];
	char extra_hex[2 * KURA_HASH_MAX + 1];
	size_t extra_len = 0;
	uint64_t size = 0;
	const kura_prefetched *pk = src->packed;
	int rc = pk ? store_packed(in, pk, err) : store_content(in, src, path, sha, extra, &extra_len, &size, err);
	if (rc != 0)
		return rc;
	if (pk) {
		memcpy(sha, pk->sha256, 32);
		memcpy(extra, pk->extra, pk->extra_len);
		extra_len = pk->extra_len;
		size = pk->size;
	}
	kura_hex_encode(sha_hex, sha, 32);
	kura_hex_encode(extra_hex, extra, extra_len);
	json_t *d = digests_json(sha_hex, extra_len ? kura_hasher_extra_name(in->hasher) : NULL, extra_hex);
	*desc = d ? json_pack("{s:s, s:o, s:I}", "sha256", sha_hex, "digests", d, "size", (json_int_t)size) : NULL;
	return *desc ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
}

/* Appends the object's records (its content, its group members' content, its
 * object record) and index entries to the batch, without committing. */
/* The members of a data object group (signature, validation data) stored as
 * content, each described in list. */
static int add_members(kura_ingest *in, json_t *list, const kura_member *members, size_t n, kura_error *err)
{
	char member_hex[65];
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct source msrc = {-1, members[i].data ? members[i].data : (const unsigned char *)"", members[i].len, NULL};
		json_t *m = NULL;
		if ((rc = add_content(&m, member_hex, in, &msrc, members[i].name, err)) == 0) {
			json_object_set_new(m, "role", json_string(members[i].role));
			kura_json_set_name(m, "name", members[i].name);
			json_array_append_new(list, m);
		}
	}
	return rc;
}

/* The object record appended, its index entries put in the batch and the
 * object remembered for done() after the commit. */
static int append_object(kura_ingest *in, const char *id, const char *sha_hex, const char *path, json_t *object,
			 const char *json, size_t len, const unsigned char *pending, size_t plen, kura_error *err)
{
	kura_record_writer rec;
	uint64_t rec_at = kura_segment_writer_tell(in->w);
	int rc;
	if ((rc = kura_record_begin(in->w, &rec, KURA_RECORD_OBJECT, err)) == 0 &&
	    (rc = kura_record_append(in->w, &rec, json, len, err)) == 0)
		rc = kura_record_finish(in->w, &rec, err);
	if (rc != 0)
		return rc;
	kura_index_object_entry e = {.id = id, .segno = kura_segment_writer_segno(in->w), .offset = rec_at,
				     .json = json, .json_len = len, .digests = pending, .digests_len = plen};
	kura_object_index(in->batch, &e, object, kura_store_fields(in->st));
	struct done_entry *d = &in->pending[in->npending];
	memcpy(d->id, id, sizeof d->id);
	memcpy(d->sha256_hex, sha_hex, sizeof d->sha256_hex);
	if (!(d->path = strdup(path)))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	const char *supersedes = json_string_value(json_object_get(object, "supersedes"));
	if (supersedes &&
	    json_array_append_new(in->versions, json_pack("{s:s, s:s, s:O?}", "id", id, "supersedes", supersedes, "record",
							  json_object_get(object, "record"))) != 0) {
		free(d->path);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	return 0;
}

/* A backend with a largest segment (RADOS objects): when a document whose size
 * is known might not fit in what is left of the segment, what is pending is
 * committed and a new segment started, so that no record has to be split. A
 * held ingest (one commit at its end) cannot; neither can a stream of unknown size. */
static int make_room(kura_ingest *in, const struct source *src, kura_error *err)
{
	uint64_t max = kura_store_backend(in->st)->max_segment_size, tell = kura_segment_writer_tell(in->w), n;
	struct stat sb;
	if (!max || in->held || tell <= KURA_SEGMENT_FILE_HEADER)
		return 0;
	if (src->packed)
		n = src->packed->len;
	else if (src->fd < 0)
		n = src->left;
	else if (fstat(src->fd, &sb) == 0 && S_ISREG(sb.st_mode))
		n = (uint64_t)sb.st_size;
	else
		return 0;
	if (tell + n + n / 128 + (64u << 10) <= max) /* zstd's worst case, with room for the records around it */
		return 0;
	int rc = kura_ingest_commit(in, err);
	return rc ? rc : kura_store_roll(in->st, err);
}

static int add_object(kura_ingest *in, struct source *src, const char *path, const char *name, const kura_meta *meta,
		      size_t nmeta, const kura_member *members, size_t nmembers, json_t *info, const char *adopted_with,
		      char id[KURA_ID_LEN + 1], kura_error *err)
{
	for (size_t i = 0; i < nmeta; i++) {
		int rc = kura_ingest_check_meta(&meta[i], err);
		if (rc != 0)
			return rc;
	}
	if (nmembers > KURA_INGEST_MAX_MEMBERS)
		return kura_error_set(err, KURA_EINPUT, "an object has at most %d group members", KURA_INGEST_MAX_MEMBERS);
	if (reserve(in, err) != 0)
		return KURA_EINTERNAL;
	int rc = make_room(in, src, err);
	if (rc != 0)
		return rc;
	int64_t now;
	char sha_hex[65];
	uint64_t start = kura_segment_writer_tell(in->w);
	size_t blobs_before = in->nblobs;
	json_t *doc = NULL, *record = NULL, *list = nmembers ? json_array() : NULL;
	char *json = NULL;
	unsigned char pending[KURA_PENDING_MAX];
	size_t plen = 0;
	kura_index_batch_mark(in->batch);
	rc = next_identity(in, id, &now, err);
	if (rc == 0)
		rc = add_content(&doc, sha_hex, in, src, path, err);
	if (rc == 0)
		rc = add_members(in, list, members, nmembers, err);
	if (rc == 0) {
		json_t *digests = json_incref(json_object_get(doc, "digests"));
		record = object_record(in, id, name, path, json_integer_value(json_object_get(doc, "size")), now, sha_hex, digests,
				       meta, nmeta, adopted_with, err);
		if (record && list)
			json_object_set(record, "members", list);
		if (record && info)
			json_object_set(record, "signature", info);
		if (!record)
			rc = err->code ? err->code : KURA_EINPUT; /* object_record said why */
		else if (!(json = json_dumps(record, JSON_COMPACT)))
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		else
			plen = kura_pending_digests(pending, record); /* what the seal needs, without parsing JSON */
	}
	json_decref(doc);
	json_decref(list);
	if (rc != 0)
		goto fail;
	size_t len = strlen(json);
	if ((rc = append_object(in, id, sha_hex, path, record, json, len, pending, plen, err)) != 0)
		goto fail;
	json_decref(record);
	free(json);
	kura_index_batch_release(in->batch);
	if (in->npending++ == 0)
		clock_gettime(CLOCK_MONOTONIC, &in->batch_start);
	in->pending_bytes += len;
	return 0;
fail:
	json_decref(record);
	free(json);
	/* Forget this document's records; what the batch held before it stays pending. */
	in->nblobs = blobs_before;
	if (kura_segment_writer_truncate(in->w, start, NULL) != 0 || kura_index_batch_rollback(in->batch, NULL) != 0) {
		kura_store_rollback(in->st, NULL);
		drop_pending(in);
	}
	return rc;
}

static int commit_when_due(kura_ingest *in, kura_error *err);

/* The new version's record: what the content is, copied from the old one. */
static json_t *version_record(kura_ingest *in, const char *of, const char *id, int64_t now, const kura_meta *meta,
			      size_t nmeta, kura_error *err)
{
	static const char *const same[] = {"name", "name_hex", "path", "path_hex", "sha256", "digests", "size", "members",
					   "signature"};
	kura_index_object o = {0};
	int rc = kura_index_get_object(kura_store_index(in->st), of, &o, err);
	json_t *old = rc == 0 ? json_loadb(o.json, o.json_len, 0, NULL) : NULL;
	kura_index_object_clear(&o);
	if (rc != 0)
		return NULL;
	json_t *digests = json_incref(json_object_get(old, "digests"));
	json_t *rec = old ? object_record(in, id, "", "", 0, now, json_string_value(json_object_get(old, "sha256")),
					  digests, meta, nmeta, NULL, err)
			  : NULL;
	for (size_t i = 0; rec && i < sizeof same / sizeof *same; i++)
		if (json_object_get(old, same[i]))
			json_object_set(rec, same[i], json_object_get(old, same[i]));
	if (!old)
		kura_error_set(err, KURA_EVERIFY, "the index entry of object %s is not JSON; run kura reindex", of);
	json_decref(old);
	return rec;
}

int kura_ingest_add_version(kura_ingest *in, const char *of, const kura_meta *meta, size_t nmeta,
			    char id[KURA_ID_LEN + 1], kura_error *err)
{
	for (size_t i = 0; i < nmeta; i++) {
		int rc = kura_ingest_check_meta(&meta[i], err);
		if (rc != 0)
			return rc;
	}
	int64_t now;
	uint64_t start = kura_segment_writer_tell(in->w);
	int rc = reserve(in, err);
	if (rc == 0)
		rc = kura_clock_now(&now, err);
	if (rc == 0)
		rc = kura_id_new(id, now, err);
	json_t *rec = rc == 0 ? version_record(in, of, id, now, meta, nmeta, err) : NULL;
	char *json = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
	if (rc == 0 && !json)
		rc = err->code ? err->code : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	kura_index_batch_mark(in->batch);
	if (rc == 0) {
		unsigned char pending[KURA_PENDING_MAX];
		size_t plen = kura_pending_digests(pending, rec);
		rc = append_object(in, id, json_string_value(json_object_get(rec, "sha256")),
				   json_string_value(json_object_get(rec, "path")), rec, json, strlen(json), pending, plen, err);
		if (rc != 0 && (kura_segment_writer_truncate(in->w, start, NULL) != 0 ||
				kura_index_batch_rollback(in->batch, NULL) != 0)) {
			kura_store_rollback(in->st, NULL);
			drop_pending(in);
		}
	}
	if (rc == 0) {
		kura_index_batch_release(in->batch);
		if (in->npending++ == 0)
			clock_gettime(CLOCK_MONOTONIC, &in->batch_start);
		in->pending_bytes += strlen(json);
	}
	free(json);
	json_decref(rec);
	return rc == 0 ? commit_when_due(in, err) : rc;
}

/* Commits when the batch is full, large or old enough. */
static int commit_when_due(kura_ingest *in, kura_error *err)
{
	if (in->held)
		return 0;
	int64_t age = ms_since(&in->batch_start);
	if (in->npending == BATCH_OBJECTS || in->pending_bytes >= BATCH_BYTES ||
	    (age >= BATCH_MS && age >= SYNC_SHARE * in->last_commit_ms))
		return kura_ingest_commit(in, err);
	return 0;
}

int kura_ingest_add(kura_ingest *in, int fd, const char *path, const char *name, const kura_meta *meta,
		    size_t nmeta, kura_error *err)
{
	return kura_ingest_add_group(in, fd, path, name, meta, nmeta, NULL, 0, NULL, err);
}

int kura_ingest_add_group(kura_ingest *in, int fd, const char *path, const char *name, const kura_meta *meta,
			  size_t nmeta, const kura_member *members, size_t nmembers, json_t *info, kura_error *err)
{
	char id[KURA_ID_LEN + 1];
	struct source src = {fd, NULL, 0, NULL};
	int rc = add_object(in, &src, path, name, meta, nmeta, members, nmembers, info, NULL, id, err);
	return rc ? rc : commit_when_due(in, err);
}

int kura_ingest_add_bytes(kura_ingest *in, const void *data, size_t len, const char *name, char id[KURA_ID_LEN + 1],
			  kura_error *err)
{
	struct source src = {-1, data ? data : (const void *)"", len, NULL};
	int rc = add_object(in, &src, name, name, NULL, 0, NULL, 0, NULL, NULL, id, err);
	return rc ? rc : commit_when_due(in, err);
}

int kura_ingest_add_prefetched(kura_ingest *in, kura_prefetch *pf, size_t i, const char *name, const kura_meta *meta,
			       size_t nmeta, kura_error *err)
{
	const char *path = kura_prefetch_path(pf, i);
	const kura_prefetched *d = kura_prefetch_take(pf, i);
	char id[KURA_ID_LEN + 1];
	struct source src = {-1, NULL, 0, d};
	int rc = 0;
	if (d->state == KURA_PREFETCHED_FAILED) {
		if (err)
			*err = d->err;
		rc = d->err.code;
	} else if (d->state == KURA_PREFETCHED_LARGE) { /* streamed here, as kura_ingest_add does */
		src.packed = NULL;
		if ((src.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			rc = kura_error_sys(err, errno == EIO ? KURA_EIO : KURA_EINPUT, "cannot read %s", path);
	}
	if (rc == 0)
		rc = add_object(in, &src, path, name, meta, nmeta, NULL, 0, NULL, NULL, id, err);
	if (src.fd >= 0)
		close(src.fd);
	kura_prefetch_release(pf, i);
	return rc ? rc : commit_when_due(in, err);
}

int kura_ingest_adopt(kura_ingest *in, int fd, const char *path, const char *name, const kura_meta *meta,
		      size_t nmeta, const kura_member *members, size_t nmembers, json_t *info, char kind,
		      const unsigned char *payload, size_t len, char id[KURA_ID_LEN + 1], kura_error *err)
{
	char record[KURA_ID_LEN + 1];
	int64_t now;
	int rc = kura_clock_now(&now, err);
	if (rc == 0)
		rc = kura_id_new(record, now, err);
	struct source src = {fd, NULL, 0, NULL};
	if (rc == 0)
		rc = add_object(in, &src, path, name, meta, nmeta, members, nmembers, info, record, id, err);
	if (rc != 0)
		return rc;
	/* right after the object: a reader of the segments takes the object only with it */
	rc = kura_evidence_append(in->w, in->batch, kind, 0, record, id, 1, &(kura_store_part){payload, len}, 1, err);
	if (rc == 0) {
		in->pending_bytes += len;
		return commit_when_due(in, err);
	}
	/* the object must not stay without its record: drop all that is not committed */
	kura_store_rollback(in->st, NULL);
	drop_pending(in);
	return rc;
}
