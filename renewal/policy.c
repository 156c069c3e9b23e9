/* Renewal policies from YAML with libfyaml (format in policy.h). Every error
 * names the file and line, and a policy with any error is refused whole. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

#include "common/fsutil.h"
#include "kura/clock.h"
#include "renewal/policy.h"

extern const struct {
	const char *name;
	const char *text;
} kura_shipped_policies[];

static const char *const algorithm_names[] = {
	"sha256", "sha384", "sha512", "sha3-256", "sha3-384", "sha3-512", "rsa-2048", "rsa-3072",
	"rsa-4096", "ec-p256", "ec-p384", "ec-p521", "ed25519", "ed448", NULL,
};
#define NALG (sizeof algorithm_names / sizeof algorithm_names[0] - 1)

struct kura_policy {
	char name[128];
	char title[256];
	int64_t margin_cert, margin_alg;
	struct {
		int listed;
		int64_t end;
		char source[256];
	} alg[NALG];
	char *urls[16];
	size_t nurls;
};

static int alg_index(const char *name)
{
	for (size_t i = 0; i < NALG; i++)
		if (strcmp(name, algorithm_names[i]) == 0)
			return (int)i;
	return -1;
}

int kura_policy_known_algorithm(const char *name)
{
	return alg_index(name) >= 0;
}

const char *const *kura_policy_shipped(void)
{
	static const char *names[16];
	for (int i = 0; kura_shipped_policies[i].name && i < 15; i++)
		names[i] = kura_shipped_policies[i].name;
	return names;
}

static int line_of(struct fy_node *n)
{
	struct fy_token *t = n ? fy_node_get_scalar_token(n) : NULL;
	const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
	return m ? m->line + 1 : 0;
}

static int bad(kura_error *err, const char *origin, struct fy_node *n, const char *fmt, const char *what)
{
	char msg[512];
	snprintf(msg, sizeof msg, fmt, what ? what : "");
	int line = line_of(n);
	if (line)
		return kura_error_set(err, KURA_EINPUT, "%s line %d: %s; nothing was changed", origin, line, msg);
	return kura_error_set(err, KURA_EINPUT, "%s: %s; nothing was changed", origin, msg);
}

static const char *scalar(struct fy_node *n)
{
	return n && fy_node_is_scalar(n) ? fy_node_get_scalar0(n) : NULL;
}

static int days(int64_t *out, struct fy_node *n, const char *origin, const char *key, kura_error *err)
{
	const char *s = scalar(n);
	char *end;
	long v = s ? strtol(s, &end, 10) : -1;
	if (!s || *end || v < 0 || v > 36500)
		return bad(err, origin, n, "%s must be a number of days", key);
	*out = (int64_t)v * 86400000;
	return 0;
}

int kura_policy_parse(kura_policy **out, const char *text, size_t len, const char *origin, kura_error *err)
{
	struct fy_diag_cfg dcfg;
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = NULL;
	struct fy_diag *diag = fy_diag_create(&dcfg);
	if (diag)
		fy_diag_set_collect_errors(diag, true);
	struct fy_parse_cfg pcfg = {.flags = FYPCF_QUIET, .diag = diag};
	struct fy_document *doc = fy_document_build_from_string(&pcfg, text, len);
	kura_policy *p = calloc(1, sizeof *p);
	int rc = 0;
	if (!p) {
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		goto out;
	}
	if (!doc) {
		void *it = NULL;
		struct fy_diag_error *e = diag ? fy_diag_errors_iterate(diag, &it) : NULL;
		if (e)
			rc = kura_error_set(err, KURA_EINPUT, "%s line %d: %s; nothing was changed", origin, e->line, e->msg);
		else
			rc = kura_error_set(err, KURA_EINPUT, "%s is not valid YAML; nothing was changed", origin);
		goto out;
	}
	struct fy_node *root = fy_document_root(doc);
	if (!root || !fy_node_is_mapping(root)) {
		rc = bad(err, origin, NULL, "a policy is a YAML mapping with kura-policy, name, margins and algorithms%s", "");
		goto out;
	}
	const char *version = scalar(fy_node_mapping_lookup_by_string(root, "kura-policy", -1));
	if (!version || strcmp(version, "1") != 0) {
		rc = bad(err, origin, fy_node_mapping_lookup_by_string(root, "kura-policy", -1),
			 "kura-policy: 1 is missing (this kura reads policy format 1)%s", "");
		goto out;
	}
	const char *name = scalar(fy_node_mapping_lookup_by_string(root, "name", -1));
	const char *title = scalar(fy_node_mapping_lookup_by_string(root, "title", -1));
	if (!name || !*name) {
		rc = bad(err, origin, NULL, "the policy has no name%s", "");
		goto out;
	}
	snprintf(p->name, sizeof p->name, "%s", name);
	snprintf(p->title, sizeof p->title, "%s", title ? title : name);
	p->margin_cert = 90 * 86400000LL;
	p->margin_alg = 365 * 86400000LL;
	struct fy_node *margins = fy_node_mapping_lookup_by_string(root, "margins", -1);
	if (margins) {
		struct fy_node *m;
		if ((m = fy_node_mapping_lookup_by_string(margins, "certificate-days", -1)) &&
		    (rc = days(&p->margin_cert, m, origin, "certificate-days", err)) != 0)
			goto out;
		if ((m = fy_node_mapping_lookup_by_string(margins, "algorithm-days", -1)) &&
		    (rc = days(&p->margin_alg, m, origin, "algorithm-days", err)) != 0)
			goto out;
	}
	struct fy_node *algs = fy_node_mapping_lookup_by_string(root, "algorithms", -1);
	if (!algs || !fy_node_is_mapping(algs)) {
		rc = bad(err, origin, NULL, "the policy has no algorithms mapping%s", "");
		goto out;
	}
	void *it = NULL;
	struct fy_node_pair *pair;
	while ((pair = fy_node_mapping_iterate(algs, &it))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		const char *alg = scalar(k);
		int i = alg ? alg_index(alg) : -1;
		if (i < 0) {
			rc = bad(err, origin, k, "unknown algorithm '%s' (kura knows sha256, sha384, sha512, sha3-256, "
						 "sha3-384, sha3-512, rsa-2048, rsa-3072, rsa-4096, ec-p256, ec-p384, "
						 "ec-p521, ed25519, ed448)", alg ? alg : "?");
			goto out;
		}
		struct fy_node *until = v && fy_node_is_mapping(v) ? fy_node_mapping_lookup_by_string(v, "until", -1) : NULL;
		const char *source = v && fy_node_is_mapping(v) ? scalar(fy_node_mapping_lookup_by_string(v, "source", -1)) : NULL;
		if (!v || !fy_node_is_mapping(v) || !until || !source) {
			rc = bad(err, origin, k, "%s needs {until: DATE or null, source: \"...\"}", alg);
			goto out;
		}
		const char *u = scalar(until);
		p->alg[i].listed = 1;
		p->alg[i].end = KURA_NEVER;
		snprintf(p->alg[i].source, sizeof p->alg[i].source, "%s", source);
		if (u && strcmp(u, "null") != 0 && strcmp(u, "~") != 0 && *u) {
			int64_t day;
			if (strlen(u) != 10 || kura_time_parse(&day, u, NULL) != 0) {
				rc = bad(err, origin, until, "until must be a date (YYYY-MM-DD) or null, not '%s'", u);
				goto out;
			}
			p->alg[i].end = day + 86400000; /* it suffices through its last day */
		}
	}
	struct fy_node *urls = fy_node_mapping_lookup_by_string(root, "tsa-urls", -1);
	if (urls && !fy_node_is_sequence(urls)) {
		rc = bad(err, origin, urls, "tsa-urls must be a list of http:// or https:// URLs%s", "");
		goto out;
	}
	void *uit = NULL;
	struct fy_node *u;
	while (urls && (u = fy_node_sequence_iterate(urls, &uit))) {
		const char *url = scalar(u);
		if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) || p->nurls == 16) {
			rc = bad(err, origin, u, "'%s' is not an http:// or https:// TSA URL (at most 16)", url ? url : "?");
			goto out;
		}
		p->urls[p->nurls++] = strdup(url);
	}
out:
	fy_document_destroy(doc);
	fy_diag_destroy(diag);
	if (rc != 0) {
		kura_policy_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int kura_policy_load(kura_policy **out, char **text, const char *file_or_name, kura_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	if (strchr(file_or_name, '/') || strstr(file_or_name, ".yaml") || strstr(file_or_name, ".yml")) {
		if (kura_fs_read_file(file_or_name, 1u << 20, &buf, &len) != 0) /* a file not there is bad input, a disk failing is not */
			return kura_error_sys(err, errno == EIO || errno == ENOMEM ? KURA_EIO : KURA_EINPUT,
					      "cannot read policy file %s", file_or_name);
	} else {
		for (int i = 0; kura_shipped_policies[i].name; i++)
			if (strcmp(kura_shipped_policies[i].name, file_or_name) == 0 && (buf = strdup(kura_shipped_policies[i].text)))
				len = strlen(buf);
		if (!buf) {
			char names[512] = "";
			for (int i = 0; kura_shipped_policies[i].name; i++)
				snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
					 kura_shipped_policies[i].name);
			return kura_error_set(err, KURA_EINPUT, "no policy named '%s' (shipped: %s; or give a file)", file_or_name,
					      names);
		}
	}
	int rc = kura_policy_parse(out, buf, len, file_or_name, err);
	if (rc == 0 && text)
		*text = buf;
	else
		free(buf);
	return rc;
}

void kura_policy_free(kura_policy *p)
{
	for (size_t i = 0; p && i < p->nurls; i++)
		free(p->urls[i]);
	free(p);
}

size_t kura_policy_tsa_urls(const kura_policy *p, const char *const **urls)
{
	*urls = (const char *const *)p->urls;
	return p->nurls;
}

const char *kura_policy_name(const kura_policy *p) { return p->name; }
int64_t kura_policy_margin_certificate(const kura_policy *p) { return p->margin_cert; }
int64_t kura_policy_margin_algorithm(const kura_policy *p) { return p->margin_alg; }

int kura_policy_end(int64_t *end, const char **source, const kura_policy *p, const char *alg)
{
	int i = alg_index(alg);
	if (i < 0 || !p->alg[i].listed)
		return KURA_ENOTFOUND;
	*end = p->alg[i].end;
	if (source)
		*source = p->alg[i].source;
	return 0;
}

int kura_policy_sunset(kura_policy *p, const char *alg, int64_t day, const char *source, kura_error *err)
{
	int i = alg_index(alg);
	if (i < 0)
		return kura_error_set(err, KURA_EINPUT, "unknown algorithm '%s'", alg);
	if (p->alg[i].listed && p->alg[i].end <= day)
		return 0; /* the policy already ends it earlier */
	p->alg[i].listed = 1;
	p->alg[i].end = day;
	snprintf(p->alg[i].source, sizeof p->alg[i].source, "%s", source);
	return 0;
}

json_t *kura_policy_json(const kura_policy *p)
{
	json_t *algs = json_object();
	for (size_t i = 0; i < NALG; i++) {
		if (!p->alg[i].listed)
			continue;
		char day[KURA_TIME_BUFSZ];
		json_t *until = json_null();
		if (p->alg[i].end != KURA_NEVER) {
			kura_time_format(day, p->alg[i].end - 86400000);
			day[10] = '\0';
			until = json_string(day);
		}
		json_object_set_new(algs, algorithm_names[i], json_pack("{s:o, s:s}", "until", until, "source", p->alg[i].source));
	}
	json_t *urls = json_array();
	for (size_t i = 0; i < p->nurls; i++)
		json_array_append_new(urls, json_string(p->urls[i]));
	return json_pack("{s:s, s:s, s:{s:I, s:I}, s:o, s:o}", "name", p->name, "title", p->title, "margins",
			 "certificate-days", (json_int_t)(p->margin_cert / 86400000), "algorithm-days",
			 (json_int_t)(p->margin_alg / 86400000), "algorithms", algs, "tsa-urls", urls);
}

int64_t kura_policy_algorithm_end(void *ud, const char *alg)
{
	int64_t end;
	const char *source;
	return kura_policy_end(&end, &source, ud, alg) == 0 ? end : KURA_NEVER;
}
