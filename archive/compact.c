/* Compaction: the storage side of disposal. The bytes of disposed objects
 * (index keys 'D', written by the records layer with the disposal record) are
 * really removed: every segment that holds a blob record only disposed objects
 * use is rewritten without it, and the index is moved to the new offsets.
 *
 * INVARIANTS
 * - Only blob records go, and only those whose content (SHA-256) no live object
 *   uses, as its document or as a member of its group (signature, validation
 *   data): identical content is stored once, so a blob shared with a live
 *   object stays. Object, evidence and audit records are never removed: they
 *   prove what existed. Kept records are copied byte for byte, in order.
 * - The active segment is never rewritten: when it holds such a blob it is
 *   rolled first, so every rewritten segment is a full one ('z' in the index),
 *   which no writer appends to.
 * - A segment is replaced whole or not at all. Its replacement is written and
 *   synced beside it (backend stage), while the journal 'K' + segment in the
 *   index says "staging". Then ONE synced index batch moves every entry that
 *   points into the segment to its new offset, deletes the dropped blobs' 'b'
 *   entries, sets the segment's new size ('z') and turns the journal to
 *   "committed". Then the replacement takes the segment's place in one step
 *   (backend replace: a rename), and the journal entry goes.
 * - After a crash (kura_compact_recover, at every open): a journal "staging"
 *   means the index still describes the old segment, which is in place: the
 *   replacement is discarded. "committed" means the index describes the
 *   replacement: if it is still beside the segment it is put in place. So the
 *   index always matches the segment once a store is open, and nothing
 *   committed is lost (the old segment stays until its replacement, synced,
 *   holds every record it kept).
 * - A damaged segment is not compacted (nothing is read past damage here):
 *   compaction stops and says to run kura scrub.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "archive/compact.h"
#include "archive/store_impl.h"
#include "common/hex.h"
#include "common/progress.h"

/* ---------------------------------------------------------------- what goes */

struct dead {
	unsigned char sha[32];
	int live; /* a live object uses it too */
};

struct gather {
	kura_store *st;
	struct dead *d;
	size_t n, cap;
	char **disposed; /* IDs, ascending (the walk's order) */
	size_t ndisposed, capdisposed, next;
};

static int cmp_sha(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* Calls fn for each SHA-256 an object's content uses (document, then members). */
static int each_content(const char *json, size_t len, int (*fn)(struct gather *, const unsigned char *),
			struct gather *g)
{
	json_t *j = json_loadb(json, len, 0, NULL), *members = json_object_get(j, "members");
	int rc = 0;
	for (size_t k = 0; j && rc == 0 && k <= json_array_size(members); k++) {
		const char *hex = json_string_value(json_object_get(k == 0 ? j : json_array_get(members, k - 1), "sha256"));
		unsigned char sha[32];
		if (hex && kura_hex_decode(sha, 32, hex) == 0)
			rc = fn(g, sha);
	}
	json_decref(j);
	return rc;
}

static int add_dead(struct gather *g, const unsigned char *sha)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		struct dead *grown = realloc(g->d, cap * sizeof *grown);
		if (!grown)
			return -1;
		g->d = grown;
		g->cap = cap;
	}
	memcpy(g->d[g->n].sha, sha, 32);
	g->d[g->n++].live = 0;
	return 0;
}

static int mark_live(struct gather *g, const unsigned char *sha)
{
	struct dead *d = bsearch(sha, g->d, g->n, sizeof *g->d, cmp_sha);
	if (d)
		d->live = 1;
	return 0;
}

static int on_disposed(void *ud, const char *id, const char *by, kura_error *err)
{
	(void)by;
	struct gather *g = ud;
	kura_index_object o = {0};
	int rc = kura_index_get_object(kura_store_index(g->st), id, &o, err);
	if (rc == KURA_ENOTFOUND) /* the records layer names versions; an unknown one has no content here */
		return 0;
	if (rc == 0 && g->ndisposed == g->capdisposed) {
		size_t cap = g->capdisposed ? g->capdisposed * 2 : 64;
		char **grown = realloc(g->disposed, cap * sizeof *grown);
		g->disposed = grown ? grown : g->disposed;
		g->capdisposed = grown ? cap : g->capdisposed;
	}
	if (rc == 0 && (g->ndisposed == g->capdisposed || !(g->disposed[g->ndisposed] = strdup(id)) ||
			each_content(o.json, o.json_len, add_dead, g) != 0))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	else if (rc == 0)
		g->ndisposed++;
	kura_index_object_clear(&o);
	return rc;
}

static int on_object(void *ud, const char *id, const kura_index_object *o, kura_error *err)
{
	(void)err;
	struct gather *g = ud;
	while (g->next < g->ndisposed && strcmp(g->disposed[g->next], id) < 0)
		g->next++;
	if (g->next < g->ndisposed && strcmp(g->disposed[g->next], id) == 0)
		return 0;
	return each_content(o->json, o->json_len, mark_live, g);
}

static void gather_free(struct gather *g)
{
	for (size_t i = 0; i < g->ndisposed; i++)
		free(g->disposed[i]);
	free(g->disposed);
	free(g->d);
}

/* The SHA-256s (sorted, *n of them, the caller's) that only disposed objects use. */
static int gather_dead(kura_store *st, unsigned char (**out)[32], size_t *n, kura_error *err)
{
	struct gather g = {.st = st};
	kura_index *ix = kura_store_index(st);
	int rc = kura_index_each_disposed(ix, on_disposed, &g, err);
	if (rc == 0 && g.n > 0) {
		qsort(g.d, g.n, sizeof *g.d, cmp_sha);
		rc = kura_index_each_object(ix, on_object, &g, err);
	}
	*n = 0;
	*out = rc == 0 ? malloc((g.n ? g.n : 1) * 32) : NULL;
	if (rc == 0 && !*out)
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < g.n; i++)
		if (!g.d[i].live && (*n == 0 || memcmp((*out)[*n - 1], g.d[i].sha, 32) != 0))
			memcpy((*out)[(*n)++], g.d[i].sha, 32);
	gather_free(&g);
	return rc;
}

/* The segments (ascending, the caller's) whose blob entries hold dead content. */
static int dead_segments(kura_store *st, unsigned char (*dead)[32], size_t n, uint32_t **segs, size_t *nsegs,
			 kura_error *err)
{
	*segs = malloc((n ? n : 1) * sizeof **segs);
	*nsegs = 0;
	if (!*segs)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		kura_index_blob b;
		int rc = kura_index_get_blob(kura_store_index(st), dead[i], &b, err);
		if (rc == KURA_ENOTFOUND) /* removed by an earlier compaction */
			continue;
		if (rc != 0)
			return rc;
		size_t j = 0;
		while (j < *nsegs && (*segs)[j] != b.segno)
			j++;
		if (j == *nsegs)
			(*segs)[(*nsegs)++] = b.segno;
	}
	for (size_t i = 1; i < *nsegs; i++) /* few: insertion sort */
		for (size_t j = i; j > 0 && (*segs)[j - 1] > (*segs)[j]; j--) {
			uint32_t t = (*segs)[j];
			(*segs)[j] = (*segs)[j - 1];
			(*segs)[j - 1] = t;
		}
	return 0;
}

/* ---------------------------------------------------------------- one segment */

struct copier {
	kura_backend *be;
	kura_seg *in;                /* the segment, to read blob tails ahead */
	kura_segment_writer *w;      /* its replacement */
	kura_record_writer r;
	int keep, begun;
	unsigned char (*dead)[32];
	size_t ndead;
	kura_index_move *moves;
	size_t nmoves, capmoves;
	uint64_t dropped;
	kura_progress *progress;
	uint64_t done_before;
};

/* Whether the blob record at info holds dead content (its tail names it). */
static int blob_is_dead(struct copier *c, const kura_record_info *info, int *dead, kura_error *err)
{
	unsigned char tail[KURA_BLOB_TAIL];
	size_t got = 0;
	*dead = 0;
	if (info->body_len < KURA_BLOB_PREFIX + KURA_BLOB_TAIL)
		return 0; /* not a blob kura wrote: kept as it is */
	uint64_t at = info->offset + KURA_RECORD_HEADER + info->body_len - KURA_BLOB_TAIL;
	if (c->be->read(c->in, at, tail, sizeof tail, &got) != 0 || got != sizeof tail)
		return kura_error_sys(err, KURA_EIO, "reading segment %08u at %llu", info->segno, (unsigned long long)at);
	*dead = bsearch(tail + 8, c->dead, c->ndead, 32, cmp_sha) != NULL;
	return 0;
}

static int copy_body(void *ud, const kura_record_info *info, uint64_t off, const unsigned char *p, size_t n,
		     kura_error *err)
{
	struct copier *c = ud;
	int rc = 0, dead = 0;
	if (off == 0) {
		c->begun = 0;
		if (info->type == KURA_RECORD_BLOB && (rc = blob_is_dead(c, info, &dead, err)) != 0)
			return rc;
		c->keep = !dead;
	}
	if (c->keep && !c->begun) {
		if ((rc = kura_record_begin(c->w, &c->r, info->type, err)) != 0)
			return rc;
		c->begun = 1;
	}
	return c->keep ? kura_record_append(c->w, &c->r, p, n, err) : 0;
}

static int copy_record(void *ud, const kura_record_info *info, kura_error *err)
{
	struct copier *c = ud;
	int rc = 0;
	if (info->body_len == 0) /* no body piece was seen */
		c->keep = 1, c->begun = 0;
	if (c->keep && !c->begun && (rc = kura_record_begin(c->w, &c->r, info->type, err)) != 0)
		return rc;
	if (c->keep && (rc = kura_record_finish(c->w, &c->r, err)) != 0)
		return rc;
	c->begun = 0;
	if (c->nmoves == c->capmoves) {
		size_t cap = c->capmoves ? c->capmoves * 2 : 1024;
		kura_index_move *grown = realloc(c->moves, cap * sizeof *grown);
		if (!grown)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		c->moves = grown;
		c->capmoves = cap;
	}
	c->moves[c->nmoves++] = (kura_index_move){info->offset, c->keep ? c->r.start : KURA_INDEX_GONE};
	c->dropped += !c->keep;
	return 0;
}

static int copy_damage(void *ud, uint32_t segno, uint64_t offset, uint64_t end, const char *why, int unfinished,
		       kura_error *err)
{
	(void)ud, (void)end, (void)unfinished;
	return kura_error_set(err, KURA_EDAMAGED, "segment %08u is damaged at byte %llu (%s): it is not compacted; see "
				"what is damaged with kura scrub", segno, (unsigned long long)offset, why);
}

static void copy_progress(void *ud, uint64_t bytes)
{
	struct copier *c = ud;
	kura_progress_update(c->progress, c->done_before + bytes, c->dropped);
}

/* Writes the journal entry of segno (sync: durably). */
static int journal(kura_index *ix, kura_index_batch *b, const kura_index_compaction *k, kura_error *err)
{
	kura_index_batch_clear(b);
	kura_index_batch_put_compaction(b, k);
	int rc = kura_index_write(ix, b, 1, err);
	kura_index_batch_clear(b);
	return rc;
}

/* Writes the replacement of segno without the dead blobs (synced): c->moves
 * then says where every record went, *new_size how long it is. */
static int stage_segment(struct copier *c, uint32_t segno, uint64_t *new_size, kura_error *err)
{
	static const kura_scan_ops ops = {copy_body, copy_record, copy_damage, copy_progress, NULL};
	uint64_t end;
	int rc = kura_segment_writer_replacement(&c->w, c->be, segno, err);
	if (rc == 0 && c->be->open(c->be, &c->in, segno, 0) != 0)
		rc = kura_error_sys(err, KURA_EIO, "opening segment %08u", segno);
	if (rc == 0)
		rc = kura_segment_scan(c->be, segno, 0, 0, &ops, c, &end, err);
	if (rc == 0)
		rc = kura_segment_writer_sync(c->w, err);
	if (rc == 0)
		*new_size = kura_segment_writer_tell(c->w);
	kura_segment_writer_close(c->w);
	c->w = NULL;
	if (c->in)
		c->be->close(c->in);
	c->in = NULL;
	return rc;
}

/* The index moved to the replacement in one synced batch, then the swap. */
static int switch_segment(kura_store *st, struct copier *c, kura_index_compaction *k, kura_index_batch *b,
			  kura_error *err)
{
	kura_index *ix = kura_store_index(st);
	kura_index_batch_clear(b);
	int rc = kura_index_relocate(ix, b, k->segno, c->moves, c->nmoves, err);
	if (rc != 0)
		return rc;
	kura_index_batch_put_sealed_size(b, k->segno, k->new_size);
	k->state = KURA_COMPACT_COMMITTED;
	kura_index_batch_put_compaction(b, k);
	if ((rc = kura_index_write(ix, b, 1, err)) != 0)
		return rc;
	kura_index_batch_clear(b);
	/* from here the index describes the replacement: a failure leaves the
	 * journal "committed", and the next open puts the replacement in place */
	kura_blob_reader_free(*kura_store_blob_reader(st)); /* it may hold the old segment open */
	*kura_store_blob_reader(st) = NULL;
	if (c->be->replace(c->be, k->segno) != 0)
		return kura_error_sys(err, KURA_EIO, "putting the compacted segment %08u in place (the next kura command "
				      "that opens the store finishes it)", k->segno);
	kura_index_batch_del_compaction(b, k->segno);
	rc = kura_index_write(ix, b, 0, err);
	kura_index_batch_clear(b);
	return rc;
}

static int compact_segment(kura_store *st, uint32_t segno, struct copier *c, kura_compact_result *res,
			   kura_error *err)
{
	kura_index *ix = kura_store_index(st);
	kura_index_batch *b = NULL;
	kura_index_compaction k = {segno, KURA_COMPACT_STAGING, 0, 0};
	if (c->be->stat(c->be, segno, &k.old_size) != 0)
		return kura_error_sys(err, KURA_EIO, "reading the size of segment %08u", segno);
	int rc = kura_index_batch_new(&b, err);
	if (rc == 0)
		rc = journal(ix, b, &k, err);
	c->nmoves = 0;
	c->dropped = 0;
	if (rc == 0 && (rc = stage_segment(c, segno, &k.new_size, err)) != 0) {
		/* undone now if the storage lets us, else at the next open */
		if (c->be->discard(c->be, segno) == 0) {
			kura_index_batch_del_compaction(b, segno);
			kura_index_write(ix, b, 1, NULL);
		}
	} else if (rc == 0) {
		rc = switch_segment(st, c, &k, b, err);
	}
	if (rc == 0) {
		res->segments++;
		res->blobs += c->dropped;
		res->bytes_before += k.old_size;
		res->bytes_after += k.new_size;
	}
	kura_index_batch_free(b);
	return rc;
}

/* ---------------------------------------------------------------- the whole store */

static int compact_segments(kura_store *st, const uint32_t *segs, size_t nsegs, unsigned char (*dead)[32],
			    size_t ndead, kura_compact_result *res, kura_error *err)
{
	struct copier c = {.be = kura_store_backend(st), .dead = dead, .ndead = ndead};
	uint64_t total = 0, size;
	for (size_t i = 0; i < nsegs; i++)
		if (c.be->stat(c.be, segs[i], &size) == 0)
			total += size;
	c.progress = kura_progress_new("compact", total);
	int rc = 0;
	for (size_t i = 0; i < nsegs && rc == 0; i++) {
		rc = compact_segment(st, segs[i], &c, res, err);
		if (c.be->stat(c.be, segs[i], &size) == 0)
			c.done_before += size;
	}
	kura_progress_free(c.progress);
	free(c.moves);
	return rc;
}

int kura_store_compact(kura_store *st, kura_compact_result *res, kura_error *err)
{
	memset(res, 0, sizeof *res);
	kura_segment_writer *w = kura_store_writer(st);
	if (!w)
		return kura_error_set(err, KURA_EINTERNAL, "compaction needs a store opened for writing");
	unsigned char (*dead)[32] = NULL;
	uint32_t *segs = NULL;
	size_t ndead = 0, nsegs = 0;
	int rc = gather_dead(st, &dead, &ndead, err);
	if (rc == 0)
		rc = dead_segments(st, dead, ndead, &segs, &nsegs, err);
	if (rc == 0 && nsegs > 0 && segs[nsegs - 1] == kura_segment_writer_segno(w))
		rc = kura_store_roll(st, err);
	if (rc == 0 && nsegs > 0)
		rc = compact_segments(st, segs, nsegs, dead, ndead, res, err);
	if (rc != 0)
		kura_error_wrap(err, "compacting %s", kura_store_path(st));
	free(dead);
	free(segs);
	return rc;
}

/* ---------------------------------------------------------------- after a crash */

struct recovery {
	kura_backend *be;
	kura_index *ix;
	int writable;
	int locked; /* a reader took the writer lock to finish a swap */
};

static int recover_one(void *ud, const kura_index_compaction *k, kura_error *err)
{
	struct recovery *r = ud;
	int staged = r->be->staged(r->be, k->segno) == 0;
	if (k->state == KURA_COMPACT_COMMITTED && staged) {
		if (!r->writable && !r->locked) { /* a reader finishes it only when no writer is at work */
			if (r->be->lock(r->be, 0, err) != 0)
				return 0;
			r->locked = 1;
		}
		if (r->be->replace(r->be, k->segno) != 0)
			return kura_error_sys(err, KURA_EIO, "putting the compacted segment %08u in place (a compaction "
					      "was interrupted)", k->segno);
	} else if (k->state == KURA_COMPACT_STAGING && staged && r->writable && r->be->discard(r->be, k->segno) != 0) {
		return kura_error_sys(err, KURA_EIO, "removing the unfinished replacement of segment %08u (a compaction "
				      "was interrupted)", k->segno);
	}
	if (!r->writable)
		return 0;
	kura_index_batch *b = NULL;
	int rc = kura_index_batch_new(&b, err);
	if (rc == 0) {
		kura_index_batch_del_compaction(b, k->segno);
		rc = kura_index_write(r->ix, b, 1, err);
	}
	kura_index_batch_free(b);
	return rc;
}

int kura_compact_recover(kura_backend *be, kura_index *ix, int writable, kura_error *err)
{
	struct recovery r = {be, ix, writable, 0};
	int rc = kura_index_each_compaction(ix, recover_one, &r, err);
	if (r.locked)
		be->unlock(be);
	return rc;
}
