/* Terminal progress line for long operations (see progress.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/progress.h"

struct kura_progress {
	char label[64];
	uint64_t total;
	struct timespec last;
	int printed;
};

kura_progress *kura_progress_new(const char *label, uint64_t total_bytes)
{
	if (!isatty(STDERR_FILENO))
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
	if (p->printed && since < 0.2)
		return;
	p->last = now;
	p->printed = 1;
	double mib = (double)done_bytes / (1 << 20);
	if (p->total)
		fprintf(stderr, "\r%s: %.1f / %.1f MiB (%3.0f%%), %llu items ", p->label, mib,
			(double)p->total / (1 << 20), 100.0 * (double)done_bytes / (double)p->total,
			(unsigned long long)done_items);
	else
		fprintf(stderr, "\r%s: %.1f MiB, %llu items ", p->label, mib, (unsigned long long)done_items);
	fflush(stderr);
}

void kura_progress_free(kura_progress *p)
{
	if (!p)
		return;
	if (p->printed)
		fprintf(stderr, "\r\033[K");
	free(p);
}
