/* Reading a store's objects: their descriptions from the index, their bytes
 * and digests from the segments (through one blob reader per store or per
 * kura_store_reader), and their records checked against the index's copy. The
 * store's lifecycle (init, open, commit, close) is store.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/blob.h"
#include "archive/store_impl.h"
#include "kura/clock.h"
#include "common/fsutil.h"
#include "common/safefs.h"
#include "common/hash.h"
#include "common/hex.h"
#include "common/id.h"

void kura_store_describe(json_t *j, const kura_index_object *o, kura_index *ix)
{
	unsigned char sha[32];
	const char *hex = json_string_value(json_object_get(j, "sha256"));
	kura_index_blob blob;
	if (hex && kura_hex_decode(sha, 32, hex) == 0 && kura_index_get_blob(ix, sha, &blob, NULL) == 0)
		json_object_set_new(j, "stored", json_integer((json_int_t)blob.stored));
	json_object_set_new(j, "segment", json_integer(o->segno));
	json_object_set_new(j, "offset", json_integer((json_int_t)o->offset));
}

static json_t *object_json(const kura_index_object *o, kura_index *ix, kura_error *err)
{
	json_error_t jerr;
	json_t *j = json_loadb(o->json, o->json_len, 0, &jerr);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		kura_error_set(err, KURA_EIO, "an object description in the index is damaged; run kura reindex");
		return NULL;
	}
	kura_store_describe(j, o, ix);
	return j;
}

uint64_t kura_store_untaken(kura_store *st)
{
	kura_backend *be = kura_store_backend(st);
	uint32_t segno, *segs = NULL;
	uint64_t end, size, bytes = 0;
	size_t n = 0;
	if (kura_store_writer(st) || kura_store_is_view(st) ||
	    kura_index_get_state(kura_store_index(st), &segno, &end, NULL) != 0 || kura_segment_list(&segs, &n, be, NULL) != 0)
		return 0; /* a writer (or one of its views) took everything up at its open */
	for (size_t i = 0; i < n; i++)
		if (segs[i] >= segno && be->stat(be, segs[i], &size) == 0)
			bytes += segs[i] > segno ? size : size > end ? size - end : 0;
	free(segs);
	return bytes;
}

/* A reader's "not found" is not the last word when the segments hold records
 * its index has not taken up (archive/store.c, INVARIANTS): it says so. */
static void untaken_hint(kura_store *st, kura_error *err)
{
	uint64_t bytes = kura_store_untaken(st);
	if (!bytes || !err)
		return;
	size_t n = strlen(err->message);
	snprintf(err->message + n, sizeof err->message - n, "; but the store's segments hold %llu bytes past what its "
		 "index has taken up: a write under way, or records a crash or power loss left; if no kura command is "
		 "writing to the store, the next one that does (kura serve, or kura reindex %s) takes them up; ask again "
		 "then", (unsigned long long)bytes, kura_store_path(st));
}

/* The index's entry of the object id (any spelling kura_id_parse takes). */
static int get_object(kura_index_object *o, kura_store *st, const char *id, kura_error *err)
{
	char canon[KURA_ID_LEN + 1];
	int rc = kura_id_parse(canon, id, err);
	if (rc == 0 && (rc = kura_index_get_object(kura_store_index(st), canon, o, err)) == KURA_ENOTFOUND)
		untaken_hint(st, err);
	return rc;
}

int kura_store_object(json_t **out, kura_store *st, const char *id, kura_error *err)
{
	kura_index_object o = {0};
	int rc = get_object(&o, st, id, err);
	if (rc != 0)
		return rc;
	*out = object_json(&o, kura_store_index(st), err);
	kura_index_object_clear(&o);
	return *out ? 0 : KURA_EIO;
}

struct each_ctx {
	kura_store *st;
	kura_store_object_fn fn;
	void *ud;
	int all; /* kura's own objects too (the audit trail's checkpoints) */
};

static int each_step(void *ud, const char *id, const kura_index_object *o, kura_error *err)
{
	(void)id;
	struct each_ctx *c = ud;
	json_t *j = object_json(o, kura_store_index(c->st), err);
	if (!j)
		return KURA_EIO;
	int rc = c->all || !json_object_get(j, "system") ? c->fn(c->ud, j, err) : 0;
	json_decref(j);
	return rc;
}

int kura_store_each_object(kura_store *st, kura_store_object_fn fn, void *ud, kura_error *err)
{
	struct each_ctx c = {st, fn, ud, 0};
	return kura_index_each_object(kura_store_index(st), each_step, &c, err);
}

int kura_store_each_object_all(kura_store *st, kura_store_object_fn fn, void *ud, kura_error *err)
{
	struct each_ctx c = {st, fn, ud, 1};
	return kura_index_each_object(kura_store_index(st), each_step, &c, err);
}

struct described_ctx {
	kura_store_described_fn fn;
	void *ud;
};

static int described_step(void *ud, const char *id, const kura_index_object *o, kura_error *err)
{
	struct described_ctx *c = ud;
	return c->fn(c->ud, id, o->json, o->json_len, err);
}

int kura_store_each_description(kura_store *st, kura_store_described_fn fn, void *ud, kura_error *err)
{
	struct described_ctx c = {fn, ud};
	return kura_index_each_object(kura_store_index(st), described_step, &c, err);
}

/* The object's description, parsed (the caller's). */
static int load_object(json_t **out, kura_store *st, const char *id, kura_error *err)
{
	kura_index_object o = {0};
	int rc = get_object(&o, st, id, err);
	if (rc != 0)
		return rc;
	*out = json_loadb(o.json, o.json_len, 0, NULL);
	kura_index_object_clear(&o);
	return *out ? 0 : kura_error_set(err, KURA_EIO, "object %s has an unreadable description; run kura reindex", id);
}

int kura_store_disposed(kura_store *st, const char *id, char by[KURA_ID_LEN + 1], kura_error *err)
{
	char canon[KURA_ID_LEN + 1];
	int rc = kura_id_parse(canon, id, err);
	if (rc == 0)
		rc = kura_index_get_disposed(kura_store_index(st), canon, by, err);
	return rc == KURA_ENOTFOUND ? 0 : rc == 0 ? 1 : rc;
}

/* What the disposal of object id was, from the disposal's audit record: when,
 * under which rule and by whose approval, and the sentence kura get and show
 * say. *out NULL when it was not disposed of. */
static int disposal_of(json_t **out, kura_store *st, const char *id, kura_error *err)
{
	char by[KURA_ID_LEN + 1], canon[KURA_ID_LEN + 1], msg[768];
	*out = NULL;
	if (kura_id_parse(canon, id, NULL) == 0)
		id = canon; /* as the audit record has it */
	int rc = kura_store_disposed(st, id, by, err);
	if (rc != 1)
		return rc;
	json_t *a = NULL, *v, *rule = NULL;
	size_t i;
	kura_store_audit_get(&a, st, by, NULL);
	json_array_foreach(json_object_get(a, "disposed"), i, v)
		if (json_is_string(json_object_get(v, "id")) && strcmp(json_string_value(json_object_get(v, "id")), id) == 0)
			rule = json_object_get(v, "rule");
	const char *when = json_string_value(json_object_get(a, "time")), *who = json_string_value(json_object_get(a, "actor"));
	const char *why = json_is_string(rule) ? json_string_value(rule) : json_string_value(json_object_get(rule, "class"));
	if (when && who && why)
		snprintf(msg, sizeof msg, "object %s was disposed of (audit record %s) on %s under %s, approved by %s: its "
					  "content is no longer kept; its object record and evidence stay (kura evidence)",
			 id, by, when, why, who);
	else
		snprintf(msg, sizeof msg, "object %s was disposed of (audit record %s): its content is no longer kept; its "
					  "object record and evidence stay (kura evidence)", id, by);
	*out = json_pack("{s:s, s:s?, s:s?, s:s?, s:s}", "audit_record", by, "time", when, "rule", why, "approved_by", who,
			 "message", msg);
	json_decref(a);
	return *out ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
}

/* KURA_ENOTFOUND, saying so, when object id was disposed of: its content is
 * not to be read (compaction removes it). */
static int refuse_disposed(kura_store *st, const char *id, kura_error *err)
{
	json_t *d = NULL;
	int rc = disposal_of(&d, st, id, err);
	if (rc == 0 && d)
		rc = kura_error_set(err, KURA_ENOTFOUND, "%s", json_string_value(json_object_get(d, "message")));
	json_decref(d);
	return rc;
}

int kura_store_disposal_report(json_t *report, kura_store *st, const char *id, kura_error *err)
{
	json_t *d = NULL;
	int rc = disposal_of(&d, st, id, err);
	if (rc != 0 || !d)
		return rc;
	static const char *const gone[] = {"segment", "offset", "stored"}; /* where the content was */
	for (size_t i = 0; i < sizeof gone / sizeof *gone; i++)
		json_object_del(report, gone[i]);
	return json_object_set_new(report, "disposed", d) == 0 ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
}

/* Streams the content that what (the object's description, or one of its
 * members: the k-th) names, verified; sha (may be NULL) gets its SHA-256. */
static int read_what(kura_store *st, kura_blob_reader **reader, const char *id, json_t *what, size_t k,
		     kura_store_bytes_fn fn, void *ud, unsigned char *sha_out, kura_error *err)
{
	unsigned char sha[32];
	const char *hex = json_string_value(json_object_get(what, "sha256"));
	kura_index_blob blob;
	int rc = refuse_disposed(st, id, err);
	if (rc != 0)
		return rc;
	if (!what)
		rc = kura_error_set(err, KURA_ENOTFOUND, "object %s has no group member %zu", id, k);
	else if (!hex || kura_hex_decode(sha, 32, hex) != 0)
		rc = kura_error_set(err, KURA_EIO, "object %s has no valid sha256 in the index; run kura reindex", id);
	else if ((rc = kura_index_get_blob(kura_store_index(st), sha, &blob, err)) == KURA_ENOTFOUND)
		rc = kura_error_set(err, KURA_EVERIFY, "the content of object %s is missing from the store", id);
	if (rc == 0 && !*reader)
		rc = kura_blob_reader_new(reader, kura_store_backend(st), err);
	if (rc == 0)
		rc = kura_blob_reader_read(*reader, blob.segno, blob.offset, sha, fn, ud, err);
	if (rc == 0 && sha_out)
		memcpy(sha_out, sha, 32);
	if (rc == KURA_EVERIFY)
		kura_error_wrap(err, k ? "object %s is damaged (its %s)" : "object %s is damaged", id,
				json_string_value(json_object_get(what, "role")));
	return rc;
}

static json_t *member_of(json_t *object, size_t k)
{
	return k == 0 ? object : json_array_get(json_object_get(object, "members"), k - 1);
}

int kura_store_read_member(kura_store *st, const char *id, size_t k, kura_store_bytes_fn fn, void *ud,
			   kura_error *err)
{
	json_t *j = NULL;
	int rc = load_object(&j, st, id, err);
	if (rc == 0)
		rc = read_what(st, kura_store_blob_reader(st), id, member_of(j, k), k, fn, ud, NULL, err);
	json_decref(j);
	return rc;
}

int kura_store_read(kura_store *st, const char *id, kura_store_bytes_fn fn, void *ud, kura_error *err)
{
	return kura_store_read_member(st, id, 0, fn, ud, err);
}

static int digest_into(void *ud, const unsigned char *p, size_t n, kura_error *err)
{
	if (EVP_DigestUpdate(ud, p, n) != 1)
		return kura_error_set(err, KURA_EINTERNAL, "digest update failed");
	return 0;
}

static int digest_what(unsigned char *out, kura_store *st, kura_blob_reader **reader, const char *id, json_t *what,
		       size_t k, const EVP_MD *md, kura_error *err)
{
	/* the read checks the bytes against their SHA-256: under that algorithm,
	 * hashing them once more would give what the check compared */
	if (EVP_MD_get_type(md) == NID_sha256)
		return read_what(st, reader, id, what, k, NULL, NULL, out, err);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = ctx && EVP_DigestInit_ex(ctx, md, NULL) == 1 ? 0 : kura_error_set(err, KURA_EINTERNAL, "digest init failed");
	if (rc == 0)
		rc = read_what(st, reader, id, what, k, digest_into, ctx, NULL, err);
	if (rc == 0 && EVP_DigestFinal_ex(ctx, out, NULL) != 1)
		rc = kura_error_set(err, KURA_EINTERNAL, "digest final failed");
	EVP_MD_CTX_free(ctx);
	return rc;
}

int kura_store_digest_member(unsigned char *out, kura_store *st, const char *id, size_t k, const EVP_MD *md,
			     kura_error *err)
{
	json_t *j = NULL;
	int rc = load_object(&j, st, id, err);
	if (rc == 0)
		rc = digest_what(out, st, kura_store_blob_reader(st), id, member_of(j, k), k, md, err);
	json_decref(j);
	return rc;
}

static int group_digests(unsigned char *out, size_t *count, size_t max, kura_store *st, kura_blob_reader **reader,
			 json_t *object, const EVP_MD *md, int reread, kura_error *err)
{
	const char *id = json_string_value(json_object_get(object, "id"));
	size_t n = 1 + json_array_size(json_object_get(object, "members")), hlen = (size_t)EVP_MD_get_size(md);
	const char *name = kura_hash_name_by_nid(EVP_MD_get_type(md));
	int rc = 0;
	*count = n;
	if (!id)
		return kura_error_set(err, KURA_EIO, "an object description in the index has no id; run kura reindex");
	if (n > max)
		return kura_error_set(err, KURA_EVERIFY, "object %s names %zu group members; at most %zu are possible", id,
				      n - 1, max - 1);
	for (size_t k = 0; rc == 0 && k < n; k++) {
		json_t *what = member_of(object, k);
		const char *hex = json_string_value(json_object_get(json_object_get(what, "digests"), name));
		if (reread || !hex || kura_hex_decode(out + k * hlen, hlen, hex) != 0)
			rc = digest_what(out + k * hlen, st, reader, id, what, k, md, err);
	}
	return rc;
}

int kura_store_digest_group(unsigned char *out, size_t *count, size_t max, kura_store *st, const char *id,
			    const EVP_MD *md, int reread, kura_error *err)
{
	json_t *j = NULL;
	int rc = load_object(&j, st, id, err);
	*count = 0;
	if (rc == 0)
		rc = group_digests(out, count, max, st, kura_store_blob_reader(st), j, md, reread, err);
	json_decref(j);
	return rc;
}

struct kura_store_reader {
	kura_store *st;
	kura_blob_reader *blob; /* made by the first read */
};

int kura_store_reader_new(kura_store_reader **out, kura_store *st, kura_error *err)
{
	if (!(*out = calloc(1, sizeof **out)))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	(*out)->st = st;
	return 0;
}

void kura_store_reader_free(kura_store_reader *r)
{
	if (!r)
		return;
	kura_blob_reader_free(r->blob);
	free(r);
}

int kura_store_reader_digests(unsigned char *out, size_t *count, size_t max, kura_store_reader *r, json_t *object,
			      const EVP_MD *md, kura_error *err)
{
	return group_digests(out, count, max, r->st, &r->blob, object, md, 1, err);
}

/* The object's record in its segment, checked against the index's copy. */
static int check_record(kura_store *st, kura_blob_reader **reader, const char *id, kura_error *err)
{
	char canon[KURA_ID_LEN + 1];
	kura_index_object o = {0};
	int rc = kura_id_parse(canon, id, err);
	if (rc == 0)
		rc = kura_index_get_object(kura_store_index(st), canon, &o, err);
	if (rc == 0 && !*reader)
		rc = kura_blob_reader_new(reader, kura_store_backend(st), err);
	if (rc == 0)
		rc = kura_blob_reader_check_record(*reader, o.segno, o.offset, KURA_RECORD_OBJECT, o.json, o.json_len, err);
	kura_index_object_clear(&o);
	if (rc == KURA_EVERIFY)
		kura_error_wrap(err, "the object record of %s is damaged (run kura scrub; restore the segment from a copy)",
				canon);
	return rc;
}

int kura_store_check_record(kura_store *st, const char *id, kura_error *err)
{
	return check_record(st, kura_store_blob_reader(st), id, err);
}

int kura_store_reader_check_record(kura_store_reader *r, const char *id, kura_error *err)
{
	return check_record(r->st, &r->blob, id, err);
}
