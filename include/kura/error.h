/* Error reporting for every kura function.
 *
 * Functions return 0 or a negative KURA_E* code, the kind of what happened; the
 * human message goes into a kura_error the caller owns (usually on its stack).
 * The library knows no exit statuses: the kura command maps kinds to the exit
 * statuses of its contract in one place (cli/exit_status.c), and an HTTP layer
 * maps them to status codes the same way, as suggested after each kind below. */
#ifndef KURA_ERROR_H
#define KURA_ERROR_H

enum {
	KURA_OK = 0,
	/* Bad input: a wrong argument, a file or record that is not what it must be
	 * (kura: exit 2; HTTP 400). */
	KURA_EINPUT = -1,
	/* No such object, store, member or file (exit 1; HTTP 404). */
	KURA_ENOTFOUND = -2,
	/* Damaged or failed verification: bytes that do not match their checksum or
	 * digest, a token or record that does not verify (exit 1; HTTP 422 for what
	 * the caller gave, 500 for the store's own bytes). */
	KURA_EDAMAGED = -3,
	/* An I/O failure: disk full, an unreadable segment (exit 3; HTTP 500, or 503
	 * while it may pass). */
	KURA_EIO = -4,
	/* A library failed, out of memory, or a bug (exit 3; HTTP 500). */
	KURA_EINTERNAL = -5,
	/* What is to be made exists already, e.g. a store (exit 2; HTTP 409). */
	KURA_EEXIST = -6,
	/* Another process holds the lock: another writer (exit 3; HTTP 423, or 503
	 * with Retry-After). */
	KURA_ELOCKED = -7,
	/* A time-stamp authority failed or answered wrongly (exit 3; HTTP 502). Not
	 * returned yet: kura_stamp() still reports it as KURA_EIO, which callers and
	 * tests of renewal rely on. */
	KURA_ETSA = -8,
	/* The system denied permission (EACCES, EPERM) on a file the caller named
	 * (exit 2; HTTP 403). */
	KURA_EDENIED = -9,
	/* A format version or feature this kura does not handle (exit 2; HTTP 501). */
	KURA_EUNSUPPORTED = -10,
};
/* The older name of KURA_EDAMAGED ("a check failed"), used across the code. */
#define KURA_EVERIFY KURA_EDAMAGED

typedef struct kura_error {
	int code;
	char message[1024];
} kura_error;

/* Records code and a printf-style message in err (if err is not NULL) and
 * returns code, so callers can write `return kura_error_set(err, ...)`. */
int kura_error_set(kura_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like kura_error_set, appending ": strerror(errno)" for the current errno.
 * KURA_EINPUT (a file the caller named cannot be used) becomes KURA_EDENIED when
 * errno is EACCES or EPERM; other codes are kept as given. */
int kura_error_sys(kura_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes err's message with more context ("ingesting a.txt: ..."); keeps the code. */
int kura_error_wrap(kura_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
