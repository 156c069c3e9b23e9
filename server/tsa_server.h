/* The embedded TSA served over HTTP (RFC 3161 over HTTP, libmicrohttpd):
 * POST application/timestamp-query, answer application/timestamp-reply.
 * `kura tsa serve` is one caller; an HTTP service of kura may be another. */
#ifndef KURA_TSA_SERVER_H
#define KURA_TSA_SERVER_H

#include <netinet/in.h>

#include "kura/error.h"

typedef struct kura_tsa_server kura_tsa_server;

/* Called with what went wrong when a request could not be answered (the client
 * got "500 internal error"). From the server's thread. */
typedef void (*kura_tsa_server_error_fn)(void *ud, const char *message);

/* Loads the TSA to serve: the embedded TSA of the store at store, or the TSA in
 * the folder dir (created there if it holds none); exactly one of them is given.
 * Nothing listens yet. *out is the caller's: kura_tsa_server_free. */
int kura_tsa_server_new(kura_tsa_server **out, const char *store, const char *dir, kura_tsa_server_error_fn on_error,
			void *ud, kura_error *err);

/* Starts answering on addr (port 0: any free port), on a thread of the
 * server's own; listen names the address in messages. *bound_port receives the
 * port it listens on. Signals the caller blocks before this call stay blocked
 * on that thread. */
int kura_tsa_server_listen(kura_tsa_server *s, const struct sockaddr_in *addr, const char *listen,
			   unsigned *bound_port, kura_error *err);

/* Stops listening (if it was) and frees the server. */
void kura_tsa_server_free(kura_tsa_server *s);

#endif
