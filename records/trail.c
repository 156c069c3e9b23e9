/* The audit trail of some objects, for an export (docs/FORMAT.md): the chain's
 * records about them or the records they belong to, exactly as stored, and the
 * checkpoints that hold any of those records, so that whoever receives the
 * package can check with the checkpoints' evidence that the trail existed
 * unchanged when they were sealed. */
#include <stdlib.h>
#include <string.h>

#include "archive/store_impl.h"
#include "kura/records.h"

struct collect {
	kura_trail *t;
	uint64_t *seqs;
	size_t nseqs, at; /* at: the first seq not below the checkpoints seen so far */
};

static int take(void *ud, const char *text, size_t len, json_t *e, int kind, kura_error *err)
{
	(void)kind;
	struct collect *c = ud;
	kura_trail *t = c->t;
	const char *action = json_string_value(json_object_get(e, "action"));
	if (action && strcmp(action, "export") == 0)
		return 0; /* the changes to the objects: an export is none, and two exports give the same package */
	char *grown = realloc(t->text, t->len + len + 2);
	uint64_t *seqs = realloc(c->seqs, (c->nseqs + 1) * sizeof *seqs);
	if (grown)
		t->text = grown;
	if (seqs)
		c->seqs = seqs;
	if (!grown || !seqs)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	memcpy(t->text + t->len, text, len);
	t->len += len;
	t->text[t->len++] = '\n';
	t->text[t->len] = '\0';
	c->seqs[c->nseqs++] = (uint64_t)json_integer_value(json_object_get(e, "seq"));
	t->records++;
	return 0;
}

/* A checkpoint is wanted when it holds one of the records taken (both ascend). */
static int pick(void *ud, const kura_index_checkpoint *cp, kura_error *err)
{
	struct collect *c = ud;
	kura_trail *t = c->t;
	while (c->at < c->nseqs && c->seqs[c->at] < cp->from)
		c->at++;
	if (c->at == c->nseqs || c->seqs[c->at] > cp->to)
		return 0;
	char *grown = realloc(t->checkpoints, (t->ncheckpoints + 1) * KURA_ID_LEN + 1);
	if (!grown)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	t->checkpoints = grown;
	memcpy(t->checkpoints + t->ncheckpoints++ * KURA_ID_LEN, cp->id, KURA_ID_LEN);
	return 0;
}

int kura_records_trail(kura_trail *out, kura_store *st, const char *ids, size_t n, kura_error *err)
{
	memset(out, 0, sizeof *out);
	if (n == 0)
		return 0;
	struct collect c = {.t = out};
	kura_log_query q = {.since = INT64_MIN, .until = INT64_MAX, .ids = ids, .nids = n, .chain_only = 1};
	int rc = kura_records_log(st, &q, take, &c, err);
	if (rc == 0 && c.nseqs)
		rc = kura_index_each_checkpoint(kura_store_index(st), pick, &c, err);
	free(c.seqs);
	if (rc != 0)
		kura_trail_clear(out);
	return rc;
}

void kura_trail_clear(kura_trail *t)
{
	free(t->text);
	free(t->checkpoints);
	memset(t, 0, sizeof *t);
}
