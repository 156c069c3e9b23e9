/* kura verify-export: a package checked the way an auditor would, with nothing
 * but the package: its BagIt manifests, then every evidence record in it against
 * its document (and a signed document's signature and validation data) and the
 * TSA roots (the package's own, or the ones given); signatures against the
 * package's signer roots at the time each record proves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "package/bag.h"
#include "common/escape.h"
#include "common/fsutil.h"
#include "evidence/tsa.h"
#include "evidence/verify.h"
#include "package/package.h"
#include "proof/signed.h"

struct checking {
	const char *root;
	kura_er_verify_opts opts;
	json_t *objects, *problems; /* problems: the audit's */
	size_t valid, indeterminate;
	STACK_OF(X509) *signers; /* the package's data/signer-anchors.pem */
	kura_package_trail trail; /* data/audit/: the objects' audit trail */
	json_t *checkpoints;      /* the reports of its checkpoints */
	size_t trail_bad;         /* checkpoints whose evidence is not valid */
};

/* why may name a file that is not UTF-8 (a folder of the package): JSON gets it escaped. */
static json_t *unreadable(const char *why)
{
	return json_pack("{s:s, s:s, s:s, s:[], s:o}", "verdict", "invalid", "integrity", "invalid", "trust",
			 "indeterminate", "chains", "reason", kura_json_text(why));
}

static int check_pair(void *ud, const char *file, const char *record, const char *bag_problem, kura_error *err)
{
	struct checking *c = ud;
	(void)bag_problem; /* listed under "manifest" already: the record is checked all the same */
	if (!record && strcmp(file, "data/audit") == 0)
		return 0; /* the trail without a sealed checkpoint: its records are unproven */
	if (!record) {
		char problem[4400];
		if (bag_problem && strncmp(bag_problem, "holds no document", 17) == 0) /* its object.json names none there is */
			snprintf(problem, sizeof problem, "%s: nothing in it was verified", bag_problem);
		else
			snprintf(problem, sizeof problem, "holds no document with its evidence record: nothing in it was "
				 "verified%s%s%s", bag_problem ? " (" : "", bag_problem ? bag_problem : "", bag_problem ? ")" : "");
		json_t *o = json_pack("{s:s, s:o}", "file", "", "problem", kura_json_text(problem));
		kura_json_set_name(o, "file", file); /* a name that is not UTF-8 too */
		json_array_append_new(c->problems, o);
		return 0;
	}
	char *der = NULL;
	size_t len = 0;
	json_t *report = NULL;
	kura_error why = {0};
	kura_package_group g;
	int rc = 0;
	if (kura_package_group_load(&g, c->root, file, record, &why) != 0) {
		report = unreadable(why.message);
	} else if (kura_package_read_record((unsigned char **)&der, &len, c->root, record, &why) != 0) {
		report = unreadable(why.message);
	} else {
		c->opts.digest_ud = &g.files; /* every member of a signed document's group */
		rc = kura_er_verify(&report, (unsigned char *)der, len, &c->opts, &why);
		if (rc == KURA_EINPUT || rc == KURA_EDENIED)
			report = unreadable(why.message), rc = 0;
		else if (rc == 0 && g.signed_doc)
			rc = kura_signed_check_group(report, &g.files, g.detached, c->signers, c->opts.anchors, &why);
	}
	free(der);
	kura_package_group_clear(&g);
	if (rc != 0) {
		json_decref(report);
		if (err) /* a library caller may pass none */
			*err = why;
		return rc;
	}
	kura_json_set_name(report, "document", file);
	kura_json_set_name(report, "record", record);
	const char *verdict = json_string_value(json_object_get(report, "verdict"));
	if (kura_package_is_trail(file)) {
		json_array_append_new(c->checkpoints, report);
		c->trail_bad += strcmp(verdict, "valid") != 0;
		return strcmp(verdict, "valid") == 0 ? kura_package_trail_add_checkpoint(&c->trail, c->root, file, err) : 0;
	}
	c->valid += strcmp(verdict, "valid") == 0;
	c->indeterminate += strcmp(verdict, "indeterminate") == 0;
	json_array_append_new(c->objects, report);
	return 0;
}

/* "audit": the trail's records, how many its checkpoints prove, the ones they
 * do not (their IDs), and the checkpoints' reports. */
static json_t *trail_report(const struct checking *c)
{
	json_t *unproven = json_array();
	for (size_t i = 0; unproven && i < c->trail.nlines; i++)
		if (!kura_package_trail_proven(&c->trail, i)) {
			json_t *e = json_loads(c->trail.lines[i], 0, NULL);
			json_array_append_new(unproven, e && json_object_get(e, "id") ? json_incref(json_object_get(e, "id"))
										: json_string("(not an audit record)"));
			json_decref(e);
		}
	const char *verdict = c->trail_bad ? "invalid" : c->trail.covered < c->trail.nlines ? "indeterminate" : "valid";
	json_t *a = json_pack("{s:s, s:I, s:I, s:o, s:O}", "verdict", verdict, "records", (json_int_t)c->trail.nlines,
			      "proven", (json_int_t)c->trail.covered, "unproven", unproven, "checkpoints", c->checkpoints);
	char path[4200], *info = NULL;
	size_t len = 0;
	snprintf(path, sizeof path, "%s/bag-info.txt", c->root);
	if (a && kura_fs_read_file(path, 1 << 20, &info, &len) == 0 && strstr(info, "\nKura-Audit-Trail: unproven"))
		json_object_set_new(a, "reason", json_string("the package was made for an account limited to collections: "
							     "it carries no checkpoint of the trail (bag-info.txt)"));
	free(info);
	return a;
}

int kura_export_verify(json_t **report, const char *package, STACK_OF(X509) *anchors, int64_t at_ms, kura_error *err)
{
	kura_package *p = NULL;
	kura_trust_cache *cache = NULL;
	STACK_OF(X509) *own = NULL;
	struct checking c = {.objects = json_array()};
	kura_package_audit audit = {0};
	const char *source = "given with --trust";
	int rc = c.objects ? kura_package_open(&p, package, UINT64_MAX, err)
			   : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = kura_trust_cache_new(&cache, err);
	if (rc == 0) {
		c.root = kura_package_root(p);
		rc = kura_package_audit_run(&audit, p, err);
		c.problems = audit.problems;
	}
	if (rc == 0 && !kura_package_is_bag(p))
		json_array_append_new(c.problems, json_pack("{s:s, s:s}", "file", "bagit.txt", "problem",
							    "is missing: this is not a package made by kura export (no BagIt bag)"));
	if (rc == 0 && !anchors) { /* the package's own roots: the auditor decides whether to trust them */
		char path[4096];
		snprintf(path, sizeof path, "%s/data/tsa-anchors.pem", c.root);
		source = "the package's data/tsa-anchors.pem";
		if (!(own = sk_X509_new_null()))
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		else if (kura_load_certs(own, path, NULL) != 0)
			source = "none (the package has no data/tsa-anchors.pem, or not one of at most 1000 certificates)";
		anchors = own;
	}
	c.opts = (kura_er_verify_opts){.anchors = anchors, .at_ms = at_ms, .digest = kura_er_digest_group, .cache = cache};
	char spath[4096];
	snprintf(spath, sizeof spath, "%s/data/signer-anchors.pem", c.root ? c.root : ".");
	if (rc == 0 && (c.signers = sk_X509_new_null()) != NULL)
		kura_load_certs(c.signers, spath, NULL); /* none: signatures are indeterminate */
	c.checkpoints = json_array();
	if (rc == 0)
		rc = kura_package_each_object(&audit, p, check_pair, &c, err);
	if (rc == 0)
		rc = kura_package_trail_finish(&c.trail, c.root, err);
	if (rc == 0) {
		size_t n = json_array_size(c.objects), bad = json_array_size(c.problems);
		const char *verdict = bad || n == 0 || c.valid + c.indeterminate < n || c.trail_bad ? "invalid"
				      : c.indeterminate ? "indeterminate" : "valid";
		*report = json_pack("{s:s, s:s, s:{s:s, s:O}, s:s, s:O}", "package", "", "verdict", verdict,
				    "manifest", "verdict", bad ? "invalid" : "valid", "problems", c.problems, "anchors",
				    source, "objects", c.objects);
		if (*report && kura_json_set_name(*report, "package", package) != 0) {
			json_decref(*report);
			*report = NULL;
		}
		if (n == 0)
			json_object_set_new(*report, "reason", json_string("the package holds no evidence record"));
		if (*report && (c.trail.nlines || json_array_size(c.checkpoints)))
			json_object_set_new(*report, "audit", trail_report(&c));
		if (!*report)
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	json_decref(c.objects);
	json_decref(c.checkpoints);
	kura_package_trail_clear(&c.trail);
	kura_package_audit_clear(&audit);
	sk_X509_pop_free(own, X509_free);
	sk_X509_pop_free(c.signers, X509_free);
	kura_trust_cache_free(cache);
	kura_package_close(p);
	return rc;
}
