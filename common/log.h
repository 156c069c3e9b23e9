/* How library code says something (see include/kura/log.h): one call, delivered to
 * the installed handler or dropped. Library code never uses stdout or stderr. */
#ifndef KURA_COMMON_LOG_H
#define KURA_COMMON_LOG_H

#include <stdint.h>

#include "kura/log.h"

/* A printf-style message at a KURA_LOG_* level. */
void kura_log_message(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Does the handler measure progress? (common/progress.c asks before measuring.) */
int kura_log_wants_progress(void);
/* One progress report; label NULL: done. */
void kura_log_progress(const char *label, uint64_t done_bytes, uint64_t total_bytes, uint64_t items);

#endif
