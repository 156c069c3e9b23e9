/* The store's policy files and their changes (see store_policy.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "kura/clock.h"
#include "proof/store_policy.h"

static void path_of(char *buf, size_t n, const char *store, const char *file)
{
	snprintf(buf, n, "%s/%s", store, file);
}

int kura_store_policy_init(const char *store_path, const char *file_or_name, kura_error *err)
{
	kura_policy *p = NULL;
	char *text = NULL, path[4096];
	int rc = kura_policy_load(&p, &text, file_or_name ? file_or_name : KURA_DEFAULT_POLICY, err);
	kura_policy_free(p);
	if (rc != 0)
		return rc;
	path_of(path, sizeof path, store_path, "policy.yaml");
	if (kura_fs_write_file_atomic(path, text, strlen(text), 0644) != 0)
		rc = kura_error_sys(err, KURA_EIO, "writing %s", path);
	free(text);
	return rc;
}

json_t *kura_store_json_load(const char *store, const char *file, const char *what, kura_error *err, int *rc)
{
	char path[4096];
	json_error_t jerr;
	path_of(path, sizeof path, store, file);
	json_t *s = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	*rc = 0;
	if (s && !json_is_object(s)) {
		json_decref(s);
		*rc = kura_error_set(err, KURA_EIO, "%s is not a JSON object; the store's %s are damaged", path, what);
		return NULL;
	}
	if (!s) {
		FILE *f = fopen(path, "r");
		if (f) { /* there, but not JSON */
			fclose(f);
			*rc = kura_error_set(err, KURA_EIO, "%s: %s; the store's %s are damaged", path, jerr.text, what);
			return NULL;
		}
		if (errno != ENOENT) { /* there, but unreadable: never taken as "none" */
			*rc = kura_error_sys(err, KURA_EIO, "reading %s", path);
			return NULL;
		}
		s = json_object();
	}
	return s;
}

static json_t *load_sunsets(const char *store, kura_error *err, int *rc)
{
	return kura_store_json_load(store, "sunsets.json", "sunsets", err, rc);
}

int kura_store_policy_load(kura_policy **out, kura_store *st, kura_error *err)
{
	char path[4096];
	path_of(path, sizeof path, kura_store_path(st), "policy.yaml");
	int rc = kura_policy_load(out, NULL, path, err);
	if (rc != 0)
		return rc;
	json_t *sunsets = load_sunsets(kura_store_path(st), err, &rc);
	const char *alg;
	json_t *v;
	json_object_foreach(sunsets, alg, v) {
		int64_t day;
		const char *date = json_is_object(v) ? json_string_value(json_object_get(v, "from")) : NULL;
		char source[256];
		snprintf(source, sizeof source, "sunset declared %s: unsuitable from %s",
			 json_string_value(json_object_get(v, "declared")) ?: "?", date ?: "?");
		if (!date || kura_time_parse(&day, date, NULL) != 0 || kura_policy_sunset(*out, alg, day, source, err) != 0) {
			rc = kura_error_set(err, KURA_EIO, "the store's sunset for %s is damaged", alg);
			break;
		}
	}
	json_decref(sunsets);
	if (rc != 0) {
		kura_policy_free(*out);
		*out = NULL;
	}
	return rc;
}

int kura_store_policy_set(kura_store *st, const char *file_or_name, kura_error *err)
{
	kura_policy *fresh = NULL, *old = NULL;
	char *text = NULL;
	int rc = kura_policy_load(&fresh, &text, file_or_name, err);
	if (rc != 0)
		return rc;
	kura_store_policy_load(&old, st, NULL); /* for the log; a broken old one is replaced all the same */
	const char *const *urls;
	size_t nurls = kura_policy_tsa_urls(fresh, &urls);
	/* a policy that names TSAs chooses them: the policy and config.json change as one */
	if (nurls > 0)
		rc = kura_store_set_tsa_urls_with(st, urls, nurls, "policy.yaml", text, err);
	else
		rc = kura_store_write_file(st, "policy.yaml", text, strlen(text), err);
	if (rc == 0) {
		json_t *detail = json_pack("{s:s, s:s, s:s}", "from", old ? kura_policy_name(old) : "(unreadable)", "to",
					   kura_policy_name(fresh), "source", file_or_name);
		rc = kura_store_audit(st, "policy-set", detail, err);
		json_decref(detail);
	}
	free(text);
	kura_policy_free(fresh);
	kura_policy_free(old);
	return rc;
}

int kura_store_policy_sunset(kura_store *st, const char *alg, const char *day, kura_error *err)
{
	int64_t when, now;
	if (!kura_policy_known_algorithm(alg))
		return kura_error_set(err, KURA_EINPUT,
				      "unknown algorithm '%s' (kura knows " KURA_POLICY_ALGORITHMS ")", alg);
	int rc = kura_time_parse(&when, day, err);
	if (rc == 0)
		rc = kura_clock_now(&now, err);
	if (rc != 0)
		return rc;
	json_t *sunsets = load_sunsets(kura_store_path(st), err, &rc);
	if (!sunsets)
		return rc;
	char declared[KURA_TIME_BUFSZ];
	kura_time_format(declared, now);
	json_object_set_new(sunsets, alg, json_pack("{s:s, s:s}", "from", day, "declared", declared));
	char *text = json_dumps(sunsets, JSON_INDENT(2) | JSON_SORT_KEYS);
	rc = text ? kura_store_write_file(st, "sunsets.json", text, strlen(text), err)
		  : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0) {
		json_t *detail = json_pack("{s:s, s:s}", "algorithm", alg, "from", day);
		rc = kura_store_audit(st, "policy-sunset", detail, err);
		json_decref(detail);
	}
	free(text);
	json_decref(sunsets);
	return rc;
}
