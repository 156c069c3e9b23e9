/* Error objects: one code plus one message, filled by the function that failed
 * and enriched with context by its callers (see include/kura/error.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kura/error.h"

int kura_error_set(kura_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof err->message, fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}

int kura_error_sys(kura_error *err, int code, const char *fmt, ...)
{
	int saved = errno;
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof err->message, fmt, ap);
		va_end(ap);
		size_t n = strlen(err->message);
		snprintf(err->message + n, sizeof err->message - n, ": %s", strerror(saved));
	}
	if (code == KURA_EINPUT && (saved == EACCES || saved == EPERM))
		code = KURA_EDENIED;
	if (err)
		err->code = code;
	return code;
}

int kura_error_wrap(kura_error *err, const char *fmt, ...)
{
	if (!err)
		return KURA_EINTERNAL;
	char prefix[512], old[sizeof err->message];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, err->message, sizeof old);
	size_t n = strlen(prefix);
	if (n > sizeof err->message - 3)
		n = sizeof err->message - 3;
	memcpy(err->message, prefix, n);
	memcpy(err->message + n, ": ", 2);
	size_t rest = sizeof err->message - n - 3;
	strncpy(err->message + n + 2, old, rest);
	err->message[sizeof err->message - 1] = '\0';
	return err->code;
}
