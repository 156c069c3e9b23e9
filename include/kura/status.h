/* A store's status at a glance (renewal/status.c, `kura status`), and the
 * daemon's alerts built on it (renewal/alert.c).
 *
 * The status is data, cheap enough for a store of 100,000 objects: it reads
 * the index (objects, versions, pending, sizes, ingest times), the renewal
 * planner's view of every live chain (one chain per seal: its last token, not
 * every object), the store's state file (STORE/state.json: the daemon's
 * rounds, each TSA's last success and failure, the last scrub, the alerts
 * sent; docs/FORMAT.md), the trust anchors, holds and the disposal plan, and
 * the file system's free space. It never re-reads documents or verifies
 * records: `kura verify` does that, and `kura scrub` reads every stored byte.
 *
 * Evidence health, per object (by its newest chain):
 *   valid    no renewal is due;
 *   at_risk  a renewal is due (the planner's due time has come) and has not happened;
 *   overdue  it has been due for more than KURA_STATUS_OVERDUE_DAYS: whatever
 *            should renew it (the daemon) is not doing so;
 *   broken   the end the renewal was due for has passed (a TSA certificate,
 *            an algorithm), or the evidence cannot be read.
 * At-risk and overdue chains carry the date they break. */
#ifndef KURA_PUBLIC_STATUS_H
#define KURA_PUBLIC_STATUS_H

#include <stdio.h>

#include <jansson.h>

#include "kura/error.h"
#include "kura/store.h"

#define KURA_STATUS_OVERDUE_DAYS 7

/* The status of st (opened for reading) as JSON, *out the caller's (json_decref):
 * {"store", "now", "healthy" (bool), "objects": {"records", "versions",
 * "pending", "bytes", "ingested_30d"}, "evidence": {"valid", "at_risk",
 * "overdue", "broken", "at_risk_breaks", "overdue_breaks", "broken_since",
 * "chains": [{"chain", "state", "objects", "due", "breaks", "reason"}...]
 * (chains that are not valid, earliest break first, at most 100)},
 * "next_renewal": {"due", "reason"} or null, "daemon": {"last_round",
 * "result", "message", "last_success"} or null, "tsas": [{"name", "configured"
 * (the store uses it now; the others are history),
 * "last_success", "last_failure", "failure", "failing", "signer", "cert_end",
 * "root_trusted", "root_subject", "root_sha256" (of the self-signed certificate its
 * last token carried, if any)}...], "anchors": [{"kind", "subject", "sha256", "not_after",
 * "ending"}...], "scrub": {"last", "result", "damaged", "message"} or null,
 * "space": {"free", "ingested_30d", "days_left", "low"}, "records":
 * {"holds_active", "disposal_due"}, "attention": [{"kind", "severity"
 * ("info" | "warning" | "error" | "critical"), "message", "command"}...]}.
 * "healthy" is false when any attention item is a warning or worse. */
int kura_status(json_t **out, kura_store *st, kura_error *err);

/* The status object s in Prometheus' text exposition format (`kura status
 * --prometheus`, the service's /metrics), written to f: every metric named
 * kura_*, with HELP and TYPE lines, label values escaped, times as Unix
 * seconds (renewal/status_prometheus.c). KURA_EIO when f cannot be written. */
int kura_status_prometheus(FILE *f, json_t *s, kura_error *err);

#endif
