/* What the library has to say while it works, delivered to the program using it.
 *
 * libkura never writes to standard output or standard error. Its messages (a
 * warning, a line naming what recovery lost, a TSA attempt that failed, what a
 * renewal did) and the progress of long operations (ingest, scrub, export,
 * renewal) go to the handler installed with kura_log_set(), and nowhere when none
 * is installed. The kura command installs one that prints "kura: ..." lines on
 * stderr (cli/main.c); an HTTP service would send them to its log. Errors are not
 * messages: they come back through kura_error (kura/error.h).
 *
 * Threads: there is one handler for the whole process. Install it once, before
 * other threads call into kura: kura_log_set() is not synchronised with messages
 * being sent. The handler's functions may be called from any thread, several at the
 * same time, so they must be thread-safe; they must not call back into kura. */
#ifndef KURA_LOG_H
#define KURA_LOG_H

#include <stdint.h>

enum kura_log_level {
	KURA_LOG_INFO,    /* what was done, or what kura waits for */
	KURA_LOG_WARNING, /* something is not as it should be; the operation goes on */
	KURA_LOG_ERROR,   /* one step failed (a TSA attempt, a chain not renewed, an object left out of
			     a package, a damaged range); the operation goes on without it */
	KURA_LOG_LOST,    /* recovery (reindex) could not keep something: what it was and where */
};

typedef struct kura_log {
	/* One message: a line of text without a newline. It is not escaped: it may
	 * hold a name with any byte. */
	void (*message)(void *ud, int level, const char *text);
	/* The progress of a long operation, at most five times a second: label names
	 * it ("ingest", "scrub"), total_bytes is 0 when unknown. label NULL: the
	 * operation is done (sent only after at least one report). NULL here: no
	 * progress is measured at all. */
	void (*progress)(void *ud, const char *label, uint64_t done_bytes, uint64_t total_bytes, uint64_t items);
	void *ud; /* passed to both, untouched */
} kura_log;

/* Installs a copy of *log as the process's handler; NULL removes it (silence).
 * Either function of the struct may be NULL. */
void kura_log_set(const kura_log *log);

#endif
