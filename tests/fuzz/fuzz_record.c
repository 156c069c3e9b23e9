/* Harness: an RFC 4998 Evidence Record (DER) and its verification against data
 * (evidence/record.c, ers_asn1.c, verify.c, hashtree.c, and the tokens inside).
 *
 * Input: a count byte (members of the data object group, 0-3), that many parts
 * (u16 length + bytes: the data), then the record (fuzz_split). The record is
 * verified against those data at a fixed time with the fuzz anchors and the ETSI
 * policy judging algorithms; its tokens are walked; and it is adopted and
 * re-encoded as renewal would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "evidence/record.h"
#include "evidence/verify.h"
#include "policies/policy.h"
#include "tests/fuzz/fuzz_common.h"

struct group {
	const uint8_t *part[4];
	size_t len[4];
	size_t n;
};

static int digest(void *ud, const EVP_MD *md, unsigned char *out, size_t *count, kura_error *err)
{
	struct group *g = ud;
	size_t size = (size_t)EVP_MD_get_size(md);
	for (size_t i = 0; i < g->n; i++)
		if (!EVP_Digest(g->part[i], g->len[i], out + i * size, NULL, md, NULL))
			return kura_error_set(err, KURA_EINTERNAL, "digest failed");
	*count = g->n;
	return 0;
}

static int each_token(void *ud, size_t chain, size_t ats, size_t nats, const unsigned char *tok, size_t len,
		      kura_error *err)
{
	(void)ud, (void)chain, (void)ats, (void)nats, (void)tok, (void)len, (void)err;
	return 0; /* the walk is what is tested here; tokens have fuzz_tst */
}

static void adopt(const uint8_t *der, size_t len)
{
	kura_er_adopted *a = NULL;
	kura_er_builder *b = NULL;
	unsigned char *out = NULL;
	size_t olen = 0;
	if (kura_er_adopted_new(&a, der, len, NULL) == 0 && kura_er_builder_new(&b, NULL) == 0 &&
	    kura_er_builder_adopt(b, a, NULL) == 0 && kura_er_builder_finish(b, &out, &olen, NULL) == 0)
		free(out);
	kura_er_builder_free(b);
	kura_er_adopted_free(a);
}

int fuzz_one(const uint8_t *data, size_t size)
{
	static kura_policy *policy; /* kept until exit */
	kura_trust_cache *cache = NULL;
	if (size < 1)
		return 0;
	if ((!policy && kura_policy_load(&policy, NULL, "etsi-ts-119-312", NULL) != 0) ||
	    kura_trust_cache_new(&cache, NULL) != 0)
		abort();
	struct group g = {.n = 1 + data[0] % 3};
	const uint8_t *part[4];
	size_t len[4];
	fuzz_split(data + 1, size - 1, g.n + 1, part, len);
	memcpy(g.part, part, sizeof part);
	memcpy(g.len, len, sizeof len);
	const uint8_t *der = part[g.n];
	size_t dlen = len[g.n];

	kura_er_verify_opts o = {.anchors = fuzz_anchors(), .at_ms = FUZZ_NOW_MS, .digest = digest, .digest_ud = &g, .cache = cache,
				 .algorithm_end = kura_policy_algorithm_end, .algorithm_ud = policy};
	json_t *report = NULL;
	kura_error err = {0};
	if (kura_er_verify(&report, der, dlen, &o, &err) == 0) {
		int64_t proven;
		kura_er_report_proven(&proven, report);
		char *text = json_dumps(report, 0);
		if (getenv("KURA_FUZZ_DEBUG")) /* to see what a seed reaches */
			fprintf(stderr, "%s\n", text);
		free(text);
	}
	json_decref(report);
	size_t nchains = 0;
	kura_er_each_token(der, dlen, each_token, NULL, &nchains, NULL);
	adopt(der, dlen);
	kura_trust_cache_free(cache);
	return 0;
}
