/* kura import: documents with evidence records made elsewhere — a kura export
 * from another store, or (FILE, FILE.ers) pairs from other producers — adopted
 * into a store and renewed from then on like its own evidence.
 *
 * INVARIANTS
 * - A record is verified (against the store's TSA roots, now) before anything of
 *   its object is written; one that does not verify is refused unless the caller
 *   accepts invalid records, and one that is no Evidence Record at all is always
 *   refused (it could never be renewed).
 * - The document and its record go into the store in the same commit
 *   (kura_ingest_adopt): an object is imported whole or not at all, and is
 *   reported imported only once that commit is durable.
 * - The record is stored byte for byte as imported (evidence kind 'I', see
 *   chains.h); renewals add records after it and never rewrite it.
 * - A package is accounted for exactly as verify-export does (package_read.c):
 *   a bag whose manifests do not match refuses the objects whose files are
 *   concerned, a mismatch outside any object's folder refuses the whole package,
 *   and an object folder without its document or record is reported refused.
 * - An object keeps the path it was ingested from (object.json's "path"): a
 *   recorded string only, never opened. Lines about it name its place in the
 *   package, which is what the import read (imported(), remember()). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "package/bag.h"
#include "common/escape.h"
#include "common/fsutil.h"
#include "evidence/record.h"
#include "evidence/tst.h"
#include "evidence/verify.h"
#include "kura/clock.h"
#include "kura/ingest.h"
#include "proof/chains.h"
#include "package/import_origin.h"
#include "package/package.h"
#include "proof/tsa_setup.h"

#define MAX_MEMBER (64u << 20)
#define MAX_META 256

struct importer {
	kura_store *st;
	kura_ingest *in;
	const kura_import_options *o;
	kura_import_result *res;
	kura_er_verify_opts vo;
	const char *root;
	json_t *placed;     /* ID -> [file in the package, verdict or null (valid)], once adopted */
	const char *adopting[2]; /* the same of the object being adopted (committed before it is in placed) */
	kura_package_trail trail; /* the audit trail the package carries (data/audit/) */
	json_t *new_ids;    /* the objects imported */
	kura_import_origin origin; /* what the objects keep of where they came from */
	const char *package;       /* the package's file name */
};

static void refuse(struct importer *im, const char *file, const char *verdict, const char *why)
{
	im->res->refused++;
	if (im->o->report)
		im->o->report(im->o->ud, file, NULL, verdict, why);
}

/* Metadata from a kura package's object.json (type-checked by group_load;
 * borrowed from it), and where the object came from. */
static int describe(kura_meta *meta, size_t *nmeta, char *why, size_t cap, const kura_package_group *g)
{
	const char *key;
	json_t *v;
	json_object_foreach(g->meta, key, v) {
		if (strcmp(key, "import.id") == 0)
			continue;
		if (*nmeta == MAX_META) {
			snprintf(why, cap, "object.json holds more than %d metadata fields", MAX_META);
			return -1;
		}
		meta[*nmeta].key = key;
		meta[(*nmeta)++].value = json_string_value(v);
	}
	if (g->id) {
		meta[*nmeta].key = "import.id";
		meta[(*nmeta)++].value = g->id;
	}
	return 0;
}

/* An object is durable in the store (after its commit): it is reported by its
 * place in the package (path is the one it keeps, from where it was ingested). */
static void imported(void *ud, const char *id, const char *sha256_hex, const char *path)
{
	(void)sha256_hex, (void)path;
	struct importer *im = ud;
	json_t *placed = json_object_get(im->placed, id);
	const char *file = placed ? json_string_value(json_array_get(placed, 0)) : im->adopting[0];
	const char *verdict = placed ? json_string_value(json_array_get(placed, 1)) : im->adopting[1];
	im->res->imported++;
	json_array_append_new(im->new_ids, json_string(id));
	if (im->o->report)
		im->o->report(im->o->ud, file, id, verdict ? verdict : "valid", verdict ? "adopted although not valid" : NULL);
}

static int no_token(void *ud, size_t c, size_t a, size_t n, const unsigned char *t, size_t len, kura_error *err)
{
	(void)ud, (void)c, (void)a, (void)n, (void)t, (void)len, (void)err;
	return 0;
}

/* A signed document's signature and validation data, read for adoption. */
struct members {
	kura_member members[2];
	char *bytes[2];
	char names[2][256];
	size_t n;
};

static void members_clear(struct members *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->bytes[i]);
	m->n = 0;
}

static int load_members(struct members *m, const kura_package_group *g, char *why, size_t cap)
{
	for (size_t i = 1; i < g->files.n; i++) {
		const char *path = g->files.member[i].path, *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		size_t len = 0;
		if (kura_fs_read_file(path, MAX_MEMBER, &m->bytes[m->n], &len) != 0) {
			snprintf(why, cap, "%s cannot be read (a member of a signed document, at most 64 MiB)", base);
			return -1;
		}
		snprintf(m->names[m->n], sizeof m->names[0], "%s", base);
		int is_sig = g->detached && i == 1;
		m->members[m->n] = (kura_member){is_sig ? "signature" : "validation-data", m->names[m->n],
						 (unsigned char *)m->bytes[m->n], len};
		m->n++;
	}
	return 0;
}

/* One (document, record) pair being imported. */
struct pair {
	kura_package_group group;
	struct members mem;
	char *der; /* the record */
	size_t len;
	kura_meta meta[MAX_META + 1];
	size_t nmeta;
	char why[1200]; /* why it is refused, or adopted although not valid */
};

/* Reads the pair's record (it must be an Evidence Record), its group and its
 * metadata: -1 with p->why if the object cannot be imported. */
static int read_pair(struct importer *im, struct pair *p, const char *file, const char *record)
{
	kura_error e = {0};
	if (kura_package_read_record((unsigned char **)&p->der, &p->len, im->root, record, &e) != 0) {
		snprintf(p->why, sizeof p->why, "%s", e.message);
		return -1;
	}
	if (kura_er_each_token((unsigned char *)p->der, p->len, no_token, NULL, NULL, &e) != 0) {
		snprintf(p->why, sizeof p->why, "%s: %s", record, e.message);
		return -1;
	}
	if (kura_package_group_load(&p->group, im->root, file, record, &e) != 0 ||
	    load_members(&p->mem, &p->group, p->why, sizeof p->why) != 0 ||
	    describe(p->meta, &p->nmeta, p->why, sizeof p->why, &p->group) != 0) {
		if (!p->why[0])
			snprintf(p->why, sizeof p->why, "%s", e.message);
		return -1;
	}
	return 0;
}

/* The path the object keeps: the one it was ingested from, as object.json says
 * (also when not UTF-8: "path_hex"), else its place in the package (a FILE,
 * FILE.ers pair; a path that is no string or longer than any file system's).
 * Owned by the caller. */
static char *original_path(const kura_package_group *g, const char *file)
{
	char *path = g->object ? kura_json_get_name(g->object, "path") : NULL;
	if (path && strlen(path) < 4096)
		return path;
	free(path);
	return strdup(file);
}

/* The object adopted as id came from file (verdict: NULL when valid). */
static int remember(struct importer *im, const char *id, const char *file, const char *verdict, kura_error *err)
{
	json_t *placed = json_array(); /* the file's name need not be UTF-8 */
	if (placed && json_array_append_new(placed, json_string_nocheck(file)) == 0 &&
	    json_array_append_new(placed, verdict ? json_string(verdict) : json_null()) == 0)
		return json_object_set_new(im->placed, id, placed) == 0 ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	json_decref(placed);
	return kura_error_set(err, KURA_EINTERNAL, "out of memory");
}

/* Adopts the document (root/file, named name) with its record in one commit:
 * KURA_EINPUT with p->why if this object cannot be (the import goes on).
 * verdict: NULL when its record is valid. */
static int adopt_pair(struct importer *im, struct pair *p, const char *file, const char *name, const char *verdict,
		      char id[KURA_ID_LEN + 1], kura_error *e)
{
	char data[8192], *path = original_path(&p->group, file);
	unsigned char *payload = NULL;
	size_t plen = 0;
	if (!path)
		return kura_error_set(e, KURA_EINTERNAL, "out of memory");
	snprintf(data, sizeof data, "%s/%s", im->root, file);
	int fd = open(data, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(p->why, sizeof p->why, "%s cannot be read", file);
		free(path);
		return KURA_EINPUT;
	}
	int rc = kura_chain_imported_payload(&payload, &plen, (unsigned char *)p->der, p->len, e);
	im->adopting[0] = file, im->adopting[1] = verdict;
	if (rc == 0)
		rc = kura_ingest_adopt(im->in, fd, path, name, p->meta, p->nmeta, p->mem.members, p->mem.n,
				       p->group.signature, KURA_EVIDENCE_IMPORTED, payload, plen, id, e);
	if (rc == 0)
		rc = remember(im, id, file, verdict, e);
	im->adopting[0] = im->adopting[1] = NULL;
	close(fd);
	free(payload);
	free(path);
	if (rc == KURA_EINPUT || rc == KURA_EDENIED) /* bad metadata or an unreadable file: this object only */
		snprintf(p->why, sizeof p->why, "%s", e->message);
	return rc;
}

/* A checkpoint of the package's trail whose record verifies proves the trail's
 * records it holds; one that does not proves nothing ("proven" in the
 * imported-trail record says how much of the trail is). Nothing of it is
 * imported. Clears p. */
static int take_checkpoint(struct importer *im, struct pair *p, const char *file, kura_error *err)
{
	json_t *report = NULL;
	kura_error e = {0};
	im->vo.digest_ud = &p->group.files;
	int rc = kura_er_verify(&report, (unsigned char *)p->der, p->len, &im->vo, &e);
	if (rc == KURA_EINPUT || rc == KURA_EDENIED)
		rc = 0;
	else if (rc == 0 && strcmp(json_string_value(json_object_get(report, "verdict")), "valid") == 0)
		rc = kura_package_trail_add_checkpoint(&im->trail, im->root, file, &e);
	if (rc != 0 && err)
		*err = e;
	json_decref(report);
	free(p->der);
	members_clear(&p->mem);
	kura_package_group_clear(&p->group);
	return rc;
}

/* The genTime of the first time-stamp of a verify-er report (borrowed), or NULL
 * (none, or the record does not verify: then it proves nothing). */
static const char *first_time_stamp(json_t *report)
{
	if (strcmp(json_string_value(json_object_get(report, "verdict")) ?: "", "valid") != 0)
		return NULL;
	json_t *ats = json_object_get(json_array_get(json_object_get(report, "chains"), 0), "ats");
	return json_string_value(json_object_get(json_array_get(ats, 0), "genTime"));
}

/* The ingest that writes what is imported, made at the first object adopted (an
 * import that refuses everything sets none up); every commit's audit record says
 * "import" and names the package. */
static int start_ingest(struct importer *im, kura_error *err)
{
	if (im->in)
		return 0;
	int rc = kura_ingest_new(&im->in, im->st, imported, im, err);
	json_t *f = rc == 0 ? json_pack("{s:o}", "package", kura_json_text(im->package)) : NULL;
	if (rc == 0 && !f)
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		kura_ingest_set_audit(im->in, "import", f);
	json_decref(f);
	return rc;
}

/* Adopts the pair with what it keeps of where it came from (import_origin.c):
 * 1 when the store holds this very object already (said, nothing written). */
static int adopt_planned(struct importer *im, struct pair *p, const char *file, const char *name, json_t *report,
			 const char *verdict, kura_error *e)
{
	kura_import_plan plan;
	char id[KURA_ID_LEN + 1];
	int rc = kura_import_origin_plan(&plan, &im->origin, im->st, &p->group, im->package, im->vo.at_ms,
					 first_time_stamp(report), e);
	if (rc == 1) { /* it is there: OK, under its ID */
		im->res->present++;
		if (im->o->report)
			im->o->report(im->o->ud, file, p->group.id, "valid", NULL);
		if (im->o->note)
			im->o->note(im->o->ud, file, "this object (the same ID, content and ingest time) is in the store "
						     "already: not imported again");
	}
	if (rc == 0)
		rc = start_ingest(im, e);
	if (rc != 0) {
		kura_import_plan_clear(&plan);
		return rc;
	}
	kura_ingest_set_origin(im->in, plan.id[0] ? plan.id : NULL, plan.ingested_ms);
	kura_ingest_set_fields(im->in, plan.fields);
	rc = adopt_pair(im, p, file, name, verdict, id, e);
	kura_ingest_set_origin(im->in, NULL, -1);
	kura_ingest_set_fields(im->in, NULL);
	if (rc == 0)
		rc = kura_import_origin_done(&im->origin, &plan, p->group.id, id, e);
	if (rc == 0 && plan.notes[0] && im->o->note) {
		char what[1200];
		snprintf(what, sizeof what, "imported as %s, but %s", id, plan.notes);
		im->o->note(im->o->ud, file, what);
	}
	kura_import_plan_clear(&plan);
	return rc;
}

static int import_pair(void *ud, const char *file, const char *record, const char *bag_problem, kura_error *err)
{
	struct importer *im = ud;
	struct pair p = {0};
	json_t *report = NULL;
	const char *name = strrchr(file, '/') ? strrchr(file, '/') + 1 : file, *verdict = "invalid";
	char *described = NULL; /* the name object.json gives */
	kura_error e = {0};
	int rc = 0;
	if (!record && strcmp(file, "data/audit") == 0)
		return 0; /* the trail without a sealed checkpoint: kept unproven */
	if (bag_problem || !record) { /* the same accounting as verify-export's */
		refuse(im, file, "invalid", bag_problem ? bag_problem : "holds no document with its evidence record");
		return 0;
	}
	if (read_pair(im, &p, file, record) != 0)
		goto refused;
	if (kura_package_is_trail(file)) /* a checkpoint of the trail: it proves, it is not imported */
		return take_checkpoint(im, &p, file, err);
	if (p.group.object && (described = kura_json_get_name(p.group.object, "name")))
		name = described; /* its bytes, also when they are not UTF-8 */
	im->vo.digest_ud = &p.group.files; /* a signed document: its signature and validation data too */
	if ((rc = kura_er_verify(&report, (unsigned char *)p.der, p.len, &im->vo, &e)) != 0) {
		if (rc != KURA_EINPUT && rc != KURA_EDENIED) {
			if (err)
				*err = e;
			goto out;
		}
		rc = 0;
		snprintf(p.why, sizeof p.why, "%s", e.message);
		goto refused;
	}
	verdict = json_string_value(json_object_get(report, "verdict"));
	if (strcmp(verdict, "valid") != 0) {
		const char *reason = json_string_value(json_object_get(report, "reason"));
		snprintf(p.why, sizeof p.why, "the record does not verify (%s: %s)", verdict,
			 reason ? reason : "see kura verify-er");
		if (reason && strstr(reason, KURA_TST_UNTRUSTED_ROOT)) { /* say how to trust it */
			size_t len = strlen(p.why);
			snprintf(p.why + len, sizeof p.why - len, "; once its fingerprint is confirmed (a kura package "
				 "carries its TSA roots in data/tsa-anchors.pem), trust it with: kura trust add %s --tsa ROOT.pem",
				 kura_store_path(im->st));
		}
		if (!im->o->accept_invalid)
			goto refused;
	}
	rc = adopt_planned(im, &p, file, name, report, p.why[0] ? verdict : NULL, &e);
	if (rc == 1) { /* this very object is in the store already */
		rc = 0;
		goto out;
	}
	if (rc == KURA_EINPUT || rc == KURA_EDENIED) {
		rc = 0;
		goto refused;
	}
	if (rc != 0) {
		if (err)
			*err = e;
		goto out;
	}
	goto out;
refused:
	refuse(im, file, verdict, p.why);
out:
	json_decref(report);
	free(described);
	free(p.der);
	members_clear(&p.mem);
	kura_package_group_clear(&p.group);
	return rc;
}

/* The trail the package carried, kept in the store's own trail (action
 * "imported-trail"): its records exactly as exported, how many of them the
 * package's checkpoints prove, and the objects imported with it. */
static int keep_trail(struct importer *im, const char *package, kura_error *err)
{
	int rc = kura_package_trail_finish(&im->trail, im->root, err);
	if (rc != 0 || im->trail.nlines == 0 || json_array_size(im->new_ids) == 0)
		return rc;
	const char *base = strrchr(package, '/') ? strrchr(package, '/') + 1 : package;
	json_t *lines = json_array(), *f;
	for (size_t i = 0; lines && i < im->trail.nlines; i++)
		json_array_append_new(lines, json_string(im->trail.lines[i]));
	f = lines ? json_pack("{s:o, s:O, s:o, s:I, s:I}", "package", kura_json_text(base), "objects", im->new_ids,
			      "imported_trail", lines, "proven", (json_int_t)im->trail.covered, "checkpoints",
			      (json_int_t)im->trail.checkpoints) : NULL;
	rc = f ? kura_store_audit_record(im->st, "imported-trail", f, NULL, err)
	       : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	json_decref(f);
	return rc;
}

int kura_import(kura_import_result *res, kura_store *st, const char *package, const kura_import_options *o,
		kura_error *err)
{
	memset(res, 0, sizeof *res);
	struct importer im = {.st = st, .o = o, .res = res, .placed = json_object(), .new_ids = json_array()};
	im.package = strrchr(package, '/') ? strrchr(package, '/') + 1 : package;
	kura_package *p = NULL;
	kura_package_audit audit = {0};
	kura_trust_cache *cache = NULL;
	STACK_OF(X509) *anchors = NULL;
	int rc = im.placed && im.new_ids ? kura_package_open(&p, package, o->max_entry ? o->max_entry : (64ull << 30), err)
			    : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0) {
		im.root = kura_package_root(p);
		rc = kura_package_audit_run(&audit, p, err);
	}
	if (rc == 0 && audit.package_problem[0])
		rc = kura_error_set(err, KURA_EVERIFY, "%s: %s; nothing was imported", package, audit.package_problem);
	if (rc == 0)
		rc = kura_import_origin_new(&im.origin, err);
	if (rc == 0)
		rc = kura_tsa_setup_anchors(&anchors, st, err);
	if (rc == 0)
		rc = kura_trust_cache_new(&cache, err);
	if (rc == 0)
		rc = kura_clock_now(&im.vo.at_ms, err);
	im.vo.anchors = anchors;
	im.vo.cache = cache;
	im.vo.digest = kura_er_digest_group;
	if (rc == 0)
		rc = kura_package_each_object(&audit, p, import_pair, &im, err);
	if (rc == 0 && im.in)
		rc = kura_ingest_commit(im.in, err);
	if (rc == 0)
		rc = keep_trail(&im, package, err);
	kura_ingest_free(im.in);
	kura_trust_cache_free(cache);
	sk_X509_pop_free(anchors, X509_free);
	kura_package_audit_clear(&audit);
	kura_package_close(p);
	kura_package_trail_clear(&im.trail);
	kura_import_origin_clear(&im.origin);
	json_decref(im.new_ids);
	json_decref(im.placed);
	return rc;
}
