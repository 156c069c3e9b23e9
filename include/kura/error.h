/* Error reporting for every kura function.
 *
 * Functions return 0 or a negative KURA_E* code; the human message goes into a
 * kura_error the caller owns (usually on its stack). The CLI maps the code to the
 * exit status of DESIGN.md with kura_error_exit_status(). */
#ifndef KURA_ERROR_H
#define KURA_ERROR_H

enum {
	KURA_OK = 0,
	KURA_EINPUT = -1,    /* bad usage or bad input: exit 2 */
	KURA_ENOTFOUND = -2, /* no such object or store: exit 1 */
	KURA_EVERIFY = -3,   /* a check failed (damage, digest mismatch): exit 1 */
	KURA_EIO = -4,       /* I/O failure (disk full, unreadable segment): exit 3 */
	KURA_EINTERNAL = -5, /* a library failed or a bug: exit 3 */
};

typedef struct kura_error {
	int code;
	char message[1024];
} kura_error;

/* Records code and a printf-style message in err (if err is not NULL) and
 * returns code, so callers can write `return kura_error_set(err, ...)`. */
int kura_error_set(kura_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like kura_error_set, appending ": strerror(errno)" for the current errno. */
int kura_error_sys(kura_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes err's message with more context ("ingesting a.txt: ..."); keeps the code. */
int kura_error_wrap(kura_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The process exit status (0-3) for an error code. */
int kura_error_exit_status(int code);

#endif
