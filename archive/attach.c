/* kura attach: a store folder on another machine that reads the segments a
 * writer keeps in a RADOS pool, with its own index (docs/CEPH.md, "Readers").
 *
 * What a reader folder holds, copied from the writer's folder (or a copy of it):
 *   config.json   the writer's, its "backend" with "reader": true (and this
 *                 machine's ceph.conf and cephx user); no "group"
 *   policy.yaml, sunsets.json, calendar.yaml, tsa-certified.json
 *   trust/tsa.pem, trust/signers.pem          trust anchors added by kura trust add
 *   tsa/anchors.pem, tsa/root.pem, tsa/tsa.pem, tsa/tsa.json
 *                 the embedded TSA's certificates, which evidence verifies against
 *   index/        built here from the pool (kura reindex refreshes it)
 *   reader-log.jsonl  what the writer's audit trail would have recorded of
 *                 this reader's own acts (exports): the pool is not written
 * Never copied: the TSA's keys tsa/NAME.key (a reader never time-stamps), users.json (the
 * service's accounts), state.json, the index.
 *
 * INVARIANTS
 * - FORMAT is written last: a folder without it is not a store (an interrupted
 *   attach leaves a folder that attach refuses, which the user removes).
 * - The pool is only read: the reader's backend refuses every change
 *   (archive/backend_reader.c), and its store refuses to open for writing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/store_impl.h"
#include "common/actor.h"
#include "common/fsutil.h"
#include "kura/clock.h"

static const char *const copied[] = {"policy.yaml",   "sunsets.json", "calendar.yaml",   "tsa-certified.json",
				     "trust/tsa.pem", "trust/signers.pem", "tsa/anchors.pem", "tsa/root.pem",
				     "tsa/tsa.pem",   "tsa/tsa.json",      NULL};

static int copy_file(const char *path, const char *from, const char *rel, kura_error *err)
{
	char src[4096], dst[4096], *text = NULL;
	size_t len = 0;
	snprintf(src, sizeof src, "%s/%s", from, rel);
	snprintf(dst, sizeof dst, "%s/%s", path, rel);
	if (kura_fs_read_file(src, 64u << 20, &text, &len) != 0)
		return errno == ENOENT ? 0 : kura_error_sys(err, KURA_EIO, "reading %s", src);
	char *slash = strrchr(dst, '/');
	*slash = '\0';
	int ok = (mkdir(dst, 0700) == 0 || errno == EEXIST);
	*slash = '/';
	ok = ok && kura_fs_write_file_atomic(dst, text, len, 0600) == 0;
	free(text);
	return ok ? 0 : kura_error_sys(err, KURA_EIO, "writing %s", dst);
}

/* from's config.json, made a reader's. */
static int reader_config(json_t **out, const char *from, const char *ceph_conf, const char *user, kura_error *err)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/config.json", from);
	json_error_t jerr;
	json_t *cfg = json_load_file(p, 0, &jerr);
	if (!cfg)
		return kura_error_set(err, KURA_EINPUT, "%s is not a kura store's folder (%s); give the writer's store folder, "
						       "or a copy of it", from, jerr.text);
	json_t *be = json_object_get(cfg, "backend");
	const char *type = json_string_value(json_object_get(be, "type"));
	if (!type || strcmp(type, "rados") != 0) {
		json_decref(cfg);
		return kura_error_set(err, KURA_EINPUT, "%s keeps its segments in local files, which no other machine reads; "
						       "move them to a Ceph pool first with kura migrate %s --to-backend "
						       "rados ...", from, from);
	}
	json_object_set_new(be, "reader", json_true());
	json_object_del(be, "lease_seconds");
	if (ceph_conf)
		json_object_set_new(be, "ceph_conf", json_string(ceph_conf));
	if (user)
		json_object_set_new(be, "user", json_string(user));
	json_object_del(cfg, "group"); /* a group of the writer's machine */
	*out = cfg;
	return 0;
}

static int write_config(const char *path, json_t *cfg, kura_error *err)
{
	char p[4096], *text = json_dumps(cfg, JSON_INDENT(2));
	snprintf(p, sizeof p, "%s/config.json", path);
	int ok = text && kura_fs_write_file_atomic(p, text, strlen(text), 0600) == 0;
	free(text);
	snprintf(p, sizeof p, "%s/lock", path);
	ok = ok && kura_fs_write_file_atomic(p, "", 0, 0600) == 0;
	return ok ? 0 : kura_error_sys(err, KURA_EIO, "writing the configuration of %s", path);
}

/* The pool holds a store: at least one segment. */
static int check_pool(const char *path, json_t *cfg, kura_error *err)
{
	kura_backend *be = NULL;
	uint32_t *segs = NULL;
	size_t n = 0;
	char where[512];
	int rc = kura_backend_from_config(&be, path, json_object_get(cfg, "backend"), err);
	if (rc == 0 && (rc = kura_segment_list(&segs, &n, be, err)) == 0 && n == 0) {
		be->name(be, 0, where, sizeof where);
		rc = kura_error_set(err, KURA_EINPUT, "%s holds no segments of a kura store: nothing to read", where);
	}
	free(segs);
	kura_backend_free(be);
	return rc;
}

static int make_folder(const char *path, kura_error *err)
{
	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return kura_error_sys(err, KURA_EIO, "creating %s", path);
	char p[4096];
	snprintf(p, sizeof p, "%s/FORMAT", path);
	struct stat sb;
	if (stat(p, &sb) == 0)
		return kura_error_set(err, KURA_EINPUT, "%s is a store already", path);
	snprintf(p, sizeof p, "%s/config.json", path);
	if (stat(p, &sb) == 0)
		return kura_error_set(err, KURA_EINPUT, "%s holds what an interrupted kura init or attach left; remove it "
						       "and run the command again", path);
	return 0;
}

int kura_store_attach(const char *path, const char *from, const char *ceph_conf, const char *user, uint64_t *objects,
		      kura_error *err)
{
	json_t *cfg = NULL;
	uint64_t damaged = 0;
	char p[4096], *format = NULL;
	snprintf(p, sizeof p, "%s/FORMAT", from);
	if (kura_fs_read_file(p, 4096, &format, NULL) != 0)
		return kura_error_set(err, KURA_EINPUT, "%s is not a kura store (no FORMAT file); give the writer's store "
						       "folder, or a copy of it", from);
	int rc = reader_config(&cfg, from, ceph_conf, user, err);
	if (rc == 0)
		rc = make_folder(path, err);
	if (rc == 0)
		rc = check_pool(path, cfg, err);
	for (size_t i = 0; rc == 0 && copied[i]; i++)
		rc = copy_file(path, from, copied[i], err);
	if (rc == 0)
		rc = write_config(path, cfg, err);
	snprintf(p, sizeof p, "%s/FORMAT", path);
	if (rc == 0 && kura_fs_write_file_atomic(p, format, strlen(format), 0600) != 0)
		rc = kura_error_sys(err, KURA_EIO, "writing %s", p);
	if (rc == 0)
		rc = kura_store_reindex(path, objects, &damaged, err);
	if (rc == 0 && damaged)
		rc = kura_error_set(err, KURA_EVERIFY, "%llu damaged or missing part(s) of the pool's segments, listed above, "
						       "were not indexed; run kura scrub on the writer", (unsigned long long)damaged);
	json_decref(cfg);
	free(format);
	return rc;
}

int kura_store_reader_record(const char *path, const char *action, json_t *fields, kura_error *err)
{
	char p[4096], actor[KURA_ACTOR_MAX + 1], when[KURA_TIME_BUFSZ];
	int64_t now;
	int rc = kura_clock_now(&now, err);
	if (rc != 0)
		return rc;
	kura_time_format(when, now);
	kura_actor_default(actor, sizeof actor);
	json_t *j = json_pack("{s:s, s:s, s:s}", "time", when, "actor", actor, "action", action);
	if (j && fields)
		json_object_update(j, fields);
	char *line = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!line)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	snprintf(p, sizeof p, "%s/reader-log.jsonl", path);
	int fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	size_t n = strlen(line);
	line[n] = '\n'; /* json_dumps' NUL: the line is written by length */
	int ok = fd >= 0 && kura_fs_write_all(fd, line, n + 1) == 0 && fsync(fd) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = 0;
	free(line);
	return ok ? 0 : kura_error_sys(err, KURA_EIO, "writing %s", p);
}
