/* What in a store's status needs a person, and what to run (see status_impl.h).
 * Every message says what is wrong and by when; every item names the command
 * to run next. Severities: info (worth knowing, the store is healthy), warning
 * (act in the coming days), error (act now), critical (something is lost or
 * damaged). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kura/clock.h"
#include "kura/status.h"
#include "renewal/status_impl.h"

#define DAY_MS 86400000LL
#define SCRUB_DAYS 92 /* a store is read through at least once a quarter */

struct att {
	json_t *items;
	char store[4200]; /* the store's path, quoted for a shell when it needs it */
};

static void quote_path(char *out, size_t n, const char *path)
{
	if (strspn(path, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./-+:,@%") == strlen(path)) {
		snprintf(out, n, "%s", path);
		return;
	}
	size_t k = 0;
	out[k++] = '\'';
	for (const char *p = path; *p && k + 6 < n; p++) {
		if (*p == '\'') {
			memcpy(out + k, "'\\''", 4);
			k += 4;
		} else {
			out[k++] = *p;
		}
	}
	out[k++] = '\'';
	out[k] = '\0';
}

/* Adds an item; command is a format whose "%1$s" is the store. details is stolen (may be NULL). */
static void add(struct att *a, const char *key, const char *kind, const char *severity, json_t *details,
		const char *command, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static void add(struct att *a, const char *key, const char *kind, const char *severity, json_t *details,
		const char *command, const char *fmt, ...)
{
	char msg[2048], cmd[4600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, command, a->store);
	json_array_append_new(a->items, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "key", key, "kind", kind, "severity",
						  severity, "message", msg, "command", cmd, "details",
						  details ? details : json_object()));
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k)) ?: "?";
}

static json_int_t num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* The earliest due time among the listed chains in state. */
static const char *first_due(json_t *ev, const char *state)
{
	const char *best = NULL;
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(ev, "chains"), i, c)
		if (strcmp(str(c, "state"), state) == 0 && json_is_string(json_object_get(c, "due")) &&
		    (!best || strcmp(str(c, "due"), best) < 0))
			best = str(c, "due");
	return best ? best : "?";
}

static void evidence_items(struct att *a, json_t *ev)
{
	if (num(ev, "broken") > 0)
		add(a, "evidence-broken", "evidence-broken", "critical", json_pack("{s:I}", "objects", num(ev, "broken")),
		    "kura verify %1$s --json",
		    "BROKEN: the evidence of %lld object(s) no longer verifies (since %s); a renewal cannot restore it: "
		    "`kura verify --json` says why; keep the exports and copies made before",
		    (long long)num(ev, "broken"), str(ev, "broken_since"));
	json_int_t risk = num(ev, "at_risk"), late = num(ev, "overdue");
	if (risk + late == 0)
		return;
	/* one item, so that at risk turning overdue is "worse", not a new alert */
	const char *breaks = risk ? str(ev, "at_risk_breaks") : str(ev, "overdue_breaks");
	if (risk && late && strcmp(str(ev, "overdue_breaks"), breaks) < 0)
		breaks = str(ev, "overdue_breaks");
	char lateness[200] = "";
	if (late)
		snprintf(lateness, sizeof lateness, "; %lld of them overdue by more than %d days: check that kura daemon runs",
			 (long long)late, KURA_STATUS_OVERDUE_DAYS);
	add(a, "evidence-at-risk", late ? "evidence-overdue" : "evidence-at-risk", late ? "error" : "warning",
	    json_pack("{s:I, s:I, s:s}", "objects", risk + late, "overdue", late, "breaks", breaks), "kura renew %1$s",
	    "AT RISK: %lld object(s): a renewal is due (since %s) and has not happened; their evidence breaks on %s%s",
	    (long long)(risk + late), first_due(ev, late ? "overdue" : "at_risk"), breaks, lateness);
}

/* A TSA failure about its certificate or root calls for trust; any other for another TSA or patience. */
static int about_trust(const char *why)
{
	return strstr(why, "certificate") || strstr(why, "root") || strstr(why, "trust") || strstr(why, "chain");
}

static void tsa_items(struct att *a, json_t *tsas)
{
	size_t i;
	json_t *t;
	char key[600];
	json_array_foreach(tsas, i, t) {
		const char *name = str(t, "name"), *why = str(t, "failure");
		if (!json_is_true(json_object_get(t, "configured")))
			continue; /* history of a TSA the store no longer uses */
		if (json_is_true(json_object_get(t, "failing"))) {
			snprintf(key, sizeof key, "tsa-failing:%s", name);
			add(a, key, "tsa-failing", "error", json_pack("{s:s, s:s}", "tsa", name, "failure", why),
			    about_trust(why) ? "kura trust add %1$s --tsa ROOT.pem" : "kura tsa urls %1$s --set URL...",
			    "TSA %s failed at %s: %s; %s", name, str(t, "last_failure"), why,
			    about_trust(why) ? "if it moved to a new root, get that root from its operator, check its "
					       "fingerprint and trust it"
					     : "if it stays unreachable, name another TSA");
		}
		if (json_is_false(json_object_get(t, "root_trusted"))) {
			snprintf(key, sizeof key, "tsa-untrusted:%s", name);
			add(a, key, "tsa-untrusted", "error",
			    json_pack("{s:s, s:s, s:s, s:s}", "tsa", name, "signer", str(t, "signer"), "root_subject",
				      str(t, "root_subject"), "root_sha256", str(t, "root_sha256")),
			    "kura trust add %1$s --tsa ROOT.pem",
			    "the last time-stamp of TSA %s (signed by %s) does not chain to a root this store trusts: "
			    "verification will call its tokens untrusted; get the TSA's root (%s, SHA-256 %s) from its "
			    "operator, check its fingerprint and trust it", name, str(t, "signer"), str(t, "root_subject"),
			    str(t, "root_sha256"));
		}
	}
}

static void anchor_items(struct att *a, json_t *anchors)
{
	size_t i;
	json_t *c;
	char key[120];
	json_array_foreach(anchors, i, c) {
		if (!json_is_true(json_object_get(c, "ending")))
			continue;
		int tsa = strcmp(str(c, "kind"), "tsa") == 0;
		snprintf(key, sizeof key, "anchor-ending:%s", str(c, "sha256"));
		add(a, key, "anchor-ending", "warning",
		    json_pack("{s:s, s:s, s:s}", "subject", str(c, "subject"), "sha256", str(c, "sha256"), "kind", str(c, "kind")),
		    tsa ? "kura trust add %1$s --tsa NEW-ROOT.pem" : "kura trust add %1$s --signers NEW-ROOT.pem",
		    "the trusted %s root %s (SHA-256 %s) ends %s: trust its successor before then",
		    tsa ? "TSA" : "signer", str(c, "subject"), str(c, "sha256"), str(c, "not_after"));
	}
}

static void scrub_items(struct att *a, json_t *scrub, json_t *objects, int64_t now)
{
	int64_t last;
	if (!json_is_object(scrub))
		scrub = NULL;
	if (scrub && strcmp(str(scrub, "result"), "damaged") == 0)
		add(a, "scrub-damage", "scrub-damage", "critical", json_pack("{s:I}", "damaged", num(scrub, "damaged")),
		    "kura scrub %1$s",
		    "the last scrub (%s) found %lld damaged place(s): run it again to list them, restore those segments "
		    "from a copy and run kura reindex", str(scrub, "last"), (long long)num(scrub, "damaged"));
	else if (scrub && strcmp(str(scrub, "result"), "failed") == 0)
		add(a, "scrub-failed", "scrub-failed", "error", NULL, "kura scrub %1$s", "the last scrub (%s) failed: %s",
		    str(scrub, "last"), str(scrub, "message"));
	else if (num(objects, "versions") > 0 &&
		 (!scrub || kura_time_parse(&last, str(scrub, "last"), NULL) != 0 || now - last > SCRUB_DAYS * DAY_MS))
		add(a, "scrub-due", "scrub-due", "info", NULL, "kura scrub %1$s",
		    "no scrub for %d days or more (last: %s): read every stored byte back once a quarter", SCRUB_DAYS,
		    scrub ? str(scrub, "last") : "never");
}

static void other_items(struct att *a, json_t *s)
{
	json_t *d = json_object_get(s, "daemon"), *sp = json_object_get(s, "space"), *o = json_object_get(s, "objects");
	json_t *r = json_object_get(s, "records");
	const char *by = json_string_value(json_object_get(d, "by")); /* none: before kura serve ran rounds */
	if (d && strcmp(str(d, "result"), "failed") == 0)
		add(a, "round-failed", "round-failed", "error", json_pack("{s:s}", "message", str(d, "message")),
		    "kura renew %1$s", "%s last round (%s) failed: %s",
		    by && strcmp(by, "kura serve") == 0 ? "kura serve's scheduler's" : "the daemon's", str(d, "last_round"),
		    str(d, "message"));
	if (json_is_true(json_object_get(sp, "low")))
		add(a, "low-space", "low-space", num(sp, "free") < (64 << 20) ? "error" : "warning",
		    json_pack("{s:I, s:O}", "free", num(sp, "free"), "days_left", json_object_get(sp, "days_left")),
		    "df -h %1$s",
		    "low space: %lld MiB free on the store's file system, %s at the last 30 days' growth: make room or "
		    "move the store", (long long)(num(sp, "free") >> 20),
		    json_is_integer(json_object_get(sp, "days_left")) ? "too few days" : "and little left");
	if (num(o, "pending") > 0)
		add(a, "pending", "pending", "info", NULL, "kura seal %1$s", "%lld object(s) wait for their first time-stamp",
		    (long long)num(o, "pending"));
	if (json_is_string(json_object_get(r, "disposal_suspended")))
		add(a, "disposal-suspended", "disposal-suspended", "warning", NULL, "kura log %1$s --verify", "%s",
		    str(r, "disposal_suspended"));
	if (num(r, "disposal_due") > 0)
		add(a, "disposal-due", "disposal-due", "info", NULL, "kura dispose %1$s --plan",
		    "%lld record(s) are past retention and under no hold", (long long)num(r, "disposal_due"));
}

int kura_status_attention(json_t *s, int64_t now, kura_error *err)
{
	struct att a = {.items = json_array()};
	if (!a.items)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	quote_path(a.store, sizeof a.store, str(s, "store"));
	evidence_items(&a, json_object_get(s, "evidence"));
	other_items(&a, s);
	tsa_items(&a, json_object_get(s, "tsas"));
	anchor_items(&a, json_object_get(s, "anchors"));
	scrub_items(&a, json_object_get(s, "scrub"), json_object_get(s, "objects"), now);
	int healthy = 1;
	size_t i;
	json_t *it;
	json_array_foreach(a.items, i, it)
		healthy &= strcmp(str(it, "severity"), "info") == 0;
	json_object_set_new(s, "healthy", json_boolean(healthy));
	json_object_set_new(s, "attention", a.items);
	return 0;
}
