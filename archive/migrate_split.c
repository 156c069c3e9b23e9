/* kura migrate onto a backend that keeps smaller segments than the store has (a
 * local store of 1 GiB segments onto a pool of 128 MiB objects): the store's
 * records copied in order into new segments that fit, numbered from 1 on, and
 * an index built from them, which the store uses from the switch on (the steps
 * are in archive/migrate.c; docs/CEPH.md).
 *
 * Why records may move: nothing durable names a record's segment or offset. A
 * record header holds its type and length only; seals and evidence records
 * cover documents' digests, the audit chain the records' bodies, audit-trail
 * checkpoints those bodies, export packages documents and evidence; IDs come
 * from the clock. Places are the index's bookkeeping (compaction moves records
 * already), and a reader's refresh mark, which a store on a new place makes
 * moot (readers attach again). What the audit trail and disposal rely on is
 * the records' order (records/log_verify.c, records/dispose.c): it is kept.
 *
 * INVARIANTS
 * - Records are copied whole, in the order stored, each written as kura writes
 *   a record (the same header, body and trailer); a new target segment starts
 *   only between records, and never between an object record and an evidence
 *   record right after it (an imported object and the record it was adopted
 *   with: archive/rebuild.c takes them together).
 * - Every record is checked to fit in one target segment before anything is
 *   written (the plan); a record header that does not check stops the move
 *   before anything is written, a body that does not check before the switch.
 * - The copy is read back: every target segment reads whole, and the SHA-256
 *   over all records' types, lengths and bodies in order is the source's.
 * - The target's index is built in STORE/index.migrate before the switch. Once
 *   config.json names the target while the journal is there, that folder is
 *   the store's index: an open with the writer lock puts it in place
 *   (STORE/index -> index.premigrate, index.migrate -> index, index.premigrate
 *   removed; each state between is recognised), an open without one reads it
 *   where it is. Before the switch nothing reads it; a new attempt removes it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive/migrate.h"
#include "archive/segment.h"
#include "archive/store_impl.h"
#include "common/endian.h"
#include "common/fsutil.h"
#include "common/hash.h"
#include "kura/progress.h"

#define NEW_INDEX "index.migrate"
#define OLD_INDEX "index.premigrate"

struct place {
	uint32_t segno;
	uint64_t offset;
};

struct kura_migrate_split {
	kura_backend *src, *dst;
	uint64_t max, total; /* total: bytes of the store's segments */
	struct place *rolls; /* records that start a new target segment, in order */
	size_t nrolls, cap, next;
	kura_segment_writer *w;
	kura_record_writer r;
	kura_hasher *h;
	uint64_t records, done;
	kura_progress *progress;
};

void kura_migrate_split_free(kura_migrate_split *s)
{
	if (!s)
		return;
	kura_segment_writer_close(s->w);
	kura_hasher_free(s->h);
	kura_progress_free(s->progress);
	free(s->rolls);
	free(s);
}

/* ---------------------------------------------------------------- the plan */

static int too_large(kura_migrate_split *s, const struct place *at, uint64_t len, int records, kura_error *err)
{
	char name[1024];
	s->src->name(s->src, at->segno, name, sizeof name);
	return kura_error_set(err, KURA_EINPUT, "%s has %s of %llu bytes at offset %llu, more than the %llu the target keeps "
			      "in one segment (osd_max_object_size) with its %u-byte header: kura migrate splits segments "
			      "only between records; nothing was copied. Either raise the cluster's osd_max_object_size "
			      "to at least %llu (ceph config set global osd_max_object_size N, and in the ceph.conf kura "
			      "is given; Ceph advises against objects over 128 MiB), or keep the store on local files",
			      name, records > 1 ? "an imported object's record with its evidence record, together" : "a record",
			      (unsigned long long)len, (unsigned long long)at->offset, (unsigned long long)s->max,
			      KURA_SEGMENT_FILE_HEADER, (unsigned long long)(len + KURA_SEGMENT_FILE_HEADER));
}

/* Puts the records [at, at + len) into the target segment being filled (used
 * bytes of it), or into a new one. */
static int place_unit(kura_migrate_split *s, const struct place *at, uint64_t len, int records, uint64_t *used,
		      kura_error *err)
{
	if (records == 0)
		return 0;
	if (len > s->max - KURA_SEGMENT_FILE_HEADER)
		return too_large(s, at, len, records, err);
	if (*used + len > s->max) {
		if (s->nrolls == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 64;
			struct place *grown = realloc(s->rolls, cap * sizeof *grown);
			if (!grown)
				return kura_error_set(err, KURA_EINTERNAL, "out of memory");
			s->rolls = grown;
			s->cap = cap;
		}
		s->rolls[s->nrolls++] = *at;
		*used = KURA_SEGMENT_FILE_HEADER;
	}
	*used += len;
	return 0;
}

/* Walks the record headers of segment segno (no bodies are read). */
static int plan_segment(kura_migrate_split *s, uint32_t segno, struct place *at, uint64_t *len, int *records,
			uint8_t *prev, uint64_t *used, kura_error *err)
{
	char name[1024];
	kura_seg *seg = NULL;
	uint64_t size = 0, off = KURA_SEGMENT_FILE_HEADER;
	kura_record_info info;
	s->src->name(s->src, segno, name, sizeof name);
	int rc = kura_segment_open_read(s->src, &seg, segno, name, err);
	if (rc == 0 && s->src->size(seg, &size) != 0)
		rc = kura_segment_io_error(s->src, err, "reading the size of %s", name);
	while (rc == 0 && off < size) {
		if ((rc = kura_record_read_header(&info, seg, off, size, err)) != 0) {
			kura_error_wrap(err, "%s offset %llu (kura scrub STORE says what is damaged; nothing was copied)", name,
					(unsigned long long)off);
			break;
		}
		if (!(info.type == KURA_RECORD_EVIDENCE && *prev == KURA_RECORD_OBJECT)) { /* a new unit */
			rc = place_unit(s, at, *len, *records, used, err);
			*at = (struct place){segno, off};
			*len = 0;
			*records = 0;
		}
		*len += KURA_RECORD_OVERHEAD + info.body_len;
		++*records;
		*prev = info.type;
		off += KURA_RECORD_OVERHEAD + info.body_len;
	}
	s->total += size;
	if (seg)
		s->src->close(seg);
	return rc;
}

int kura_migrate_split_plan(kura_migrate_split **out, kura_backend *src, kura_backend *dst, const uint32_t *segs,
			    size_t n, kura_error *err)
{
	kura_migrate_split *s = calloc(1, sizeof *s);
	*out = s;
	if (!s)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	s->src = src;
	s->dst = dst;
	s->max = dst->max_segment_size ? dst->max_segment_size : UINT64_MAX;
	struct place at = {0};
	uint64_t len = 0, used = KURA_SEGMENT_FILE_HEADER;
	int records = 0, rc = 0;
	uint8_t prev = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = plan_segment(s, segs[i], &at, &len, &records, &prev, &used, err);
	if (rc == 0)
		rc = place_unit(s, &at, len, records, &used, err);
	return rc;
}

/* ---------------------------------------------------------------- the copy */

/* What the read-back compares: each record's type and length, then its body. */
static int hash_start(kura_hasher *h, const kura_record_info *info, kura_error *err)
{
	unsigned char t[9];
	t[0] = info->type;
	kura_le64_put(t + 1, info->body_len);
	return kura_hasher_update(h, t, sizeof t, err);
}

static int copy_start(kura_migrate_split *s, const kura_record_info *info, kura_error *err)
{
	int rc = 0;
	if (s->next < s->nrolls && s->rolls[s->next].segno == info->segno && s->rolls[s->next].offset == info->offset) {
		s->next++;
		if ((rc = kura_segment_writer_roll(s->w, err)) != 0)
			return rc;
		kura_migrate_crash_point();
	}
	s->records++;
	if ((rc = hash_start(s->h, info, err)) == 0)
		rc = kura_record_begin(s->w, &s->r, info->type, err);
	return rc;
}

static int copy_body(void *ud, const kura_record_info *info, uint64_t off, const unsigned char *p, size_t n,
		     kura_error *err)
{
	kura_migrate_split *s = ud;
	int rc = off == 0 ? copy_start(s, info, err) : 0;
	if (rc == 0)
		rc = kura_hasher_update(s->h, p, n, err);
	return rc == 0 ? kura_record_append(s->w, &s->r, p, n, err) : rc;
}

static int copy_record(void *ud, const kura_record_info *info, kura_error *err)
{
	kura_migrate_split *s = ud;
	int rc = info->body_len == 0 ? copy_start(s, info, err) : 0;
	if (rc == 0)
		rc = kura_record_finish(s->w, &s->r, err);
	kura_progress_update(s->progress, s->done + info->offset + KURA_RECORD_OVERHEAD + info->body_len, s->records);
	return rc;
}

/* Reads segment segno of be whole with ops (recovery mode: it stops at the
 * first record that does not check, which must be its end). */
static int read_whole(kura_backend *be, uint32_t segno, const kura_scan_ops *ops, void *ud, const char *what,
		      uint64_t *size, kura_error *err)
{
	char name[1024];
	uint64_t end = 0;
	be->name(be, segno, name, sizeof name);
	if (be->stat(be, segno, size) != 0)
		return kura_segment_io_error(be, err, "reading the size of %s", name);
	int rc = kura_segment_scan(be, segno, 0, 0, ops, ud, &end, err);
	if (rc == 0 && end != *size)
		rc = kura_error_set(err, KURA_EIO, "%s does not read whole: bytes %llu to %llu do not check (%s); nothing was "
				    "switched", name, (unsigned long long)end, (unsigned long long)*size, what);
	return rc;
}

static int copy(kura_migrate_split *s, kura_error *err)
{
	static const kura_scan_ops ops = {copy_body, copy_record, NULL, NULL, NULL};
	uint32_t *segs = NULL;
	size_t n = 0;
	uint64_t size = 0;
	int rc = kura_segment_list(&segs, &n, s->src, err);
	if (rc == 0)
		rc = kura_segment_writer_open(&s->w, s->dst, 1, 0, err);
	s->progress = kura_progress_new("migrate", s->total);
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = read_whole(s->src, segs[i], &ops, s, "kura scrub STORE says what is damaged", &size, err);
		s->done += size;
	}
	if (rc == 0 && s->next != s->nrolls)
		rc = kura_error_set(err, KURA_EINTERNAL, "the store's segments changed while kura migrate copied them");
	if (rc == 0)
		rc = kura_segment_writer_sync(s->w, err);
	kura_segment_writer_close(s->w);
	s->w = NULL;
	free(segs);
	kura_migrate_crash_point();
	return rc;
}

/* ---------------------------------------------------------------- the read-back */

struct check {
	kura_hasher *h;
	uint64_t records;
};

static int check_body(void *ud, const kura_record_info *info, uint64_t off, const unsigned char *p, size_t n,
		      kura_error *err)
{
	struct check *c = ud;
	int rc = off == 0 ? hash_start(c->h, info, err) : 0;
	c->records += off == 0;
	return rc == 0 ? kura_hasher_update(c->h, p, n, err) : rc;
}

static int check_record(void *ud, const kura_record_info *info, kura_error *err)
{
	struct check *c = ud;
	c->records += info->body_len == 0;
	return info->body_len == 0 ? hash_start(c->h, info, err) : 0;
}

static int read_back(kura_migrate_split *s, kura_error *err)
{
	static const kura_scan_ops ops = {check_body, check_record, NULL, NULL, NULL};
	struct check c = {0};
	uint32_t *segs = NULL;
	size_t n = 0;
	uint64_t size = 0;
	unsigned char a[32], b[32], x[KURA_HASH_MAX];
	size_t xl;
	int rc = kura_hasher_new(&c.h, NULL, err);
	if (rc == 0)
		rc = kura_segment_list(&segs, &n, s->dst, err);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (segs[i] != i + 1)
			rc = kura_error_set(err, KURA_EIO, "the target holds segment %08u where %08zu was written", segs[i], i + 1);
		else if ((rc = read_whole(s->dst, segs[i], &ops, &c, "read back from the target", &size, err)) == 0 &&
			 size > s->max)
			rc = kura_error_set(err, KURA_EINTERNAL, "segment %08u of the target has %llu bytes", segs[i],
					    (unsigned long long)size);
	}
	if (rc == 0 && (rc = kura_hasher_final(s->h, a, x, &xl, err)) == 0 && (rc = kura_hasher_final(c.h, b, x, &xl, err)) == 0 &&
	    (c.records != s->records || memcmp(a, b, 32) != 0))
		rc = kura_error_set(err, KURA_EIO, "the target's segments read back differ from the store's (%llu records of "
				    "%llu): nothing was switched; run kura migrate again", (unsigned long long)c.records,
				    (unsigned long long)s->records);
	kura_hasher_free(c.h);
	free(segs);
	kura_migrate_crash_point();
	return rc;
}

int kura_migrate_split_clear(const char *store, kura_error *err)
{
	char p[4096];
	struct stat sb;
	snprintf(p, sizeof p, "%s/%s", store, NEW_INDEX);
	if (lstat(p, &sb) == 0 && (kura_fs_remove_tree(p) != 0 || kura_fs_sync_dir(store) != 0))
		return kura_error_sys(err, KURA_EIO, "removing %s, left by an interrupted kura migrate", p);
	return 0;
}

int kura_migrate_split_copy(kura_migrate_split *s, const char *store, kura_error *err)
{
	char p[4096];
	uint64_t damaged = 0;
	snprintf(p, sizeof p, "%s/%s", store, NEW_INDEX);
	int rc = kura_migrate_split_clear(store, err);
	if (rc == 0)
		rc = kura_hasher_new(&s->h, NULL, err);
	if (rc == 0)
		rc = copy(s, err);
	if (rc == 0)
		rc = read_back(s, err);
	if (rc == 0 && (rc = kura_rebuild_into(s->dst, p, &damaged, err)) == 0 && damaged)
		rc = kura_error_set(err, KURA_EIO, "the index of the target's segments found %llu damaged ranges: nothing was "
				    "switched", (unsigned long long)damaged);
	if (rc == 0 && kura_fs_sync_dir(store) != 0)
		rc = kura_error_sys(err, KURA_EIO, "syncing %s", store);
	if (rc == 0)
		kura_migrate_crash_point();
	return rc;
}

/* ---------------------------------------------------------------- the index after the switch */

static int exists(const char *p)
{
	struct stat sb;
	return lstat(p, &sb) == 0;
}

/* 1 if config.json names the place the journal's move goes to. */
static int switched(const char *path)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/%s", path, KURA_MIGRATE_JOURNAL);
	json_t *journal = json_load_file(p, 0, NULL), *local = json_pack("{s:s}", "type", "file");
	snprintf(p, sizeof p, "%s/config.json", path);
	json_t *config = json_load_file(p, 0, NULL);
	const json_t *to = json_object_get(journal, "to"), *now = json_object_get(config, "backend");
	int yes = json_is_object(to) && config && local && kura_migrate_same_place(to, now ? now : local);
	json_decref(journal);
	json_decref(config);
	json_decref(local);
	return yes;
}

int kura_migrate_settle(const char *path, kura_error *err)
{
	char live[4096], fresh[4096], old[4096];
	const char *step = NULL;
	snprintf(live, sizeof live, "%s/index", path);
	snprintf(fresh, sizeof fresh, "%s/%s", path, NEW_INDEX);
	snprintf(old, sizeof old, "%s/%s", path, OLD_INDEX);
	if ((!exists(fresh) && !exists(old)) || !switched(path))
		return 0; /* as always; or a move not switched yet, whose next attempt removes its index */
	if (exists(fresh)) {
		if (exists(live) && (rename(live, old) != 0 || kura_fs_sync_dir(path) != 0))
			step = "moving the index of the old place aside";
		else {
			kura_migrate_crash_point();
			if (rename(fresh, live) != 0 || kura_fs_sync_dir(path) != 0)
				step = "putting the index of the new place in place";
			else
				kura_migrate_crash_point();
		}
	}
	if (!step && exists(old) && (kura_fs_remove_tree(old) != 0 || kura_fs_sync_dir(path) != 0))
		step = "removing the index of the old place";
	if (step)
		return kura_error_sys(err, KURA_EIO, "%s (kura migrate, after its switch; %s)", step, path);
	return 0;
}

int kura_migrate_index(char *out, size_t n, const char *path, kura_error *err)
{
	char fresh[4096];
	if (snprintf(out, n, "%s/index", path) >= (int)n)
		return kura_error_set(err, KURA_EINPUT, "path too long: %s/index", path);
	snprintf(fresh, sizeof fresh, "%s/%s", path, NEW_INDEX);
	if (exists(fresh) && switched(path))
		snprintf(out, n, "%s", fresh);
	return 0;
}
