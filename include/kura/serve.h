/* The preservation service (docs/SERVICE.md): a store served over HTTP with
 * JSON, to accounts made with `kura user add` (kura/access.h). One process owns
 * the store: it is opened for writing when the service starts and closed when
 * it stops. */
#ifndef KURA_SERVE_H
#define KURA_SERVE_H

#include <netinet/in.h>
#include <stddef.h>

#include "kura/error.h"

typedef struct kura_service kura_service;

typedef struct {
	size_t max_body;          /* bytes of a request body (0: 64 MiB) */
	unsigned max_connections; /* at once (0: 2,000) */
	unsigned timeout;         /* seconds a connection may be idle (0: 30) */
	unsigned seal_every;      /* seconds between the scheduler's rounds: seal, renew when due (0: 60) */
	const char *tls_cert, *tls_key; /* PEM files: HTTPS with this certificate and key; NULL: HTTP */
	const char *client_ca;          /* PEM file: client certificates issued by it sign in (needs TLS); NULL: none */
	/* the scheduler's alerts (as kura daemon's, kura/renew.h) also go to this
	 * command; NULL: the store's config.json "alert_command", if any */
	const char *alert_command;
	/* one line per request or failure (no token ever appears in it); may be NULL */
	void (*log)(void *ud, const char *line);
	void *ud;
} kura_service_options;

/* Opens store for writing (KURA_ELOCKED while another process writes it) and
 * makes the service; nothing listens yet. *out: kura_service_free. */
int kura_service_new(kura_service **out, const char *store, const kura_service_options *o, kura_error *err);
/* Listens on addr (port 0: any free one, given back in *bound_port); requests
 * are served, each connection on a thread of its own, until kura_service_free.
 * Raises the process's limit of open files to what max_connections needs. */
int kura_service_listen(kura_service *s, const struct sockaddr_in *addr, const char *listen, unsigned *bound_port,
			kura_error *err);
/* Stops listening, finishes the requests being served and closes the store. */
void kura_service_free(kura_service *s);

#endif
