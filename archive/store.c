/* Store lifecycle: init, open (read or write), close, commit (reading objects: store_read.c).
 *
 * INVARIANTS
 * - FORMAT is written last by init: a folder without it is not a store (a crashed
 *   init leaves a folder that init refuses, which the user removes).
 * - One writer at a time (the backend's writer lock: an flock on STORE/lock for
 *   the local-file backend, held until close). Readers take no lock: they see
 *   the index as of their open.
 * - A view (kura_store_view_open) is a reading handle for another thread of the
 *   process that owns st: it shares st's index (RocksDB is safe for threads),
 *   backend, configuration and fields, which do not change while views are
 *   open, and has its own blob reader, seal lookup cache and actor: the state
 *   that changes as a handle reads. It reads only what the index names, i.e.
 *   committed records, so it never sees a record being appended.
 * - Every byte of a segment goes through the store's backend (archive/backend.h),
 *   chosen at open: the one config.json's "backend" names (archive/backend_config.c;
 *   none: local files) unless kura_store_open_with_backend gives another.
 * - A commit costs ONE sync, the segment's: its index batch (with the committed
 *   end 'w') is written after it unsynced, synced only when the last synced one is
 *   INDEX_SYNC_MS old (and at close). So the index never runs ahead of the synced
 *   segments, but a power loss may leave it behind them: RocksDB's log then holds
 *   a prefix of its writes (index/index.c), and 'w' is a lower bound.
 * - What follows 'w' in the segments -- acknowledged records a lagging index lost,
 *   or a torn tail never acknowledged -- is rolled forward (complete records, in
 *   every segment from the one 'w' names on) or cut off (the torn tail) at the next
 *   open for writing (archive/rebuild.c). Every index entry is made from a record
 *   (index.h), so the index always equals what kura reindex would build. Index
 *   writes not made from a commit's records stay synced: a roll's 'z' and 'w',
 *   compaction's journal, the end of recovery and of reindex.
 * - A reader never writes, so it cannot roll a lagging index forward: when it does
 *   not find an object while the segments hold bytes past 'w' it says so
 *   (kura_store_untaken, archive/store_read.c).
 * - A failed index write in kura_store_commit leaves the segment as synced: the
 *   index's log may hold the batch even though its sync failed, so the synced
 *   bytes become the committed end here (never cut back) and the handle takes no
 *   more commits. The next open for writing finds the batch in the index or rolls
 *   the complete records forward: nothing is lost and no person is needed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive/blob.h"
#include "archive/compact.h"
#include "archive/store_impl.h"
#include "common/actor.h"
#include "kura/clock.h"
#include "common/fsutil.h"
#include "common/safefs.h"
#include "common/hash.h"
#include "common/hex.h"
#include "common/log.h"
#include "common/id.h"

#define FORMAT_TEXT "kura store\nformat 1\n"
#define DEFAULT_SEGMENT_SIZE (1ull << 30)
#define DEFAULT_ZSTD_LEVEL 3
/* A commit's index write is synced when the last synced one is this old. */
#define INDEX_SYNC_MS 1000

struct kura_store {
	char *path;
	kura_backend *be;
	int own_be;  /* made by open: freed by close */
	int locked;  /* holds the backend's writer lock */
	char hash[16];
	uint64_t segment_size;
	int zstd_level;
	kura_index *ix;
	kura_segment_writer *w;
	uint64_t committed_end;
	int index_failed; /* an index write failed: no more commits through this handle */
	int64_t index_synced; /* CLOCK_MONOTONIC ms of the last synced index write of a commit */
	char **tsa_urls;
	size_t ntsa_urls;
	kura_blob_reader *reader; /* made by the first read */
	kura_subject_list *subjects; /* made by the first seal lookup */
	char *group;              /* config.json's "group", or NULL */
	int four_eyes;            /* config.json's "four_eyes" (default 1) */
	char *actor;              /* who acts through this handle (kura_store_set_actor); NULL: the default */
	char default_actor[KURA_ACTOR_MAX + 1];
	kura_fields fields;       /* the search fields, as the index had them at open (archive/fields.c) */
	json_t *backend_cfg;      /* config.json's "backend", or NULL (local files) */
	mode_t old_umask;         /* restored by close when umask_set */
	int umask_set;
	int view; /* made by kura_store_view_open: close frees only its own state */
};

kura_index *kura_store_index(kura_store *st) { return st->ix; }
const kura_fields *kura_store_fields(const kura_store *st) { return &st->fields; }

int kura_store_reload_fields(kura_store *st, kura_error *err)
{
	kura_fields_clear(&st->fields);
	return kura_fields_load_index(&st->fields, st->ix, err);
}
kura_backend *kura_store_backend(const kura_store *st) { return st->be; }
int kura_store_zstd_level(const kura_store *st) { return st->zstd_level; }
kura_segment_writer *kura_store_writer(kura_store *st) { return st->w; }
int kura_store_is_view(const kura_store *st) { return st->view; }
kura_subject_list **kura_store_subject_list(kura_store *st) { return &st->subjects; }
const char *kura_store_hash(const kura_store *st) { return st->hash; }
const char *kura_store_path(const kura_store *st) { return st->path; }
kura_blob_reader **kura_store_blob_reader(kura_store *st) { return &st->reader; }
uint64_t kura_store_generation(const kura_store *st) { return st->ix ? kura_index_writes(st->ix) : 0; }
int kura_store_four_eyes(const kura_store *st) { return st->four_eyes; }

int kura_store_set_actor(kura_store *st, const char *actor, kura_error *err)
{
	int rc = kura_actor_check(actor, err);
	if (rc != 0) /* the name a person gave (--actor); err may be NULL */
		return err ? kura_error_wrap(err, "--actor") : rc;
	char *copy = strdup(actor);
	if (!copy)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	free(st->actor);
	st->actor = copy;
	return 0;
}

const char *kura_store_actor(kura_store *st)
{
	if (st->actor)
		return st->actor;
	if (!st->default_actor[0])
		kura_actor_default(st->default_actor, sizeof st->default_actor);
	return st->default_actor;
}

size_t kura_store_tsa_urls(const kura_store *st, const char *const **urls)
{
	*urls = (const char *const *)st->tsa_urls;
	return st->ntsa_urls;
}

static int join(char *buf, size_t n, const char *dir, const char *name, kura_error *err)
{
	if (snprintf(buf, n, "%s/%s", dir, name) >= (int)n)
		return kura_error_set(err, KURA_EINPUT, "path too long: %s/%s", dir, name);
	return 0;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return 0;
	struct dirent *e;
	int empty = 1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

static int init_files(const char *path, const kura_init_options *opts, kura_error *err);

int kura_store_init(const char *path, const kura_init_options *opts, kura_error *err)
{
	gid_t gid = 0;
	const char *group = opts ? opts->group : NULL;
	if (group && kura_store_files_group(&gid, group, err) != 0)
		return KURA_EINPUT;
	mode_t old = umask(group ? 027 : 077); /* see store_files.c */
	int rc = init_files(path, opts, err);
	umask(old);
	return rc;
}

/* The hash, segment size and zstd level init will use (opts or the defaults),
 * and the TSA URLs: everything is checked before anything is made. */
static int init_settings(const char **hashp, uint64_t *segsizep, int *levelp, const kura_init_options *opts,
			 kura_error *err)
{
	const char *hash = opts && opts->hash ? opts->hash : "sha256";
	if (strcmp(hash, "sha256") != 0 && strcmp(hash, "sha384") != 0 && strcmp(hash, "sha512") != 0)
		return kura_error_set(err, KURA_EINPUT, "--hash must be sha256, sha384 or sha512, not '%s'", hash);
	uint64_t segsize = opts && opts->segment_size ? opts->segment_size : DEFAULT_SEGMENT_SIZE;
	int level = opts && opts->zstd_level ? opts->zstd_level : DEFAULT_ZSTD_LEVEL;
	if (segsize < 4096)
		return kura_error_set(err, KURA_EINPUT, "segment size must be at least 4096 bytes");
	if (level < 1 || level > 19)
		return kura_error_set(err, KURA_EINPUT, "zstd level must be 1 to 19");
	for (size_t i = 0; opts && i < opts->ntsa_urls; i++) /* everything is checked before anything is made */
		if (!kura_store_tsa_url_ok(opts->tsa_urls[i]))
			return kura_error_set(err, KURA_EINPUT, "--tsa-url must be an http:// or https:// URL (ASCII), not '%s'",
					      opts->tsa_urls[i]);
	*hashp = hash;
	*segsizep = segsize;
	*levelp = level;
	return 0;
}

/* The store's folder: new, empty, or what an interrupted init left (cleared);
 * owned as the options say (group NAME or the owner alone). */
static int init_folder(const char *path, const kura_init_options *opts, kura_error *err)
{
	char p[4096];
	struct stat st;
	if (join(p, sizeof p, path, "FORMAT", err) != 0)
		return KURA_EINPUT;
	if (stat(p, &st) == 0)
		return kura_error_set(err, KURA_EEXIST, "%s is a kura store already", path);
	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return kura_error_set(err, KURA_EINPUT, "%s exists and is not a folder", path);
		if (!dir_is_empty(path) && !kura_store_files_init_leftovers(path))
			return kura_error_set(err, KURA_EINPUT,
					      "%s is not empty and not a kura store; choose an empty or new folder", path);
		if (!dir_is_empty(path) && kura_store_files_clear_leftovers(path) != 0) /* an interrupted init: start again */
			return kura_error_sys(err, KURA_EIO, "clearing what an interrupted kura init left in %s", path);
	} else if (errno != ENOENT) {
		return kura_error_sys(err, KURA_EINPUT, "cannot use %s", path);
	} else if (mkdir(path, 0700) != 0) {
		return kura_error_sys(err, errno == ENOENT || errno == EACCES ? KURA_EINPUT : KURA_EIO,
				      "creating %s", path);
	}
	const char *group = opts ? opts->group : NULL;
	gid_t gid = 0;
	if ((group && (kura_store_files_group(&gid, group, err) != 0 || chown(path, (uid_t)-1, gid) != 0)) ||
	    chmod(path, group ? 02750 : 0700) != 0)
		return kura_error_sys(err, KURA_EIO, "setting the owner and mode of %s", path);
	return 0;
}

/* A pool (namespace) a new store may take: no segments, or only the empty
 * first one an interrupted kura init left. */
int kura_store_backend_unused(kura_backend *be, kura_error *err)
{
	uint32_t *segs = NULL;
	size_t n = 0;
	uint64_t size = 0;
	char where[512];
	be->name(be, 0, where, sizeof where);
	if (be->list(be, &segs, &n) != 0)
		return kura_segment_io_error(be, err, "listing the segments in %s", where);
	int used = n > 1 || (n == 1 && (segs[0] != 1 || be->stat(be, 1, &size) != 0 || size > KURA_SEGMENT_FILE_HEADER));
	free(segs);
	if (used)
		return kura_error_set(err, KURA_EINPUT, "%s holds the segments of a kura store already; choose another "
						       "--pool or --namespace", where);
	return 0;
}

/* The store's backend for init (the segments folder made for local files). */
static int init_backend(kura_backend **be, const char *path, const kura_init_options *opts, kura_error *err)
{
	char p[4096];
	if (opts && opts->rados) {
		int rc = kura_backend_rados_open(be, opts->rados, err);
		if (rc == 0 && (rc = kura_store_backend_unused(*be, err)) != 0) {
			kura_backend_free(*be);
			*be = NULL;
		}
		return rc;
	}
	if (join(p, sizeof p, path, "segments", err) != 0)
		return KURA_EINPUT;
	if (mkdir(p, 0755) != 0)
		return kura_error_sys(err, KURA_EIO, "creating %s", p);
	return kura_backend_file_open(be, path, err);
}

/* The first segment (in STORE/segments or the pool), and the index that knows it. */
static int init_segments_and_index(const char *path, const kura_init_options *opts, kura_error *err)
{
	char p[4096];
	int rc;
	kura_backend *be = NULL;
	kura_segment_writer *w = NULL;
	if ((rc = init_backend(&be, path, opts, err)) == 0)
		rc = kura_segment_writer_open(&w, be, 1, 0, err);
	kura_segment_writer_close(w);
	kura_backend_free(be);
	if (rc != 0)
		return rc;

	kura_index *ix = NULL;
	kura_index_batch *b = NULL;
	if (join(p, sizeof p, path, "index", err) != 0)
		return KURA_EINPUT;
	if ((rc = kura_index_open(&ix, p, KURA_INDEX_CREATE, err)) != 0)
		return rc;
	if ((rc = kura_index_batch_new(&b, err)) == 0) {
		kura_index_batch_put_state(b, 1, KURA_SEGMENT_FILE_HEADER);
		rc = kura_index_write(ix, b, 1, err);
	}
	kura_index_batch_free(b);
	kura_index_close(ix);
	return rc;
}

/* STORE/config.json (the settings and the time of creation) and the empty STORE/lock. */
static int init_config(const char *path, const kura_init_options *opts, const char *hash, uint64_t segsize, int level,
		       const char *created, kura_error *err)
{
	char p[4096];
	const char *group = opts ? opts->group : NULL;
	json_t *urls = json_array();
	for (size_t i = 0; opts && i < opts->ntsa_urls; i++)
		json_array_append_new(urls, json_string(opts->tsa_urls[i]));
	json_t *cfg = json_pack("{s:i, s:s, s:I, s:i, s:s, s:o}", "format", 1, "hash", hash, "segment_size",
				(json_int_t)segsize, "zstd_level", level, "created", created, "tsa_urls", urls);
	if (cfg && group)
		json_object_set_new(cfg, "group", json_string(group));
	if (cfg && opts && opts->single_approver)
		json_object_set_new(cfg, "four_eyes", json_false());
	if (cfg && opts && opts->rados && json_object_set_new(cfg, "backend", kura_backend_config_json(opts->rados)) != 0) {
		json_decref(cfg);
		cfg = NULL;
	}
	char *text = cfg ? json_dumps(cfg, JSON_INDENT(2)) : NULL;
	json_decref(cfg);
	if (!text)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (join(p, sizeof p, path, "config.json", err) != 0) {
		free(text);
		return KURA_EINPUT;
	}
	int ok = kura_fs_write_file_atomic(p, text, strlen(text), 0644) == 0 &&
		 kura_fs_write_file_atomic(strcat(strcpy(p, path), "/lock"), "", 0, 0644) == 0;
	free(text);
	if (!ok)
		return kura_error_sys(err, KURA_EIO, "writing the files of %s", path);
	return 0;
}

static int init_files(const char *path, const kura_init_options *opts, kura_error *err)
{
	const char *hash = NULL;
	uint64_t segsize = 0;
	int level = 0;
	int64_t now = 0;
	char created[KURA_TIME_BUFSZ];
	int rc = init_settings(&hash, &segsize, &level, opts, err);
	if (rc == 0)
		rc = init_folder(path, opts, err);
	if (rc == 0)
		rc = kura_clock_now(&now, err);
	if (rc != 0)
		return rc;
	kura_time_format(created, now);
	if ((rc = init_segments_and_index(path, opts, err)) == 0)
		rc = init_config(path, opts, hash, segsize, level, created, err);
	if (rc != 0)
		return rc;
	if (opts && opts->prepare && (rc = opts->prepare(opts->prepare_ud, path, err)) != 0)
		return rc;
	char p[4096];
	if (join(p, sizeof p, path, "FORMAT", err) != 0 ||
	    kura_fs_write_file_atomic(p, FORMAT_TEXT, strlen(FORMAT_TEXT), 0644) != 0)
		return kura_error_sys(err, KURA_EIO, "writing the files of %s", path);
	return 0;
}

static int read_config(kura_store *st, kura_error *err)
{
	char p[4096], *text = NULL;
	if (join(p, sizeof p, st->path, "FORMAT", err) != 0)
		return KURA_EINPUT;
	if (kura_fs_read_file(p, 4096, &text, NULL) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return kura_error_set(err, KURA_EINPUT,
					      "%s is not a kura store (no FORMAT file); create one with kura init", st->path);
		return kura_error_sys(err, KURA_EIO, "reading %s", p);
	}
	int same = strcmp(text, FORMAT_TEXT) == 0;
	free(text);
	if (!same)
		return kura_error_set(err, KURA_EUNSUPPORTED, "%s has a store format this kura does not read", st->path);

	if (join(p, sizeof p, st->path, "config.json", err) != 0)
		return KURA_EINPUT;
	json_error_t jerr;
	json_t *cfg = json_load_file(p, 0, &jerr);
	if (!cfg && json_error_code(&jerr) == json_error_cannot_open_file) /* jerr.text names the cause */
		return kura_error_set(err, KURA_EIO, "reading the store's configuration: %s", jerr.text);
	if (!cfg)
		return kura_error_set(err, KURA_EIO, "%s: %s (line %d); the store's configuration is damaged", p,
				      jerr.text, jerr.line);
	const char *hash = NULL;
	json_int_t segsize = 0;
	int level = 0;
	int rc = 0;
	json_t *urls = json_object_get(cfg, "tsa_urls"), *group = json_object_get(cfg, "group");
	if (group && json_is_string(group))
		st->group = strdup(json_string_value(group));
	st->four_eyes = !json_is_false(json_object_get(cfg, "four_eyes"));
	st->backend_cfg = json_incref(json_object_get(cfg, "backend"));
	if (json_unpack(cfg, "{s:s, s:I, s:i}", "hash", &hash, "segment_size", &segsize, "zstd_level", &level) != 0 ||
	    !kura_hash_by_name(hash) || segsize < 4096 || level < 1 || level > 19 || (urls && !json_is_array(urls)) ||
	    (group && !json_is_string(group)))
		rc = kura_error_set(err, KURA_EIO, "%s has missing or bad settings; the store's configuration is damaged", p);
	else {
		snprintf(st->hash, sizeof st->hash, "%s", hash);
		st->segment_size = (uint64_t)segsize;
		st->zstd_level = level;
		size_t n = json_array_size(urls);
		st->tsa_urls = calloc(n + 1, sizeof *st->tsa_urls);
		for (size_t i = 0; st->tsa_urls && i < n; i++)
			if (json_is_string(json_array_get(urls, i)))
				st->tsa_urls[st->ntsa_urls++] = strdup(json_string_value(json_array_get(urls, i)));
	}
	json_decref(cfg);
	return rc;
}

static void clear_config(kura_store *st)
{
	for (size_t i = 0; i < st->ntsa_urls; i++)
		free(st->tsa_urls[i]);
	free(st->tsa_urls);
	free(st->group);
	free(st->actor);
	json_decref(st->backend_cfg);
	st->backend_cfg = NULL;
	st->actor = NULL;
	st->tsa_urls = NULL;
	st->ntsa_urls = 0;
	st->group = NULL;
}

static int take_lock(kura_store *st, kura_error *err)
{
	int rc = st->be->lock(st->be, 0, err);
	if (rc == 1 && (rc = kura_store_holder_check(st->path, err)) == 0) { /* no service holds it: a short writer */
		kura_log_message(KURA_LOG_INFO, "waiting for another kura process that is writing to %s", st->path);
		rc = st->be->lock(st->be, 1, err);
	}
	st->locked = rc == 0;
	if (st->locked) /* a holder's note left by a killed holder */
		kura_store_holder_clear(st->path);
	return rc;
}

/* be NULL: the store's local-file backend, made here. */
static int open_config(kura_store **out, const char *path, kura_backend *be, kura_error *err)
{
	kura_store *st = calloc(1, sizeof *st);
	if (!st)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	st->path = strdup(path);
	st->be = be;
	if (!st->path) {
		kura_store_close(st);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	int rc = read_config(st, err);
	if (rc == 0 && !be) {
		rc = kura_backend_from_config(&st->be, path, st->backend_cfg, err);
		st->own_be = rc == 0;
	}
	if (rc == 0)
		rc = kura_store_files_check(path, err);
	if (rc != 0) {
		kura_store_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

/* Full segments never change: one shorter (or longer) than when it was rolled is
 * damaged, and the store takes no more writes until a person has looked
 * (restore the segment from a copy, or accept the loss with kura reindex). */
struct size_check {
	kura_store *st;
};

static int check_one_size(void *ud, uint32_t segno, uint64_t size, kura_error *err)
{
	struct size_check *c = ud;
	kura_backend *be = c->st->be;
	char path[4096];
	uint64_t now;
	be->name(be, segno, path, sizeof path);
	if (be->stat(be, segno, &now) != 0)
		return kura_error_set(err, KURA_EIO, "segment %s is missing: the store is damaged; restore it from a copy, "
					       "or run kura scrub and accept the loss with kura reindex", path);
	if (now != size)
		return kura_error_set(err, KURA_EIO, "segment %s has %lld bytes but had %llu when it was full: the store "
					       "is damaged; restore it from a copy, or run kura scrub and accept the loss "
					       "with kura reindex", path, (long long)now, (unsigned long long)size);
	return 0;
}

static int check_segment_sizes(kura_store *st, kura_error *err)
{
	struct size_check c = {st};
	return kura_index_each_sealed_size(st->ix, check_one_size, &c, err);
}

/* A reader (kura attach) never writes: only its own index is rebuilt (reader 1). */
static int refuse_reader(kura_store *st, kura_error *err)
{
	char where[512];
	st->be->name(st->be, 0, where, sizeof where);
	return kura_error_set(err, KURA_EINPUT, "%s is a reader of %s (made by kura attach): it never writes to the pool; "
					       "run this command on the writer's store, or refresh this one's index with "
					       "kura reindex %s", st->path, where, st->path);
}

const json_t *kura_store_backend_config(const kura_store *st) { return st->backend_cfg; }

int kura_store_is_reader(const kura_store *st) { return kura_backend_config_reader(st->backend_cfg); }
void kura_store_drop_index(kura_store *st) { kura_index_close(st->ix); st->ix = NULL; }

static int open_locked(kura_store **out, const char *path, kura_backend *be, int reader, kura_error *err)
{
	int rc = open_config(out, path, be, err);
	if (rc != 0)
		return rc;
	if (!reader && kura_store_is_reader(*out))
		rc = refuse_reader(*out, err);
	if (rc == 0 && (rc = take_lock(*out, err)) == 0) {
		(*out)->umask_set = 1;
		rc = kura_store_files_private(&(*out)->old_umask, path, (*out)->group, err);
	}
	if (rc == 0 && (rc = kura_store_files_finish(path, err)) > 0) { /* config.json may have changed */
		clear_config(*out);
		rc = read_config(*out, err);
	}
	if (rc != 0) {
		kura_store_close(*out);
		*out = NULL;
	}
	return rc;
}

int kura_store_open_locked(kura_store **out, const char *path, kura_error *err)
{
	return open_locked(out, path, NULL, 1, err);
}

int kura_store_open(kura_store **out, const char *path, int mode, kura_error *err)
{
	return kura_store_open_with_backend(out, path, mode, NULL, err);
}

int kura_store_open_with_backend(kura_store **out, const char *path, int mode, kura_backend *be, kura_error *err)
{
	kura_store *st = NULL;
	int rc = mode == KURA_STORE_WRITE ? open_locked(&st, path, be, 0, err) : open_config(&st, path, be, err);
	if (rc != 0)
		return rc;
	char p[4096];
	struct stat sb;
	if (mode == KURA_STORE_WRITE)
		rc = kura_rebuild_tidy(path, err);
	if (rc == 0 && (rc = kura_migrate_index(p, sizeof p, path, err)) == 0 && stat(p, &sb) != 0)
		rc = kura_error_set(err, KURA_EIO, "%s has no index; rebuild it with kura reindex %s", path, path);
	if (rc == 0)
		rc = kura_index_open(&st->ix, p, mode == KURA_STORE_WRITE ? 0 : KURA_INDEX_READONLY, err);
	if (rc == 0)
		rc = kura_compact_recover(st->be, st->ix, mode == KURA_STORE_WRITE, err);
	if (rc == 0)
		rc = kura_fields_load_index(&st->fields, st->ix, err);
	if (rc == 0 && mode == KURA_STORE_WRITE)
		rc = kura_rebuild_recover(st, err);
	if (rc == 0 && mode == KURA_STORE_WRITE)
		rc = check_segment_sizes(st, err);
	char last[KURA_ID_LEN + 1];
	if (rc == 0 && mode == KURA_STORE_WRITE && (rc = kura_index_last_id(st->ix, last, err)) == 0 && last[0])
		kura_id_floor(last); /* new IDs sort after every existing one */
	if (rc == 0 && mode == KURA_STORE_WRITE) {
		uint32_t segno;
		rc = kura_index_get_state(st->ix, &segno, &st->committed_end, err);
		if (rc == 0)
			rc = kura_segment_writer_open(&st->w, st->be, segno, st->committed_end, err);
		/* the first commit syncs the index: what a killed writer left unsynced too */
		st->index_synced = monotonic_ms() - INDEX_SYNC_MS;
	}
	if (rc != 0) {
		kura_store_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

int kura_store_view_open(kura_store **out, kura_store *st, kura_error *err)
{
	kura_store *v = calloc(1, sizeof *v);
	*out = v;
	if (!v)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	/* only what does not change while st is open: st's thread may be writing */
	v->view = 1;
	v->path = st->path;
	v->be = st->be;
	memcpy(v->hash, st->hash, sizeof v->hash);
	v->segment_size = st->segment_size;
	v->zstd_level = st->zstd_level;
	v->ix = st->ix;
	v->tsa_urls = st->tsa_urls;
	v->ntsa_urls = st->ntsa_urls;
	v->group = st->group;
	v->four_eyes = st->four_eyes;
	v->fields = st->fields;
	v->backend_cfg = st->backend_cfg;
	return 0;
}

void kura_store_close(kura_store *st)
{
	if (!st)
		return;
	if (st->view) {
		kura_blob_reader_free(st->reader);
		kura_subject_list_free(st->subjects);
		free(st->actor);
		free(st);
		return;
	}
	if (st->w) {
		kura_store_rollback(st, NULL);
		kura_segment_writer_close(st->w);
	}
	kura_index_close(st->ix);
	kura_fields_clear(&st->fields);
	kura_blob_reader_free(st->reader);
	kura_subject_list_free(st->subjects);
	if (st->locked) {
		kura_store_holder_clear(st->path); /* a holder's note goes before its lock (archive/store_holder.c) */
		st->be->unlock(st->be);
	}
	if (st->umask_set)
		umask(st->old_umask);
	clear_config(st);
	if (st->own_be)
		kura_backend_free(st->be);
	free(st->path);
	free(st);
}

/* The index write of a commit failed after the segment was synced to end. */
static int index_write_failed(kura_store *st, kura_index_batch *b, uint64_t end, kura_error *err)
{
	st->committed_end = end;
	st->index_failed = 1;
	kura_index_batch_clear(b);
	if (err) {
		size_t n = strlen(err->message);
		snprintf(err->message + n, sizeof err->message - n, "; what was written before it is kept, and the next "
			 "kura command takes it up");
	}
	return KURA_EIO;
}

int kura_store_commit(kura_store *st, kura_index_batch *b, kura_error *err)
{
	if (st->index_failed)
		return kura_error_set(err, KURA_EIO, "an index write failed earlier in this run; nothing more is written "
						     "(the next kura command takes up what was written before)");
	int rc = st->be->renew ? st->be->renew(st->be, err) : 0;
	if (rc == 0)
		rc = kura_segment_writer_sync(st->w, err);
	if (rc != 0)
		return rc;
	uint64_t end = kura_segment_writer_tell(st->w);
	kura_index_batch_put_state(b, kura_segment_writer_segno(st->w), end);
	int64_t now = monotonic_ms();
	int sync = now - st->index_synced >= INDEX_SYNC_MS; /* else the segment's sync was the durable one */
	if ((rc = kura_index_write(st->ix, b, sync, err)) != 0)
		return index_write_failed(st, b, end, err);
	if (sync)
		st->index_synced = now;
	st->committed_end = end;
	kura_index_batch_clear(b);
	uint64_t max = st->be->max_segment_size;
	if (end < st->segment_size && (!max || end < max))
		return 0;
	/* Roll. A crash between the new segment and this state write is repaired by
	 * recovery, which also walks segments past the one the index names. */
	uint32_t old = kura_segment_writer_segno(st->w);
	kura_error why = {0};
	if (kura_segment_writer_roll(st->w, &why) != 0) {
		/* what was committed stays committed and is reported; the roll is
		 * tried again at the next commit */
		kura_log_message(KURA_LOG_WARNING, "could not start segment %08u (%s); continuing in segment %08u", old + 1,
			why.message, old);
		return 0;
	}
	st->committed_end = KURA_SEGMENT_FILE_HEADER;
	kura_index_batch_put_sealed_size(b, old, end);
	kura_index_batch_put_state(b, kura_segment_writer_segno(st->w), st->committed_end);
	if ((rc = kura_index_write(st->ix, b, 1, err)) != 0)
		return index_write_failed(st, b, st->committed_end, err);
	kura_index_batch_clear(b);
	return 0;
}

int kura_store_roll(kura_store *st, kura_error *err)
{
	if (st->index_failed || kura_segment_writer_tell(st->w) != st->committed_end)
		return kura_error_set(err, KURA_EINTERNAL, "the segment cannot roll: records are pending or an index "
						       "write failed");
	uint32_t old = kura_segment_writer_segno(st->w);
	uint64_t end = st->committed_end;
	kura_index_batch *b = NULL;
	int rc = kura_index_batch_new(&b, err);
	if (rc == 0)
		rc = kura_segment_writer_roll(st->w, err);
	if (rc == 0) {
		st->committed_end = KURA_SEGMENT_FILE_HEADER;
		kura_index_batch_put_sealed_size(b, old, end);
		kura_index_batch_put_state(b, old + 1, st->committed_end);
		if ((rc = kura_index_write(st->ix, b, 1, err)) != 0)
			rc = index_write_failed(st, b, st->committed_end, err);
	}
	kura_index_batch_free(b);
	return rc;
}

int kura_store_rollback(kura_store *st, kura_error *err)
{
	if (kura_segment_writer_tell(st->w) == st->committed_end)
		return 0;
	return kura_segment_writer_truncate(st->w, st->committed_end, err);
}

int kura_store_set_tsa_urls(kura_store *st, const char *const *urls, size_t n, kura_error *err)
{
	return kura_store_set_tsa_urls_with(st, urls, n, NULL, NULL, err);
}

int kura_store_set_tsa_urls_with(kura_store *st, const char *const *urls, size_t n, const char *file,
				 const char *file_text, kura_error *err)
{
	if (!st->w)
		return kura_error_set(err, KURA_EINTERNAL, "changing the configuration needs a store opened for writing");
	char p[4096];
	json_error_t jerr;
	if (join(p, sizeof p, st->path, "config.json", err) != 0)
		return KURA_EINPUT;
	json_t *cfg = json_load_file(p, 0, &jerr), *from = json_array(), *to = json_array();
	for (size_t i = 0; i < st->ntsa_urls; i++)
		json_array_append_new(from, json_string(st->tsa_urls[i]));
	for (size_t i = 0; i < n; i++) {
		if (!kura_store_tsa_url_ok(urls[i])) {
			json_decref(cfg);
			json_decref(from);
			json_decref(to);
			return kura_error_set(err, KURA_EINPUT, "a TSA URL must be http:// or https:// (ASCII, no spaces), not '%s'", urls[i]);
		}
		json_array_append_new(to, json_string(urls[i]));
	}
	int rc = 0;
	char *text = NULL;
	if (!cfg) {
		rc = kura_error_set(err, KURA_EIO, "%s: %s; the store's configuration is damaged", p, jerr.text);
		goto out;
	}
	json_object_set(cfg, "tsa_urls", to);
	if (!(text = json_dumps(cfg, JSON_INDENT(2)))) {
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		goto out;
	}
	const char *names[] = {"config.json", file}, *texts[] = {text, file_text};
	if ((rc = kura_store_files_write_together(st->path, names, texts, file ? 2 : 1, err)) != 0)
		goto out;
	json_t *detail = json_pack("{s:O, s:O}", "from", from, "to", to);
	rc = kura_store_audit(st, "tsa-urls", detail, err);
	json_decref(detail);
	char **fresh = calloc(n + 1, sizeof *fresh);
	for (size_t i = 0; fresh && i < n; i++)
		fresh[i] = strdup(urls[i]);
	for (size_t i = 0; i < st->ntsa_urls; i++)
		free(st->tsa_urls[i]);
	free(st->tsa_urls);
	st->tsa_urls = fresh;
	st->ntsa_urls = fresh ? n : 0;
out:
	free(text);
	json_decref(cfg);
	json_decref(from);
	json_decref(to);
	return rc;
}

int kura_store_write_file(kura_store *st, const char *rel, const void *buf, size_t n, kura_error *err)
{
	if (!st->w)
		return kura_error_set(err, KURA_EINTERNAL, "writing %s needs a store opened for writing", rel);
	return kura_store_files_write(st->path, rel, buf, n, err);
}
