/* The process's message handler (include/kura/log.h) and the one function library
 * code calls to say something. Without a handler every message is dropped. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"

static kura_log handler; /* all NULL: silence */

void kura_log_set(const kura_log *log)
{
	handler = log ? *log : (kura_log){0};
}

void kura_log_message(int level, const char *fmt, ...)
{
	if (!handler.message)
		return;
	char *text = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return; /* out of memory: the message is lost, the operation goes on */
	handler.message(handler.ud, level, text);
	free(text);
}

int kura_log_wants_progress(void)
{
	return handler.progress != NULL;
}

void kura_log_progress(const char *label, uint64_t done_bytes, uint64_t total_bytes, uint64_t items)
{
	if (handler.progress)
		handler.progress(handler.ud, label, done_bytes, total_bytes, items);
}
