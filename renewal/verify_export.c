/* kura verify-export: a package checked the way an auditor would, with nothing
 * but the package: its BagIt manifests, then every evidence record in it against
 * its document and the TSA roots (the package's own, or the ones given). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/bag.h"
#include "common/fsutil.h"
#include "evidence/tsa.h"
#include "evidence/verify.h"
#include "renewal/package.h"

#define MAX_RECORD (256u << 20)

struct checking {
	const char *root;
	kura_er_verify_opts opts;
	json_t *objects, *problems;
	size_t valid, indeterminate;
};

static void on_problem(void *ud, const char *path, const char *problem)
{
	struct checking *c = ud;
	json_array_append_new(c->problems, json_pack("{s:s, s:s}", "file", path, "problem", problem));
}

static json_t *unreadable(const char *why)
{
	return json_pack("{s:s, s:s, s:s, s:[], s:s}", "verdict", "invalid", "integrity", "invalid", "trust",
			 "indeterminate", "chains", "reason", why);
}

static int check_pair(void *ud, const char *file, const char *record, kura_error *err)
{
	struct checking *c = ud;
	char data[8192], er[8192], *der = NULL;
	size_t len = 0;
	json_t *report = NULL;
	kura_error why = {0};
	snprintf(data, sizeof data, "%s/%s", c->root, file);
	snprintf(er, sizeof er, "%s/%s", c->root, record);
	if (kura_fs_read_file(er, MAX_RECORD, &der, &len) != 0) {
		report = unreadable("the evidence record cannot be read");
	} else {
		kura_er_file df = {.path = data};
		c->opts.digest_ud = &df;
		int rc = kura_er_verify(&report, (unsigned char *)der, len, &c->opts, &why);
		if (rc == KURA_EINPUT)
			report = unreadable(why.message);
		else if (rc != 0) {
			free(der);
			*err = why;
			return rc;
		}
	}
	free(der);
	json_object_set_new(report, "document", json_string(file));
	json_object_set_new(report, "record", json_string(record));
	const char *verdict = json_string_value(json_object_get(report, "verdict"));
	c->valid += strcmp(verdict, "valid") == 0;
	c->indeterminate += strcmp(verdict, "indeterminate") == 0;
	json_array_append_new(c->objects, report);
	return 0;
}

int kura_export_verify(json_t **report, const char *package, STACK_OF(X509) *anchors, int64_t at_ms, kura_error *err)
{
	kura_package *p = NULL;
	kura_trust_cache *cache = NULL;
	STACK_OF(X509) *own = NULL;
	struct checking c = {.objects = json_array(), .problems = json_array()};
	size_t problems = 0;
	const char *source = "given with --trust";
	int rc = c.objects && c.problems ? kura_package_open(&p, package, UINT64_MAX, err)
					 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = kura_trust_cache_new(&cache, err);
	if (rc == 0) {
		c.root = kura_package_root(p);
		if (kura_package_is_bag(p))
			rc = kura_bag_check(p, on_problem, &c, &problems, err);
		else
			on_problem(&c, "bagit.txt", "is missing: this is not a package made by kura export (no BagIt bag)");
	}
	if (rc == 0 && !anchors) { /* the package's own roots: the auditor decides whether to trust them */
		char path[4096];
		snprintf(path, sizeof path, "%s/data/tsa-anchors.pem", c.root);
		source = "the package's data/tsa-anchors.pem";
		if (!(own = sk_X509_new_null()))
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		else if (kura_load_certs(own, path, NULL) != 0)
			source = "none (the package has no data/tsa-anchors.pem)";
		anchors = own;
	}
	c.opts = (kura_er_verify_opts){.anchors = anchors, .at_ms = at_ms, .digest = kura_er_digest_file, .cache = cache};
	if (rc == 0)
		rc = kura_package_each_pair(p, kura_package_is_bag(p) ? "data" : "", check_pair, &c, err);
	if (rc == 0) {
		size_t n = json_array_size(c.objects), bad = json_array_size(c.problems);
		const char *verdict = bad || n == 0 || c.valid + c.indeterminate < n ? "invalid"
				      : c.indeterminate ? "indeterminate" : "valid";
		*report = json_pack("{s:s, s:s, s:{s:s, s:O}, s:s, s:O}", "package", package, "verdict", verdict,
				    "manifest", "verdict", bad ? "invalid" : "valid", "problems", c.problems, "anchors",
				    source, "objects", c.objects);
		if (n == 0)
			json_object_set_new(*report, "reason", json_string("the package holds no evidence record"));
		if (!*report)
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	json_decref(c.objects);
	json_decref(c.problems);
	sk_X509_pop_free(own, X509_free);
	kura_trust_cache_free(cache);
	kura_package_close(p);
	return rc;
}
