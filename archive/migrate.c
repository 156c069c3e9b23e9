/* kura migrate: a store's segments moved to another backend (local files to a
 * RADOS pool, or back), the rest of the store folder unchanged: the same IDs,
 * evidence, history and audit trail, because they are the same records. The
 * segments are copied byte for byte; when one is larger than the target keeps
 * (a local store of 1 GiB segments, a pool of 128 MiB objects), the records
 * are copied in order into new, smaller segments instead, and the index is
 * built anew for them (archive/migrate_split.c says why records may move).
 *
 * The steps, under the store's writer lock:
 *   1. (first attempt) an audit record "migrate" naming both places, and the
 *      journal STORE/migrate.json {"from": ..., "to": ...} (backend configs);
 *   2. every segment copied to the target (create, write, sync), read back from
 *      the target and compared with the source by SHA-256 and size; or, split,
 *      every record copied into segments 1, 2, ... of the target, read back and
 *      compared, and the target's index built in STORE/index.migrate;
 *   3. config.json switched to the target in one rename: the switch; split,
 *      STORE/index.migrate then put in place of STORE/index;
 *   4. the source's segments removed (and STORE/segments/ when it was local),
 *      then the journal.
 *
 * INVARIANTS
 * - Until the switch, config.json names the source, which is whole and
 *   unchanged; after it, the target, which is whole and verified. A kill at any
 *   point leaves one of the two working (split: from the switch on, the store's
 *   opens take STORE/index.migrate as its index until it is in place).
 * - A target is written only when it holds no segments of a store, or when the
 *   journal names it (what an interrupted migration copied is removed first).
 *   An interrupted migration is finished by the same command again: before the
 *   switch it copies again, after it it removes what is left of the source.
 * - Nothing is removed from the source before the switch is durable.
 * - A record that does not fit in one of the target's segments is refused
 *   before anything is written.
 *
 * KURA_MIGRATE_CRASH_AT=N (tests only: tests/cli/test_rados_migrate*.sh) kills
 * the process with SIGKILL at the Nth step boundary, to sweep every crash point.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/migrate.h"
#include "archive/store_impl.h"
#include "common/fsutil.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/progress.h"

#define JOURNAL KURA_MIGRATE_JOURNAL
#define CHUNK (4u << 20)
#define AUDIT_ROOM (64u << 10) /* room the migration's audit record needs in the last segment */

struct migration {
	kura_store *st;
	const char *path;
	kura_backend *src, *dst; /* src the store's; dst owned */
	json_t *from, *to;       /* backend configs ({"type": "file"} for local files) */
	unsigned char *buf;
	kura_progress *progress;
	uint64_t done;
	kura_migrate_split *split; /* segments larger than the target keeps: the plan of their split */
};

void kura_migrate_crash_point(void)
{
	static long n = -1;
	if (n < 0) {
		const char *e = getenv("KURA_MIGRATE_CRASH_AT");
		n = e ? atol(e) : 0;
	}
	if (n > 0 && --n == 0)
		raise(SIGKILL);
}

/* "local files" or "rados:POOL/NS" for messages and the audit record. */
static void describe(char *buf, size_t n, const json_t *cfg)
{
	const char *type = json_string_value(json_object_get(cfg, "type"));
	if (!type || strcmp(type, "rados") != 0)
		snprintf(buf, n, "local files");
	else
		snprintf(buf, n, "rados:%s/%s", json_string_value(json_object_get(cfg, "pool")),
			 json_string_value(json_object_get(cfg, "namespace")) ? json_string_value(json_object_get(cfg, "namespace"))
									       : "");
}

/* describe(), and the data pool where the segments are apart (the audit record). */
static void describe_all(char *buf, size_t n, const json_t *cfg)
{
	describe(buf, n, cfg);
	const char *data = json_string_value(json_object_get(cfg, "data_pool"));
	size_t len = strlen(buf);
	if (data && *data && len < n)
		snprintf(buf + len, n - len, " (segments in pool %s)", data);
}

int kura_migrate_same_place(const json_t *a, const json_t *b)
{
	char x[1024], y[1024];
	describe(x, sizeof x, a);
	describe(y, sizeof y, b);
	return strcmp(x, y) == 0;
}

/* The same segment objects' pool ("data_pool"; absent: the pool's). */
static int same_data_pool(const json_t *a, const json_t *b)
{
	const char *x = json_string_value(json_object_get(a, "data_pool")), *y = json_string_value(json_object_get(b, "data_pool"));
	const char *px = json_string_value(json_object_get(a, "pool")), *py = json_string_value(json_object_get(b, "pool"));
	return strcmp(x ? x : px ? px : "", y ? y : py ? py : "") == 0;
}

static void join(char *buf, size_t n, const char *dir, const char *name) { snprintf(buf, n, "%s/%s", dir, name); }

static json_t *load_json(const char *path, const char *name)
{
	char p[4096];
	join(p, sizeof p, path, name);
	return json_load_file(p, 0, NULL);
}

static int write_json(const char *path, const char *name, json_t *j, kura_error *err)
{
	char p[4096], *text = json_dumps(j, JSON_INDENT(2));
	join(p, sizeof p, path, name);
	int ok = text && kura_fs_write_file_atomic(p, text, strlen(text), 0600) == 0;
	free(text);
	return ok ? 0 : kura_error_sys(err, KURA_EIO, "writing %s", p);
}

/* config.json naming the backend cfg ({"type": "file"}: no "backend", as stores before the choice). */
static int switch_config(struct migration *m, kura_error *err)
{
	json_t *cfg = load_json(m->path, "config.json");
	if (!cfg)
		return kura_error_set(err, KURA_EIO, "reading %s/config.json", m->path);
	const char *type = json_string_value(json_object_get(m->to, "type"));
	if (strcmp(type, "file") == 0)
		json_object_del(cfg, "backend");
	else
		json_object_set(cfg, "backend", m->to);
	int rc = write_json(m->path, "config.json", cfg, err);
	json_decref(cfg);
	return rc;
}

/* The target: a RADOS pool (o) or STORE/segments (o NULL), locked. */
static int open_target(struct migration *m, const kura_rados_options *o, kura_error *err)
{
	char p[4096];
	int rc;
	if (o)
		rc = kura_backend_rados_open(&m->dst, o, err);
	else {
		join(p, sizeof p, m->path, "segments");
		if (mkdir(p, 0750) != 0 && errno != EEXIST)
			return kura_error_sys(err, KURA_EIO, "creating %s", p);
		if (kura_fs_sync_dir(m->path) != 0)
			return kura_error_sys(err, KURA_EIO, "syncing %s", m->path);
		rc = kura_backend_file_open(&m->dst, m->path, err);
	}
	if (rc == 0 && (rc = m->dst->lock(m->dst, 0, err)) == 1) { /* as a writer waits: a killed one's lease runs out */
		m->dst->name(m->dst, 0, p, sizeof p);
		kura_log_message(KURA_LOG_INFO, "waiting for another kura process that holds the writer lock of %s", p);
		rc = m->dst->lock(m->dst, 1, err);
	}
	return rc;
}

/* Copies segment segno from src to dst, syncs it, and compares what dst holds
 * now with what was read from src. */
static int copy_segment(struct migration *m, uint32_t segno, kura_error *err)
{
	kura_seg *in = NULL, *out = NULL;
	kura_hasher *h = NULL;
	unsigned char a[32], b[32], x[KURA_HASH_MAX];
	size_t xl, got = 0;
	uint64_t off = 0, back = 0;
	char name[1024];
	int rc = kura_hasher_new(&h, NULL, err);
	if (rc == 0 && m->src->open(m->src, &in, segno, 0) != 0)
		rc = kura_error_sys(err, KURA_EIO, "opening segment %u of the store", segno);
	if (rc == 0 && m->dst->create(m->dst, &out, segno) != 0)
		rc = kura_error_sys(err, KURA_EIO, "creating segment %u in the target", segno);
	while (rc == 0) {
		if (m->src->read(in, off, m->buf, CHUNK, &got) != 0) {
			m->src->name(m->src, segno, name, sizeof name);
			rc = kura_error_sys(err, KURA_EIO, "reading %s", name);
		} else if (got == 0)
			break;
		else if ((rc = kura_hasher_update(h, m->buf, got, err)) == 0 && m->dst->write(out, off, m->buf, got) != 0) {
			m->dst->name(m->dst, segno, name, sizeof name);
			rc = kura_error_sys(err, KURA_EIO, "writing %s", name);
		}
		off += got;
		kura_progress_update(m->progress, m->done + off, segno);
	}
	if (rc == 0 && m->dst->sync(out) != 0) {
		m->dst->name(m->dst, segno, name, sizeof name);
		rc = kura_error_sys(err, KURA_EIO, "syncing %s", name);
	}
	if (rc == 0)
		rc = kura_hasher_final(h, a, x, &xl, err);
	m->dst->close(out);
	out = NULL;
	kura_migrate_crash_point();
	/* read back what the target keeps now */
	if (rc == 0 && m->dst->open(m->dst, &out, segno, 0) != 0)
		rc = kura_error_sys(err, KURA_EIO, "opening segment %u in the target again", segno);
	if (rc == 0)
		rc = kura_hasher_reset(h, err);
	while (rc == 0) {
		if (m->dst->read(out, back, m->buf, CHUNK, &got) != 0)
			rc = kura_error_sys(err, KURA_EIO, "reading segment %u back from the target", segno);
		else if (got == 0)
			break;
		else
			rc = kura_hasher_update(h, m->buf, got, err);
		back += got;
	}
	if (rc == 0 && (rc = kura_hasher_final(h, b, x, &xl, err)) == 0 && (back != off || memcmp(a, b, 32) != 0)) {
		m->dst->name(m->dst, segno, name, sizeof name);
		rc = kura_error_set(err, KURA_EIO, "%s differs from the store's segment after the copy (%llu bytes read back "
						   "of %llu): nothing was switched; run kura migrate again", name,
				    (unsigned long long)back, (unsigned long long)off);
	}
	m->done += off;
	m->dst->close(out);
	m->src->close(in);
	kura_hasher_free(h);
	return rc;
}

/* The sizes of the n segments segs (total bytes). When one is larger than the
 * target keeps, they are split (archive/migrate_split.c): planned here, which
 * refuses a record that cannot fit, before anything is copied. */
static int check_sizes(struct migration *m, const uint32_t *segs, size_t n, uint64_t *total, kura_error *err)
{
	uint64_t max = m->dst->max_segment_size, size;
	char name[1024];
	int split = 0;
	*total = 0;
	kura_migrate_split_free(m->split);
	m->split = NULL;
	for (size_t i = 0; i < n; i++) {
		if (m->src->stat(m->src, segs[i], &size) != 0) {
			m->src->name(m->src, segs[i], name, sizeof name);
			return kura_error_sys(err, KURA_EIO, "reading the size of %s", name);
		}
		split |= max && size > max;
		*total += size;
	}
	return split ? kura_migrate_split_plan(&m->split, m->src, m->dst, segs, n, err) : 0;
}

/* What an interrupted run copied to the target goes first: the store's segments
 * may have changed since, and the target must end up holding exactly them. */
static int empty_target(struct migration *m, kura_error *err)
{
	uint32_t *segs = NULL;
	size_t n = 0;
	char name[1024];
	int rc = kura_segment_list(&segs, &n, m->dst, err);
	for (size_t i = 0; i < n && rc == 0; i++)
		if (m->dst->remove(m->dst, segs[i]) != 0) {
			m->dst->name(m->dst, segs[i], name, sizeof name);
			rc = kura_error_sys(err, KURA_EIO, "removing %s, copied by an interrupted kura migrate", name);
		}
	free(segs);
	return rc;
}

/* Copies the n segments segs (total bytes), after what an interrupted run left. */
/* The store's segments now (*segs replaced), each checked to fit the target. */
static int list_segments(struct migration *m, uint32_t **segs, size_t *n, uint64_t *total, kura_error *err)
{
	free(*segs);
	*segs = NULL;
	int rc = kura_segment_list(segs, n, m->src, err);
	return rc == 0 ? check_sizes(m, *segs, *n, total, err) : rc;
}

static int copy_all(struct migration *m, const uint32_t *segs, size_t n, uint64_t total, int again, kura_error *err)
{
	int rc = again ? empty_target(m, err) : 0;
	if (rc == 0) /* an index an earlier attempt built, even one given up by hand */
		rc = kura_migrate_split_clear(m->path, err);
	if (rc == 0 && m->split)
		return kura_migrate_split_copy(m->split, m->path, err);
	if (rc == 0)
		m->progress = kura_progress_new("migrate", total);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = copy_segment(m, segs[i], err);
	return rc;
}

/* Removes the source's segments (be: a backend on the source, locked or owned by the store). */
static int remove_source(kura_backend *be, const char *path, int local, kura_error *err)
{
	uint32_t *segs = NULL;
	size_t n = 0;
	char name[1024];
	int rc = kura_segment_list(&segs, &n, be, err);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (be->remove(be, segs[i]) != 0) {
			be->name(be, segs[i], name, sizeof name);
			rc = kura_error_sys(err, KURA_EIO, "removing %s (the store uses its copy now; run kura migrate again "
							   "to finish)", name);
		}
		kura_migrate_crash_point();
	}
	free(segs);
	if (rc == 0 && local) {
		join(name, sizeof name, path, "segments");
		if (rmdir(name) != 0 && errno != ENOENT)
			rc = kura_error_sys(err, KURA_EIO, "removing %s", name);
	}
	return rc;
}

static json_t *target_config(const kura_rados_options *o)
{
	return o ? kura_backend_config_json(o) : json_pack("{s:s}", "type", "file");
}

/* The journal of an interrupted migration, checked against this one's target. */
static int check_journal(struct migration *m, json_t *journal, kura_error *err)
{
	char a[1024], b[1024];
	json_t *to = json_object_get(journal, "to");
	if (!json_is_object(to) || !json_is_object(json_object_get(journal, "from")))
		return kura_error_set(err, KURA_EIO, "%s/%s is damaged; compare config.json with where the segments are "
						     "and remove it by hand", m->path, JOURNAL);
	if (kura_migrate_same_place(to, m->to))
		return 0;
	describe(a, sizeof a, to);
	describe(b, sizeof b, m->to);
	return kura_error_set(err, KURA_EINPUT, "an interrupted migration of %s to %s is not finished; finish it first "
					       "(kura migrate %s --to-backend %s ...), or give it up: remove %s/%s and "
					       "what it copied to %s", m->path, a, m->path,
			      strncmp(a, "rados", 5) == 0 ? "rados" : "local", m->path, JOURNAL, a);
}

/* The store continues in a new segment when its last one has no room for the
 * migration's audit record within the target's limit: that record must not
 * make a segment the target cannot keep. */
static int make_room(struct migration *m, kura_error *err)
{
	uint32_t *segs = NULL;
	size_t n = 0;
	uint64_t size = 0, max = m->dst->max_segment_size;
	char name[1024];
	int rc = max ? kura_segment_list(&segs, &n, m->src, err) : 0;
	if (rc == 0 && n > 0 && m->src->stat(m->src, segs[n - 1], &size) != 0) {
		m->src->name(m->src, segs[n - 1], name, sizeof name);
		rc = kura_error_sys(err, KURA_EIO, "reading the size of %s", name);
	}
	if (rc == 0 && n > 0 && size + AUDIT_ROOM > max)
		rc = kura_store_roll(m->st, err);
	free(segs);
	return rc;
}

static int start(struct migration *m, json_t *journal, kura_error *err)
{
	char a[1024], b[1024];
	int rc = 0;
	if (!journal) { /* a first attempt: the target must be unused, and it is noted */
		if ((rc = kura_store_backend_unused(m->dst, err)) != 0 || (rc = make_room(m, err)) != 0)
			return rc;
		describe_all(a, sizeof a, m->from);
		describe_all(b, sizeof b, m->to);
		json_t *detail = json_pack("{s:s, s:s}", "from", a, "to", b);
		rc = detail ? kura_store_audit(m->st, "migrate", detail, err) : kura_error_set(err, KURA_EINTERNAL, "out of memory");
		json_decref(detail);
		json_t *j = rc == 0 ? json_pack("{s:O, s:O}", "from", m->from, "to", m->to) : NULL;
		if (rc == 0)
			rc = j ? write_json(m->path, JOURNAL, j, err) : kura_error_set(err, KURA_EINTERNAL, "out of memory");
		json_decref(j);
		kura_migrate_crash_point();
	}
	return rc;
}

/* The journal gone: the migration is over. */
static int finish(const char *path, kura_error *err)
{
	char p[4096];
	join(p, sizeof p, path, JOURNAL);
	if ((unlink(p) != 0 && errno != ENOENT) || kura_fs_sync_dir(path) != 0)
		return kura_error_sys(err, KURA_EIO, "removing %s", p);
	kura_migrate_crash_point();
	return 0;
}

/* After the switch: the source's segments go, through be (the store's own,
 * locked, in the run that switched), or a backend opened on the journal's
 * "from" (an interrupted run's: nothing uses that place any more). */
static int finish_after_switch(struct migration *m, const json_t *from, kura_backend *be, kura_error *err)
{
	int local = strcmp(json_string_value(json_object_get(from, "type")), "file") == 0;
	kura_backend *old = NULL;
	int rc = 0;
	if (!be)
		rc = local ? kura_backend_file_open(&old, m->path, err) : kura_backend_from_config(&old, m->path, from, err);
	if (rc == 0)
		rc = remove_source(be ? be : old, m->path, local, err);
	kura_backend_free(old);
	return rc == 0 ? finish(m->path, err) : rc;
}

int kura_store_migrate(const char *path, const kura_rados_options *to, int *already, kura_error *err)
{
	struct migration m = {.path = path};
	uint32_t *segs = NULL;
	size_t nsegs = 0;
	uint64_t total = 0;
	*already = 0;
	int rc = kura_store_open(&m.st, path, KURA_STORE_WRITE, err);
	if (rc != 0)
		return rc;
	m.src = kura_store_backend(m.st);
	const json_t *cfg = kura_store_backend_config(m.st);
	m.from = cfg ? json_deep_copy(cfg) : json_pack("{s:s}", "type", "file");
	m.to = target_config(to);
	json_t *journal = load_json(path, JOURNAL);
	if (!m.from || !m.to)
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	else if (journal && (rc = check_journal(&m, journal, err)) != 0)
		;
	else if (kura_migrate_same_place(m.from, m.to) && !same_data_pool(m.from, m.to)) /* one directory: no move possible */
		rc = kura_error_set(err, KURA_EINPUT, "%s keeps its segments in that pool and namespace already; kura "
						      "moves them to another data pool only with another namespace: kura "
						      "migrate %s --to-backend rados ... --data-pool POOL --namespace NEW_NS",
				    path, path);
	else if (kura_migrate_same_place(m.from, m.to)) { /* there already: only an interrupted run's end to finish */
		*already = !journal;
		rc = journal ? finish_after_switch(&m, json_object_get(journal, "from"), NULL, err) : 0;
	} else if (!(m.buf = malloc(CHUNK)))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	/* listed before the audit record (a refused move changes nothing) and after it (its commit may roll) */
	else if ((rc = open_target(&m, to, err)) == 0 && (rc = list_segments(&m, &segs, &nsegs, &total, err)) == 0 &&
		 (rc = start(&m, journal, err)) == 0 && (rc = list_segments(&m, &segs, &nsegs, &total, err)) == 0 &&
		 (rc = copy_all(&m, segs, nsegs, total, journal != NULL, err)) == 0 && (rc = switch_config(&m, err)) == 0) {
		kura_migrate_crash_point();
		if (m.split) { /* the store's index goes with the segments it describes */
			kura_store_drop_index(m.st);
			rc = kura_migrate_settle(path, err);
		}
		if (rc == 0)
			rc = finish_after_switch(&m, m.from, m.src, err);
	}
	kura_progress_free(m.progress);
	kura_migrate_split_free(m.split);
	free(segs);
	json_decref(journal);
	json_decref(m.from);
	json_decref(m.to);
	free(m.buf);
	kura_backend_free(m.dst);
	kura_store_close(m.st);
	return rc;
}
