/* kura verify STORE [ID...] [--json]: every object (or the ones named) checked
 * against its evidence record: the hash recomputed from the stored bytes, the
 * reduced tree, and the time-stamp (once per seal) against the store's TSA roots;
 * for a signed document also its signature at the time the evidence proves.
 * Algorithms are judged by the store's policy.
 * --json prints one JSON object per line, one line per object. Exit 0 only when
 * every verdict is valid. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/hash.h"
#include "evidence/verify.h"
#include "kura/clock.h"
#include "renewal/chains.h"
#include "renewal/signed.h"
#include "renewal/store_policy.h"
#include "renewal/tsa_setup.h"

static const char usage[] = "kura verify STORE [ID...] [--json]";

struct object_data {
	kura_store *st;
	const char *id;
	int group; /* a data object group: a signed document */
};

/* The digests of the object's stored bytes (and its group's), read back and checked. */
static int digest_object(void *ud, const EVP_MD *md, unsigned char *out, size_t *count, kura_error *err)
{
	struct object_data *d = ud;
	int rc = kura_object_digests(out, count, d->st, d->id, md, 1, err);
	d->group |= rc == 0 && *count > 1;
	return rc;
}

struct run {
	kura_store *st;
	STACK_OF(X509) *signers;
	kura_er_verify_opts opts;
	kura_evidence_cache *cache;
	int json;
	size_t total, valid;
};

static json_t *verdict_only(const char *verdict, const char *integrity, const char *reason)
{
	return json_pack("{s:s, s:s, s:s, s:[], s:s}", "verdict", verdict, "integrity", integrity, "trust",
			 "indeterminate", "chains", "reason", reason);
}

static int verify_one(struct run *r, const char *id, kura_error *err)
{
	unsigned char *der = NULL;
	size_t len = 0;
	json_t *report = NULL;
	kura_error e = {0};
	struct object_data d = {r->st, id, 0};
	int rc = kura_object_evidence(&der, &len, r->st, id, r->cache, &e);
	if (rc == KURA_ENOTFOUND && strstr(e.message, "not sealed")) {
		report = verdict_only("indeterminate", "valid", e.message);
	} else if (rc == KURA_EVERIFY) {
		report = verdict_only("invalid", "invalid", e.message);
	} else if (rc != 0) {
		*err = e;
		return rc;
	} else {
		r->opts.digest_ud = &d;
		rc = kura_er_verify(&report, der, len, &r->opts, &e);
		free(der);
		if (rc == KURA_EVERIFY) /* the stored bytes are damaged */
			report = verdict_only("invalid", "invalid", e.message);
		else if (rc != 0) {
			*err = e;
			return rc;
		}
	}
	/* a signed document: its signature at the time the evidence proves */
	int64_t proven;
	json_t *sig = NULL;
	if (d.group && kura_er_report_proven(&proven, report) == 0 &&
	    (rc = kura_signed_verify(&sig, r->st, id, r->signers, r->opts.anchors, proven, &e)) != 0) {
		json_decref(report);
		*err = e;
		return rc;
	}
	if (sig)
		kura_er_report_signature(report, sig);
	json_object_set_new(report, "id", json_string(id));
	const char *verdict = json_string_value(json_object_get(report, "verdict"));
	r->total++;
	r->valid += strcmp(verdict, "valid") == 0;
	if (r->json) {
		char *text = json_dumps(report, JSON_COMPACT);
		printf("%s\n", text);
		free(text);
	} else {
		const char *reason = json_string_value(json_object_get(report, "reason"));
		const char *sig = json_string_value(json_object_get(report, "signature"));
		printf("%s\t%s", id, verdict);
		if (sig)
			printf("\tsignature %s at %s", sig, json_string_value(json_object_get(report, "signature_at")) ?: "?");
		printf("%s%s\n", reason ? "\t" : "", reason ? reason : "");
	}
	json_decref(report);
	return 0;
}

static int verify_each(void *ud, const char *id, kura_error *err)
{
	return verify_one(ud, id, err);
}

int kura_cmd_verify(int argc, char **argv)
{
	struct run r = {0};
	int bad = kura_cli_json_option(argc, argv, usage, &r.json);
	if (bad)
		return bad;
	if (argc - optind < 1)
		return kura_cli_usage(usage, "verify takes a STORE and optionally IDs");
	kura_error err = {0};
	kura_trust_cache *trust = NULL;
	STACK_OF(X509) *anchors = NULL;
	int rc = kura_store_open(&r.st, argv[optind], KURA_STORE_READ, &err);
	if (rc == 0)
		rc = kura_tsa_setup_anchors(&anchors, r.st, &err);
	if (rc == 0)
		rc = kura_signed_anchors(&r.signers, r.st, &err);
	kura_policy *policy = NULL;
	if (rc == 0)
		rc = kura_store_policy_load(&policy, r.st, &err);
	if (rc == 0)
		rc = kura_trust_cache_new(&trust, &err);
	if (rc == 0)
		rc = kura_evidence_cache_new(&r.cache, &err);
	if (rc == 0)
		rc = kura_clock_now(&r.opts.at_ms, &err);
	r.opts.anchors = anchors;
	r.opts.cache = trust;
	r.opts.digest = digest_object;
	r.opts.algorithm_end = kura_policy_algorithm_end;
	r.opts.algorithm_ud = policy;
	if (rc == 0 && argc - optind == 1)
		rc = kura_store_each_id(r.st, verify_each, &r, &err);
	for (int i = optind + 1; rc == 0 && i < argc; i++) {
		json_t *probe = NULL;
		if ((rc = kura_store_object(&probe, r.st, argv[i], &err)) == 0)
			rc = verify_one(&r, json_string_value(json_object_get(probe, "id")), &err);
		json_decref(probe);
	}
	kura_evidence_cache_free(r.cache);
	kura_trust_cache_free(trust);
	sk_X509_pop_free(anchors, X509_free);
	sk_X509_pop_free(r.signers, X509_free);
	kura_policy_free(policy);
	kura_store_close(r.st);
	fflush(stdout);
	if (rc != 0)
		return kura_cli_fail(&err);
	if (!r.json || r.total != r.valid)
		fprintf(stderr, "kura: %zu of %zu object(s) verified valid\n", r.valid, r.total);
	return r.valid == r.total ? 0 : 1;
}
