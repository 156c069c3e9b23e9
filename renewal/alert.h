/* The daemon's alerts (renewal/alert.c): after each round, the round's result
 * is noted in the state file and the store's status is compared with the
 * alerts already sent (state file, "alerts"), so that each thing that needs a
 * person is told once when it appears, again with back-off while it persists
 * (an hour, doubling up to a day) or at once when it gets worse, and once when
 * it clears. A restarted daemon goes on from the state file: it neither
 * repeats an alert at once nor forgets one. */
#ifndef KURA_ALERT_H
#define KURA_ALERT_H

#include "kura/renew.h"

#define KURA_ALERT_FIRST_PAUSE_S 3600
#define KURA_ALERT_MAX_PAUSE_S 86400

/* Notes the round (rc 0: ok; else failed with message) and sends what is due
 * to o->alert. Failures here are logged through o->log: they never stop the daemon. */
void kura_alert_round(const char *path, int rc, const char *message, const kura_daemon_options *o);

#endif
