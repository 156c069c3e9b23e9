/* `kura status --prometheus` and the service's /metrics: the status object
 * (kura/status.h) in Prometheus' text exposition format, for node_exporter's
 * textfile collector or a scrape: every
 * metric named kura_*, with HELP and TYPE lines, label values escaped
 * (backslash, double quote, line feed), times as Unix seconds. */
#include <stdio.h>
#include <string.h>

#include "kura/clock.h"
#include "kura/status.h"

/* One label value, escaped as the format wants. */
static void label(FILE *f, const char *name, const char *value, int first)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	for (const char *p = value ? value : ""; *p; p++) {
		if (*p == '\\' || *p == '"')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fprintf(f, "\\n");
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void head(FILE *f, const char *metric, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", metric, help, metric);
}

/* metric{store="..."[,k="v"]} value; extra labels come as name, value pairs ending with NULL. */
static void sample(FILE *f, const char *metric, const char *store, double v, const char *k1, const char *v1, const char *k2,
		   const char *v2)
{
	fprintf(f, "%s{", metric);
	label(f, "store", store, 1);
	if (k1)
		label(f, k1, v1, 0);
	if (k2)
		label(f, k2, v2, 0);
	fprintf(f, "} %.17g\n", v);
}

/* Seconds since 1970 of an RFC 3339 text, or -1 when there is none. */
static double secs(json_t *t)
{
	int64_t ms;
	return json_is_string(t) && kura_time_parse(&ms, json_string_value(t), NULL) == 0 ? (double)ms / 1000.0 : -1;
}

static double num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static void counts(FILE *f, json_t *s, const char *store)
{
	json_t *o = json_object_get(s, "objects"), *e = json_object_get(s, "evidence"), *sp = json_object_get(s, "space");
	static const char *const states[] = {"valid", "at_risk", "overdue", "broken"};
	head(f, "kura_records", "Records in the store (current versions).");
	sample(f, "kura_records", store, num(o, "records"), NULL, NULL, NULL, NULL);
	head(f, "kura_versions", "Versions of all records.");
	sample(f, "kura_versions", store, num(o, "versions"), NULL, NULL, NULL, NULL);
	head(f, "kura_pending_objects", "Objects waiting for their first time-stamp.");
	sample(f, "kura_pending_objects", store, num(o, "pending"), NULL, NULL, NULL, NULL);
	head(f, "kura_stored_bytes", "Bytes of all versions as ingested.");
	sample(f, "kura_stored_bytes", store, num(o, "bytes"), NULL, NULL, NULL, NULL);
	head(f, "kura_ingested_30d_bytes", "Bytes ingested in the last 30 days.");
	sample(f, "kura_ingested_30d_bytes", store, num(o, "ingested_30d"), NULL, NULL, NULL, NULL);
	head(f, "kura_evidence_objects", "Objects by the health of their evidence.");
	for (int i = 0; i < 4; i++)
		sample(f, "kura_evidence_objects", store, num(e, states[i]), "state", states[i], NULL, NULL);
	head(f, "kura_evidence_breaks_timestamp_seconds", "When the earliest at-risk or overdue evidence breaks.");
	if (secs(json_object_get(e, "at_risk_breaks")) >= 0)
		sample(f, "kura_evidence_breaks_timestamp_seconds", store, secs(json_object_get(e, "at_risk_breaks")), "state",
		       "at_risk", NULL, NULL);
	if (secs(json_object_get(e, "overdue_breaks")) >= 0)
		sample(f, "kura_evidence_breaks_timestamp_seconds", store, secs(json_object_get(e, "overdue_breaks")), "state",
		       "overdue", NULL, NULL);
	head(f, "kura_next_renewal_timestamp_seconds", "When the next renewal falls due (absent: none foreseen).");
	if (secs(json_object_get(json_object_get(s, "next_renewal"), "due")) >= 0)
		sample(f, "kura_next_renewal_timestamp_seconds", store, secs(json_object_get(json_object_get(s, "next_renewal"), "due")),
		       NULL, NULL, NULL, NULL);
	head(f, "kura_free_bytes", "Free bytes on the store's file system.");
	if (json_is_object(sp))
		sample(f, "kura_free_bytes", store, num(sp, "free"), NULL, NULL, NULL, NULL);
}

static void history(FILE *f, json_t *s, const char *store)
{
	json_t *d = json_object_get(s, "daemon"), *sc = json_object_get(s, "scrub"), *t;
	size_t i;
	head(f, "kura_daemon_last_round_timestamp_seconds", "When the daemon's last round ended.");
	head(f, "kura_daemon_last_round_ok", "1 if the daemon's last round succeeded.");
	if (json_is_object(d)) {
		sample(f, "kura_daemon_last_round_timestamp_seconds", store, secs(json_object_get(d, "last_round")), NULL, NULL,
		       NULL, NULL);
		sample(f, "kura_daemon_last_round_ok", store, strcmp(json_string_value(json_object_get(d, "result")) ?: "", "ok") == 0,
		       NULL, NULL, NULL, NULL);
	}
	head(f, "kura_scrub_last_timestamp_seconds", "When the last scrub ran.");
	head(f, "kura_scrub_damaged", "Damaged places the last scrub found.");
	if (json_is_object(sc)) {
		sample(f, "kura_scrub_last_timestamp_seconds", store, secs(json_object_get(sc, "last")), NULL, NULL, NULL, NULL);
		sample(f, "kura_scrub_damaged", store, num(sc, "damaged"), NULL, NULL, NULL, NULL);
	}
	head(f, "kura_tsa_failing", "1 if the TSA's last attempt failed.");
	json_array_foreach(json_object_get(s, "tsas"), i, t)
		sample(f, "kura_tsa_failing", store, json_is_true(json_object_get(t, "failing")), "tsa",
		       json_string_value(json_object_get(t, "name")), NULL, NULL);
	head(f, "kura_tsa_last_success_timestamp_seconds", "When the TSA last gave a time-stamp.");
	json_array_foreach(json_object_get(s, "tsas"), i, t)
		if (secs(json_object_get(t, "last_success")) >= 0)
			sample(f, "kura_tsa_last_success_timestamp_seconds", store, secs(json_object_get(t, "last_success")), "tsa",
			       json_string_value(json_object_get(t, "name")), NULL, NULL);
	head(f, "kura_tsa_certificate_end_timestamp_seconds", "When the certificate of the TSA's last token ends.");
	json_array_foreach(json_object_get(s, "tsas"), i, t)
		if (secs(json_object_get(t, "cert_end")) >= 0)
			sample(f, "kura_tsa_certificate_end_timestamp_seconds", store, secs(json_object_get(t, "cert_end")), "tsa",
			       json_string_value(json_object_get(t, "name")), NULL, NULL);
	head(f, "kura_tsa_root_trusted", "1 if the TSA's last token chains to a root the store trusts.");
	json_array_foreach(json_object_get(s, "tsas"), i, t)
		if (json_is_boolean(json_object_get(t, "root_trusted")))
			sample(f, "kura_tsa_root_trusted", store, json_is_true(json_object_get(t, "root_trusted")), "tsa",
			       json_string_value(json_object_get(t, "name")), NULL, NULL);
	head(f, "kura_trust_anchor_end_timestamp_seconds", "When a trust anchor added to the store ends.");
	json_array_foreach(json_object_get(s, "anchors"), i, t)
		sample(f, "kura_trust_anchor_end_timestamp_seconds", store, secs(json_object_get(t, "not_after")), "kind",
		       json_string_value(json_object_get(t, "kind")), "sha256", json_string_value(json_object_get(t, "sha256")));
}

int kura_status_prometheus(FILE *f, json_t *s, kura_error *err)
{
	const char *store = json_string_value(json_object_get(s, "store"));
	static const char *const sev[] = {"info", "warning", "error", "critical"};
	json_t *r = json_object_get(s, "records"), *it;
	size_t i;
	counts(f, s, store);
	history(f, s, store);
	head(f, "kura_holds_active", "Legal holds in force.");
	sample(f, "kura_holds_active", store, num(r, "holds_active"), NULL, NULL, NULL, NULL);
	head(f, "kura_disposal_due_records", "Records past retention and under no hold.");
	sample(f, "kura_disposal_due_records", store, num(r, "disposal_due"), NULL, NULL, NULL, NULL);
	head(f, "kura_attention_items", "Things that need a person, by severity (kura status says what to run).");
	for (int k = 0; k < 4; k++) {
		int n = 0;
		json_array_foreach(json_object_get(s, "attention"), i, it)
			n += strcmp(json_string_value(json_object_get(it, "severity")) ?: "", sev[k]) == 0;
		sample(f, "kura_attention_items", store, n, "severity", sev[k], NULL, NULL);
	}
	head(f, "kura_healthy", "1 when nothing needs attention (warnings or worse).");
	sample(f, "kura_healthy", store, json_is_true(json_object_get(s, "healthy")), NULL, NULL, NULL, NULL);
	return ferror(f) ? kura_error_sys(err, KURA_EIO, "writing the metrics") : 0;
}
