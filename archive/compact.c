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
 *   prove what existed. Kept records are copied in order, each framed again
 *   with its type and body (the same bytes: kura's records carry flags 0), after
 *   the scan has checked it whole.
 * - The active segment is never rewritten: when it holds such a blob it is
 *   rolled first, so every rewritten segment is a full one ('z' in the index),
 *   which no writer appends to.
 * - A segment is replaced whole or not at all. Segments go in groups (up to
 *   256 MiB, so that the index is walked once per group). Each one's replacement
 *   is written and synced beside it (backend stage), while the journal 'K' +
 *   segment in the index says "staging". Then ONE synced index batch moves every
 *   entry that points into the group's segments to its new offset, deletes the
 *   dropped blobs' 'b' entries, sets each segment's new size ('z') and turns
 *   their journal entries to "committed". Then each replacement takes its
 *   segment's place in one step (backend replace: a rename), and the journal
 *   entries go.
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
#include "common/endian.h"
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

/* Calls fn for each SHA-256 an object's content uses (document, then members):
 * -1 when fn fails, 1 when the description cannot be read or names content
 * without a valid SHA-256 (what it uses is then unknown). */
static int each_content(const char *json, size_t len, int (*fn)(struct gather *, const unsigned char *),
			struct gather *g)
{
	json_t *j = json_loadb(json, len, 0, NULL), *members = json_object_get(j, "members");
	int rc = j && json_is_object(j) ? 0 : 1;
	for (size_t k = 0; rc == 0 && k <= json_array_size(members); k++) {
		const char *hex = json_string_value(json_object_get(k == 0 ? j : json_array_get(members, k - 1), "sha256"));
		unsigned char sha[32];
		rc = hex && kura_hex_decode(sha, 32, hex) == 0 ? fn(g, sha) : 1;
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
	if (rc == 0 && (g->ndisposed == g->capdisposed || !(g->disposed[g->ndisposed] = strdup(id))))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		g->ndisposed++;
	/* an unreadable description names no content to remove */
	if (rc == 0 && each_content(o.json, o.json_len, add_dead, g) < 0)
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	kura_index_object_clear(&o);
	return rc;
}

/* Marks live the content a live object's description names, from its JSON text
 * without parsing it (parsing every object's JSON was most of compaction's time
 * on a store of small documents): each "sha256":"<64 hex digits>" in it. A
 * string value cannot hold such a key (its quotes would be escaped), so every
 * "sha256" found is a key: the document's, its digests', a member's; one under
 * meta or signature only keeps more content, never less. 1 when there is none,
 * or one is written otherwise (then the caller parses the JSON). */
static int mark_live_text(struct gather *g, const char *json, size_t len)
{
	static const char key[] = "\"sha256\"", compact[] = "\"sha256\":\"";
	const char *p = json, *end = json + len;
	size_t found = 0;
	for (; (p = memmem(p, (size_t)(end - p), key, sizeof key - 1)); found++) {
		char hex[65];
		unsigned char sha[32];
		if ((size_t)(end - p) < sizeof compact - 1 + 65 || memcmp(p, compact, sizeof compact - 1) != 0 ||
		    p[sizeof compact - 1 + 64] != '"')
			return 1;
		memcpy(hex, p + sizeof compact - 1, 64);
		hex[64] = '\0';
		if (kura_hex_decode(sha, 32, hex) != 0)
			return 1;
		mark_live(g, sha);
		p += sizeof compact - 1 + 65;
	}
	return found ? 0 : 1;
}

static int on_object(void *ud, const char *id, const kura_index_object *o, kura_error *err)
{
	struct gather *g = ud;
	while (g->next < g->ndisposed && strcmp(g->disposed[g->next], id) < 0)
		g->next++;
	if (g->next < g->ndisposed && strcmp(g->disposed[g->next], id) == 0)
		return 0;
	/* a live object whose content is unknown could share any: nothing is removed */
	if (mark_live_text(g, o->json, o->json_len) != 0 && each_content(o->json, o->json_len, mark_live, g) != 0)
		return kura_error_set(err, KURA_EIO, "object %s has an unreadable description, so what content it uses is "
				      "unknown: nothing is removed; run kura reindex", id);
	return 0;
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

/* Segments are compacted in groups of up to GROUP_BYTES (at least one segment):
 * one walk of the index and one index batch move them all. */
#define GROUP_BYTES (256ull << 20) /* also bounds the index batch: its entries hold object JSON */
#define GROUP_MAX 256

struct job {
	uint32_t segno;
	uint64_t old_size, new_size, dropped;
	kura_index_move *moves; /* where each record went, in order */
	size_t n, cap;
};

/* A blob at least this long is looked at (its tail read) before it is copied:
 * a dead one is then not written at all. A shorter one is copied and, when
 * dead, cut off again (within the write buffer: free). */
#define LOOK_AHEAD (64u << 10)

struct copier {
	kura_backend *be;
	kura_seg *in;           /* the segment, to read a large blob's tail ahead */
	kura_segment_writer *w; /* the replacement being written */
	kura_record_writer r;
	int skip;               /* the record being read is a dead blob, not copied */
	unsigned char tail[KURA_BLOB_TAIL]; /* of the blob being copied */
	unsigned char (*dead)[32];
	size_t ndead;
	struct job *job;
	kura_progress *progress;
	uint64_t done_before;
};

static int is_dead(const struct copier *c, const kura_record_info *info)
{
	return info->type == KURA_RECORD_BLOB && info->body_len >= KURA_BLOB_PREFIX + KURA_BLOB_TAIL &&
	       bsearch(c->tail + 8, c->dead, c->ndead, 32, cmp_sha);
}

/* For a large blob: whether it is dead, from its tail read ahead (*skip). */
static int look_ahead(struct copier *c, const kura_record_info *info, kura_error *err)
{
	size_t got = 0;
	uint64_t at = info->offset + KURA_RECORD_HEADER + info->body_len - KURA_BLOB_TAIL;
	c->skip = 0;
	if (info->type != KURA_RECORD_BLOB || info->body_len < LOOK_AHEAD)
		return 0;
	if (c->be->read(c->in, at, c->tail, KURA_BLOB_TAIL, &got) != 0 || got != KURA_BLOB_TAIL)
		return kura_error_sys(err, KURA_EIO, "reading segment %08u at %llu", info->segno, (unsigned long long)at);
	c->skip = is_dead(c, info);
	return 0;
}

static int copy_body(void *ud, const kura_record_info *info, uint64_t off, const unsigned char *p, size_t n,
		     kura_error *err)
{
	struct copier *c = ud;
	int rc = off == 0 ? look_ahead(c, info, err) : 0;
	if (rc != 0 || c->skip)
		return rc;
	if (off == 0)
		rc = kura_record_begin(c->w, &c->r, info->type, err);
	uint64_t tail_at = info->body_len >= KURA_BLOB_TAIL ? info->body_len - KURA_BLOB_TAIL : 0;
	if (info->type == KURA_RECORD_BLOB && info->body_len >= KURA_BLOB_TAIL && off + n > tail_at) {
		size_t skip = off >= tail_at ? 0 : (size_t)(tail_at - off); /* the piece's bytes before the tail */
		memcpy(c->tail + (off + skip - tail_at), p + skip, n - skip);
	}
	if (rc != 0)
		return rc;
	/* a large record's CRC is taken from its trailer once the scan has checked it */
	return info->body_len >= LOOK_AHEAD ? kura_record_append_copy(c->w, &c->r, p, n, err)
					    : kura_record_append(c->w, &c->r, p, n, err);
}

/* The body CRC in the trailer of a large record the scan has checked. */
static int stored_crc(struct copier *c, const kura_record_info *info, kura_error *err)
{
	unsigned char t[4];
	size_t got = 0;
	uint64_t at = info->offset + KURA_RECORD_HEADER + info->body_len;
	if (info->body_len < LOOK_AHEAD)
		return 0;
	if (c->be->read(c->in, at, t, sizeof t, &got) != 0 || got != sizeof t)
		return kura_error_sys(err, KURA_EIO, "reading segment %08u at %llu", info->segno, (unsigned long long)at);
	c->r.crc = kura_le32_get(t);
	return 0;
}

/* A record has been read whole and checked: it stays, or (a blob of dead
 * content) what was copied of it is cut off again. */
static int copy_record(void *ud, const kura_record_info *info, kura_error *err)
{
	struct copier *c = ud;
	struct job *j = c->job;
	int dead = c->skip, rc = 0;
	if (!c->skip) {
		rc = info->body_len == 0 ? kura_record_begin(c->w, &c->r, info->type, err) : stored_crc(c, info, err);
		if (rc == 0)
			rc = kura_record_finish(c->w, &c->r, err);
		if (rc == 0 && (dead = is_dead(c, info)))
			rc = kura_segment_writer_truncate(c->w, c->r.start, err);
	}
	c->skip = 0;
	if (rc == 0 && j->n == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 1024;
		kura_index_move *grown = realloc(j->moves, cap * sizeof *grown);
		if (!grown)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		j->moves = grown;
		j->cap = cap;
	}
	if (rc == 0)
		j->moves[j->n++] = (kura_index_move){info->offset, dead ? KURA_INDEX_GONE : c->r.start};
	j->dropped += dead;
	return rc;
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
	kura_progress_update(c->progress, c->done_before + bytes, c->job->dropped);
}

/* Writes the replacement of j->segno without the dead blobs, synced: j->moves
 * then says where every record went, j->new_size how long it is. */
static int stage_segment(kura_backend *be, struct copier *c, struct job *j, kura_error *err)
{
	static const kura_scan_ops ops = {copy_body, copy_record, copy_damage, copy_progress, NULL};
	uint64_t end;
	c->job = j;
	c->be = be;
	int rc = kura_segment_writer_replacement(&c->w, be, j->segno, err);
	if (rc == 0 && be->open(be, &c->in, j->segno, 0) != 0)
		rc = kura_error_sys(err, KURA_EIO, "opening segment %08u", j->segno);
	if (rc == 0)
		rc = kura_segment_scan(be, j->segno, 0, 0, &ops, c, &end, err);
	if (c->in)
		be->close(c->in);
	c->in = NULL;
	if (rc == 0)
		rc = kura_segment_writer_sync(c->w, err);
	if (rc == 0)
		j->new_size = kura_segment_writer_tell(c->w);
	kura_segment_writer_close(c->w);
	c->w = NULL;
	c->done_before += j->old_size;
	return rc;
}

/* ---------------------------------------------------------------- a group of segments */

/* The journal entries of the group, in one synced batch. */
static int journal(kura_index *ix, kura_index_batch *b, struct job *jobs, size_t n, char state, kura_error *err)
{
	kura_index_batch_clear(b);
	for (size_t i = 0; i < n; i++) {
		kura_index_compaction k = {jobs[i].segno, state, jobs[i].old_size, jobs[i].new_size};
		if (state)
			kura_index_batch_put_compaction(b, &k);
		else
			kura_index_batch_del_compaction(b, jobs[i].segno);
	}
	int rc = kura_index_write(ix, b, state != 0, err);
	kura_index_batch_clear(b);
	return rc;
}

/* The index moved to the replacements in one synced batch, then the swaps. */
static int switch_group(kura_store *st, struct job *jobs, size_t n, kura_index_batch *b, kura_error *err)
{
	kura_index *ix = kura_store_index(st);
	kura_backend *be = kura_store_backend(st);
	kura_index_moves segs[GROUP_MAX];
	kura_index_batch_clear(b);
	for (size_t i = 0; i < n; i++)
		segs[i] = (kura_index_moves){jobs[i].segno, jobs[i].moves, jobs[i].n};
	int rc = kura_index_relocate(ix, b, segs, n, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		kura_index_compaction k = {jobs[i].segno, KURA_COMPACT_COMMITTED, jobs[i].old_size, jobs[i].new_size};
		kura_index_batch_put_sealed_size(b, jobs[i].segno, jobs[i].new_size);
		kura_index_batch_put_compaction(b, &k);
	}
	if (rc == 0)
		rc = kura_index_write(ix, b, 1, err);
	kura_index_batch_clear(b);
	if (rc != 0)
		return rc;
	/* from here the index describes the replacements: a failure leaves the
	 * journal "committed", and the next open puts them in place */
	kura_blob_reader_free(*kura_store_blob_reader(st)); /* it may hold an old segment open */
	*kura_store_blob_reader(st) = NULL;
	for (size_t i = 0; i < n; i++)
		if (be->replace(be, jobs[i].segno) != 0)
			return kura_error_sys(err, KURA_EIO, "putting the compacted segment %08u in place (the next kura "
					      "command that opens the store finishes it)", jobs[i].segno);
	return journal(ix, b, jobs, n, 0, err);
}

static int compact_group(kura_store *st, struct copier *c, struct job *jobs, size_t n, kura_compact_result *res,
			 kura_error *err)
{
	kura_index *ix = kura_store_index(st);
	kura_backend *be = kura_store_backend(st);
	kura_index_batch *b = NULL;
	int rc = kura_index_batch_new(&b, err);
	if (rc == 0)
		rc = journal(ix, b, jobs, n, KURA_COMPACT_STAGING, err);
	size_t staged = 0;
	for (; rc == 0 && staged < n; staged++)
		rc = stage_segment(be, c, &jobs[staged], err);
	if (rc != 0 && staged > 0) { /* undone now if the storage lets us, else at the next open */
		int undone = 1;
		for (size_t i = 0; i < staged; i++)
			undone &= be->discard(be, jobs[i].segno) == 0;
		if (undone)
			journal(ix, b, jobs, n, 0, NULL);
	} else if (rc == 0) {
		rc = switch_group(st, jobs, n, b, err);
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		res->segments++;
		res->blobs += jobs[i].dropped;
		res->bytes_before += jobs[i].old_size;
		res->bytes_after += jobs[i].new_size;
	}
	kura_index_batch_free(b);
	return rc;
}

/* ---------------------------------------------------------------- the whole store */

static int compact_segments(kura_store *st, const uint32_t *segs, size_t nsegs, unsigned char (*dead)[32],
			    size_t ndead, kura_compact_result *res, kura_error *err)
{
	kura_backend *be = kura_store_backend(st);
	struct copier c = {.dead = dead, .ndead = ndead};
	struct job *jobs = calloc(nsegs ? nsegs : 1, sizeof *jobs);
	uint64_t total = 0;
	int rc = jobs ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < nsegs; i++) {
		jobs[i].segno = segs[i];
		if (be->stat(be, segs[i], &jobs[i].old_size) != 0)
			rc = kura_error_sys(err, KURA_EIO, "reading the size of segment %08u", segs[i]);
		total += jobs[i].old_size;
	}
	c.progress = rc == 0 ? kura_progress_new("compact", total) : NULL;
	for (size_t i = 0, n; rc == 0 && i < nsegs; i += n) {
		uint64_t bytes = jobs[i].old_size;
		for (n = 1; i + n < nsegs && n < GROUP_MAX && bytes + jobs[i + n].old_size <= GROUP_BYTES; n++)
			bytes += jobs[i + n].old_size;
		rc = compact_group(st, &c, jobs + i, n, res, err);
	}
	kura_progress_free(c.progress);
	for (size_t i = 0; jobs && i < nsegs; i++)
		free(jobs[i].moves);
	free(jobs);
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
