/* Progress of long operations, reported to the log handler (see progress.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/progress.h"

struct kura_progress {
	char label[64];
	uint64_t total;
	struct timespec last;
	int reported;
};

kura_progress *kura_progress_new(const char *label, uint64_t total_bytes)
{
	if (!kura_log_wants_progress())
		return NULL;
	kura_progress *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	snprintf(p->label, sizeof p->label, "%s", label);
	p->total = total_bytes;
	return p;
}

void kura_progress_update(kura_progress *p, uint64_t done_bytes, uint64_t done_items)
{
	if (!p)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double since = (double)(now.tv_sec - p->last.tv_sec) + (double)(now.tv_nsec - p->last.tv_nsec) / 1e9;
	if (p->reported && since < 0.2)
		return;
	p->last = now;
	p->reported = 1;
	kura_log_progress(p->label, done_bytes, p->total, done_items);
}

void kura_progress_free(kura_progress *p)
{
	if (!p)
		return;
	if (p->reported)
		kura_log_progress(NULL, 0, 0, 0);
	free(p);
}
