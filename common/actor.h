/* Who acts: the name every audit record and object record gives as its actor. */
#ifndef KURA_COMMON_ACTOR_H
#define KURA_COMMON_ACTOR_H

#include <stddef.h>

#include "kura/error.h"

#define KURA_ACTOR_MAX 128

/* A name of 1 to KURA_ACTOR_MAX bytes of UTF-8 without control characters;
 * KURA_EINPUT, saying why, otherwise. */
int kura_actor_check(const char *actor, kura_error *err);
/* The default actor: $KURA_ACTOR when it is a good name, else the operating
 * system's name of the effective user, else "uid N". */
void kura_actor_default(char *buf, size_t n);
/* The operating system's name of the effective user (else "uid N"): what every
 * audit record also notes, whoever the actor says it is. */
void kura_actor_system_user(char *buf, size_t n);

#endif
