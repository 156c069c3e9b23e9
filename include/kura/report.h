/* Reports people read (report/): for chosen objects of a store, a page an
 * auditor can read without kura, as one self-contained HTML file or an A4 PDF.
 *
 * A report is made in two steps. kura_report_build gathers, for each object,
 * the report `kura verify --json` prints for it (the same fields, with its
 * "id") and adds what a reader needs beside it:
 *   "object"        its description, as `kura show --json` gives it (name,
 *                   sha256, size, ingested, meta, ...)
 *   "versions"      the versions of its record, oldest first, as `kura history
 *                   --json` lists them ("id", "ingested", "name", "superseded_by")
 *   "next_renewal"  the plan's entry for its evidence (`kura renew --plan
 *                   --json`: "action", "due", "due_now", "reason"), or null
 * The whole report is {"kura": version, "store", "made" (RFC 3339),
 * "selection" (what chose the objects), "policy", "objects": [...]}.
 *
 * kura_report_html and kura_report_pdf render such a report; they need only
 * "objects" (each at least the verify report with its "id"), so a report built
 * elsewhere from verify --json lines renders too: what is missing is left out.
 * The summary (counts by verdict, the period the objects were ingested and
 * time-stamped in) is counted from "objects" by the renderer. Every name and
 * value is outside text: control characters are shown as kura/escape.h
 * escapes them, and nothing of it is ever markup. */
#ifndef KURA_REPORT_H
#define KURA_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "kura/error.h"
#include "kura/store.h"

typedef struct kura_report_options {
	const char *kura_version; /* which kura made it ("0.1.0") */
	const char *store;        /* how the store is named in the report (its path) */
	const char *selection;    /* what chose the objects ("all objects", "--where ..."); NULL: the IDs given */
} kura_report_options;

/* The report of objects ids[0..n) of st (n 0: every object, as `kura verify`
 * takes them), made now (KURA_NOW). *out is the caller's (json_decref).
 * Errors: KURA_ENOTFOUND for an unknown ID, I/O and internal failures. */
int kura_report_build(json_t **out, kura_store *st, const char *const *ids, size_t n, const kura_report_options *o,
		      kura_error *err);

/* Writes report as one self-contained HTML page (UTF-8; inline CSS and SVG,
 * no script, nothing fetched) to f. KURA_EIO when f cannot be written. */
int kura_report_html(FILE *f, const json_t *report, kura_error *err);

/* Writes report as an A4 PDF (cairo and pango; Noto CJK prints Japanese) to f,
 * with page numbers. KURA_EIO when f cannot be written. */
int kura_report_pdf(FILE *f, const json_t *report, kura_error *err);

#endif
