/* An Evidence Record verified against files (see kura/verify.h): what `kura
 * verify-er` does. */
#include <stdlib.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "evidence/verify.h"
#include "kura/clock.h"
#include "policies/policy.h"
#include "proof/signed.h"
#include "kura/verify.h"

#define MAX_ER_SIZE (256u << 20)

int kura_er_verify_files(json_t **out, const kura_er_files *f, kura_error *err)
{
	int rc = 0;
	kura_er_verify_opts o = {.anchors = f->anchors, .digest = kura_er_digest_group};
	kura_er_group g = {.member = {{.path = f->data}}, .n = 1};
	*out = NULL;
	if (f->signature)
		g.member[g.n++].path = f->signature;
	if (f->validation_data)
		g.member[g.n++].path = f->validation_data;
	o.digest_ud = &g;
	o.algorithm_end = f->policy ? kura_policy_algorithm_end : NULL;
	o.algorithm_ud = f->policy;
	rc = f->at ? kura_time_parse(&o.at_ms, f->at, err) : kura_clock_now(&o.at_ms, err);
	char *der = NULL;
	size_t len = 0;
	if (rc == 0 && kura_fs_read_file(f->er, MAX_ER_SIZE, &der, &len) != 0)
		rc = kura_error_sys(err, KURA_EINPUT, "cannot read %s", f->er);
	for (size_t i = 0; rc == 0 && i < g.n; i++)
		if (access(g.member[i].path, R_OK) != 0)
			rc = kura_error_sys(err, KURA_EINPUT, "cannot read %s", g.member[i].path);
	json_t *report = NULL;
	if (rc == 0)
		rc = kura_er_verify(&report, (unsigned char *)der, len, &o, err);
	if (rc == 0 && f->validation_data)
		rc = kura_signed_check_group(report, &g, f->signature != NULL, f->signers, f->anchors, err);
	free(der);
	if (rc != 0) {
		json_decref(report);
		return rc;
	}
	*out = report;
	return 0;
}
