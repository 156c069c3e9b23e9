/* Upkeep of a store's embedded TSA (see tsa_upkeep.h), done before every seal
 * and renewal: evidence must never be made or renewed with a dying key. */
#include <stdio.h>

#include "common/log.h"
#include "evidence/tsa.h"
#include "evidence/tst.h"
#include "kura/clock.h"
#include "proof/store_policy.h"
#include "proof/tsa_upkeep.h"

/* Does the policy accept new signatures with this kind of key for at least the margin? */
static int key_suffices(const kura_policy *p, const char *key, int64_t now)
{
	int64_t end;
	return kura_policy_end(&end, NULL, p, key) != 0 || end == KURA_NEVER || end - kura_policy_margin_algorithm(p) > now;
}

/* Rolls the embedded TSA over when its certificate ends within the margin or
 * its key stops sufficing: evidence must never be renewed with a dying key. */
int kura_tsa_upkeep_at(int *rolled, kura_store *st, const kura_policy *p, int64_t now, kura_error *err)
{
	const char *const *urls;
	char dir[4096];
	*rolled = 0;
	if (kura_store_tsa_urls(st, &urls) > 0)
		return 0;
	snprintf(dir, sizeof dir, "%s/tsa", kura_store_path(st));
	if (!kura_tsa_exists(dir))
		return 0;
	kura_tsa *t = NULL;
	int rc = kura_tsa_open(&t, dir, err);
	if (rc != 0)
		return rc;
	int64_t end;
	char key[32];
	kura_tsa_key_alg(t, key, sizeof key);
	int due = kura_asn1_time_ms(&end, X509_get0_notAfter(kura_tsa_cert(t))) != 0 ||
		  end - kura_policy_margin_certificate(p) <= now;
	int key_ends = !key_suffices(p, key, now);
	kura_tsa_close(t);
	if (!due && !key_ends)
		return 0;
	/* keep the kind of key while the policy accepts it, else take the first it does */
	static const char *kinds[] = {"ec-p256", "ec-p384", "rsa-3072", "rsa-4096", NULL};
	const char *next = key_ends ? NULL : key;
	for (int i = 0; !next && kinds[i]; i++)
		if (key_suffices(p, kinds[i], now))
			next = kinds[i];
	if (!next)
		return kura_error_set(err, KURA_EINPUT, "policy %s accepts no key kind the embedded TSA can use any more",
				      kura_policy_name(p));
	if ((rc = kura_tsa_rollover(dir, next, err)) != 0)
		return rc;
	*rolled = 1;
	json_t *detail = json_pack("{s:s}", "why", "its certificate or key nears its end");
	rc = kura_store_audit(st, "tsa-rollover", detail, err);
	json_decref(detail);
	kura_log_message(KURA_LOG_INFO, "the embedded TSA rolled over to a new key and certificate");
	return rc;
}

int kura_tsa_upkeep(int *rolled, kura_store *st, kura_error *err)
{
	kura_policy *p = NULL;
	int64_t now;
	int rc = kura_clock_now(&now, err);
	if (rc == 0)
		rc = kura_store_policy_load(&p, st, err);
	if (rc == 0)
		rc = kura_tsa_upkeep_at(rolled, st, p, now, err);
	kura_policy_free(p);
	return rc;
}
