/* What the modes of kura_bench (bench/kura_bench.c, bench/kura_bench_search.c)
 * share: the clock, the peak RSS, and the one line each mode prints. */
#ifndef KURA_BENCH_H
#define KURA_BENCH_H

#include <stddef.h>

#include "kura/error.h"

double now_s(void);
long peak_kib(void);
/* Prints "kura_bench: what: message" to stderr; returns 1. */
int die(const kura_error *err, const char *what);
/* Prints "secs peak-KiB count bytes"; returns 0. */
int report(double secs, size_t count, unsigned long long bytes);

/* bench/kura_bench_search.c */
int mode_search_fill(const char *path, size_t n);
int mode_search(const char *path, size_t runs, int scan_too);
int mode_ingest_fields(const char *path, const char *dir, int with);

#endif
