/* Harness: CMS signatures of documents (evidence/signature.c), decided from the
 * signature, the document and stored validation data alone, as verify does
 * decades later.
 *
 * Input (fuzz_split): the document, the validation data (DER, may be empty or
 * not parse: then none), then the signature (DER or PEM, attached or detached).
 * It is decided at a fixed time against the fuzz anchors (signers and TSAs). */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "evidence/signature.h"
#include "evidence/vdata.h"
#include "tests/fuzz/fuzz_common.h"

struct doc {
	const uint8_t *p;
	size_t len;
};

static int content(void *ud, const EVP_MD *md, unsigned char *out, kura_error *err)
{
	const struct doc *d = ud;
	return EVP_Digest(d->p, d->len, out, NULL, md, NULL) ? 0 : kura_error_set(err, KURA_EINTERNAL, "digest failed");
}

int fuzz_one(const uint8_t *data, size_t size)
{
	const uint8_t *part[3];
	size_t len[3];
	fuzz_split(data, size, 3, part, len);
	kura_sig *s = NULL;
	if (kura_sig_parse(&s, part[2], len[2], NULL) != 0)
		return 0;
	kura_vdata *v = NULL;
	if (len[1] && kura_vdata_parse(&v, part[1], len[1], NULL) != 0)
		v = NULL;
	struct doc d = {part[0], len[0]};
	json_t *report = NULL;
	if (kura_sig_check(&report, s, kura_sig_attached(s) ? NULL : content, &d, v, fuzz_anchors(), fuzz_anchors(),
			   FUZZ_NOW_MS, NULL) == 0 && getenv("KURA_FUZZ_DEBUG")) {
		char *text = json_dumps(report, 0); /* to see what a seed reaches */
		fprintf(stderr, "%s\n", text);
		free(text);
	}
	json_decref(report);
	kura_vdata_free(v);
	kura_sig_free(s);
	return 0;
}
