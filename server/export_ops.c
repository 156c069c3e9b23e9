/* RetrievePO as a package and reports over the preservation service
 * (docs/SERVICE.md): an export package (`kura export`, .tar.zst) and a report
 * (`kura report`, HTML or PDF) of one object or of a selection (IDs or a
 * typed `where`), of the objects the account sees only: an object it does
 * not see is "not found" when named, and left out of a `where`.
 *
 * A package is written by kura_export_fields, reading through the call's view
 * of the store (no writer lock: other requests go on meanwhile), into a
 * private folder made for it in the store's folder (package.tmp.XXXXXX), read
 * back into memory and removed before the answer goes out; its export is an
 * audit record (action "export") as `kura export`'s is, written with the
 * store's writer under its lock. For an account limited to collections the
 * package leaves out what would show other collections (kura/package.h: the
 * trail's checkpoints, its records about other collections' objects) and the
 * answer says so in its Kura-Audit-Trail header. A selection is at most SELECTION_MAX
 * objects, a package at most PACKAGE_MAX bytes: more is `kura export` on the
 * server.
 *
 * RetrievePO with "format": "json" answers the objects themselves instead: each
 * one's ID, name, metadata, bytes (binaryValue, base64) and evidence record
 * (evidenceRecord, base64 DER; null while it is not sealed), at most JSON_MAX
 * bytes of them together. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "kura/evidence.h"
#include "kura/package.h"
#include "kura/report.h"
#include "kura/version.h"
#include "server/service.h"

#define SELECTION_MAX 1000
#define PACKAGE_MAX ((off_t)1 << 30)
#define JSON_MAX ((size_t)64 << 20) /* bytes and evidence records of one JSON answer, before base64 */

/* 1 if ids (a JSON array, or NULL) holds id already. */
static int listed(json_t *ids, const char *id)
{
	json_t *v;
	size_t i;
	json_array_foreach(ids, i, v)
		if (strcmp(json_string_value(v), id) == 0)
			return 1;
	return 0;
}

/* The objects a POST names: {"poId": [ID...]} or {"where": [...]}, each one
 * the account sees (*ids the caller's: a JSON array). 0, or -1 with the call
 * answered. */
static int selection(kura_api_call *call, json_t **ids, char what[1024])
{
	json_t *body = json_loadb((const char *)call->body, call->n, JSON_REJECT_DUPLICATES, NULL), *v;
	json_t *po = json_object_get(body, "poId"), *where = json_object_get(body, "where");
	kura_error err = {0};
	size_t i;
	*ids = NULL;
	what[0] = '\0';
	if (!json_is_object(body) || !po == !where || (po && !json_is_array(po))) {
		kura_api_error(call, MHD_HTTP_BAD_REQUEST, "the body is {\"poId\": [ID, ...]} or {\"where\": [\"FIELD OP "
							   "VALUE\", ...]} (at most %d objects)", SELECTION_MAX);
		json_decref(body);
		return -1;
	}
	int rc = where ? kura_api_where(ids, call, where, &err) : 0;
	if (rc != 0)
		kura_api_fail(call, &err);
	else if (json_array_size(po ? po : *ids) == 0 || json_array_size(po ? po : *ids) > SELECTION_MAX) {
		kura_api_error(call, MHD_HTTP_BAD_REQUEST, "%zu objects chosen: choose 1 to %d (narrow the where, or use "
							   "kura export on the server)", json_array_size(po ? po : *ids), SELECTION_MAX);
		rc = -1;
	}
	json_array_foreach(po, i, v) {
		char id[KURA_ID_LEN + 1];
		const char *s = json_string_value(v);
		call->id = s && strlen(s) == KURA_ID_LEN ? s : "-";
		json_t *o = rc == 0 ? kura_api_visible(call) : NULL; /* 404 for one it does not see */
		rc = o ? 0 : -1;
		json_decref(o);
		snprintf(id, sizeof id, "%s", call->id);
		call->id = NULL;
		if (rc != 0)
			break;
		if (listed(*ids, id))
			continue; /* named twice: once in the package or report */
		if (i == 0 && !(*ids = json_array())) {
			kura_api_error(call, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
			rc = -1;
			break;
		}
		json_array_append_new(*ids, json_string(id));
	}
	json_array_foreach(rc == 0 ? where : NULL, i, v) /* what chose them, as the report says it */
		snprintf(what + strlen(what), 1024 - strlen(what), "%s--where '%s'", i ? " " : "", json_string_value(v));
	json_decref(body);
	if (rc != 0) {
		json_decref(*ids);
		*ids = NULL;
	}
	return rc ? -1 : 0;
}

/* The IDs of a JSON array as C strings (borrowed from it; the caller frees the array). */
static const char **id_list(json_t *ids)
{
	const char **list = calloc(json_array_size(ids) + 1, sizeof *list);
	for (size_t i = 0; list && i < json_array_size(ids); i++)
		list[i] = json_string_value(json_array_get(ids, i));
	return list;
}

/* The whole file at fd into a malloc'd buffer. */
static int read_back(unsigned char **out, size_t *len, int fd, kura_error *err)
{
	struct stat sb;
	*out = NULL;
	if (fstat(fd, &sb) != 0)
		return kura_error_sys(err, KURA_EIO, "reading the package back");
	if (sb.st_size > PACKAGE_MAX)
		return kura_error_set(err, KURA_EINPUT, "the package is %lld bytes, more than the service hands out (%lld): "
							"choose fewer objects, or use kura export on the server",
				      (long long)sb.st_size, (long long)PACKAGE_MAX);
	if (!(*out = malloc((size_t)sb.st_size + 1)))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (*len = 0; *len < (size_t)sb.st_size;) {
		ssize_t got = read(fd, *out + *len, (size_t)sb.st_size - *len);
		if (got <= 0) {
			free(*out);
			*out = NULL;
			return kura_error_sys(err, KURA_EIO, "reading the package back");
		}
		*len += (size_t)got;
	}
	return 0;
}

/* A package for an account limited to collections (kura/package.h): no
 * checkpoint of the audit trail (each holds other collections' records too),
 * the trail's records about what it sees, redacted as a trace is. */
static int limit_sees(void *ud, const char *id)
{
	kura_api_call *call = ud;
	json_t *o = NULL;
	int seen = kura_store_object(&o, call->st, id, NULL) == 0 && kura_api_sees(call->user, o);
	json_decref(o);
	return seen;
}

static void limit_redact(void *ud, json_t *j)
{
	kura_api_redact(ud, j);
}

#define LIMITED_TRAIL "unproven; this account is limited to collections, so the package carries no checkpoint " \
		      "of the audit trail (each holds other collections' records) and only the trail's records " \
		      "about objects it sees: bag-info.txt, docs/FORMAT.md"

/* Answers with the package of ids: exported, recorded, read back, removed. */
static void send_package(kura_api_call *call, json_t *ids)
{
	char dir[4200], out[4300], to[300];
	const char **list = id_list(ids);
	kura_export_result res;
	kura_error err = {0};
	unsigned char *bytes = NULL;
	size_t len = 0;
	int fd = -1, rc = list ? 0 : kura_error_set(&err, KURA_EINTERNAL, "out of memory");
	snprintf(dir, sizeof dir, "%s/package.tmp.XXXXXX", kura_store_path(call->st));
	if (rc == 0 && !mkdtemp(dir))
		rc = kura_error_sys(&err, KURA_EIO, "making a folder for the package in %s", kura_store_path(call->st));
	snprintf(out, sizeof out, "%s/kura-%s.tar.zst", dir, json_string_value(json_array_get(ids, 0)));
	snprintf(to, sizeof to, "the preservation service's answer to account %s", call->user->name);
	json_t *fields = NULL;
	kura_export_limit limit = {.sees = limit_sees, .redact = limit_redact, .ud = call};
	if (rc == 0) /* read through the call's view: other requests go on meanwhile */
		rc = kura_export_fields(&res, &fields, call->st, out, to, list, json_array_size(ids),
					call->user->ncollections ? &limit : NULL, &err);
	if (rc == 0) { /* only the export's audit record needs the store's writer */
		pthread_mutex_lock(call->wlock);
		rc = kura_store_set_actor(call->writer, call->user->name, &err);
		if (rc == 0)
			rc = kura_store_audit_record(call->writer, "export", fields, NULL, &err);
		pthread_mutex_unlock(call->wlock);
	}
	json_decref(fields);
	if (rc == 0 && (fd = open(out, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		rc = kura_error_sys(&err, KURA_EIO, "reading the package back");
	if (rc == 0)
		rc = read_back(&bytes, &len, fd, &err);
	if (fd >= 0)
		close(fd);
	unlink(out); /* a package never stays behind */
	rmdir(dir);
	if (rc == 0 && res.objects == 0 && res.disposed && !res.unsealed)
		kura_api_error(call, MHD_HTTP_NOT_FOUND, "%s disposed of: a package holds objects with their content, "
							 "which is no longer kept (the disposal's audit record is in the "
							 "trace)", json_array_size(ids) == 1 ? "the object chosen was"
											  : "the objects chosen were all");
	else if (rc == 0 && res.objects == 0)
		kura_api_error(call, MHD_HTTP_NOT_FOUND, "none of the objects chosen is sealed yet%s: a package holds "
							 "objects with their evidence records",
			       res.disposed ? " (the others were disposed of)" : "");
	else if (rc == 0) {
		kura_api_bytes(call, MHD_HTTP_OK, bytes, len, "application/zstd");
		call->trail = call->user->ncollections ? LIMITED_TRAIL : NULL;
		bytes = NULL;
	} else
		kura_api_fail(call, &err);
	free(bytes);
	free(list);
}

/* len bytes as base64 text (NULL: out of memory). */
static json_t *base64(const unsigned char *p, size_t len)
{
	char *text = malloc(4 * ((len + 2) / 3) + 1);
	if (!text)
		return NULL;
	EVP_EncodeBlock((unsigned char *)text, p, (int)len);
	json_t *j = json_string(text);
	free(text);
	return j;
}

/* One object's entry of a JSON answer, its bytes and evidence counted in *total. */
static int json_entry(json_t **out, kura_api_call *call, const char *id, kura_evidence_cache *cache, size_t *total,
		      kura_error *err)
{
	json_t *o = NULL;
	unsigned char *bytes = NULL, *der = NULL;
	size_t len = 0, dlen = 0;
	int rc = kura_store_object(&o, call->st, id, err);
	if (rc == 0)
		rc = kura_api_read(&bytes, &len, call, id, err);
	if (rc == 0 && (rc = kura_object_evidence(&der, &dlen, call->st, id, cache, err)) == KURA_ENOTFOUND)
		rc = 0; /* not sealed yet: evidenceRecord null */
	*total += len + dlen;
	if (rc == 0 && *total > JSON_MAX)
		rc = kura_error_set(err, KURA_EINPUT, "the objects chosen hold more than %zu MiB: choose fewer, or ask for the "
						      "package (RetrievePO without \"format\")", JSON_MAX >> 20);
	if (rc == 0) {
		*out = json_pack("{s:s, s:O, s:O, s:o, s:o}", "poId", id, "name", json_object_get(o, "name") ?: json_null(),
				 "meta", json_object_get(o, "meta") ?: json_object(), "binaryValue", base64(bytes, len),
				 "evidenceRecord", der ? base64(der, dlen) : json_null());
		if (!*out)
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	free(bytes);
	free(der);
	json_decref(o);
	return rc;
}

/* Answers {"result": "ok", "po": [...]} for ids (see the top of the file). */
static void send_json(kura_api_call *call, json_t *ids)
{
	json_t *po = json_array(), *e = NULL;
	kura_evidence_cache *cache = NULL;
	kura_error err = {0};
	size_t total = 0;
	int rc = po ? kura_evidence_cache_new(&cache, &err) : kura_error_set(&err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < json_array_size(ids); i++)
		if ((rc = json_entry(&e, call, json_string_value(json_array_get(ids, i)), cache, &total, &err)) == 0)
			json_array_append_new(po, e);
	kura_evidence_cache_free(cache);
	if (rc == 0)
		kura_api_json(call, MHD_HTTP_OK, json_pack("{s:s, s:O}", "result", "ok", "po", po));
	else
		kura_api_fail(call, &err);
	json_decref(po);
}

void kura_api_package(kura_api_call *call)
{
	json_t *o = kura_api_visible(call), *ids = o ? json_pack("[s]", call->id) : NULL;
	if (o && ids)
		send_package(call, ids);
	else if (o)
		kura_api_error(call, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	json_decref(ids);
	json_decref(o);
}

void kura_api_packages(kura_api_call *call)
{
	json_t *ids = NULL, *body = json_loadb((const char *)call->body, call->n, 0, NULL);
	const char *format = json_string_value(json_object_get(body, "format"));
	char what[1024];
	if (format && strcmp(format, "json") != 0 && strcmp(format, "package") != 0)
		kura_api_error(call, MHD_HTTP_BAD_REQUEST, "format is \"json\" or \"package\" (the default), not \"%.40s\"",
			       format);
	else if (selection(call, &ids, what) == 0) {
		snprintf(call->object, sizeof call->object, "%s", json_string_value(json_array_get(ids, 0)));
		if (format && strcmp(format, "json") == 0)
			send_json(call, ids);
		else
			send_package(call, ids);
	}
	json_decref(ids);
	json_decref(body);
}

/* ---------------------------------------------------------------- reports */

/* Answers with the report of ids in format ("html" or "pdf"). */
static void send_report(kura_api_call *call, json_t *ids, const char *format, const char *what)
{
	const char **list = id_list(ids);
	json_t *report = NULL;
	kura_error err = {0};
	char *text = NULL;
	size_t len = 0;
	FILE *f = NULL;
	int pdf = format && strcmp(format, "pdf") == 0;
	if (!format || (!pdf && strcmp(format, "html") != 0)) {
		kura_api_error(call, MHD_HTTP_BAD_REQUEST, "give the report's format: html or pdf");
		free(list);
		return;
	}
	kura_report_options o = {.kura_version = KURA_VERSION, .store = kura_store_path(call->st), .selection = what};
	int rc = list ? kura_report_build(&report, call->st, list, json_array_size(ids), &o, &err)
		      : kura_error_set(&err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		kura_api_redact(call, report); /* its versions re-filed elsewhere */
	if (rc == 0 && !(f = open_memstream(&text, &len)))
		rc = kura_error_set(&err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = pdf ? kura_report_pdf(f, report, &err) : kura_report_html(f, report, &err);
	if (f && fclose(f) != 0 && rc == 0)
		rc = kura_error_set(&err, KURA_EINTERNAL, "out of memory");
	if (rc == 0) {
		kura_api_bytes(call, MHD_HTTP_OK, text, len, pdf ? "application/pdf" : "text/html; charset=utf-8");
		text = NULL;
	} else
		kura_api_fail(call, &err);
	free(text);
	free(list);
	json_decref(report);
}

void kura_api_report(kura_api_call *call)
{
	json_t *o = kura_api_visible(call), *ids = o ? json_pack("[s]", call->id) : NULL;
	if (o && ids)
		send_report(call, ids, MHD_lookup_connection_value(call->c, MHD_GET_ARGUMENT_KIND, "format"), NULL);
	else if (o)
		kura_api_error(call, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	json_decref(ids);
	json_decref(o);
}

void kura_api_reports(kura_api_call *call)
{
	json_t *ids = NULL, *body = json_loadb((const char *)call->body, call->n, 0, NULL);
	char what[1024];
	if (selection(call, &ids, what) == 0) {
		snprintf(call->object, sizeof call->object, "%s", json_string_value(json_array_get(ids, 0)));
		send_report(call, ids, json_string_value(json_object_get(body, "format")), what[0] ? what : NULL);
	}
	json_decref(ids);
	json_decref(body);
}
