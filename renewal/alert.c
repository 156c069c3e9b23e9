/* The daemon's alerts (see alert.h). An event is JSON: {"event" ("alert" | "repeat"
 * | "worse" | "cleared"), "kind", "severity", "store", "message", "command",
 * "details", "time", "since"}; docs/OPERATIONS.md lists the kinds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>

#include "archive/state.h"
#include "kura/clock.h"
#include "kura/status.h"
#include "proof/store_policy.h"
#include "renewal/alert.h"

static int rank(const char *severity)
{
	static const char *const order[] = {"info", "warning", "error", "critical", NULL};
	for (int i = 0; order[i]; i++)
		if (strcmp(order[i], severity ? severity : "") == 0)
			return i;
	return 0;
}

struct compare {
	json_t *items;  /* the status's attention items (borrowed) */
	json_t *events; /* to send */
	const char *store;
	int64_t now;
};

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k)) ?: "";
}

static json_t *event(const char *what, json_t *item, const struct compare *c, const char *since)
{
	char when[KURA_TIME_BUFSZ];
	kura_time_format(when, c->now);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:s, s:s}", "event", what, "kind", str(item, "kind"),
			 "severity", str(item, "severity"), "store", c->store, "message", str(item, "message"), "command",
			 str(item, "command"), "details", json_object_get(item, "details") ?: json_null(), "time", when,
			 "since", since);
}

/* What was sent about key, updated for this round; *what set when an event is due. */
static void one_item(struct compare *c, json_t *alerts, json_t *item, const char *key)
{
	json_t *a = json_object_get(alerts, key);
	char when[KURA_TIME_BUFSZ];
	kura_time_format(when, c->now);
	const char *what = NULL;
	json_int_t pause = KURA_ALERT_FIRST_PAUSE_S;
	if (!a) {
		what = "alert";
		a = json_pack("{s:s, s:s}", "kind", str(item, "kind"), "since", when);
		json_object_set_new(alerts, key, a);
	} else if (rank(str(item, "severity")) > rank(str(a, "severity"))) {
		what = "worse";
	} else if (c->now >= json_integer_value(json_object_get(a, "next_ms"))) {
		what = "repeat";
		pause = json_integer_value(json_object_get(a, "pause_s")) * 2;
		pause = pause > KURA_ALERT_MAX_PAUSE_S ? KURA_ALERT_MAX_PAUSE_S : pause < KURA_ALERT_FIRST_PAUSE_S ? KURA_ALERT_FIRST_PAUSE_S : pause;
	}
	json_object_set(a, "severity", json_object_get(item, "severity"));
	json_object_set(a, "message", json_object_get(item, "message"));
	json_object_set(a, "command", json_object_get(item, "command"));
	json_object_set_new(a, "seen", json_true());
	if (!what)
		return;
	json_object_set_new(a, "last_sent", json_string(when));
	json_object_set_new(a, "pause_s", json_integer(pause));
	json_object_set_new(a, "next_ms", json_integer(c->now + pause * 1000));
	json_array_append_new(c->events, event(what, item, c, str(a, "since")));
}

/* Under the state's lock: new, persisting and cleared alerts. */
static int compare_alerts(void *ud, json_t *state, kura_error *err)
{
	struct compare *c = ud;
	json_t *alerts = json_object_get(state, "alerts"), *it, *a, *gone = json_array();
	size_t i;
	const char *key;
	void *tmp;
	(void)err;
	if (!json_is_object(alerts)) {
		alerts = json_object();
		json_object_set_new(state, "alerts", alerts);
	}
	json_array_foreach(c->items, i, it)
		if (rank(str(it, "severity")) >= rank("warning"))
			one_item(c, alerts, it, str(it, "key"));
	json_object_foreach_safe(alerts, tmp, key, a) {
		if (json_is_true(json_object_get(a, "seen"))) {
			json_object_del(a, "seen");
			continue;
		}
		json_t *cleared = json_pack("{s:s, s:s, s:s, s:s, s:o}", "kind", str(a, "kind"), "severity", "info",
					    "message", str(a, "message"), "command", "", "details", json_object());
		char msg[2100];
		snprintf(msg, sizeof msg, "cleared: %s", str(a, "message"));
		json_object_set_new(cleared, "message", json_string(msg));
		json_array_append_new(c->events, event("cleared", cleared, c, str(a, "since")));
		json_decref(cleared);
		json_array_append_new(gone, json_string(key));
	}
	json_array_foreach(gone, i, it)
		json_object_del(alerts, json_string_value(it));
	json_decref(gone);
	return 0;
}

static void logf_(const kura_daemon_options *o, const char *what, const char *why)
{
	char line[2300];
	snprintf(line, sizeof line, "%s: %s", what, why);
	if (o->log)
		o->log(o->ud, line);
}

static void note_round(const char *path, int64_t now, int rc, const char *message, const kura_daemon_options *o)
{
	json_t *f = json_object();
	kura_time_put_json(f, "last_round", now);
	json_object_set_new(f, "result", json_string(rc == 0 ? "ok" : "failed"));
	json_object_set_new(f, "by", json_string(o->runner ? o->runner : "kura daemon"));
	json_object_set_new(f, "message", rc == 0 ? json_null() : json_string(message ? message : "?"));
	if (rc == 0)
		kura_time_put_json(f, "last_success", now);
	kura_error err = {0};
	if (kura_state_merge(path, "daemon", NULL, f, &err) != 0)
		logf_(o, "the round's result was not noted for kura status", err.message);
	json_decref(f);
}

/* The status's attention items (of open, else of the store opened for reading),
 * or one item saying why there is no status. */
static json_t *attention(kura_store *open, const char *path, kura_error *err)
{
	kura_store *st = NULL;
	json_t *s = NULL, *items;
	int rc = open ? 0 : kura_store_open(&st, path, KURA_STORE_READ, err);
	if (rc == 0)
		rc = kura_status(&s, open ? open : st, err);
	kura_store_close(st);
	if (rc == 0) {
		items = json_incref(json_object_get(s, "attention"));
		json_decref(s);
		return items;
	}
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "kura status %s", path);
	return json_pack("[{s:s, s:s, s:s, s:s, s:s, s:{}}]", "key", "status-unknown", "kind", "status-unknown", "severity",
			 "critical", "message", err->message, "command", cmd, "details");
}

/* o->alert_command, else the store's configuration's "alert_command" (*cfg keeps it alive). */
static const char *alert_command(const char *path, const kura_daemon_options *o, json_t **cfg)
{
	int rc = 0;
	kura_error err = {0};
	if (o->alert_command)
		return o->alert_command;
	*cfg = kura_store_json_load(path, "config.json", "configuration", &err, &rc);
	return json_string_value(json_object_get(*cfg, "alert_command"));
}

void kura_alert_round(const char *path, int rc, const char *message, const kura_daemon_options *o)
{
	kura_daemon_note_round(NULL, path, rc, message, o);
}

void kura_daemon_note_round(kura_store *st, const char *path, int rc, const char *message, const kura_daemon_options *o)
{
	int64_t now;
	if (kura_clock_now(&now, NULL) != 0)
		return;
	note_round(path, now, rc, message, o);
	if (!o->alert)
		return;
	kura_error err = {0};
	struct compare c = {.items = attention(st, path, &err), .events = json_array(), .store = path, .now = now};
	if (c.items && c.events && kura_state_change(path, compare_alerts, &c, &err) == 0) {
		size_t i;
		json_t *e, *cfg = NULL;
		const char *command = json_array_size(c.events) ? alert_command(path, o, &cfg) : NULL;
		json_array_foreach(c.events, i, e)
			o->alert(o->ud, e, command && *command ? command : NULL);
		json_decref(cfg);
	} else {
		logf_(o, "alerts could not be checked", err.message);
	}
	json_decref(c.items);
	json_decref(c.events);
}

static int syslog_level(const char *severity)
{
	return strcmp(severity, "critical") == 0 ? LOG_CRIT : strcmp(severity, "error") == 0 ? LOG_ERR
	       : strcmp(severity, "warning") == 0 ? LOG_WARNING : LOG_NOTICE;
}

void kura_alert_deliver(json_t *event, const char *command, void (*log)(void *ud, const char *line), void *ud)
{
	const char *kind = json_string_value(json_object_get(event, "kind")) ?: "?";
	const char *sev = json_string_value(json_object_get(event, "severity")) ?: "info";
	const char *msg = json_string_value(json_object_get(event, "message")) ?: "";
	const char *next = json_string_value(json_object_get(event, "command")) ?: "";
	const char *what = json_string_value(json_object_get(event, "event")) ?: "alert";
	char line[4096];
	snprintf(line, sizeof line, "%s %s [%s]: %s%s%s", what, kind, sev, msg, *next ? "; run: " : "", next);
	syslog(syslog_level(sev), "%s: %s", json_string_value(json_object_get(event, "store")) ?: "?", line);
	if (strcmp(what, "repeat") != 0 && log) /* the caller's own log: when an alert starts, worsens, clears */
		log(ud, line);
	if (!command)
		return;
	char *text = json_dumps(event, JSON_COMPACT);
	FILE *p = text ? popen(command, "w") : NULL;
	int rc = -1;
	if (p) {
		fprintf(p, "%s\n", text);
		rc = pclose(p);
	}
	free(text);
	if (rc != 0 && log) {
		snprintf(line, sizeof line, "the alert command failed (%s): %s", rc == -1 ? "could not run it"
				: WIFEXITED(rc) ? "it exited non-zero" : "it was killed", command);
		log(ud, line);
	}
}
