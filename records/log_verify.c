/* `kura log --verify` (docs/RECORDS.md): is the audit trail whole and unchanged,
 * and how much of it has evidence?
 *
 * - The chain: every record from 1 to the head is there, its seq is its place,
 *   its prev is the SHA-256 of the body before it, and its body hashes to what
 *   the index noted when it was written. A record changed in its segment (even
 *   with its CRCs made to match) breaks the next record's prev; one cut out
 *   leaves a gap; a damaged one does not read.
 * - The checkpoints: consecutive, each one's content equal byte for byte to the
 *   bodies of the records it holds, and its evidence valid (the store's own
 *   verification of an object, kura/verify.h). A checkpoint not sealed yet
 *   leaves its records uncovered: not a problem, but said.
 * - No loss a reindex recorded waits for a person (archive/loss.c): the chain
 *   can be whole again after a reindex that lost its last records. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "archive/audit.h"
#include "archive/store_impl.h"
#include "common/hex.h"
#include "kura/records.h"
#include "kura/verify.h"
#include "records/retention_impl.h"

struct check {
	kura_store *st;
	kura_log_check *out;
	kura_log_problem_fn problem;
	void *ud;
	uint64_t expect;       /* the next seq */
	char prev[65];         /* the hex SHA-256 of the body before it; "" when unknown */
	uint64_t covered;      /* the records up to here are in valid, sealed checkpoints */
	int gap;               /* a checkpoint was missing or failed: nothing after it is covered */
	uint64_t last_to;      /* where the checkpoint before ended */
	int head_own;          /* the last record read is a checkpoint's own commit record */
	uint64_t place;        /* where the record before is stored */
	kura_verifier *v;
};

static void say(struct check *c, uint64_t seq, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(struct check *c, uint64_t seq, const char *fmt, ...)
{
	char what[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	c->out->problems++;
	if (c->problem)
		c->problem(c->ud, seq, what);
}

static void check_body(struct check *c, const kura_index_chain_link *l, const char *text, size_t len)
{
	unsigned char h[32];
	char hex[65];
	EVP_Digest(text, len, h, NULL, EVP_sha256(), NULL);
	kura_hex_encode(hex, h, 32);
	json_t *e = json_loadb(text, len, 0, NULL);
	json_int_t seq = json_integer_value(json_object_get(e, "seq"));
	const char *prev = json_string_value(json_object_get(e, "prev"));
	if (!e)
		say(c, l->seq, "audit record %s is not JSON", l->id);
	else if (seq < 0 || (uint64_t)seq != l->seq)
		say(c, l->seq, "audit record %s says it is record %lld", l->id, (long long)seq);
	else if (memcmp(h, l->hash, 32) != 0)
		say(c, l->seq, "audit record %s was changed after it was written: its body no longer has the hash "
			       "the index noted then", l->id);
	else if (c->prev[0] && (!prev || strcmp(prev, c->prev) != 0))
		say(c, l->seq, "audit record %s does not follow record %llu: its prev is not the SHA-256 of that "
			       "record's body (one of the two was changed)", l->id, (unsigned long long)l->seq - 1);
	const char *action = json_string_value(json_object_get(e, "action"));
	c->head_own = action && strcmp(action, "checkpoint") == 0;
	json_decref(e);
	memcpy(c->prev, hex, sizeof hex);
}

int kura_records_audit_place(kura_store *st, const char *id, uint64_t *place, kura_error *err)
{
	uint32_t segno = 0;
	uint64_t offset = 0;
	int rc = kura_index_get_audit(kura_store_index(st), id, &segno, &offset, err);
	*place = KURA_RECORDS_PLACE(segno, offset);
	return rc;
}

static int check_link(void *ud, const kura_index_chain_link *l, kura_error *err)
{
	struct check *c = ud;
	uint64_t place;
	if (kura_records_audit_place(c->st, l->id, &place, err) != 0)
		return err->code;
	if (place <= c->place)
		say(c, l->seq, "audit record %s is stored before record %llu: the segments were reordered, and what "
			       "reindex derives from the trail (holds, events) is not what was recorded", l->id,
		    (unsigned long long)l->seq - 1);
	c->place = place;
	char *text = NULL;
	size_t len = 0;
	if (l->seq != c->expect) {
		kura_audit_lost lost = {0};
		kura_error ignored = {0};
		int recorded = kura_audit_lost_line(&lost, c->st, c->expect, &ignored) == 0;
		say(c, c->expect, "audit records %llu to %llu are missing from the chain%s%s%s", (unsigned long long)c->expect,
		    (unsigned long long)l->seq - 1, recorded ? " (a reindex recorded the loss: audit record " : "",
		    recorded ? lost.by : "", recorded ? ")" : "");
		c->prev[0] = '\0';
	}
	c->expect = l->seq + 1;
	c->out->records++;
	kura_error why = {0};
	int rc = kura_store_audit_text(&text, &len, c->st, l->id, &why);
	if (rc == KURA_EVERIFY || rc == KURA_ENOTFOUND) {
		say(c, l->seq, "audit record %s cannot be read: %s", l->id, why.message);
		c->prev[0] = '\0';
		return 0;
	}
	if (rc != 0) {
		*err = why;
		return rc;
	}
	check_body(c, l, text, len);
	free(text);
	return 0;
}

/* fn of kura_store_read: compares the checkpoint's bytes with what they must be. */
struct compare {
	const char *want;
	size_t len, at, differ; /* differ: the first differing offset + 1, 0 if none */
};

static int compare(void *ud, const unsigned char *p, size_t n, kura_error *err)
{
	(void)err;
	struct compare *m = ud;
	for (size_t i = 0; i < n && !m->differ; i++, m->at++)
		if (m->at >= m->len || (unsigned char)m->want[m->at] != p[i])
			m->differ = m->at + 1;
	if (m->differ)
		m->at += n; /* count the rest */
	return 0;
}

/* What checkpoint cp must hold: the bodies of its records, each with "\n" (*out
 * malloc'd), and for a record the chain lacks, in a checkpoint made after the
 * loss was recorded, the line archive/audit_checkpoint.c holds in its place. 1
 * when one of them is not there to compare (said, or said by the chain's check
 * already). */
static int expected(char **out, size_t *len, struct check *c, const kura_index_checkpoint *cp, kura_error *err)
{
	char *buf = NULL;
	size_t n = 0;
	int rc = 0;
	kura_audit_lost lost = {0};
	for (uint64_t seq = cp->from; rc == 0 && seq <= cp->to; seq++) {
		kura_index_chain_link l;
		kura_error why = {0};
		char *text = NULL, *grown;
		size_t tlen = 0;
		rc = kura_index_get_chain(kura_store_index(c->st), seq, &l, &why);
		if (rc == KURA_ENOTFOUND && kura_audit_lost_line(&lost, c->st, seq, &why) == 0 && strcmp(cp->id, lost.by) > 0)
			rc = (text = strndup(lost.line, tlen = lost.len)) ? 0 : kura_error_set(&why, KURA_EINTERNAL, "out of memory");
		else if (rc == KURA_ENOTFOUND)
			say(c, seq, "checkpoint %s holds audit record %llu, which the chain does not have", cp->id,
			    (unsigned long long)seq);
		else if (rc == 0)
			rc = kura_store_audit_text(&text, &tlen, c->st, l.id, &why);
		if (rc == KURA_ENOTFOUND || rc == KURA_EVERIFY)
			rc = 1;
		else if (rc != 0)
			*err = why;
		else if (!(grown = realloc(buf, n + tlen + 1)))
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		else {
			buf = grown;
			memcpy(buf + n, text, tlen);
			n += tlen;
			buf[n++] = '\n';
		}
		free(text);
	}
	if (rc != 0)
		free(buf);
	*out = rc == 0 ? buf : NULL;
	*len = n;
	return rc;
}

/* The seq of the record at offset at of a checkpoint's content. */
static uint64_t seq_at(const char *want, size_t len, uint64_t from, size_t at)
{
	uint64_t seq = from;
	for (size_t i = 0; i < at && i < len; i++)
		seq += want[i] == '\n';
	return seq;
}

/* The checkpoint's evidence, verified as any object's. */
static int check_evidence(struct check *c, const kura_index_checkpoint *cp, kura_error *err)
{
	json_t *report = NULL;
	int rc = kura_verifier_check(&report, c->v, cp->id, err);
	if (rc != 0)
		return rc;
	const char *verdict = json_string_value(json_object_get(report, "verdict"));
	const char *reason = json_string_value(json_object_get(report, "reason"));
	if (verdict && strcmp(verdict, "valid") == 0) {
		c->out->checkpoints++;
		if (!c->gap)
			c->covered = cp->to;
	} else {
		c->gap = 1;
		if (!reason || !strstr(reason, "not sealed"))
			say(c, cp->from, "checkpoint %s (records %llu to %llu): its evidence is %s: %s", cp->id,
			    (unsigned long long)cp->from, (unsigned long long)cp->to, verdict ? verdict : "unreadable",
			    reason ? reason : "no reason given");
	}
	json_decref(report);
	return 0;
}

static int check_checkpoint(void *ud, const kura_index_checkpoint *cp, kura_error *err)
{
	struct check *c = ud;
	char *want = NULL;
	size_t len = 0;
	if (cp->from != c->last_to + 1) {
		say(c, cp->from, "checkpoint %s holds records %llu to %llu, but the checkpoint before it ended at %llu",
		    cp->id, (unsigned long long)cp->from, (unsigned long long)cp->to, (unsigned long long)c->last_to);
		c->gap = 1;
	}
	c->last_to = cp->to;
	int rc = expected(&want, &len, c, cp, err);
	if (rc != 0) {
		c->gap = 1;
		return rc < 0 ? rc : 0;
	}
	struct compare m = {want, len, 0, 0};
	kura_error why = {0};
	rc = kura_store_read(c->st, cp->id, compare, &m, &why);
	if (rc == KURA_EVERIFY || rc == KURA_ENOTFOUND) {
		say(c, cp->from, "checkpoint %s cannot be read: %s", cp->id, why.message);
		c->gap = 1;
		rc = 0;
	} else if (rc != 0) {
		*err = why;
	} else if (m.differ || m.at != len) {
		uint64_t seq = seq_at(want, len, cp->from, m.differ ? m.differ - 1 : m.at);
		say(c, seq, "audit record %llu is not what checkpoint %s (records %llu to %llu) holds: it was changed "
			    "after that checkpoint was made", (unsigned long long)seq, cp->id, (unsigned long long)cp->from,
		    (unsigned long long)cp->to);
		c->gap = 1;
	} else {
		rc = check_evidence(c, cp, err);
	}
	free(want);
	return rc;
}

int kura_records_log_verify(kura_log_check *out, kura_store *st, kura_log_problem_fn problem, void *ud,
			    kura_error *err)
{
	memset(out, 0, sizeof *out);
	struct check c = {.st = st, .out = out, .problem = problem, .ud = ud, .expect = 1};
	memset(c.prev, '0', 64);
	c.prev[64] = '\0';
	kura_index_chain_link head;
	int rc = kura_index_chain_head(kura_store_index(st), &head, err);
	if (rc == 0)
		rc = kura_index_each_chain(kura_store_index(st), check_link, &c, err);
	kura_error loss = {0};
	if (rc == 0 && kura_records_loss_reviewed(st, &loss) != 0) /* the trail may lack what a reindex lost */
		say(&c, head.seq, "%s", loss.message);
	if (rc == 0)
		rc = kura_verifier_new(&c.v, st, 0, err);
	if (rc == 0)
		rc = kura_index_each_checkpoint(kura_store_index(st), check_checkpoint, &c, err);
	if (rc == 0)
		out->uncovered = head.seq > c.covered ? head.seq - c.covered : 0;
	/* the last checkpoint's own record waits for the next one, made once something else is written */
	if (rc == 0 && out->uncovered == 1 && c.head_own && c.covered == c.last_to)
		out->uncovered = 0;
	kura_verifier_free(c.v);
	return rc;
}

/* ---------------------------------------------------------------- before a disposal */

struct whole {
	kura_store *st;
	uint64_t next, missing, place, moved;
	kura_audit_lost lost;
};

static int whole_link(void *ud, const kura_index_chain_link *l, kura_error *err)
{
	struct whole *w = ud;
	uint64_t place;
	if (l->seq != w->next && !w->missing && kura_audit_first_unrecorded(&w->lost, w->st, w->next, l->seq) < l->seq)
		w->missing = w->next;
	if (kura_records_audit_place(w->st, l->id, &place, err) != 0)
		return err->code;
	if (place <= w->place && !w->moved)
		w->moved = l->seq;
	w->place = place;
	w->next = l->seq + 1;
	return 0;
}

/* A reindex lost parts of segments (archive/loss.c): 0 when none waits for a
 * person, else KURA_EIO saying what to do. */
int kura_records_loss_reviewed(kura_store *st, kura_error *err)
{
	char *text = NULL;
	kura_error lerr = {0};
	kura_index *ix = kura_store_index(st);
	if (kura_index_get_loss(ix, &text, &lerr) == 0) {
		free(text);
		return kura_error_set(err, KURA_EIO, "a reindex lost parts of segments and the audit record saying so was "
				      "not written: nothing is disposed of until it is (run kura reindex %s again)",
				      kura_store_path(st));
	}
	if (kura_index_get_state_of(ix, KURA_INDEX_SUSPENDED, "disposal", &text, &lerr) != 0)
		return 0;
	json_t *e = json_loads(text, 0, NULL);
	free(text);
	const char *when = json_string_value(json_object_get(e, "time"));
	int rc = kura_error_set(err, KURA_EIO, "disposal is suspended: the reindex of %s lost parts of segments (kura log "
				"shows what), and a legal hold or a retention event may have been among them; check the holds "
				"and events against your own records (kura hold ls, kura history), place again what is missing, "
				"then run kura dispose %s --resume --reason TEXT", when ? when : "an unknown time",
				kura_store_path(st));
	json_decref(e);
	return rc;
}

int kura_records_trail_in_order(kura_store *st, kura_error *err)
{
	struct whole w = {.st = st, .next = 1};
	kura_index_checkpoint cp = {0};
	int rc = kura_index_each_chain(kura_store_index(st), whole_link, &w, err);
	if (rc == 0)
		rc = kura_index_last_checkpoint(kura_store_index(st), &cp, err);
	if (rc == 0 && !w.missing && cp.to >= w.next)
		w.missing = w.next;
	if (rc == 0 && (w.missing || w.moved))
		rc = kura_error_set(err, KURA_EIO, "the audit trail %s record %llu: a hold or event may not count as recorded, "
				    "so nothing is disposed of until it is restored (kura log %s --verify; restore the "
				    "segments from a copy and run kura reindex)", w.missing ? "lacks" : "is out of order at",
				    (unsigned long long)(w.missing ? w.missing : w.moved), kura_store_path(st));
	return rc;
}

int kura_records_trail_whole(kura_store *st, kura_error *err)
{
	int rc = kura_records_trail_in_order(st, err);
	return rc == 0 ? kura_records_loss_reviewed(st, err) : rc;
}
