/* kura export: a store's objects with their evidence records, time-stamp tokens
 * and TSA roots as one BagIt package that others check without kura (layout in
 * package.h; tokens, records in parts and INDEX.csv: export_evidence.c).
 * Objects are streamed one at a time from the store into the tar. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "package/bag.h"
#include "common/escape.h"
#include "common/fsutil.h"
#include "common/hash.h"
#include "common/hex.h"
#include "common/id.h"
#include "common/log.h"
#include "common/progress.h"
#include "common/unicode.h"
#include "evidence/record.h"
#include "evidence/tst.h"
#include "kura/clock.h"
#include "kura/records.h"
#include "kura/report.h"
#include "kura/version.h"
#include "proof/chains.h"
#include "package/export_evidence.h"
#include "package/export_paths.h"
#include "package/package.h"
#include "proof/tsa_setup.h"

#define MAX_NAME KURA_EXPORT_NAME_MAX
#define safe_name kura_export_safe_name

/* VERIFY.md and verify.sh, from package/ (built in: kura_embed in CMakeLists.txt) */
extern const char kura_verify_md[], kura_verify_sh[];

struct exporter {
	kura_store *st;
	kura_bag_writer *w;
	kura_evidence_cache *cache;
	kura_progress *progress;
	kura_export_result *res;
	kura_export_evidence *ev; /* tokens once, records in parts, INDEX.csv */
	kura_export_paths *paths; /* where each document goes: data/files/... */
	const char *under;   /* where object folders go: "data", or "data/audit" for the trail's checkpoints */
	char *exported;      /* the IDs exported (for their audit trail), ascending */
	size_t nexported, cap;
	char *records;       /* the records the later versions among them belong to */
	size_t nrecords;
	int reader;          /* the store is a reader (kura attach): the export is recorded in its own log */
	const kura_export_limit *limit; /* NULL, or an account limited to collections (kura/package.h) */
};

static int put_bytes(void *ud, const unsigned char *p, size_t n, kura_error *err)
{
	return kura_bag_write(ud, p, n, err);
}

/* The file name of member k (1: the first of the object's "members") beside the
 * document named name: its own name, made safe and kept apart from the other
 * files of the folder. A name that is the document's or ends in ".ers" gets its
 * role as a prefix; so does one that would still be another file's (the record
 * name.ers, or, for a signature, the validation data's name: a signature file
 * can be called "doc.pdf.validation.der" too), or whose record the document
 * would be taken for (a signature "x" beside the document "x.ers"). Each prefix makes the name longer
 * than the one it was the same as, so a few suffice. */
#define MEMBER_NAME (MAX_NAME + 80)

/* Is file another file of the folder (the record, the validation data), or the
 * file whose record it would be taken for (readers pair FILE with FILE.ers)? */
static int taken(const char *file, const char *name, const char *record, const char *vdata)
{
	size_t n = strlen(file), r = strlen(record);
	int pairs = strncmp(name, file, n) == 0 && (strcmp(name + n, ".ers") == 0 || strcmp(name + n, ".erp") == 0);
	int parts = strncmp(file, record, r - 1) == 0 && strcmp(file + r - 1, "p") == 0; /* name.erp */
	return pairs || parts || strcmp(file, record) == 0 || strcmp(file, vdata) == 0;
}

static void member_name(char *out, json_t *o, size_t k, const char *name)
{
	json_t *members = json_object_get(o, "members"), *m = json_array_get(members, k - 1);
	const char *role = json_string_value(json_object_get(m, "role")) ?: "member";
	char safe[MAX_NAME + 2], record[MAX_NAME + 8], vdata[MEMBER_NAME] = "";
	safe_name(safe, json_string_value(json_object_get(m, "name")) ?: "member");
	snprintf(record, sizeof record, "%s.ers", name);
	for (size_t j = 1; strcmp(role, "validation-data") != 0 && j <= json_array_size(members); j++)
		if (j != k && strcmp(json_string_value(json_object_get(json_array_get(members, j - 1), "role")) ?: "",
				     "validation-data") == 0)
			member_name(vdata, o, j, name);
	size_t n = strlen(safe);
	int clash = strcmp(safe, name) == 0 || (n > 4 && (strcmp(safe + n - 4, ".ers") == 0 || strcmp(safe + n - 4, ".erp") == 0));
	snprintf(out, MEMBER_NAME, "%s%s%s", clash ? role : "", clash ? "-" : "", safe);
	for (int i = 0; i < 4 && taken(out, name, record, vdata); i++) {
		char longer[MEMBER_NAME];
		snprintf(longer, sizeof longer, "%s-%s", role, out);
		memcpy(out, longer, sizeof longer);
	}
}

/* The object's description for object.json: the store's, minus where it lies;
 * "members" names the files of its data object group, document first (doc: its
 * file name; name: the one its record and members are named after, beside
 * them); "file" where the document is (under data/; NULL: beside them). */
static char *describe(json_t *o, const char *doc, const char *name, const char *where, kura_error *err)
{
	json_t *d = json_deep_copy(o);
	char record[MAX_NAME + 8], file[MEMBER_NAME];
	snprintf(record, sizeof record, "%s.ers", name);
	if (d) {
		json_t *members = json_pack("[{s:s, s:s}]", "role", "document", "file", doc), *m;
		size_t k;
		json_array_foreach(json_object_get(o, "members"), k, m) {
			member_name(file, o, k + 1, name);
			json_array_append_new(members, json_pack("{s:O, s:s, s:O, s:O}", "role", json_object_get(m, "role"),
								 "file", file, "sha256", json_object_get(m, "sha256"), "size",
								 json_object_get(m, "size")));
		}
		json_object_del(d, "segment");
		json_object_del(d, "offset");
		json_object_del(d, "stored");
		json_object_set_new(d, "members", members);
		json_object_set_new(d, "record", json_string(record));
		record[strlen(record) - 1] = 'p'; /* the record in parts (docs/FORMAT.md) */
		json_object_set_new(d, "record_parts", json_string(record));
		if (where)
			json_object_set_new(d, "file", json_string(where));
	}
	char *text = d ? json_dumps(d, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	json_decref(d);
	if (!text)
		kura_error_set(err, KURA_EINTERNAL, "out of memory");
	return text;
}

/* Notes an exported object's ID, and the record it belongs to (its first
 * version's ID) when it is a later version: the trail is about both. */
static int note_exported(struct exporter *x, const char *id, json_t *o, kura_error *err)
{
	const char *record = json_string_value(json_object_get(o, "record"));
	if (record && strlen(record) == KURA_ID_LEN) {
		char *v = realloc(x->records, (x->nrecords + 1) * KURA_ID_LEN);
		if (!v)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		x->records = v;
		memcpy(x->records + x->nrecords++ * KURA_ID_LEN, record, KURA_ID_LEN);
	}
	if (x->nexported == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 256;
		char *v = realloc(x->exported, cap * KURA_ID_LEN);
		if (!v)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		x->exported = v;
		x->cap = cap;
	}
	memcpy(x->exported + x->nexported++ * KURA_ID_LEN, id, KURA_ID_LEN);
	return 0;
}

/* The object's bytes, then the rest of its group: a signature and its validation data. */
static int put_content(struct exporter *x, json_t *o, const char *id, const char *dir, const char *name,
		       const char *doc, uint64_t size, kura_error *err)
{
	char path[KURA_EXPORT_FILE_MAX + MEMBER_NAME + 80];
	int rc = kura_bag_begin(x->w, doc, size, err);
	if (rc == 0)
		rc = kura_store_read(x->st, id, put_bytes, x->w, err);
	if (rc == 0)
		rc = kura_bag_end(x->w, err);
	json_t *members = json_object_get(o, "members");
	for (size_t k = 1; rc == 0 && k <= json_array_size(members); k++) {
		char file[MEMBER_NAME];
		member_name(file, o, k, name);
		snprintf(path, sizeof path, "%s/%s", dir, file);
		rc = kura_bag_begin(x->w, path, (uint64_t)json_integer_value(json_object_get(json_array_get(members, k - 1), "size")), err);
		if (rc == 0)
			rc = kura_store_read_member(x->st, id, k, put_bytes, x->w, err);
		if (rc == 0)
			rc = kura_bag_end(x->w, err);
	}
	return rc;
}

static int export_one(struct exporter *x, const char *id, kura_error *err)
{
	json_t *o = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	char name[MAX_NAME + 2], dir[64], path[MEMBER_NAME + 80], *meta = NULL;
	char where[KURA_EXPORT_FILE_MAX] = "files/_", doc[KURA_EXPORT_FILE_MAX + 8];
	kura_error why = {0};
	char by[KURA_ID_LEN + 1];
	int rc = kura_store_disposed(x->st, id, by, err);
	if (rc == 1) {
		kura_log_message(KURA_LOG_INFO, "%s was disposed of (audit record %s): left out of the package", id, by);
		x->res->disposed++;
		return 0;
	}
	if (rc == 0)
		rc = kura_store_object(&o, x->st, id, err);
	if (rc != 0)
		return rc;
	rc = kura_object_evidence(&der, &len, x->st, id, x->cache, &why);
	int checkpoint = strcmp(x->under, "data") != 0;
	if (rc == KURA_ENOTFOUND && strstr(why.message, "not sealed") && checkpoint) {
		json_decref(o); /* its records are not covered yet: verify-export says so */
		return 0;
	}
	if (rc == KURA_ENOTFOUND && strstr(why.message, "not sealed")) {
		kura_log_message(KURA_LOG_ERROR, "%s is not sealed yet: left out of the package (run kura seal first)", id);
		x->res->unsealed++;
		json_decref(o);
		return 0;
	}
	if (rc != 0) {
		*err = why;
		json_decref(o);
		return kura_error_wrap(err, "object %s", id);
	}
	snprintf(dir, sizeof dir, "%s/%s", x->under, id);
	/* a document goes under its original path (export_paths.c); a checkpoint of
	 * the trail stays beside its record */
	const char *given = json_string_value(json_object_get(o, "name")) ?: "";
	if (!checkpoint)
		rc = kura_export_paths_place(x->paths, where, id, json_string_value(json_object_get(o, "path")), given, err);
	const char *base = checkpoint ? NULL : strrchr(where, '/') + 1;
	safe_name(name, checkpoint ? given : base);
	if (checkpoint)
		snprintf(doc, sizeof doc, "%s/%s", dir, name);
	else
		snprintf(doc, sizeof doc, "data/%s", where);
	uint64_t size = (uint64_t)json_integer_value(json_object_get(o, "size"));
	if (rc == 0 && !(meta = describe(o, checkpoint ? name : base, name, checkpoint ? NULL : where, err)))
		rc = KURA_EINTERNAL;
	snprintf(path, sizeof path, "%s/object.json", dir);
	if (rc == 0)
		rc = kura_bag_add(x->w, path, meta, strlen(meta), err);
	if (rc == 0)
		rc = put_content(x, o, id, dir, name, doc, size, err);
	snprintf(path, sizeof path, "%s/%s.erp", dir, name);
	if (rc == 0)
		rc = kura_export_evidence_record(x->ev, x->w, path, der, len, err);
	if (rc == 0 && !checkpoint)
		rc = kura_export_evidence_row(x->ev, id, o, doc, err);
	if (rc == 0 && checkpoint) {
		x->res->checkpoints++;
	} else if (rc == 0 && (rc = note_exported(x, id, o, err)) == 0) {
		x->res->objects++;
		x->res->bytes += size;
		kura_progress_update(x->progress, x->res->bytes, x->res->objects);
	} else {
		kura_error_wrap(err, "exporting %s", id);
	}
	free(meta);
	free(der);
	json_decref(o);
	return rc;
}

/* Every object but kura's own (the audit trail's checkpoints), which go with
 * the trail of the objects they concern. */
static int export_each(void *ud, json_t *o, kura_error *err)
{
	if (json_object_get(o, "system"))
		return 0;
	return export_one(ud, json_string_value(json_object_get(o, "id")), err);
}

static int add_anchors(kura_bag_writer *w, kura_store *st, kura_error *err)
{
	STACK_OF(X509) *anchors = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	int rc = bio ? kura_tsa_setup_anchors(&anchors, st, err) : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (int i = 0; rc == 0 && i < sk_X509_num(anchors); i++)
		if (!PEM_write_bio_X509(bio, sk_X509_value(anchors, i)))
			rc = kura_error_set(err, KURA_EINTERNAL, "writing a certificate failed");
	char *pem = NULL;
	long n = rc == 0 ? BIO_get_mem_data(bio, &pem) : 0;
	if (rc == 0)
		rc = kura_bag_add(w, "data/tsa-anchors.pem", pem, (size_t)n, err);
	BIO_free(bio);
	sk_X509_pop_free(anchors, X509_free);
	/* the roots of document signers, when the store has any */
	char path[4096], *signers = NULL;
	size_t slen = 0;
	snprintf(path, sizeof path, "%s/trust/signers.pem", kura_store_path(st));
	if (rc == 0 && kura_fs_read_file(path, 64u << 20, &signers, &slen) == 0)
		rc = kura_bag_add(w, "data/signer-anchors.pem", signers, slen, err);
	free(signers);
	return rc;
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, KURA_ID_LEN);
}

/* The named IDs, canonical, sorted and without repeats (n * KURA_ID_LEN characters). */
static int sorted_ids(char **out, size_t *count, const char *const *ids, size_t n, kura_error *err)
{
	char *v = malloc(n * KURA_ID_LEN + 1);
	if (!v)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char canon[KURA_ID_LEN + 1];
		int rc = kura_id_parse(canon, ids[i], err);
		if (rc != 0) {
			free(v);
			return rc;
		}
		memcpy(v + i * KURA_ID_LEN, canon, KURA_ID_LEN);
	}
	qsort(v, n, KURA_ID_LEN, cmp_id);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || memcmp(v + (k - 1) * KURA_ID_LEN, v + i * KURA_ID_LEN, KURA_ID_LEN) != 0)
			memmove(v + k++ * KURA_ID_LEN, v + i * KURA_ID_LEN, KURA_ID_LEN);
	*out = v;
	*count = k;
	return 0;
}

static int add_size(void *ud, json_t *o, kura_error *err)
{
	(void)err;
	*(uint64_t *)ud += (uint64_t)json_integer_value(json_object_get(o, "size"));
	return 0;
}

/* A package that did not fit: how much its documents alone need (the records,
 * tokens and descriptions add a few KiB an object), appended to err. */
static void say_needed(kura_error *err, kura_store *st, const char *wanted, size_t count)
{
	uint64_t need = 0;
	kura_error ignored;
	if (count == 0)
		kura_store_each_object(st, add_size, &need, &ignored);
	for (size_t i = 0; i < count; i++) {
		char id[KURA_ID_LEN + 1];
		json_t *o = NULL;
		snprintf(id, sizeof id, "%.*s", KURA_ID_LEN, wanted + i * KURA_ID_LEN);
		if (kura_store_object(&o, st, id, &ignored) == 0)
			add_size(&need, o, &ignored);
		json_decref(o);
	}
	size_t len = strlen(err->message);
	snprintf(err->message + len, sizeof err->message - len,
		 "; the package needs more than %llu bytes (%.1f MiB, its documents uncompressed): make room there or "
		 "export elsewhere", (unsigned long long)need, (double)need / (1024.0 * 1024.0));
}

/* The records of t a limited account may have (kura/package.h): those naming
 * an exported object or a record it sees, each redacted; a line that redaction
 * leaves as it is stays byte for byte as stored. Counts the others in withheld. */
static int limit_trail(struct exporter *x, kura_trail *t, kura_error *err)
{
	const kura_export_limit *l = x->limit;
	size_t n = x->nexported, kept = 0, len = 0, cap = t->len + 1;
	char *seen = malloc((x->nexported + x->nrecords) * KURA_ID_LEN + 1), *text = malloc(cap);
	int rc = seen && text ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0 && n)
		memcpy(seen, x->exported, n * KURA_ID_LEN);
	for (size_t i = 0; rc == 0 && i < x->nrecords; i++) {
		char id[KURA_ID_LEN + 1];
		snprintf(id, sizeof id, "%.*s", KURA_ID_LEN, x->records + i * KURA_ID_LEN);
		if (l->sees(l->ud, id))
			memcpy(seen + n++ * KURA_ID_LEN, id, KURA_ID_LEN);
	}
	if (rc == 0 && n > 1)
		qsort(seen, n, KURA_ID_LEN, cmp_id);
	for (char *p = t->text, *end = t->text + t->len, *nl; rc == 0 && p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p)); /* take() ends every record with one */
		json_t *e = json_loadb(p, (size_t)(nl - p), 0, NULL), *r = e ? json_deep_copy(e) : NULL;
		char *dumped = NULL;
		if (r && kura_records_names_any(e, seen, n)) {
			l->redact(l->ud, r);
			int same = json_equal(e, r);
			dumped = same ? NULL : json_dumps(r, JSON_COMPACT);
			if (!same && !dumped) {
				rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
				json_decref(e);
				json_decref(r);
				break;
			}
			size_t dlen = dumped ? strlen(dumped) : (size_t)(nl - p);
			char *grown = len + dlen + 2 > cap ? realloc(text, cap = 2 * (len + dlen + 2)) : text;
			if (grown) {
				text = grown;
				memcpy(text + len, dumped ? dumped : p, dlen);
				len += dlen;
				text[len++] = '\n';
				kept++;
			} else
				rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		} else if (!r)
			rc = kura_error_set(err, KURA_EINTERNAL, "an audit record of the trail could not be read back");
		free(dumped);
		json_decref(e);
		json_decref(r);
	}
	if (rc == 0) {
		text[len] = '\0';
		x->res->withheld = t->records - kept;
		free(t->text);
		t->text = text;
		t->len = len;
		t->records = kept;
		text = NULL;
	}
	free(text);
	free(seen);
	return rc;
}

/* The audit trail of the objects exported (data/audit/, docs/FORMAT.md): their
 * audit records and the checkpoints that hold them, with their evidence. */
static int add_report(struct exporter *x, kura_error *err);

static int add_trail(struct exporter *x, kura_error *err)
{
	kura_trail t;
	char *about = malloc((x->nexported + x->nrecords) * KURA_ID_LEN + 1);
	if (!about)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (x->nexported)
		memcpy(about, x->exported, x->nexported * KURA_ID_LEN);
	if (x->nrecords)
		memcpy(about + x->nexported * KURA_ID_LEN, x->records, x->nrecords * KURA_ID_LEN);
	int rc = kura_records_trail(&t, x->st, about, x->nexported + x->nrecords, err);
	free(about);
	if (rc == 0 && x->limit && t.records)
		rc = limit_trail(x, &t, err);
	if (rc == 0 && t.records)
		rc = kura_bag_add(x->w, "data/audit/trail.jsonl", t.text, t.len, err);
	x->under = "data/audit";
	for (size_t i = 0; rc == 0 && !x->limit && i < t.ncheckpoints; i++) { /* limited: none (kura/package.h) */
		char id[KURA_ID_LEN + 1];
		snprintf(id, sizeof id, "%.*s", KURA_ID_LEN, t.checkpoints + i * KURA_ID_LEN);
		rc = export_one(x, id, err);
	}
	x->res->audit_records = t.records;
	kura_trail_clear(&t);
	return rc;
}

static int export_run(kura_export_result *res, struct exporter *x, const char *out, const char *const *ids, size_t n,
		      kura_error *err);

/* What bag-info.txt says of a limited package's trail (docs/FORMAT.md) */
#define LIMITED_NOTE                                                                                               \
	"Kura-Audit-Trail: unproven. This package was made for an account limited to collections: it carries "    \
	"none of the audit trail's checkpoints (each holds every audit record of its time span, other "          \
	"collections' too), and of data/audit/trail.jsonl only the records naming objects the account sees, "    \
	"with the IDs of others replaced by \"(not shown: another collection)\". Its documents' evidence records " \
	"prove them as in any package; its audit records are not proven by it: a package made by an account of " \
	"every collection, or kura log --verify on the archive, proves them.\n"

int kura_export(kura_export_result *res, kura_store *st, const char *out, const char *const *ids, size_t n,
		kura_error *err)
{
	struct exporter x = {.st = st, .res = res, .under = "data"};
	int rc = export_run(res, &x, out, ids, n, err);
	free(x.exported);
	return rc;
}

/* Before anything is written: every named object exists, and not all of them
 * were disposed of (an empty package would say nothing; export_one notes each
 * disposed one it leaves out). */
static int check_named(kura_store *st, const char *wanted, size_t count, kura_error *err)
{
	size_t disposed = 0;
	char by[KURA_ID_LEN + 1], first[KURA_ID_LEN + 1] = "", first_by[KURA_ID_LEN + 1] = "";
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < count; i++) {
		char id[KURA_ID_LEN + 1];
		json_t *probe = NULL;
		snprintf(id, sizeof id, "%.*s", KURA_ID_LEN, wanted + i * KURA_ID_LEN);
		rc = kura_store_object(&probe, st, id, err);
		json_decref(probe);
		if (rc == 0 && (rc = kura_store_disposed(st, id, by, err)) == 1 && disposed++ == 0)
			memcpy(first, id, sizeof first), memcpy(first_by, by, sizeof first_by);
		rc = rc == 1 ? 0 : rc;
	}
	if (rc == 0 && count > 0 && disposed == count)
		rc = kura_error_set(err, KURA_ENOTFOUND, "nothing to export: %s disposed of (%s by audit record %s%s), its "
							 "content is no longer kept; no package was written (kura show ID says "
							 "when and why; kura evidence still gives evidence records)",
				    count > 1 ? "every object named was" : "the object named was", first, first_by,
				    count > 1 ? ", ..." : "");
	return rc;
}

static int export_run(kura_export_result *res, struct exporter *x_, const char *out, const char *const *ids, size_t n,
		      kura_error *err)
{
	memset(res, 0, sizeof *res);
	struct exporter x = *x_;
	kura_store *st = x.st;
	char bag[256], *wanted = NULL;
	const char *base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
	size_t blen = strlen(base);
	if (blen > 8 && strcmp(base + blen - 8, ".tar.zst") == 0)
		blen -= 8;
	else if (blen > 4 && strcmp(base + blen - 4, ".tar") == 0)
		blen -= 4;
	char *shown = kura_escape(base, blen < MAX_NAME ? blen : MAX_NAME); /* the folder's name as a tar name */
	safe_name(bag, shown && *shown ? shown : "package");
	free(shown);
	int64_t now;
	size_t count = 0;
	int rc = kura_clock_now(&now, err);
	if (rc == 0 && n > 0)
		rc = sorted_ids(&wanted, &count, ids, n, err);
	if (rc == 0)
		rc = check_named(st, wanted, count, err);
	if (rc == 0)
		rc = kura_bag_writer_new(&x.w, out, bag, now / 1000, err);
	if (rc == 0)
		rc = kura_evidence_cache_new(&x.cache, err);
	if (rc == 0)
		rc = kura_export_evidence_new(&x.ev, st, err);
	if (rc == 0)
		rc = kura_export_paths_new(&x.paths, err);
	if (rc == 0)
		rc = add_anchors(x.w, st, err);
	x.progress = rc == 0 ? kura_progress_new("export", 0) : NULL;
	if (rc == 0 && n == 0)
		rc = kura_store_each_object(st, export_each, &x, err);
	for (size_t i = 0; rc == 0 && i < count; i++) {
		char id[KURA_ID_LEN + 1];
		snprintf(id, sizeof id, "%.*s", KURA_ID_LEN, wanted + i * KURA_ID_LEN);
		rc = export_one(&x, id, err);
	}
	if (rc == 0)
		rc = add_trail(&x, err);
	if (rc == 0)
		rc = add_report(&x, err);
	if (rc == 0)
		rc = kura_export_evidence_finish(x.ev, x.w, err);
	if (rc == 0)
		rc = kura_bag_add(x.w, "VERIFY.md", kura_verify_md, strlen(kura_verify_md), err);
	if (rc == 0)
		rc = kura_bag_add(x.w, "verify.sh", kura_verify_sh, strlen(kura_verify_sh), err);
	if (rc == 0)
		rc = kura_bag_writer_finish(x.w, x.limit ? "External-Description: documents with RFC 4998 evidence records; "
							 "see VERIFY.md\n" LIMITED_NOTE
						       : "External-Description: documents with RFC 4998 evidence records; "
							 "see VERIFY.md\n", err);
	if (rc != 0 && kura_bag_writer_no_space(x.w) && err)
		say_needed(err, st, wanted, count);
	kura_progress_free(x.progress);
	kura_bag_writer_free(x.w);
	kura_evidence_cache_free(x.cache);
	kura_export_evidence_free(x.ev);
	kura_export_paths_free(x.paths);
	free(wanted);
	x_->exported = x.exported;
	x_->nexported = x.nexported;
	free(x.records);
	return rc;
}

/* data/report.html: `kura report` of the exported objects, for a person to read
 * (the first REPORT_MAX of them in ID order: INDEX.csv has every one). */
#define REPORT_MAX 200

static int add_report(struct exporter *x, kura_error *err)
{
	size_t n = x->nexported < REPORT_MAX ? x->nexported : REPORT_MAX;
	char(*idbuf)[KURA_ID_LEN + 1] = n ? calloc(n, sizeof *idbuf) : NULL, selection[200], *html = NULL;
	const char **ids = n ? calloc(n, sizeof *ids) : NULL;
	size_t len = 0;
	json_t *report = NULL;
	if (n == 0)
		return 0;
	int rc = idbuf && ids ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		memcpy(idbuf[i], x->exported + i * KURA_ID_LEN, KURA_ID_LEN);
		ids[i] = idbuf[i];
	}
	snprintf(selection, sizeof selection, n < x->nexported ? "the first %zu of the %zu objects of this package "
								 "(data/INDEX.csv lists every one)"
							       : "the %zu objects of this package",
		 n, x->nexported);
	kura_report_options o = {.kura_version = KURA_VERSION, .store = kura_store_path(x->st), .selection = selection};
	FILE *f = NULL;
	if (rc == 0)
		rc = kura_report_build(&report, x->st, ids, n, &o, err);
	if (rc == 0 && x->limit) /* its versions re-filed into other collections */
		x->limit->redact(x->limit->ud, report);
	if (rc == 0 && !(f = open_memstream(&html, &len)))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = kura_report_html(f, report, err);
	if (f && fclose(f) != 0 && rc == 0)
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = kura_bag_add(x->w, "data/report.html", html, len, err);
	free(html);
	json_decref(report);
	free(ids);
	free(idbuf);
	return rc;
}

/* ---------------------------------------------------------------- recorded exports */

#define MAX_LISTED 100000 /* an export of more objects is recorded by count */

/* The export's audit record (action "export") in st, open for writing: what
 * went where (to; NULL: out's full path). A package whose export cannot be
 * recorded is not kept. A reader (kura attach), which never writes the
 * writer's audit trail, records it in its own reader-log.jsonl (path: its folder). */
static json_t *export_fields(const kura_export_result *res, const struct exporter *x, const char *out, const char *to)
{
	char *where = realpath(out, NULL);
	json_t *ids = json_array(), *f = NULL;
	for (size_t i = 0; ids && x->nexported <= MAX_LISTED && i < x->nexported; i++)
		json_array_append_new(ids, json_stringn(x->exported + i * KURA_ID_LEN, KURA_ID_LEN));
	if (ids)
		f = json_pack("{s:o, s:I, s:s, s:I, s:I, s:I}", "objects", ids, "count", (json_int_t)res->objects, "to",
			      to ? to : where ? where : out, "bytes", (json_int_t)res->bytes, "audit_records",
			      (json_int_t)res->audit_records, "checkpoints", (json_int_t)res->checkpoints);
	free(where);
	if (f && x->limit) { /* its trail is unproven and partial (kura/package.h) */
		json_object_set_new(f, "limited", json_true());
		json_object_set_new(f, "audit_records_withheld", json_integer((json_int_t)res->withheld));
	}
	return f;
}

static int record_export_in(kura_store *st, const char *path, const kura_export_result *res, const struct exporter *x,
			    const char *out, const char *to, kura_error *err)
{
	json_t *f = export_fields(res, x, out, to);
	int rc = f ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = x->reader ? kura_store_reader_record(path, "export", f, err)
			       : kura_store_audit_record(st, "export", f, NULL, err);
	if (rc != 0) {
		unlink(out);
		kura_error_wrap(err, "%s was removed: its export could not be recorded in the store's audit trail", out);
	}
	json_decref(f);
	return rc;
}

int kura_export_store(kura_export_result *res, const char *path, const char *out, const char *const *ids, size_t n,
		      kura_error *err)
{
	kura_store *st = NULL;
	struct exporter x = {.res = res, .under = "data"};
	memset(res, 0, sizeof *res);
	int rc = kura_store_open(&st, path, KURA_STORE_READ, err);
	if (rc == 0) {
		x.st = st;
		x.reader = kura_store_is_reader(st);
		rc = export_run(res, &x, out, ids, n, err);
	}
	kura_store_close(st); /* read without the writer's lock; taken only to record the export */
	st = NULL;
	if (rc == 0 && !x.reader && (rc = kura_store_open(&st, path, KURA_STORE_WRITE, err)) != 0) {
		unlink(out);
		kura_error_wrap(err, "%s was removed: its export could not be recorded in the store's audit trail", out);
	}
	if (rc == 0)
		rc = record_export_in(st, path, res, &x, out, NULL, err);
	kura_store_close(st);
	free(x.exported);
	return rc;
}

int kura_export_fields(kura_export_result *res, json_t **fields, kura_store *st, const char *out, const char *to,
		       const char *const *ids, size_t n, const kura_export_limit *limit, kura_error *err)
{
	struct exporter x = {.st = st, .res = res, .under = "data", .limit = limit};
	int rc = export_run(res, &x, out, ids, n, err);
	*fields = rc == 0 ? export_fields(res, &x, out, to) : NULL;
	if (rc == 0 && !*fields) {
		unlink(out);
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	free(x.exported);
	return rc;
}

int kura_export_recorded(kura_export_result *res, kura_store *st, const char *out, const char *to,
			 const char *const *ids, size_t n, kura_error *err)
{
	struct exporter x = {.st = st, .res = res, .under = "data"};
	int rc = export_run(res, &x, out, ids, n, err);
	if (rc == 0)
		rc = record_export_in(st, NULL, res, &x, out, to, err);
	free(x.exported);
	return rc;
}
