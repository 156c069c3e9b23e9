/* Who acts (common/actor.h): a service acting for a person names the person
 * (--actor, KURA_ACTOR); otherwise it is the operating system's user. */
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/actor.h"
#include "common/escape.h"
#include "common/unicode.h"

int kura_actor_check(const char *actor, kura_error *err)
{
	size_t n = actor ? strlen(actor) : 0;
	if (n == 0 || n > KURA_ACTOR_MAX)
		return kura_error_set(err, KURA_EINPUT, "an actor's name has 1 to %d bytes", KURA_ACTOR_MAX);
	int rc = kura_unicode_check("an actor's name", actor, err);
	if (rc == 0 && kura_escape_needs_control(actor, n)) /* C0, C1, line separators, bidi overrides */
		rc = kura_error_set(err, KURA_EINPUT, "an actor's name has no control characters, line separators or "
				    "bidirectional overrides");
	return rc;
}

/* name folded as kura_actor_same compares it (malloc'd; NULL when it cannot be):
 * NFKC, case folded, without anything drawn blank (so "Jo Se" is "JoSe": two
 * people told apart only by a space are taken for one, the safe side). */
static char *folded(const char *name)
{
	char *f = NULL;
	kura_error ignored = {0};
	if (kura_unicode_nfkc(&f, name, strlen(name), 1, &ignored) != 0)
		return NULL;
	kura_unicode_drop_blanks(f);
	return f;
}

int kura_actor_same(const char *a, const char *b)
{
	if (strcmp(a, b) == 0)
		return 1;
	char *fa = folded(a), *fb = folded(b);
	int same = !fa || !fb || strcmp(fa, fb) == 0; /* what cannot be folded is not told apart */
	free(fa);
	free(fb);
	return same;
}

void kura_actor_default(char *buf, size_t n)
{
	const char *env = getenv("KURA_ACTOR");
	if (env && kura_actor_check(env, NULL) == 0) {
		snprintf(buf, n, "%s", env);
		return;
	}
	kura_actor_system_user(buf, n);
}

/* The user of the process's effective uid, looked up once per uid (every audit
 * record names it, and a lookup reads /etc/passwd); a failed lookup is tried again. */
static pthread_mutex_t user_lock = PTHREAD_MUTEX_INITIALIZER;
static char user_name[KURA_ACTOR_MAX + 16];
static uid_t user_uid;
static int user_known;

void kura_actor_system_user(char *buf, size_t n)
{
	uid_t uid = geteuid();
	pthread_mutex_lock(&user_lock);
	if (!user_known || user_uid != uid) {
		struct passwd pw, *found = NULL;
		char tmp[4096];
		user_known = getpwuid_r(uid, &pw, tmp, sizeof tmp, &found) == 0 && found &&
			     kura_actor_check(pw.pw_name, NULL) == 0; /* else looked up again next time */
		if (user_known)
			snprintf(user_name, sizeof user_name, "%s", pw.pw_name);
		else
			snprintf(user_name, sizeof user_name, "uid %u", (unsigned)uid);
		user_uid = uid;
	}
	snprintf(buf, n, "%s", user_name);
	pthread_mutex_unlock(&user_lock);
}
