/* The embedded TSA served over HTTP (see kura/tsa.h): `kura tsa serve`, or any
 * program that runs it.
 *
 * The TSA being served: a rollover by `kura renew` or the daemon replaces its
 * key and certificate on disk; the server notices (tsa.pem changed) and loads the
 * successor, so a retired key never signs again. Requests are served one at a
 * time (one polling thread), so no lock is needed. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <microhttpd.h>

#include "evidence/tsa.h"
#include "kura/store.h"
#include "kura/tsa.h"

#define MAX_REQUEST 65536

struct kura_tsa_server {
	char dir[4096];
	kura_tsa *tsa;
	struct timespec loaded; /* mtime of tsa.pem when loaded */
	struct MHD_Daemon *daemon;
	kura_tsa_server_error_fn on_error;
	void *ud;
};

static struct timespec pem_mtime(const char *dir)
{
	char p[4200];
	struct stat st;
	struct timespec none = {0, 0};
	snprintf(p, sizeof p, "%s/tsa.pem", dir);
	return stat(p, &st) == 0 ? st.st_mtim : none;
}

static int served_current(struct kura_tsa_server *s, kura_error *err)
{
	struct timespec now = pem_mtime(s->dir);
	if (s->tsa && now.tv_sec == s->loaded.tv_sec && now.tv_nsec == s->loaded.tv_nsec)
		return 0;
	kura_tsa *fresh = NULL;
	int rc = kura_tsa_open(&fresh, s->dir, err);
	if (rc != 0)
		return rc;
	kura_tsa_close(s->tsa);
	s->tsa = fresh;
	s->loaded = now;
	return 0;
}

struct upload {
	unsigned char buf[MAX_REQUEST];
	size_t n;
	int too_big;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, void *body, size_t n,
			     enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(n, body, mode);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	enum MHD_Result ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *data, size_t *size, void **state)
{
	(void)url;
	(void)version;
	struct kura_tsa_server *served = cls;
	struct upload *u = *state;
	if (strcmp(method, "POST") != 0) {
		static char msg[] = "kura TSA: POST an RFC 3161 TimeStampReq (application/timestamp-query)\n";
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", msg, sizeof msg - 1, MHD_RESPMEM_PERSISTENT);
	}
	if (!u) {
		if (!(u = calloc(1, sizeof *u)))
			return MHD_NO;
		*state = u;
		return MHD_YES;
	}
	if (*size) {
		if (u->n + *size > sizeof u->buf)
			u->too_big = 1;
		else
			memcpy(u->buf + u->n, data, *size);
		u->n += *size;
		*size = 0;
		return MHD_YES;
	}
	if (u->too_big) {
		static char msg[] = "request too large\n";
		return reply(c, MHD_HTTP_CONTENT_TOO_LARGE, "text/plain", msg, sizeof msg - 1, MHD_RESPMEM_PERSISTENT);
	}
	unsigned char *resp = NULL;
	size_t rlen = 0;
	kura_error err = {0};
	if (served_current(served, &err) != 0 || kura_tsa_respond(served->tsa, u->buf, u->n, &resp, &rlen, &err) != 0) {
		if (served->on_error)
			served->on_error(served->ud, err.message);
		static char msg[] = "internal error\n";
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", msg, sizeof msg - 1, MHD_RESPMEM_PERSISTENT);
	}
	return reply(c, MHD_HTTP_OK, "application/timestamp-reply", resp, rlen, MHD_RESPMEM_MUST_FREE);
}

static void done(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)c;
	(void)why;
	free(*state);
	*state = NULL;
}

int kura_tsa_server_new(kura_tsa_server **out, const char *store, const char *dir, kura_tsa_server_error_fn on_error,
			void *ud, kura_error *err)
{
	char path[4096];
	kura_store *st = NULL;
	int rc = 0;
	*out = NULL;
	if (store) {
		if ((rc = kura_store_open(&st, store, KURA_STORE_READ, err)) == 0)
			snprintf(path, sizeof path, "%s/tsa", store);
		kura_store_close(st);
	} else {
		snprintf(path, sizeof path, "%s", dir);
		kura_tsa_options o = {.name = "kura standalone"};
		if (!kura_tsa_exists(dir))
			rc = kura_tsa_create(dir, &o, err);
	}
	if (rc != 0)
		return rc;
	struct kura_tsa_server *served = calloc(1, sizeof *served);
	if (!served)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	served->on_error = on_error;
	served->ud = ud;
	snprintf(served->dir, sizeof served->dir, "%s", path);
	if (!kura_tsa_exists(path))
		rc = kura_error_set(err, KURA_ENOTFOUND, "%s has no embedded TSA to serve", store);
	if (rc == 0)
		rc = served_current(served, err);
	if (rc != 0) {
		kura_tsa_server_free(served);
		return rc;
	}
	*out = served;
	return 0;
}

int kura_tsa_server_listen(kura_tsa_server *s, const struct sockaddr_in *addr, const char *listen,
			   unsigned *bound_port, kura_error *err)
{
	s->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR,
				     (const struct sockaddr *)addr, MHD_OPTION_NOTIFY_COMPLETED, done, NULL,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_END);
	if (!s->daemon)
		return kura_error_set(err, KURA_EIO, "cannot listen on %s (port in use or not allowed?)", listen);
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	*bound_port = info ? info->port : ntohs(addr->sin_port);
	return 0;
}

void kura_tsa_server_free(kura_tsa_server *s)
{
	if (!s)
		return;
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	kura_tsa_close(s->tsa);
	free(s);
}
