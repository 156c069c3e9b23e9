/* What `kura export` writes besides each object's files (docs/FORMAT.md):
 * every time-stamp token once, as data/tokens/<SHA-256>.tsr with
 * data/tokens/INDEX.tsv; each object's evidence record as NAME.erp (in parts,
 * package/record_parts.c); and data/INDEX.csv, one row per object.
 *
 * INVARIANTS
 * - A token goes into the package the first time a record holds it, before the
 *   .erp that refers to it; the .erp's pieces are the record's own bytes, cut
 *   where each token's bytes lie, so they rebuild it byte for byte.
 * - Memory: 65 bytes a distinct token and one INDEX.csv row (about 200 bytes)
 *   an object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/hash.h"
#include "common/hex.h"
#include "evidence/record.h"
#include "evidence/tst.h"
#include "kura/clock.h"
#include "kura/escape.h"
#include "kura/search.h"
#include "kura/verify.h"
#include "package/export_evidence.h"

#define MAX_TOKENS 1024 /* in one record: a renewal every year for a thousand years */

struct kura_export_evidence {
	json_t *seen;        /* token SHA-256 (hex) -> true */
	char *tsv;           /* data/tokens/INDEX.tsv */
	size_t tsv_len;
	FILE *csv;           /* data/INDEX.csv, in memory */
	char *csv_text;
	size_t csv_len;
	kura_fields fields;
	kura_verifier *verifier;
};

int kura_export_evidence_new(kura_export_evidence **out, kura_store *st, kura_error *err)
{
	kura_export_evidence *x = calloc(1, sizeof *x);
	if (!x || !(x->seen = json_object()) || !(x->csv = open_memstream(&x->csv_text, &x->csv_len))) {
		kura_export_evidence_free(x);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	int rc = kura_fields_load(&x->fields, st, err);
	if (rc == 0)
		rc = kura_verifier_new(&x->verifier, st, 0, err);
	if (rc != 0) {
		kura_export_evidence_free(x);
		return rc;
	}
	static const char *const head[] = {"id", "path", "name"};
	for (size_t i = 0; i < 3; i++)
		kura_csv_cell(x->csv, head[i], 0);
	for (size_t i = 0; i < x->fields.n; i++)
		kura_csv_cell(x->csv, x->fields.v[i].name, 0);
	kura_csv_cell(x->csv, "sha256", 0);
	kura_csv_cell(x->csv, "first_timestamp", 0);
	kura_csv_cell(x->csv, "verdict", 0);
	kura_csv_cell(x->csv, "file", 1); /* last: readers of the columns before it are not disturbed */
	*out = x;
	return 0;
}

void kura_export_evidence_free(kura_export_evidence *x)
{
	if (!x)
		return;
	json_decref(x->seen);
	free(x->tsv);
	if (x->csv)
		fclose(x->csv);
	free(x->csv_text);
	kura_fields_clear(&x->fields);
	kura_verifier_free(x->verifier);
	free(x);
}

/* ---------------------------------------------------------------- tokens */

/* The INDEX.tsv line of a new token: file, genTime, its seconds, imprint hash, imprint. */
static int token_line(kura_export_evidence *x, const char *hex, const unsigned char *tok, size_t len, kura_error *err)
{
	kura_tst *tst = NULL;
	int rc = kura_tst_parse(&tst, tok, len, err);
	if (rc != 0)
		return rc;
	char when[KURA_TIME_BUFSZ], imprint_hex[2 * EVP_MAX_MD_SIZE + 1] = "", line[512];
	size_t ilen;
	const unsigned char *imprint = kura_tst_imprint(tst, &ilen);
	const char *hash = kura_hash_name_by_nid(kura_tst_imprint_nid(tst));
	if (ilen <= EVP_MAX_MD_SIZE)
		kura_hex_encode(imprint_hex, imprint, ilen);
	kura_time_format(when, kura_tst_gentime(tst));
	int n = snprintf(line, sizeof line, "%s.tsr\t%s\t%lld\t%s\t%s\n", hex, when,
			 (long long)(kura_tst_gentime(tst) / 1000), hash ? hash : "?", imprint_hex);
	kura_tst_free(tst);
	char *g = realloc(x->tsv, x->tsv_len + (size_t)n + 1);
	if (!g)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	memcpy(g + x->tsv_len, line, (size_t)n + 1);
	x->tsv = g;
	x->tsv_len += (size_t)n;
	return 0;
}

struct cutting {
	kura_export_evidence *x;
	kura_bag_writer *w;
	const unsigned char *der;
	size_t len, from, n;
	size_t offsets[MAX_TOKENS], lens[MAX_TOKENS];
	char names[MAX_TOKENS][65];
};

/* A token of the record: where it lies in the DER (tokens come in the order
 * the record holds them), and its file, added the first time it is seen. */
static int cut_token(void *ud, size_t chain, size_t ats, size_t nats, const unsigned char *tok, size_t len,
		     kura_error *err)
{
	(void)nats;
	struct cutting *c = ud;
	const unsigned char *at = len ? memmem(c->der + c->from, c->len - c->from, tok, len) : NULL;
	if (!at || c->n == MAX_TOKENS)
		return kura_error_set(err, KURA_EINTERNAL, "token %zu-%zu is not where the record holds it", chain, ats);
	unsigned char md[32];
	unsigned int mdlen = 0;
	if (!EVP_Digest(tok, len, md, &mdlen, EVP_sha256(), NULL))
		return kura_error_set(err, KURA_EINTERNAL, "SHA-256 failed");
	char *hex = c->names[c->n];
	kura_hex_encode(hex, md, 32);
	c->offsets[c->n] = (size_t)(at - c->der);
	c->lens[c->n++] = len;
	c->from = (size_t)(at - c->der) + len;
	if (json_object_get(c->x->seen, hex))
		return 0;
	char path[128];
	snprintf(path, sizeof path, "data/tokens/%s.tsr", hex);
	int rc = kura_bag_add(c->w, path, tok, len, err);
	if (rc == 0)
		rc = token_line(c->x, hex, tok, len, err);
	if (rc == 0 && json_object_set_new(c->x->seen, hex, json_true()) != 0)
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	return rc;
}

int kura_export_evidence_record(kura_export_evidence *x, kura_bag_writer *w, const char *path,
				const unsigned char *der, size_t len, kura_error *err)
{
	struct cutting *c = malloc(sizeof *c); /* not zeroed: only the first n entries are used */
	if (!c)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	c->x = x, c->w = w, c->der = der, c->len = len, c->from = 0, c->n = 0;
	char *head = NULL;
	size_t hlen = 0, cut = len;
	int rc = kura_er_each_token(der, len, cut_token, c, NULL, err);
	if (rc == 0)
		rc = kura_parts_header(&head, &hlen, der, len, c->offsets, (const char(*)[65])c->names, c->n, err);
	for (size_t i = 0; rc == 0 && i < c->n; i++)
		cut -= c->lens[i];
	if (rc == 0)
		rc = kura_bag_begin(w, path, hlen + cut, err);
	if (rc == 0)
		rc = kura_bag_write(w, head, hlen, err);
	size_t at = 0;
	for (size_t i = 0; rc == 0 && i <= c->n; i++) { /* the bytes between the tokens */
		size_t end = i < c->n ? c->offsets[i] : len;
		rc = kura_bag_write(w, der + at, end - at, err);
		at = i < c->n ? end + c->lens[i] : len;
	}
	if (rc == 0)
		rc = kura_bag_end(w, err);
	free(head);
	free(c);
	return rc;
}

/* ---------------------------------------------------------------- INDEX.csv */

int kura_export_evidence_row(kura_export_evidence *x, const char *id, json_t *o, const char *file, kura_error *err)
{
	json_t *report = NULL;
	int rc = kura_verifier_check(&report, x->verifier, id, err);
	if (rc != 0)
		return rc;
	char first[KURA_TIME_BUFSZ] = "";
	int64_t ms;
	if (kura_er_report_proven(&ms, report) == 0)
		kura_time_format(first, ms);
	json_t *meta = json_object_get(o, "meta");
	kura_csv_cell(x->csv, id, 0);
	kura_csv_cell(x->csv, json_string_value(json_object_get(o, "path")) ?: "", 0);
	kura_csv_cell(x->csv, json_string_value(json_object_get(o, "name")) ?: "", 0);
	for (size_t i = 0; i < x->fields.n; i++)
		kura_csv_cell(x->csv, json_string_value(json_object_get(meta, x->fields.v[i].name)) ?: "", 0);
	kura_csv_cell(x->csv, json_string_value(json_object_get(o, "sha256")) ?: "", 0);
	kura_csv_cell(x->csv, first, 0);
	kura_csv_cell(x->csv, json_string_value(json_object_get(report, "verdict")) ?: "", 0);
	kura_csv_cell(x->csv, file, 1);
	json_decref(report);
	return ferror(x->csv) ? kura_error_set(err, KURA_EINTERNAL, "out of memory") : 0;
}

int kura_export_evidence_finish(kura_export_evidence *x, kura_bag_writer *w, kura_error *err)
{
	if (fflush(x->csv) != 0 || ferror(x->csv))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	int rc = kura_bag_add(w, "data/INDEX.csv", x->csv_text, x->csv_len, err);
	if (rc == 0)
		rc = kura_bag_add(w, "data/tokens/INDEX.tsv", x->tsv ? x->tsv : "", x->tsv_len, err);
	return rc;
}
