/* The store's state file (see state.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/state.h"
#include "common/log.h"
#include "common/safefs.h"

#define STATE_MAX (4u << 20) /* far more than a store's few TSAs and alerts need */

static json_t *parse(const char *text, size_t len, const char *store)
{
	json_error_t jerr;
	json_t *s = json_loadb(text, len, 0, &jerr);
	if (!json_is_object(s)) {
		kura_log_message(KURA_LOG_WARNING, "%s/state.json is damaged (%s); its history (daemon runs, TSA results, scrub, "
				 "alerts) starts again", store, s ? "not an object" : jerr.text);
		json_decref(s);
		s = json_object();
	}
	return s;
}

static int read_at(json_t **out, int root, const char *store, kura_error *err)
{
	int fd = kura_safefs_open_read(root, "state.json");
	if (fd < 0 && errno == ENOENT) {
		*out = json_object();
		return *out ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	if (fd < 0)
		return kura_error_sys(err, KURA_EIO, "reading %s/state.json%s", store,
				      errno == ELOOP ? " (a symbolic link: " KURA_SAFEFS_LINK_ADVICE ")" : "");
	char *buf = malloc(STATE_MAX);
	ssize_t n = 0, got;
	while (buf && (size_t)n < STATE_MAX && (got = read(fd, buf + n, STATE_MAX - (size_t)n)) > 0)
		n += got;
	close(fd);
	*out = buf ? parse(buf, (size_t)n, store) : NULL;
	free(buf);
	return *out ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
}

int kura_state_read(json_t **out, const char *store, kura_error *err)
{
	int root = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return kura_error_sys(err, KURA_EIO, "opening %s", store);
	int rc = read_at(out, root, store, err);
	close(root);
	return rc;
}

/* The store's files are its owner's, or its group's too when its folder is
 * (archive/store_files.c); a reader that notes something (scrub) has no umask set. */
static mode_t file_mode(int root)
{
	struct stat sb;
	return fstat(root, &sb) == 0 && (sb.st_mode & 0070) ? 0640 : 0600;
}

int kura_state_change(const char *store, kura_state_fn fn, void *ud, kura_error *err)
{
	int root = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return kura_error_sys(err, KURA_EIO, "opening %s", store);
	mode_t mode = file_mode(root);
	int lock = openat(root, "state.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode);
	if (lock < 0 || flock(lock, LOCK_EX) != 0) {
		int rc = kura_error_sys(err, KURA_EIO, "locking %s/state.lock", store);
		if (lock >= 0)
			close(lock);
		close(root);
		return rc;
	}
	json_t *state = NULL;
	char *text = NULL;
	int rc = read_at(&state, root, store, err);
	if (rc == 0)
		rc = fn(ud, state, err);
	if (rc == 0 && !(text = json_dumps(state, JSON_INDENT(1) | JSON_SORT_KEYS)))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0 && kura_safefs_write(root, "state.json", text, strlen(text), mode) != 0)
		rc = kura_error_sys(err, KURA_EIO, "writing %s/state.json%s", store,
				    errno == ELOOP ? " (a symbolic link: " KURA_SAFEFS_LINK_ADVICE ")" : "");
	free(text);
	json_decref(state);
	close(lock); /* releases the lock */
	close(root);
	return rc;
}

struct merge {
	const char *section, *key;
	json_t *fields;
};

static int merge_into(void *ud, json_t *state, kura_error *err)
{
	struct merge *m = ud;
	json_t *sec = json_object_get(state, m->section);
	if (!json_is_object(sec)) {
		sec = json_object();
		json_object_set_new(state, m->section, sec);
	}
	json_t *at = sec;
	if (m->key) {
		at = json_object_get(sec, m->key);
		if (!json_is_object(at)) {
			at = json_object();
			json_object_set_new(sec, m->key, at);
		}
	}
	if (!at || json_object_update(at, m->fields) != 0)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	return 0;
}

int kura_state_merge(const char *store, const char *section, const char *key, json_t *fields, kura_error *err)
{
	struct merge m = {section, key, fields};
	return kura_state_change(store, merge_into, &m, err);
}
