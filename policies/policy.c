/* Renewal policies from YAML with libyaml (format in policy.h). Every error
 * names the file and line, and a policy with any error is refused whole: a
 * value of the wrong type (an "until" that is a list, a mapping or no date) is
 * an error, never read as "no end". libyaml reads any bytes in time linear in
 * their length (libfyaml 0.7.12 looped forever on some). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "common/escape.h"
#include "common/fsutil.h"
#include "kura/clock.h"
#include "policies/policy.h"
#include "policies/yaml_doc.h"

extern const struct {
	const char *name;
	const char *text;
} kura_shipped_policies[];

static const char *const algorithm_names[] = {
	"sha1", "sha224", "sha256", "sha384", "sha512", "sha512-224", "sha512-256", "sha3-224", "sha3-256",
	"sha3-384", "sha3-512", "ripemd160", "rsa-2048", "rsa-3072", "rsa-4096", "ec-p256", "ec-p384", "ec-p521",
	"ed25519", "ed448", NULL,
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

static int days(int64_t *out, struct kura_yaml *y, yaml_node_t *margins, const char *key)
{
	const char *s;
	yaml_node_t *n;
	int rc = kura_yaml_lookup_scalar(&s, &n, y, margins, key);
	if (rc != 0 || !s)
		return rc;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < 0 || v > 36500)
		return kura_yaml_bad(y, n, "%s must be a number of days (0 to 36500)", key);
	*out = (int64_t)v * 86400000;
	return 0;
}

/* One entry of algorithms: NAME: {until: DATE or null, source: "..."}. */
static int algorithm(kura_policy *p, struct kura_yaml *y, yaml_node_t *k, yaml_node_t *v)
{
	const char *alg = kura_yaml_scalar(k), *source = NULL;
	int i = alg ? alg_index(alg) : -1;
	yaml_node_t *until = NULL;
	if (i < 0)
		return kura_yaml_bad(y, k, "unknown algorithm '%s' (kura knows " KURA_POLICY_ALGORITHMS ")", alg ? alg : "?");
	if (p->alg[i].listed)
		return kura_yaml_bad(y, k, "'%s' is given twice", alg);
	int rc = v && v->type == YAML_MAPPING_NODE ? kura_yaml_lookup(&until, y, v, "until") : 0;
	if (rc == 0 && v && v->type == YAML_MAPPING_NODE)
		rc = kura_yaml_lookup_scalar(&source, NULL, y, v, "source");
	if (rc != 0)
		return rc;
	if (!v || v->type != YAML_MAPPING_NODE || !until || !source)
		return kura_yaml_bad(y, k, "%s needs {until: DATE or null, source: \"...\"}", alg);
	p->alg[i].listed = 1;
	p->alg[i].end = KURA_NEVER;
	snprintf(p->alg[i].source, sizeof p->alg[i].source, "%s", source);
	if (kura_yaml_is_null(until))
		return 0;
	const char *u = kura_yaml_scalar(until);
	int64_t day;
	if (!u || strlen(u) != 10 || kura_time_parse(&day, u, NULL) != 0)
		return kura_yaml_bad(y, until, "until must be a date (YYYY-MM-DD) or null, not %s",
			   u ? u : until->type == YAML_SEQUENCE_NODE ? "a list" : "a mapping");
	p->alg[i].end = day + 86400000; /* it suffices through its last day */
	return 0;
}

static int tsa_urls(kura_policy *p, struct kura_yaml *y, yaml_node_t *root)
{
	yaml_node_t *urls;
	int rc = kura_yaml_lookup(&urls, y, root, "tsa-urls");
	if (rc != 0 || !urls || kura_yaml_is_null(urls))
		return rc;
	if (urls->type != YAML_SEQUENCE_NODE)
		return kura_yaml_bad(y, urls, "tsa-urls must be a list of http:// or https:// URLs%s", "");
	for (yaml_node_item_t *it = urls->data.sequence.items.start; it < urls->data.sequence.items.top; it++) {
		yaml_node_t *u = yaml_document_get_node(&y->doc, *it);
		const char *url = kura_yaml_scalar(u);
		if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) || p->nurls == 16 ||
		    kura_escape_needs_control(url, strlen(url)))
			return kura_yaml_bad(y, u, "'%s' is not an http:// or https:// TSA URL (at most 16, one line each)", url ? url : "?");
		if (!(p->urls[p->nurls] = strdup(url)))
			return kura_error_set(y->err, KURA_EINTERNAL, "out of memory");
		p->nurls++;
	}
	return 0;
}

static int read_policy(kura_policy *p, struct kura_yaml *y)
{
	yaml_node_t *root = yaml_document_get_root_node(&y->doc), *n, *margins, *algs;
	const char *version, *name, *title;
	if (!root || root->type != YAML_MAPPING_NODE)
		return kura_yaml_bad(y, NULL, "a policy is a YAML mapping with kura-policy, name, margins and algorithms%s", "");
	int rc = kura_yaml_lookup_scalar(&version, &n, y, root, "kura-policy");
	if (rc == 0 && (!version || strcmp(version, "1") != 0))
		rc = kura_yaml_bad(y, n, "kura-policy: 1 is missing (this kura reads policy format 1)%s", "");
	if (rc == 0)
		rc = kura_yaml_lookup_scalar(&name, NULL, y, root, "name");
	if (rc == 0)
		rc = kura_yaml_lookup_scalar(&title, NULL, y, root, "title");
	if (rc == 0 && (!name || !*name))
		rc = kura_yaml_bad(y, NULL, "the policy has no name%s", "");
	if (rc != 0)
		return rc;
	snprintf(p->name, sizeof p->name, "%s", name);
	snprintf(p->title, sizeof p->title, "%s", title ? title : name);
	/* Renewal falls due this long before a TSA certificate ends: a daemon that was
	 * stopped for 90 days still renews in time, and after `kura status` says AT RISK
	 * (from the due date on) a person has about 90 more days to act (trust a TSA's
	 * new root, find another TSA) before the evidence breaks. An algorithm's end is
	 * announced years ahead, so its margin is a year. */
	p->margin_cert = 180 * 86400000LL;
	p->margin_alg = 365 * 86400000LL;
	rc = kura_yaml_lookup(&margins, y, root, "margins");
	if (rc == 0 && margins && margins->type != YAML_MAPPING_NODE)
		rc = kura_yaml_bad(y, margins, "margins must be {certificate-days: N, algorithm-days: N}%s", "");
	if (rc == 0)
		rc = days(&p->margin_cert, y, margins, "certificate-days");
	if (rc == 0)
		rc = days(&p->margin_alg, y, margins, "algorithm-days");
	if (rc == 0)
		rc = kura_yaml_lookup(&algs, y, root, "algorithms");
	if (rc == 0 && (!algs || algs->type != YAML_MAPPING_NODE))
		rc = kura_yaml_bad(y, algs, "the policy has no algorithms mapping%s", "");
	for (yaml_node_pair_t *a = rc == 0 ? algs->data.mapping.pairs.start : NULL; a && a < algs->data.mapping.pairs.top && rc == 0; a++)
		rc = algorithm(p, y, yaml_document_get_node(&y->doc, a->key), yaml_document_get_node(&y->doc, a->value));
	if (rc == 0)
		rc = tsa_urls(p, y, root);
	return rc;
}

int kura_policy_parse(kura_policy **out, const char *text, size_t len, const char *origin, kura_error *err)
{
	struct kura_yaml y;
	int rc = kura_yaml_load(&y, text, len, origin, err);
	if (rc != 0)
		return rc;
	kura_policy *p = calloc(1, sizeof *p);
	rc = p ? read_policy(p, &y) : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	kura_yaml_free(&y);
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

const char *kura_policy_next_hash(const kura_policy *p, int64_t now)
{
	static const char *preference[] = {"sha512", "sha3-512", "sha384", "sha3-384", "sha256", "sha3-256", NULL};
	for (int i = 0; preference[i]; i++) {
		int64_t end;
		if (kura_policy_end(&end, NULL, p, preference[i]) == 0 && end > now + kura_policy_margin_algorithm(p))
			return preference[i];
	}
	return NULL;
}
